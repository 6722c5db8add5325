using System.Diagnostics;

namespace StxmWeb.Testing;

/// <summary>Runs StxmWeb's built program as a child process with arguments (its commands: validate, import-bluesky).</summary>
public static class StxmWebCommand
{
    /// <summary>Runs <c>StxmWeb ARGS...</c>; returns its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var ct = TestContext.Current.CancellationToken;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var errors = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        return (process.ExitCode, await output + await errors);
    }
}
