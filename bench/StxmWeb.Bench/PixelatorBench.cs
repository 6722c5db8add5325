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
using StxmWeb.Nexus;
using StxmWeb.Pixelator.Protocol;
using StxmWeb.Pixelator.Server;

namespace StxmWeb.Bench;

/// <summary>
/// The Pixelator live path, end to end: a controller publishing scanLineData (a <see cref="PixelatorServer"/> that
/// paces lines at a set rate and notes when each left), StxmWeb as its own process on the Pixelator backend, and a
/// SignalR MessagePack viewer (the browsers' protocol) noting when each line arrived. Publisher and viewer share this
/// process, so both read one monotonic clock. Reports line messages per second published and delivered to the viewer, latency from the controller's publish to the viewer (p50/p95/p99/max), lines lost, the server's CPU and
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

        // One controller and one StxmWeb process for every run, as at a beamline: the first runs warm the server up
        // (JIT, tiered compilation) and are not reported.
        var controller = new PacedController();
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

        foreach (var (rate, lines, measured) in new (double Rate, int Lines, bool Measured)[]
        {
            (1000, 4000, false), (0, 4000, false), (1000, 4000, false), (1000, 4000, true), (1000, 4000, true), (1000, 4000, true), (0, 4000, true),
        })
        {
            var result = await OneRunAsync(controller, stxmweb, http, baseAddress, rate, lines);
            Console.WriteLine((measured ? "" : "warm-up: ") + result.Row);
            if (measured)
            {
                rows.Add(result.Row);
                notes.Add(result.Note);
            }
        }

        await heartbeat.CancelAsync();
        await beating;
        stxmweb.Kill();
        await stxmweb.WaitForExitAsync();
        Directory.Delete(dataDir, recursive: true);

        var report = new StringBuilder()
            .AppendLine("# Pixelator live path: controller publish → StxmWeb → viewer")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC")
            .AppendLine(CultureInfo.InvariantCulture, $"- Machine: {BenchMachine.Describe()}")
            .AppendLine("- Command: `dotnet run -c Release --project bench/StxmWeb.Bench -- pixelator bench/results/pixelator-live.md`")
            .AppendLine(CultureInfo.InvariantCulture, $"- Each run a sample image of {Width} pixels per line: the controller side is a ZeroMQ PixelatorServer (StxmWeb's own protocol code) publishing one scanLineData per line, paced by a thread that sleeps 1 ms at a time and publishes what is due (rate 0 = as fast as it can), and noting each publish time. StxmWeb runs as its own process with `Instrument:Backend=Pixelator` (release build) and writes its NXstxm file; one SignalR MessagePack client (the browsers' protocol, .NET HubConnection) on /hubs/live notes each line's arrival. Publisher and viewer share one process and one monotonic clock; the three share the machine's 2 cores.")
            .AppendLine("- Latency = viewer receipt − controller publish, per line; it includes the live path's 15 ms batching of lines into one message. The issue asks for the measurement at 1000 lines/s; one StxmWeb process serves every run, and the first three runs (12,000 lines) warm it up (JIT, tiered compilation) and are not reported. \"As fast as possible\" finds the path's ceiling: what the viewer gets when the controller publishes faster than StxmWeb can pass lines on (none is lost; they queue).")
            .AppendLine()
            .AppendLine("| rate asked (lines/s) | lines | published (lines/s) | delivered to the viewer (lines/s) | latency p50 | p95 | p99 | max | lines lost | server CPU (% of one core) | server RSS, peak | file complete |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            report.AppendLine(row);
        }

        report.AppendLine()
            .AppendLine("- A cold server is slower while the JIT compiles the path: its first 4000 lines at 1000 lines/s showed p95 about 30 ms and p99 about 160 ms on this machine (the warm-up runs above the table, printed by the bench).")
            .AppendLine("- RSS includes what the server keeps of earlier runs (the run history, the last run for late-joining viewers).");
        foreach (var note in notes.Where(n => n.Length > 0).Distinct())
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        }

        await BenchMachine.PublishAsync(report.ToString(), output);

        return 0;
    }

    private sealed record Result(string Row, string Note);

    private static async Task<Result> OneRunAsync(PacedController controller, Process stxmweb, HttpClient http, Uri baseAddress, double rate, int lines)
    {
        var published = new long[lines];
        controller.Next(rate, published);
        // The viewer joins before the scan; a late joiner is first sent the run before (StxmWeb's late join), so
        // arrivals are kept per run and this run's are picked by its id.
        var received = new ConcurrentDictionary<string, long[]>();
        var stops = new ConcurrentDictionary<string, TaskCompletionSource<string>>();
        TaskCompletionSource<string> Stop(string id) => stops.GetOrAdd(id, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
        await using var viewer = new HubConnectionBuilder().WithUrl(new Uri(baseAddress, "hubs/live")).AddMessagePackProtocol().Build();
        viewer.On<string, int[], byte[]>("lines", (id, header, _) =>
        {
            var now = Stopwatch.GetTimestamp();
            var arrivals = received.GetOrAdd(id, _ => new long[lines]);
            for (var i = 0; i < header.Length; i += 5)
            {
                var row = header[i + 2];
                if (row < lines && header[i + 4] == Width)
                {
                    Interlocked.CompareExchange(ref arrivals[row], now, 0);
                }
            }
        });
        viewer.On<string, string, string>("runStop", (id, status, _) => Stop(id).TrySetResult(status));
        await viewer.StartAsync();

        var cpuBefore = CpuSeconds(stxmweb.Id);
        var wall = Stopwatch.StartNew();
        var (runId, statusUrl) = await StartImageAsync(http, Width, lines);
        var status = await Stop(runId).Task.WaitAsync(TimeSpan.FromMinutes(5));
        wall.Stop();
        var cpu = CpuSeconds(stxmweb.Id) - cpuBefore;
        var rss = PeakRssMiB(stxmweb.Id);

        var filePath = await FinishedFileAsync(http, statusUrl);
        var fileComplete = FileComplete(filePath, lines);

        var arrived = received.GetValueOrDefault(runId) ?? new long[lines];
        var arrivals = arrived.Count(t => t != 0);
        var latencies = Enumerable.Range(0, lines).Where(i => arrived[i] != 0 && published[i] != 0)
            .Select(i => Stopwatch.GetElapsedTime(published[i], arrived[i]).TotalMilliseconds).Order().ToArray();
        var firstPublish = published.Where(p => p != 0).DefaultIfEmpty().Min();
        var lastPublish = published.Max();
        var lastReceipt = arrived.Max();
        var publishSeconds = Stopwatch.GetElapsedTime(firstPublish, lastPublish).TotalSeconds;
        var deliverSeconds = Stopwatch.GetElapsedTime(firstPublish, lastReceipt).TotalSeconds;
        var lost = lines - arrivals;
        string P(double q) => Milliseconds(latencies, q);
        var row = FormattableString.Invariant(
            $"| {(rate > 0 ? rate.ToString("F0", CultureInfo.InvariantCulture) : "as fast as possible")} | {lines} | {lines / publishSeconds:F0} | {arrivals / deliverSeconds:F0} | {P(0.5)} | {P(0.95)} | {P(0.99)} | {(latencies.Length > 0 ? latencies[^1] : 0):F1} ms | {lost} | {100 * cpu / wall.Elapsed.TotalSeconds:F0} | {rss:F0} MiB | {(fileComplete ? "yes" : "NO")} ({status}) |");
        var note = rate > 0 && publishSeconds > 0 && lines / publishSeconds < 0.98 * rate
            ? FormattableString.Invariant($"At {rate} lines/s asked the publisher reached {lines / publishSeconds:F0}/s (the machine was busy).")
            : "";
        return new Result(row, note);
    }

    /// <summary>Starts a sample image of <paramref name="width"/> × <paramref name="lines"/> through the API: its id and status URL.</summary>
    /// <summary>The <paramref name="q"/>-quantile of sorted values: the value at ⌊q·n⌋ (the last for q = 1); NaN for none.</summary>
    internal static double Quantile(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(q * sorted.Count))];

    /// <summary>A quantile of sorted latencies as a table cell ("12.3 ms"; "–" for none).</summary>
    internal static string Milliseconds(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? "–" : string.Create(CultureInfo.InvariantCulture, $"{Quantile(sorted, q):F1} ms");

    internal static async Task<(string RunId, string StatusUrl)> StartImageAsync(HttpClient http, int width, int lines)
    {
        var request = ScanRequest.SampleImage(new AxisRegion(0, 40, width), new AxisRegion(0, 40, lines), 0.2, 285.2);
        var post = await http.PostAsJsonAsync("api/scans", request, StxmWeb.Services.ScanDefinitionStore.Json);
        if (post.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"The scan was refused: {await post.Content.ReadAsStringAsync()}");
        }

        var accepted = JsonDocument.Parse(await post.Content.ReadAsStringAsync()).RootElement;
        return (accepted.GetProperty("id").GetString()!, accepted.GetProperty("status").GetString()!);
    }

    /// <summary>The run's file, once StxmWeb has written it to the end (a viewer's runStop can come first).</summary>
    internal static async Task<string> FinishedFileAsync(HttpClient http, string statusUrl)
    {
        JsonElement run = default;
        await WaitForAsync(async () =>
        {
            run = JsonDocument.Parse(await http.GetStringAsync(statusUrl)).RootElement.Clone();
            return run.GetProperty("state").GetString() is "success" or "aborted" or "failed";
        }, "the run to end", TimeSpan.FromMinutes(2));
        return run.GetProperty("filePath").GetString()!;
    }

    internal static Process StartStxmWeb(int port, PixelatorServer server, string dataDir)
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

    internal static bool FileComplete(string path, int lines, int width = Width)
    {
        try
        {
            var data = NxstxmReader.Read(path).Data;
            return data.Length == lines * width && !data.Any(double.IsNaN);
        }
        catch (IOException)
        {
            return false;
        }
    }

    internal static async Task WaitForAsync(Func<Task<bool>> condition, string what, TimeSpan timeout)
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

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>User + system CPU time of a process, from /proc/pid/stat (clock ticks of 10 ms).</summary>
    internal static double CpuSeconds(int pid)
    {
        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>Sets the process's peak RSS (VmHWM) to its RSS now (Linux: "5" to /proc/pid/clear_refs), so that the next reading is the peak since.</summary>
    internal static void ResetPeakRss(int pid) => File.WriteAllText($"/proc/{pid}/clear_refs", "5");

    internal static double PeakRssMiB(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0).FirstOrDefault();

    /// <summary>
    /// The controller side of the bench: answers initialize with a sample stage and an energy, and on scanRequest
    /// publishes scanStarted, one scanLineData per line at the asked rate (noting when each left), and scanFinished.
    /// </summary>
    internal sealed class PacedController
    {
        /// <summary>Pixels per line.</summary>
        public int Width { get; init; } = PixelatorBench.Width;

        private int _scanning;
        private double _rate;
        private long[] _published = [];

        private IReadOnlyList<string>[] _lines = [];

        /// <summary>
        /// The next scan's rate (0: as fast as possible) and where each line's publish time goes. The lines' messages are
        /// made here, before the scan: a real controller is a machine of its own, so formatting a million numbers a
        /// second as text is not StxmWeb's load to share the bench machine with.
        /// </summary>
        public void Next(double rate, long[] published)
        {
            (_rate, _published) = (rate, published);
            if (_lines.Length != published.Length)
            {
                var values = new double[Width];
                var random = new Random(5);
                _lines = new IReadOnlyList<string>[published.Length];
                for (var row = 0; row < _lines.Length; row++)
                {
                    for (var i = 0; i < values.Length; i++)
                    {
                        values[i] = 10_000 + random.Next(1000);
                    }

                    _lines[row] = new ScanLineDataMessage(0, 0, 0, 0, row, 0, 1, Width, [.. values]).ToFrames();
                }
            }
        }

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
            // A thread of its own that sleeps a millisecond at a time (the kernel's nanosleep) and publishes every line
            // that is due: the asked rate on average, a millisecond of jitter, and next to no CPU taken from StxmWeb.
            var (rate, published, lines) = (_rate, _published, _lines);
            var thread = new Thread(() =>
            {
                Server.Publish(new ScanStartedMessage(scan));
                Server.Publish(new FilenameMessage("Sample_Image_bench_001.hdf5", "/tmp"));
                var first = Stopwatch.GetTimestamp();
                for (var row = 0; row < published.Length; row++)
                {
                    var due = rate > 0 ? first + (long)(row / rate * Stopwatch.Frequency) : 0;
                    while (Stopwatch.GetTimestamp() < due)
                    {
                        Thread.Sleep(1);
                    }

                    published[row] = Stopwatch.GetTimestamp();
                    Server.PublishRaw(lines[row]);
                }

                Server.Publish(new ScanFinishedMessage(new ScanFinished { Filename = "/tmp/Sample_Image_bench_001.hdf5", Flag = "0" }));
                Interlocked.Exchange(ref _scanning, 0);
            }) { IsBackground = true, Name = "bench controller" };
            thread.Start();
            return PixelatorReply.Ok();
        }
    }
}
