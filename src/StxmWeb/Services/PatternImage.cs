using StbImageSharp;
using StxmWeb.Core.Scans;

namespace StxmWeb.Services;

/// <summary>
/// Pattern-generator images (pyStxm loads GIF patterns; PNG and BMP work too): each pixel's brightness is its
/// exposure, 0..1 of the brightest pixel's, laid over the current region's centre and size with one scan pixel per
/// image pixel. Decoded with StbImageSharp (first frame of a GIF; transparent pixels count as black).
/// </summary>
public static class PatternImage
{
    /// <summary>The pattern of <paramref name="bytes"/> over <paramref name="region"/>'s centre and range. Throws <see cref="FormatException"/>.</summary>
    public static LoadedPattern Load(byte[] bytes, SpatialRegion region, double exposureMs)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(region);
        ImageResult image;
        try
        {
            image = ImageResult.FromMemory(bytes, ColorComponents.Grey);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            throw new FormatException($"The image cannot be decoded: {ex.Message}", ex);
        }

        if (image.Width > PatternFile.MaxPixels || image.Height > PatternFile.MaxPixels)
        {
            throw new FormatException($"The image is {image.Width} × {image.Height} pixels; a pattern has at most {PatternFile.MaxPixels} per side.");
        }

        var brightest = image.Data.Max();
        if (brightest == 0)
        {
            throw new FormatException("The image is black: nothing would be exposed.");
        }

        // Image rows run top to bottom; scan rows run up the sample (row 0 at the lowest y).
        var values = new double[image.Height][];
        for (var r = 0; r < image.Height; r++)
        {
            values[r] = new double[image.Width];
            var source = image.Height - 1 - r;
            for (var c = 0; c < image.Width; c++)
            {
                values[r][c] = image.Data[(source * image.Width) + c] / (double)brightest;
            }
        }

        var grid = new SpatialRegion(region.X with { Points = image.Width }, region.Y with { Points = image.Height });
        return new LoadedPattern(grid, new PatternSpec(PatternKind.Custom, exposureMs, 3, values));
    }
}
