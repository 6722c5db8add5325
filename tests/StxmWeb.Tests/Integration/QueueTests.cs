using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StxmWeb.Core.Scans;
using StxmWeb.Services;
using StxmWeb.Testing;

namespace StxmWeb.Tests.Integration;

/// <summary>The scan queue over the HTTP API: order, reorder, remove, hold after the current scan, and a restart.</summary>
[Trait("Category", "Integration")]
public sealed class QueueTests
{
    private static ScanRequest Image(string title, int rows = 6) =>
        ScanRequest.SampleImage(new AxisRegion(0, 10, 20), new AxisRegion(0, 10, rows), 1, 285) with { Title = title };

    private static async Task<Guid> AddAsync(HttpClient client, ScanRequest request)
    {
        var response = await client.PostAsJsonAsync("/api/queue", request, ScanDefinitionStore.Json, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("id").GetGuid();
    }

    private static async Task<JsonElement> QueueAsync(HttpClient client) =>
        JsonDocument.Parse(await client.GetStringAsync("/api/queue", TestContext.Current.CancellationToken)).RootElement;

    private static string?[] FinishedTitles(StxmAppFactory app) =>
        [.. app.Services.GetRequiredService<ControlService>().Runs.Where(r => r.IsFinished).OrderBy(r => r.StartTime).Select(r => r.Request.Title)];

    [Fact(Timeout = 180_000)]
    public async Task Queue_RunsInOrder_AfterReorderAndRemove()
    {
        using var app = new StxmAppFactory(timeScale: 20);
        using var client = new HttpClient { BaseAddress = app.BaseAddress };
        var ct = TestContext.Current.CancellationToken;
        await client.PostAsync("/api/queue/hold", null, ct);
        var a = await AddAsync(client, Image("A"));
        var b = await AddAsync(client, Image("B"));
        var c = await AddAsync(client, Image("C"));

        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsJsonAsync($"/api/queue/{c}/move", new { index = 0 }, ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/queue/{b}", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync($"/api/queue/{a}/move", new { index = 5 }, ct)).StatusCode);
        var items = (await QueueAsync(client)).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("request").GetProperty("title").GetString()).ToArray();
        Assert.Equal(["C", "A"], items);
        Assert.Empty(FinishedTitles(app));

        await client.PostAsync("/api/queue/release", null, ct);
        await Eventually.HoldsAsync(() => FinishedTitles(app).Length == 2, "both queued scans finish", TimeSpan.FromSeconds(60), ct);

        Assert.Equal(["C", "A"], FinishedTitles(app));
        Assert.Equal(0, (await QueueAsync(client)).GetProperty("items").GetArrayLength());
    }

    [Fact(Timeout = 180_000)]
    public async Task Hold_LetsTheCurrentScanFinish_AndStartsNoOther()
    {
        using var app = new StxmAppFactory(timeScale: 10);
        using var client = new HttpClient { BaseAddress = app.BaseAddress };
        var ct = TestContext.Current.CancellationToken;
        var control = app.Services.GetRequiredService<ControlService>();
        await AddAsync(client, Image("first", rows: 60));
        await AddAsync(client, Image("second"));
        await Eventually.HoldsAsync(() => control.CurrentRun is { IsFinished: false, Request.Title: "first" }, "the first scan starts", TimeSpan.FromSeconds(30), ct);

        await client.PostAsync("/api/queue/hold", null, ct);
        await Eventually.HoldsAsync(() => FinishedTitles(app).Length == 1, "the current scan finishes", TimeSpan.FromSeconds(60), ct);
        await Task.Delay(1500, ct);

        Assert.Equal(["first"], FinishedTitles(app));
        Assert.Equal("success", control.Runs.Single().State);
        var queue = await QueueAsync(client);
        Assert.True(queue.GetProperty("held").GetBoolean());
        Assert.Equal("second", queue.GetProperty("items")[0].GetProperty("request").GetProperty("title").GetString());
    }

    [Fact(Timeout = 180_000)]
    public async Task Queue_SurvivesARestart_AndComesBackHeld()
    {
        var dataDir = Directory.CreateTempSubdirectory("stxmweb-queue-").FullName;
        var ct = TestContext.Current.CancellationToken;
        try
        {
            using (var first = new StxmAppFactory(timeScale: 20, dataDir: dataDir))
            {
                using var client = new HttpClient { BaseAddress = first.BaseAddress };
                await client.PostAsync("/api/queue/hold", null, ct);
                await AddAsync(client, Image("kept 1"));
                await AddAsync(client, ScanRequest.Default(ScanType.SamplePointSpectrum) with { Title = "kept 2" });
            }

            using var second = new StxmAppFactory(timeScale: 20, dataDir: dataDir);
            using var again = new HttpClient { BaseAddress = second.BaseAddress };
            var queue = await QueueAsync(again);
            Assert.True(queue.GetProperty("held").GetBoolean());
            Assert.Equal(["kept 1", "kept 2"], queue.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("request").GetProperty("title").GetString()).ToArray());
            Assert.Equal("SamplePointSpectrum", queue.GetProperty("items")[1].GetProperty("request").GetProperty("scanType").GetString());

            await again.PostAsync("/api/queue/release", null, ct);
            await Eventually.HoldsAsync(() => FinishedTitles(second).Length == 2, "the restored scans run", TimeSpan.FromSeconds(90), ct);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task InvalidScan_NeverEntersTheQueue()
    {
        using var app = new StxmAppFactory(timeScale: 20);
        using var client = new HttpClient { BaseAddress = app.BaseAddress };
        var ct = TestContext.Current.CancellationToken;

        var response = await client.PostAsJsonAsync("/api/queue", ScanRequest.Default(ScanType.SampleImageStack) with { Energies = [] }, ScanDefinitionStore.Json, ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("energies", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        Assert.Equal(0, (await QueueAsync(client)).GetProperty("items").GetArrayLength());
    }
}
