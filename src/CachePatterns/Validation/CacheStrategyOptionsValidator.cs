using Microsoft.Extensions.Options;

namespace CachePatterns.Validation;

/// <summary>Validates <see cref="CacheStrategyOptions"/> with messages that name the strategy and the setting.</summary>
internal sealed class CacheStrategyOptionsValidator : IValidateOptions<CacheStrategyOptions>
{
    public ValidateOptionsResult Validate(string? name, CacheStrategyOptions options)
    {
        var errors = new List<string>();
        var at = $"CacheStrategyOptions '{name}'";
        if (options.Expiration <= TimeSpan.Zero)
        {
            errors.Add($"{at}: Expiration must be positive, but was {options.Expiration}.");
        }

        if (options.SlidingExpiration is { } s && s <= TimeSpan.Zero)
        {
            errors.Add($"{at}: SlidingExpiration must be positive or null, but was {s}.");
        }

        if (double.IsNaN(options.Jitter) || options.Jitter is < 0 or > 0.5)
        {
            errors.Add($"{at}: Jitter must be between 0 and 0.5 (a fraction of the expiration), but was {options.Jitter}.");
        }

        if (options.NegativeCacheExpiration is { } n && n <= TimeSpan.Zero)
        {
            errors.Add($"{at}: NegativeCacheExpiration must be positive or null, but was {n}.");
        }

        if (options.FailSafeMaxStaleness is { } f && f <= TimeSpan.Zero)
        {
            errors.Add($"{at}: FailSafeMaxStaleness must be positive or null, but was {f}.");
        }

        if (options.StaleWhileRevalidate is { } r && r <= TimeSpan.Zero)
        {
            errors.Add($"{at}: StaleWhileRevalidate must be positive or null, but was {r}.");
        }

        if (options.LeaseWaitTimeout < TimeSpan.Zero)
        {
            errors.Add($"{at}: LeaseWaitTimeout must not be negative, but was {options.LeaseWaitTimeout}.");
        }

        if (options.LeaseWaitPollInterval <= TimeSpan.Zero)
        {
            errors.Add($"{at}: LeaseWaitPollInterval must be positive, but was {options.LeaseWaitPollInterval}.");
        }

        if (options.KeyPrefix is { } prefix && prefix.StartsWith('~'))
        {
            errors.Add($"{at}: KeyPrefix '{prefix}' must not start with '~', which marks the ad-hoc ICache's keys.");
        }

        if (!Enum.IsDefined(options.Kind))
        {
            errors.Add($"{at}: Kind {(int)options.Kind} is not a CacheStrategyKind.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
