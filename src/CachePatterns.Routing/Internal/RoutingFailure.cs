namespace CachePatterns.Routing.Internal;

/// <summary>What a failure means for routing, as the engine classifies it (<see cref="RoutingEngine.Classify"/>).</summary>
internal enum RoutingFailure
{
    /// <summary>An error of the statement itself (syntax, constraint): passed to the caller unchanged.</summary>
    None = 0,

    /// <summary>The connection was refused, broken or timed out, or the server is shutting down: the endpoint is gone or going.</summary>
    Connection,

    /// <summary>The server refused a write because it is read-only (a replica, a demoted primary, or a read-only session).</summary>
    ReadOnly,

    /// <summary>A replica cancelled a read because replaying the primary's changes conflicted with it: safe to run again elsewhere.</summary>
    RecoveryConflict,

    /// <summary>The server refused the credentials (wrong password, expired token, no such role).</summary>
    Authentication,
}
