using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using StxmWeb.Live;
using StxmWeb.Testing;

namespace StxmWeb.Tests.Integration;

/// <summary>The app over real sockets: HTTP API, SignalR live hub (MessagePack), and the NXstxm file read with h5py.</summary>
[Trait("Category", "Integration")]
public sealed class ScanApiTests : IClassFixture<ScanApiTests.App>
{
    private readonly App _app;

    public ScanApiTests(App app) => _app = app;

    /// <summary>One app for the class: the instrument runs one scan at a time, so these tests run in sequence.</summary>
    public sealed class App : IDisposable
    {
        public StxmAppFactory Factory { get; } = new();

        public void Dispose() => Factory.Dispose();
    }

    /// <summary>A client, once the instrument is idle (a scan left by another test has ended).</summary>
    private HttpClient Client()
    {
        var control = _app.Factory.Services.GetRequiredService<StxmWeb.Services.ControlService>();
        control.Abort(new StxmWeb.Services.Caller("test", "test"));
        control.WhenIdleAsync().Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        return new HttpClient { BaseAddress = _app.Factory.BaseAddress };
    }

    private static object Request(int nx, int ny, double dwell = 1, string mode = "Line") => new
    {
        x = new { center = 0, range = 20, points = nx },
        y = new { center = 0, range = 16, points = ny },
        dwellMs = dwell,
        energyEv = 285.2,
        mode,
        title = "integration",
    };

