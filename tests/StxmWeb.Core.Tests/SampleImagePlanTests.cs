using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;

namespace StxmWeb.Core.Tests;

public sealed class SampleImagePlanTests
{
    private static readonly AxisKinematics Piezo = new(2000, 200_000, TimeSpan.FromMilliseconds(1));
    private static readonly PlanKinematics Kinematics = new(Piezo, Piezo, new AxisKinematics(20, 100, TimeSpan.FromMilliseconds(20)));

    [Fact]
    public void Setpoints_IncludeBothEnds_LikePyStxmLinspace()
    {
        var axis = new AxisRegion(10, 4, 5);

        Assert.Equal([8, 9, 10, 11, 12], axis.Setpoints());
        Assert.Equal(1.0, axis.Step);
        Assert.Equal([10.0], new AxisRegion(10, 0, 1).Setpoints());
    }

    [Fact]
    public void PointByPoint_VisitsEveryPixelOnceInRasterOrder()
    {
        var request = ScanRequest.SampleImage(new AxisRegion(0, 4, 3), new AxisRegion(0, 2, 2), 2, 285, AcquisitionMode.PointByPoint);

        var acquisitions = ScanPlanner.Build(request, Kinematics).Plan.OfType<AcquirePointMsg>().ToList();

        Assert.Equal(6, acquisitions.Count);
        Assert.Equal([(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)], acquisitions.Select(a => (a.Row, a.Column)));
        Assert.All(acquisitions, a => Assert.Equal(TimeSpan.FromMilliseconds(2), a.Dwell));
    }

    [Fact]
    public void PointByPoint_MovesStayOnTheSetpoints()
    {
        var request = ScanRequest.SampleImage(new AxisRegion(1, 4, 3), new AxisRegion(-1, 2, 2), 2, 285, AcquisitionMode.PointByPoint);

        var targets = ScanPlanner.Build(request, Kinematics).Plan.OfType<MoveMsg>().SelectMany(m => m.Targets).ToList();

        Assert.All(targets.Where(t => t.Positioner == Roles.SampleX), t => Assert.Contains(t.Target, request.X.Setpoints()));
        Assert.All(targets.Where(t => t.Positioner == Roles.SampleY), t => Assert.Contains(t.Target, request.Y.Setpoints()));
        Assert.Equal(285, targets.Single(t => t.Positioner == Roles.Energy).Target);
    }

    [Fact]
    public void Line_FliesEachRowWithRunUpAndRunOut()
    {
        // 11 points over 10 µm: 1 µm step; 1 ms dwell -> 1000 µm/s; run-up v²/2a = 1e6 / 4e5 = 2.5 µm.
        var request = ScanRequest.SampleImage(new AxisRegion(0, 10, 11), new AxisRegion(0, 4, 5), 1, 285);

        var flies = ScanPlanner.Build(request, Kinematics).Plan.OfType<FlyLineMsg>().ToList();

        Assert.Equal(5, flies.Count);
        var fly = flies[0];
        Assert.Equal(1000, fly.Velocity, 9);
        Assert.Equal(-5 - 0.5 - 2.5, fly.RunUp, 9);
        Assert.Equal(5 + 0.5 + 2.5, fly.RunOut, 9);
        Assert.Equal(TimeSpan.FromMilliseconds(5), fly.AccelerationTime);
        Assert.Equal(11, fly.Bins);
        Assert.Equal([0, 1, 2, 3, 4], flies.Select(f => f.Row));
    }

    [Fact]
    public void Plan_HasACheckpointAtEveryLineBoundary()
    {
        var request = ScanRequest.SampleImage(new AxisRegion(0, 10, 11), new AxisRegion(0, 4, 5), 1, 285);

        var checkpoints = ScanPlanner.Build(request, Kinematics).Plan.OfType<CheckpointMsg>().Select(c => c.CompletedPixels);

        Assert.Equal([0L, 11, 22, 33, 44, 55], checkpoints);
    }

    [Fact]
    public void Estimate_LineMode_MatchesTheHandComputedTime()
    {
        // Per row: accelerate 5 ms + 11 bins x 1 ms + decelerate 5 ms + settle 1 ms = 22 ms. The moves between rows
        // (Y by 1 µm and X back by 16 µm, together) take the longer: X 16 µm at 2e5 µm/s² is triangular,
        // 2*sqrt(16/2e5) = 17.889 ms + 1 ms settle. The first row starts where the stages stand (no move cost). After the
        // last row the stages return to the start: X from the run-out (8 µm) back to −8 µm, the same 18.889 ms.
        var request = ScanRequest.SampleImage(new AxisRegion(0, 10, 11), new AxisRegion(0, 4, 5), 1, 285);
        var start = new Dictionary<string, double> { [Roles.SampleX] = -8, [Roles.SampleY] = -2, [Roles.Energy] = 285 };

        var estimate = ScanPlanner.Estimate(ScanPlanner.Build(request, Kinematics).Plan, Kinematics, start);

        var expected = (5 * 22.0) + (5 * (2 * Math.Sqrt(16 / 2e5) * 1000 + 1));
        Assert.Equal(expected, estimate.TotalMilliseconds, 0.005); // TimeSpan keeps whole ticks per move
    }

    [Fact]
    public void MoveTime_LongMove_AcceleratesCruisesAndDecelerates()
    {
        var kin = new AxisKinematics(2000, 200_000, TimeSpan.FromMilliseconds(1));

        // 500 µm: ramps cover 2000²/2e5 = 20 µm in 2 x 10 ms; 480 µm cruise at 2000 µm/s = 240 ms; + settle.
        Assert.Equal(0.261, kin.MoveTime(500).TotalSeconds, 9);
        Assert.Equal(kin.MoveTime(500), kin.MoveTime(-500));
    }

    [Fact]
    public void MoveTime_ShortMove_IsTriangular()
    {
        var kin = new AxisKinematics(2000, 200_000, TimeSpan.Zero);

        // 5 µm never reaches cruise speed: 2·sqrt(5 / 2e5) = 10 ms.
        Assert.Equal(0.01, kin.MoveTime(5).TotalSeconds, 9);
        Assert.Equal(TimeSpan.Zero, kin.MoveTime(0));
    }
}
