using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.ChannelAccess.Protocol;
using StxmWeb.ChannelAccess.Server;

namespace StxmWeb.ChannelAccess.Tests.Interop;

/// <summary>The npm package epics-tca (an independent JavaScript CA client) against StxmWeb's CA server.</summary>
[Trait("Category", "Interop")]
public sealed class EpicsTcaAgainstOurServerTests : IAsyncLifetime
{
    private const string Version = "1.1.31";
    private static readonly Lazy<string> Package = new(Install, LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly ProcessVariable _energy = new("TCA:ENERGY", DbrValue.Of(285.2));
    private readonly ProcessVariable _waveform = new("TCA:WF", new DbrValue { Base = DbrBase.Long, Values = Enumerable.Range(0, 50).ToArray() });
    private CaServer? _server;

    public async ValueTask InitializeAsync()
    {
        _server = new CaServer([_energy, _waveform], NullLogger<CaServer>.Instance);
        await _server.StartAsync(IPAddress.Loopback);
    }

    [Fact]
    public async Task GetPutAndWaveform_FromJavaScript()
    {
        var script = """
            const { Context } = require('epics-tca');
            (async () => {
              const context = new Context();
              await context.initialize();
              const energy = await context.createChannel('TCA:ENERGY');
              const wf = await context.createChannel('TCA:WF');
              // epics-tca 1.1 returns { value } (a number, or an array for waveforms).
              const first = (d) => Array.isArray(d.value) ? d.value[0] : d.value;
              const before = first(await energy.get());
              await energy.put([300.5]);
              const after = first(await energy.get());
              const waveform = (await wf.get()).value;
              console.log(JSON.stringify({ before, after, length: waveform.length, last: waveform[waveform.length - 1] }));
              context.destroyHard();
              process.exit(0);
            })().catch(e => { console.error(e); process.exit(1); });
            """;

        var output = await NodeAsync(script);

        Assert.Contains("\"before\":285.2", output, StringComparison.Ordinal);
        Assert.Contains("\"after\":300.5", output, StringComparison.Ordinal);
        Assert.Contains("\"length\":50", output, StringComparison.Ordinal);
        Assert.Contains("\"last\":49", output, StringComparison.Ordinal);
        Assert.Equal(300.5, ((double[])_energy.Value.Values)[0]);
    }

    private async Task<string> NodeAsync(string script)
    {
        var folder = Package.Value;
        var file = Path.Combine(folder, $"script-{Guid.NewGuid():N}.js");
        await File.WriteAllTextAsync(file, script, TestContext.Current.CancellationToken);
        try
        {
            var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
            start.ArgumentList.Add(file);
            EpicsBase.Point(start, _server!.Port);
            using var process = Process.Start(start)!;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, $"node failed: {await stderr}");
            return await stdout;
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Installs epics-tca once into artifacts/epics-tca (the npm registry is reachable from CI).</summary>
    private static string Install()
    {
        var folder = Path.Combine(EpicsBase.RepositoryRoot, "artifacts", "epics-tca");
        if (File.Exists(Path.Combine(folder, "node_modules", "epics-tca", "package.json")))
        {
            return folder;
        }

        Directory.CreateDirectory(folder);
        var start = new ProcessStartInfo("npm") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        foreach (var arg in new[] { "install", "--no-audit", "--no-fund", "--prefix", folder, $"epics-tca@{Version}" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("npm is not installed; it is needed to install epics-tca.");
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm install epics-tca@{Version} failed: {error}");
        }

        return folder;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
