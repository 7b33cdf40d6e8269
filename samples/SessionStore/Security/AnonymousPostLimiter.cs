using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.RateLimiting;
using SessionStore.Configuration;

namespace SessionStore.Security;

/// <summary>
/// ASP.NET Core's rate limiter on POSTs from signed-out clients (sign-in attempts, anonymous adds to cart): a fixed
/// window of <see cref="SecuritySettings.AnonymousPostsPerMinute"/> per client address; more get 429 with
/// <c>Retry-After</c> and a page that says so. Signed-in users and GETs are not limited here (sign-in guesses are also
/// throttled per account and per address by <see cref="SignInThrottle"/>).
/// </summary>
public static class AnonymousPostLimiter
{
    public static IServiceCollection AddAnonymousPostLimiter(this IServiceCollection services, SecuritySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var window = new FixedWindowRateLimiterOptions
        {
            PermitLimit = settings.AnonymousPostsPerMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                !HttpMethods.IsPost(context.Request.Method)
                || context.User.Identity?.IsAuthenticated == true
                || context.Features.Get<IStatusCodeReExecuteFeature>() is not null
                    ? RateLimitPartition.GetNoLimiter(string.Empty)
                    : RateLimitPartition.GetFixedWindowLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => window));
            o.OnRejected = static (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return ValueTask.CompletedTask;
            };
        });
        return services;
    }
}
