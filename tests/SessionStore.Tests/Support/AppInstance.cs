using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SessionStore.Tests.Support;

/// <summary>
/// One SessionStore process (<c>dotnet SessionStore.dll --urls http://127.0.0.1:port ...</c>), ready once its
/// <c>/healthz</c> answers 200. Its output is kept for failure messages; it is killed by its handle on dispose.
/// </summary>
public sealed class AppInstance : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly StringBuilder _output = new();
    private Process? _process;

    private AppInstance(string name) => Name = name;

    public string Name { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static Task<AppInstance> StartAsync(string name, params string[] switches) => StartWithSchemeAsync(name, Uri.UriSchemeHttp, switches);

    /// <summary>Starts an instance on <paramref name="scheme"/> (https needs a certificate among the switches).</summary>
    public static Task<AppInstance> StartWithSchemeAsync(string name, string scheme, params string[] switches)
    {
        var dll = ProcessPaths.AppDll;
        return LaunchAsync(name, scheme, Path.GetDirectoryName(dll)!, [dll], ["--Logging:LogLevel:Default", "Warning", .. switches]);
    }

    /// <summary>
    /// Starts an instance the way README.md says, from the repository root: <c>dotnet run --project samples/SessionStore</c>
    /// (with <c>--no-build</c>: the test project's reference built it), its own logging settings untouched.
    /// </summary>
    public static Task<AppInstance> StartWithDotnetRunFromRepositoryRootAsync(string name, params string[] switches) =>
        LaunchAsync(
            name,
            Uri.UriSchemeHttp,
            ProcessPaths.RepositoryRoot,
            ["run", "--no-build", "-c", ProcessPaths.Configuration, "--project", Path.Combine("samples", "SessionStore"), "--"],
            switches);

    private static async Task<AppInstance> LaunchAsync(string name, string scheme, string workingDirectory, string[] command, string[] switches)
    {
        var instance = new AppInstance(name);
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort.Next();
            instance.BaseAddress = new Uri($"{scheme}://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
            var start = new ProcessStartInfo("dotnet")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = workingDirectory,
            };
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            start.Environment["DOTNET_NOLOGO"] = "1";
            foreach (var arg in command.Concat(["--urls", instance.BaseAddress.ToString().TrimEnd('/')]).Concat(switches))
            {
                start.ArgumentList.Add(arg);
            }

            instance._process = Process.Start(start)!;
            instance._process.OutputDataReceived += instance.Record;
            instance._process.ErrorDataReceived += instance.Record;
            instance._process.BeginOutputReadLine();
            instance._process.BeginErrorReadLine();
            if (await instance.WaitUntilHealthyAsync())
            {
                return instance;
            }

            var exited = instance._process.HasExited;
            instance.Kill();
            if (!exited || attempt == 3 || !instance.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"SessionStore instance {name} did not answer /healthz at {instance.BaseAddress} within {StartTimeout.TotalSeconds} s " +
                    $"({(exited ? "it exited" : "still running")}). Its output:\n{instance.Output}");
            }
        }
    }

    /// <summary>Runs the app with <paramref name="switches"/> until it exits by itself (a start-up failure); returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunUntilExitAsync(params string[] switches)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(ProcessPaths.AppDll)!,
        };
        foreach (var arg in new[] { ProcessPaths.AppDll, "--urls", $"http://127.0.0.1:{FreePort.Next().ToString(CultureInfo.InvariantCulture)}" }.Concat(switches))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"The app did not exit within {StartTimeout.TotalSeconds} s with switches {string.Join(' ', switches)}.");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    public Uri Url(string pathAndQuery) => new(BaseAddress, pathAndQuery);

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }

    private async Task<bool> WaitUntilHealthyAsync()
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) }; // only ever 127.0.0.1, with the test's own certificate
        return await Wait.UntilAsync(async () =>
        {
            if (_process!.HasExited)
            {
                return true;
            }

            try
            {
                using var response = await client.GetAsync(Url("/healthz"));
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException)
            {
                return false;
            }
        }, StartTimeout) && !_process!.HasExited;
    }

    private void Record(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is not null)
        {
            lock (_output)
            {
                _output.AppendLine(e.Data);
            }
        }
    }

    private void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        _process = null;
    }
}
