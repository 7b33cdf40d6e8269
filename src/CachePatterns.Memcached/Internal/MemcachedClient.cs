using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CachePatterns.Providers;
using Microsoft.Extensions.Logging;

namespace CachePatterns.Memcached.Internal;

/// <summary>
/// The meta-protocol client: validates keys and values, normalises TTLs, routes each key to its node with weighted
/// ketama, and groups multi-gets per node (sent to every node in parallel, partial results merged).
/// </summary>
internal sealed class MemcachedClient : IDisposable
{
    /// <summary>The longest key memcached accepts, in bytes.</summary>
    public const int MaxKeyBytes = 250;

    /// <summary>TTLs above 30 days are read by memcached as absolute Unix times.</summary>
    public static readonly TimeSpan MaxRelativeTtl = TimeSpan.FromDays(30);

    /// <summary>
    /// The latest expiry memcached can represent: it parses an absolute time as a signed 32-bit number
    /// (2038-01-19 03:14:07 UTC); a later one is accepted but the item is never stored.
    /// </summary>
    public const long MaxAbsoluteExpiry = int.MaxValue;

    /// <summary>
    /// What an item costs memcached besides its key and value (item header, CAS, CRLF), so the largest value stored is
    /// the item size limit (<c>-I</c>) minus this minus the key's length. Measured on memcached 1.6.18 with
    /// <c>-I</c> 512k, 1m and 2m and keys of 10, 100 and 250 bytes: 59 in every case.
    /// </summary>
    public const int ItemOverheadBytes = 59;

    /// <summary>
    /// Starts the provider's own items (refresh claims). Never in a valid UTF-8 string, so no application key can
    /// reach them.
    /// </summary>
    private const byte ProviderItemMarker = 0xFF;

    /// <summary>Starts a hashed key (after the provider's prefix). Never in valid UTF-8, so no application key is one.</summary>
    private const byte HashedKeyMarker = 0xFE;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private const int MaxBatch = 128;
    private readonly MemcachedCacheProviderOptions _options;
    private readonly TimeProvider _time;
    private readonly KetamaRing _ring;
    private readonly MemcachedNode[] _nodes;
    private readonly Lock _routeLock = new();

    /// <summary>The nodes keys are sent to: every node, or with <see cref="MemcachedCacheProviderOptions.RemapDeadNodes"/> the live ones.</summary>
    private volatile Route _route;

    public MemcachedClient(MemcachedCacheProviderOptions options, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Servers.Count == 0)
        {
            throw new ArgumentException("No memcached server is configured: add at least one host:port to Servers.", nameof(options));
        }

