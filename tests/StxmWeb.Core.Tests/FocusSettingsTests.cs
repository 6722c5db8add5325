using StxmWeb.Core.Focus;

namespace StxmWeb.Core.Tests;

/// <summary>The focus calibration and its "set focus" corrections, pinned against values computed by hand.</summary>
public sealed class FocusSettingsTests
{
    // A1 = 4 µm/eV: FL(250 eV) = 1000 µm. Outermost zone 25 nm.
    private static readonly ZonePlate Zp = new("test", 4, 240, 90, 25);

    [Fact]
    public void Zpz_SampleFocused_IsMinusFocalLengthPlusA0AndDeltaA0()
    {
        // −|1000 + 0 + 0| + (250 + 10) = −740.
        Assert.Equal(-740.0, new FocusSettings(A0: 250, DeltaA0: 10).Zpz(Zp, 250), 9);
    }

    [Fact]
    public void Zpz_OsaFocused_IgnoresA0_AndAppliesTheAdjust()
    {
        // −|1000 + 15| = −1015.
        Assert.Equal(-1015.0, new FocusSettings(A0: 250, ZpzAdjust: 15, Mode: FocusMode.OsaFocused).Zpz(Zp, 250), 9);
    }

    [Fact]
    public void Zpz_WithADefocusSpot_MovesAwayByTheDefocusFormula()
    {
        // Defocus for a 2 µm spot at 250 eV: 2 · 25 · 250 / 1239.8 = 10.0823 µm; −|1000 + 10.0823| + 250.
        Assert.Equal(-760.0823, new FocusSettings(A0: 250, DefocusSpotUm: 2).Zpz(Zp, 250), 4);
    }

    [Fact]
    public void WithOsaFocusAt_MakesTheClickedRowTheOsaFocus()
    {
        // The OSA is sharpest at −1030: adjust = 1030 − 1000 = 30, so −|FL + adjust| = −1030.
        var settings = new FocusSettings().WithOsaFocusAt(Zp, 250, -1030);

        Assert.Equal(30.0, settings.ZpzAdjust, 9);
        Assert.Equal(-1030.0, (settings with { Mode = FocusMode.OsaFocused }).Zpz(Zp, 250), 9);
    }

    [Fact]
    public void WithSampleFocusAt_MovesA0ByTheDifference_AndKeepsTheRest()
    {
        // Calibrated sample focus: −1000 + 280 = −720; the scan finds it at −750: Δ = −30, A0 = 250.
        var settings = new FocusSettings(A0: 280, DeltaA0: 0, DefocusSpotUm: 2).WithSampleFocusAt(Zp, 250, -750);

        Assert.Equal(250.0, settings.A0, 9);
        Assert.Equal(2.0, settings.DefocusSpotUm, 9);
        Assert.Equal(-750.0, (settings with { DefocusSpotUm = 0 }).Zpz(Zp, 250), 9);
    }

    [Fact]
    public void SharpestRow_IsTheRowWithTheSteepestEdges_WhateverItsBrightness()
    {
        double[] data =
        [
            100, 100, 90, 80, 70, 60,  // soft edge
            50, 50, 50, 10, 10, 10,    // sharp edge, dim row
            200, 200, 150, 100, 80, 60, // softer, bright
        ];

        Assert.Equal(1, FocusAnalysis.SharpestRow(data, 3, 6));
        Assert.Equal(-1, FocusAnalysis.SharpestRow([double.NaN, double.NaN], 1, 2));
    }
}
