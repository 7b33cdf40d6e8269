using System.Data;
using System.Data.Common;
using CachePatterns.Routing.Internal;
using Dapper;

namespace CachePatterns.Routing;

/// <summary>
/// One-line Dapper calls through a <see cref="RoutingDataSource"/>: queries on a reader (on the writer when they take row
/// locks), executes and transactions on the writer. Connection failures become a <see cref="RoutingException"/> that says
/// whether a retry is safe.
/// </summary>
public static class RoutingDapperExtensions
{
    /// <summary>Runs a query on a replica chosen for <paramref name="consistency"/> (on the writer when it has <c>FOR UPDATE</c>/<c>FOR SHARE</c>).</summary>
    /// <typeparam name="T">The row type.</typeparam>
    /// <param name="router">The router.</param>
    /// <param name="sql">The query.</param>
    /// <param name="param">The parameters.</param>
    /// <param name="consistency">What the read must see; <see langword="null"/> for the scope's or the default.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The rows.</returns>
    public static ValueTask<IReadOnlyList<T>> QueryAsync<T>(this RoutingDataSource router, string sql, object? param = null, ReadConsistency? consistency = null, CancellationToken cancellationToken = default) =>
        Read(router, sql, consistency, async (connection, ct) => (IReadOnlyList<T>)(await connection.QueryAsync<T>(new CommandDefinition(sql, param, cancellationToken: ct)).ConfigureAwait(false)).AsList(), cancellationToken);

    /// <summary>Runs a query on a reader (as <see cref="QueryAsync{T}"/>) and returns its first row, or <see langword="default"/>.</summary>
    /// <typeparam name="T">The row type.</typeparam>
    /// <param name="router">The router.</param>
    /// <param name="sql">The query.</param>
    /// <param name="param">The parameters.</param>
    /// <param name="consistency">What the read must see; <see langword="null"/> for the scope's or the default.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The first row, or <see langword="default"/>.</returns>
    public static ValueTask<T?> QueryFirstOrDefaultAsync<T>(this RoutingDataSource router, string sql, object? param = null, ReadConsistency? consistency = null, CancellationToken cancellationToken = default) =>
        Read(router, sql, consistency, (connection, ct) => connection.QueryFirstOrDefaultAsync<T>(new CommandDefinition(sql, param, cancellationToken: ct)), cancellationToken);

    /// <summary>Runs a statement on the writer; the write counts for read-your-writes and for cache fills.</summary>
    /// <param name="router">The router.</param>
    /// <param name="sql">The statement.</param>
    /// <param name="param">The parameters.</param>
    /// <param name="cancellationToken">Cancels the statement.</param>
    /// <returns>The number of rows affected.</returns>
    public static ValueTask<int> ExecuteAsync(this RoutingDataSource router, string sql, object? param = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        return router.RunAsync(
            onWriter: true,
            consistency: null,
            (connection, ct) => connection.ExecuteAsync(new CommandDefinition(sql, param, cancellationToken: ct)),
            cancellationToken);
    }

    /// <summary>Runs a statement on the writer and returns the first column of its first row (<c>INSERT ... RETURNING id</c>).</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="router">The router.</param>
    /// <param name="sql">The statement.</param>
    /// <param name="param">The parameters.</param>
    /// <param name="cancellationToken">Cancels the statement.</param>
    /// <returns>The value.</returns>
    public static ValueTask<T?> ExecuteScalarAsync<T>(this RoutingDataSource router, string sql, object? param = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        return router.RunAsync(
            onWriter: true,
            consistency: null,
            (connection, ct) => connection.ExecuteScalarAsync<T>(new CommandDefinition(sql, param, cancellationToken: ct)),
            cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction on the writer and commits it. Every statement of it, reads included,
    /// runs on the writer. A connection failure before the commit is safe to retry; one during the commit is
    /// <see cref="RetrySafety.Unknown"/>.
    /// </summary>
    /// <typeparam name="T">The work's result.</typeparam>
    /// <param name="router">The router.</param>
    /// <param name="work">The statements; pass the transaction to each Dapper call.</param>
    /// <param name="isolationLevel">The transaction's isolation level.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>What <paramref name="work"/> returned.</returns>
    public static ValueTask<T> InTransactionAsync<T>(
        this RoutingDataSource router,
        Func<DbConnection, DbTransaction, CancellationToken, ValueTask<T>> work,
        IsolationLevel isolationLevel = IsolationLevel.ReadCommitted,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(work);
        return router.RunInTransactionAsync(isolationLevel, work, cancellationToken);
    }

    private static ValueTask<T> Read<T>(RoutingDataSource router, string sql, ReadConsistency? consistency, Func<DbConnection, CancellationToken, Task<T>> query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        return router.RunAsync(OnWriter(router, sql), consistency, query, cancellationToken);
    }

    private static bool OnWriter(RoutingDataSource router, string sql)
    {
        if (!LockingReadDetector.TakesLocks(sql))
        {
            return false;
        }

        router.CountLockingRead();
        return true;
    }
}
