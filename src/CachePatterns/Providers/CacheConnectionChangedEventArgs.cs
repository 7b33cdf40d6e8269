namespace CachePatterns.Providers;

/// <summary>A provider's connection was lost or restored (see <see cref="ICacheProvider.ConnectionChanged"/>).</summary>
public sealed class CacheConnectionChangedEventArgs : EventArgs
{
    /// <summary>Initializes a new instance of the <see cref="CacheConnectionChangedEventArgs"/> class.</summary>
    /// <param name="state">Lost or restored.</param>
    /// <param name="reason">For <see cref="CacheConnectionState.Lost"/>, why; <see langword="null"/> for a restore.</param>
    /// <param name="node">The node concerned, for providers with several nodes; <see langword="null"/> for the whole provider.</param>
    public CacheConnectionChangedEventArgs(CacheConnectionState state, CacheProviderFailureReason? reason = null, string? node = null)
    {
        State = state;
        Reason = reason;
        Node = node;
    }

    /// <summary>Gets whether the connection was lost or restored.</summary>
    public CacheConnectionState State { get; }

    /// <summary>Gets why the connection was lost; <see langword="null"/> for <see cref="CacheConnectionState.Restored"/>.</summary>
    public CacheProviderFailureReason? Reason { get; }

    /// <summary>Gets the node concerned; <see langword="null"/> when the whole provider is meant.</summary>
    public string? Node { get; }
}
