using System.Globalization;

namespace CatalogSample;

/// <summary>The command line: <c>--operations N --products N --workers N --cache-size N --seed N</c>, all optional.</summary>
public sealed record SampleOptions
{
    public const string Usage = """
        Usage: dotnet run -c Release --project samples/CatalogSample -- [options]

          --operations N   operations per scenario (default 200000)
          --products N     products in the catalogue (default 10000)
          --workers N      concurrent workers (default 4)
          --cache-size N   MaxEntries of the in-memory cache (default: a fifth of the products)
          --seed N         random seed of the catalogue and the workload (default 42)
          --help           show this text
        """;

    public int Operations { get; init; } = 200_000;

    public int Products { get; init; } = 10_000;

    public int Workers { get; init; } = 4;

    public int? CacheSize { get; init; }

    public int Seed { get; init; } = 42;

    public bool ShowHelp { get; init; }

    /// <summary>Gets the cache's MaxEntries: smaller than the catalogue, so the LRU has to evict.</summary>
    public int MaxEntries => CacheSize ?? Math.Max(1, Products / 5);

    /// <summary>Parses the arguments; returns <see langword="null"/> and an error message when they are invalid.</summary>
    public static SampleOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new SampleOptions();
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "--help" or "-h" or "-?")
            {
                return options with { ShowHelp = true };
            }

            if (name is not ("--operations" or "--products" or "--workers" or "--cache-size" or "--seed"))
            {
                error = $"Unknown option '{name}'.";
                return null;
            }

            if (i + 1 >= args.Count || !int.TryParse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                error = $"'{name}' needs a whole number after it.";
                return null;
            }

            i++;
            switch (name)
            {
                case "--operations" when value >= 1:
                    options = options with { Operations = value };
                    break;
                case "--products" when value >= 1:
                    options = options with { Products = value };
                    break;
                case "--workers" when value is >= 1 and <= 256:
                    options = options with { Workers = value };
                    break;
                case "--cache-size" when value >= 1:
                    options = options with { CacheSize = value };
                    break;
                case "--seed":
                    options = options with { Seed = value };
                    break;
                default:
                    error = $"'{name}' is out of range: {value}.";
                    return null;
            }
        }

        return options;
    }
}
