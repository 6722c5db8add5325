using StxmWeb.Core.Documents;

namespace StxmWeb.Core.Tests;

/// <summary>The arrays a run hands back are the next run's only when type and length match, and always come refilled.</summary>
public sealed class SpareImagesTests
{
    [Fact]
    public void AKeptArray_IsTakenAgainRefilled_OnlyForItsTypeAndLength()
    {
        var spare = new SpareImages();
        double[] image = [1, 2, 3];
        float[] frames = [4, 5];
        spare.Keep([image, frames]);

        Assert.NotSame(image, spare.Take(4, double.NaN)); // another length
        Assert.Equal(2, spare.Take(2, 0.0).Length);       // another type: a new array
        var again = spare.Take(3, double.NaN);
        Assert.Same(image, again);
        Assert.All(again, v => Assert.True(double.IsNaN(v)));
        Assert.NotSame(image, spare.Take(3, double.NaN)); // taken once only

        Assert.Same(frames, spare.Take(2, -1f));
        Assert.Equal([-1f, -1f], frames);
    }

    [Fact]
    public void Keep_ReplacesWhatWasKept_AndClear_LetsItGo()
    {
        var spare = new SpareImages();
        double[] first = [1, 2];
        double[] second = [3, 4];
        spare.Keep([first]);
        spare.Keep([second]);
        Assert.Same(second, spare.Take(2, 0.0));

        spare.Keep([first]);
        spare.Clear();
        Assert.NotSame(first, spare.Take(2, 0.0));
    }
}
