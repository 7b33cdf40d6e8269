using CachePatterns.Routing;

namespace SessionStore.Data;

/// <summary>
/// One read-your-writes scope per HTTP request: after a request writes through the router, its own reads go to a replica
/// that has replayed the write, or to the primary. (Other requests are not held back; the cache covers the next page.)
/// </summary>
public sealed class RequestConsistencyMiddleware(RequestDelegate next, RoutingDataSource router)
{
    public async Task InvokeAsync(HttpContext context)
    {
        using var scope = router.BeginConsistencyScope(ReadConsistency.ReadYourWrites);
        await next(context);
    }
}
