using System.Text.Json;

namespace StxmWeb.Nexus.Import;

/// <summary>A document stream that cannot be imported: what is wrong and where (the run and the field).</summary>
public sealed class BlueskyImportException(string message) : Exception(message);

/// <summary>
/// One recorded Bluesky run (the event model: start, descriptors, events, stop). Events keep their order; each knows
/// the stream (the descriptor's <c>name</c>: primary, baseline...) it belongs to.
/// </summary>
/// <param name="Uid">The run's uid.</param>
/// <param name="Start">The start document.</param>
/// <param name="Events">Every event, in recorded order, with its stream name.</param>
/// <param name="DataKeys">Each stream's <c>data_keys</c> (shape, dtype, source, units of every signal).</param>
/// <param name="Stop">The stop document, when the run has one (a crashed run has none).</param>
public sealed record BlueskyRun(string Uid, JsonElement Start, IReadOnlyList<BlueskyEvent> Events, IReadOnlyDictionary<string, JsonElement> DataKeys, JsonElement? Stop)
{
    /// <summary>Short form of the uid, for messages.</summary>
    public string ShortUid => Uid.Length > 8 ? Uid[..8] : Uid;

    /// <summary>The events of one stream, ordered by <c>seq_num</c>.</summary>
    public IReadOnlyList<BlueskyEvent> Stream(string name) => [.. Events.Where(e => e.Stream == name).OrderBy(e => e.SeqNum)];

    /// <summary>The start document's <c>time</c>.</summary>
    public DateTimeOffset StartTime => Start.TryGetProperty("time", out var t) && t.ValueKind == JsonValueKind.Number
        ? DateTimeOffset.FromUnixTimeMilliseconds((long)(t.GetDouble() * 1000)) : DateTimeOffset.UnixEpoch;

    /// <summary>The stop document's <c>time</c>, or the last event's when the run has no stop.</summary>
    public DateTimeOffset StopTime => Stop is { } stop && stop.TryGetProperty("time", out var t) && t.ValueKind == JsonValueKind.Number
        ? DateTimeOffset.FromUnixTimeMilliseconds((long)(t.GetDouble() * 1000))
        : Events.Count > 0 ? Events[^1].Time : StartTime;
}

/// <summary>An event: its stream, sequence number, time and data (signal name → value).</summary>
/// <param name="Stream">The stream (descriptor name).</param>
/// <param name="SeqNum">1-based sequence number within the stream.</param>
/// <param name="Time">When it was taken.</param>
/// <param name="Data">The event's <c>data</c> object.</param>
public sealed record BlueskyEvent(string Stream, int SeqNum, DateTimeOffset Time, JsonElement Data);

/// <summary>
/// Reads recorded Bluesky document streams as pyStxm saves them (shared/data/pystxm-bluesky-runs): a JSON object (or a
/// JSON string holding one) that maps each run uid to its documents, in order, as <c>[name, doc]</c> pairs.
/// </summary>
public static class BlueskyDocuments
{
    /// <summary>Parses every run of a document file; runs keep the file's order.</summary>
    /// <exception cref="BlueskyImportException">The text is not such a document file; the message says where.</exception>
    public static IReadOnlyList<BlueskyRun> Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonElement root;
        try
        {
            root = Decode(json);
            if (root.ValueKind == JsonValueKind.String)
            {
                // pyStxm dumps the dictionary to a string, then the string to the file: decode twice.
                root = Decode(root.GetString()!);
            }
        }
        catch (JsonException ex)
        {
            throw new BlueskyImportException($"The file is not JSON: {ex.Message}");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new BlueskyImportException($"The file's top level is a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an object mapping run uids to their documents.");
        }

        var runs = new List<BlueskyRun>();
        foreach (var run in root.EnumerateObject())
        {
            runs.Add(ParseRun(run.Name, run.Value));
        }

        if (runs.Count == 0)
        {
            throw new BlueskyImportException("The file holds no runs.");
        }

        return runs;
    }

    private static JsonElement Decode(string json)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        return document.RootElement.Clone();
    }

    private static BlueskyRun ParseRun(string uid, JsonElement documents)
    {
        var where = $"run {(uid.Length > 8 ? uid[..8] : uid)}";
        if (documents.ValueKind != JsonValueKind.Array)
        {
            throw new BlueskyImportException($"{where}: its documents are not a list of [name, document] pairs.");
        }

        JsonElement? start = null;
        JsonElement? stop = null;
        var streams = new Dictionary<string, string>();
        var dataKeys = new Dictionary<string, JsonElement>();
        var events = new List<BlueskyEvent>();
        var index = 0;
        foreach (var pair in documents.EnumerateArray())
        {
            if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2 || pair[0].ValueKind != JsonValueKind.String || pair[1].ValueKind != JsonValueKind.Object)
            {
                throw new BlueskyImportException($"{where}: document {index} is not a [name, document] pair.");
            }

            var doc = pair[1];
            switch (pair[0].GetString())
            {
                case "start":
                    start = doc;
                    break;
                case "stop":
                    stop = doc;
                    break;
                case "descriptor":
                    var descriptorUid = Text(doc, "uid", $"{where}: descriptor {index}");
                    var name = doc.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "primary";
                    streams[descriptorUid] = name;
                    if (doc.TryGetProperty("data_keys", out var keys) && keys.ValueKind == JsonValueKind.Object)
                    {
                        dataKeys[name] = keys;
                    }

                    break;
                case "event":
                    var descriptor = Text(doc, "descriptor", $"{where}: event {index}");
                    if (!streams.TryGetValue(descriptor, out var stream))
                    {
                        throw new BlueskyImportException($"{where}: event {index} names descriptor {descriptor}, which no earlier descriptor document declares.");
                    }

                    if (!doc.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
                    {
                        throw new BlueskyImportException($"{where}: event {index} has no data object.");
                    }

                    var seq = doc.TryGetProperty("seq_num", out var s) && s.TryGetInt32(out var sn) ? sn : events.Count(e => e.Stream == stream) + 1;
                    var time = doc.TryGetProperty("time", out var t) && t.ValueKind == JsonValueKind.Number
                        ? DateTimeOffset.FromUnixTimeMilliseconds((long)(t.GetDouble() * 1000)) : DateTimeOffset.UnixEpoch;
                    events.Add(new BlueskyEvent(stream, seq, time, data));
                    break;
            }

            index++;
        }

        if (start is null)
        {
            throw new BlueskyImportException($"{where}: no start document.");
        }

        return new BlueskyRun(uid, start.Value, events, dataKeys, stop);
    }

    private static string Text(JsonElement doc, string property, string where) =>
        doc.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new BlueskyImportException($"{where}: no '{property}'.");
}
