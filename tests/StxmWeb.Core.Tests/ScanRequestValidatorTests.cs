using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;

namespace StxmWeb.Core.Tests;

public sealed class ScanRequestValidatorTests
{
    internal static readonly InstrumentLimits Limits = new(new Limits(-50, 50), new Limits(-50, 50), new Limits(100, 2500), new Limits(0.05, 10_000), 4096)
    {
        FastAxis = new AxisKinematics(2000, 200_000, TimeSpan.FromMilliseconds(1)),
    };

    private static SampleImageRequest Valid => new(new AxisRegion(0, 20, 50), new AxisRegion(0, 20, 40), 1, 285);

    [Fact]
    public void Validate_ValidRequest_HasNoProblems() =>
        Assert.Empty(ScanRequestValidator.Validate(Valid, Limits));

    [Fact]
    public void Validate_ZeroPoints_NamesThePointsField()
    {
        var problems = ScanRequestValidator.Validate(Valid with { X = new AxisRegion(0, 20, 0) }, Limits);

        var problem = Assert.Single(problems);
        Assert.Equal("x.points", problem.Field);
        Assert.Contains("at least 1", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RangePastStageLimits_NamesTheRangeAndTheLimits()
    {
        var problems = ScanRequestValidator.Validate(Valid with { Y = new AxisRegion(40, 30, 10) }, Limits);

        var problem = Assert.Single(problems);
        Assert.Equal("y.range", problem.Field);
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
        var request = new SampleImageRequest(new AxisRegion(0, 200, 0), new AxisRegion(double.PositiveInfinity, 10, 5), -1, 50);

        var fields = ScanRequestValidator.Validate(request, Limits).Select(p => p.Field).ToHashSet();

        Assert.Superset(new HashSet<string> { "x.points", "x.range", "y.center", "dwellMs", "energyEv" }, fields);
    }

    [Fact]
    public void Validate_LineTooFastForTheStage_AsksForALongerDwell()
    {
        // 100 µm over 11 points is a 10 µm step; at 1 ms that is 10 mm/s, five times the piezo's 2 mm/s.
        var request = Valid with { X = new AxisRegion(0, 100, 11), Y = new AxisRegion(0, 10, 5) };

        var problem = Assert.Single(ScanRequestValidator.Validate(request, Limits));

        Assert.Equal("dwellMs", problem.Field);
        Assert.Contains("µm/s", problem.Message, StringComparison.Ordinal);
        Assert.Empty(ScanRequestValidator.Validate(request with { Mode = AcquisitionMode.PointByPoint }, Limits));
    }

    [Fact]
    public void Validate_LineWithoutRoomToAccelerate_NamesTheRange()
    {
        // The whole travel is used: the run-up needs room past -50.
        var request = Valid with { X = new AxisRegion(0, 100, 200), DwellMs = 0.5 };

        var problem = Assert.Single(ScanRequestValidator.Validate(request, Limits));

        Assert.Equal("x.range", problem.Field);
        Assert.Contains("accelerate", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Null_IsAProblemNotACrash() =>
        Assert.Single(ScanRequestValidator.Validate(null, Limits));
}
