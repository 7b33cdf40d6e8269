namespace SessionStore.Tests.Support;

/// <summary>Where the repository, the built app and the executables the tests start are.</summary>
public static class ProcessPaths
{
    /// <summary>The repository root (the folder holding CachePatterns.sln).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The build configuration of this test run (Release or Debug), read off the test assembly's folder.</summary>
    public static string Configuration { get; } =
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>The SessionStore app's dll, built by the test project's reference.</summary>
    public static string AppDll
    {
        get
        {
            var dll = Path.Combine(RepositoryRoot, "samples", "SessionStore", "bin", Configuration, "net10.0", "SessionStore.dll");
            return File.Exists(dll)
                ? dll
                : throw new InvalidOperationException($"The SessionStore app is not built at {dll}. Build it: dotnet build samples/SessionStore -c {Configuration}.");
        }
    }

    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CachePatterns.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No CachePatterns.sln above {AppContext.BaseDirectory}.");
    }
}
