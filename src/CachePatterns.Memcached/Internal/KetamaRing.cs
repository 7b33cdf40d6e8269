using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CachePatterns.Memcached.Internal;

/// <summary>
/// Weighted ketama consistent hashing as libmemcached does it (<c>MEMCACHED_DISTRIBUTION_CONSISTENT</c> with
/// <c>KETAMA_WEIGHTED</c>): per server <c>floor(weight/total × 40 × servers + 1e-10)</c> MD5 digests of
/// <c>host-i</c> (port 11211) or <c>host:port-i</c>, four little-endian points per digest; a key goes to the first point
/// at or after the little-endian first four bytes of its MD5, wrapping around.
/// </summary>
internal sealed class KetamaRing
{
    private const int DefaultPort = 11211;
    private readonly uint[] _points;
    private readonly int[] _servers;
    private readonly int _count;

    public KetamaRing(IReadOnlyList<ServerAddress> servers)
    {
        ArgumentNullException.ThrowIfNull(servers);
        _count = servers.Count;
        var totalWeight = servers.Sum(s => (long)s.Weight);
        var points = new List<(uint Point, int Server)>();
        Span<byte> digest = stackalloc byte[16];
        for (var index = 0; index < servers.Count; index++)
        {
            var server = servers[index];

            // The same float arithmetic as libmemcached's update_continuum.
            var pct = (float)server.Weight / totalWeight;
            var scaled = pct * 160f / 4f * servers.Count;
            var hashes = (int)Math.Floor(scaled + 0.0000000001);
            for (var i = 0; i < hashes; i++)
            {
                var input = server.Port == DefaultPort
                    ? string.Create(CultureInfo.InvariantCulture, $"{server.Host}-{i}")
                    : string.Create(CultureInfo.InvariantCulture, $"{server.Host}:{server.Port}-{i}");
#pragma warning disable CA5351 // MD5 is what ketama specifies; it places keys, it protects nothing.
                MD5.HashData(Encoding.ASCII.GetBytes(input), digest);
#pragma warning restore CA5351
                for (var a = 0; a < 4; a++)
                {
                    points.Add((BinaryPrimitives.ReadUInt32LittleEndian(digest[(4 * a)..]), index));
                }
            }
        }

        points.Sort((x, y) => x.Point.CompareTo(y.Point));
        _points = points.Select(p => p.Point).ToArray();
        _servers = points.Select(p => p.Server).ToArray();
    }

    /// <summary>Gets the number of points on the ring.</summary>
    public int PointCount => _points.Length;

    /// <summary>Returns the index of the server that holds <paramref name="key"/>.</summary>
    public int ServerFor(ReadOnlySpan<byte> key)
    {
        if (_count <= 1 || _points.Length == 0)
        {
            return 0;
        }

        var hash = Hash(key);
        int left = 0, right = _points.Length;
        while (left < right)
        {
            var middle = left + ((right - left) / 2);
            if (_points[middle] < hash)
            {
                left = middle + 1;
            }
            else
            {
                right = middle;
            }
        }

        return _servers[right == _points.Length ? 0 : right];
    }

    /// <summary>The ketama key hash: the first four bytes of the key's MD5, little-endian.</summary>
    public static uint Hash(ReadOnlySpan<byte> key)
    {
        Span<byte> digest = stackalloc byte[16];
#pragma warning disable CA5351 // See above.
        MD5.HashData(key, digest);
#pragma warning restore CA5351
        return BinaryPrimitives.ReadUInt32LittleEndian(digest);
    }
}
