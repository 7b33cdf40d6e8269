using CachePatterns.NearCache;
using Microsoft.Extensions.Options;

namespace CachePatterns.Validation;

/// <summary>Validates <see cref="NearCacheOptions"/> with messages that name the cache and the setting.</summary>
internal sealed class NearCacheOptionsValidator : IValidateOptions<NearCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, NearCacheOptions options)
    {
        var errors = new List<string>();
        var at = $"NearCacheOptions '{name}'";
        if (options.MaxEntries < 1)
        {
            errors.Add($"{at}: MaxEntries must be at least 1, but was {options.MaxEntries}.");
        }

        if (options.MaxBytes is { } bytes && bytes < 1)
        {
            errors.Add($"{at}: MaxBytes must be positive or null, but was {bytes}.");
        }

        if (options.MaxLifetime <= TimeSpan.Zero)
        {
            errors.Add($"{at}: MaxLifetime must be positive, but was {options.MaxLifetime}.");
        }

        if (options.MaxStaleness <= TimeSpan.Zero)
        {
            errors.Add($"{at}: MaxStaleness must be positive, but was {options.MaxStaleness}.");
        }
        else if (options.MaxStaleness > options.MaxLifetime)
        {
            errors.Add($"{at}: MaxStaleness ({options.MaxStaleness}) must not be longer than MaxLifetime ({options.MaxLifetime}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> naming the bad settings.</summary>
    public static void ThrowIfInvalid(string name, NearCacheOptions options)
    {
        var result = new NearCacheOptionsValidator().Validate(name, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(name, typeof(NearCacheOptions), result.Failures);
        }
    }
}
