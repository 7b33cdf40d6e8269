using Microsoft.Extensions.Options;

namespace CachePatterns.AspNetCore.OutputCaching.Internal;

/// <summary>Validates <see cref="CachePatternsOutputCacheOptions"/>.</summary>
internal sealed class OutputCacheOptionsValidator : IValidateOptions<CachePatternsOutputCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, CachePatternsOutputCacheOptions options)
    {
        var errors = new List<string>();
        var at = $"CachePatternsOutputCacheOptions '{name}'";
        if (string.IsNullOrEmpty(options.KeyPrefix))
        {
            errors.Add($"{at}: KeyPrefix must not be empty, but was '{options.KeyPrefix}' (the output cache needs a key namespace of its own).");
        }

        if (options.MaxEntries is < 1)
        {
            errors.Add($"{at}: MaxEntries must be at least 1, but was {options.MaxEntries}.");
        }

        if (options.MaxBytes is < 1)
        {
            errors.Add($"{at}: MaxBytes must be at least 1, but was {options.MaxBytes}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
