using System.Buffers.Binary;
using System.Text.Json;
using StackExchange.Redis;
using StxmWeb.Core.Documents;

namespace StxmWeb.Live;

/// <summary>
/// Scale-out of the live path (<c>Live:Redis</c>): several StxmWeb instances behind one Redis show each other's runs.
/// Each instance appends the live documents of its own runs (start, descriptor, lines, stop) to one Redis stream, which
/// always holds the current run from its start; each instance reads the stream from the beginning and then its tail, and
/// hands the other instances' documents to its own <see cref="LiveBroadcaster"/>. A browser on any instance therefore
/// gets the run so far and then the live tail, with its own queue and coalescing, as on the instance that runs it.
/// (SignalR's Redis backplane alone could not do this: it forwards messages, it keeps no history for a late joiner, and
/// each broadcaster's per-connection queues live with its connections.) Publishing never waits on Redis: a slow or lost
/// Redis cannot slow the scan.
/// </summary>
public sealed partial class RedisLiveRelay : IDocumentConsumer, IHostedService, IAsyncDisposable
{
    /// <summary>The stream that holds the current run.</summary>
    public const string StreamKey = "stxmweb:live";

    /// <summary>Entries the stream keeps at most (about trimmed): the longest run a late joiner on another instance sees whole.</summary>
    public const int MaxEntries = 500_000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string _origin = Guid.NewGuid().ToString("N");
    private readonly string _configuration;
    private readonly LiveBroadcaster _local;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private ConnectionMultiplexer? _redis;
    private Task _reader = Task.CompletedTask;

    public RedisLiveRelay(string configuration, LiveBroadcaster local, ILogger<RedisLiveRelay> logger)
    {
        _configuration = configuration;
        _local = local;
        _logger = logger;
    }

    /// <summary>Documents of other instances handed to this one's viewers so far.</summary>
    public long Relayed => Interlocked.Read(ref _relayed);

