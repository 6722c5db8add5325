using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.Core.Documents;
using StxmWeb.Core.Scans;
using StxmWeb.Live;

namespace StxmWeb.Tests.Live;

/// <summary>
/// A connection that stops reading must not hold back the scan or the other viewers, and must not grow without bound:
/// SignalR's own connection (HubConnectionContext with the MessagePack protocol) over a transport pipe with the
/// backpressure SignalR's transports have (a writer paused past 64 KB), one read and one not read until the run ends.
/// </summary>
public sealed class LiveBroadcasterBackpressureTests
{
    private const int Width = 500;
    private const int Rows = 2500; // two passes: 10 MB of float32, more than the paused pipe holds and than a connection may have waiting in shared batches

    [Fact(Timeout = 60_000)]
    public async Task ASlowConnection_GetsTheNewestCopyOfEachLine_WhileTheFastOneGetsEveryLineInTime()
    {
        var ct = TestContext.Current.CancellationToken;
        var connections = new LiveConnections();
        await using var broadcaster = new LiveBroadcaster(connections, NullLogger<LiveBroadcaster>.Instance);
        var fast = Connect(connections, broadcaster, "fast");
        var slow = Connect(connections, broadcaster, "slow");
        var fastReading = fast.ReadAllAsync(until: "runStop", ct);

        var run = Guid.NewGuid();
        var request = ScanRequest.SampleImage(new AxisRegion(0, 10, Width), new AxisRegion(0, 8, Rows), 1, 700);
        await broadcaster.ConsumeAsync(new RunStart(run, 1, request, DateTimeOffset.UnixEpoch, "tester", "/tmp/x.hdf5"), ct);
        await broadcaster.ConsumeAsync(new Descriptor(run, "counter0", "counts", ScanType.SampleImage,
            [new EntryDescriptor("entry0", [1, Rows, Width], [], [700], [1], "sample image")], TimeSpan.FromSeconds(1)), ct);
        // Two passes over the image (as a repeated region would be): the second's lines are newer copies of the first's.
        for (var sequence = 0; sequence < 2 * Rows; sequence++)
        {
            var (row, pass) = (sequence % Rows, sequence / Rows);
            var values = Enumerable.Range(0, Width).Select(c => (double)((pass * 1_000_000) + (row * Width) + c)).ToArray();
            await broadcaster.ConsumeAsync(new Frame(run, sequence + 1, 0, 0, row, 0, values, DateTimeOffset.UnixEpoch, 200), ct);
            if (sequence % 100 == 0)
            {
                await Task.Delay(BatchIntervalMs, ct); // a scan's pace: many batches while the slow one reads nothing
            }
        }

        await broadcaster.ConsumeAsync(new RunStop(run, ExitStatus.Success, "", DateTimeOffset.UnixEpoch, 2 * Rows), ct);

        // The fast connection has the whole run, every line of both passes, while the slow one has read nothing at all
        // and the server wrote it no more than its transport holds (plus the message that filled it).
        var fastMessages = await fastReading.WaitAsync(TimeSpan.FromSeconds(30), ct);
        var fastLines = Lines(fastMessages);
        Assert.Equal(2 * Rows, fastLines.Count);
        Assert.All(fastLines.CountBy(l => l.Row), pair => Assert.Equal(2, pair.Value));
        Assert.Equal(0, slow.BytesRead);
        Assert.True(slow.Buffered <= LiveHub.TransportBufferBytes + (LiveBroadcaster.MessageValues * sizeof(float) * 2),
            $"the slow connection's transport holds {slow.Buffered} bytes: the broadcaster wrote past SignalR's backpressure");

        // Then it reads: every row, each ending with its newest value, in fewer lines than were taken (older copies that
        // were never delivered were replaced), ending with the stop.
        var slowMessages = await slow.ReadAllAsync(until: "runStop", ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        var slowLines = Lines(slowMessages);
        Assert.Equal(Enumerable.Range(0, Rows), slowLines.Select(l => l.Row).Distinct().Order());
        Assert.True(slowLines.Count < 2 * Rows, $"the slow connection got {slowLines.Count} lines of {2 * Rows}: nothing was coalesced");
        var newest = slowLines.GroupBy(l => l.Row).ToDictionary(g => g.Key, g => g.Last().First);
        Assert.All(newest, pair => Assert.Equal(1_000_000 + (pair.Key * Width), pair.Value));
        Assert.Equal("runStart", slowMessages[0].Target);
        Assert.Equal("runStop", slowMessages[^1].Target);
    }

    private const int BatchIntervalMs = 20;

    /// <summary>The lines of the <c>lines</c> messages, in order: row and first value.</summary>
    private static List<(int Row, float First)> Lines(IEnumerable<InvocationMessage> messages) =>
        [.. messages.Where(m => m.Target == "lines").SelectMany(m =>
        {
            var (header, payload) = ((int[])m.Arguments[1]!, (byte[])m.Arguments[2]!);
            var lines = new List<(int, float)>();
            for (int i = 0, offset = 0; i < header.Length; offset += header[i + 4] * sizeof(float), i += LiveBroadcaster.HeaderStride)
            {
                lines.Add((header[i + 2], BitConverter.ToSingle(payload, offset)));
            }

            return lines;
        })];

    private static TestConnection Connect(LiveConnections connections, LiveBroadcaster broadcaster, string id)
    {
        // SignalR's transports pause the hub's writer past their buffer size (set for the live hub in Program.cs).
        var toClient = new Pipe(new PipeOptions(pauseWriterThreshold: LiveHub.TransportBufferBytes, resumeWriterThreshold: LiveHub.TransportBufferBytes / 2));
        var fromClient = new Pipe();
        var context = new DefaultConnectionContext(id, new Duplex(fromClient.Reader, toClient.Writer), new Duplex(toClient.Reader, fromClient.Writer));
        var connection = new HubConnectionContext(context, new HubConnectionContextOptions
        {
            KeepAliveInterval = TimeSpan.FromMinutes(5), ClientTimeoutInterval = TimeSpan.FromMinutes(5), StreamBufferCapacity = 10,
        }, NullLoggerFactory.Instance)
        {
            Protocol = new MessagePackHubProtocol(),
        };
        connections.Add(connection);
        broadcaster.Join(id);
        return new TestConnection(toClient.Reader);
    }

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>The client end of a connection: reads the hub messages the server wrote.</summary>
    private sealed class TestConnection(PipeReader reader)
    {
        private static readonly MessagePackHubProtocol Protocol = new();

        public long BytesRead { get; private set; }

        /// <summary>Bytes written and not yet read (peeked without consuming).</summary>
        public long Buffered
        {
            get
            {
                if (!reader.TryRead(out var result))
                {
                    return 0;
                }

                var length = result.Buffer.Length;
                reader.AdvanceTo(result.Buffer.Start); // nothing consumed or examined: the next read sees it all
                return length;
            }
        }

        public async Task<List<InvocationMessage>> ReadAllAsync(string until, CancellationToken cancellationToken)
        {
            var messages = new List<InvocationMessage>();
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                var before = buffer.Length;
                while (Protocol.TryParseMessage(ref buffer, Binder.Instance, out var message))
                {
                    if (message is InvocationMessage invocation)
                    {
                        messages.Add(invocation);
                        if (invocation.Target == until)
                        {
                            BytesRead += before - buffer.Length;
                            reader.AdvanceTo(buffer.Start, buffer.End);
                            return messages;
                        }
                    }
                }

                BytesRead += before - buffer.Length;
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    /// <summary>The argument types of the live hub's client methods.</summary>
    private sealed class Binder : IInvocationBinder
    {
        public static readonly Binder Instance = new();

        public IReadOnlyList<Type> GetParameterTypes(string methodName) => methodName switch
        {
            "runStart" => [typeof(string)],
            "lines" => [typeof(string), typeof(int[]), typeof(byte[]), typeof(double)],
            "runStop" => [typeof(string), typeof(string), typeof(string)],
            _ => throw new InvalidOperationException($"unexpected live message {methodName}"),
        };

        public Type GetReturnType(string invocationId) => typeof(object);

        public Type GetStreamItemType(string streamId) => typeof(object);
    }
}
