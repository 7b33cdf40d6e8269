using Microsoft.Extensions.Options;

namespace CachePatterns.Routing.Internal;

/// <summary>Validates <see cref="RoutingOptions"/> with messages that name the setting and its bad value (never a connection string's secrets).</summary>
internal sealed class RoutingOptionsValidator : IValidateOptions<RoutingOptions>
{
    public ValidateOptionsResult Validate(string? name, RoutingOptions options)
    {
        var errors = Collect(name, options, out _);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> when invalid; returns the resolved endpoints.</summary>
    public static List<RoutingEndpointOptions> ThrowIfInvalid(string name, RoutingOptions options)
    {
        var errors = Collect(name, options, out var endpoints);
        return errors.Count > 0 ? throw new OptionsValidationException(name, typeof(RoutingOptions), errors) : endpoints;
    }

    private static List<string> Collect(string? name, RoutingOptions options, out List<RoutingEndpointOptions> endpoints)
    {
        var errors = new List<string>();
        var at = $"RoutingOptions '{name}'";
        endpoints = [];
        var hasString = !string.IsNullOrWhiteSpace(options.ConnectionString);
        if (hasString == (options.Endpoints.Count > 0))
        {
            errors.Add($"{at}: set exactly one of ConnectionString (a host list whose roles are discovered) and Endpoints, but {(hasString ? "both are" : "neither is")} set.");
        }

        if (options.Engine is null)
        {
            errors.Add($"{at}: Engine is null; set RoutingEngine.PostgreSql or another engine.");
        }

        if (hasString && options.DataSourceFactory is not null)
        {
            errors.Add($"{at}: ConnectionString host lists are the engine's; with a DataSourceFactory, list the servers in Endpoints.");
        }

        for (var i = 0; i < options.Endpoints.Count; i++)
        {
            var endpoint = options.Endpoints[i];
            if (endpoint is null)
            {
                errors.Add($"{at}: Endpoints[{i}] is null.");
                continue;
            }

            if (string.IsNullOrWhiteSpace(endpoint.ConnectionString))
            {
                errors.Add($"{at}: Endpoints[{i}].ConnectionString is empty.");
            }

            if (endpoint.Weight is < 1 or > 1000)
            {
                errors.Add($"{at}: Endpoints[{i}].Weight must be between 1 and 1000, but was {endpoint.Weight}.");
            }

            if (!Enum.IsDefined(endpoint.Role))
            {
                errors.Add($"{at}: Endpoints[{i}].Role is not a defined EndpointRole: {endpoint.Role}.");
            }
        }

        if (errors.Count == 0)
        {
            try
            {
                endpoints = options.Engine!.ResolveEndpoints(options);
                var duplicate = endpoints.GroupBy(e => e.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
                if (duplicate is not null)
                {
                    errors.Add($"{at}: two endpoints are named '{duplicate.Key}'; names must be unique.");
                }
            }
            catch (ArgumentException ex)
            {
                errors.Add($"{at}: {ex.Message}");
            }
        }

        if (!Enum.IsDefined(options.ReaderSelection))
        {
            errors.Add($"{at}: ReaderSelection is not a defined value: {options.ReaderSelection}.");
        }

        if (!Enum.IsDefined(options.DefaultConsistency))
        {
            errors.Add($"{at}: DefaultConsistency is not a defined value: {options.DefaultConsistency}.");
        }

        if (options.ProbeInterval < TimeSpan.FromMilliseconds(10) || options.ProbeInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"{at}: ProbeInterval must be between 10 ms and 1 hour, but was {options.ProbeInterval}.");
        }

        if (options.ProbeTimeout < TimeSpan.FromMilliseconds(10) || options.ProbeTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{at}: ProbeTimeout must be between 10 ms and 5 minutes, but was {options.ProbeTimeout}.");
        }

        if (options.FailuresBeforeEjection is < 1 or > 100)
        {
            errors.Add($"{at}: FailuresBeforeEjection must be between 1 and 100, but was {options.FailuresBeforeEjection}.");
        }

        if (options.MaxReplicaLag is { } lag && lag < TimeSpan.Zero)
        {
            errors.Add($"{at}: MaxReplicaLag must not be negative, but was {lag}.");
        }

        if (options.MaxReplicaLagBytes is < 0)
        {
            errors.Add($"{at}: MaxReplicaLagBytes must not be negative, but was {options.MaxReplicaLagBytes}.");
        }

        if (options.ReadYourWritesWait < TimeSpan.Zero || options.ReadYourWritesWait > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{at}: ReadYourWritesWait must be between 0 and 1 minute, but was {options.ReadYourWritesWait}.");
        }

        if (options.PasswordRefreshInterval is { } refresh && refresh <= TimeSpan.Zero)
        {
            errors.Add($"{at}: PasswordRefreshInterval must be positive, but was {refresh}.");
        }

        if (options.PasswordRefreshInterval is not null && options.PasswordProvider is null)
        {
            errors.Add($"{at}: PasswordRefreshInterval is set but PasswordProvider is not.");
        }

        return errors;
    }
}