    private long _relayed;
    private int _disposed;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = ConfigurationOptions.Parse(_configuration);
        options.AbortOnConnectFail = false; // Redis may come later; the relay reconnects by itself
        _redis = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        LogConnected(_logger, _configuration, _redis.IsConnected);
        _reader = ReadAsync(_stop.Token);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _reader.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask ConsumeAsync(Document document, CancellationToken cancellationToken)
    {
        if (_redis is not { } redis || Encode(document) is not { } encoded)
        {
            return ValueTask.CompletedTask;
        }

        var db = redis.GetDatabase();
        if (document is RunStart)
        {
            // A new run replaces the last one: the stream holds the current run from its start.
            db.KeyDelete(StreamKey, CommandFlags.FireAndForget);
        }

        db.StreamAdd(StreamKey, [new("o", _origin), new("t", encoded.Type), new("d", encoded.Data)],
            maxLength: MaxEntries, useApproximateMaxLength: true, flags: CommandFlags.FireAndForget);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // Registered as a singleton and as a hosted service: the container disposes it twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _reader.ConfigureAwait(false);
        if (_redis is not null)
        {
            await _redis.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    /// <summary>Reads the stream from its start, then its tail, every few milliseconds.</summary>
    private async Task ReadAsync(CancellationToken token)
    {
        RedisValue last = "0-0";
        while (!token.IsCancellationRequested)
        {
            StreamEntry[] entries;
            try
            {
                entries = await _redis!.GetDatabase().StreamReadAsync(StreamKey, last, count: 2000).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or RedisTimeoutException or RedisConnectionException)
            {
                LogReadFailed(_logger, ex.Message);
                entries = [];
                await Delay(TimeSpan.FromSeconds(1), token).ConfigureAwait(false);
            }

            foreach (var entry in entries)
            {
                last = entry.Id;
                Document? document;
                try
                {
                    document = entry["o"] == _origin ? null : Decode(entry["t"], entry["d"]);
                }
                catch (JsonException ex)
                {
                    // An entry this version cannot read (another StxmWeb version, a stray writer) is skipped.
                    LogUnreadable(_logger, entry.Id.ToString(), ex.Message);
                    continue;
                }

                if (document is null)
                {
                    continue;
                }

                await _local.ConsumeAsync(document, token).ConfigureAwait(false);
                Interlocked.Increment(ref _relayed);
            }

            if (entries.Length == 0)
            {
                await Delay(TimeSpan.FromMilliseconds(5), token).ConfigureAwait(false);
            }
        }
    }

    private static async Task Delay(TimeSpan delay, CancellationToken token)
    {
        try
        {
            await Task.Delay(delay, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>A live document as a stream entry: lines in a compact binary form, the rest as JSON.</summary>
    internal static (string Type, byte[] Data)? Encode(Document document) => document switch
    {
        Frame frame => ("frame", EncodeFrame(frame)),
        RunStart start => ("start", JsonSerializer.SerializeToUtf8Bytes(start, Json)),
        Descriptor descriptor => ("descriptor", JsonSerializer.SerializeToUtf8Bytes(descriptor, Json)),
        RunStop stop => ("stop", JsonSerializer.SerializeToUtf8Bytes(stop, Json)),
        _ => null, // area-detector frames and the rest are not shown live
    };

    internal static Document? Decode(RedisValue type, RedisValue data)
    {
        var bytes = (byte[]?)data;
        if (bytes is null)
        {
            return null;
        }

        return (string?)type switch
        {
            "frame" => DecodeFrame(bytes),
            "start" => JsonSerializer.Deserialize<RunStart>(bytes, Json),
            "descriptor" => JsonSerializer.Deserialize<Descriptor>(bytes, Json),
            "stop" => JsonSerializer.Deserialize<RunStop>(bytes, Json),
            _ => null,
        };
    }

    private const int FrameHeader = 16 + (5 * sizeof(int)) + sizeof(long) + sizeof(double);

    private static byte[] EncodeFrame(Frame frame)
    {
        var bytes = new byte[FrameHeader + (frame.Values.Length * sizeof(double))];
        var span = bytes.AsSpan();
        frame.RunId.TryWriteBytes(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], frame.Sequence);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], frame.Entry);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], frame.Plane);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], frame.Row);
        BinaryPrimitives.WriteInt32LittleEndian(span[32..], frame.Column);
        BinaryPrimitives.WriteInt64LittleEndian(span[36..], frame.Time.UtcTicks);
        BinaryPrimitives.WriteDoubleLittleEndian(span[44..], frame.RingCurrent);
        for (var i = 0; i < frame.Values.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(span[(FrameHeader + (i * sizeof(double)))..], frame.Values[i]);
        }

        return bytes;
    }

    private static Frame? DecodeFrame(byte[] bytes)
    {
        if (bytes.Length < FrameHeader || (bytes.Length - FrameHeader) % sizeof(double) != 0)
        {
            return null;
        }

        var span = bytes.AsSpan();
        var values = new double[(bytes.Length - FrameHeader) / sizeof(double)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadDoubleLittleEndian(span[(FrameHeader + (i * sizeof(double)))..]);
        }

        return new Frame(new Guid(span[..16]), BinaryPrimitives.ReadInt32LittleEndian(span[16..]), BinaryPrimitives.ReadInt32LittleEndian(span[20..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[24..]), BinaryPrimitives.ReadInt32LittleEndian(span[28..]), BinaryPrimitives.ReadInt32LittleEndian(span[32..]),
            values, new DateTimeOffset(BinaryPrimitives.ReadInt64LittleEndian(span[36..]), TimeSpan.Zero), BinaryPrimitives.ReadDoubleLittleEndian(span[44..]));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Live scale-out through Redis {Configuration} (connected: {Connected})")]
    private static partial void LogConnected(ILogger logger, string configuration, bool connected);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Live stream entry {Id} skipped: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string id, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the live stream from Redis failed: {Reason}")]
    private static partial void LogReadFailed(ILogger logger, string reason);
}