        _options = options;
        _time = time;
        var addresses = options.Servers.Select(ServerAddress.Parse).ToArray();
        _ring = new KetamaRing(addresses);
        _nodes = addresses.Select(a => new MemcachedNode(a, options, time, logger)).ToArray();
        _route = new Route(_ring, _nodes);
        foreach (var node in _nodes)
        {
            node.StateChanged += (n, reason) =>
            {
                if (options.RemapDeadNodes && _nodes.Length > 1)
                {
                    Reroute();
                }

                NodeStateChanged?.Invoke(n, reason);
            };
        }
    }

    /// <summary>Raised after a node is marked dead (with the reason) and after it is back in use (<see langword="null"/>), on the caller's thread.</summary>
    public event Action<MemcachedNode, CacheProviderFailureReason?>? NodeStateChanged;

    public IReadOnlyList<MemcachedNode> Nodes => _nodes;

    /// <summary>
    /// Turns a key into the bytes sent: the provider's prefix, then validation or hashing. A key that is not valid
    /// UTF-16 (a lone surrogate) is rejected: every such key would encode to the same replacement character and collide.
    /// </summary>
    public byte[] EncodeKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var full = _options.KeyPrefix + key;
        byte[] bytes;
        try
        {
            bytes = StrictUtf8.GetBytes(full);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException(
                $"The memcached key '{Shorten(Escape(key))}' is not valid UTF-16: it has a lone surrogate (U+{(int)ex.CharUnknown:X4}) at index {ex.Index - _options.KeyPrefix.Length}. Such keys cannot be told apart once encoded, so they are refused.",
                nameof(key),
                ex);
        }

        var problem = Validate(full, bytes);
        if (problem is null)
        {
            return bytes;
        }

        if (_options.HashInvalidKeys)
        {
            // The prefix stays readable; the marker byte keeps hashed keys apart from every application key.
            var prefix = Encoding.UTF8.GetBytes(_options.KeyPrefix);
            return [.. prefix, HashedKeyMarker, .. "sha256:"u8, .. Encoding.ASCII.GetBytes(Base64Url(SHA256.HashData(bytes)))];
        }

        throw new ArgumentException($"The memcached key '{Shorten(full)}' {problem} (set HashInvalidKeys to store such keys hashed).", nameof(key));
    }

    /// <summary>
    /// The key of one of the provider's own items that accompany an entry (<paramref name="role"/>, for example a refresh
    /// claim): the provider's prefix, a byte no UTF-8 key contains, the role, and the entry's key (or its hash when that
    /// would be too long). Route it with its entry (<see cref="ExecuteOnNodeOfAsync"/>).
    /// </summary>
    public byte[] CompanionKey(string entryKey, string role)
    {
        var entry = EncodeKey(entryKey);
        var prefixLength = Encoding.UTF8.GetByteCount(_options.KeyPrefix);
        var head = entry.AsSpan(0, prefixLength);
        var rest = entry.AsSpan(prefixLength);
        byte[] companion = [.. head, ProviderItemMarker, .. Encoding.ASCII.GetBytes(role), (byte)':', .. rest];
        return companion.Length <= MaxKeyBytes
            ? companion
            : [.. head, ProviderItemMarker, .. Encoding.ASCII.GetBytes(role), (byte)'#', .. Encoding.ASCII.GetBytes(Base64Url(SHA256.HashData(entry)))];
    }

    public MemcachedNode NodeFor(byte[] key)
    {
        var route = _route;
        return route.Nodes[route.Ring.ServerFor(key)];
    }

    /// <summary>Gets the node of <paramref name="key"/> (the provider's prefix and validation applied).</summary>
    public MemcachedNode NodeFor(string key) => NodeFor(EncodeKey(key));

    /// <summary>Gets the node that holds <paramref name="key"/> when every node is up (libmemcached's choice).</summary>
    public MemcachedNode HomeNodeFor(byte[] key) => _nodes[_ring.ServerFor(key)];

    /// <summary>
    /// The <c>T</c>/<c>N</c> flag value, never shorter than <paramref name="ttl"/>: 0 for no expiry; whole seconds rounded
    /// up, plus one (memcached's clock ticks once a second, so an item stored with <c>T&lt;n&gt;</c> may be dropped up to a
    /// second before <c>n</c> seconds have passed); above 30 days an absolute Unix time from the injected clock (memcached
    /// would read a larger relative value as a date in 1970 and expire the item at once), clamped to
    /// <see cref="MaxAbsoluteExpiry"/> (a later time is accepted by memcached but the item is never stored).
    /// </summary>
    public long TtlSeconds(TimeSpan? ttl)
    {
        if (ttl is not { } value)
        {
            return 0;
        }

        if (value <= TimeSpan.Zero)
        {
            return -1;
        }

        var seconds = (long)Math.Ceiling(value.TotalSeconds) + 1;
        return seconds <= (long)MaxRelativeTtl.TotalSeconds
            ? seconds
            : Math.Min(_time.GetUtcNow().ToUnixTimeSeconds() + seconds, MaxAbsoluteExpiry);
    }

    /// <summary>The largest value memcached stores under <paramref name="encodedKey"/>: the item size limit minus the item's header and key.</summary>
    public int MaxValueBytesFor(byte[] encodedKey) => _options.MaxItemSize - ItemOverheadBytes - encodedKey.Length;

    public void CheckValueSize(string key, byte[] encodedKey, int length)
    {
        var limit = MaxValueBytesFor(encodedKey);
        if (length > limit)
        {
            throw new CacheValueTooLargeException(key, length, limit);
        }
    }

    /// <summary>Sends one command and returns its reply; the caller's token only stops the wait once it is sent.</summary>
    public Task<MetaResponse> ExecuteAsync(MetaCommand command, CancellationToken cancellationToken)
    {
        var reply = SendAsync(command, cancellationToken);
        return cancellationToken.CanBeCanceled && !reply.IsCompleted ? reply.WaitAsync(cancellationToken) : reply;
    }

    /// <summary>
    /// Sends one command and returns the task of its reply, which no cancellation abandons once the command is sent (see
    /// <see cref="MemcachedNode.SendAsync"/>). A value the server refuses as too large (its <c>-I</c> is smaller than
    /// <see cref="MemcachedCacheProviderOptions.MaxItemSize"/>) is a <see cref="CacheValueTooLargeException"/>.
    /// </summary>
    public async Task<MetaResponse> SendAsync(MetaCommand command, CancellationToken cancellationToken)
    {
        var node = NodeFor(command.Key);
        try
        {
            var result = await node.SendAsync([command], quiet: false, cancellationToken).ConfigureAwait(false);
            return result[0];
        }
        catch (MemcachedException ex) when (command.Data is { } data && ex.ErrorReply?.Contains("too large", StringComparison.OrdinalIgnoreCase) == true)
        {
            throw new CacheValueTooLargeException(
                $"Memcached at {node.Name} refused the value for key '{Shorten(Encoding.UTF8.GetString(command.Key))}' ({data.Length} bytes) as too large: its item size limit (-I) is smaller than MaxItemSize ({_options.MaxItemSize}).",
                ex);
        }
    }

    /// <summary>
    /// Sends several commands to the node of <paramref name="routingKey"/> in one write (not quiet: one reply each, in
    /// order). Companion keys (a refresh lease, a write marker) are routed with their entry, so they share its node.
    /// </summary>
    public Task<MetaResponse[]> ExecuteOnNodeOfAsync(string routingKey, MetaCommand[] commands, CancellationToken cancellationToken) =>
        NodeFor(EncodeKey(routingKey)).ExecuteAsync(commands, quiet: false, cancellationToken);

    /// <summary>Builds an <c>mg</c>/<c>md</c> command for <paramref name="key"/> (validated or hashed like every key).</summary>
    public MetaCommand Command(string verb, string key, string flags) => new(verb, EncodeKey(key), flags);

    /// <summary>Builds an <c>ms</c> command: the TTL first, then <paramref name="flags"/>.</summary>
    public MetaCommand StoreCommand(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl, string flags) =>
        StoreCommand(key, EncodeKey(key), value, ttl, flags);

    /// <summary>Builds an <c>ms</c> command for an encoded key (<paramref name="key"/> names it in errors).</summary>
    public MetaCommand StoreCommand(string key, byte[] encoded, ReadOnlyMemory<byte> value, TimeSpan? ttl, string flags)
    {
        CheckValueSize(key, encoded, value.Length);
        if (_route.Nodes.Length != _nodes.Length && NodeFor(encoded) != HomeNodeFor(encoded) && !(ttl < _options.RemappedEntryTimeToLive))
        {
            // Stored on a stand-in: a copy left behind when the home node returns must not outlive this.
            ttl = _options.RemappedEntryTimeToLive;
        }

        var all = string.Create(CultureInfo.InvariantCulture, $"T{TtlSeconds(ttl)}") + (flags.Length > 0 ? " " + flags : string.Empty);
        return new MetaCommand("ms", encoded, all, value);
    }

    /// <summary><c>mg</c> with the given flags.</summary>
    public Task<MetaResponse> GetAsync(string key, string flags, CancellationToken cancellationToken) =>
        ExecuteAsync(new MetaCommand("mg", EncodeKey(key), flags), cancellationToken);

    /// <summary><c>ms</c> of <paramref name="value"/> with the TTL and extra flags (<c>C&lt;cas&gt;</c>, <c>F&lt;flags&gt;</c>, <c>I</c>).</summary>
    public Task<MetaResponse> SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl, string flags, CancellationToken cancellationToken) =>
        ExecuteAsync(StoreCommand(key, value, ttl, flags), cancellationToken);

    /// <summary><c>md</c> with the given flags.</summary>
    public Task<MetaResponse> DeleteAsync(string key, string flags, CancellationToken cancellationToken) =>
        ExecuteAsync(new MetaCommand("md", EncodeKey(key), flags), cancellationToken);

    /// <summary>
    /// <c>mg</c> of many keys: grouped per node, one quiet batch per node ending with <c>mn</c>, every node at once.
    /// A node that fails only fails its own keys (their <see cref="MultiGetResult.Error"/> is set).
    /// </summary>
    public async Task<MultiGetResult[]> GetManyAsync(IReadOnlyList<string> keys, string flags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var results = new MultiGetResult[keys.Count];
        var groups = new Dictionary<MemcachedNode, List<(int Index, MetaCommand Command)>>();
        for (var i = 0; i < keys.Count; i++)
        {
            var encoded = EncodeKey(keys[i]);
            var node = NodeFor(encoded);
            if (!groups.TryGetValue(node, out var list))
            {
                groups[node] = list = [];
            }

            list.Add((i, new MetaCommand("mg", encoded, flags)));
        }

        var tasks = new List<Task>();
        foreach (var (node, list) in groups)
        {
            foreach (var chunk in list.Chunk(MaxBatch))
            {
                tasks.Add(RunBatchAsync(node, chunk, results, cancellationToken));
            }
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
        return results;
    }

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
    }

    /// <summary>Rebuilds the continuum from the live nodes (all of them when none is live: requests then fail fast).</summary>
    private void Reroute()
    {
        lock (_routeLock)
        {
            var live = _nodes.Where(n => !n.IsDead).ToArray();
            _route = live.Length == _nodes.Length || live.Length == 0
                ? new Route(_ring, _nodes)
                : new Route(new KetamaRing(live.Select(n => n.Address).ToArray()), live);
        }
    }

    private static async Task RunBatchAsync(MemcachedNode node, (int Index, MetaCommand Command)[] chunk, MultiGetResult[] results, CancellationToken cancellationToken)
    {
        try
        {
            var replies = await node.ExecuteAsync(chunk.Select(c => c.Command).ToArray(), quiet: true, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < chunk.Length; i++)
            {
                results[chunk[i].Index] = new MultiGetResult(replies[i], null);
            }
        }
        catch (MemcachedException ex)
        {
            foreach (var (index, _) in chunk)
            {
                results[index] = new MultiGetResult(null, ex);
            }
        }
    }

    private static string? Validate(string key, byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return "is empty";
        }

        if (bytes.Length > MaxKeyBytes)
        {
            return $"is {bytes.Length} bytes long; memcached accepts at most {MaxKeyBytes}";
        }

        foreach (var b in bytes)
        {
            if (b <= 0x20 || b == 0x7F)
            {
                return "contains whitespace or a control character, which memcached does not accept";
            }
        }

        foreach (var c in key)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return "contains whitespace or a control character, which memcached does not accept";
            }
        }

        return null;
    }

    private static string Escape(string key)
    {
        var builder = new StringBuilder(key.Length);
        foreach (var c in key)
        {
            if (char.IsSurrogate(c) || char.IsControl(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static string Shorten(string key) => key.Length <= 64 ? key : string.Concat(key.AsSpan(0, 61), "...");

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private sealed record Route(KetamaRing Ring, MemcachedNode[] Nodes);
}
