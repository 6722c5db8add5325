using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace StxmWeb.Testing;

/// <summary>A SignalR MessagePack client of the live hub, as a remote viewer would be.</summary>
internal sealed class LiveClient : IAsyncDisposable
{
    private readonly HubConnection _connection;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> _stopped = new();

    public LiveClient(Uri server)
    {
        _connection = new HubConnectionBuilder().WithUrl(new Uri(server, "/hubs/live")).AddMessagePackProtocol().Build();
        _connection.On<string>("runStart", json =>
        {
            using var doc = JsonDocument.Parse(json);
            RunId = doc.RootElement.GetProperty("runId").GetString();
            lock (Pixels)
            {
                Pixels.Clear();
                Doubled = 0;
            }
        });
        _connection.On<string, int[], byte[], double>("lines", (runId, header, payload, sent) =>
        {
            Assert.Equal(RunId, runId);
            var received = DateTimeOffset.UtcNow;
            Stamps.Add((runId, DateTimeOffset.UnixEpoch.AddTicks((long)(sent * TimeSpan.TicksPerMillisecond)), received));
            var offset = 0;
            lock (Pixels)
            {
                for (var i = 0; i < header.Length; i += 5)
                {
                    for (var k = 0; k < header[i + 4]; k++, offset += 4)
                    {
                        var key = (header[i + 2], header[i + 3] + k);
                        if (Pixels.ContainsKey(key))
                        {
                            Doubled++;
                        }

                        Pixels[key] = BinaryPrimitives.ReadSingleLittleEndian(payload.AsSpan(offset));
                    }
                }
            }
        });
        _connection.On<string, string, string>("runStop", (runId, status, _) =>
        {
            // A client that connects between runs is first sent the previous run, stop included: key stops by run.
            if (runId == RunId)
            {
                Status = status;
            }

            Stop(runId).TrySetResult();
        });
    }

    public string? RunId { get; private set; }

    public string? Status { get; private set; }

    public Dictionary<(int Row, int Column), double> Pixels { get; } = [];

    /// <summary>Each lines message's run, server stamp (the <c>sent</c> argument) and when this client had it.</summary>
    public System.Collections.Concurrent.ConcurrentBag<(string RunId, DateTimeOffset Sent, DateTimeOffset Received)> Stamps { get; } = [];

    /// <summary>Pixels received twice within the same run.</summary>
    public int Doubled { get; private set; }

    public Task StoppedAsync(string runId) => Stop(runId).Task;

    private TaskCompletionSource Stop(string runId) =>
        _stopped.GetOrAdd(runId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public Task StartAsync() => _connection.StartAsync();

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
