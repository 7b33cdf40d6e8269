using Microsoft.Extensions.Options;

namespace CachePatterns.Memcached.Internal;

/// <summary>Validates <see cref="MemcachedCacheProviderOptions"/>; every message names the option and the bad value.</summary>
internal sealed class MemcachedCacheProviderOptionsValidator : IValidateOptions<MemcachedCacheProviderOptions>
{
    /// <summary>The longest key prefix: a hashed key (prefix, marker, <c>sha256:</c>, 43 characters) must still fit in 250 bytes.</summary>
    public const int MaxKeyPrefixBytes = 100;

    public ValidateOptionsResult Validate(string? name, MemcachedCacheProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = Errors(name, options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static List<string> Errors(string? name, MemcachedCacheProviderOptions options)
    {
        var errors = new List<string>();
        var at = $"MemcachedCacheProviderOptions '{name}'";
        if (options.Servers.Count == 0)
        {
            errors.Add($"{at}: Servers is empty; add at least one host:port.");
        }

        foreach (var server in options.Servers)
        {
            if (!ServerAddress.TryParse(server, out _, out var problem))
            {
                errors.Add($"{at}: the server '{server}' is not valid: {problem} Expected host:port or host:port:weight.");
            }
        }

        if (options.KeyPrefix is null || options.KeyPrefix.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            errors.Add($"{at}: KeyPrefix '{options.KeyPrefix}' must not be null or contain whitespace or control characters.");
        }
        else if (!IsValidUtf16(options.KeyPrefix) || System.Text.Encoding.UTF8.GetByteCount(options.KeyPrefix) > MaxKeyPrefixBytes)
        {
            errors.Add($"{at}: KeyPrefix must be valid UTF-16 of at most {MaxKeyPrefixBytes} bytes in UTF-8, but was '{options.KeyPrefix}'.");
        }

        Positive(errors, at, nameof(options.OperationTimeout), options.OperationTimeout);
        Positive(errors, at, nameof(options.ConnectTimeout), options.ConnectTimeout);
        Positive(errors, at, nameof(options.DeadNodeProbeInterval), options.DeadNodeProbeInterval);
        if (options.LeaseTime < TimeSpan.FromSeconds(1))
        {
            errors.Add($"{at}: LeaseTime must be at least 1 second (memcached's resolution), but was {options.LeaseTime}.");
        }

        if (options.RemappedEntryTimeToLive < TimeSpan.FromSeconds(1))
        {
            errors.Add($"{at}: RemappedEntryTimeToLive must be at least 1 second (memcached's resolution), but was {options.RemappedEntryTimeToLive}.");
        }

        if (options.WriteTimeout < TimeSpan.FromSeconds(1))
        {
            errors.Add($"{at}: WriteTimeout must be at least 1 second (memcached's resolution), but was {options.WriteTimeout}.");
        }

        if (options.MaxInFlightPerConnection < 1)
        {
            errors.Add($"{at}: MaxInFlightPerConnection must be at least 1, but was {options.MaxInFlightPerConnection}.");
        }

        if (options.MaxItemSize < 1024)
        {
            errors.Add($"{at}: MaxItemSize must be at least 1024 (memcached's smallest -I), but was {options.MaxItemSize}.");
        }

        if (options.FailuresBeforeDead < 1)
        {
            errors.Add($"{at}: FailuresBeforeDead must be at least 1, but was {options.FailuresBeforeDead}.");
        }

        return errors;
    }

    private static bool IsValidUtf16(string text) => System.Text.Unicode.Utf8.FromUtf16(text, new byte[text.Length * 3], out _, out _, replaceInvalidSequences: false) == System.Buffers.OperationStatus.Done;

    private static void Positive(List<string> errors, string at, string option, TimeSpan value)
    {
        if (value <= TimeSpan.Zero || value == Timeout.InfiniteTimeSpan)
        {
            errors.Add($"{at}: {option} must be a positive, finite time, but was {value}.");
        }
    }
}
