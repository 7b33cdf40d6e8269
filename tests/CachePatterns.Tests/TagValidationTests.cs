namespace CachePatterns.Tests;

/// <summary>What a tag may be (<see cref="CacheTags"/>): bad tags fail with a message naming them, never silently.</summary>
public sealed class TagValidationTests
{
    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "white space")]
    [InlineData("*", "reserved")]
    [InlineData("a\nb", "control")]
    public void A_bad_tag_is_refused_with_a_message_naming_it(string tag, string reason)
    {
        var entry = Assert.ThrowsAny<ArgumentException>(() => new CacheEntryOptions { Tags = ["ok", tag] });
        Assert.Contains(reason, entry.Message, StringComparison.Ordinal);
        Assert.Equal("Tags", entry.ParamName);
    }

    [Fact]
    public void A_tag_longer_than_the_limit_is_refused_and_the_limit_itself_is_allowed()
    {
        var error = Assert.Throws<ArgumentException>(() => CacheTags.Validate(new string('x', CacheTags.MaxLength + 1)));
        Assert.Contains($"{CacheTags.MaxLength + 1}", error.Message, StringComparison.Ordinal);
        CacheTags.Validate(new string('x', CacheTags.MaxLength));
        Assert.Throws<ArgumentNullException>(() => CacheTags.Validate(null));
    }

    [Fact]
    public void Duplicate_tags_are_dropped()
    {
        Assert.Equal(["a", "b"], new CacheEntryOptions { Tags = ["a", "b", "a"] }.Tags!.Order());
    }

    [Fact]
    public async Task Invalidating_the_wildcard_or_an_empty_tag_throws()
    {
        using var host = Support.TestCacheHost.Create(_ => { });
        var cache = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<ICache>(host.Services);
        await Assert.ThrowsAsync<ArgumentException>(async () => await cache.InvalidateTagAsync(CacheTags.Wildcard));
        await Assert.ThrowsAsync<ArgumentException>(async () => await cache.InvalidateTagAsync(""));
    }
}
