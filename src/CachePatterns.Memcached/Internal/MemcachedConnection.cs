using System.Buffers;
using System.Buffers.Text;
using System.Net.Sockets;
using System.Text;
using CachePatterns.Providers;

namespace CachePatterns.Memcached.Internal;

/// <summary>
/// One TCP connection to one memcached server. Many requests are in flight at once: each is formatted into the output
/// buffer and queued in the same order under one lock (no waiting, no I/O there). The caller that finds no write in
/// progress writes the buffer to the socket itself (requests that accumulate meanwhile share its next write), so a
/// request never waits for a thread-pool thread before it is on the wire. A thread of its own reads the replies (blocking
/// receives), matches them to requests in order and checks every reply's opaque token, so replies are read even when
/// the application's thread pool is starved (blocking callers of <c>IDistributedCache.Get</c>).
/// <para>
/// A timer looks at the oldest unanswered request: past its timeout, and only if the server is to blame (the request
/// is on the wire and nothing has arrived from the server for a whole timeout, or a socket write has been stuck that
/// long), the connection is poisoned. A reply that does not match, a protocol error, a timeout or a failed write
/// poisons the connection: it is closed, every pending request fails, and it is never used again. A
/// <c>SERVER_ERROR</c> reply leaves the stream in step (memcached answers it in place of the command's reply and
/// discards the command's data), so it fails only its own request.
/// </para>
/// </summary>
internal sealed class MemcachedConnection : IDisposable
{
    private const int MaxHeaderBytes = 8 * 1024;
    private const int InitialBufferBytes = 16 * 1024;
    private const int KeptBufferBytes = 256 * 1024;

    /// <summary>How many batches the caller that started writing writes before a pool thread takes over.</summary>
    private const int InlineBatches = 2;

    private static readonly byte[] CrLf = "\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly Lock _sendLock = new();
    private readonly Queue<Pending> _pending = new();
    private readonly TimeProvider _time;
    private readonly ITimer _timeoutCheck;
    private readonly int _maxInFlight;
    private ArrayBufferWriter<byte> _output = new(InitialBufferBytes);
    private ArrayBufferWriter<byte>? _spare = new(InitialBufferBytes);
    private bool _writing;
    private long _formatted;
    private long _sent;
    private long _sendStarted;
    private long _lastReceived;
    private int _inFlight;
    private uint _nextOpaque = 1;
    private Exception? _failure;

    private MemcachedConnection(string name, Socket socket, TimeProvider time, int maxInFlight, TimeSpan operationTimeout)
    {
        Name = name;
        _socket = socket;
        _time = time;
        _maxInFlight = maxInFlight;
        _lastReceived = time.GetTimestamp();
        var period = operationTimeout / 4 > TimeSpan.FromMilliseconds(5) ? operationTimeout / 4 : TimeSpan.FromMilliseconds(5);
        _timeoutCheck = time.CreateTimer(static state => ((MemcachedConnection)state!).CheckTimeout(), this, period, period);
        new Thread(ReadLoop, maxStackSize: 256 * 1024) { IsBackground = true, Name = "memcached " + name }.Start();
    }

    /// <summary>Gets the server's <c>host:port</c>.</summary>
    public string Name { get; }

    /// <summary>Gets a value indicating whether the connection was poisoned and must not be used.</summary>
    public bool IsBroken => Volatile.Read(ref _failure) is not null;

