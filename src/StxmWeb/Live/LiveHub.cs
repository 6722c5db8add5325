using Microsoft.AspNetCore.SignalR;

namespace StxmWeb.Live;

/// <summary>
/// The live-data hub (<c>/hubs/live</c>, MessagePack or JSON). Browsers' image viewers and external clients connect here;
/// the server pushes <c>runStart</c> (JSON metadata), <c>lines</c> (binary float32 pixels with their positions) and
/// <c>runStop</c>. A client that joins mid-run first receives the run so far. The hub is thin: the
/// <see cref="LiveBroadcaster"/> owns each connection's queue and sender.
/// </summary>
public sealed class LiveHub(LiveBroadcaster broadcaster) : Hub
{
    /// <summary>Method names the clients receive.</summary>
    public static class Methods
    {
        /// <summary><c>runStart(json)</c>.</summary>
        public const string RunStart = "runStart";

        /// <summary><c>lines(runId, int[] header: plane,row,column,count per line, byte[] float32 little-endian values)</c>.</summary>
        public const string Lines = "lines";

        /// <summary><c>runStop(runId, status, reason)</c>.</summary>
        public const string RunStop = "runStop";
    }

    /// <inheritdoc />
    public override Task OnConnectedAsync()
    {
        broadcaster.Join(Context.ConnectionId);
        return base.OnConnectedAsync();
    }

    /// <inheritdoc />
    public override Task OnDisconnectedAsync(Exception? exception)
    {
        broadcaster.Leave(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }
}
