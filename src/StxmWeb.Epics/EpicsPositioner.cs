using StxmWeb.ChannelAccess.Client;
using StxmWeb.ChannelAccess.Protocol;
using StxmWeb.Core.Devices;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;

namespace StxmWeb.Epics;

/// <summary>
/// A positioner on an EPICS motor record: a move is a put to VAL with completion (the record answers when DMOV goes
/// to 1), a velocity override writes VELO for the move and restores it, stop writes STOP. The readback, setpoint,
/// motion and limits follow monitors on RBV, VAL, DMOV, HLM and LLM.
/// </summary>
public sealed class EpicsPositioner : IPositioner, IAsyncDisposable
{
    private readonly CaChannel _val;
    private readonly CaChannel _stop;
    private readonly CaChannel _velo;
    private readonly List<CaSubscription> _subscriptions = [];
    private double _rbv;
    private double _setpoint;
    private bool _moving;
    private double _high;
    private double _low;
    private string? _fault;

    private EpicsPositioner(string name, string record, string description, string units, CaChannel val, CaChannel stop, CaChannel velo, AxisKinematics kinematics)
    {
        Name = name;
        Record = record;
        Description = description;
        Units = units;
        _val = val;
        _stop = stop;
        _velo = velo;
        Kinematics = kinematics;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The motor record.</summary>
    public string Record { get; }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public string Units { get; }

    /// <inheritdoc />
    public Limits Limits => new(Volatile.Read(ref _low), Volatile.Read(ref _high));

    /// <inheritdoc />
    public AxisKinematics Kinematics { get; }

    /// <inheritdoc />
    public PositionerStatus Status => new(Name, Volatile.Read(ref _rbv), Volatile.Read(ref _setpoint), Volatile.Read(ref _moving), Units, Limits,
        _val.State == ChannelState.Connected ? _fault : $"{Record} is disconnected");

    /// <summary>Connects to the record's fields and starts following it.</summary>
    public static async Task<EpicsPositioner> ConnectAsync(CaClient client, string name, string record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        async Task<CaChannel> Field(string field) => await client.ConnectAsync($"{record}.{field}", cancellationToken).ConfigureAwait(false);
        var val = await Field("VAL").ConfigureAwait(false);
        var stop = await Field("STOP").ConfigureAwait(false);
        var velo = await Field("VELO").ConfigureAwait(false);
        double Number(DbrValue v) => DbrConvert.Number(v, 0);
        async Task<DbrValue> ReadAsync(CaChannel channel) => await channel.GetAsync(DbrFamily.Plain, cancellationToken: cancellationToken).ConfigureAwait(false);
        var velocity = Number(await ReadAsync(velo).ConfigureAwait(false));
        var accl = Number(await ReadAsync(await Field("ACCL").ConfigureAwait(false)).ConfigureAwait(false));
        var egu = (await ReadAsync(await Field("EGU").ConfigureAwait(false)).ConfigureAwait(false)).Values.GetValue(0) as string ?? "";
        var desc = (await ReadAsync(await Field("DESC").ConfigureAwait(false)).ConfigureAwait(false)).Values.GetValue(0) as string ?? name;
        var kinematics = new AxisKinematics(velocity, accl > 0 ? velocity / accl : velocity * 100, TimeSpan.Zero);
        var positioner = new EpicsPositioner(name, record, desc, egu, val, stop, velo, kinematics);

        // Read the state once, so the positioner is complete when it is returned; monitors keep it current after.
        var rbv = await Field("RBV").ConfigureAwait(false);
        var dmov = await Field("DMOV").ConfigureAwait(false);
        var hlm = await Field("HLM").ConfigureAwait(false);
        var llm = await Field("LLM").ConfigureAwait(false);
        positioner._rbv = Number(await ReadAsync(rbv).ConfigureAwait(false));
        positioner._setpoint = Number(await ReadAsync(val).ConfigureAwait(false));
        positioner._moving = Number(await ReadAsync(dmov).ConfigureAwait(false)) == 0;
        positioner._high = Number(await ReadAsync(hlm).ConfigureAwait(false));
        positioner._low = Number(await ReadAsync(llm).ConfigureAwait(false));
        positioner._subscriptions.Add(await rbv.SubscribeAsync(v => Volatile.Write(ref positioner._rbv, Number(v)), cancellationToken: cancellationToken).ConfigureAwait(false));
        positioner._subscriptions.Add(await val.SubscribeAsync(v => Volatile.Write(ref positioner._setpoint, Number(v)), cancellationToken: cancellationToken).ConfigureAwait(false));
        positioner._subscriptions.Add(await dmov.SubscribeAsync(v => Volatile.Write(ref positioner._moving, Number(v) == 0), cancellationToken: cancellationToken).ConfigureAwait(false));
        positioner._subscriptions.Add(await hlm.SubscribeAsync(v => Volatile.Write(ref positioner._high, Number(v)), cancellationToken: cancellationToken).ConfigureAwait(false));
        positioner._subscriptions.Add(await llm.SubscribeAsync(v => Volatile.Write(ref positioner._low, Number(v)), cancellationToken: cancellationToken).ConfigureAwait(false));
        return positioner;
    }

    /// <inheritdoc />
    public async Task MoveAsync(double target, double? velocity = null, CancellationToken cancellationToken = default)
    {
        if (!double.IsFinite(target) || !Limits.Contains(target))
        {
            _fault = FormattableString.Invariant($"target {target:G6} {Units} is outside the soft limits {Limits} {Units}.");
            throw new DeviceException(Name, _fault);
        }

        try
        {
            if (velocity is { } v)
            {
                await _velo.PutAsync(v, wait: true, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await _val.PutAsync(target, wait: true, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (velocity is not null)
                {
                    await _velo.PutAsync(Kinematics.Velocity, wait: true, CancellationToken.None).ConfigureAwait(false);
                }
            }

            _fault = null;
        }
        catch (OperationCanceledException)
        {
            await StopAsync().ConfigureAwait(false);
            throw;
        }
        catch (Exception ex) when (ex is CaException or CaTimeoutException)
        {
            _fault = ex.Message;
            throw new DeviceException(Name, $"{Record}: {ex.Message}");
        }
    }

    /// <inheritdoc />
    public async Task StopAsync()
    {
        if (_stop.State != ChannelState.Connected)
        {
            throw new DeviceException(Name, $"{Record} is disconnected; it cannot be stopped from here.");
        }

        try
        {
            await _stop.PutAsync(1, wait: false).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is CaException or CaTimeoutException)
        {
            throw new DeviceException(Name, $"{Record}: stop failed: {ex.Message}");
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var subscription in _subscriptions)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }
}