    /// <summary>Gets why the connection was closed, if it was.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Gets the number of requests written or waiting to be written and not yet answered.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public static async Task<MemcachedConnection> ConnectAsync(
        string host, int port, TimeSpan connectTimeout, TimeSpan operationTimeout, TimeProvider time, int maxInFlight, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            await ConnectAsync(socket, host, port, connectTimeout, time, cancellationToken).ConfigureAwait(false);
            return new MemcachedConnection($"{host}:{port}", socket, time, maxInFlight, operationTimeout);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Empties a server with <c>flush_all</c> on a connection of its own (the text command has no opaque and answers
    /// <c>OK</c>, which the pipelined connections do not expect).
    /// </summary>
    public static async Task FlushAllAsync(string host, int port, TimeSpan connectTimeout, TimeSpan timeout, TimeProvider time)
    {
        var name = $"{host}:{port}";
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await ConnectAsync(socket, host, port, connectTimeout, time, CancellationToken.None).ConfigureAwait(false);
        using var deadline = new CancellationTokenSource(timeout, time);
        try
        {
            await socket.SendAsync("flush_all\r\n"u8.ToArray(), SocketFlags.None, deadline.Token).ConfigureAwait(false);
            var reply = new byte[64];
            var read = 0;
            while (read < 4 || reply[read - 1] != (byte)'\n')
            {
                var n = await socket.ReceiveAsync(reply.AsMemory(read), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (n == 0 || (read += n) == reply.Length)
                {
                    break;
                }
            }

            if (!reply.AsSpan(0, read).SequenceEqual("OK\r\n"u8))
            {
                throw new MemcachedException(
                    CacheProviderFailureReason.ServerError, $"Memcached at {name} did not accept flush_all: {Encoding.ASCII.GetString(reply, 0, read).Trim()}", name);
            }
        }
        catch (OperationCanceledException ex)
        {
            throw new MemcachedException(CacheProviderFailureReason.Timeout, $"Memcached at {name} did not answer flush_all within {timeout}.", name, ex);
        }
        catch (SocketException ex)
        {
            throw new MemcachedException(CacheProviderFailureReason.ConnectionFailed, $"Could not flush memcached at {name}: {ex.Message}", name, ex);
        }
    }

    /// <summary>
    /// Queues commands to be sent together and returns their replies. A quiet batch sends every command with <c>q</c>
    /// followed by <c>mn</c>: suppressed replies come back as <see cref="MetaResponse.SuppressedMiss"/>. The request is
    /// on its way (or the connection is broken) when this returns, whatever <paramref name="cancellationToken"/> says: a
    /// caller that cancels only stops waiting; its reply is read and discarded in order (or handed to whoever awaits
    /// the returned task's <see cref="Task{TResult}"/> without the token, see <see cref="Send"/>).
    /// </summary>
    public Task<MetaResponse[]> ExecuteAsync(IReadOnlyList<MetaCommand> commands, bool quiet, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var reply = Send(commands, quiet, timeout);
        return cancellationToken.CanBeCanceled ? reply.WaitAsync(cancellationToken) : reply;
    }

    /// <summary>Queues commands and returns the task of their replies, which no cancellation abandons.</summary>
    public Task<MetaResponse[]> Send(IReadOnlyList<MetaCommand> commands, bool quiet, TimeSpan timeout)
    {
        var count = commands.Count;
        var slots = Math.Max(count, 1);
        ThrowIfBroken();
        if (Interlocked.Add(ref _inFlight, slots) > _maxInFlight)
        {
            Interlocked.Add(ref _inFlight, -slots);
            throw new MemcachedException(
                CacheProviderFailureReason.Timeout,
                $"Too many requests in flight to memcached at {Name} (the limit is {_maxInFlight} per connection); the request was not sent.",
                Name);
        }

        var pending = new Pending(count, quiet, slots, _time.GetTimestamp(), timeout);
        bool startWriting;
        lock (_sendLock)
        {
            if (Failure is { } failure)
            {
                Interlocked.Add(ref _inFlight, -slots);
                throw Closed(failure);
            }

            pending.First = _nextOpaque;
            _nextOpaque += (uint)count;
            var before = _output.WrittenCount;
            Format(_output, commands, quiet, pending.First);
            _formatted += _output.WrittenCount - before;
            pending.EndOffset = _formatted;
            lock (_pending)
            {
                _pending.Enqueue(pending);
            }

            startWriting = !_writing;
            _writing = true;
        }

        if (startWriting)
        {
            _ = WriteOutputAsync(InlineBatches);
        }

        return pending.Completion.Task;
    }

    /// <summary>Closes the connection and fails every pending request.</summary>
    public void Poison(Exception reason)
    {
        if (Interlocked.CompareExchange(ref _failure, reason, null) is null)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception)
            {
                // Already closed.
            }

            _socket.Dispose();
            _timeoutCheck.Dispose();
        }

        FailPending();
    }

    public void Dispose() => Poison(new ObjectDisposedException(nameof(MemcachedConnection), $"The connection to memcached at {Name} was disposed."));

