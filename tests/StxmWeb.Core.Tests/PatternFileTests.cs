using StxmWeb.Core.Scans;

namespace StxmWeb.Core.Tests;

/// <summary>Pattern files (.xyt): points on their grid, exposures relative to the brightest, clear errors.</summary>
public sealed class PatternFileTests
{
    [Fact]
    public void Xyt_PutsEachPointOnItsPixel_RelativeToTheLongestExposure()
    {
        const string text = """
            # pattern: an L of three exposures
            x y t
            -1.0 2.0 100
            -0.5 2.0 50
            -1.0 2.5 25
            """;

        var loaded = PatternFile.ParseXyt(text);

        Assert.Equal(new AxisRegion(-0.75, 0.5, 2), loaded.Region.X);
        Assert.Equal(new AxisRegion(2.25, 0.5, 2), loaded.Region.Y);
        Assert.Equal(PatternKind.Custom, loaded.Pattern.Kind);
        Assert.Equal(100, loaded.Pattern.ExposureMs);
        Assert.Equal([1.0, 0.5], loaded.Pattern.Values![0]);
        Assert.Equal([0.25, 0.0], loaded.Pattern.Values![1]);
    }

    [Theory]
    [InlineData("just a header\n", "No \"x y t\" line")]
    [InlineData("0 0 -5\n", "zero or more")]
    [InlineData("0 0 0\n1 0 0\n", "Every exposure is zero")]
    [InlineData("0 0 1\n0.001 0 1\n1 0 1\n", "at most 256")]
    public void Xyt_BadFiles_SayWhatIsWrong(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => PatternFile.ParseXyt(text));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
