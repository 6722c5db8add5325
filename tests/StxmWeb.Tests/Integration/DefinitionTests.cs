using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StxmWeb.Core.Scans;
using StxmWeb.Services;
using StxmWeb.Testing;

namespace StxmWeb.Tests.Integration;

/// <summary>Scan definitions as data: last-used per type and user, and the request read back from an NXstxm file.</summary>
[Trait("Category", "Integration")]
public sealed class DefinitionTests
{
    [Fact(Timeout = 180_000)]
    public async Task AScanStarted_BecomesTheLastUsedOfItsType_AndItsFileGivesTheRequestBack()
    {
        using var app = new StxmAppFactory(timeScale: 20);
        using var client = new HttpClient { BaseAddress = app.BaseAddress };
        var ct = TestContext.Current.CancellationToken;
        var request = ScanRequest.Default(ScanType.SampleLineSpectrum) with
        {
            Title = "definition round trip",
            Line = new LineRegion(-10, 2, 10, 2, 21),
            Energies = [new EnergyRegion(284, 286, 5, 2), new EnergyRegion(287, 290, 4, 3)],
            Polarizations = [new PolarizationSetting(Polarization.LinInc, 0.5, 30)],
        };
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/scan-definitions/last/SampleLineSpectrum", ct)).StatusCode);

        var post = await client.PostAsJsonAsync("/api/scans", request, ScanDefinitionStore.Json, ct);
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        var path = JsonDocument.Parse(await post.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("filePath").GetString()!;
        await app.Services.GetRequiredService<ControlService>().WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(60), ct);

        var last = await client.GetFromJsonAsync<ScanRequest>("/api/scan-definitions/last/SampleLineSpectrum", ScanDefinitionStore.Json, ct);
        Assert.Equal(Json(request), Json(last!));

        // The file keeps the request (collection/scan_request, in pieces when long): reload it to run the same scan again.
        var relative = Path.GetRelativePath(app.DataDir, path);
        var fromFile = await client.GetFromJsonAsync<ScanRequest>($"/api/scan-definitions/from-file?path={Uri.EscapeDataString(relative)}", ScanDefinitionStore.Json, ct);
        Assert.Equal(Json(request), Json(fromFile!));

        // Only the data directory is readable through the API.
        var outside = await client.GetAsync("/api/scan-definitions/from-file?path=%2Fetc%2Fpasswd", ct);
        Assert.Equal(HttpStatusCode.BadRequest, outside.StatusCode);
    }

    private static string Json(ScanRequest request) => JsonSerializer.Serialize(request, ScanDefinitionStore.Json);
}
