using CachePatterns.Distributed;
using Microsoft.Extensions.Options;

namespace CachePatterns.Validation;

/// <summary>Validates <see cref="DistributedCacheOptions"/>.</summary>
internal sealed class DistributedCacheOptionsValidator : IValidateOptions<DistributedCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, DistributedCacheOptions options)
    {
        var errors = new List<string>();
        var at = $"DistributedCacheOptions '{name}'";
        if (options.KeyPrefix is null)
        {
            errors.Add($"{at}: KeyPrefix must not be null.");
        }

        if (!Enum.IsDefined(options.Semantics))
        {
            errors.Add($"{at}: Semantics must be Store or Cache, but was {options.Semantics}.");
        }

        if (options.OperationTimeout < TimeSpan.FromMilliseconds(10) || options.OperationTimeout > TimeSpan.FromDays(1))
        {
            errors.Add($"{at}: OperationTimeout must be between 10 ms and 1 day, but was {options.OperationTimeout}.");
        }

        if (options.MaxAttempts is < 1 or > 100)
        {
            errors.Add($"{at}: MaxAttempts must be between 1 and 100, but was {options.MaxAttempts}.");
        }

        if (options.RetryDelay < TimeSpan.Zero || options.RetryDelay > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{at}: RetryDelay must be between 0 and 1 minute, but was {options.RetryDelay}.");
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
