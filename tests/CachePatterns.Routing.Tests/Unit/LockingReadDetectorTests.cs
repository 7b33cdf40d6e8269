using CachePatterns.Routing.Internal;

namespace CachePatterns.Routing.Tests.Unit;

public sealed class LockingReadDetectorTests
{
    [Theory]
    [InlineData("SELECT * FROM t WHERE id = 1 FOR UPDATE", true)]
    [InlineData("select * from t for no key update skip locked", true)]
    [InlineData("SELECT * FROM t FOR SHARE", true)]
    [InlineData("SELECT * FROM t\nFOR\tKEY SHARE", true)]
    [InlineData("SELECT * FROM t WHERE id = 1 LOCK IN SHARE MODE", true)]
    [InlineData("SELECT * FROM t WHERE id = 1", false)]
    [InlineData("SELECT block, in_share FROM lock_modes", false)]
    [InlineData("SELECT format, form_update FROM t", false)]
    [InlineData("SELECT * FROM platform_updates", false)]
    public void Finds_row_locking_clauses_only(string sql, bool locks)
    {
        Assert.Equal(locks, LockingReadDetector.TakesLocks(sql));
    }
}
