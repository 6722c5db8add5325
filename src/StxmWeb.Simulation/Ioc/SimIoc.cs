using System.Net;
using Microsoft.Extensions.Logging;
using StxmWeb.ChannelAccess.Protocol;
using StxmWeb.ChannelAccess.Server;
using StxmWeb.Core.Focus;
using StxmWeb.Epics;

namespace StxmWeb.Simulation.Ioc;

/// <summary>
/// The simulated microscope behind a real Channel Access server, with the PV names of the CLS 10ID-1 STXM (from the
/// recorded pyStxm runs' <c>rev_lu_dct</c>): motor records IOC:m100... for the stages, BL1610-I10:ENERGY for the
/// energy (the zone plate follows), the ring current, the focal length, and a counter (uhvCI:counter:*) that counts a
/// point or a line of dwell-long bins on request. EPICS clients (caget, camonitor, pyepics) and StxmWeb's EPICS backend
/// drive it as they would the beamline.
/// </summary>
public sealed partial class SimIoc : IAsyncDisposable
{
    /// <summary>CLS 10ID-1 motor record names of the simulated positioners (the EPICS backend's defaults).</summary>
    public static IReadOnlyDictionary<string, string> MotorNames => Cls10Id1.MotorRecords;

    /// <summary>Prefix of the counter PVs.</summary>
    public const string CounterPrefix = Cls10Id1.CounterPrefix;

    private readonly SimMicroscope _scope;
    private readonly List<MotorRecord> _motors = [];
    private readonly CaServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly ProcessVariable _ringCurrent;
    private readonly ProcessVariable _focalLength;
    private readonly ProcessVariable _counts;
    private readonly ProcessVariable _waveform;
    private readonly ProcessVariable _dwell;
    private readonly ProcessVariable _points;
    private Task _poll = Task.CompletedTask;

    /// <summary>Builds the IOC's PVs over <paramref name="scope"/>.</summary>
    public SimIoc(SimMicroscope scope, ILoggerFactory loggers, int maxLinePoints = 4096)
    {
        _scope = scope ?? throw new ArgumentNullException(nameof(scope));
        ArgumentNullException.ThrowIfNull(loggers);
        var pvs = new List<ProcessVariable>();
        foreach (var positioner in scope.Positioners)
        {
            if (MotorNames.TryGetValue(positioner.Name, out var prefix))
            {
                var motor = new MotorRecord(prefix, positioner);
                _motors.Add(motor);
                pvs.AddRange(motor.All);
            }
        }

        _ringCurrent = new ProcessVariable(Cls10Id1.RingCurrent, DbrValue.Of(scope.RingCurrent) with { Units = "mA", Precision = 2 }, writable: false);
        _focalLength = new ProcessVariable("BL1610-I10:ENERGY:uhv:zp:FL", DbrValue.Of(FocalLength()) with { Units = "um", Precision = 2 }, writable: false);
        _dwell = new ProcessVariable($"{CounterPrefix}:Dwell", DbrValue.Of(1.0) with { Units = "ms", Precision = 3, Limits = DwellLimits() });
        int[] points = [100];
        _points = new ProcessVariable($"{CounterPrefix}:Npts", new DbrValue { Base = DbrBase.Long, Values = points });
        _counts = new ProcessVariable($"{CounterPrefix}:Counts", DbrValue.Of(0) with { Units = "counts" }, writable: false);
        _waveform = new ProcessVariable($"{CounterPrefix}:Waveform_RBV",
            new DbrValue { Base = DbrBase.Double, Values = Array.Empty<double>(), Units = "counts" }, writable: false, maxCount: maxLinePoints);
        var acquire = new ProcessVariable($"{CounterPrefix}:Acquire", new DbrValue { Base = DbrBase.Short, Values = new short[] { 0 } })
        {
            OnPut = async (_, ct) =>
            {
                var counts = await _scope.Counter.AcquirePointAsync(TimeSpan.FromMilliseconds(DbrConvert.Number(_dwell.Value, 0)), ct).ConfigureAwait(false);
                _counts.Set(new[] { counts });
            },
        };
        var acquireLine = new ProcessVariable($"{CounterPrefix}:AcquireLine", new DbrValue { Base = DbrBase.Short, Values = new short[] { 0 } })
        {
            OnPut = async (_, ct) =>
            {
                var bins = Math.Clamp((int)DbrConvert.Number(_points.Value, 0), 1, maxLinePoints);
                var line = await _scope.Counter.AcquireLineAsync(bins, TimeSpan.FromMilliseconds(DbrConvert.Number(_dwell.Value, 0)), cancellationToken: ct).ConfigureAwait(false);
                _waveform.Set(line);
            },
        };
        pvs.AddRange([_ringCurrent, _focalLength, _dwell, _points, _counts, _waveform, acquire, acquireLine]);
        _server = new CaServer(pvs, loggers.CreateLogger<CaServer>());
    }

    /// <summary>The CA port (TCP and UDP).</summary>
    public int Port => _server.Port;

    /// <summary>Every PV name served.</summary>
    public IEnumerable<string> PvNames => _motors.SelectMany(m => m.All).Concat([_ringCurrent, _focalLength, _dwell, _points, _counts, _waveform]).Select(p => p.Name);

    /// <summary>Starts serving on <paramref name="address"/>:<paramref name="port"/> (0 = any free port).</summary>
    public async Task StartAsync(IPAddress address, int port = 0)
    {
        await _server.StartAsync(address, port).ConfigureAwait(false);
        _poll = PollAsync(_stop.Token);
    }

    private static double[] DwellLimits() => [10_000, 0.01, 0, 0, 0, 0, 10_000, 0.01];

    private double FocalLength() => FocusGeometry.FocalLength(_scope.ZonePlate.A1, _scope.Energy.Status.Position);

    private async Task PollAsync(CancellationToken token)
    {
        // Readbacks at 20 Hz, as a motor record's RBV updates while moving; slow beamline values at 1 Hz.
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        var tick = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
            {
                foreach (var motor in _motors)
                {
                    motor.Poll();
                }

                if (tick++ % 20 == 0)
                {
                    _ringCurrent.Set(new[] { Math.Round(_scope.RingCurrent, 2) });
                    _focalLength.Set(new[] { FocalLength() });
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _poll.ConfigureAwait(false);
        await _server.DisposeAsync().ConfigureAwait(false);
        foreach (var motor in _motors)
        {
            motor.Dispose();
        }

        _stop.Dispose();
    }
}
