namespace CachePatterns.Memcached.Internal;

/// <summary>One meta command: <c>verb key [datalen] flags</c>, then the data for <c>ms</c>.</summary>
/// <param name="Verb"><c>mg</c>, <c>ms</c> or <c>md</c>.</param>
/// <param name="Key">The validated key bytes.</param>
/// <param name="Flags">Space-separated flags, without the opaque (the connection adds it).</param>
/// <param name="Data">The value of <c>ms</c>; <see langword="null"/> for other commands.</param>
internal readonly record struct MetaCommand(string Verb, byte[] Key, string Flags, ReadOnlyMemory<byte>? Data = null);
