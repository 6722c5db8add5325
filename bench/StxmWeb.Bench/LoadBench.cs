using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using MessagePack;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using StxmWeb.Pixelator.Server;

namespace StxmWeb.Bench;

/// <summary>
/// The live path under load: a simulated scan at 1 Mpx/s (a paced Pixelator controller publishing 1000 lines of 1000
/// pixels a second; StxmWeb as its own process on the Pixelator backend) watched by 1, 20 and 100 headless SignalR
/// clients on real websockets (lean clients speaking SignalR's MessagePack protocol over ClientWebSocket, so that the
/// clients are not the bottleneck), one deliberately slow client, and one real browser (chromium) on the page. Reports
/// latency from the controller's publish to each client's receipt (p50/p95 over all clients' lines), server CPU and RSS,
/// what the slow client got, and whether the file is complete. The ceiling at 100 clients (the highest paced rate they
/// keep up with) is compared with a bare ASP.NET Core WebSocket endpoint fanning out one 4 KB message per line to 100
/// clients.
/// Usage: StxmWeb.Bench load [output.md]
/// </summary>
internal static class LoadBench
{
    private const int Width = 1000;
    private const int Lines = 3000;

    /// <summary>Rounds of the measured runs (every configuration once per round); each row is the round with the median p95.</summary>
    private const int MeasuredRounds = 3;

    /// <summary>The highest paced rate the ceiling search tries at 100 clients.</summary>
    private const int CeilingTo = 4000;

