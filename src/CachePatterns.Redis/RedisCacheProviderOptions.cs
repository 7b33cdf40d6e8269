using StackExchange.Redis;

namespace CachePatterns.Redis;

/// <summary>Options of the Redis provider: where the server is, the key namespace, and the limits of leases, writes, keys and values.</summary>
public sealed class RedisCacheProviderOptions
{
    /// <summary>
    /// Gets or sets the StackExchange.Redis configuration string, for example <c>localhost:6379,password=...</c>.
    /// Set this or <see cref="ConfigurationOptions"/>, not both. <c>abortConnect</c> is always forced to
    /// <see langword="false"/>: the provider connects lazily, so an application starts while Redis is down.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>
    /// Gets or sets a factory of StackExchange.Redis configuration options (certificates, ACL users, callbacks).
    /// Called once, when the provider first connects. Set this or <see cref="Configuration"/>, not both.
    /// </summary>
    public Func<ConfigurationOptions>? ConfigurationOptions { get; set; }

    /// <summary>
    /// Gets or sets a prefix put before every key of this provider (inside the hash tag), so several applications
    /// can share one Redis. Default: empty.
    /// </summary>
    public string InstanceName { get; set; } = string.Empty;

    /// <summary>Gets or sets the Redis database number; <see langword="null"/> (default) uses the configuration's default database.</summary>
    public int? Database { get; set; }

    /// <summary>
    /// Gets or sets how long a fill lease lives on the server. A client that dies while loading blocks other
    /// clients' fills of the key for at most this long. Default: 10 seconds.
    /// </summary>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long a write registration (<c>BeginWriteAsync</c>) lives on the server. A client that dies
    /// during a database write refuses fills of the key for at most this long. Default: 30 seconds.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the longest stored key (instance name, key prefix and key), in UTF-8 bytes. Default: 1,024.</summary>
    public int MaxKeyBytes { get; set; } = 1024;

    /// <summary>
    /// Gets or sets the largest serialized value, in bytes. Default: the most Redis accepts in one command argument
    /// (<c>proto-max-bulk-len</c>, 512 MiB) less the provider's 34-byte envelope, so any value <c>RedisCache</c> can store is stored.
    /// </summary>
    public int MaxValueBytes { get; set; } = Internal.RedisEnvelope.MaxPayloadBytes;

    /// <summary>
    /// Gets or sets how often the provider sends a <c>PING</c> to tell whether Redis still answers (one at a time). A
    /// server that stops answering while its connection stays open (paused, hung, a network black hole) is reported lost
    /// (<c>ICacheProvider.ConnectionChanged</c>) once a <c>PING</c> stays unanswered for <see cref="HeartbeatTimeout"/>,
    /// and restored as soon as one is answered, so the core cuts the cache off and takes it back quickly. Default: 250 ms.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Gets or sets how long a heartbeat <c>PING</c> may stay unanswered before the connection is reported lost. Keep it
    /// above the server's normal worst-case latency. Default: 500 ms.
    /// </summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets a value indicating whether plain reads (no lease asked) are served by replicas when the
    /// configuration names some (<c>EVAL_RO</c> with <see cref="CommandFlags.PreferReplica"/>; the primary answers when no
    /// replica does). Reads become <b>eventually consistent</b>: a replica may answer with a value the primary has already
    /// invalidated, for as long as its replication lag. Lease-taking reads, fills, writes and invalidations always run on the
    /// primary, so fencing is unchanged; a sliding entry read on a replica with less than half its window left is renewed
    /// by a fire-and-forget script on the primary. Default: <see langword="false"/>.
    /// </summary>
    public bool ReadFromReplicas { get; set; }

    /// <summary>
    /// Gets or sets the path of a PEM or DER certificate of a private certificate authority to trust for the server's TLS
    /// certificate (a CA that is not in the machine's store). Setting it turns TLS on. The server certificate must still
    /// chain to this CA and name the host connected to; nothing else is accepted (there is no "accept any certificate"
    /// switch). Default: <see langword="null"/> (the machine's trusted CAs, when the configuration asks for <c>ssl=true</c>).
    /// </summary>
    public string? TrustedCertificateAuthorityPath { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether every script that changes a value (fill, set, invalidation, write completion
    /// or abort) also publishes the key's invalidation on <c>cachepatterns:invalidations:</c> + <see cref="InstanceName"/>,
    /// from inside the same script (so no subscriber hears it before the change is visible). Near caches of every process
    /// sharing the server listen there. Leave it on in every process that writes while any process has a near cache, or
    /// their writes will not reach those near caches. Default: <see langword="true"/> (a <c>PUBLISH</c> nobody listens to
    /// costs a dictionary lookup on a standalone server; on a Cluster it is forwarded to every node).
    /// </summary>
    public bool PublishInvalidations { get; set; } = true;
}
