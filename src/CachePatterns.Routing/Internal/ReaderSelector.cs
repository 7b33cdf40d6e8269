namespace CachePatterns.Routing.Internal;

/// <summary>Picks one replica among candidates by the configured policy, honouring weights.</summary>
internal sealed class ReaderSelector(ReaderSelection policy)
{
    private int _next = -1;

    public Endpoint? Pick(ReadOnlySpan<Endpoint> candidates, int totalWeight)
    {
        if (candidates.Length <= 1)
        {
            return candidates.Length == 0 ? null : candidates[0];
        }

        return policy switch
        {
            ReaderSelection.Random => ByWeight(candidates, Random.Shared.Next(totalWeight)),
            ReaderSelection.LeastOutstanding => LeastOutstanding(candidates),
            _ => ByWeight(candidates, (int)((uint)Interlocked.Increment(ref _next) % (uint)totalWeight)),
        };
    }

    /// <summary>Sums the weights of <paramref name="candidates"/>.</summary>
    public static int TotalWeight(ReadOnlySpan<Endpoint> candidates)
    {
        var total = 0;
        foreach (var candidate in candidates)
        {
            total += candidate.Weight;
        }

        return total;
    }

    private static Endpoint ByWeight(ReadOnlySpan<Endpoint> candidates, int ticket)
    {
        foreach (var candidate in candidates)
        {
            ticket -= candidate.Weight;
            if (ticket < 0)
            {
                return candidate;
            }
        }

        return candidates[^1];
    }

    /// <summary>The fewest outstanding connections per unit of weight; ties rotate so equal replicas share the load.</summary>
    private Endpoint LeastOutstanding(ReadOnlySpan<Endpoint> candidates)
    {
        var start = (int)((uint)Interlocked.Increment(ref _next) % (uint)candidates.Length);
        var best = candidates[start];
        long bestLoad = best.Outstanding;
        for (var i = 1; i < candidates.Length; i++)
        {
            var candidate = candidates[(start + i) % candidates.Length];
            long load = candidate.Outstanding;

            // load / weight < bestLoad / bestWeight, without division.
            if (load * best.Weight < bestLoad * candidate.Weight)
            {
                best = candidate;
                bestLoad = load;
            }
        }

        return best;
    }
}
