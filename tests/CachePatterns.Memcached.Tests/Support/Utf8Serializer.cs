using System.Buffers;
using System.Text;
using CachePatterns.Providers;
using CachePatterns.Serialization;

namespace CachePatterns.Memcached.Tests.Support;

public sealed class Utf8Serializer : ICacheSerializer<string>
{
    public void Serialize(string value, IBufferWriter<byte> target) => target.Write(Encoding.UTF8.GetBytes(value));

    public string Deserialize(ReadOnlySequence<byte> source)
    {
        var text = Encoding.UTF8.GetString(source);
        return text.StartsWith("CORRUPT", StringComparison.Ordinal) ? throw new FormatException("corrupt payload") : text;
    }
}

public sealed class RecordingObserver : ICacheStoreObserver
{
    public List<string> Corrupt { get; } = [];

    public void OnEvicted(CacheEvictionReason reason, int count)
    {
    }

    public void OnCorruptEntry(string key, Exception exception)
    {
        lock (Corrupt)
        {
            Corrupt.Add(key);
        }
    }
}