    private static async Task ConnectAsync(Socket socket, string host, int port, TimeSpan connectTimeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var name = $"{host}:{port}";
        using var timeout = new CancellationTokenSource(connectTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await socket.ConnectAsync(host, port, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new MemcachedException(CacheProviderFailureReason.Timeout, $"Connecting to memcached at {name} timed out after {connectTimeout}.", name, ex);
        }
        catch (SocketException ex)
        {
            var reason = ex.SocketErrorCode == SocketError.ConnectionRefused ? CacheProviderFailureReason.ConnectionRefused : CacheProviderFailureReason.ConnectionFailed;
            throw new MemcachedException(reason, $"Could not connect to memcached at {name}: {ex.Message}", name, ex);
        }
    }

    private MemcachedException Closed(Exception failure) =>
        new(failure is MemcachedException { Reason: var reason } ? reason : CacheProviderFailureReason.ConnectionFailed, $"The connection to memcached at {Name} is closed: {failure.Message}", Name, failure);

    private void ThrowIfBroken()
    {
        if (Failure is { } failure)
        {
            throw Closed(failure);
        }
    }

    private void FailPending()
    {
        var failure = Failure ?? new MemcachedException("The connection was closed.");
        var reason = failure is MemcachedException { Reason: var r } ? r : CacheProviderFailureReason.ConnectionFailed;
        while (true)
        {
            Pending? next;
            lock (_pending)
            {
                if (!_pending.TryDequeue(out next))
                {
                    return;
                }
            }

            Finish(next, null, new MemcachedException(reason, $"The connection to memcached at {Name} was closed before the reply arrived: {failure.Message}", Name, failure));
        }
    }

    private void Finish(Pending pending, MetaResponse[]? result, Exception? error)
    {
        if (Interlocked.Exchange(ref pending.Done, 1) != 0)
        {
            return;
        }

        Interlocked.Add(ref _inFlight, -pending.Slots);
        if (error is null)
        {
            pending.Completion.TrySetResult(result!);
        }
        else
        {
            pending.Completion.TrySetException(error);
        }
    }

    private static void Format(IBufferWriter<byte> buffer, IReadOnlyList<MetaCommand> commands, bool quiet, uint firstOpaque)
    {
        for (var i = 0; i < commands.Count; i++)
        {
            var command = commands[i];
            WriteAscii(buffer, command.Verb);
            buffer.Write(" "u8);
            buffer.Write(command.Key);
            if (command.Data is { } data)
            {
                buffer.Write(" "u8);
                WriteNumber(buffer, data.Length);
            }

            if (command.Flags.Length > 0)
            {
                buffer.Write(" "u8);
                WriteAscii(buffer, command.Flags);
            }

            buffer.Write(" O"u8);
            WriteNumber(buffer, firstOpaque + (uint)i);
            if (quiet)
            {
                buffer.Write(" q"u8);
            }

            buffer.Write(CrLf);
            if (command.Data is { } value)
            {
                buffer.Write(value.Span);
                buffer.Write(CrLf);
            }
        }

        if (quiet)
        {
            buffer.Write("mn\r\n"u8);
        }
    }

    private static void WriteAscii(IBufferWriter<byte> buffer, string text)
    {
        var span = buffer.GetSpan(text.Length);
        var written = Encoding.ASCII.GetBytes(text, span);
        buffer.Advance(written);
    }

    private static void WriteNumber(IBufferWriter<byte> buffer, long number)
    {
        var span = buffer.GetSpan(20);
        Utf8Formatter.TryFormat(number, span, out var written);
        buffer.Advance(written);
    }

    /// <summary>
    /// Writes whatever requests have accumulated, one socket write per batch, until nothing is left. Started by the caller
    /// that queued a request while no write was in progress, on its own thread: its request goes out at once. After
    /// <paramref name="inlineBatches"/> batches a pool thread takes over, so one caller does not write for everyone.
    /// </summary>
    private async Task WriteOutputAsync(int inlineBatches)
    {
        try
        {
            for (var batches = 0; ; batches++)
            {
                ArrayBufferWriter<byte> batch;
                lock (_sendLock)
                {
                    if (_output.WrittenCount == 0 || Failure is not null)
                    {
                        _writing = false;
                        return;
                    }

                    if (batches == inlineBatches)
                    {
                        // Still writing (_writing stays set): a pool thread goes on.
                        _ = Task.Run(() => WriteOutputAsync(int.MaxValue));
                        return;
                    }

                    batch = _output;
                    _output = _spare ?? new ArrayBufferWriter<byte>(InitialBufferBytes);
                    _spare = null;
                }

                Volatile.Write(ref _sendStarted, _time.GetTimestamp());
                var remaining = batch.WrittenMemory;
                while (!remaining.IsEmpty)
                {
                    var sent = await _socket.SendAsync(remaining, SocketFlags.None).ConfigureAwait(false);
                    remaining = remaining[sent..];
                }

                Volatile.Write(ref _sendStarted, 0);
                Interlocked.Add(ref _sent, batch.WrittenCount);
                batch.ResetWrittenCount();
                if (batch.Capacity <= KeptBufferBytes)
                {
                    lock (_sendLock)
                    {
                        _spare ??= batch;
                    }
                }
            }
        }
        catch (Exception ex)
        {
            Poison(ex is MemcachedException ? ex : new MemcachedException(CacheProviderFailureReason.ConnectionFailed, $"Writing to memcached at {Name} failed: {ex.Message}", Name, ex));
        }
    }

    /// <summary>
    /// Replies come in order, so only the oldest unanswered request can be late. It is the server's fault (the
    /// connection is closed) only when the request is on the wire and nothing has come from the server for a whole
    /// timeout, or when a socket write has been stuck that long (the server stopped reading). A request this process
    /// has not yet written, or replies it has not yet read, say nothing about the server.
    /// </summary>
    private void CheckTimeout()
    {
        Pending? oldest;
        lock (_pending)
        {
            _pending.TryPeek(out oldest);
        }

        if (oldest is null || _time.GetElapsedTime(oldest.Started) <= oldest.Timeout)
        {
            return;
        }

        if (Interlocked.Read(ref _sent) < oldest.EndOffset)
        {
            var since = Volatile.Read(ref _sendStarted);
            if (since == 0 || _time.GetElapsedTime(since) <= oldest.Timeout)
            {
                return;
            }
        }
        else if (_time.GetElapsedTime(Volatile.Read(ref _lastReceived)) <= oldest.Timeout || RepliesWaiting())
        {
            return;
        }

        Poison(new MemcachedException(
            CacheProviderFailureReason.Timeout, $"A request to memcached at {Name} timed out after {oldest.Timeout}; the connection was closed.", Name));
    }

    private bool RepliesWaiting()
    {
        try
        {
            return _socket.Available > 0;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            return false;
        }
    }

    /// <summary>Reads replies with blocking receives on the connection's own thread until the connection closes.</summary>
    private void ReadLoop()
    {
        var buffer = new byte[64 * 1024];
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                if (end == buffer.Length)
                {
                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                        end -= start;
                        start = 0;
                    }
                    else
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }
                }

