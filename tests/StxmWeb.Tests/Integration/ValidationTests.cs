using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StxmWeb.Core.Scans;
using StxmWeb.Services;
using StxmWeb.Testing;

namespace StxmWeb.Tests.Integration;

/// <summary>
/// Validation of saved files as users meet it: every run's file validated as soon as it is final (StxmWeb's validator
/// and, configured as pyStxm's PATH_TO_CNXVALIDATE, the NIAC's), the verdict in the run history; the API that
/// validates a file of the data directory or an upload; the <c>validate</c> command.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ValidationTests : IClassFixture<ValidationTests.App>
{
    private readonly App _app;

    public ValidationTests(App app) => _app = app;

    /// <summary>The app, with the NIAC's validator configured.</summary>
    public sealed class App : IDisposable
    {
        public StxmAppFactory Factory { get; } = new(timeScale: 20, settings: new Dictionary<string, string>
        {
            ["Instrument:Validation:Cnxvalidate"] = NexusValidator.Program,
        });

        public void Dispose() => Factory.Dispose();
    }

    private HttpClient Client() => new() { BaseAddress = _app.Factory.BaseAddress };

    private async Task<JsonElement> RunAsync(ScanRequest request)
    {
        var ct = TestContext.Current.CancellationToken;
        var control = _app.Factory.Services.GetRequiredService<ControlService>();
        await control.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(60), ct);
        using var client = Client();
        var post = await client.PostAsJsonAsync("/api/scans", request, ScanDefinitionStore.Json, ct);
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        var url = (await post.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("status").GetString()!;
        JsonElement run = default;
        await Eventually.HoldsAsync(async () =>
        {
            run = await client.GetFromJsonAsync<JsonElement>(url, ct);
            return run.GetProperty("validation").ValueKind == JsonValueKind.Object;
        }, "the run's file to be validated", TimeSpan.FromSeconds(120), ct);
        return run;
    }

    [Fact(Timeout = 180_000)]
    public async Task EverySavedFile_IsValidated_ByBothValidators_AndTheVerdictIsInTheHistory()
    {
        var run = await RunAsync(ScanRequest.SampleImage(new(0, 10, 20), new(0, 10, 10), 1, 285.2));

        var validation = run.GetProperty("validation");
        Assert.True(validation.GetProperty("valid").GetBoolean(), validation.ToString());
        Assert.StartsWith("valid (NXstxm, 1 entry", validation.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Contains("passed validation", validation.GetProperty("niac").GetString(), StringComparison.Ordinal);
        Assert.True(validation.GetProperty("niacValid").GetBoolean());
    }

    [Fact(Timeout = 180_000)]
    public async Task TheApi_ValidatesAFileOfTheDataDirectory_AndRefusesOthers()
    {
        var ct = TestContext.Current.CancellationToken;
        var run = await RunAsync(ScanRequest.Default(ScanType.SamplePointSpectrum) with { Energies = [new(284, 290, 7, 5)] });
        using var client = Client();
        var path = run.GetProperty("filePath").GetString()!;
        var relative = Path.GetRelativePath(_app.Factory.DataDir, path);

        var report = await client.GetFromJsonAsync<JsonElement>($"/api/files/validate?path={Uri.EscapeDataString(relative)}", ct);
        var outside = await client.GetAsync("/api/files/validate?path=/etc/passwd", ct);
        var missing = await client.GetAsync("/api/files/validate?path=nothing.hdf5", ct);

        Assert.True(report.GetProperty("valid").GetBoolean(), report.ToString());
        Assert.Equal(["entry0", "entry1"], report.GetProperty("entries").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, outside.StatusCode);
        Assert.Contains("data directory", await outside.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact(Timeout = 180_000)]
    public async Task AnUploadedFile_IsValidated_AndItsFaultsNamed()
    {
        var ct = TestContext.Current.CancellationToken;
        var broken = Path.Combine(Directory.CreateTempSubdirectory("stxmweb-upload-test-").FullName, "broken.hdf5");
        await File.WriteAllTextAsync(broken, "not HDF5 at all", ct);
        using var client = Client();
        using var form = new MultipartFormDataContent { { new ByteArrayContent(await File.ReadAllBytesAsync(broken, ct)), "file", "broken.hdf5" } };

        var response = await client.PostAsync("/api/files/validate", form, ct);
        var report = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        var empty = await client.PostAsync("/api/files/validate", new MultipartFormDataContent(), ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(report.GetProperty("valid").GetBoolean());
        Assert.Equal("broken.hdf5", report.GetProperty("file").GetString());
        Assert.Contains("cannot be read as HDF5", report.GetProperty("findings")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
    }

    [Fact(Timeout = 180_000)]
    public async Task TheValidateCommand_PrintsEachFilesVerdict_AndExitsWithIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var run = await RunAsync(ScanRequest.SampleImage(new(0, 10, 8), new(0, 10, 4), 2, 285.2));
        var good = run.GetProperty("filePath").GetString()!;
        var bad = Path.Combine(Directory.CreateTempSubdirectory("stxmweb-validate-cmd-").FullName, "bad.hdf5");
        await File.WriteAllTextAsync(bad, "not HDF5", ct);

        var (allGood, goodText) = await ValidateCommandAsync(good);
        var (someBad, badText) = await ValidateCommandAsync(good, bad);
        var (usage, _) = await ValidateCommandAsync();

        Assert.Equal(0, allGood);
        Assert.Contains($"{good}: valid (NXstxm, 1 entry", goodText, StringComparison.Ordinal);
        Assert.Equal(1, someBad);
        Assert.Contains($"{bad}: 1 error", badText, StringComparison.Ordinal);
        Assert.Contains("error: /: The file cannot be read as HDF5", badText, StringComparison.Ordinal);
        Assert.Equal(2, usage);
    }

    private static Task<(int ExitCode, string Output)> ValidateCommandAsync(params string[] files) => StxmWebCommand.RunAsync(["validate", .. files]);
}
