using System.Diagnostics;
using Rag.Testing;

namespace Rag.Api.Tests.Cli;

/// <summary>Configuration arguments on every command, and the data folder where the command runs.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class CliSettingsTests
{
    [Fact]
    public async Task A_configuration_argument_takes_effect_on_a_command()
    {
        using var data = new TempDir();
        using var docs = new TempDir();
        await File.WriteAllTextAsync(Path.Combine(docs.Path, "etna.txt"), Documents.DocumentsEndToEndTests.Volcano);

        var (refused, output, err) = await CliTests.RunAsync("ingest", docs.Path, "--Rag:Limits:MaxUploadBytes=100", "--data", data.Path);
        Assert.True(refused == 2, err + output); // refused by the limit the argument set
        Assert.Contains("refused", output);
        Assert.Contains("larger than the", output);

        var (accepted, acceptedOut, acceptedErr) = await CliTests.RunAsync("ingest", docs.Path, "--data", data.Path);
        Assert.True(accepted == 0, acceptedErr + acceptedOut); // the default limit: indexed
    }

    [Fact]
    public async Task Configuration_arguments_are_not_mistaken_for_unknown_options()
    {
        using var data = new TempDir();
        var (code, _, err) = await CliTests.RunAsync("keys", "list", "--Logging:LogLevel:Default=Warning", "--data", data.Path);
        Assert.True(code == 0, err);
        var (unknown, _, unknownErr) = await CliTests.RunAsync("keys", "list", "--no-such-option", "--data", data.Path);
        Assert.NotEqual(0, unknown);
        Assert.Contains("--no-such-option", unknownErr);
    }

    [Fact]
    public async Task The_data_folder_is_relative_to_the_directory_the_command_runs_in()
    {
        using var cwd = new TempDir();
        var (code, output) = await RunAsync(cwd.Path, "dotnet", Path.Combine(AppContext.BaseDirectory, "rag.dll"), "keys", "create", "--tenant", "here");
        Assert.True(code == 0, output);
        Assert.True(Directory.Exists(Path.Combine(cwd.Path, "data")), output);

        // `dotnet run --project src/Api` from anywhere runs in that directory, not in the project folder (the Web SDK's default).
        var project = Path.Combine(RepositoryRoot(), "src", "Api", "Rag.Api.csproj");
        var (msbuild, workingDirectory) = await RunAsync(cwd.Path, "dotnet", "msbuild", project, "-getProperty:RunWorkingDirectory");
        Assert.True(msbuild == 0, workingDirectory);
        Assert.Equal(Path.GetFullPath(cwd.Path).TrimEnd('/'), workingDirectory.Trim().TrimEnd('/'));
    }

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Rag.sln"))) return dir.FullName;
        throw new InvalidOperationException("Rag.sln not found above " + AppContext.BaseDirectory);
    }

    static async Task<(int Code, string Output)> RunAsync(string workingDirectory, string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment.Remove("RAG_DATA");
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
