using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using StxmWeb.Testing;

namespace StxmWeb.Tests.Integration;

/// <summary>
/// The server process is killed with SIGKILL in the middle of a scan; the file it leaves must open in h5py and hold every
/// line acquired at least one second before the kill.
/// </summary>
[Trait("Category", "Integration")]
public sealed partial class CrashSafetyTests : IDisposable
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("stxmweb-crash-").FullName;

    [Fact(Timeout = 180_000)]
    public async Task KillMinus9_MidScan_LeavesAReadableFileWithEveryLineAcquiredASecondBefore()
    {
        var ct = TestContext.Current.CancellationToken;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        foreach (var arg in new[] { typeof(Program).Assembly.Location, "--Urls=http://127.0.0.1:0", $"--Instrument:DataDir={_dataDir}", "--Instrument:TimeScale=1" })
        {
            start.ArgumentList.Add(arg);
        }

        using var server = Process.Start(start)!;
        try
        {
            var address = await ReadAddressAsync(server, ct);

            // Keep draining the server's output so its logging never blocks on a full pipe.
            var output = server.StandardOutput.ReadToEndAsync(ct);
            var errors = server.StandardError.ReadToEndAsync(ct);
            using var client = new HttpClient { BaseAddress = address };

            // 60 lines of 40 points at 2 ms: about 6 s in real time.
            var post = await client.PostAsJsonAsync("/api/scans", new
            {
                x = new { center = 0, range = 20, points = 40 },
                y = new { center = 0, range = 20, points = 60 },
                dwellMs = 2,
                energyEv = 285.2,
            }, ct);
            var accepted = await post.Content.ReadFromJsonAsync<JsonElement>(ct);
            var url = accepted.GetProperty("status").GetString()!;
            var path = accepted.GetProperty("filePath").GetString()!;

            long safePixels = 0;
            await Eventually.HoldsAsync(async () =>
            {
                safePixels = (await client.GetFromJsonAsync<JsonElement>(url, ct)).GetProperty("completedPixels").GetInt64();
                return safePixels >= 400;
            }, "400 pixels acquired by the server process", cancellationToken: ct);

            // Everything acquired up to now must survive a kill one second (or more) later.
            await Task.Delay(TimeSpan.FromSeconds(1.2), ct);
            var beforeKill = (await client.GetFromJsonAsync<JsonElement>(url, ct)).GetProperty("state").GetString();
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync(ct);
            await Task.WhenAll(output, errors);

            Assert.Equal("running", beforeKill);
            var file = await H5py.ReadAsync(path);
            var data = file.Doubles("/entry0/counter0/data");
            var rows = (int)(safePixels / 40);
            Assert.All(data[..(rows * 40)], v => Assert.False(double.IsNaN(v)));
            Assert.Contains(data, double.IsNaN);
            Assert.Equal("running", file.Item("/entry0/collection/exit_status").GetProperty("value").Text());

            // What a crash leaves is still a conformant NXstxm file (marked running, the rest NaN).
            await NexusValidator.AssertConformsAsync(path, "killed mid-scan");
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task<Uri> ReadAddressAsync(Process server, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (await server.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (AddressPattern().Match(line) is { Success: true } match)
            {
                return new Uri(match.Groups[1].Value);
            }
        }

        throw new InvalidOperationException($"The server exited before it listened: {await server.StandardError.ReadToEndAsync(ct)}");
    }

    [GeneratedRegex(@"is running at (http://127\.0\.0\.1:\d+)")]
    private static partial Regex AddressPattern();

    public void Dispose() => Directory.Delete(_dataDir, recursive: true);
}
