using System.Diagnostics;
using System.Diagnostics.Metrics;
using CachePatterns.Diagnostics;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Events;

namespace CachePatterns.Benchmarks.Near;

/// <summary>
/// The moment a cache node received an invalidation from another node, for <c>neardelay --drop</c>: CachePatterns through
/// its invalidation-delay measurement (recorded on the thread that handles the message, just before the copies are
/// dropped), FusionCache through its backplane's <c>MessageReceived</c> event (raised before the message is applied).
/// </summary>
internal sealed class InvalidationReceipt : IDisposable
{
    private readonly MeterListener? _listener;
    private readonly IFusionCache? _fusion;
    private readonly SemaphoreSlim _signal = new(0);
    private long _at = -1;

    public InvalidationReceipt(INearCacheRunner runner)
    {
        switch (runner)
        {
            case CachePatternsNearRunner:
                _listener = new MeterListener
                {
                    InstrumentPublished = (instrument, listener) =>
                    {
                        if (instrument.Name == CacheDiagnostics.NearInvalidationDelay)
                        {
                            listener.EnableMeasurementEvents(instrument);
                        }
                    },
                };
                _listener.SetMeasurementEventCallback<double>((_, _, _, _) => OnReceived());
                _listener.Start();
                break;

            case FusionCacheNearRunner fusion:
                _fusion = fusion.Cache;
                _fusion.Events.Backplane.MessageReceived += OnFusionMessage;
                break;
        }
    }

    /// <summary>Forgets what arrived so far: the next <see cref="WaitAsync"/> reports the first invalidation after this.</summary>
    public void Reset()
    {
        while (_signal.CurrentCount > 0)
        {
            _signal.Wait(0);
        }

        Interlocked.Exchange(ref _at, -1);
    }

    /// <summary>The <see cref="Stopwatch.GetTimestamp"/> of the first invalidation received since <see cref="Reset"/>, or -1 if none within <paramref name="timeout"/>.</summary>
    public async Task<long> WaitAsync(TimeSpan timeout) =>
        await _signal.WaitAsync(timeout) ? Interlocked.Read(ref _at) : -1;

    public void Dispose()
    {
        _listener?.Dispose();
        if (_fusion is not null)
        {
            _fusion.Events.Backplane.MessageReceived -= OnFusionMessage;
        }

        _signal.Dispose();
    }

    private void OnFusionMessage(object? sender, FusionCacheBackplaneMessageEventArgs e) => OnReceived();

    private void OnReceived()
    {
        if (Interlocked.CompareExchange(ref _at, Stopwatch.GetTimestamp(), -1) == -1)
        {
            _signal.Release();
        }
    }
}
