using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.ChannelAccess.Client;
using StxmWeb.ChannelAccess.Protocol;
using StxmWeb.ChannelAccess.Server;

namespace StxmWeb.Bench;

/// <summary>
/// Channel Access, side by side in one run on one machine: EPICS's catime against softIoc (RSRV) and against StxmWeb's
/// server, and the get round trip of StxmWeb's client and of libca (pyepics), both against softIoc.
/// Usage: StxmWeb.Bench ca [output.md]. Needs EPICS Base built into artifacts/epics-base (the tests build it) and
/// python3-pyepics.
/// </summary>
internal static partial class CaBench
{
    private const int Channels = 10_000;
    private const int RoundTrips = 2000;
    private const int PutRate = 10_000;
    private const int WarmUpRuns = 5;
    private const int MeasuredRuns = 5;
    private const int EventRuns = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        var output = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal) && !int.TryParse(a, out _));
        var root = Root();
        var bin = Path.Combine(root, "artifacts", "epics-base", "bin", "linux-x86_64");
        if (!File.Exists(Path.Combine(bin, "catime")))
        {
            await Console.Error.WriteLineAsync($"EPICS Base is not built in {bin}: run tests/run (or ../shared/tools/epics-base/build.sh artifacts/epics-base) first.");
            return 2;
        }

        var folder = Directory.CreateTempSubdirectory("stxmweb-cabench-").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "b.db"), "record(ao, \"B:AO\") { field(VAL, \"1.5\") }\n");
        var iocPort = FreePort();
        var ioc = Start(Path.Combine(bin, "softIoc"), iocPort, folder, "-S", "-d", "b.db");
        await Task.Delay(1000);

        var pv = new ProcessVariable("B:AO", DbrValue.Of(1.5));
        await using var server = new CaServer([pv], NullLogger<CaServer>.Instance);
        await server.StartAsync(IPAddress.Loopback);

        var rows = new StringBuilder();
        try
        {
            // Diagnostic: --events N alternates the two monitor-rate runs against softIoc N times and prints them.
            if (args.SkipWhile(a => a != "--events").Skip(1).Select(int.Parse).FirstOrDefault() is > 0 and var times)
            {
                for (var i = 0; i < times; i++)
                {
                    var lib = await EventRateAsync(bin, iocPort, libca: true);
                    var ourClient = await EventRateAsync(bin, iocPort, libca: false);
                    Console.WriteLine($"libca (caEventRate) {lib.Events:N0}/s ({lib.Puts:N0} puts/s, {lib.CpuPerUpdate}), StxmWeb CaClient {ourClient.Events:N0}/s ({ourClient.Puts:N0} puts/s, {ourClient.CpuPerUpdate})");
                }

                return 0;
            }

            // Warm-up runs (a long-running server is warm: .NET's tiered JIT has recompiled StxmWeb's hot paths with
            // their profiles, which takes a few runs; softIoc's caches are filled), then the median of three alternating
            // runs per measure.
            for (var warmUp = 0; warmUp < WarmUpRuns; warmUp++)
            {
                await CatimeAsync(bin, iocPort);
                await CatimeAsync(bin, server.Port);
            }
            var rsrvRuns = new List<Dictionary<string, double>>();
            var ourRuns = new List<Dictionary<string, double>>();
            for (var run = 0; run < MeasuredRuns; run++)
            {
                rsrvRuns.Add(await CatimeAsync(bin, iocPort));
                ourRuns.Add(await CatimeAsync(bin, server.Port));
            }

            var rsrv = Median(rsrvRuns);
            var ours = Median(ourRuns);
            foreach (var (label, key) in new[]
            {
                ($"connect {Channels:N0} channels, per channel", "connect"),
                ("DBR_DOUBLE async put, per op", "put"),
                ("DBR_DOUBLE async get, per op", "get"),
                ($"DBR_DOUBLE synchronous get, per op ({Channels / 100} round trips)", "sync"),
                ("get latency, mean", "latency"),
            })
            {
                // The median, with the range of the runs: on a shared machine the single round trips move by ±20 %.
                string Cell(List<Dictionary<string, double>> runs, double median) =>
                    string.Create(CultureInfo.InvariantCulture, $"{median:F3} µs ({runs.Min(r => r[key]):F3}–{runs.Max(r => r[key]):F3})");
                rows.AppendLine(CultureInfo.InvariantCulture, $"| catime: {label} | {Cell(rsrvRuns, rsrv[key])} | {Cell(ourRuns, ours[key])} | {(ours[key] <= rsrv[key] * 1.05 ? "met" : "missed")} |");
            }

            // Monitor throughput: one producer (StxmWeb's client in a process of its own, puts without completion, 10,000
            // a second) changes B:AO on the server under test while caEventRate (libca) or StxmWeb's client holds 100
            // subscriptions to it: 1,000,000 updates/s are wanted; what arrives is counted. Three alternating runs of each (libca into softIoc, libca into StxmWeb's server, StxmWeb's client into
            // softIoc); the median of each is reported.
            var eventRuns = new List<(EventRate Rsrv, EventRate Ours, EventRate OurClient)>();
            for (var run = 0; run < EventRuns; run++)
            {
                eventRuns.Add((await EventRateAsync(bin, iocPort, libca: true), await EventRateAsync(bin, server.Port, libca: true), await EventRateAsync(bin, iocPort, libca: false)));
            }

            EventRate MedianOf(Func<(EventRate Rsrv, EventRate Ours, EventRate OurClient), EventRate> pick) =>
                eventRuns.Select(pick).OrderBy(r => r.Events).ElementAt(eventRuns.Count / 2);
            var rsrvEvents = MedianOf(r => r.Rsrv);
            var ourEvents = MedianOf(r => r.Ours);
            rows.AppendLine(CultureInfo.InvariantCulture, $"| caEventRate: monitor updates/s to 100 subscriptions, 1,000,000/s wanted (more is better) | {rsrvEvents.Events:N0} /s ({rsrvEvents.Puts:N0} puts/s in) | {ourEvents.Events:N0} /s ({ourEvents.Puts:N0} puts/s in) | {(ourEvents.Events >= rsrvEvents.Events * 0.95 ? "met" : "missed")} |");

            var ourClientEvents = MedianOf(r => r.OurClient);
            var cpuLibca = eventRuns.Select(r => r.Rsrv.CpuMicroseconds).Order().ElementAt(eventRuns.Count / 2);
            var cpuOurs = eventRuns.Select(r => r.OurClient.CpuMicroseconds).Order().ElementAt(eventRuns.Count / 2);

            var (ourP50, ourP95) = await OurClientRoundTripAsync(iocPort);
            var (libP50, libP95) = await PyepicsRoundTripAsync(iocPort);
            var clientRows = new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"| get round trip p50 | {libP50:F1} µs | {ourP50:F1} µs | {(ourP50 <= libP50 * 1.05 ? "met" : "missed")} |")
                .AppendLine(CultureInfo.InvariantCulture, $"| get round trip p95 | {libP95:F1} µs | {ourP95:F1} µs | {(ourP95 <= libP95 * 1.05 ? "met" : "missed")} |")
                .AppendLine(CultureInfo.InvariantCulture, $"| monitor updates/s, 100 subscriptions (more is better) | {rsrvEvents.Events:N0} /s (caEventRate) | {ourClientEvents.Events:N0} /s | {(ourClientEvents.Events >= rsrvEvents.Events * 0.95 ? "met" : "missed")} |")
                .AppendLine(CultureInfo.InvariantCulture, $"| subscriber's CPU per monitor update, in those runs (median) | {cpuLibca:F2} µs (caEventRate) | {cpuOurs:F2} µs | {(cpuOurs <= cpuLibca * 1.05 ? "met" : "missed")} |");
            var report = new StringBuilder()
                .AppendLine("# Channel Access: StxmWeb's server and client beside EPICS Base")
                .AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC")
                .AppendLine(CultureInfo.InvariantCulture, $"- Machine: {StxmWeb.Bench.BenchMachine.Describe()}")
                .AppendLine("- Command: `dotnet run -c Release --project bench/StxmWeb.Bench -- ca bench/results/channel-access.md`")
                .AppendLine(CultureInfo.InvariantCulture, $"- Servers on loopback, each on its own port; catime {Channels:N0} channels of one ao record (B:AO; its synchronous get test makes Channels/100 round trips, its latency test one per channel); {WarmUpRuns} warm-up runs per server, then the median of {MeasuredRuns} alternating runs (their range in brackets). Lower is better, except where marked.")
                .AppendLine(CultureInfo.InvariantCulture, $"- Monitor rates: a producer process (StxmWeb's client, {PutRate:N0} puts/s without completion) changes B:AO while the subscriber holds 100 subscriptions; the median of {EventRuns} alternating runs of each. The subscriber's CPU is its process's user and system time (caEventRate's, or this process's while StxmWeb's client subscribes) over the updates it got.")
                .AppendLine("- Target: StxmWeb's server at least as fast as softIoc, StxmWeb's client no slower than libca (5 % noise allowed).")
                .AppendLine()
                .AppendLine("## Servers (EPICS catime as the client)")
                .AppendLine()
                .AppendLine("| measure | softIoc (RSRV) | StxmWeb CaServer | target |")
                .AppendLine("|---|---|---|---|")
                .Append(rows)
                .AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"## Clients against softIoc ({RoundTrips} sequential DBR_DOUBLE gets)")
                .AppendLine()
                .AppendLine("| measure | libca (pyepics 3.4 / Debian libca 7.0 for gets, EPICS Base's caEventRate for monitors) | StxmWeb CaClient | target |")
                .AppendLine("|---|---|---|---|")
                .Append(clientRows);
            await BenchMachine.PublishAsync(report.ToString(), output);
        }
        finally
        {
            ioc.Kill();
            await ioc.WaitForExitAsync();
            Directory.Delete(folder, recursive: true);
        }

        return 0;
    }

    /// <summary>
    /// Monitor updates per second delivered to 100 subscriptions of B:AO while a producer puts new values as fast as it
    /// can (paced at PutRate): the subscriber is EPICS's caEventRate (libca) or StxmWeb's client; the rate is counted over 6 s after 1 s.
    /// </summary>
    private static async Task<EventRate> EventRateAsync(string bin, int port, bool libca)
    {
        const int Subscriptions = 100;
        var options = new CaClientOptions { AutoAddressList = false, ServerPort = port, AddressList = { new IPEndPoint(IPAddress.Loopback, port) } };
        // The producer is a process of its own (StxmWeb's client, puts without completion, paced at PutRate puts/s, each
        // a change that 100 subscriptions want), the same for both subscribers: in the bench's process it would share
        // the thread pool with StxmWeb's client and not with caEventRate.
        var producer = Start(Environment.ProcessPath!, port, null, "ca-producer", port.ToString(CultureInfo.InvariantCulture), PutRate.ToString(CultureInfo.InvariantCulture));
        long puts = 0;
        var reading = Task.Run(async () =>
        {
            // Every 0.2 s: the puts made so far.
            while (await producer.StandardOutput.ReadLineAsync() is { } line)
            {
                Interlocked.Exchange(ref puts, long.Parse(line, CultureInfo.InvariantCulture));
            }
        });
        await Task.Delay(500);

        double events;
        double cores;
        long putsAtStart;
        double putRate;
        if (libca)
        {
            // caEventRate prints "CA Event Rate (Hz): current X mean Y" after sample periods of 1, 2, 4 s...: the 2 s
            // and 4 s samples are taken.
            // stdbuf: caEventRate's printf is block-buffered into a pipe.
            var process = Start("/usr/bin/stdbuf", port, null, "-oL", Path.Combine(bin, "caEventRate"), "B:AO", Subscriptions.ToString(CultureInfo.InvariantCulture));
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var rates = new List<double>();
            putsAtStart = Interlocked.Read(ref puts);
            var started = Stopwatch.GetTimestamp();
            while (rates.Count < 3 && await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                if (EventRatePattern().Match(line) is { Success: true } match)
                {
                    rates.Add(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
                }
            }

            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            process.Refresh();
            cores = process.TotalProcessorTime.TotalSeconds / seconds;
            process.Kill();
            await process.WaitForExitAsync();
            events = (rates[1] * 2 + rates[2] * 4) / 6;
            putRate = (Interlocked.Read(ref puts) - putsAtStart) / seconds;
        }
        else
        {
            await using var client = new CaClient(options);
            long count = 0;
            var subscriptions = new List<CaSubscription>();
            for (var i = 0; i < Subscriptions; i++)
            {
                var channel = await client.ConnectAsync("B:AO");
                subscriptions.Add(await channel.SubscribeAsync(_ => Interlocked.Increment(ref count), MonitorMask.Value, DbrFamily.Plain));
            }

            await Task.Delay(1000);
            var countAtStart = Interlocked.Read(ref count);
            putsAtStart = Interlocked.Read(ref puts);
            var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
            var started = Stopwatch.GetTimestamp();
            await Task.Delay(6000);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            cores = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds / seconds;
            events = (Interlocked.Read(ref count) - countAtStart) / seconds;
            putRate = (Interlocked.Read(ref puts) - putsAtStart) / seconds;
        }

        producer.Kill();
        await producer.WaitForExitAsync();
        await reading;
        return new EventRate(events, putRate, cores);
    }

    /// <summary>The producer of <see cref="EventRateAsync"/>: puts B:AO at <paramref name="rate"/> a second and prints the puts made every 0.2 s.</summary>
    public static async Task<int> ProduceAsync(int port, int rate)
    {
        var options = new CaClientOptions { AutoAddressList = false, ServerPort = port, AddressList = { new IPEndPoint(IPAddress.Loopback, port) } };
        await using var client = new CaClient(options);
        var channel = await client.ConnectAsync("B:AO");
        var (value, puts, printed) = (0.0, 0L, 0L);
        var begun = Stopwatch.GetTimestamp();
        while (true)
        {
            var elapsed = Stopwatch.GetElapsedTime(begun).TotalSeconds;
            for (var owed = (long)(elapsed * rate) - puts; owed > 0; owed--)
            {
                await channel.PutAsync(value++, wait: false);
                puts++;
            }

            if (elapsed * 5 >= printed + 1)
            {
                printed++;
                Console.WriteLine(puts.ToString(CultureInfo.InvariantCulture));
            }

            await Task.Delay(1);
        }
    }

    private static Dictionary<string, double> Median(List<Dictionary<string, double>> runs) =>
        runs[0].Keys.ToDictionary(k => k, k => runs.Select(r => r[k]).Order().ElementAt(runs.Count / 2));

    private static async Task<Dictionary<string, double>> CatimeAsync(string bin, int port)
    {
        var process = Start(Path.Combine(bin, "catime"), port, null, "B:AO", Channels.ToString(CultureInfo.InvariantCulture));
        var text = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        double PerOp(string after)
        {
            var start = text.IndexOf(after, StringComparison.Ordinal);
            var match = PerOpPattern().Match(text, start);
            return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        var doubleSection = text.IndexOf("DBR_DOUBLE Test", StringComparison.Ordinal);
        double InDouble(string test)
        {
            var match = PerOpPattern().Match(text, text.IndexOf(test, doubleSection, StringComparison.Ordinal));
            return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        return new Dictionary<string, double>
        {
            ["connect"] = PerOp("Channel Connect Test"),
            ["put"] = InDouble("async put test"),
            ["get"] = InDouble("async get test"),
            ["sync"] = InDouble("synch get test"),
            ["latency"] = double.Parse(LatencyPattern().Match(text).Groups[1].Value, CultureInfo.InvariantCulture),
        };
    }

    private static async Task<(double P50, double P95)> OurClientRoundTripAsync(int port)
    {
        await using var client = new CaClient(new CaClientOptions { AutoAddressList = false, ServerPort = port, AddressList = { new IPEndPoint(IPAddress.Loopback, port) } });
        var channel = await client.ConnectAsync("B:AO");
        for (var i = 0; i < 200; i++)
        {
            await channel.GetAsync(DbrFamily.Plain);
        }

        var samples = new double[RoundTrips];
        for (var i = 0; i < RoundTrips; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await channel.GetAsync(DbrFamily.Plain);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(samples);
        return (samples[RoundTrips / 2], samples[RoundTrips * 95 / 100]);
    }

    private static async Task<(double P50, double P95)> PyepicsRoundTripAsync(int port)
    {
        var script = string.Create(CultureInfo.InvariantCulture, $$"""
            import epics, time
            pv = epics.PV('B:AO', auto_monitor=False)
            pv.wait_for_connection(5)
            for i in range(200): pv.get(use_monitor=False)
            s = []
            for i in range({{RoundTrips}}):
                t = time.perf_counter(); pv.get(use_monitor=False); s.append((time.perf_counter() - t) * 1e6)
            s.sort()
            print(s[len(s)//2], s[len(s)*95//100])
            """);
        var process = Start("/usr/bin/python3", port, null, "-c", script);
        var text = (await process.StandardOutput.ReadToEndAsync()).Trim().Split(' ');
        await process.WaitForExitAsync();
        return (double.Parse(text[0], CultureInfo.InvariantCulture), double.Parse(text[1], CultureInfo.InvariantCulture));
    }

    private static Process Start(string file, int port, string? folder, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        if (folder is not null)
        {
            start.WorkingDirectory = folder;
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["EPICS_CA_ADDR_LIST"] = "127.0.0.1";
        start.Environment["EPICS_CA_AUTO_ADDR_LIST"] = "NO";
        start.Environment["EPICS_CA_SERVER_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        var process = Process.Start(start)!;
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Root()
    {
        var directory = new DirectoryInfo(Directory.GetCurrentDirectory());
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "StxmWeb.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Run from inside the repository.");
    }

    /// <summary>Monitor updates a second the subscriber got, puts a second the producer made, and the subscriber's CPU (cores).</summary>
    private readonly record struct EventRate(double Events, double Puts, double Cores)
    {
        public double CpuMicroseconds => Cores * 1e6 / Events;

        public string CpuPerUpdate => string.Create(CultureInfo.InvariantCulture, $"{CpuMicroseconds:F2} µs CPU per update");
    }

    [GeneratedRegex(@"Per Op,\s+([\d.]+) uS")]
    private static partial Regex PerOpPattern();

    [GeneratedRegex(@"CA Event Rate \(Hz\): current ([\d.e+]+)")]
    private static partial Regex EventRatePattern();

    [GeneratedRegex(@"Get Latency - mean = ([\d.]+) uS")]
    private static partial Regex LatencyPattern();
}
