using System.Net;
using System.Text.Json;
using StxmWeb.Testing;

namespace StxmWeb.Tests.Integration;

/// <summary>
/// The Bluesky import as users reach it: an upload to <c>/api/import/bluesky</c> over HTTP, its files in the data
/// directory's <c>imported/</c> (never replacing one), conformant to both validators; and the <c>import-bluesky</c>
/// command.
/// </summary>
[Trait("Category", "Integration")]
public sealed class BlueskyImportApiTests : IClassFixture<BlueskyImportApiTests.App>
{
    private readonly App _app;

    public BlueskyImportApiTests(App app) => _app = app;

    /// <summary>One app for the class.</summary>
    public sealed class App : IDisposable
    {
        public StxmAppFactory Factory { get; } = new(timeScale: 20);

        public void Dispose() => Factory.Dispose();
    }

    private static string Runs(string name) => Path.Combine(NexusValidator.SharedDirectory, "data", "pystxm-bluesky-runs", name + ".json");

    private async Task<HttpResponseMessage> UploadAsync(byte[] content, string name)
    {
        using var client = new HttpClient { BaseAddress = _app.Factory.BaseAddress };
        using var form = new MultipartFormDataContent { { new ByteArrayContent(content), "file", name } };
        return await client.PostAsync("/api/import/bluesky", form, TestContext.Current.CancellationToken);
    }

    [Fact(Timeout = 120_000)]
    public async Task AnUploadedStack_BecomesAFileInTheDataDirectory_AndASecondUpload_ANewOne()
    {
        var ct = TestContext.Current.CancellationToken;
        var content = await File.ReadAllBytesAsync(Runs("SAMPLE_IMAGE_STACK"), ct);

        var first = await UploadAsync(content, "SAMPLE_IMAGE_STACK.json");
        var second = await UploadAsync(content, "SAMPLE_IMAGE_STACK.json");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var body = JsonDocument.Parse(await first.Content.ReadAsStringAsync(ct)).RootElement;
        var file = Assert.Single(body.GetProperty("files").EnumerateArray());
        Assert.Equal(Path.Combine("imported", "SAMPLE_IMAGE_STACK.hdf5"), file.GetProperty("relativePath").GetString());
        Assert.Equal("SampleImageStack", file.GetProperty("scanType").GetString());
        Assert.Equal("success", file.GetProperty("status").GetString());
        Assert.Equal(3, file.GetProperty("runs").GetArrayLength());
        var entry = Assert.Single(file.GetProperty("entries").EnumerateArray());
        Assert.Equal([3, 25, 25], entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(["energy", "sample_y", "sample_x"], entry.GetProperty("axes").EnumerateArray().Select(e => e.GetString()));
        Assert.True(file.GetProperty("validation").GetProperty("valid").GetBoolean(), file.GetProperty("validation").ToString());
        var path = file.GetProperty("path").GetString()!;
        Assert.StartsWith(Path.GetFullPath(_app.Factory.DataDir), path, StringComparison.Ordinal);
        await NexusValidator.AssertConformsAsync(path, "uploaded stack");
        var h5 = await H5py.ReadAsync(path);
        Assert.Equal([720, 735.2, 750.4], h5.Doubles("/entry0/counter0/energy"));

        var again = JsonDocument.Parse(await second.Content.ReadAsStringAsync(ct)).RootElement;
        Assert.Equal(Path.Combine("imported", "SAMPLE_IMAGE_STACK-2.hdf5"), again.GetProperty("files")[0].GetProperty("relativePath").GetString());
        Assert.True(File.Exists(path), "the first import's file is kept");
    }

    [Fact(Timeout = 120_000)]
    public async Task AnUploadThatIsNotARecordedRun_IsRefused_SayingWhy()
    {
        var ct = TestContext.Current.CancellationToken;

        var notJson = await UploadAsync("{ nope"u8.ToArray(), "broken.json");
        var noMetadata = await UploadAsync("""{"abc": [["start", {"uid": "abc", "time": 1}]]}"""u8.ToArray(), "bare.json");
        using var client = new HttpClient { BaseAddress = _app.Factory.BaseAddress };
        using var noFile = new MultipartFormDataContent { { new StringContent("x"), "other" } };
        var empty = await client.PostAsync("/api/import/bluesky", noFile, ct);

        foreach (var (response, message) in new[] { (notJson, "not JSON"), (noMetadata, "no 'metadata'"), (empty, "A file is required") })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement;
            Assert.Contains(message, problem.GetProperty("errors").GetProperty("file")[0].GetString(), StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(Path.Combine(_app.Factory.DataDir, "imported")) && Directory.EnumerateFiles(Path.Combine(_app.Factory.DataDir, "imported"), "b*.hdf5").Any(),
            "a refused upload leaves no file");
    }

    [Fact(Timeout = 120_000)]
    public async Task TheImportCommand_WritesEachFile_PrintsItsShapes_AndExitsWithTheVerdict()
    {
        var output = Directory.CreateTempSubdirectory("stxmweb-import-cmd-").FullName;
        var broken = Path.Combine(output, "broken.json");
        await File.WriteAllTextAsync(broken, "[]", TestContext.Current.CancellationToken);

        var (good, text) = await StxmWebCommand.RunAsync("import-bluesky", "--out", output, Runs("TOMOGRAPHY_SCAN"), Runs("GENERIC_SCAN"));
        var (bad, badText) = await StxmWebCommand.RunAsync("import-bluesky", "--out", output, broken);
        var (usage, _) = await StxmWebCommand.RunAsync("import-bluesky");

        Assert.True(good == 0, text);
        Assert.Contains($"-> {Path.Combine(output, "TOMOGRAPHY_SCAN.hdf5")}: Tomography, 6 run(s), success; valid (NXstxm, 3 entries", text, StringComparison.Ordinal);
        Assert.Contains("  entry2: (2, 20, 20) axes [energy, sample_y, sample_x]", text, StringComparison.Ordinal);
        Assert.Contains("  entry0: (20) axes [goni_x]", text, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(output, "GENERIC_SCAN.hdf5")));
        Assert.Equal(1, bad);
        Assert.Contains("top level is a JSON array", badText, StringComparison.Ordinal);
        Assert.Equal(2, usage);
    }
}
