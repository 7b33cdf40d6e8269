using CachePatterns.Hybrid;
using Microsoft.Extensions.Options;

namespace CachePatterns.Validation;

/// <summary>Validates <see cref="CachePatternsHybridCacheOptions"/>.</summary>
internal sealed class CachePatternsHybridCacheOptionsValidator : IValidateOptions<CachePatternsHybridCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, CachePatternsHybridCacheOptions options)
    {
        var errors = new List<string>();
        var at = $"CachePatternsHybridCacheOptions '{name}'";
        if (options.MaximumKeyLength < 1)
        {
            errors.Add($"{at}: MaximumKeyLength must be at least 1, but was {options.MaximumKeyLength}.");
        }

        if (options.MaximumPayloadBytes < 1)
        {
            errors.Add($"{at}: MaximumPayloadBytes must be at least 1, but was {options.MaximumPayloadBytes}.");
        }

        if (options.DefaultEntryOptions is { } defaults)
        {
            if (defaults.Expiration is { } e && e <= TimeSpan.Zero)
            {
                errors.Add($"{at}: DefaultEntryOptions.Expiration must be positive, but was {e}.");
            }

            if (defaults.LocalCacheExpiration is { } l && l <= TimeSpan.Zero)
            {
                errors.Add($"{at}: DefaultEntryOptions.LocalCacheExpiration must be positive, but was {l}.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
