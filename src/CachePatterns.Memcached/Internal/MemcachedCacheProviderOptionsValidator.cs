using Microsoft.Extensions.Options;

namespace CachePatterns.Memcached.Internal;

/// <summary>Validates <see cref="MemcachedCacheProviderOptions"/>; every message names the option and the bad value.</summary>
internal sealed class MemcachedCacheProviderOptionsValidator : IValidateOptions<MemcachedCacheProviderOptions>
{
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

        if (options.MaxValueBytes < 1)
        {
            errors.Add($"{at}: MaxValueBytes must be positive, but was {options.MaxValueBytes}.");
        }

        if (options.FailuresBeforeDead < 1)
        {
            errors.Add($"{at}: FailuresBeforeDead must be at least 1, but was {options.FailuresBeforeDead}.");
        }

        return errors;
    }

    private static void Positive(List<string> errors, string at, string option, TimeSpan value)
    {
        if (value <= TimeSpan.Zero || value == Timeout.InfiniteTimeSpan)
        {
            errors.Add($"{at}: {option} must be a positive, finite time, but was {value}.");
        }
    }
}
