using System.Net;
using StxmWeb.ChannelAccess.Client;
using StxmWeb.ChannelAccess.Protocol;
using StxmWeb.Core.Devices;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Timing;

namespace StxmWeb.Epics;

/// <summary>
/// The microscope over EPICS: positioners on motor records and the counter PVs, through StxmWeb's own Channel Access
/// client. A lost IOC shows as a device fault (the run ends as failed with the reason); channels reconnect by
/// themselves when the IOC returns.
/// </summary>
public sealed class EpicsInstrument : IInstrument, IAsyncDisposable
{
    private readonly CaClient _client;
    private readonly Dictionary<string, EpicsPositioner> _byName;
    private double _ringCurrent;
    private CaSubscription? _ringSubscription;

    private EpicsInstrument(CaClient client, List<EpicsPositioner> positioners, ICounter counter)
    {
        _client = client;
        Positioners = positioners;
        _byName = positioners.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        Counter = counter;
    }

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

    /// <summary>Connects every configured PV; fails naming the first PV that does not answer.</summary>
    public static async Task<EpicsInstrument> ConnectAsync(EpicsOptions options, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clientOptions = string.IsNullOrWhiteSpace(options.AddressList) ? CaClientOptions.FromEnvironment() : new CaClientOptions
        {
            AutoAddressList = options.AutoAddressList,
            ServerPort = options.ServerPort,
        };
        foreach (var entry in options.AddressList.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            clientOptions.AddressList.Add(CaClientOptions.ParseEndPoint(entry, options.ServerPort));
        }

        clientOptions.Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
        var client = new CaClient(clientOptions);
        try
        {
            var map = options.Positioners.Count > 0
                ? options.Positioners.ToDictionary(p => p.Name, p => p.Pv)
                : Cls10Id1.MotorRecords.ToDictionary(p => p.Key, p => p.Value);
            var positioners = new List<EpicsPositioner>();
            foreach (var (name, record) in map)
            {
                positioners.Add(await EpicsPositioner.ConnectAsync(client, name, record, cancellationToken).ConfigureAwait(false));
            }

            var counter = await EpicsCounter.ConnectAsync(client, options.CounterPrefix, time, cancellationToken).ConfigureAwait(false);
            var instrument = new EpicsInstrument(client, positioners, counter);
            var ring = await client.ConnectAsync(options.RingCurrentPv, cancellationToken).ConfigureAwait(false);
            instrument._ringSubscription = await ring.SubscribeAsync(v => Volatile.Write(ref instrument._ringCurrent, DbrConvert.Number(v, 0)), cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var required in new[] { Roles.SampleX, Roles.SampleY, Roles.Energy })
            {
                if (!instrument._byName.ContainsKey(required))
                {
                    throw new InvalidOperationException($"The EPICS backend needs a positioner named {required}.");
                }
            }

            return instrument;
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
        if (_ringSubscription is not null)
        {
            await _ringSubscription.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var positioner in _byName.Values)
        {
            await positioner.DisposeAsync().ConfigureAwait(false);
        }

        await _client.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The counter over its PVs: set Dwell (and Npts), put Acquire / AcquireLine with completion, read the result.</summary>
    private sealed class EpicsCounter(CaChannel dwellPv, CaChannel points, CaChannel acquire, CaChannel counts, CaChannel acquireLine, CaChannel line, TimeProvider time) : ICounter
    {
        private double _dwellMs = double.NaN;
        private int _points = -1;

        public string Name => "counter0";

        public string Units => "counts";

        public static async Task<ICounter> ConnectAsync(CaClient client, string prefix, TimeProvider time, CancellationToken ct)
        {
            async Task<CaChannel> Pv(string field) => await client.ConnectAsync($"{prefix}:{field}", ct).ConfigureAwait(false);
            return new EpicsCounter(await Pv("Dwell").ConfigureAwait(false), await Pv("Npts").ConfigureAwait(false), await Pv("Acquire").ConfigureAwait(false),
                await Pv("Counts").ConfigureAwait(false), await Pv("AcquireLine").ConfigureAwait(false), await Pv("Waveform_RBV").ConfigureAwait(false), time);
        }

        public async Task<double> AcquirePointAsync(TimeSpan dwell, CancellationToken cancellationToken = default)
        {
            try
            {
                await SetDwellAsync(dwell, cancellationToken).ConfigureAwait(false);
                await acquire.PutAsync(1, wait: true, cancellationToken).ConfigureAwait(false);
                return DbrConvert.Number(await counts.GetAsync(DbrFamily.Plain, cancellationToken: cancellationToken).ConfigureAwait(false), 0);
            }
            catch (Exception ex) when (ex is CaException or CaTimeoutException)
            {
                throw new DeviceException(Name, ex.Message);
            }
        }

        public async Task<double[]> AcquireLineAsync(int bins, TimeSpan dwell, long? startTimestamp = null, CancellationToken cancellationToken = default)
        {
            try
            {
                await SetDwellAsync(dwell, cancellationToken).ConfigureAwait(false);
                if (bins != _points)
                {
                    await points.PutAsync(bins, wait: true, cancellationToken).ConfigureAwait(false);
                    _points = bins;
                }

                // The IOC starts counting when the request arrives; issue it at the trigger time (best effort over the network).
                if (startTimestamp is { } start)
                {
                    await time.DelayUntilAsync(start, cancellationToken).ConfigureAwait(false);
                }

                await acquireLine.PutAsync(1, wait: true, cancellationToken).ConfigureAwait(false);
                var value = await line.GetAsync(DbrFamily.Plain, bins, cancellationToken).ConfigureAwait(false);
                return [.. ((Array)value.Values).Cast<object>().Select(Convert.ToDouble)];
            }
            catch (Exception ex) when (ex is CaException or CaTimeoutException)
            {
                throw new DeviceException(Name, ex.Message);
            }
        }

        private async Task SetDwellAsync(TimeSpan dwell, CancellationToken cancellationToken)
        {
            if (dwell.TotalMilliseconds != _dwellMs)
            {
                await dwellPv.PutAsync(dwell.TotalMilliseconds, wait: true, cancellationToken).ConfigureAwait(false);
                _dwellMs = dwell.TotalMilliseconds;
            }
        }
    }
}