                var received = _socket.Receive(buffer, end, buffer.Length - end, SocketFlags.None);
                if (received == 0)
                {
                    throw new MemcachedException(CacheProviderFailureReason.ConnectionFailed, $"Memcached at {Name} closed the connection.", Name);
                }

                end += received;
                Volatile.Write(ref _lastReceived, _time.GetTimestamp());
                var sequence = new ReadOnlySequence<byte>(buffer, start, end - start);
                while (MetaParser.TryParse(ref sequence, out var response, out var error))
                {
                    if (error is null)
                    {
                        Dispatch(response!);
                    }
                    else if (error.StartsWith("SERVER_ERROR", StringComparison.Ordinal))
                    {
                        DispatchServerError(error);
                    }
                    else
                    {
                        throw new MemcachedException(CacheProviderFailureReason.ServerError, $"Memcached at {Name} replied with an error: {error}", Name);
                    }
                }

                if (sequence.Length > MaxHeaderBytes && !MetaParser.HeaderComplete(sequence))
                {
                    throw new MemcachedException(CacheProviderFailureReason.ServerError, $"Memcached at {Name} sent a reply line longer than {MaxHeaderBytes} bytes.", Name);
                }

                start = end - (int)sequence.Length;
                if (start == end)
                {
                    start = end = 0;
                }
            }
        }
        catch (Exception ex)
        {
            Poison(ex is MemcachedException ? ex : new MemcachedException(CacheProviderFailureReason.ConnectionFailed, $"Reading from memcached at {Name} failed: {ex.Message}", Name, ex));
        }
    }

    private void Dispatch(MetaResponse response)
    {
        Pending? done = null;
        lock (_pending)
        {
            if (!_pending.TryPeek(out var pending))
            {
                throw new MemcachedException(CacheProviderFailureReason.ServerError, $"Memcached at {Name} sent a reply ({response.Status}) while no request was pending.", Name);
            }

            if (pending.Quiet)
            {
                if (response.Status == MetaStatus.NoOp)
                {
                    done = _pending.Dequeue();
                }
                else
                {
                    var offset = response.Opaque is { } opaque ? unchecked(opaque - pending.First) : uint.MaxValue;
                    if (offset < (uint)pending.Next || offset >= (uint)pending.Results.Length)
                    {
                        throw new MemcachedException(
                            CacheProviderFailureReason.ServerError,
                            $"Memcached at {Name} sent a reply with opaque {Describe(response.Opaque)} where {pending.First + (uint)pending.Next}..{pending.First + (uint)pending.Results.Length - 1} or MN was expected; the connection is out of step and was closed.",
                            Name);
                    }

                    pending.Results[offset] = response;
                    pending.Next = (int)offset + 1;
                }
            }
            else
            {
                var expected = pending.First + (uint)pending.Next;
                if (response.Opaque != expected)
                {
                    throw new MemcachedException(
                        CacheProviderFailureReason.ServerError,
                        $"Memcached at {Name} sent a reply with opaque {Describe(response.Opaque)} where {expected} was expected; the connection is out of step and was closed.",
                        Name);
                }

                pending.Results[pending.Next++] = response;
                if (pending.Next == pending.Results.Length)
                {
                    done = _pending.Dequeue();
                }
            }
        }

        if (done is not null)
        {
            Complete(done);
        }
    }

    /// <summary>
    /// A <c>SERVER_ERROR</c> line (it carries no opaque) takes the place of the next reply of the oldest request; in a
    /// quiet batch it cannot be placed, so the batch fails when its <c>mn</c> arrives.
    /// </summary>
    private void DispatchServerError(string error)
    {
        Pending? done = null;
        lock (_pending)
        {
            if (!_pending.TryPeek(out var pending))
            {
                throw new MemcachedException(CacheProviderFailureReason.ServerError, $"Memcached at {Name} sent '{error}' while no request was pending.", Name);
            }

            pending.Error ??= error;
            if (!pending.Quiet)
            {
                pending.Results[pending.Next++] = MetaResponse.SuppressedMiss;
                if (pending.Next == pending.Results.Length)
                {
                    done = _pending.Dequeue();
                }
            }
        }

        if (done is not null)
        {
            Complete(done);
        }
    }

    private void Complete(Pending done)
    {
        if (done.Error is { } error)
        {
            var reason = error.Contains("out of memory", StringComparison.OrdinalIgnoreCase) ? CacheProviderFailureReason.ServerFull : CacheProviderFailureReason.ServerError;
            Finish(done, null, new MemcachedException(reason, $"Memcached at {Name} answered: {error}", Name) { ErrorReply = error });
            return;
        }

        for (var i = 0; i < done.Results.Length; i++)
        {
            done.Results[i] ??= MetaResponse.SuppressedMiss;
        }

        Finish(done, done.Results, null);
    }

    private static string Describe(uint? opaque) => opaque?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none)";

    private sealed class Pending(int count, bool quiet, int slots, long started, TimeSpan timeout)
    {
        public readonly long Started = started;
        public readonly TimeSpan Timeout = timeout;
        public readonly TaskCompletionSource<MetaResponse[]> Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly MetaResponse[] Results = new MetaResponse[count];
        public readonly bool Quiet = quiet;
        public readonly int Slots = slots;
        public uint First;
        public int Next;
        public int Done;
        public long EndOffset;
        public string? Error;
    }
}
