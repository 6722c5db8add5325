using System.Text.Json;
using Microsoft.Extensions.Options;
using StxmWeb.Core.Engine;
using StxmWeb.Core.Scans;
using StxmWeb.Options;

namespace StxmWeb.Services;

/// <summary>A scan waiting in the queue.</summary>
/// <param name="Id">Queue item id.</param>
/// <param name="Request">The validated request.</param>
/// <param name="User">Who queued it.</param>
/// <param name="Added">When.</param>
public sealed record QueueItem(Guid Id, ScanRequest Request, string User, DateTimeOffset Added);

/// <summary>The queue as the views and the API show it.</summary>
/// <param name="Held">Whether the queue waits (it starts nothing until released).</param>
/// <param name="Items">Waiting scans, in run order.</param>
/// <param name="CurrentRunId">The run the queue started last, while it runs.</param>
public sealed record QueueState(bool Held, IReadOnlyList<QueueItem> Items, Guid? CurrentRunId);

/// <summary>
/// The scan queue: scans are validated when queued (an invalid request never enters), reordered, removed, and run in
/// order, one after the other, through <see cref="ControlService"/>. "Hold" lets the current scan finish and starts no
/// other. The waiting scans and the hold are saved (atomically) under the data directory on every change, so the queue
/// survives a server restart; after a restart it comes back held, so nothing moves until someone releases it.
/// </summary>
public sealed partial class QueueRunner : BackgroundService
{
    private readonly ControlService _control;
    private readonly ILogger _logger;
    private readonly string _path;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private List<QueueItem> _items = [];
    private bool _held;
    private Guid? _current;

    /// <summary>Creates the queue and loads what was saved.</summary>
    public QueueRunner(ControlService control, IOptions<InstrumentOptions> options, ILogger<QueueRunner> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _control = control;
        _logger = logger;
        _path = Path.Combine(options.Value.DataDirectory, ".stxmweb", "queue.json");
        Load();
        _control.Changed += Wake;
    }

    /// <summary>Raised when the queue changes (any thread).</summary>
    public event Action? Changed;

    /// <summary>The queue now.</summary>
    public QueueState State
    {
        get
        {
            lock (_gate)
            {
                return new QueueState(_held, [.. _items], _current);
            }
        }
    }

    /// <summary>Queues a scan at the end. Invalid requests are refused with their problems.</summary>
    public CommandResult Add(ScanRequest? request, Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var problems = _control.Validate(request);
        if (problems.Count > 0)
        {
            return CommandResult.Invalid(problems);
        }

        var item = new QueueItem(Guid.NewGuid(), request!, caller.Name, DateTimeOffset.UtcNow);
        Update(() => _items.Add(item));
        LogQueued(_logger, caller, item.Id, request!.ScanType);
        return CommandResult.Ok(item.Id);
    }

    /// <summary>Removes a waiting scan.</summary>
    public CommandResult Remove(Guid id, Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var removed = false;
        Update(() => removed = _items.RemoveAll(i => i.Id == id) > 0);
        return removed ? CommandResult.Ok() : NotQueued(id);
    }

    /// <summary>Moves a waiting scan to <paramref name="index"/> (0 runs next).</summary>
    public CommandResult Move(Guid id, int index, Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var moved = false;
        var count = 0;
        Update(() =>
        {
            count = _items.Count;
            var at = _items.FindIndex(i => i.Id == id);
            if (at < 0 || index < 0 || index >= _items.Count)
            {
                return;
            }

            var item = _items[at];
            _items.RemoveAt(at);
            _items.Insert(index, item);
            moved = true;
        });
        if (moved)
        {
            return CommandResult.Ok();
        }

        return _items.Any(i => i.Id == id)
            ? CommandResult.Invalid([new FieldProblem("index", $"The position must be 0 to {count - 1}; got {index}.")])
            : NotQueued(id);
    }

    /// <summary>Holds the queue: the current scan finishes, no other starts.</summary>
    public CommandResult Hold(Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        Update(() => _held = true);
        LogHeld(_logger, caller, true);
        return CommandResult.Ok();
    }

    /// <summary>Releases the queue: the next scan starts as soon as the instrument is idle.</summary>
    public CommandResult Release(Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        Update(() => _held = false);
        LogHeld(_logger, caller, false);
        return CommandResult.Ok();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await _wake.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
            await _control.WhenIdleAsync().WaitAsync(stoppingToken).ConfigureAwait(false);
            QueueItem? next;
            lock (_gate)
            {
                next = !_held && _items.Count > 0 && _control.Progress.State == EngineState.Idle ? _items[0] : null;
            }

            if (next is null)
            {
                continue;
            }

            var result = _control.StartScan(next.Request, new Caller(next.User, "queue"));
            if (result.Accepted)
            {
                Update(() =>
                {
                    _items.RemoveAll(i => i.Id == next.Id);
                    _current = result.RunId;
                });
            }
            else if (!result.Conflict)
            {
                // The instrument changed since it was queued (limits, say): the scan cannot run; hold so the user sees why.
                LogRefused(_logger, next.Id, string.Join("; ", result.Problems.Select(p => $"{p.Field}: {p.Message}")));
                Update(() =>
                {
                    _items.RemoveAll(i => i.Id == next.Id);
                    _held = true;
                });
            }
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _control.Changed -= Wake;
        _wake.Dispose();
        base.Dispose();
    }

    private static CommandResult NotQueued(Guid id) => CommandResult.Invalid([new FieldProblem("id", $"No waiting scan has id {id}.")]);

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (ObjectDisposedException)
        {
            // Shutting down.
        }
    }

    private void Update(Action change)
    {
        lock (_gate)
        {
            change();
            Save();
        }

        Wake();
        Changed?.Invoke();
    }

    private sealed record Saved(bool Held, List<QueueItem> Items);

    private void Save()
    {
        try
        {
            AtomicFile.WriteAllText(_path, JsonSerializer.Serialize(new Saved(_held, _items), ScanDefinitionStore.Json));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogUnsaved(_logger, _path, ex);
        }
    }

    private void Load()
    {
        try
        {
            if (File.Exists(_path) && JsonSerializer.Deserialize<Saved>(File.ReadAllText(_path), ScanDefinitionStore.Json) is { } saved)
            {
                _items = saved.Items ?? [];

                // After a restart nothing starts by itself: the sample or the beam may have changed meanwhile.
                _held = _items.Count > 0 || saved.Held;
                LogRestored(_logger, _items.Count, _path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            LogUnsaved(_logger, _path, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Caller} queued {Id} ({ScanType})")]
    private static partial void LogQueued(ILogger logger, Caller caller, Guid id, ScanType scanType);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Caller}: queue held = {Held}")]
    private static partial void LogHeld(ILogger logger, Caller caller, bool held);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queued scan {Id} refused at start, queue held: {Reason}")]
    private static partial void LogRefused(ILogger logger, Guid id, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue restored: {Count} scans from {Path}, held")]
    private static partial void LogRestored(ILogger logger, int count, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue file {Path} cannot be read or written")]
    private static partial void LogUnsaved(ILogger logger, string path, Exception exception);
}
