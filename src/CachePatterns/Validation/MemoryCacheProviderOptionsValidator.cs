using CachePatterns.Memory;
using Microsoft.Extensions.Options;

namespace CachePatterns.Validation;

/// <summary>Validates <see cref="MemoryCacheProviderOptions"/>.</summary>
internal sealed class MemoryCacheProviderOptionsValidator : IValidateOptions<MemoryCacheProviderOptions>
{
    public ValidateOptionsResult Validate(string? name, MemoryCacheProviderOptions options)
    {
        var errors = new List<string>();
        var at = $"MemoryCacheProviderOptions '{name}'";
        if (options.MaxEntries < 1)
        {
            errors.Add($"{at}: MaxEntries must be at least 1, but was {options.MaxEntries}.");
        }

        if (options.MaxBytes is { } b && b < 1)
        {
            errors.Add($"{at}: MaxBytes must be positive or null, but was {b}.");
        }

        if (options.MaxValueBytes < 1)
        {
            errors.Add($"{at}: MaxValueBytes must be positive, but was {options.MaxValueBytes}.");
        }

        if (options.MaxKeyLength < 1)
        {
            errors.Add($"{at}: MaxKeyLength must be positive, but was {options.MaxKeyLength}.");
        }

        if (options.ExpirationScanInterval < TimeSpan.Zero)
        {
            errors.Add($"{at}: ExpirationScanInterval must not be negative (zero turns the sweep off), but was {options.ExpirationScanInterval}.");
        }

        if (!Enum.IsDefined(options.EvictionPolicy))
        {
            errors.Add($"{at}: EvictionPolicy {(int)options.EvictionPolicy} is not a MemoryEvictionPolicy.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
