using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace CachePatterns.Benchmarks;

/// <summary>
/// BenchmarkDotNet's ShortRun (one launch, three warm-up iterations) with eight measured iterations instead of three:
/// on a shared two-core machine three iterations leave error bars wider than the differences being measured,
/// and eight keep the whole suite within its time budget.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class ShortMeasuredJobAttribute : Attribute, IConfigSource
{
    public ShortMeasuredJobAttribute() =>
        Config = ManualConfig.CreateEmpty().AddJob(
            Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(8).WithId("ShortMeasured"));

    public IConfig Config { get; }
}
