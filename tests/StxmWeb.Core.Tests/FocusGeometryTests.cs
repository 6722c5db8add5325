using StxmWeb.Core.Focus;

namespace StxmWeb.Core.Tests;

/// <summary>Every focus formula pinned against values computed by hand (reference/PYSTXM.md section 2).</summary>
public sealed class FocusGeometryTests
{
    [Fact]
    public void FocalLength_IsA1TimesEnergy_SignIgnored()
    {
        Assert.Equal(11.359 * 650, FocusGeometry.FocalLength(11.359, 650), 9);
        Assert.Equal(11.359 * 650, FocusGeometry.FocalLength(-11.359, 650), 9);
    }

    [Fact]
    public void A1FromGeometry_240umDiameter25nmZones_Is4Point839()
    {
        // FL = D·Δr/λ; λ(285 eV) = 1239.84198/285 nm = 4.35032 nm; FL = 240 µm · 25 nm / 4.35032 nm = 1379.208 µm.
        var a1 = FocusGeometry.A1FromGeometry(240, 25);

        Assert.Equal(4.839326, a1, 6);
        Assert.Equal(1379.208, FocusGeometry.FocalLength(a1, 285), 3);
    }

    [Fact]
    public void ZpzOsaFocused_IsMinusFocalLengthPlusDefocus()
    {
        Assert.Equal(-1000.0, FocusGeometry.ZpzOsaFocused(4, 250), 9);
        Assert.Equal(-1010.0, FocusGeometry.ZpzOsaFocused(4, 250, defocusUm: 10), 9);
    }

    [Fact]
    public void ZpzSampleFocused_AddsA0AndDeltaA0()
    {
        // -|1000 + 0 + 5| + (500 + 20) = -485
        Assert.Equal(-485.0, FocusGeometry.ZpzSampleFocused(4, 250, a0: 500, deltaA0: 20, zpzAdjust: 5), 9);
    }

    [Fact]
    public void A0Max_IsOsaDiameterTimesFocalLengthOverZonePlateDiameter()
    {
        // 60 µm · 1000 µm / 240 µm = 250 µm
        Assert.Equal(250.0, FocusGeometry.A0Max(60, 4, 250, 240), 9);
    }

    [Fact]
    public void DefocusForSpot_FollowsPyStxm()
    {
        // 1 µm spot · 25 nm · 300 eV / 1239.8 = 6.0494 µm
        Assert.Equal(6.04936, FocusGeometry.DefocusForSpot(1, 25, 300), 5);
    }

    [Fact]
    public void SpotAtDefocus_GrowsFromTheDiffractionLimit()
    {
        var zp = new ZonePlate("zp", 4, 240, 90, 25);

        var focused = FocusGeometry.SpotAtDefocusUm(zp, 250, 0);
        var blurred = FocusGeometry.SpotAtDefocusUm(zp, 250, 50);

        Assert.Equal(0.0305, focused, 6);
        // NA = 240 / (2·1000) = 0.12; cone = 2·0.12·50 = 12 µm, in quadrature with 0.0305.
        Assert.Equal(Math.Sqrt(0.0305 * 0.0305 + 144), blurred, 9);
    }
}
