using System.Diagnostics;

namespace CachePatterns.Redis.Tests.Support;

/// <summary>A private CA and a server certificate for 127.0.0.1/localhost signed by it, made with openssl for the test.</summary>
public sealed record TlsFiles(string CertificateAuthority, string ServerCertificate, string ServerKey)
{
    /// <summary>Makes a CA (<c>ca.crt</c>) and a server certificate signed by it in <paramref name="directory"/>.</summary>
    public static TlsFiles Create(string directory, string name = "test")
    {
        var openssl = RedisServer.FindOnPath("openssl") ?? throw new InvalidOperationException(
            "openssl is not on PATH: the TLS tests make their certificates with it (Debian: apt-get install openssl).");
        Directory.CreateDirectory(directory);
        string P(string file) => Path.Combine(directory, $"{name}-{file}");
        File.WriteAllText(P("ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
        Run(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", P("ca.key"), "-out", P("ca.crt"), "-days", "2", "-subj", $"/CN=CachePatterns {name} CA");
        Run(openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", P("server.key"), "-out", P("server.csr"), "-subj", "/CN=localhost");
        Run(openssl, "x509", "-req", "-in", P("server.csr"), "-CA", P("ca.crt"), "-CAkey", P("ca.key"), "-CAcreateserial", "-out", P("server.crt"), "-days", "2", "-extfile", P("ext"));
        return new TlsFiles(P("ca.crt"), P("server.crt"), P("server.key"));
    }

    private static void Run(string executable, params string[] arguments)
    {
        var start = new ProcessStartInfo(executable) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(60_000) || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"openssl {string.Join(' ', arguments)} failed: {error.Result}");
        }
    }
}