    public static async Task<int> RunAsync(string[] args)
    {
        // Diagnostic: --trace FILE records a chromium performance trace (devtools timeline) over the runs.
        var trace = args.SkipWhile(a => a != "--trace").Skip(1).FirstOrDefault();
        var output = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal) && !int.TryParse(a, out _) && a != trace);
        if (args.Contains("--bare"))
        {
            // Diagnostic: only the bare endpoint, at 1000 lines/s and as fast as it can.
            foreach (var rate in new[] { 1000.0, 0, 1000, 0 })
            {
                var result = await BareWebSocketAsync(100, Lines, rate);
                Console.WriteLine($"bare, 100 clients, rate {rate}: {result}");
            }

            return 0;
        }

        // Diagnostics: --no-browser, --no-slow leave the browser or the slow client out (the table says so).
        var withBrowser = !args.Contains("--no-browser");
        var withSlow = !args.Contains("--no-slow");
        var controller = new PixelatorBench.PacedController { Width = Width };
        await using var server = new PixelatorServer(new PixelatorServerOptions { Address = "127.0.0.1", PublisherPort = 0, RequestPort = 0, DataPublisherPort = 0 },
            controller.Handle, NullLogger<PixelatorServer>.Instance);
        controller.Server = server;
        using var heartbeat = new CancellationTokenSource();
        var beating = controller.HeartbeatAsync(heartbeat.Token);
        var dataDir = Directory.CreateTempSubdirectory("stxmweb-load-bench-").FullName;
        var port = PixelatorBench.FreePort();
        using var stxmweb = PixelatorBench.StartStxmWeb(port, server, dataDir);
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        using var http = new HttpClient { BaseAddress = baseAddress };
        await PixelatorBench.WaitForAsync(async () => (await http.GetAsync("healthz")).IsSuccessStatusCode, "StxmWeb to start", TimeSpan.FromSeconds(60));

        // One real browser on the page for every run.
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--disable-gpu", "--no-first-run", "--disable-background-networking"],
        });
        IPage? page = null;
        if (withBrowser)
        {
            page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 900 } });
            await page.GotoAsync(baseAddress.ToString());
            await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=live-canvas]')?.dataset.connected === 'true'", null, new() { Timeout = 60_000 });
        }

        // Diagnostic: --clients N runs only N clients at 1000 lines/s (after one warm-up), e.g. to profile the server.
        var only = args.SkipWhile(a => a != "--clients").Skip(1).Select(int.Parse).FirstOrDefault();
        (int Clients, double Rate)[] configurations = only > 0 ? [(only, 1000)] : [(1, 1000), (20, 1000), (100, 1000), (100, 0)];
        // Warm-up runs, then rounds of every configuration in turn: on this shared machine a run's p95 moves with what
        // else the machine does in those seconds, so each row is the round with the median p95 (the others in brackets).
        var rounds = only > 0 ? 2 : MeasuredRounds;
        (int Clients, double Rate, bool Measured)[] warmUps = only > 0 ? [(only, 1000, false)] : [(1, 1000, false), (20, 1000, false)];
        (int Clients, double Rate, bool Measured)[] runs =
            [.. warmUps, .. Enumerable.Range(0, rounds).SelectMany(_ => configurations.Select(c => (c.Clients, c.Rate, true)))];
        Console.WriteLine($"StxmWeb server process: {stxmweb.Id}");
        ICDPSession? tracing = null;
        var traceEvents = new List<string>();
        var traced = new TaskCompletionSource();
        if (trace is not null && page is not null)
        {
            tracing = await page.Context.NewCDPSessionAsync(page);
            tracing.Event("Tracing.dataCollected").OnEvent += (_, e) =>
            {
                lock (traceEvents)
                {
                    traceEvents.AddRange(e!.Value.GetProperty("value").EnumerateArray().Select(v => v.GetRawText()));
                }
            };
            tracing.Event("Tracing.tracingComplete").OnEvent += (_, _) => traced.TrySetResult();
            await tracing.SendAsync("Tracing.start", new() { ["categories"] = "devtools.timeline,disabled-by-default-devtools.timeline,v8.execute,blink,cc,viz,gpu,toplevel", ["transferMode"] = "ReportEvents" });
        }

        string? previousRun = null;
        var measuredRuns = new List<RunResult>();
        foreach (var (clients, rate, measured) in runs)
        {
            var run = await OneRunAsync(controller, stxmweb, http, baseAddress, page, clients, rate, withSlow, previousRun);
            previousRun = run.RunId;
            Console.WriteLine((measured ? "" : "warm-up: ") + run.Row);
            if (measured)
            {
                measuredRuns.Add(run);
            }
        }

        var rows = configurations.Select(c =>
        {
            var same = measuredRuns.Where(r => r.Clients == c.Clients && r.Rate == c.Rate).OrderBy(r => r.P95Ms).ToList();
            var median = same[same.Count / 2];
            var others = string.Join(", ", same.Where(r => r != median).Select(r => r.P95));
            return same.Count == 1 ? median.Row : median.RowWith($"{median.P95} ({others})");
        }).ToList();

        // The ceiling at 100 clients: the highest paced rate at which they keep up (every line, the median client at 95 %
        // of the rate it was published at or more), in steps of 100 lines/s: up from 1000 while they keep up, or down
        // from it until they do. (As fast as possible, above, the server also takes in and files tens of thousands of
        // lines a second that the clients get coalesced: overload, not a rate it sustains.)
        var steps = new List<RunResult>();
        if (only == 0)
        {
            var first = await OneRunAsync(controller, stxmweb, http, baseAddress, page, 100, 1000, withSlow, previousRun);
            steps.Add(first);
            var step = first.Sustained ? 100 : -100;
            for (var rate = 1000 + step; rate is >= 100 and <= CeilingTo; rate += step)
            {
                var run = await OneRunAsync(controller, stxmweb, http, baseAddress, page, 100, rate, withSlow, steps[^1].RunId);
                steps.Add(run);
                Console.WriteLine($"ceiling step: {run.Row} sustained: {run.Sustained}");
                if (run.Sustained != first.Sustained)
                {
                    break;
                }
            }
        }

        if (tracing is not null)
        {
            await tracing.SendAsync("Tracing.end");
            await traced.Task.WaitAsync(TimeSpan.FromMinutes(1));
            await File.WriteAllTextAsync(trace!, "[" + string.Join(",\n", traceEvents) + "]");
        }

        // Diagnostic: --hold S keeps the server up S seconds after the runs (e.g. for dotnet-gcdump).
        var hold = args.SkipWhile(a => a != "--hold").Skip(1).Select(int.Parse).FirstOrDefault();
        if (hold > 0)
        {
            Console.WriteLine($"holding the server for {hold} s");
            await Task.Delay(TimeSpan.FromSeconds(hold));
        }

        await heartbeat.CancelAsync();
        await beating;
        stxmweb.Kill();
        await stxmweb.WaitForExitAsync();
        Directory.Delete(dataDir, recursive: true);

        if (only > 0)
        {
            return 0;
        }

        // The machine's limit, with StxmWeb stopped: the same bytes in the same batches to 100 clients as fast as it can, and
        // its latency at 1000 lines/s (what this machine allows the live path with nothing else to do).
        var barePaced = await BareWebSocketAsync(100, Lines, 1000);
        var bareFast = await BareWebSocketAsync(100, Lines, 0);
        var bare = bareFast.Delivered;
        Console.WriteLine($"bare WebSocket, 100 clients: {barePaced} at 1000 lines/s, {bareFast} as fast as it can");
        var sustained = steps.Where(s => s.Sustained).Select(s => s.Published).DefaultIfEmpty(0).Max();

        var report = new StringBuilder()
            .AppendLine("# Live path under load: 1 Mpx/s to many viewers")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC")
            .AppendLine(CultureInfo.InvariantCulture, $"- Machine: {BenchMachine.Describe()}")
            .AppendLine("- Command: `dotnet run -c Release --project bench/StxmWeb.Bench -- load bench/results/live-load.md`")
            .AppendLine(CultureInfo.InvariantCulture, $"- Each run a sample image of {Lines} lines × {Width} pixels: a paced Pixelator controller (this process) publishes the lines at the rate asked (1000 lines/s = 1 Mpx/s; 0 = as fast as it can), StxmWeb runs as its own process (release build, Pixelator backend) and writes its file, and N headless clients on /hubs/live (SignalR MessagePack over real websockets; lean clients that only parse the messages) plus one slow client (it reads a message every 100 ms) plus one chromium page with the viewer (its default stream: binned to the size it shows) watch it. Latency = client receipt − controller publish, per line and client (so it includes the ZeroMQ hop and the 15 ms batching); \"from the server's stamp\" = client receipt − the time the server put on the message as it made it (the issue's \"server timestamp to client receipt\": the send path alone); delivered = the lines a client got over the time from its first to its last. All of it shares the machine's 2 cores. Two warm-up runs are not reported; then {MeasuredRounds} rounds of the four runs in turn, each row the round with the median p95 (the other rounds' p95 in brackets).")
            .AppendLine()
            .AppendLine("| clients | rate asked (lines/s) | published (lines/s) | delivered per client, median (lines/s) | latency p50 | p95 | p99 | p95 from the server's stamp | lines lost (all clients) | slow client: messages, lines, lines per message max | browser: lines drawn | server CPU (% of one core) | browser CPU (chromium, % of one core) | server RSS, peak in the run | file complete |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            report.AppendLine(row);
        }

        report.AppendLine()
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Ceiling at 100 clients (with the slow client and the browser as above): paced runs in steps of 100 lines/s, up from 1000 while the clients keep up or down from it until they do (keeping up: no line lost, and the median client at 95 % or more of the published rate).")
            .AppendLine()
            .AppendLine("| rate asked (lines/s) | published (lines/s) | delivered per client, median (lines/s) | latency p50 | p95 | lines lost | sustained |")
            .AppendLine("|---|---|---|---|---|---|---|");
        foreach (var step in steps)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"| {step.Rate:F0} | {step.Published:F0} | {step.Delivered:F0} | {step.P50} | {step.P95} | {step.Lost} | {(step.Sustained ? "yes" : "no")} |");
        }

        report.AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"- Highest sustained rate at 100 clients: **{sustained:F0} lines/s**; a bare ASP.NET Core WebSocket endpoint (Kestrel, this process, with StxmWeb stopped) fanning out the same {Lines} lines of 4 KB in the same batches (what 15 ms brought, at most 15 lines: one binary message) to 100 local clients, as fast as it can: **{bare:F0} lines/s** per client, the machine's limit. Ratio **{sustained / bare:F2}** (target ≥ 0.8).")
            .AppendLine(CultureInfo.InvariantCulture, $"- The bare endpoint at 1000 lines/s to 100 clients (no browser, no slow client, no file): latency p50 {barePaced.P50Ms:F1} ms, p95 **{barePaced.P95Ms:F1} ms**, {barePaced.Delivered:F0} lines/s per client (the floor this machine sets for the 100-client row).")
            .AppendLine("- Targets: p95 < 30 ms at 1 client, < 60 ms at 20, < 100 ms at 100; RSS < 400 MB; the ceiling at 100 clients ≥ 0.8 of the bare WebSocket limit.")
            .AppendLine("- A slow client gets the same lines in fewer, larger messages (its queue holds each undelivered line once, newest copy); it does not hold the others back.");
        await BenchMachine.PublishAsync(report.ToString(), output);

        return 0;
    }

    /// <summary>CPU seconds so far of every chromium process (the browser, its renderer and its GPU process).</summary>
    private static double BrowserCpuSeconds() => Process.GetProcessesByName("chromium").Sum(p =>
    {
        try
        {
            return PixelatorBench.CpuSeconds(p.Id);
        }
        catch (IOException)
        {
            return 0; // it exited meanwhile
        }
    });

    /// <summary>One run's row of the table (the cells before its p95 and after it) and the numbers the ceiling search needs.</summary>
    private sealed record RunResult(string RowStart, string RowEnd, string RunId, int Clients, double Rate, double Published, double Delivered, int Lost, string P50, string P95, double P95Ms)
    {
        public string Row => RowWith(P95);

        /// <summary>The row with <paramref name="p95"/> in its p95 cell.</summary>
        public string RowWith(string p95) => $"{RowStart} {p95} {RowEnd}";

        /// <summary>The clients kept up: every line reached every client, the median one at 95 % of the published rate or more.</summary>
        public bool Sustained => Lost == 0 && Delivered >= 0.95 * Published;
    }

    private static async Task<RunResult> OneRunAsync(PixelatorBench.PacedController controller, Process stxmweb, HttpClient http, Uri baseAddress, IPage? page, int count, double rate, bool withSlow, string? previousRun)
    {
        var published = new long[Lines];
        controller.Next(rate, published);
        var clients = new List<LeanClient>();
        for (var i = 0; i < count; i++)
        {
            clients.Add(await LeanClient.ConnectAsync(baseAddress, Lines, slow: false));
        }

        var slow = withSlow ? await LeanClient.ConnectAsync(baseAddress, Lines, slow: true) : null;
        if (previousRun is not null)
        {
            // A viewer that opens the page between runs is first sent the last run (late join); the scan starts once
            // they have it, as a user's would after the page showed it. (The slow client is still reading it.)
            foreach (var client in clients)
            {
                await client.StoppedAsync(previousRun).WaitAsync(TimeSpan.FromMinutes(2));
            }
        }

        var cpuBefore = PixelatorBench.CpuSeconds(stxmweb.Id);
        var browserBefore = BrowserCpuSeconds();
        PixelatorBench.ResetPeakRss(stxmweb.Id); // the RSS column is the peak during this run (what earlier runs left included)
        var wall = Stopwatch.StartNew();
        var (runId, statusUrl) = await PixelatorBench.StartImageAsync(http, Width, Lines);
        foreach (var client in clients)
        {
            await client.StoppedAsync(runId).WaitAsync(TimeSpan.FromMinutes(5));
        }

        wall.Stop();
        var cpu = PixelatorBench.CpuSeconds(stxmweb.Id) - cpuBefore;
        var browserCpu = BrowserCpuSeconds() - browserBefore;
        var rss = PixelatorBench.PeakRssMiB(stxmweb.Id);
        if (slow is not null)
        {
            await slow.StoppedAsync(runId).WaitAsync(TimeSpan.FromMinutes(5));
        }

        var fileComplete = PixelatorBench.FileComplete(await PixelatorBench.FinishedFileAsync(http, statusUrl), Lines, Width);
        var drawn = "no browser";
        if (page is not null)
        {
            await page.WaitForFunctionAsync($"() => document.querySelector('[data-testid=live-canvas]').dataset.runId === '{runId}' && document.querySelector('[data-testid=live-canvas]').dataset.status === 'success'", null, new() { Timeout = 60_000 });
            // The viewer streams the image binned to its size (its default): every binned pixel drawn is the whole image.
            var canvas = page.GetByTestId("live-canvas");
            var bin = int.Parse(await canvas.GetAttributeAsync("data-bin") ?? "1", CultureInfo.InvariantCulture);
            var binned = ((Lines + bin - 1) / bin) * ((Width + bin - 1) / bin);
            drawn = $"{await canvas.GetAttributeAsync("data-filled")} of {binned} px" + (bin > 1 ? $" (binned {bin}×)" : "");
        }

        var latencies = new List<double>();
        var fromStamp = new List<double>();
        var perClient = new List<double>();
        var lost = 0;
        var firstPublish = published.Where(p => p != 0).Min();
        foreach (var client in clients)
        {
            var arrived = client.Arrivals(runId);
            lost += arrived.Count(t => t == 0);
            fromStamp.AddRange(client.FromStamp(runId).Where(double.IsFinite));
            for (var i = 0; i < Lines; i++)
            {
                if (arrived[i] != 0 && published[i] != 0)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(published[i], arrived[i]).TotalMilliseconds);
                }
            }

            // Delivery rate: the lines it got over the time from its first line to its last, so that a client that keeps
            // pace at a steady latency is at the published rate, and one that falls behind below it.
            var got = arrived.Where(t => t != 0).ToArray();
            perClient.Add(got.Length < 2 ? 0 : (got.Length - 1) / Stopwatch.GetElapsedTime(got.Min(), got.Max()).TotalSeconds);
        }

        if (Environment.GetEnvironmentVariable("STXMWEB_BENCH_SEGMENTS") is "1")
        {
            // Diagnostic: the worst latency in each tenth of the image, over all clients.
            var worst = Enumerable.Range(0, 10).Select(segment => clients.Max(c =>
            {
                var arrived = c.Arrivals(runId);
                return Enumerable.Range(segment * Lines / 10, Lines / 10).Where(i => arrived[i] != 0 && published[i] != 0)
                    .Select(i => Stopwatch.GetElapsedTime(published[i], arrived[i]).TotalMilliseconds).DefaultIfEmpty().Max();
            }));
            Console.WriteLine("worst latency per tenth of the image (ms): " + string.Join(" ", worst.Select(w => w.ToString("F0", CultureInfo.InvariantCulture))));
        }

        latencies.Sort();
        fromStamp.Sort();
        perClient.Sort();
        var stampP95 = PixelatorBench.Milliseconds(fromStamp, 0.95);
        string P(double q) => PixelatorBench.Milliseconds(latencies, q);
        var publishSeconds = Stopwatch.GetElapsedTime(firstPublish, published.Max()).TotalSeconds;
        var slowText = slow is null ? "no slow client" : $"{slow.Messages(runId)}, {slow.Arrivals(runId).Count(t => t != 0)}, {slow.LargestMessage}";
        foreach (var client in slow is null ? clients : clients.Append(slow))
        {
            await client.DisposeAsync();
        }

        var rowStart = FormattableString.Invariant(
            $"| {count} | {(rate > 0 ? rate.ToString("F0", CultureInfo.InvariantCulture) : "as fast as possible")} | {Lines / publishSeconds:F0} | {perClient[perClient.Count / 2]:F0} | {P(0.5)} |");
        var rowEnd = FormattableString.Invariant(
            $"| {P(0.99)} | {stampP95} | {lost} | {slowText} | {drawn} | {100 * cpu / wall.Elapsed.TotalSeconds:F0} | {(page is null ? "–" : (100 * browserCpu / wall.Elapsed.TotalSeconds).ToString("F0", CultureInfo.InvariantCulture))} | {rss:F0} MiB | {(fileComplete ? "yes" : "NO")} |");
        return new RunResult(rowStart, rowEnd, runId, count, rate, Lines / publishSeconds, perClient[perClient.Count / 2], lost, P(0.5), P(0.95), PixelatorBench.Quantile(latencies, 0.95));
    }

    /// <summary>
    /// A headless live client that speaks SignalR's MessagePack hub protocol itself over a ClientWebSocket (no negotiate,
    /// WebSockets transport) and notes when each line of a run first arrived.
    /// </summary>
    private sealed class LeanClient : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket = new();
        private readonly ConcurrentDictionary<string, long[]> _arrivals = new();
        private readonly ConcurrentDictionary<string, double[]> _fromStamp = new();
        private readonly ConcurrentDictionary<string, int> _messages = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _stops = new();
        private readonly int _lines;
        private readonly bool _slow;
        private readonly CancellationTokenSource _closed = new();
        private Task _loop = Task.CompletedTask;

        private LeanClient(int lines, bool slow) => (_lines, _slow) = (lines, slow);

        public int LargestMessage { get; private set; }

        public static async Task<LeanClient> ConnectAsync(Uri server, int lines, bool slow)
        {
            var client = new LeanClient(lines, slow);
            await client._socket.ConnectAsync(new Uri($"ws://{server.Authority}/hubs/live"), CancellationToken.None);
            await client._socket.SendAsync("{\"protocol\":\"messagepack\",\"version\":1}\u001e"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            client._loop = client.ReceiveAsync();
            return client;
        }

        public long[] Arrivals(string runId) => _arrivals.GetOrAdd(runId, _ => new long[_lines]);

        /// <summary>Per line of a run, its first arrival's latency from the server's stamp on the message (ms; NaN: not arrived).</summary>
        public double[] FromStamp(string runId) => _fromStamp.GetOrAdd(runId, _ => [.. Enumerable.Repeat(double.NaN, _lines)]);

        public int Messages(string runId) => _messages.GetValueOrDefault(runId);

        public Task StoppedAsync(string runId) => Stop(runId).Task;

        private TaskCompletionSource Stop(string runId) => _stops.GetOrAdd(runId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        private async Task ReceiveAsync()
        {
            var buffer = new ArrayBufferWriter<byte>(1 << 20);
            var handshaken = false;
            try
            {
                while (!_closed.IsCancellationRequested)
                {
                    buffer.ResetWrittenCount();
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await _socket.ReceiveAsync(buffer.GetMemory(64 * 1024), _closed.Token);
                        buffer.Advance(result.Count);
                    }
                    while (!result.EndOfMessage);

                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    var now = Stopwatch.GetTimestamp();
                    var nowUnixMs = (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;
                    var data = buffer.WrittenMemory;
                    if (!handshaken)
                    {
                        var end = data.Span.IndexOf((byte)0x1e);
                        handshaken = end >= 0;
                        data = data[(end + 1)..];
                    }

                    Parse(data, now, nowUnixMs);
                    if (_slow)
                    {
                        await Task.Delay(100, _closed.Token);
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
            {
                // Closed.
            }
        }

        /// <summary>Length-prefixed (VarInt) MessagePack hub messages; invocations of lines and runStop are read.</summary>
        private void Parse(ReadOnlyMemory<byte> data, long now, double nowUnixMs)
        {
            while (data.Length > 0)
            {
                var (length, prefix) = (0, 0);
                for (var shift = 0; ; shift += 7)
                {
                    var b = data.Span[prefix++];
                    length |= (b & 0x7f) << shift;
                    if ((b & 0x80) == 0)
                    {
                        break;
                    }
                }

                var message = data.Slice(prefix, length);
                data = data[(prefix + length)..];
                var reader = new MessagePackReader(message);
                reader.ReadArrayHeader();
                if (reader.ReadInt32() != 1)
                {
                    continue; // ping, close...
                }

                for (var headers = reader.ReadMapHeader(); headers > 0; headers--)
                {
                    reader.Skip();
                    reader.Skip();
                }

                reader.Skip(); // invocation id
                var target = reader.ReadString();
                reader.ReadArrayHeader();
                var runId = reader.ReadString()!;
                if (target == "lines")
                {
                    var (arrivals, fromStamp) = (Arrivals(runId), FromStamp(runId));
                    _messages.AddOrUpdate(runId, 1, (_, n) => n + 1);
                    var count = reader.ReadArrayHeader();
                    LargestMessage = Math.Max(LargestMessage, count / 5);
                    var first = new List<int>();
                    for (var i = 0; i < count; i += 5)
                    {
                        var (entry, plane, row, column, values) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
                        if (row < arrivals.Length && column == 0 && values == Width && entry == 0 && plane == 0 && arrivals[row] == 0)
                        {
                            arrivals[row] = now;
                            first.Add(row);
                        }
                    }

                    reader.Skip(); // the values
                    var sent = reader.ReadDouble();
                    foreach (var row in first)
                    {
                        fromStamp[row] = nowUnixMs - sent;
                    }
                }
                else if (target == "runStop")
                {
                    Stop(runId).TrySetResult();
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _closed.CancelAsync();
            try
            {
                await _loop;
            }
            finally
            {
                _socket.Dispose();
                _closed.Dispose();
            }
        }
    }

    /// <summary>What the bare endpoint did: the median client's lines per second (first to last line) and the latency of every line to every client.</summary>
    private sealed record BareResult(double Delivered, double P50Ms, double P95Ms);

    /// <summary>
    /// The machine's limit: Kestrel with a bare WebSocket endpoint. A producer thread makes lines of 4 KB at
    /// <paramref name="rate"/> lines/s (0: as fast as it can) and sends what it made in the last 15 ms (at most 15 lines:
    /// the batches StxmWeb's live path sends) as one binary message to every client, each through its own sender with a
    /// bounded queue (the producer waits for the slowest). Each line starts with its number and the time it was made (12
    /// bytes, about what a line's header takes in the live path's message); clients note when each line arrived.
    /// </summary>
    private static async Task<BareResult> BareWebSocketAsync(int clients, int lines, double rate)
    {
        const int LineBytes = sizeof(int) + sizeof(long) + Width * sizeof(float);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.UseWebSockets();
        var queues = new ConcurrentBag<System.Threading.Channels.Channel<byte[]>>();
        var connected = 0;
        app.Map("/ws", async (HttpContext context) =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var queue = System.Threading.Channels.Channel.CreateBounded<byte[]>(256);
            queues.Add(queue);
            Interlocked.Increment(ref connected);
            await foreach (var message in queue.Reader.ReadAllAsync())
            {
                await socket.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None);
            }

            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        });
        await app.StartAsync();
        var address = app.Urls.First().Replace("http://", "ws://", StringComparison.Ordinal);

        var arrivals = new long[clients][];
        var made = new long[lines];
        var sockets = new List<ClientWebSocket>();
        var readers = new List<Task>();
        for (var i = 0; i < clients; i++)
        {
            var socket = new ClientWebSocket();
            await socket.ConnectAsync(new Uri($"{address}/ws"), CancellationToken.None);
            sockets.Add(socket);
            var arrived = arrivals[i] = new long[lines];
            readers.Add(Task.Run(async () =>
            {
                var buffer = new byte[LineBytes * 64];
                while (true)
                {
                    var length = 0;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                        length += result.Count;
                    }
                    while (!result.EndOfMessage);

                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    var now = Stopwatch.GetTimestamp();
                    for (var offset = 0; offset < length; offset += LineBytes)
                    {
                        arrived[BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(offset))] = now;
                    }
                }
            }));
        }

        while (Volatile.Read(ref connected) < clients)
        {
            await Task.Delay(10);
        }

        var producer = new Thread(() =>
        {
            var payload = new byte[Width * sizeof(float)];
            Random.Shared.NextBytes(payload);
            var batch = new List<int>();
            var first = Stopwatch.GetTimestamp();
            var lastSent = first;
            for (var line = 0; line < lines || batch.Count > 0;)
            {
                if (line < lines)
                {
                    var due = rate > 0 ? first + (long)(line / rate * Stopwatch.Frequency) : 0;
                    while (Stopwatch.GetTimestamp() < due && Stopwatch.GetElapsedTime(lastSent) < TimeSpan.FromMilliseconds(15))
                    {
                        Thread.Sleep(1);
                    }

                    if (Stopwatch.GetTimestamp() >= due)
                    {
                        made[line] = Stopwatch.GetTimestamp();
                        batch.Add(line++);
                    }
                }

                if (batch.Count == 15 || (batch.Count > 0 && (line == lines || Stopwatch.GetElapsedTime(lastSent) >= TimeSpan.FromMilliseconds(15))))
                {
                    var message = new byte[batch.Count * LineBytes];
                    for (var i = 0; i < batch.Count; i++)
                    {
                        var span = message.AsSpan(i * LineBytes, LineBytes);
                        BinaryPrimitives.WriteInt32LittleEndian(span, batch[i]);
                        BinaryPrimitives.WriteInt64LittleEndian(span[sizeof(int)..], made[batch[i]]);
                        payload.CopyTo(span[(sizeof(int) + sizeof(long))..]);
                    }

                    foreach (var queue in queues)
                    {
                        if (!queue.Writer.TryWrite(message))
                        {
                            queue.Writer.WriteAsync(message).AsTask().GetAwaiter().GetResult();
                        }
                    }

                    batch.Clear();
                    lastSent = Stopwatch.GetTimestamp();
                }
            }

            foreach (var queue in queues)
            {
                queue.Writer.Complete();
            }
        }) { IsBackground = true, Name = "bare producer" };
        producer.Start();
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromMinutes(2));
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }

        await app.StopAsync();
        var rates = arrivals.Select(a => (lines - 1) / Stopwatch.GetElapsedTime(a.Min(), a.Max()).TotalSeconds).Order().ToArray();
        var latencies = arrivals.SelectMany(a => a.Select((t, line) => Stopwatch.GetElapsedTime(made[line], t).TotalMilliseconds)).Order().ToArray();
        return new BareResult(rates[rates.Length / 2], PixelatorBench.Quantile(latencies, 0.5), PixelatorBench.Quantile(latencies, 0.95));
    }
}
