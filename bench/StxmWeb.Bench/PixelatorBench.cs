using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.Core.Scans;
using StxmWeb.Core.Timing;
using StxmWeb.Nexus;
using StxmWeb.Pixelator.Protocol;
using StxmWeb.Pixelator.Server;

namespace StxmWeb.Bench;

/// <summary>
/// The Pixelator live path, end to end: a controller publishing scanLineData (a <see cref="PixelatorServer"/> that
/// paces lines at a set rate and notes when each left), StxmWeb as its own process on the Pixelator backend, and a
/// SignalR MessagePack viewer (the browsers' protocol) noting when each line arrived. Publisher and viewer share this
/// process, so both read one monotonic clock. Reports line messages per second taken by the backend and delivered to
/// the viewer, latency from the controller's publish to the viewer (p50/p95/p99/max), lines lost, the server's CPU and
/// RSS, and whether StxmWeb's file holds every line.
/// Usage: StxmWeb.Bench pixelator [output.md]
/// </summary>
internal static class PixelatorBench
{
    private const int Width = 500;

    public static async Task<int> RunAsync(string[] args)
    {
        var output = args.Length > 0 ? args[0] : null;
        var rows = new List<string>();
        var notes = new List<string>();
        foreach (var (rate, lines) in new (double Rate, int Lines)[] { (1000, 4000), (1000, 4000), (0, 4000) })
        {
            var result = await OneRunAsync(rate, lines);
            rows.Add(result.Row);
            notes.Add(result.Note);
            Console.WriteLine(result.Row);
        }

        var report = new StringBuilder()
            .AppendLine("# Pixelator live path: controller publish → StxmWeb → viewer")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC")
            .AppendLine(CultureInfo.InvariantCulture, $"- Machine: {BenchMachine.Describe()}")
            .AppendLine("- Command: `dotnet run -c Release --project bench/StxmWeb.Bench -- pixelator bench/results/pixelator-live.md`")
            .AppendLine(CultureInfo.InvariantCulture, $"- A sample image of {Width} pixels per line: the controller side is a ZeroMQ PixelatorServer (StxmWeb's own protocol code) publishing one scanLineData per line, paced by a precise timer (rate 0 = as fast as it can), and noting each publish time. StxmWeb runs as its own process with `Instrument:Backend=Pixelator` (release build) and writes its NXstxm file; one SignalR MessagePack client (the browsers' protocol, .NET HubConnection) on /hubs/live notes each line's arrival. Publisher and viewer share one process and one monotonic clock; the three share the machine's 2 cores.")
            .AppendLine("- Latency = viewer receipt − controller publish, per line; it includes the live path's 15 ms batching of lines into one message. Target of the issue: measured at 1000 lines/s.")
            .AppendLine()
            .AppendLine("| rate asked (lines/s) | lines | taken by the backend (lines/s) | delivered to the viewer (lines/s) | latency p50 | p95 | p99 | max | lines lost | server CPU (% of one core) | server RSS, peak | file complete |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            report.AppendLine(row);
        }

        report.AppendLine();
        foreach (var note in notes.Where(n => n.Length > 0).Distinct())
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        }

        Console.WriteLine();
        Console.WriteLine(report);
        if (output is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
            await File.WriteAllTextAsync(output, report.ToString());
        }

