namespace CachePatterns.Tests.A
{
    public sealed record Product;
}

namespace CachePatterns.Tests.B
{
    public sealed record Product;
}
