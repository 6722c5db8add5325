using StxmWeb.Core.Scans;

namespace StxmWeb.Core.Plans;

/// <summary>The names of the positioners a plan drives; a backend maps them to its devices.</summary>
public static class Roles
{
    /// <summary>Fine sample X, the fast axis.</summary>
    public const string SampleX = "SampleFineX";

    /// <summary>Fine sample Y, the slow axis.</summary>
    public const string SampleY = "SampleFineY";

    /// <summary>Photon energy.</summary>
    public const string Energy = "Energy";
}

/// <summary>The kinematics of the axes a plan uses, for fly-line parameters and estimates.</summary>
/// <param name="X">Fast axis.</param>
/// <param name="Y">Slow axis.</param>
/// <param name="Energy">Energy.</param>
public sealed record PlanKinematics(AxisKinematics X, AxisKinematics Y, AxisKinematics Energy);

/// <summary>
/// The pure plan of a sample image: a raster of rows, each at a line boundary (checkpoint). Point-by-point visits each
/// pixel; line mode flies the fast axis at constant velocity (step / dwell) with run-up and run-out so that every pixel
/// is counted at full speed.
/// </summary>
public static class SampleImagePlan
{
    /// <summary>The messages of the plan, lazily.</summary>
    public static IEnumerable<Msg> Build(SampleImageRequest request, PlanKinematics kinematics)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(kinematics);
        return Iterate(request, kinematics);
    }

    private static IEnumerable<Msg> Iterate(SampleImageRequest request, PlanKinematics kinematics)
    {
        var xs = request.X.Setpoints();
        var ys = request.Y.Setpoints();
        var dwell = TimeSpan.FromMilliseconds(request.DwellMs);
        var fly = FlyGeometry(request, kinematics.X);

        yield return new MoveMsg(Roles.Energy, request.EnergyEv);
        for (var row = 0; row < ys.Length; row++)
        {
            yield return new CheckpointMsg((long)row * xs.Length);
            if (request.Mode == AcquisitionMode.Line && fly is { } f)
            {
                yield return new MoveMsg([new MoveTarget(Roles.SampleY, ys[row]), new MoveTarget(Roles.SampleX, f.RunUp)]);
                yield return new FlyLineMsg(0, row, Roles.SampleX, f.RunUp, f.RunOut, f.Velocity, f.AccelerationTime, xs.Length, dwell);
            }
            else
            {
                yield return new MoveMsg([new MoveTarget(Roles.SampleY, ys[row]), new MoveTarget(Roles.SampleX, xs[0])]);
                for (var col = 0; col < xs.Length; col++)
                {
                    if (col > 0)
                    {
                        yield return new MoveMsg(Roles.SampleX, xs[col]);
                    }

                    yield return new AcquirePointMsg(0, row, col, dwell);
                }
            }
        }

        yield return new CheckpointMsg(request.PixelCount);
    }

    /// <summary>Fly-line geometry for line mode, or null when the line has a single pixel (then points are used).</summary>
    public static FlyLine? FlyGeometry(SampleImageRequest request, AxisKinematics x)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(x);
        if (request.X.Points < 2)
        {
            return null;
        }

        var step = request.X.Step;
        var velocity = step / (request.DwellMs / 1000.0);
        var runUpDistance = x.AccelerationDistance(velocity);

        // Pixel i is counted while the beam crosses [x_i - step/2, x_i + step/2].
        var firstEdge = request.X.Start - step / 2;
        var lastEdge = request.X.Stop + step / 2;
        return new FlyLine(firstEdge - runUpDistance, lastEdge + runUpDistance, velocity, x.AccelerationTime(velocity));
    }

    /// <summary>Estimated duration of each message, given where the axes stand before it.</summary>
    public static TimeSpan Estimate(IEnumerable<Msg> plan, PlanKinematics kinematics, IReadOnlyDictionary<string, double>? start = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var tracker = new EstimateTracker(kinematics, start);
        var total = TimeSpan.Zero;
        foreach (var msg in plan)
        {
            total += tracker.Cost(msg);
        }

        return total;
    }
}

/// <summary>Run-up, run-out, velocity and acceleration time of a constant-velocity line.</summary>
/// <param name="RunUp">Start position of the fly move.</param>
/// <param name="RunOut">End position of the fly move.</param>
/// <param name="Velocity">Velocity while counting.</param>
/// <param name="AccelerationTime">Time to reach it.</param>
public readonly record struct FlyLine(double RunUp, double RunOut, double Velocity, TimeSpan AccelerationTime);

/// <summary>
/// Follows where the axes stand message by message and prices each message in time: the plan's estimate before the
/// run, and the engine's time left during it.
/// </summary>
public sealed class EstimateTracker
{
    private readonly PlanKinematics _kinematics;
    private readonly Dictionary<string, double> _positions;

    /// <summary>Creates a tracker with the axes at <paramref name="start"/> (unknown axes are assumed at their first target).</summary>
    public EstimateTracker(PlanKinematics kinematics, IReadOnlyDictionary<string, double>? start = null)
    {
        _kinematics = kinematics ?? throw new ArgumentNullException(nameof(kinematics));
        _positions = start is null ? new(StringComparer.Ordinal) : new(start, StringComparer.Ordinal);
    }

    /// <summary>The estimated duration of <paramref name="msg"/>, and the axes' positions after it.</summary>
    public TimeSpan Cost(Msg msg)
    {
        switch (msg)
        {
            case MoveMsg move:
                var longest = TimeSpan.Zero;
                foreach (var (name, target) in move.Targets)
                {
                    var from = _positions.TryGetValue(name, out var p) ? p : target;
                    var time = Axis(name).MoveTime(target - from);
                    longest = time > longest ? time : longest;
                    _positions[name] = target;
                }

                return longest;
            case AcquirePointMsg point:
                return point.Dwell;
            case FlyLineMsg fly:
                _positions[fly.Positioner] = fly.RunOut;
                var kin = Axis(fly.Positioner);

                // Accelerate, count every bin, decelerate: the run-out mirrors the run-up.
                return (2 * fly.AccelerationTime) + (fly.Bins * fly.Dwell) + kin.Settle;
            default:
                return TimeSpan.Zero;
        }
    }

    private AxisKinematics Axis(string name) => name switch
    {
        Roles.SampleX => _kinematics.X,
        Roles.SampleY => _kinematics.Y,
        Roles.Energy => _kinematics.Energy,
        _ => _kinematics.X,
    };
}