        return 0;
    }

    private sealed record Result(string Row, string Note);

    private static async Task<Result> OneRunAsync(double rate, int lines)
    {
        var published = new long[lines];
        var controller = new PacedController(rate, published);
        await using var server = new PixelatorServer(new PixelatorServerOptions { Address = "127.0.0.1", PublisherPort = 0, RequestPort = 0, DataPublisherPort = 0 },
            controller.Handle, NullLogger<PixelatorServer>.Instance);
        controller.Server = server;
        using var heartbeat = new CancellationTokenSource();
        var beating = controller.HeartbeatAsync(heartbeat.Token);

        var dataDir = Directory.CreateTempSubdirectory("stxmweb-pixelator-bench-").FullName;
        var port = FreePort();
        using var stxmweb = StartStxmWeb(port, server, dataDir);
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        using var http = new HttpClient { BaseAddress = baseAddress };
        await WaitForAsync(async () => (await http.GetAsync("healthz")).IsSuccessStatusCode, "StxmWeb to start", TimeSpan.FromSeconds(60));

        var received = new long[lines];
        var arrivals = 0;
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        string? runId = null;
        await using var viewer = new HubConnectionBuilder().WithUrl(new Uri(baseAddress, "hubs/live")).AddMessagePackProtocol().Build();
        viewer.On<string>("runStart", json => runId = JsonDocument.Parse(json).RootElement.GetProperty("runId").GetString());
        viewer.On<string, int[], byte[]>("lines", (id, header, _) =>
        {
            var now = Stopwatch.GetTimestamp();
            if (id != runId)
            {
                return;
            }

            for (var i = 0; i < header.Length; i += 5)
            {
                var row = header[i + 2];
                if (row < lines && header[i + 4] == Width && Interlocked.CompareExchange(ref received[row], now, 0) == 0)
                {
                    Interlocked.Increment(ref arrivals);
                }
            }
        });
        viewer.On<string, string, string>("runStop", (id, status, _) =>
        {
            if (id == runId)
            {
                done.TrySetResult(status);
            }
        });
        await viewer.StartAsync();

        var cpuBefore = CpuSeconds(stxmweb.Id);
        var wall = Stopwatch.StartNew();
        var request = ScanRequest.SampleImage(new AxisRegion(0, 40, Width), new AxisRegion(0, 40, lines), 0.2, 285.2);
        var post = await http.PostAsJsonAsync("api/scans", request, StxmWeb.Services.ScanDefinitionStore.Json);
        if (post.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"The scan was refused: {await post.Content.ReadAsStringAsync()}");
        }

        var accepted = JsonDocument.Parse(await post.Content.ReadAsStringAsync()).RootElement;
        var status = await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
        wall.Stop();
        var cpu = CpuSeconds(stxmweb.Id) - cpuBefore;
        var rss = PeakRssMiB(stxmweb.Id);

        // The run's record: when the backend took the last line (frames in), and the file.
        var run = JsonDocument.Parse(await http.GetStringAsync(accepted.GetProperty("status").GetString()!)).RootElement;
        var filePath = run.GetProperty("filePath").GetString()!;
        var fileComplete = FileComplete(filePath, lines);

        await heartbeat.CancelAsync();
        await beating;
        stxmweb.Kill();
        await stxmweb.WaitForExitAsync();
        Directory.Delete(dataDir, recursive: true);

        var latencies = Enumerable.Range(0, lines).Where(i => received[i] != 0 && published[i] != 0)
            .Select(i => Stopwatch.GetElapsedTime(published[i], received[i]).TotalMilliseconds).Order().ToArray();
        var firstPublish = published.Where(p => p != 0).DefaultIfEmpty().Min();
        var lastPublish = published.Max();
        var lastReceipt = received.Max();
        var publishSeconds = Stopwatch.GetElapsedTime(firstPublish, lastPublish).TotalSeconds;
        var deliverSeconds = Stopwatch.GetElapsedTime(firstPublish, lastReceipt).TotalSeconds;
        var lost = lines - arrivals;
        string P(double q) => latencies.Length == 0 ? "–" : $"{latencies[(int)Math.Min(latencies.Length - 1, Math.Floor(q * latencies.Length))]:F1} ms";
        var row = FormattableString.Invariant(
            $"| {(rate > 0 ? rate.ToString("F0", CultureInfo.InvariantCulture) : "as fast as possible")} | {lines} | {lines / publishSeconds:F0} | {arrivals / deliverSeconds:F0} | {P(0.5)} | {P(0.95)} | {P(0.99)} | {(latencies.Length > 0 ? latencies[^1] : 0):F1} ms | {lost} | {100 * cpu / wall.Elapsed.TotalSeconds:F0} | {rss:F0} MiB | {(fileComplete ? "yes" : "NO")} ({status}) |");
        var note = rate > 0 && publishSeconds > 0 && lines / publishSeconds < 0.98 * rate
            ? FormattableString.Invariant($"At {rate} lines/s asked the publisher reached {lines / publishSeconds:F0}/s (the machine was busy).")
            : "";
        return new Result(row, note);
    }

    private static Process StartStxmWeb(int port, PixelatorServer server, string dataDir)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "StxmWeb.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        foreach (var arg in new[]
        {
            dll, $"--Urls=http://127.0.0.1:{port}", "--Instrument:Backend=Pixelator", $"--Instrument:DataDir={dataDir}",
            $"--Instrument:Pixelator:SubPort={server.PublisherPort}", $"--Instrument:Pixelator:ReqPort={server.RequestPort}",
            $"--Instrument:Pixelator:DataPort={server.DataPublisherPort}", "--Logging:LogLevel:Default=Warning",
        })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }

    private static bool FileComplete(string path, int lines)
    {
        try
        {
            var data = NxstxmReader.Read(path).Data;
            return data.Length == lines * Width && !data.Any(double.IsNaN);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }

            await Task.Delay(100);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>User + system CPU time of a process, from /proc/pid/stat (clock ticks of 10 ms).</summary>
    private static double CpuSeconds(int pid)
    {
        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static double PeakRssMiB(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0).FirstOrDefault();

    /// <summary>
    /// The controller side of the bench: answers initialize with a sample stage and an energy, and on scanRequest
    /// publishes scanStarted, one scanLineData per line at the asked rate (noting when each left), and scanFinished.
    /// </summary>
    private sealed class PacedController(double rate, long[] published)
    {
        private int _scanning;

        public PixelatorServer Server { get; set; } = null!;

        public PixelatorReply Handle(PixelatorRequest request) => request switch
        {
            InitializeRequest => new InitializeReply(
                [Axis("SampleX", "(μm)", -5000, 5000), Axis("SampleY", "(μm)", -5000, 5000), Axis("Energy", "(eV)", 100, 2500), Axis("Zoneplate", "(μm)", -20000, 0)],
                [new DetectorDefinition("Counter0", "counts")], new OscilloscopeDefinition(), new ZonePlateDefinition(), new RemoteFileSystemInfo { Directory = "/tmp" }, "bench controller").ToReply(),
            RecordedChannelsRequest => PixelatorReply.Ok(),
            StartScanRequest scan when Interlocked.Exchange(ref _scanning, 1) == 0 => Start(scan.Scan),
            StartScanRequest => PixelatorReply.Error("A scan is already running."),
            _ => PixelatorReply.Ok(),
        };

        public async Task HeartbeatAsync(CancellationToken cancellationToken)
        {
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    Server.Publish(new PositionerStatusMessage([new("SampleX", 0, "ok"), new("SampleY", 0, "ok"), new("Energy", 285.2, "ok"), new("Zoneplate", -1129, "ok")]));
                    await Task.Delay(100, cancellationToken);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private static PositionerDefinition Axis(string name, string unit, double low, double high) =>
            new() { Name = name, Unit = unit, LowerSoftLimit = low, UpperSoftLimit = high, MaxVelocity = 5, Destination = name == "Energy" ? 285.2 : 0 };

        private PixelatorReply Start(PixelatorScanRequest scan)
        {
            _ = Task.Run(async () =>
            {
                Server.Publish(new ScanStartedMessage(scan));
                Server.Publish(new FilenameMessage("Sample_Image_bench_001.hdf5", "/tmp"));
                var values = new double[Width];
                var random = new Random(5);
                var interval = rate > 0 ? TimeSpan.FromSeconds(1 / rate) : TimeSpan.Zero;
                var first = Stopwatch.GetTimestamp();
                for (var row = 0; row < published.Length; row++)
                {
                    if (rate > 0)
                    {
                        await TimeProvider.System.DelayUntilAsync(first + (long)(row * interval.TotalSeconds * Stopwatch.Frequency));
                    }

                    for (var i = 0; i < values.Length; i++)
                    {
                        values[i] = 10_000 + random.Next(1000);
                    }

                    published[row] = Stopwatch.GetTimestamp();
                    Server.Publish(new ScanLineDataMessage(0, 0, 0, 0, row, 0, 1, Width, [.. values]));
                }

                Server.Publish(new ScanFinishedMessage(new ScanFinished { Filename = "/tmp/Sample_Image_bench_001.hdf5", Flag = "0" }));
                Interlocked.Exchange(ref _scanning, 0);
            });
            return PixelatorReply.Ok();
        }
    }
}
