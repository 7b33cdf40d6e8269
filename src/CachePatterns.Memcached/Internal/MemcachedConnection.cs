using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;

namespace CachePatterns.Memcached.Internal;

/// <summary>
/// One TCP connection to one memcached server. Many requests are in flight at once: each is formatted into an output
/// pipe and queued in the same order under one lock (no waiting, no I/O there); a send loop writes whatever has
/// accumulated with one socket write, so concurrent callers share system calls; one read loop matches replies to
/// requests in order and checks every reply's opaque token. A timer looks at the oldest unanswered request: past its
/// timeout the connection is poisoned. A reply that does not match, a protocol error, a timeout or a failed write
/// poisons the connection: it is closed, every pending request fails, and it is never used again.
/// </summary>
internal sealed class MemcachedConnection : IDisposable
{
    private const int MaxHeaderBytes = 8 * 1024;
    private static readonly byte[] CrLf = "\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly Pipe _output = new(new PipeOptions(pauseWriterThreshold: 0, minimumSegmentSize: 16 * 1024, useSynchronizationContext: false));
    private readonly Lock _sendLock = new();
    private readonly Queue<Pending> _pending = new();
    private readonly TimeProvider _time;
    private readonly ITimer _timeoutCheck;
    private readonly int _maxInFlight;
    private int _inFlight;
    private uint _nextOpaque = 1;
    private Exception? _failure;

