using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using StxmWeb.Testing;

namespace StxmWeb.Tests.Integration;

/// <summary>
/// Scale-out with a real redis-server (Debian's, started here): viewers connected to a second StxmWeb instance, one that
/// is started after the scan began, see the scan run by the first instance whole: the part before they joined, then
/// the live tail, every pixel once and equal to the first instance's file.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RedisScaleOutTests : IAsyncLifetime
{
    private Process? _redis;
    private int _port;

    public async ValueTask InitializeAsync()
    {
        const string Server = "/usr/bin/redis-server";
        Assert.True(File.Exists(Server), $"{Server} is missing: install Debian's redis-server (tests/run does).");
        _port = SimIocProcess.FreePort();
        var start = new ProcessStartInfo(Server) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--port", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        _redis = Process.Start(start)!;
        _ = _redis.StandardOutput.ReadToEndAsync();
        _ = _redis.StandardError.ReadToEndAsync();
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", _port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, "redis-server listening", cancellationToken: TestContext.Current.CancellationToken);
    }

    [Fact(Timeout = 180_000)]
    public async Task ASecondInstance_StartedMidScan_ShowsTheFirstInstancesScan_WholeAndOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var settings = new Dictionary<string, string> { ["Live:Redis"] = $"127.0.0.1:{_port}" };
        using var first = new StxmAppFactory(timeScale: 4, settings: settings);
        using var client = new HttpClient { BaseAddress = first.BaseAddress };
        var post = await client.PostAsJsonAsync("/api/scans", new
        {
            x = new { center = 0, range = 20, points = 25 },
            y = new { center = 0, range = 16, points = 40 },
            dwellMs = 2,
            energyEv = 285.2,
            title = "scale-out",
        }, ct);
        var started = await post.Content.ReadFromJsonAsync<JsonElement>(ct);
        var url = started.GetProperty("status").GetString()!;
        var id = started.GetProperty("id").GetString()!;
        await Eventually.HoldsAsync(async () =>
        {
            var progress = await client.GetFromJsonAsync<JsonElement>(url, ct);
            return progress.GetProperty("completedPixels").GetInt64() >= 250;
        }, "250 pixels on the first instance", cancellationToken: ct);

        // The second instance starts while the scan runs; its viewers join at once and a little later.
        using var second = new StxmAppFactory(timeScale: 4, settings: settings);
        var viewers = new List<LiveClient>();
        for (var i = 0; i < 2; i++)
        {
            var viewer = new LiveClient(second.BaseAddress);
            await viewer.StartAsync();
            viewers.Add(viewer);
            await Task.Delay(300, ct);
        }

        var run = await WaitUntilFinishedAsync(client, url, ct);
        Assert.Equal("success", run.GetProperty("state").GetString());
        var file = await H5py.ReadAsync(run.GetProperty("filePath").GetString()!);
        var data = file.Doubles("/entry0/counter0/data");
        foreach (var viewer in viewers)
        {
            await viewer.StoppedAsync(id).WaitAsync(TimeSpan.FromSeconds(30), ct);
            await viewer.DisposeAsync();
            Assert.Equal(id, viewer.RunId);
            Assert.Equal("Success", viewer.Status);
            Assert.Equal(25 * 40, viewer.Pixels.Count);
            Assert.Equal(0, viewer.Doubled);
            foreach (var ((row, column), value) in viewer.Pixels)
            {
                Assert.Equal(data[row * 25 + column], value, 0);
            }
        }

        // The second instance only showed the run: it wrote no file of it.
        Assert.Empty(Directory.EnumerateFiles(second.DataDir, "*.hdf5", SearchOption.AllDirectories));
    }

    private static async Task<JsonElement> WaitUntilFinishedAsync(HttpClient client, string url, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var run = await client.GetFromJsonAsync<JsonElement>(url, ct);
            if (run.GetProperty("state").GetString() is "success" or "aborted" or "failed")
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the run did not finish: {run}");
            await Task.Delay(100, ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is { HasExited: false })
        {
            _redis.Kill();
            await _redis.WaitForExitAsync();
        }

        _redis?.Dispose();
    }
}
