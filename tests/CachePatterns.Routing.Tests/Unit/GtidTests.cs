using CachePatterns.Routing.MySql;

namespace CachePatterns.Routing.Tests.Unit;

public sealed class GtidTests
{
    [Theory]
    [InlineData("0-1-6", "0-1-6", "AtLeast")]
    [InlineData("0-1-7", "0-1-6", "AtLeast")]
    [InlineData("0-1-5", "0-1-6", "Older")]
    [InlineData("", "0-1-6", "Older")]
    [InlineData("0-1-6", "", "AtLeast")]
    [InlineData("0-2-7", "0-1-6", "AtLeast")] // after a failover the promoted node continues the sequence
    [InlineData("0-1-7", "0-2-7", "NotComparable")] // the same sequence number under two servers: diverged
    [InlineData("0-1-9,1-3-2", "1-3-3,0-1-2", "Older")]
    [InlineData("1-3-3,0-1-9", "0-1-2,1-3-3", "AtLeast")]
    [InlineData("0-1-9", "0-1-2,1-3-3", "Older")] // a domain the replica never saw
    public void MariaDb_positions_compare_per_domain_by_sequence(string replica, string required, string expected) =>
        Assert.Equal(expected, MariaDbGtidPosition.Parse(replica).CompareTo(MariaDbGtidPosition.Parse(required)).ToString());

    [Theory]
    [InlineData("0-1-8", "0-1-6", 1u, "AtLeast")] // the same primary wrote on
    [InlineData("0-2-8", "0-1-6", 2u, "AtLeast")] // read from node 2 right after its promotion; it wrote on
    [InlineData("0-1-8", "0-1-6", 2u, "NotComparable")] // kept two transactions of the failed primary that node 2 never got
    [InlineData("0-1-5", "0-1-6", 2u, "Older")]
    public void A_MariaDB_replica_past_a_primary_position_with_another_servers_transactions_diverged(string replica, string required, uint primary, string expected) =>
        Assert.Equal(expected, MariaDbGtidPosition.Parse(replica).CompareTo(MariaDbGtidPosition.Parse(required, primary)).ToString());

    [Fact]
    public void MariaDb_positions_merge_to_the_newest_of_each_domain_and_print_as_the_server_does()
    {
        var merged = MariaDbGtidPosition.Parse("1-3-2, 0-1-9").Merge(MariaDbGtidPosition.Parse("0-2-10,2-1-1"));

        Assert.Equal("0-2-10,1-3-2,2-1-1", merged.ToString());
        Assert.Equal(merged, MariaDbGtidPosition.Parse(merged.ToString()));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("0-1")]
    [InlineData("0-1-x")]
    [InlineData("0-1-2,0-2-3")]
    public void A_bad_MariaDB_position_is_refused_naming_it(string text)
    {
        var error = Assert.Throws<FormatException>(() => MariaDbGtidPosition.Parse(text));
        Assert.Contains(text, error.Message, StringComparison.Ordinal);
    }

    private const string A = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    private const string B = "4d22fb58-82db-22f2-af44-d91bbaa3a673";

    [Theory]
    [InlineData(A + ":1-10", A + ":1-10", "AtLeast")]
    [InlineData(A + ":1-10", A + ":3-7", "AtLeast")]
    [InlineData(A + ":1-9", A + ":1-10", "Older")]
    [InlineData(A + ":1-5:7-10", A + ":1-7", "Older")] // a multi-threaded replica's gap
    [InlineData(A + ":1-10", A + ":1-10," + B + ":1", "Older")]
    [InlineData(A + ":1-10," + B + ":1-3", A + ":1-10", "AtLeast")]
    [InlineData("", A + ":1", "Older")]
    [InlineData(A + ":1", "", "AtLeast")]
    public void MySql_sets_compare_by_inclusion(string replica, string required, string expected) =>
        Assert.Equal(expected, MySqlGtidSet.Parse(replica).CompareTo(MySqlGtidSet.Parse(required)).ToString());

    [Fact]
    public void MySql_sets_parse_as_the_server_prints_them_and_merge_as_unions()
    {
        var set = MySqlGtidSet.Parse(B + ":1-3,\n" + A.ToUpperInvariant() + ":1-5:6-8:12");
        var merged = set.Merge(MySqlGtidSet.Parse(A + ":9-11:20"));

        Assert.Equal(A + ":1-8:12," + B + ":1-3", set.ToString());
        Assert.Equal(A + ":1-12:20," + B + ":1-3", merged.ToString());
        Assert.Equal(A + ":1-3:tag_a:1-2", MySqlGtidSet.Parse(A + ":1-3:tag_a:1-2").ToString().Replace("," + A, string.Empty, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(A + ":1-12", A + ":1-10", A, "AtLeast")]
    [InlineData(A + ":1-10," + B + ":1-3", A + ":1-8", B, "NotComparable")] // A:9-10 were lost in the failover to B
    [InlineData(A + ":1-8," + B + ":1-3", A + ":1-8," + B + ":1", B, "AtLeast")]
    [InlineData(A + ":1-8", A + ":1-8," + B + ":1", B, "Older")]
    public void A_MySQL_replica_with_transactions_of_another_source_than_the_primary_diverged(string replica, string required, string primary, string expected) =>
        Assert.Equal(expected, MySqlGtidSet.Parse(replica).CompareTo(MySqlGtidSet.Parse(required, primary)).ToString());

    [Theory]
    [InlineData("not-a-uuid:1-3")]
    [InlineData(A + ":5-3")]
    [InlineData(A + ":0")]
    [InlineData(A)]
    public void A_bad_MySQL_set_is_refused_naming_it(string text)
    {
        var error = Assert.Throws<FormatException>(() => MySqlGtidSet.Parse(text));
        Assert.Contains(text, error.Message, StringComparison.Ordinal);
    }
}
