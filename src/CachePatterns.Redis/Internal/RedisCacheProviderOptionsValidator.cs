using Microsoft.Extensions.Options;

namespace CachePatterns.Redis.Internal;

/// <summary>Validates <see cref="RedisCacheProviderOptions"/> with messages that name the cache and the setting (never its secret parts).</summary>
internal sealed class RedisCacheProviderOptionsValidator : IValidateOptions<RedisCacheProviderOptions>
{
    /// <summary>Redis refuses strings (keys, values) over 512 MB.</summary>
    private const int RedisMaxBulkBytes = 512 * 1024 * 1024;

    public ValidateOptionsResult Validate(string? name, RedisCacheProviderOptions options)
    {
        var errors = Collect(name, options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> when <paramref name="options"/> are invalid (the provider's constructor, outside DI).</summary>
    public static void ThrowIfInvalid(string? name, RedisCacheProviderOptions options)
    {
        var errors = Collect(name, options);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(name ?? Options.DefaultName, typeof(RedisCacheProviderOptions), errors);
        }
    }

    private static List<string> Collect(string? name, RedisCacheProviderOptions options)
    {
        var errors = new List<string>();
        var at = $"RedisCacheProviderOptions '{name}'";
        var hasString = !string.IsNullOrWhiteSpace(options.Configuration);
        if (hasString == (options.ConfigurationOptions is not null))
        {
            errors.Add($"{at}: set exactly one of Configuration (a StackExchange.Redis configuration string) and ConfigurationOptions (a factory).");
        }
        else if (hasString && !RedisConnection.TryParse(options.Configuration!, out _, out var parseError))
        {
            errors.Add($"{at}: Configuration is not a valid StackExchange.Redis configuration string: {parseError}");
        }

        if (options.InstanceName is null)
        {
            errors.Add($"{at}: InstanceName must not be null (use an empty string for no prefix).");
        }

        if (options.Database is < 0)
        {
            errors.Add($"{at}: Database must not be negative, but was {options.Database}.");
        }

        if (options.LeaseTimeout < TimeSpan.FromMilliseconds(10) || options.LeaseTimeout > TimeSpan.FromHours(1))
        {
            errors.Add($"{at}: LeaseTimeout must be between 10 ms and 1 hour, but was {options.LeaseTimeout}.");
        }

        if (options.WriteTimeout < TimeSpan.FromMilliseconds(10) || options.WriteTimeout > TimeSpan.FromDays(1))
        {
            errors.Add($"{at}: WriteTimeout must be between 10 ms and 1 day, but was {options.WriteTimeout}.");
        }

        if (options.MaxKeyBytes is < 16 or > RedisMaxBulkBytes)
        {
            errors.Add($"{at}: MaxKeyBytes must be between 16 and {RedisMaxBulkBytes}, but was {options.MaxKeyBytes}.");
        }

        if (options.MaxValueBytes is < 1 or > RedisEnvelope.MaxPayloadBytes)
        {
            errors.Add($"{at}: MaxValueBytes must be between 1 and {RedisEnvelope.MaxPayloadBytes}, but was {options.MaxValueBytes}.");
        }

        if (options.HeartbeatInterval < TimeSpan.FromMilliseconds(10) || options.HeartbeatInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{at}: HeartbeatInterval must be between 10 ms and 1 minute, but was {options.HeartbeatInterval}.");
        }

        if (options.HeartbeatTimeout < TimeSpan.FromMilliseconds(10) || options.HeartbeatTimeout > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{at}: HeartbeatTimeout must be between 10 ms and 10 minutes, but was {options.HeartbeatTimeout}.");
        }

        if (options.TrustedCertificateAuthorityPath is { } ca && !File.Exists(ca))
        {
            errors.Add($"{at}: TrustedCertificateAuthorityPath '{ca}' does not name an existing certificate file.");
        }

        return errors;
    }
}
