namespace SessionStore.Data;

/// <summary>One database server as the statistics page shows it.</summary>
/// <param name="Name">The server (<c>host:port</c>).</param>
/// <param name="State">Its role and what the last probe said, in words.</param>
/// <param name="Answers">Whether it answers (not ejected by the router).</param>
public sealed record DatabaseServer(string Name, string State, bool Answers);
