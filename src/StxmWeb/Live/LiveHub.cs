using Microsoft.AspNetCore.Http;
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
    /// <summary>Bytes the websocket transport holds for a connection before the broadcaster's writes wait (SignalR's default is 64 KB).</summary>
    public const long TransportBufferBytes = 256 * 1024;

    /// <summary>Method names the clients receive.</summary>
    public static class Methods
    {
        /// <summary><c>runStart(json)</c>.</summary>
        public const string RunStart = "runStart";

        /// <summary>
        /// <c>lines(runId, int[] header: entry,plane,row,column,count per line, byte[] float32 little-endian values, double sent)</c>;
        /// <c>sent</c> is the server's clock as it made the message (milliseconds since 1970, UTC; the run so far that a
        /// joining client is sent first may be in messages made earlier, for the viewers that joined before it).
        /// </summary>
        public const string Lines = "lines";

        /// <summary>
        /// <c>linesq(runId, int[] header, byte[] codes, float low, float high, int bits, double sent)</c>: lines windowed to 16
        /// (little-endian uint16) or 8 bits; code k of 0..max−1 is low + k·(high − low)/(max − 1), the top code is "no value yet".
        /// </summary>
        public const string WindowedLines = "linesq";

        /// <summary><c>runStop(runId, status, reason)</c>.</summary>
        public const string RunStop = "runStop";
    }

    /// <summary>
    /// Asks for a lighter stream, or full resolution again: images no larger than <paramref name="maxWidth"/> ×
    /// <paramref name="maxHeight"/> (binned; 0 = full resolution) and <paramref name="bits"/> per value (32, 16 or 8).
    /// The run so far is sent again in that form (runStart carries <c>bin</c> per entry and <c>bits</c>).
    /// </summary>
    public void SetView(int maxWidth, int maxHeight, int bits) => broadcaster.SetView(Context.ConnectionId, View(maxWidth, maxHeight, bits));

    /// <summary>
    /// Joins the connection to the live runs. A browser may name its view in the hub URL's query
    /// (<c>?maxWidth=…&amp;maxHeight=…&amp;bits=…</c>, as <see cref="SetView"/>), so that the run so far comes once, in that
    /// form; without them it gets full resolution.
    /// </summary>
    public override Task OnConnectedAsync()
    {
        var query = Context.GetHttpContext()?.Request.Query;
        LiveView? view = null;
        if (query is not null && (query.ContainsKey("maxWidth") || query.ContainsKey("maxHeight") || query.ContainsKey("bits")))
        {
            view = View(Number(query, "maxWidth", 0), Number(query, "maxHeight", 0), Number(query, "bits", 32));
        }

        broadcaster.Join(Context.ConnectionId, view);
        return base.OnConnectedAsync();
    }

    private static int Number(IQueryCollection query, string name, int otherwise)
    {
        if (!query.TryGetValue(name, out var text))
        {
            return otherwise;
        }

        return int.TryParse(text.ToString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new HubException($"{name}: '{text}' is not a whole number.");
    }

    private static LiveView View(int maxWidth, int maxHeight, int bits)
    {
        if (bits is not (32 or 16 or 8))
        {
            throw new HubException($"bits: {bits} is not 32, 16 or 8.");
        }

        if (maxWidth < 0 || maxHeight < 0 || maxWidth > 100_000 || maxHeight > 100_000)
        {
            throw new HubException("maxWidth, maxHeight: must be 0 (full resolution) or a size in pixels up to 100000.");
        }

        return new LiveView(maxWidth, maxHeight, bits);
    }

    /// <inheritdoc />
    public override Task OnDisconnectedAsync(Exception? exception)
    {
        broadcaster.Leave(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }
}
