using StxmWeb.Core.Devices;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Core.Timing;

namespace StxmWeb.Simulation;

/// <summary>Configuration of one simulated positioner.</summary>
public sealed class SimPositionerOptions
{
    /// <summary>Device name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Description shown in panels.</summary>
    public string Description { get; set; } = "";

    /// <summary>Engineering units.</summary>
    public string Units { get; set; } = "µm";

    /// <summary>Low soft limit.</summary>
    public double Low { get; set; }

    /// <summary>High soft limit.</summary>
    public double High { get; set; }

    /// <summary>Cruise velocity, units/s.</summary>
    public double Velocity { get; set; } = 1000;

    /// <summary>Acceleration, units/s².</summary>
    public double Acceleration { get; set; } = 10_000;

    /// <summary>Settle time after a move, ms.</summary>
    public double SettleMs { get; set; }

    /// <summary>Position at start-up.</summary>
    public double Initial { get; set; }
}

/// <summary>
/// A simulated positioner with a trapezoidal velocity profile: its position is an exact function of time, so readbacks
/// during a move, fly lines and the counter's beam position all agree. Moves take their real duration on the
/// <see cref="TimeProvider"/>; a target past the soft limits is refused; cancelling or <see cref="StopAsync"/> halts it
/// where it is.
/// </summary>
public sealed class SimPositioner : IPositioner
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private Segment _segment;
    private string? _fault;

    /// <summary>Creates the positioner at its initial position.</summary>
    public SimPositioner(SimPositionerOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time ?? throw new ArgumentNullException(nameof(time));
        Name = options.Name;
        Description = options.Description;
        Units = options.Units;
        Limits = new Limits(options.Low, options.High);
        Kinematics = new AxisKinematics(options.Velocity, options.Acceleration, TimeSpan.FromMilliseconds(options.SettleMs));
        _segment = Segment.Still(options.Initial, time.GetTimestamp());
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public string Units { get; }

    /// <inheritdoc />
    public Limits Limits { get; }

    /// <inheritdoc />
    public AxisKinematics Kinematics { get; }

    /// <inheritdoc />
    public PositionerStatus Status
    {
        get
        {
            var now = _time.GetTimestamp();
            Segment segment;
            string? fault;
            lock (_gate)
            {
                segment = _segment;
                fault = _fault;
            }

            return new PositionerStatus(Name, segment.PositionAt(now, _time.TimestampFrequency), segment.Target,
                segment.IsMovingAt(now, _time.TimestampFrequency), Units, Limits, fault);
        }
    }

    /// <summary>The position at a timestamp of the positioner's clock (past or within the current move).</summary>
    public double PositionAt(long timestamp)
    {
        Segment segment;
        lock (_gate)
        {
            segment = _segment;
        }

        return segment.PositionAt(timestamp, _time.TimestampFrequency);
    }

    /// <inheritdoc />
    public async Task MoveAsync(double target, double? velocity = null, CancellationToken cancellationToken = default)
    {
        if (!double.IsFinite(target))
        {
            throw new DeviceException(Name, "the target must be a finite number.");
        }

        if (!Limits.Contains(target))
        {
            var message = FormattableString.Invariant($"target {target:G6} {Units} is outside the soft limits {Limits} {Units}.");
            lock (_gate)
            {
                _fault = message;
            }

            throw new DeviceException(Name, message);
        }

        if (velocity is { } v && !(v > 0 && v <= Kinematics.Velocity * (1 + 1e-9)))
        {
            throw new DeviceException(Name, FormattableString.Invariant(
                $"velocity {v:G6} {Units}/s is outside (0, {Kinematics.Velocity:G6}] {Units}/s."));
        }

        var now = _time.GetTimestamp();
        Segment segment;
        lock (_gate)
        {
            var from = _segment.PositionAt(now, _time.TimestampFrequency);
            var cruise = velocity ?? Kinematics.Velocity;
            segment = Segment.Move(from, target, cruise, Kinematics.Acceleration, now, _time.TimestampFrequency);
            _segment = segment;
            _fault = null;
        }

        try
        {
            await _time.DelayUntilAsync(segment.End, cancellationToken).ConfigureAwait(false);
            await _time.DelayPreciseAsync(Kinematics.Settle, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Halt(segment);
            throw;
        }
    }

    /// <inheritdoc />
    public Task StopAsync()
    {
        Segment segment;
        lock (_gate)
        {
            segment = _segment;
        }

        Halt(segment);
        return Task.CompletedTask;
    }

    private void Halt(Segment moving)
    {
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            if (ReferenceEquals(_segment, moving))
            {
                _segment = Segment.Still(moving.PositionAt(now, _time.TimestampFrequency), now);
            }
        }
    }

    /// <summary>One motion: from a position at a start time to a target, trapezoidal (or triangular) in velocity.</summary>
    private sealed class Segment
    {
        private double _from;
        private double _direction;
        private double _cruise;
        private double _acceleration;
        private double _rampSeconds;
        private double _cruiseSeconds;
        private long _start;

        public double Target { get; private set; }

        public long End { get; private set; }

        public static Segment Still(double position, long now) => new() { _from = position, Target = position, _start = now, End = now };

        public static Segment Move(double from, double target, double cruise, double acceleration, long now, long frequency)
        {
            var distance = Math.Abs(target - from);
            double ramp, cruiseTime;
            if (distance >= cruise * cruise / acceleration)
            {
                ramp = cruise / acceleration;
                cruiseTime = (distance - cruise * cruise / acceleration) / cruise;
            }
            else
            {
                ramp = Math.Sqrt(distance / acceleration);
                cruise = acceleration * ramp;
                cruiseTime = 0;
            }

            var total = 2 * ramp + cruiseTime;
            return new Segment
            {
                _from = from,
                Target = target,
                _direction = Math.Sign(target - from),
                _cruise = cruise,
                _acceleration = acceleration,
                _rampSeconds = ramp,
                _cruiseSeconds = cruiseTime,
                _start = now,
                End = now + (long)(total * frequency),
            };
        }

        public bool IsMovingAt(long now, long frequency) => now < End && _direction != 0;

        public double PositionAt(long now, long frequency)
        {
            if (_direction == 0 || now >= End)
            {
                return now >= End ? Target : _from;
            }

            var t = Math.Max(0, (now - _start) / (double)frequency);
            double travelled;
            if (t < _rampSeconds)
            {
                travelled = 0.5 * _acceleration * t * t;
            }
            else if (t < _rampSeconds + _cruiseSeconds)
            {
                travelled = 0.5 * _acceleration * _rampSeconds * _rampSeconds + _cruise * (t - _rampSeconds);
            }
            else
            {
                var rampDistance = 0.5 * _acceleration * _rampSeconds * _rampSeconds;
                var td = t - _rampSeconds - _cruiseSeconds;
                travelled = rampDistance + _cruise * _cruiseSeconds + _cruise * td - 0.5 * _acceleration * td * td;
            }

            return _from + _direction * travelled;
        }
    }
}
