namespace SessionStore.Data;

/// <summary>
/// The tables added for roles and orders, per dialect. New tables only (<c>CREATE TABLE IF NOT EXISTS</c>), so a
/// database created by an earlier version gains them on the next start without a migration.
/// </summary>
public static class ShopSchema
{
    public const string Sqlite = """
        CREATE TABLE IF NOT EXISTS user_roles (
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            PRIMARY KEY (name, role)
        );
        CREATE TABLE IF NOT EXISTS orders (
            id          TEXT    PRIMARY KEY,
            user_name   TEXT    NOT NULL,
            placed_at   TEXT    NOT NULL,
            total_cents INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS order_lines (
            order_id    TEXT    NOT NULL,
            product_id  INTEGER NOT NULL,
            name        TEXT    NOT NULL,
            quantity    INTEGER NOT NULL,
            price_cents INTEGER NOT NULL,
            PRIMARY KEY (order_id, product_id)
        );
        """;

    public const string PostgreSql = """
        CREATE TABLE IF NOT EXISTS user_roles (
            name text NOT NULL,
            role text NOT NULL,
            PRIMARY KEY (name, role)
        );
        CREATE TABLE IF NOT EXISTS orders (
            id          text   PRIMARY KEY,
            user_name   text   NOT NULL,
            placed_at   text   NOT NULL,
            total_cents bigint NOT NULL
        );
        CREATE TABLE IF NOT EXISTS order_lines (
            order_id    text   NOT NULL,
            product_id  bigint NOT NULL,
            name        text   NOT NULL,
            quantity    bigint NOT NULL,
            price_cents bigint NOT NULL,
            PRIMARY KEY (order_id, product_id)
        );
        """;

    /// <summary>MariaDB/MySQL (text keys need a length).</summary>
    public const string MariaDb = """
        CREATE TABLE IF NOT EXISTS user_roles (
            name VARCHAR(64) NOT NULL,
            role VARCHAR(64) NOT NULL,
            PRIMARY KEY (name, role)
        );
        CREATE TABLE IF NOT EXISTS orders (
            id          VARCHAR(64)  PRIMARY KEY,
            user_name   VARCHAR(64)  NOT NULL,
            placed_at   VARCHAR(40)  NOT NULL,
            total_cents BIGINT       NOT NULL
        );
        CREATE TABLE IF NOT EXISTS order_lines (
            order_id    VARCHAR(64)  NOT NULL,
            product_id  BIGINT       NOT NULL,
            name        VARCHAR(255) NOT NULL,
            quantity    BIGINT       NOT NULL,
            price_cents BIGINT       NOT NULL,
            PRIMARY KEY (order_id, product_id)
        );
        """;

    /// <summary>The demo accounts' roles (alice and bob are customers: no role).</summary>
    public static readonly IReadOnlyList<(string Name, string Role)> DemoRoles = [("ada", Security.Roles.Administrator)];
}
