using Microsoft.Extensions.Logging;
using StxmWeb.Core.Devices;
using StxmWeb.Core.Plans;
using StxmWeb.Pixelator.Client;
using StxmWeb.Pixelator.Protocol;

namespace StxmWeb.Pixelator.Backend;

/// <summary>
/// The microscope behind a PixelatorController. The controller owns the hardware and runs the scans (through
/// <see cref="PixelatorScanRunner"/>); StxmWeb sees its positioners (moved with moveRequest, read from positionerStatus)
/// and a counter read through the controller's oscilloscope. When the controller falls silent every positioner shows the
/// fault and waiting moves fail; when it publishes again the instrument initializes again (the controller may have
/// restarted with other definitions).
/// </summary>
public sealed partial class PixelatorInstrument : IInstrument, IAsyncDisposable
{
    private readonly PixelatorOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<string, PixelatorPositioner> _byControllerName;
    private readonly Dictionary<string, PixelatorPositioner> _byName;
    private readonly IDisposable _subscription;
    private readonly CancellationTokenSource _stop = new();
    private IReadOnlyList<string> _statusOrder;
    private double _ringCurrent = double.NaN;
    private Task _reinitialize = Task.CompletedTask;

    private PixelatorInstrument(PixelatorClient client, PixelatorOptions options, InitializeReply init, ILogger logger)
    {
        Client = client;
        _options = options;
        _logger = logger;
        Names = options.Names;
        Initialization = init;
        var positioners = init.Positioners
            .Where(d => !string.Equals(d.Name, options.RingCurrent, StringComparison.OrdinalIgnoreCase))
            .Select(d => new PixelatorPositioner(client, Names.ToRole(d.Name), d))
            .ToList();
        Positioners = positioners;
        _byControllerName = positioners.ToDictionary(p => p.ControllerName, StringComparer.OrdinalIgnoreCase);
        _byName = positioners.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        _statusOrder = [.. init.Positioners.Select(d => d.Name)];
        var detector = init.Detectors.FirstOrDefault(d => d.Name == options.Channel);
        Counter = new PixelatorCounter(client, options.Channel, detector?.Unit ?? "counts");
        _subscription = client.Subscribe(OnPublished);
        client.AliveChanged += OnAliveChanged;
    }

    /// <summary>The connection.</summary>
    public PixelatorClient Client { get; }

    /// <summary>The controller's names of StxmWeb's positioners.</summary>
    public PixelatorNames Names { get; }

    /// <summary>What the controller said when StxmWeb last initialized.</summary>
    public InitializeReply Initialization { get; private set; }

    /// <summary>The recorded channel: the one StxmWeb writes as its counter.</summary>
    public string Channel => _options.Channel;

    /// <inheritdoc />
    public IReadOnlyList<IPositioner> Positioners { get; }

    /// <inheritdoc />
    public ICounter Counter { get; }

    /// <inheritdoc />
    public IPositioner SampleX => _byName[Roles.SampleX];

    /// <inheritdoc />
    public IPositioner SampleY => _byName[Roles.SampleY];

    /// <inheritdoc />
    public IPositioner Energy => _byName[Roles.Energy];

    /// <inheritdoc />
    public double RingCurrent => Volatile.Read(ref _ringCurrent);

    /// <summary>The controller runs fewer scan types than StxmWeb's engine, one polarization and one region at a time.</summary>
    public BackendCapabilities Capabilities { get; } = new(
        "The Pixelator controller",
        PixelatorScans.Supported,
        MaxPolarizations: 1,
        Polarizations: PixelatorScans.SupportedPolarizations,
        PolarizationOffset: false,
        MaxRegions: 1,
        HandlesDefocus: true,
        AdaptsPositionPrecision: true);

