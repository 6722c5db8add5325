using StxmWeb.ChannelAccess.Protocol;
using StxmWeb.ChannelAccess.Server;
using StxmWeb.Core.Devices;

namespace StxmWeb.Simulation.Ioc;

/// <summary>
/// An EPICS motor record over a simulated positioner, with the fields clients use (motorRecord.dbd): VAL (a put with
/// completion returns when the move is done), RBV, DMOV, MOVN, STOP, SPMG, HLM, LLM, LVIO, VELO, ACCL, EGU, PREC,
/// TWV/TWF/TWR, DESC, MSTA. A target past HLM/LLM is refused as the record does: LVIO goes to 1, nothing moves, and
/// the put completes at once.
/// </summary>
public sealed class MotorRecord : IDisposable
{
    private static readonly string[] SpmgStates = ["Stop", "Pause", "Move", "Go"];
    private readonly IPositioner _positioner;
    private CancellationTokenSource _move = new();

    /// <summary>Creates the record's PVs under <paramref name="prefix"/> (e.g. <c>IOC:m100</c>).</summary>
    public MotorRecord(string prefix, IPositioner positioner)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        _positioner = positioner ?? throw new ArgumentNullException(nameof(positioner));
        Prefix = prefix;
        var status = positioner.Status;
        var precision = (short)(positioner.Units == "eV" ? 3 : 4);
        DbrValue Number(double v) => DbrValue.Of(v) with
        {
            Units = positioner.Units, Precision = precision,
            Limits = [positioner.Limits.High, positioner.Limits.Low, 0, 0, 0, 0, positioner.Limits.High, positioner.Limits.Low],
        };

