using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;

namespace StxmWeb.Core.Tests;

public sealed class ScanRequestValidatorTests
{
    internal static readonly InstrumentLimits Limits = new(new Limits(-50, 50), new Limits(-50, 50), new Limits(100, 2500), new Limits(0.05, 10_000), 4096)
    {
        Kinematics = new PlanKinematics(new AxisKinematics(2000, 200_000, TimeSpan.FromMilliseconds(1)), new AxisKinematics(2000, 200_000, TimeSpan.FromMilliseconds(1)), new AxisKinematics(20, 100, TimeSpan.Zero)),
    };

    private static ScanRequest Valid => ScanRequest.SampleImage(new AxisRegion(0, 20, 50), new AxisRegion(0, 20, 40), 1, 285);

    private static ScanRequest WithRegion(ScanRequest request, AxisRegion? x = null, AxisRegion? y = null) =>
        request with { Regions = [new SpatialRegion(x ?? request.X, y ?? request.Y)] };

    [Fact]
    public void Validate_ValidRequest_HasNoProblems() =>
        Assert.Empty(ScanRequestValidator.Validate(Valid, Limits));

    [Fact]
    public void Validate_ZeroPoints_NamesThePointsField()
    {
        var problems = ScanRequestValidator.Validate(WithRegion(Valid, x: new AxisRegion(0, 20, 0)), Limits);

        var problem = Assert.Single(problems);
        Assert.Equal("regions[0].x.points", problem.Field);
        Assert.Contains("at least 1", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RangePastStageLimits_NamesTheRangeAndTheLimits()
    {
        var problems = ScanRequestValidator.Validate(WithRegion(Valid, y: new AxisRegion(40, 30, 10)), Limits);

        var problem = Assert.Single(problems);
        Assert.Equal("regions[0].y.range", problem.Field);
        Assert.Contains("25 to 55", problem.Message, StringComparison.Ordinal);
        Assert.Contains("[-50, 50]", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(20_000.0)]
    [InlineData(double.NaN)]
    public void Validate_DwellOutOfRange_NamesTheDwellField(double dwell)
    {
        var problem = Assert.Single(ScanRequestValidator.Validate(Valid with { DwellMs = dwell }, Limits));

        Assert.Equal("dwellMs", problem.Field);
    }

    [Fact]
    public void Validate_SeveralBadFields_ReturnsEveryProblemAtOnce()
    {
        var request = ScanRequest.SampleImage(new AxisRegion(0, 200, 0), new AxisRegion(double.PositiveInfinity, 10, 5), -1, 50);

        var fields = ScanRequestValidator.Validate(request, Limits).Select(p => p.Field).ToHashSet();

        Assert.Superset(new HashSet<string> { "regions[0].x.points", "regions[0].x.range", "regions[0].y.center", "dwellMs", "energyEv" }, fields);
    }

    [Fact]
    public void Validate_LineTooFastForTheStage_AsksForALongerDwell()
    {
        // 100 µm over 11 points is a 10 µm step; at 1 ms that is 10 mm/s, five times the piezo's 2 mm/s.
        var request = WithRegion(Valid, new AxisRegion(0, 100, 11), new AxisRegion(0, 10, 5));

        var problem = Assert.Single(ScanRequestValidator.Validate(request, Limits));

        Assert.Equal("dwellMs", problem.Field);
        Assert.Contains("µm/s", problem.Message, StringComparison.Ordinal);
        Assert.Empty(ScanRequestValidator.Validate(request with { Mode = AcquisitionMode.PointByPoint }, Limits));
    }

    [Fact]
    public void Validate_LineWithoutRoomToAccelerate_NamesTheRange()
    {
        // The whole travel is used: the run-up needs room past -50.
        var request = WithRegion(Valid, x: new AxisRegion(0, 100, 200)) with { DwellMs = 0.5 };

        var problem = Assert.Single(ScanRequestValidator.Validate(request, Limits));

        Assert.Equal("regions[0].x.range", problem.Field);
        Assert.Contains("accelerate", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Null_IsAProblemNotACrash() =>
        Assert.Single(ScanRequestValidator.Validate(null, Limits));
}
