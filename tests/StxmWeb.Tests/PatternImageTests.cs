using StxmWeb.Core.Scans;
using StxmWeb.Services;

namespace StxmWeb.Tests;

/// <summary>Pattern images: brightness is exposure, rows flipped so the image's top is the region's top.</summary>
public sealed class PatternImageTests
{
    private static readonly SpatialRegion Region = new(new AxisRegion(-7.9, 6, 18), new AxisRegion(9.1, 6, 18));

    /// <summary>A 24-bit BMP of grey levels, rows given top first (BMP stores them bottom up, padded to 4 bytes).</summary>
    private static byte[] Bmp(byte[][] rows)
    {
        var width = rows[0].Length;
        var stride = ((width * 3) + 3) / 4 * 4;
        var size = 54 + (stride * rows.Length);
        var bmp = new byte[size];
        "BM"u8.CopyTo(bmp);
        BitConverter.GetBytes(size).CopyTo(bmp, 2);
        BitConverter.GetBytes(54).CopyTo(bmp, 10);
        BitConverter.GetBytes(40).CopyTo(bmp, 14);
        BitConverter.GetBytes(width).CopyTo(bmp, 18);
        BitConverter.GetBytes(rows.Length).CopyTo(bmp, 22);
        BitConverter.GetBytes((short)1).CopyTo(bmp, 26);
        BitConverter.GetBytes((short)24).CopyTo(bmp, 28);
        for (var r = 0; r < rows.Length; r++)
        {
            var offset = 54 + ((rows.Length - 1 - r) * stride);
            for (var c = 0; c < width; c++)
            {
                bmp[offset + (3 * c)] = bmp[offset + (3 * c) + 1] = bmp[offset + (3 * c) + 2] = rows[r][c];
            }
        }

        return bmp;
    }

    [Fact]
    public void Image_BrightnessBecomesExposure_TopRowAtTheTop()
    {
        var image = Bmp([[0, 128, 255], [255, 255, 0]]);

        var loaded = PatternImage.Load(image, Region, 500);

        Assert.Equal(3, loaded.Region.X.Points);
        Assert.Equal(2, loaded.Region.Y.Points);
        Assert.Equal(-7.9, loaded.Region.X.Center, 9);
        Assert.Equal(500, loaded.Pattern.ExposureMs);
        Assert.Equal([1.0, 1.0, 0.0], loaded.Pattern.Values![0]);            // row 0: the bottom of the sample
        Assert.Equal(0.0, loaded.Pattern.Values![1][0]);                     // row 1: the image's top row
        Assert.Equal(128 / 255.0, loaded.Pattern.Values![1][1], 2);
        Assert.Equal(1.0, loaded.Pattern.Values![1][2]);
    }

    [Fact]
    public void Gif_IsDecoded()
    {
        var gif = Convert.FromBase64String("R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=");

        var loaded = PatternImage.Load(gif, Region, 100);

        Assert.Equal([[1.0]], loaded.Pattern.Values!);
    }

    [Fact]
    public void NotAnImage_SaysSo()
    {
        var error = Assert.Throws<FormatException>(() => PatternImage.Load("not an image"u8.ToArray(), Region, 100));

        Assert.Contains("cannot be decoded", error.Message, StringComparison.Ordinal);
    }
}
