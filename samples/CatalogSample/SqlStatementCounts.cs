namespace CatalogSample;

/// <summary>How many SQL statements the repository ran, by kind.</summary>
public readonly record struct SqlStatementCounts(long SingleSelects, long BatchSelects, long Writes)
{
    public long Total => SingleSelects + BatchSelects + Writes;

    public static SqlStatementCounts operator -(SqlStatementCounts left, SqlStatementCounts right) =>
        new(left.SingleSelects - right.SingleSelects, left.BatchSelects - right.BatchSelects, left.Writes - right.Writes);

    public SqlStatementCounts Subtract(SqlStatementCounts other) => this - other;
}
