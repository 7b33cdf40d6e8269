using System.Text.RegularExpressions;

namespace CachePatterns.Routing.Internal;

/// <summary>Finds reads that take row locks (<c>FOR UPDATE</c>, <c>FOR NO KEY UPDATE</c>, <c>FOR SHARE</c>, <c>FOR KEY SHARE</c>; MySQL/MariaDB <c>LOCK IN SHARE MODE</c>), which only the writer can run.</summary>
internal static partial class LockingReadDetector
{
    public static bool TakesLocks(string sql) =>
        (sql.Contains("FOR", StringComparison.OrdinalIgnoreCase) || sql.Contains("LOCK", StringComparison.OrdinalIgnoreCase)) && LockingClause().IsMatch(sql);

    [GeneratedRegex(@"\bFOR\s+(NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b|\bLOCK\s+IN\s+SHARE\s+MODE\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LockingClause();
}