    private MemcachedConnection(string name, Socket socket, TimeProvider time, int maxInFlight, TimeSpan operationTimeout)
    {
        Name = name;
        _socket = socket;
        _time = time;
        _maxInFlight = maxInFlight;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        var period = operationTimeout / 4 > TimeSpan.FromMilliseconds(5) ? operationTimeout / 4 : TimeSpan.FromMilliseconds(5);
        _timeoutCheck = time.CreateTimer(static state => ((MemcachedConnection)state!).CheckTimeout(), this, period, period);
        _ = Task.Run(ReadLoopAsync);
        _ = Task.Run(SendLoopAsync);
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
            using var timeout = new CancellationTokenSource(connectTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                await socket.ConnectAsync(host, port, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new MemcachedException($"Connecting to memcached at {host}:{port} timed out after {connectTimeout}.");
            }
            catch (SocketException ex)
            {
                throw new MemcachedException($"Could not connect to memcached at {host}:{port}: {ex.Message}", ex);
            }

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
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var deadline = new CancellationTokenSource(connectTimeout + timeout, time);
        try
        {
            await socket.ConnectAsync(host, port, deadline.Token).ConfigureAwait(false);
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
                throw new MemcachedException($"Memcached at {host}:{port} did not accept flush_all: {Encoding.ASCII.GetString(reply, 0, read).Trim()}");
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
            throw new MemcachedException($"Could not flush memcached at {host}:{port}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Queues commands to be sent together and returns their replies. A quiet batch sends every command with <c>q</c>
    /// followed by <c>mn</c>: suppressed replies come back as <see cref="MetaResponse.SuppressedMiss"/>. A caller that
    /// cancels stops waiting; its request is still sent and its reply read and discarded in order.
    /// </summary>
    public Task<MetaResponse[]> ExecuteAsync(IReadOnlyList<MetaCommand> commands, bool quiet, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var count = commands.Count;
        var slots = Math.Max(count, 1);
        ThrowIfBroken();
        if (Interlocked.Add(ref _inFlight, slots) > _maxInFlight)
        {
            Interlocked.Add(ref _inFlight, -slots);
            throw new MemcachedException(
                $"Too many requests in flight to memcached at {Name} (the limit is {_maxInFlight} per connection); the request was not sent.");
        }

        var pending = new Pending(count, quiet, slots, _time.GetTimestamp(), timeout);
        lock (_sendLock)
        {
            if (Failure is { } failure)
            {
                Interlocked.Add(ref _inFlight, -slots);
                throw new MemcachedException($"The connection to memcached at {Name} is closed: {failure.Message}", failure);
            }

            pending.First = _nextOpaque;
            _nextOpaque += (uint)count;
            Format(_output.Writer, commands, quiet, pending.First);
            lock (_pending)
            {
                _pending.Enqueue(pending);
            }

            // Never waits: the output pipe has no back-pressure threshold; the in-flight cap bounds it instead.
            var flushed = _output.Writer.FlushAsync(CancellationToken.None);
            if (!flushed.IsCompleted)
            {
                flushed.AsTask().GetAwaiter().GetResult();
            }
        }

        return cancellationToken.CanBeCanceled ? pending.Completion.Task.WaitAsync(cancellationToken) : pending.Completion.Task;
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
            lock (_sendLock)
            {
                _output.Writer.Complete();
            }
        }

        FailPending();
    }

    public void Dispose() => Poison(new ObjectDisposedException(nameof(MemcachedConnection), $"The connection to memcached at {Name} was disposed."));

    private void ThrowIfBroken()
    {
        if (Failure is { } failure)
        {
            throw new MemcachedException($"The connection to memcached at {Name} is closed: {failure.Message}", failure);
        }
    }

    private void FailPending()
    {
        var failure = Failure ?? new MemcachedException("The connection was closed.");
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

            Finish(next, null, new MemcachedException($"The connection to memcached at {Name} was closed before the reply arrived: {failure.Message}", failure));
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

    /// <summary>Writes whatever requests have accumulated, one socket write per batch, until the connection closes.</summary>
    private async Task SendLoopAsync()
    {
        var output = _output.Reader;
        try
        {
            while (true)
            {
                var result = await output.ReadAsync().ConfigureAwait(false);
                foreach (var segment in result.Buffer)
                {
                    await _stream.WriteAsync(segment).ConfigureAwait(false);
                }

                output.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            Poison(ex is MemcachedException ? ex : new MemcachedException($"The connection to memcached at {Name} failed: {ex.Message}", ex));
        }
        finally
        {
            await output.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Replies come in order, so only the oldest unanswered request can be late.</summary>
    private void CheckTimeout()
    {
        Pending? oldest;
        lock (_pending)
        {
            _pending.TryPeek(out oldest);
        }

        if (oldest is not null && _time.GetElapsedTime(oldest.Started) > oldest.Timeout)
        {
            Poison(new MemcachedException($"A request to memcached at {Name} timed out after {oldest.Timeout}; the connection was closed."));
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                while (MetaParser.TryParse(ref buffer, out var response, out var error))
                {
                    if (error is not null)
                    {
                        throw new MemcachedException($"Memcached at {Name} replied with an error: {error}");
                    }

                    Dispatch(response!);
                }

                if (buffer.Length > MaxHeaderBytes && !MetaParser.HeaderComplete(buffer))
                {
                    throw new MemcachedException($"Memcached at {Name} sent a reply line longer than {MaxHeaderBytes} bytes.");
                }

                _reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    throw new MemcachedException($"Memcached at {Name} closed the connection.");
                }
            }
        }
        catch (Exception ex)
        {
            Poison(ex is MemcachedException ? ex : new MemcachedException($"Reading from memcached at {Name} failed: {ex.Message}", ex));
            try
            {
                await _reader.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The stream is gone.
            }
        }
    }

    private void Dispatch(MetaResponse response)
    {
        Pending? done = null;
        lock (_pending)
        {
            if (!_pending.TryPeek(out var pending))
            {
                throw new MemcachedException($"Memcached at {Name} sent a reply ({response.Status}) while no request was pending.");
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
                            $"Memcached at {Name} sent a reply with opaque {Describe(response.Opaque)} where {pending.First + (uint)pending.Next}..{pending.First + (uint)pending.Results.Length - 1} or MN was expected; the connection is out of step and was closed.");
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
                        $"Memcached at {Name} sent a reply with opaque {Describe(response.Opaque)} where {expected} was expected; the connection is out of step and was closed.");
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
            for (var i = 0; i < done.Results.Length; i++)
            {
                done.Results[i] ??= MetaResponse.SuppressedMiss;
            }

            Finish(done, done.Results, null);
        }
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
    }
}