        Val = new ProcessVariable($"{prefix}.VAL", Number(status.Position)) { OnPut = (v, ct) => MoveAsync(DbrConvert.Number(v, 0), ct) };
        Rbv = new ProcessVariable($"{prefix}.RBV", Number(status.Position), writable: false);
        Dmov = Short($"{prefix}.DMOV", 1, writable: false);
        Movn = Short($"{prefix}.MOVN", 0, writable: false);
        Lvio = Short($"{prefix}.LVIO", 0, writable: false);
        Stop = new ProcessVariable($"{prefix}.STOP", new DbrValue { Base = DbrBase.Short, Values = new short[] { 0 } })
        {
            OnPut = async (v, _) =>
            {
                if (DbrConvert.Number(v, 0) != 0)
                {
                    await HaltAsync().ConfigureAwait(false);
                }
            },
        };
        Spmg = new ProcessVariable($"{prefix}.SPMG", new DbrValue { Base = DbrBase.Enum, Values = new ushort[] { 3 }, EnumStrings = SpmgStates })
        {
            OnPut = async (v, _) =>
            {
                Spmg!.Set(new[] { (ushort)DbrConvert.Number(v, 0) });
                if (DbrConvert.Number(v, 0) < 2)
                {
                    await HaltAsync().ConfigureAwait(false);
                }
            },
        };
        Hlm = new ProcessVariable($"{prefix}.HLM", Number(positioner.Limits.High));
        Llm = new ProcessVariable($"{prefix}.LLM", Number(positioner.Limits.Low));
        Velo = new ProcessVariable($"{prefix}.VELO", DbrValue.Of(positioner.Kinematics.Velocity) with { Units = positioner.Units + "/s", Precision = 3 });
        Accl = new ProcessVariable($"{prefix}.ACCL", DbrValue.Of(positioner.Kinematics.Velocity / positioner.Kinematics.Acceleration) with { Units = "s", Precision = 4 });
        Egu = new ProcessVariable($"{prefix}.EGU", DbrValue.Of(positioner.Units));
        Prec = Short($"{prefix}.PREC", precision, writable: true);
        Twv = new ProcessVariable($"{prefix}.TWV", Number(1));
        Twf = Tweak($"{prefix}.TWF", +1);
        Twr = Tweak($"{prefix}.TWR", -1);
        Desc = new ProcessVariable($"{prefix}.DESC", DbrValue.Of(positioner.Description.Length > 39 ? positioner.Description[..39] : positioner.Description));
        Msta = new ProcessVariable($"{prefix}.MSTA", DbrValue.Of(0), writable: false);
    }

    /// <summary>The record name.</summary>
    public string Prefix { get; }

    /// <summary>Setpoint; a put moves the motor.</summary>
    public ProcessVariable Val { get; }

    /// <summary>Readback.</summary>
    public ProcessVariable Rbv { get; }

    /// <summary>Done moving (1) or moving (0).</summary>
    public ProcessVariable Dmov { get; }

    /// <summary>Moving.</summary>
    public ProcessVariable Movn { get; }

    /// <summary>Limit violation of the last target.</summary>
    public ProcessVariable Lvio { get; }

    /// <summary>Put 1 to stop.</summary>
    public ProcessVariable Stop { get; }

    /// <summary>Stop / Pause / Move / Go.</summary>
    public ProcessVariable Spmg { get; }

    /// <summary>High soft limit.</summary>
    public ProcessVariable Hlm { get; }

    /// <summary>Low soft limit.</summary>
    public ProcessVariable Llm { get; }

    /// <summary>Velocity, EGU/s.</summary>
    public ProcessVariable Velo { get; }

    /// <summary>Seconds to reach VELO.</summary>
    public ProcessVariable Accl { get; }

    /// <summary>Engineering units.</summary>
    public ProcessVariable Egu { get; }

    /// <summary>Display precision.</summary>
    public ProcessVariable Prec { get; }

    /// <summary>Tweak step.</summary>
    public ProcessVariable Twv { get; }

    /// <summary>Put 1 to tweak forward by TWV.</summary>
    public ProcessVariable Twf { get; }

    /// <summary>Put 1 to tweak in reverse by TWV.</summary>
    public ProcessVariable Twr { get; }

    /// <summary>Description.</summary>
    public ProcessVariable Desc { get; }

    /// <summary>Motor status bits (DBF_ULONG, served as DOUBLE).</summary>
    public ProcessVariable Msta { get; }

    /// <summary>Every PV of the record.</summary>
    public IEnumerable<ProcessVariable> All => [Val, Rbv, Dmov, Movn, Lvio, Stop, Spmg, Hlm, Llm, Velo, Accl, Egu, Prec, Twv, Twf, Twr, Desc, Msta];

    /// <summary>Copies the positioner's readback and motion into RBV, DMOV and MOVN (the IOC polls at a few tens of Hz).</summary>
    public void Poll()
    {
        var status = _positioner.Status;
        Rbv.Set(new[] { status.Position });
        Movn.Set(new short[] { (short)(status.IsMoving ? 1 : 0) });
    }

    private async Task MoveAsync(double target, CancellationToken cancellationToken)
    {
        var high = DbrConvert.Number(Hlm.Value, 0);
        var low = DbrConvert.Number(Llm.Value, 0);
        if (!(target >= low && target <= high) || !_positioner.Limits.Contains(target))
        {
            Lvio.Set(new short[] { 1 });
            return;
        }

        if (DbrConvert.Number(Spmg.Value, 0) < 2)
        {
            return; // Stop or Pause: the record keeps the new VAL but does not move.
        }

        Lvio.Set(new short[] { 0 });
        Val.Set(new[] { target });
        var move = new CancellationTokenSource();
        Interlocked.Exchange(ref _move, move).Cancel();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, move.Token);
        Dmov.Set(new short[] { 0 });
        Movn.Set(new short[] { 1 });
        try
        {
            var velocity = Math.Min(DbrConvert.Number(Velo.Value, 0), _positioner.Kinematics.Velocity);
            await _positioner.MoveAsync(target, velocity > 0 ? velocity : null, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped: the put still completes, as the record's callback does.
        }
        finally
        {
            if (ReferenceEquals(Volatile.Read(ref _move), move))
            {
                Poll();
                Dmov.Set(new short[] { 1 });
                Movn.Set(new short[] { 0 });
            }
        }
    }

    private async Task HaltAsync()
    {
        Volatile.Read(ref _move).Cancel();
        await _positioner.StopAsync().ConfigureAwait(false);
        var position = _positioner.Status.Position;
        Val.Set(new[] { position });
        Poll();
        Dmov.Set(new short[] { 1 });
    }

    /// <inheritdoc />
    public void Dispose() => _move.Dispose();

    private ProcessVariable Tweak(string name, int direction) =>
        new(name, new DbrValue { Base = DbrBase.Short, Values = new short[] { 0 } })
        {
            OnPut = (v, ct) => DbrConvert.Number(v, 0) != 0
                ? MoveAsync(DbrConvert.Number(Val.Value, 0) + direction * DbrConvert.Number(Twv.Value, 0), ct)
                : Task.CompletedTask,
        };

    private static ProcessVariable Short(string name, short value, bool writable) =>
        new(name, new DbrValue { Base = DbrBase.Short, Values = new[] { value } }, writable);
}
