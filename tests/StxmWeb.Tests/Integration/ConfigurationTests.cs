using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using StxmWeb.Options;
using StxmWeb.Simulation;
using StxmWeb.Testing;

namespace StxmWeb.Tests.Integration;

[Trait("Category", "Integration")]
public sealed class ConfigurationTests
{
    /// <summary>Starts the real server executable and returns its exit code and output (it must exit by itself).</summary>
    private static async Task<(int ExitCode, string Output)> RunServerAsync(IDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The server did not stop by itself on a bad configuration.");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact(Timeout = 180_000)]
    public async Task BadValueOnTheCommandLine_StopsStartUp_WithOneMessageNamingTheKey()
    {
        var (code, output) = await RunServerAsync(new Dictionary<string, string>(), "--Instrument:FilePrefix=9x", "--Urls=http://127.0.0.1:0");

        Assert.Equal(2, code);
        Assert.Contains("Instrument:FilePrefix: must be 1 to 8 letters; got '9x'.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task BadValueFromAnEnvironmentVariable_NamesTheKey()
    {
        var (code, output) = await RunServerAsync(new Dictionary<string, string> { ["STXMWEB_Instrument__TimeScale"] = "0" }, "--Urls=http://127.0.0.1:0");

        Assert.Equal(2, code);
        Assert.Contains("Instrument:TimeScale: must be between 1 and 10000; got 0.", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task UnknownProfile_IsNamed()
    {
        var (code, output) = await RunServerAsync(new Dictionary<string, string> { ["STXMWEB_PROFILE"] = "nowhere" }, "--Urls=http://127.0.0.1:0");

        Assert.Equal(2, code);
        Assert.Contains("no beamline profile 'nowhere'", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public void Validator_ChecksPositioners_ByIndexedKey()
    {
        var options = new InstrumentOptions();
        options.Positioners.AddRange(SimulationOptions.Standard().Positioners);
        options.Positioners[2].High = options.Positioners[2].Low - 1;

        var result = new InstrumentOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("Instrument:Positioners:2:High:", StringComparison.Ordinal));
    }

    [Fact(Timeout = 180_000)]
    public async Task Settings_OverrideTheProfile()
    {
        using var app = new StxmAppFactory(settings: new Dictionary<string, string> { ["Instrument:FilePrefix"] = "C" });
        using var client = new HttpClient { BaseAddress = app.BaseAddress };

        var response = await client.PostAsJsonAsync("/api/scans", new
        {
            x = new { center = 0, range = 10, points = 10 },
            y = new { center = 0, range = 10, points = 4 },
            dwellMs = 1,
            energyEv = 285,
        }, TestContext.Current.CancellationToken);

        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Matches(@"/C\d{9}\.hdf5$", accepted.GetProperty("filePath").GetString());
    }
}