    private static async Task<JsonElement> WaitUntilFinishedAsync(HttpClient client, string url)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var run = await client.GetFromJsonAsync<JsonElement>(url, TestContext.Current.CancellationToken);
            if (run.GetProperty("state").GetString() is "success" or "aborted" or "failed")
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the run did not finish: {run}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task PostScan_LiveClientGetsEveryLine_AndTheFileHoldsTheSameData()
    {
        using var client = Client();
        var live = new LiveClient(_app.Factory.BaseAddress);
        await live.StartAsync();
        var posted = DateTimeOffset.UtcNow;

        var response = await client.PostAsJsonAsync("/api/scans", Request(30, 12), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var url = accepted.GetProperty("status").GetString()!;
        Assert.Equal(url, response.Headers.Location?.OriginalString);

        var run = await WaitUntilFinishedAsync(client, url);
        await live.StoppedAsync(accepted.GetProperty("id").GetString()!).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await live.DisposeAsync();

        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal(1.0, run.GetProperty("progress").GetDouble());
        var path = run.GetProperty("filePath").GetString()!;
        Assert.StartsWith(_app.Factory.DataDir, path, StringComparison.Ordinal);
        Assert.Matches(@"A\d{6}\d{3}\.hdf5$", path);

        Assert.Equal(accepted.GetProperty("id").GetString(), live.RunId);
        Assert.Equal(30 * 12, live.Pixels.Count);
        Assert.Equal("Success", live.Status);

        // Every lines message carries the server's clock as it made it (same machine, same clock): this run's, after the
        // scan was posted and no later than the client had it. (A client that joins between runs is first sent the last
        // run, in messages made while that one ran.)
        var stamps = live.Stamps.Where(s => s.RunId == live.RunId).ToList();
        Assert.NotEmpty(stamps);
        Assert.All(stamps, s => Assert.InRange(s.Sent, posted.AddMilliseconds(-5), s.Received.AddMilliseconds(5)));

        var file = await H5py.ReadAsync(path);
        Assert.Equal([1, 12, 30], file.Shape("/entry0/counter0/data"));
        var data = file.Doubles("/entry0/counter0/data");
        Assert.All(data, v => Assert.True(v > 0));
        foreach (var ((row, col), value) in live.Pixels)
        {
            Assert.Equal(data[row * 30 + col], value, 0);
        }

        Assert.Equal("success", file.Item("/entry0/collection/exit_status").GetProperty("value").Text());
        Assert.Equal("integration", file.Item("/entry0/title").GetProperty("value").Text());
        await NexusValidator.AssertConformsAsync(path);
    }

    [Fact(Timeout = 180_000)]
    public async Task PostScan_InvalidRequest_Is400WithEveryBadField_AndNothingRuns()
    {
        using var client = Client();
        var before = (await client.GetFromJsonAsync<JsonElement>("/api/scans", TestContext.Current.CancellationToken)).GetArrayLength();

        var response = await client.PostAsJsonAsync("/api/scans", new
        {
            x = new { center = 0, range = 200, points = 0 },
            y = new { center = 0, range = 10, points = 10 },
            dwellMs = 0,
            energyEv = 285,
        }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("x.points", out _));
        Assert.True(errors.TryGetProperty("x.range", out _));
        Assert.True(errors.TryGetProperty("dwellMs", out _));
        var after = (await client.GetFromJsonAsync<JsonElement>("/api/scans", TestContext.Current.CancellationToken)).GetArrayLength();
        Assert.Equal(before, after);
    }

    [Fact(Timeout = 180_000)]
    public async Task PostScan_WhileOneRuns_Is409_AndAbortEndsTheRunKeepingItsFile()
    {
        using var client = Client();
        var first = await client.PostAsJsonAsync("/api/scans", Request(50, 200, dwell: 2), TestContext.Current.CancellationToken);
        var url = (await first.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("status").GetString()!;

        var second = await client.PostAsJsonAsync("/api/scans", Request(40, 10), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);

        await Task.Delay(300, TestContext.Current.CancellationToken);
        var abort = await client.PostAsync("/api/scans/current/abort", null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, abort.StatusCode);
        var run = await WaitUntilFinishedAsync(client, url);

        Assert.Equal("aborted", run.GetProperty("state").GetString());
        Assert.Contains("Aborted by", run.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var file = await H5py.ReadAsync(run.GetProperty("filePath").GetString()!);
        var data = file.Doubles("/entry0/counter0/data");
        Assert.Contains(data, v => !double.IsNaN(v));
        Assert.Contains(data, double.IsNaN);
        Assert.Equal("aborted", file.Item("/entry0/collection/exit_status").GetProperty("value").Text());
    }

    [Fact(Timeout = 180_000)]
    public async Task PauseAndResume_OverTheApi_FinishTheScan()
    {
        using var client = Client();
        // Long enough (about 2 s at the 10x clock) that the pause lands before the last line, even on a loaded machine.
        var post = await client.PostAsJsonAsync("/api/scans", Request(20, 400, dwell: 2), TestContext.Current.CancellationToken);
        var url = (await post.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("status").GetString()!;

        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/scans/current/pause", null, TestContext.Current.CancellationToken)).StatusCode);
        JsonElement paused = default;
        await Eventually.HoldsAsync(async () =>
        {
            paused = await client.GetFromJsonAsync<JsonElement>(url, TestContext.Current.CancellationToken);
            return paused.GetProperty("state").GetString() == "paused";
        }, "the run to pause", cancellationToken: TestContext.Current.CancellationToken);

        var pixels = paused.GetProperty("completedPixels").GetInt64();
        await Task.Delay(300, TestContext.Current.CancellationToken);
        var still = await client.GetFromJsonAsync<JsonElement>(url, TestContext.Current.CancellationToken);
        Assert.Equal(pixels, still.GetProperty("completedPixels").GetInt64());
        Assert.Equal(0, pixels % 20);

        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/scans/current/resume", null, TestContext.Current.CancellationToken)).StatusCode);
        var run = await WaitUntilFinishedAsync(client, url);
        Assert.Equal("success", run.GetProperty("state").GetString());
    }

    [Fact(Timeout = 180_000)]
    public async Task Motors_ListMoveAndRefuse()
    {
        using var client = Client();
        var motors = await client.GetFromJsonAsync<JsonElement>("/api/motors", TestContext.Current.CancellationToken);
        Assert.Contains(motors.EnumerateArray(), m => m.GetProperty("name").GetString() == "SampleFineX");

        var move = await client.PostAsJsonAsync("/api/motors/OsaX/move", new { target = 12.5 }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, move.StatusCode);
        await Eventually.HoldsAsync(async () =>
        {
            var list = await client.GetFromJsonAsync<JsonElement>("/api/motors", TestContext.Current.CancellationToken);
            var position = list.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "OsaX").GetProperty("position").GetDouble();
            return Math.Abs(position - 12.5) <= 1e-9;
        }, "OsaX at 12.5", cancellationToken: TestContext.Current.CancellationToken);

        var beyond = await client.PostAsJsonAsync("/api/motors/OsaX/move", new { target = 99999 }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, beyond.StatusCode);
        Assert.Contains("target", await beyond.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        var unknown = await client.PostAsJsonAsync("/api/motors/Nope/move", new { target = 1 }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/motors/OsaX/stop", null, TestContext.Current.CancellationToken)).StatusCode);

        // Leave the instrument as found: OsaX back at 0 and settled, so the next test's scan is not refused as busy.
        await client.PostAsJsonAsync("/api/motors/OsaX/move", new { target = 0 }, TestContext.Current.CancellationToken);
        var control = _app.Factory.Services.GetRequiredService<StxmWeb.Services.ControlService>();
        await Eventually.HoldsAsync(() => control.Instrument.Find("OsaX")!.Status is { IsMoving: false, Position: 0 },
            "OsaX back at 0", cancellationToken: TestContext.Current.CancellationToken);
        await Task.Delay(100, TestContext.Current.CancellationToken); // the settle time after arrival
    }

    [Fact(Timeout = 180_000)]
    public async Task HealthAndOpenApi_AreServed()
    {
        using var client = Client();

        Assert.Equal("Healthy", await client.GetStringAsync("/healthz", TestContext.Current.CancellationToken));
        var openApi = await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
        Assert.Contains("/api/scans", openApi, StringComparison.Ordinal);
        Assert.Contains("/api/motors", openApi, StringComparison.Ordinal);
    }

    [Theory(Timeout = 180_000)]
    [InlineData(10, 10, 8, 4, false)] // 25 × 40 binned by 4 to fit 10 × 10, windowed to 8 bits
    [InlineData(0, 0, 16, 1, false)] // full resolution, windowed to 16 bits
    [InlineData(13, 20, 32, 2, false)] // binned by 2, float32
    [InlineData(13, 20, 32, 2, true)] // the same, named in the hub URL as the browser's viewer does
    [InlineData(10, 10, 16, 4, true)]
    public async Task ALighterStream_IsBinnedToTheView_AndWindowed_WithinItsQuantization(int width, int height, int bits, int bin, bool inUrl)
    {
        using var client = Client();
        var hub = new Uri(_app.Factory.BaseAddress, inUrl ? $"/hubs/live?maxWidth={width}&maxHeight={height}&bits={bits}" : "/hubs/live");
        await using var connection = new HubConnectionBuilder().WithUrl(hub).AddMessagePackProtocol().Build();
        var pixels = new System.Collections.Concurrent.ConcurrentDictionary<(int Row, int Column), double>();
        var steps = new System.Collections.Concurrent.ConcurrentBag<double>();
        string? runId = null;
        int[]? bins = null;
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.On<string>("runStart", json =>
        {
            using var doc = JsonDocument.Parse(json);
            runId = doc.RootElement.GetProperty("runId").GetString();
            bins = [.. doc.RootElement.GetProperty("bin").EnumerateArray().Select(b => b.GetInt32())];
            pixels.Clear();
        });
        void Take(int[] header, Func<int, double> value)
        {
            var offset = 0;
            for (var i = 0; i < header.Length; i += LiveBroadcaster.HeaderStride)
            {
                for (var k = 0; k < header[i + 4]; k++)
                {
                    pixels[(header[i + 2], header[i + 3] + k)] = value(offset++);
                }
            }
        }

        connection.On<string, int[], byte[], double>("lines", (_, header, payload, _) => Take(header, k => BinaryPrimitives.ReadSingleLittleEndian(payload.AsSpan(k * 4))));
        connection.On<string, int[], byte[], float, float, int, double>("linesq", (_, header, codes, low, high, b, _) =>
        {
            Assert.Equal(bits, b);
            var top = b == 16 ? ushort.MaxValue : byte.MaxValue;
            steps.Add((high - low) / (top - 1));
            Take(header, k =>
            {
                var code = b == 16 ? BinaryPrimitives.ReadUInt16LittleEndian(codes.AsSpan(k * 2)) : codes[k];
                return code == top ? double.NaN : low + (code * (high - low) / (top - 1));
            });
        });
        connection.On<string, string, string>("runStop", (id, _, _) =>
        {
            if (id == runId)
            {
                stopped.TrySetResult();
            }
        });
        await connection.StartAsync(TestContext.Current.CancellationToken);
        if (!inUrl)
        {
            await connection.InvokeAsync("SetView", width, height, bits, TestContext.Current.CancellationToken);
        }

        var post = await client.PostAsJsonAsync("/api/scans", Request(25, 40), TestContext.Current.CancellationToken);
        var started = await post.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var run = await WaitUntilFinishedAsync(client, started.GetProperty("status").GetString()!);
        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(bin, Assert.Single(bins!));
        var (rows, columns) = ((40 + bin - 1) / bin, (25 + bin - 1) / bin);
        Assert.Equal(rows * columns, pixels.Count);
        var file = await H5py.ReadAsync(run.GetProperty("filePath").GetString()!);
        var data = file.Doubles("/entry0/counter0/data");
        var tolerance = (bits == 32 ? 0.01 : steps.Max() / 2) + 1e-3;
        foreach (var ((row, column), value) in pixels)
        {
            var block = from r in Enumerable.Range(row * bin, bin).Where(r => r < 40)
                        from c in Enumerable.Range(column * bin, bin).Where(c => c < 25)
                        select data[r * 25 + c];
            var expected = block.Average();
            Assert.True(Math.Abs(value - expected) <= tolerance * Math.Max(1, bits == 32 ? Math.Abs(expected) * 1e-6 : 1),
                $"pixel ({row}, {column}): received {value}, the file's mean is {expected} (tolerance {tolerance})");
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData("bits=12", "bits: 12 is not 32, 16 or 8.")]
    [InlineData("maxWidth=wide&maxHeight=10", "maxWidth: 'wide' is not a whole number.")]
    [InlineData("maxWidth=-3&maxHeight=10", "maxWidth, maxHeight: must be 0")]
    public async Task ABadViewInTheHubUrl_ClosesTheConnection_NamingTheField(string query, string reason)
    {
        await using var connection = new HubConnectionBuilder().WithUrl(new Uri(_app.Factory.BaseAddress, $"/hubs/live?{query}")).AddMessagePackProtocol().Build();
        var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += error =>
        {
            closed.TrySetResult(error);
            return Task.CompletedTask;
        };
        try
        {
            await connection.StartAsync(TestContext.Current.CancellationToken);
        }
        catch (Exception ex) when (ex is Microsoft.AspNetCore.SignalR.HubException or InvalidOperationException)
        {
            closed.TrySetResult(ex);
        }

        var error = await closed.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.NotNull(error);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task ViewersThatOpenTogetherAfterARun_ShareItsSeed_AndEachGetsEveryPixelOnce_AsInTheFile()
    {
        using var client = Client();
        var post = await client.PostAsJsonAsync("/api/scans", Request(25, 40), TestContext.Current.CancellationToken);
        var started = await post.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var run = await WaitUntilFinishedAsync(client, started.GetProperty("status").GetString()!);
        var id = started.GetProperty("id").GetString()!;
        var data = (await H5py.ReadAsync(run.GetProperty("filePath").GetString()!)).Doubles("/entry0/counter0/data");

        // Five viewers open at once (the run so far is made once for all of them), then one more after they have it.
        var viewers = Enumerable.Range(0, 5).Select(_ => new LiveClient(_app.Factory.BaseAddress)).ToList();
        await Task.WhenAll(viewers.Select(v => v.StartAsync()));
        await Task.WhenAll(viewers.Select(v => v.StoppedAsync(id))).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var last = new LiveClient(_app.Factory.BaseAddress);
        await last.StartAsync();
        await last.StoppedAsync(id).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        viewers.Add(last);
        foreach (var viewer in viewers)
        {
            await viewer.DisposeAsync();
            Assert.Equal(id, viewer.RunId);
            Assert.Equal("Success", viewer.Status);
            Assert.Equal(0, viewer.Doubled);
            Assert.Equal(25 * 40, viewer.Pixels.Count);
            foreach (var ((row, column), value) in viewer.Pixels)
            {
                Assert.Equal((float)data[(row * 25) + column], value);
            }
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task LateJoiners_AtRandomMoments_ReceiveEveryPixelOnce()
    {
        using var client = Client();
        var post = await client.PostAsJsonAsync("/api/scans", Request(25, 40, dwell: 2), TestContext.Current.CancellationToken);
        var started = await post.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var url = started.GetProperty("status").GetString()!;
        await Eventually.HoldsAsync(async () =>
        {
            var progress = await client.GetFromJsonAsync<JsonElement>(url, TestContext.Current.CancellationToken);
            return progress.GetProperty("completedPixels").GetInt64() >= 250 || progress.GetProperty("state").GetString() != "running";
        }, "250 pixels", cancellationToken: TestContext.Current.CancellationToken);

        var live = new LiveClient(_app.Factory.BaseAddress);
        await live.StartAsync();

        // More viewers join at random moments of the same scan.
        var random = new Random(7);
        var joiners = new List<LiveClient>();
        for (var i = 0; i < 3; i++)
        {
            await Task.Delay(random.Next(50, 400), TestContext.Current.CancellationToken);
            var joiner = new LiveClient(_app.Factory.BaseAddress);
            await joiner.StartAsync();
            joiners.Add(joiner);
        }

        await WaitUntilFinishedAsync(client, url);
        var id = started.GetProperty("id").GetString()!;
        foreach (var viewer in joiners.Prepend(live))
        {
            await viewer.StoppedAsync(id).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            await viewer.DisposeAsync();
            Assert.Equal(25 * 40, viewer.Pixels.Count);
            Assert.Equal(0, viewer.Doubled);
        }
    }
}
