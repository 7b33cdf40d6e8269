using CachePatterns.Resilience;
using Microsoft.Extensions.Options;

namespace CachePatterns.Validation;

/// <summary>Validates <see cref="CacheResilienceOptions"/> (the limits are Polly v8's circuit breaker's, whose semantics the breaker keeps).</summary>
internal sealed class CacheResilienceOptionsValidator : IValidateOptions<CacheResilienceOptions>
{
    public ValidateOptionsResult Validate(string? name, CacheResilienceOptions options)
    {
        var errors = new List<string>();
        var at = $"CacheResilienceOptions '{name}'";
        if (options.OperationTimeout < TimeSpan.FromMilliseconds(10) || options.OperationTimeout > TimeSpan.FromDays(1))
        {
            errors.Add($"{at}: OperationTimeout must be between 10 ms and 1 day, but was {options.OperationTimeout}.");
        }

        if (double.IsNaN(options.FailureRatio) || options.FailureRatio is <= 0 or > 1)
        {
            errors.Add($"{at}: FailureRatio must be in (0, 1], but was {options.FailureRatio}.");
        }

        if (options.MinimumThroughput < 2)
        {
            errors.Add($"{at}: MinimumThroughput must be at least 2, but was {options.MinimumThroughput}.");
        }

        if (options.SamplingDuration < TimeSpan.FromMilliseconds(500))
        {
            errors.Add($"{at}: SamplingDuration must be at least 500 ms, but was {options.SamplingDuration}.");
        }

        if (options.BreakDuration < TimeSpan.FromMilliseconds(500))
        {
            errors.Add($"{at}: BreakDuration must be at least 500 ms, but was {options.BreakDuration}.");
        }

        if (options.MaxPendingInvalidations < 0)
        {
            errors.Add($"{at}: MaxPendingInvalidations must not be negative, but was {options.MaxPendingInvalidations}.");
        }

        if (options.ConsecutiveTimeoutsToOpen is < 1 or > 1_000_000)
        {
            errors.Add($"{at}: ConsecutiveTimeoutsToOpen must be between 1 and 1,000,000, but was {options.ConsecutiveTimeoutsToOpen}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
