using System.Globalization;

namespace CachePatterns.Memcached.Internal;

/// <summary>A configured server: <c>host:port[:weight]</c>, the host exactly as written (ketama hashes it as is).</summary>
internal sealed record ServerAddress(string Host, int Port, int Weight)
{
    public string Name => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    public static ServerAddress Parse(string? value)
    {
        if (!TryParse(value, out var address, out var problem))
        {
            throw new ArgumentException($"The memcached server '{value}' is not valid: {problem} Expected host:port or host:port:weight.", nameof(value));
        }

        return address;
    }

    public static bool TryParse(string? value, out ServerAddress address, out string problem)
    {
        address = null!;
        problem = string.Empty;
        if (string.IsNullOrWhiteSpace(value))
        {
            problem = "it is empty.";
            return false;
        }

        var parts = value.Trim().Split(':');
        if (parts.Length is < 2 or > 3)
        {
            problem = "it must have a port.";
            return false;
        }

        if (parts[0].Length == 0 || parts[0].Any(char.IsWhiteSpace))
        {
            problem = "the host is empty or has whitespace.";
            return false;
        }

        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            problem = $"the port '{parts[1]}' is not a number from 1 to 65535.";
            return false;
        }

        var weight = 1;
        if (parts.Length == 3 && (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out weight) || weight < 1))
        {
            problem = $"the weight '{parts[2]}' is not a positive integer.";
            return false;
        }

        address = new ServerAddress(parts[0], port, weight);
        return true;
    }
}
