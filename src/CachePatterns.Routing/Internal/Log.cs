using Microsoft.Extensions.Logging;

namespace CachePatterns.Routing.Internal;

/// <summary>Every log message of the router, with stable event ids (300–399). Endpoint names only, never connection strings.</summary>
internal static partial class Log
{
    [LoggerMessage(300, LogLevel.Warning, "Writer changed from {Old} to {New}; the old writer's pooled connections are dropped.")]
    public static partial void WriterChanged(ILogger logger, string old, string @new);

    [LoggerMessage(301, LogLevel.Warning, "Endpoint {Endpoint} ejected after {Failures} failed probes.")]
    public static partial void Ejected(ILogger logger, string endpoint, int failures, Exception? exception);

    [LoggerMessage(302, LogLevel.Information, "Endpoint {Endpoint} answers again and is readmitted.")]
    public static partial void Readmitted(ILogger logger, string endpoint);

    [LoggerMessage(303, LogLevel.Debug, "Probe of {Endpoint} failed.")]
    public static partial void ProbeFailed(ILogger logger, string endpoint, Exception exception);

    [LoggerMessage(304, LogLevel.Warning, "No endpoint is a healthy primary; writes fail until one is.")]
    public static partial void NoWriter(ILogger logger);

    [LoggerMessage(305, LogLevel.Information, "Writer is {Endpoint}.")]
    public static partial void WriterFound(ILogger logger, string endpoint);

    [LoggerMessage(306, LogLevel.Warning, "Writer {Endpoint} refused a write as read-only; probing now.")]
    public static partial void WriterReadOnly(ILogger logger, string endpoint);

    [LoggerMessage(310, LogLevel.Warning, "Reading the write position from {Endpoint} failed; reads that need it go to the writer.")]
    public static partial void WritePositionFailed(ILogger logger, string endpoint, Exception exception);
}