    /// <summary>
    /// Connects to the controller, initializes (its positioners, detectors, zone plates and file system), selects the
    /// recorded channel, and checks that the positioners StxmWeb needs are there. Fails with the endpoint and the reason.
    /// </summary>
    public static async Task<PixelatorInstrument> ConnectAsync(PixelatorOptions options, ILoggerFactory loggers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        var client = new PixelatorClient(options.Client, loggers.CreateLogger<PixelatorClient>());
        try
        {
            var init = InitializeReply.From(await client.CommandAsync(new InitializeRequest(), cancellationToken).ConfigureAwait(false));
            var names = options.Names;
            var missing = new[] { Roles.SampleX, Roles.SampleY, Roles.Energy }
                .Where(role => !init.Positioners.Any(p => string.Equals(p.Name, names.ToController(role), StringComparison.OrdinalIgnoreCase)))
                .Select(role => $"{names.ToController(role)} (StxmWeb's {role})")
                .ToList();
            if (missing.Count > 0)
            {
                throw new PixelatorCommandException(InitializeRequest.Name,
                    $"the controller has no positioner {string.Join(", ", missing)}; it has {string.Join(", ", init.Positioners.Select(p => p.Name))}. Map them with Instrument:Pixelator:Positioners.");
            }

            if (!init.Detectors.Any(d => d.Name == options.Channel))
            {
                throw new PixelatorCommandException(InitializeRequest.Name,
                    $"the controller has no detector channel '{options.Channel}'; it has {string.Join(", ", init.Detectors.Select(d => d.Name))}. Set Instrument:Pixelator:Channel.");
            }

            await client.CommandAsync(new RecordedChannelsRequest([options.Channel]), cancellationToken).ConfigureAwait(false);
            return new PixelatorInstrument(client, options, init, loggers.CreateLogger<PixelatorInstrument>());
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        Client.AliveChanged -= OnAliveChanged;
        _subscription.Dispose();
        await _reinitialize.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Client.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private void OnPublished(Arrival arrival)
    {
        switch (arrival.Message)
        {
            case PositionerStatusMessage status:
                var order = _statusOrder;
                for (var i = 0; i < status.Positioners.Count; i++)
                {
                    var state = status.Positioners[i];

                    // pyStxm matches by list index; a name, where the controller sends one, is surer.
                    var name = state.Name ?? (i < order.Count ? order[i] : null);
                    if (name is null)
                    {
                        continue;
                    }

                    if (string.Equals(name, _options.RingCurrent, StringComparison.OrdinalIgnoreCase))
                    {
                        Volatile.Write(ref _ringCurrent, state.Position);
                    }
                    else if (_byControllerName.TryGetValue(name, out var positioner))
                    {
                        positioner.Update(state, arrival.Timestamp);
                    }
                }

                break;
            case PositionerDefinitionMessage definitions:
                Define(definitions.Positioners);
                break;
        }
    }

    private void Define(IReadOnlyList<PositionerDefinition> definitions)
    {
        _statusOrder = [.. definitions.Select(d => d.Name)];
        foreach (var definition in definitions)
        {
            if (_byControllerName.TryGetValue(definition.Name, out var positioner))
            {
                positioner.Update(definition);
            }
        }
    }

    private void OnAliveChanged(bool alive)
    {
        if (!alive)
        {
            var reason = $"the Pixelator controller at {Client.Description} has been silent for {_options.LivenessSeconds:0.#} s";
            foreach (var positioner in _byName.Values)
            {
                positioner.ControllerLost(reason);
            }

            return;
        }

        // The controller is back, perhaps restarted: initialize again and select the channel again.
        _reinitialize = Task.Run(async () =>
        {
            try
            {
                var init = InitializeReply.From(await Client.CommandAsync(new InitializeRequest(), _stop.Token).ConfigureAwait(false));
                Initialization = init;
                Define(init.Positioners);
                await Client.CommandAsync(new RecordedChannelsRequest([_options.Channel]), _stop.Token).ConfigureAwait(false);
                LogReinitialized(_logger, Client.Description, init.ServerVersion);
            }
            catch (Exception ex) when (ex is PixelatorCommandException or PixelatorTimeoutException or PixelatorProtocolException or OperationCanceledException)
            {
                LogReinitializeFailed(_logger, ex.Message);
            }
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pixelator controller at {Endpoint} initialized again ({Version})")]
    private static partial void LogReinitialized(ILogger logger, string endpoint, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Initializing the Pixelator controller again failed: {Reason}")]
    private static partial void LogReinitializeFailed(ILogger logger, string reason);
}

/// <summary>
/// The recorded channel as a counter, through the controller's oscilloscope: a point count switches it on at the dwell
/// as interval and takes the next detectorValues. Constant-velocity lines are the controller's own, inside its scans.
/// </summary>
internal sealed class PixelatorCounter(PixelatorClient client, string channel, string units) : ICounter
{
    public string Name => "counter0";

    public string Units => units;

    public async Task<double> AcquirePointAsync(TimeSpan dwell, CancellationToken cancellationToken = default)
    {
        var value = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        var after = TimeProvider.System.GetTimestamp();
        using var subscription = client.Subscribe(a =>
        {
            if (a.Timestamp > after && a.Message is DetectorValuesMessage { Values.Length: > 0 } values)
            {
                value.TrySetResult(values.Values[0]);
            }
        });
        try
        {
            await client.CommandAsync(new OscilloscopeDefinitionRequest(new OscilloscopeDefinition(dwell.TotalSeconds, On: 1)), cancellationToken).ConfigureAwait(false);
            return await value.Task.WaitAsync(dwell * 3 + TimeSpan.FromSeconds(3), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is PixelatorCommandException or PixelatorTimeoutException or TimeoutException)
        {
            throw new DeviceException(channel, $"no detector value from the controller's oscilloscope: {ex.Message}");
        }
        finally
        {
            await ((Task)client.RequestAsync(new OscilloscopeDefinitionRequest(new OscilloscopeDefinition(dwell.TotalSeconds, On: 0)), CancellationToken.None))
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public Task<double[]> AcquireLineAsync(int bins, TimeSpan dwell, long? startTimestamp = null, CancellationToken cancellationToken = default) =>
        throw new DeviceException(channel, "constant-velocity lines are acquired by the Pixelator controller within its scans, not one by one.");
}
