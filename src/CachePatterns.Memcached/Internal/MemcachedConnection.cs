using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;

namespace CachePatterns.Memcached.Internal;

/// <summary>
/// One TCP connection to one memcached server. Many requests are in flight at once: each is written under a
/// write lock and queued in write order; one read loop matches replies to requests in that order and checks
/// every reply's opaque token. A reply that does not match, a protocol error, a timeout or a half-written request
/// poisons the connection: it is closed, every pending request fails, and it is never used again.
/// </summary>
internal sealed class MemcachedConnection : IDisposable
{
    private const int MaxHeaderBytes = 8 * 1024;
    private static readonly byte[] CrLf = "\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Queue<Pending> _pending = new();
    private readonly TimeProvider _time;
    private readonly int _maxInFlight;
    private int _inFlight;
    private uint _nextOpaque = 1;
    private Exception? _failure;

    private MemcachedConnection(string name, Socket socket, TimeProvider time, int maxInFlight)
    {
        Name = name;
        _socket = socket;
        _time = time;
        _maxInFlight = maxInFlight;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        _ = Task.Run(ReadLoopAsync);
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
        string host, int port, TimeSpan connectTimeout, TimeProvider time, int maxInFlight, CancellationToken cancellationToken)
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

            return new MemcachedConnection($"{host}:{port}", socket, time, maxInFlight);
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
    /// Sends commands as one write and waits for their replies. A quiet batch sends every command with <c>q</c>
    /// followed by <c>mn</c>: suppressed replies come back as <see cref="MetaResponse.SuppressedMiss"/>.
    /// </summary>
    public async Task<MetaResponse[]> ExecuteAsync(IReadOnlyList<MetaCommand> commands, bool quiet, TimeSpan timeout, CancellationToken cancellationToken)
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

        var pending = new Pending(count, quiet, slots);
        var enqueued = false;
        var sent = false;
        using var timeoutSource = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        try
        {
            await _writeLock.WaitAsync(linked.Token).ConfigureAwait(false);
            try
            {
                ThrowIfBroken();
                pending.First = _nextOpaque;
                _nextOpaque += (uint)count;
                var buffer = Format(commands, quiet, pending.First);
                lock (_pending)
                {
                    _pending.Enqueue(pending);
                }

                enqueued = true;
                if (IsBroken)
                {
                    FailPending();
                }

                await _stream.WriteAsync(buffer.WrittenMemory, linked.Token).ConfigureAwait(false);
                sent = true;
            }
            finally
            {
                _writeLock.Release();
            }

            return await pending.Completion.Task.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            if (!enqueued)
            {
                throw new MemcachedException($"A request to memcached at {Name} timed out after {timeout} waiting to be written.");
            }

            var error = new MemcachedException($"A request to memcached at {Name} timed out after {timeout}; the connection was closed.");
            Poison(error);
            throw error;
        }
        catch (OperationCanceledException)
        {
            // The caller gave up. A request written in full is answered later and its reply discarded in order;
            // one cut off mid-write leaves the stream in an unknown state.
            if (enqueued && !sent)
            {
                Poison(new MemcachedException($"A request to memcached at {Name} was cancelled while being written."));
            }

            throw;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            var error = new MemcachedException($"The connection to memcached at {Name} failed: {ex.Message}", ex);
            Poison(error);
            throw error;
        }
        finally
        {
            if (!enqueued)
            {
                Interlocked.Add(ref _inFlight, -slots);
            }
        }
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

    private static ArrayBufferWriter<byte> Format(IReadOnlyList<MetaCommand> commands, bool quiet, uint firstOpaque)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
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

        return buffer;
    }

    private static void WriteAscii(ArrayBufferWriter<byte> buffer, string text)
    {
        var span = buffer.GetSpan(text.Length);
        var written = Encoding.ASCII.GetBytes(text, span);
        buffer.Advance(written);
    }

    private static void WriteNumber(ArrayBufferWriter<byte> buffer, long number)
    {
        var span = buffer.GetSpan(20);
        Utf8Formatter.TryFormat(number, span, out var written);
        buffer.Advance(written);
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

    private sealed class Pending(int count, bool quiet, int slots)
    {
        public readonly TaskCompletionSource<MetaResponse[]> Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly MetaResponse[] Results = new MetaResponse[count];
        public readonly bool Quiet = quiet;
        public readonly int Slots = slots;
        public uint First;
        public int Next;
        public int Done;
    }
}
