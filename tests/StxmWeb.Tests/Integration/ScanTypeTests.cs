using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Services;
using StxmWeb.Testing;

namespace StxmWeb.Tests.Integration;

/// <summary>
/// Every scan type run through the HTTP API on the simulated microscope (accelerated clock), its NXstxm file read back
/// with h5py: layout, shapes, axes and <c>stxm_scan_type</c>, and data that look right (the OSA image shows the aperture,
/// the detector image the beam spot, focus scans are sharpest at the true focus, spectra peak at the materials'
/// resonances, stacks change contrast with energy, tomography turns with the angle, a dose pattern shows in a later image).
/// </summary>
[Trait("Category", "Integration")]
public sealed class ScanTypeTests : IClassFixture<ScanTypeTests.App>
{
    // Sample positions from SampleModel.Default(seed 17), the simulated microscope's sample.
    private static readonly SamplePoint Polystyrene = new(-7.88, 9.09);
    private static readonly SamplePoint Pmma = new(-15.43, 9.10);
    private static readonly SamplePoint Calcite = new(9.64, -7.27);
    private static readonly SamplePoint Window = new(-20, -20);

    private readonly App _app;

    public ScanTypeTests(App app) => _app = app;

    /// <summary>One app for the class; scans run one at a time.</summary>
    public sealed class App : IDisposable
    {
        public StxmAppFactory Factory { get; } = new(timeScale: 20);

        public void Dispose() => Factory.Dispose();
    }

    private sealed record Run(JsonElement File, string Id, string FilePath);

    private async Task<Run> RunAsync(ScanRequest request)
    {
        var ct = TestContext.Current.CancellationToken;
        var control = _app.Factory.Services.GetRequiredService<ControlService>();
        await control.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(60), ct);
        using var client = new HttpClient { BaseAddress = _app.Factory.BaseAddress };
        var post = await client.PostAsJsonAsync("/api/scans", request, ScanDefinitionStore.Json, ct);
        var body = await post.Content.ReadAsStringAsync(ct);
        Assert.True(post.IsSuccessStatusCode, $"{request.ScanType} refused: {body}");
        var accepted = JsonDocument.Parse(body).RootElement;
        var url = accepted.GetProperty("status").GetString()!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        JsonElement run;
        while (true)
        {
            run = JsonDocument.Parse(await client.GetStringAsync(url, ct)).RootElement;
            var state = run.GetProperty("state").GetString();
            if (state is "success" or "aborted" or "failed")
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{request.ScanType} did not finish: {run}");
            await Task.Delay(100, ct);
        }

        Assert.Equal("success", run.GetProperty("state").GetString());
        await control.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30), ct);
        var path = run.GetProperty("filePath").GetString()!;

        // The NIAC's validator and StxmWeb's own check every entry of every scan type's file against NXstxm.
        await NexusValidator.AssertConformsAsync(path, request.ScanType.ToString());
        return new Run(await H5py.ReadAsync(path), run.GetProperty("id").GetString()!, path);
    }

    private static void AssertEntry(JsonElement file, string entry, string scanType, int[] shape, string[] axes)
    {
        Assert.Equal(shape, file.Shape($"/{entry}/counter0/data"));
        Assert.Equal(scanType, file.Item($"/{entry}/counter0/stxm_scan_type").GetProperty("value").Text());
        Assert.Equal(axes, file.Item($"/{entry}/counter0").GetProperty("attrs").GetProperty("axes").EnumerateArray().Select(a => a.GetString()!).ToArray());
        foreach (var (axis, length) in axes.Zip(shape))
        {
            Assert.Equal([length], file.Shape($"/{entry}/counter0/{axis}"));
        }

        foreach (var required in new[] { "energy", "sample_x", "sample_y", "count_time" })
        {
            Assert.True(file.GetProperty("items").TryGetProperty($"/{entry}/counter0/{required}", out _), $"{entry} lacks {required}");
        }

        Assert.All(file.Doubles($"/{entry}/counter0/data"), v => Assert.True(double.IsFinite(v), "every point is acquired"));
        Assert.Equal("NXstxm", file.Item($"/{entry}/definition").GetProperty("value").Text());
    }

    private static double[][] Rows(double[] flat, int columns) => [.. flat.Chunk(columns)];

    /// <summary>Index of the row whose sharpest step (largest neighbour difference) is largest: the focus.</summary>
    private static int SharpestRow(double[][] rows) =>
        rows.Select((row, i) => (i, edge: row.Zip(row.Skip(1), (a, b) => Math.Abs(b - a)).Max())).MaxBy(r => r.edge).i;

    private static int ArgMax(double[] values) => Array.IndexOf(values, values.Max());

    [Fact(Timeout = 180_000)]
    public async Task DetectorImage_ShowsTheBeamSpotWhereItHitsTheDetector()
    {
        var run = await RunAsync(ScanRequest.Default(ScanType.DetectorImage) with { Regions = [new(new(0, 1200, 21), new(0, 1200, 21))], DwellMs = 1 });

        AssertEntry(run.File, "entry0", "detector image", [1, 21, 21], ["energy", "detector_y", "detector_x"]);
        var data = run.File.Doubles("/entry0/counter0/data");
        var peak = ArgMax(data);
        var x = run.File.Doubles("/entry0/counter0/detector_x")[peak % 21];
        var y = run.File.Doubles("/entry0/counter0/detector_y")[peak / 21];
        Assert.InRange(x, 80 - 60, 80 + 60); // the simulated beam hits the detector stage at (80, −50) µm
        Assert.InRange(y, -50 - 60, -50 + 60);
        Assert.True(data.Max() > 20 * data.Min() + 1, "a spot on a dark field");
    }

    [Fact(Timeout = 180_000)]
    public async Task OsaImage_ShowsTheAperture()
    {
        var run = await RunAsync(ScanRequest.Default(ScanType.OsaImage) with { Regions = [new(new(0, 120, 25), new(0, 120, 25))], DwellMs = 1 });

        AssertEntry(run.File, "entry0", "osa image", [1, 25, 25], ["energy", "osa_y", "osa_x"]);
        var rows = Rows(run.File.Doubles("/entry0/counter0/data"), 25);
        var centre = rows[10..15].SelectMany(r => r[10..15]).Average();
        var corners = new[] { rows[0][0], rows[0][24], rows[24][0], rows[24][24] }.Average();
        Assert.True(centre > 10 * (corners + 1), $"open aperture {centre:F0} counts, blocked corners {corners:F0}");
    }

    [Fact(Timeout = 180_000)]
    public async Task OsaFocus_IsSharpestAtTheOsaFocus_AndSetFocusRecalibratesTheZonePlate()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = new HttpClient { BaseAddress = _app.Factory.BaseAddress };
        var fl = Core.Focus.FocusGeometry.FocalLength(Core.Focus.FocusGeometry.A1FromGeometry(240, 25), 285);

        // A miscalibrated zone plate: the scan itself is in absolute Zpz, so it still finds the true OSA focus at −FL.
        Assert.True((await client.PutAsJsonAsync("/api/focus", new { a0 = 250, zpzAdjust = 40 }, ct)).IsSuccessStatusCode);
        var run = await RunAsync(new ScanRequest
        {
            ScanType = ScanType.OsaFocus,
            Mode = AcquisitionMode.PointByPoint,
            Line = new LineRegion(-50, 0, 50, 0, 51),
            ZonePlateZ = new AxisRegion(-fl, 300, 21),
            DwellMs = 1,
        });

        AssertEntry(run.File, "entry0", "osa focus", [21, 51], ["zpz", "line_position"]);
        var zs = run.File.Doubles("/entry0/counter0/zpz");
        var sharpest = zs[SharpestRow(Rows(run.File.Doubles("/entry0/counter0/data"), 51))];
        Assert.InRange(sharpest, -fl - 16, -fl + 16);

        var set = await client.PostAsJsonAsync("/api/focus/from-scan", new { runId = run.Id, zpz = sharpest }, ct);
        Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync(ct));
        var focus = JsonDocument.Parse(await client.GetStringAsync("/api/focus", ct)).RootElement.GetProperty("settings");
        Assert.InRange(focus.GetProperty("zpzAdjust").GetDouble(), -16, 16); // back near the truth (0) from 40
    }

    [Fact(Timeout = 180_000)]
    public async Task SampleFocus_IsSharpestAtTheSampleFocus_AndSetA0CorrectsTheCalibration()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = new HttpClient { BaseAddress = _app.Factory.BaseAddress };
        var fl = Core.Focus.FocusGeometry.FocalLength(Core.Focus.FocusGeometry.A1FromGeometry(240, 25), 285);

        // A0 set 30 µm too long: the energy device parks the zone plate 30 µm off the true sample focus (−FL + 250).
        Assert.True((await client.PutAsJsonAsync("/api/focus", new { a0 = 280 }, ct)).IsSuccessStatusCode);
        var parked = -fl + 280;
        var run = await RunAsync(new ScanRequest
        {
            ScanType = ScanType.SampleFocus,
            Line = new LineRegion(-15, Polystyrene.Y, -0.5, Polystyrene.Y, 60),
            ZonePlateZ = new AxisRegion(parked, 120, 13),
            DwellMs = 1,
        });

        AssertEntry(run.File, "entry0", "sample focus", [13, 60], ["zpz", "line_position"]);
        var zs = run.File.Doubles("/entry0/counter0/zpz");
        var sharpest = zs[SharpestRow(Rows(run.File.Doubles("/entry0/counter0/data"), 60))];
        Assert.InRange(sharpest, -fl + 250 - 11, -fl + 250 + 11);

        var set = await client.PostAsJsonAsync("/api/focus/from-scan", new { runId = run.Id, zpz = sharpest }, ct);
        Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync(ct));
        var focus = JsonDocument.Parse(await client.GetStringAsync("/api/focus", ct)).RootElement.GetProperty("settings");
        Assert.InRange(focus.GetProperty("a0").GetDouble(), 239, 261);
        Assert.True((await client.PutAsJsonAsync("/api/focus", new { a0 = 250 }, ct)).IsSuccessStatusCode);
    }

    [Fact(Timeout = 180_000)]
    public async Task PointSpectrum_PeaksAtEachMaterialsResonance_OneEntryPerPoint()
    {
        var run = await RunAsync(new ScanRequest
        {
            ScanType = ScanType.SamplePointSpectrum,
            Mode = AcquisitionMode.PointByPoint,
            Points = [Window, Polystyrene, Pmma, Calcite],
            Energies = [new EnergyRegion(283, 292, 91, 2)],
        });

        for (var i = 0; i < 4; i++)
        {
            AssertEntry(run.File, $"entry{i}", "sample point spectrum", [91], ["energy"]);
        }

        var energy = run.File.Doubles("/entry0/counter0/energy");
        var i0 = run.File.Doubles("/entry0/counter0/data");
        double PeakOf(int entry)
        {
            var od = run.File.Doubles($"/entry{entry}/counter0/data").Select((v, k) => Math.Log(i0[k] / v)).ToArray();
            return energy[ArgMax(od)];
        }

        Assert.InRange(PeakOf(1), 284.85, 285.45); // polystyrene C=C π*
        Assert.InRange(PeakOf(2), 288.15, 288.75); // PMMA C=O π*
        Assert.InRange(PeakOf(3), 290.0, 290.6);   // calcite carbonate π*
        Assert.Equal([Pmma.X], run.File.Doubles("/entry2/counter0/sample_x"));
    }

    [Fact(Timeout = 180_000)]
    public async Task LineSpectrum_ShowsThePolystyreneResonanceAcrossTheParticle()
    {
        var run = await RunAsync(new ScanRequest
        {
            ScanType = ScanType.SampleLineSpectrum,
            Mode = AcquisitionMode.PointByPoint,
            Line = new LineRegion(Polystyrene.X, 2, Polystyrene.X, 16, 29),
            Energies = [new EnergyRegion(284, 287, 13, 2)],
        });

        AssertEntry(run.File, "entry0", "sample line spectrum", [13, 29], ["energy", "line_position"]);
        var rows = Rows(run.File.Doubles("/entry0/counter0/data"), 29);
        var energy = run.File.Doubles("/entry0/counter0/energy");
        var centre = 14; // the line's middle point is the particle's centre
        var od = rows.Select(row => Math.Log(row[0] / row[centre])).ToArray();
        Assert.InRange(energy[ArgMax(od)], 284.9, 285.5);
    }

    [Fact(Timeout = 180_000)]
    public async Task SampleImageStack_ContrastReversesBetweenThePolystyreneAndPmmaResonances()
    {
        var run = await RunAsync(new ScanRequest
        {
            ScanType = ScanType.SampleImageStack,
            Regions = [new(new(-11.6, 16, 33), new(9.1, 8, 17))],
            Energies = [new EnergyRegion(285.15, 285.15, 1, 2), new EnergyRegion(288.45, 288.45, 1, 2)],
        });

        AssertEntry(run.File, "entry0", "sample image stack", [2, 17, 33], ["energy", "sample_y", "sample_x"]);
        var data = run.File.Doubles("/entry0/counter0/data");
        var xs = run.File.Doubles("/entry0/counter0/sample_x");
        var ys = run.File.Doubles("/entry0/counter0/sample_y");
        double At(int plane, SamplePoint p)
        {
            var col = Array.IndexOf(xs, xs.MinBy(x => Math.Abs(x - p.X)));
            var row = Array.IndexOf(ys, ys.MinBy(y => Math.Abs(y - p.Y)));
            return data[(plane * 17 + row) * 33 + col];
        }

        Assert.True(At(0, Polystyrene) < At(0, Pmma), "at 285.15 eV polystyrene absorbs more");
        Assert.True(At(1, Pmma) < At(1, Polystyrene), "at 288.45 eV PMMA absorbs more");
    }

    [Fact(Timeout = 180_000)]
    public async Task SampleImage_WithTwoRegions_WritesAnEntryPerRegion()
    {
        var run = await RunAsync(new ScanRequest
        {
            ScanType = ScanType.SampleImage,
            Regions = [new(new(-10, 10, 20), new(8, 8, 16)), new(new(10, 6, 12), new(-8, 12, 24))],
            DwellMs = 1,
        });

        AssertEntry(run.File, "entry0", "sample image", [1, 16, 20], ["energy", "sample_y", "sample_x"]);
        AssertEntry(run.File, "entry1", "sample image", [1, 24, 12], ["energy", "sample_y", "sample_x"]);
        Assert.Equal(10, run.File.Doubles("/entry1/counter0/sample_x").Average(), 6);
    }

    [Fact(Timeout = 180_000)]
    public async Task TiledImage_LargerThanTheFineStage_MatchesAnUntiledImageWhereTheyOverlap()
    {
        // 150 µm wide: the fine stage reaches ±50 µm, so the coarse stage carries two tiles. Columns every 1.5 µm.
        var tiled = await RunAsync(ScanRequest.SampleImage(new AxisRegion(-45, 150, 101), new AxisRegion(0, 24, 9), 1, 285.15) with { Tiling = true });
        var plain = await RunAsync(ScanRequest.SampleImage(new AxisRegion(0, 36, 25), new AxisRegion(0, 24, 9), 1, 285.15));

        AssertEntry(tiled.File, "entry0", "sample image", [1, 9, 101], ["energy", "sample_y", "sample_x"]);
        var a = Rows(tiled.File.Doubles("/entry0/counter0/data"), 101);
        var b = Rows(plain.File.Doubles("/entry0/counter0/data"), 25);

        // The untiled image's columns (−18…18 µm) are the tiled image's columns 68…92: the same sample, the same pixels.
        var overlap = Enumerable.Range(0, 9).SelectMany(r => Enumerable.Range(0, 25).Select(c => (a[r][68 + c], b[r][c]))).ToArray();
        var (mx, my) = (overlap.Average(p => p.Item1), overlap.Average(p => p.Item2));
        var correlation = overlap.Sum(p => (p.Item1 - mx) * (p.Item2 - my))
            / Math.Sqrt(overlap.Sum(p => (p.Item1 - mx) * (p.Item1 - mx)) * overlap.Sum(p => (p.Item2 - my) * (p.Item2 - my)));
        Assert.True(correlation > 0.9, $"tiled and untiled images agree where they overlap: r = {correlation:F3}");
    }

    [Fact(Timeout = 180_000)]
    public async Task Polarization_LinearDichroismOfCalcite_AnEntryPerPolarization()
    {
        var run = await RunAsync(new ScanRequest
        {
            ScanType = ScanType.SamplePointSpectrum,
            Mode = AcquisitionMode.PointByPoint,
            Points = [Window, Calcite],
            Energies = [new EnergyRegion(290.3, 290.3, 1, 20)],
            Polarizations = [new PolarizationSetting(Polarization.LinHor), new PolarizationSetting(Polarization.IncVertPlus)],
        });

        // Entries: (window, LinHor), (window, IncVert+), (calcite, LinHor), (calcite, IncVert+).
        double Od(int pol) => Math.Log(run.File.Doubles($"/entry{pol}/counter0/data")[0] / run.File.Doubles($"/entry{2 + pol}/counter0/data")[0]);
        Assert.True(Od(0) > 2 * Od(1), $"calcite π* OD {Od(0):F2} horizontal vs {Od(1):F2} vertical");
        Assert.Equal("linear horizontal", run.File.Item("/entry2/instrument/epu/mode").GetProperty("value").Text());
        Assert.Equal([4.0], run.File.Doubles("/entry3/counter0/epu_polarization"));
    }

    [Fact(Timeout = 180_000)]
    public async Task GenericAndTwoVariableScans_ProfileTheOsa()
    {
        var generic = await RunAsync(new ScanRequest { ScanType = ScanType.GenericScan, Mode = AcquisitionMode.PointByPoint, Primary = new PositionerAxis(Roles.OsaX, -60, 60, 31), DwellMs = 1 });
        AssertEntry(generic.File, "entry0", "generic scan", [31], ["osa_x"]);
        var profile = generic.File.Doubles("/entry0/counter0/data");
        Assert.True(profile[15] > 10 * (profile[0] + profile[30] + 1));

        var two = await RunAsync(new ScanRequest
        {
            ScanType = ScanType.TwoVariableImage,
            Mode = AcquisitionMode.PointByPoint,
            Primary = new PositionerAxis(Roles.OsaX, -60, 60, 13),
            Secondary = new PositionerAxis(Roles.OsaY, -60, 60, 13),
            DwellMs = 1,
        });
        AssertEntry(two.File, "entry0", "generic scan", [13, 13], ["osa_y", "osa_x"]);
        var rows = Rows(two.File.Doubles("/entry0/counter0/data"), 13);
        Assert.True(rows[6][6] > 10 * (rows[0][0] + 1));
    }

    [Theory(Timeout = 180_000)]
    [InlineData(ScanType.CoarseImage, "coarse")]
    [InlineData(ScanType.CoarseGoni, "goni")]
    public async Task CoarseImages_MoveTheSampleUnderTheBeam(ScanType type, string axis)
    {
        var run = await RunAsync(ScanRequest.Default(type) with { Regions = [new(new(0, 40, 11), new(0, 40, 11))], DwellMs = 1 });

        AssertEntry(run.File, "entry0", "sample image", [1, 11, 11], ["energy", $"{axis}_y", $"{axis}_x"]);
        var data = run.File.Doubles("/entry0/counter0/data");
        Assert.True(data.Max() > 1.2 * data.Min(), "particles pass under the beam");
    }

    [Fact(Timeout = 180_000)]
    public async Task Tomography_TheParticleTurnsWithTheAngle()
    {
        double[] angles = [-30, 0, 30];
        var run = await RunAsync(new ScanRequest
        {
            ScanType = ScanType.Tomography,
            Regions = [new(new(8, 24, 49), new(Calcite.Y, 3, 7))],
            Theta = new PositionerAxis(Roles.GoniTheta, -30, 30, 3),
            EnergyEv = 290.3,
            DwellMs = 1,
        });

        for (var a = 0; a < 3; a++)
        {
            AssertEntry(run.File, $"entry{a}", "sample image", [1, 7, 49], ["energy", "sample_y", "sample_x"]);
            Assert.Equal(angles[a], run.File.Doubles($"/entry{a}/sample/rotation_angle")[0], 6);
            var xs = run.File.Doubles($"/entry{a}/counter0/sample_x");
            var rows = Rows(run.File.Doubles($"/entry{a}/counter0/data"), 49);
            var row = rows[3];
            var od = row.Select(v => Math.Max(0, Math.Log(row.Max() / v))).ToArray();
            var centroid = od.Zip(xs, (w, x) => w * x).Sum() / od.Sum();

            // The calcite particle at X 9.64, Z 9.16 projects to X cos θ + Z sin θ.
            var expected = (9.64 * Math.Cos(angles[a] * Math.PI / 180)) + (9.16 * Math.Sin(angles[a] * Math.PI / 180));
            Assert.InRange(centroid, expected - 1.2, expected + 1.2);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task PatternGenerator_ExposesADoseSeries_ThatALaterImageShows()
    {
        var region = new SpatialRegion(new(Polystyrene.X, 6, 18), new(Polystyrene.Y, 6, 18));
        var image = ScanRequest.SampleImage(region.X, region.Y, 1, 285.15, AcquisitionMode.PointByPoint);
        var before = await RunAsync(image);
        var pattern = await RunAsync(new ScanRequest
        {
            ScanType = ScanType.PatternGen,
            Mode = AcquisitionMode.PointByPoint,
            Regions = [region],
            EnergyEv = 285.15,
            Pattern = new PatternSpec(PatternKind.DoseSeries, 1000, 3),
        });
        var after = await RunAsync(image);

        AssertEntry(pattern.File, "entry0", "sample image", [1, 18, 18], ["energy", "sample_y", "sample_x"]);
        var exposure = ScanPlanner.PatternValues(new PatternSpec(PatternKind.DoseSeries, 1000, 3), 18, 18).SelectMany(r => r).ToArray();
        var recorded = pattern.File.Doubles("/entry0/counter0/data");
        Assert.All(recorded.Where((_, i) => exposure[i] == 0), v => Assert.Equal(0, v));

        var b = before.File.Doubles("/entry0/counter0/data");
        var a = after.File.Doubles("/entry0/counter0/data");
        double Brightening(double level) => Enumerable.Range(0, b.Length).Where(i => Math.Abs(exposure[i] - level) < 1e-9).Average(i => a[i] / b[i]);
        var weakest = Brightening(1.0 / 9);
        var strongest = Brightening(1.0);
        Assert.True(strongest > 1.25, $"the most exposed pad lost mass: transmission ×{strongest:F2}");
        Assert.True(weakest < 1.15, $"the least exposed pad barely changed: ×{weakest:F2}");
        Assert.True(strongest > weakest + 0.15);
    }

    [Fact(Timeout = 180_000)]
    public async Task Ptychography_RecordsAnAreaDetectorFramePerPoint_ScatteringAtEdges()
    {
        // Five points across the right edge of a PMMA particle (centre 4.21, 16.04, radius 5.18: edge at x = 9.39 µm), at
        // its carbonyl resonance: inside, on the edge, on the window. No other test of this class exposes that particle.
        var run = await RunAsync(ScanRequest.Default(ScanType.Ptychography) with { Regions = [new(new(9.4, 4, 5), new(16.04, 0.5, 2))], EnergyEv = 288.45 });

        AssertEntry(run.File, "entry0", "sample image", [1, 2, 5], ["energy", "sample_y", "sample_x"]);
        Assert.Equal([0.3], run.File.Doubles("/entry0/counter0/count_time"));
        Assert.Equal("Ptychography", run.File.Item("/entry0/collection/scan_type").GetProperty("value").Text());
        Assert.Equal([1, 2, 5, 48, 48], run.File.Shape("/entry0/instrument/ccd0/data"));
        var frames = run.File.Doubles("/entry0/instrument/ccd0/data");
        Assert.All(frames, v => Assert.True(double.IsFinite(v) && v >= 0));

        // Dark field: counts outside the bright-field disc (radius 14 px), per frame.
        double DarkField(int point)
        {
            var sum = 0.0;
            for (var k = 0; k < 48 * 48; k++)
            {
                var (qx, qy) = ((k % 48) - 23.5, (k / 48) - 23.5);
                sum += Math.Sqrt((qx * qx) + (qy * qy)) > 16 ? frames[(point * 48 * 48) + k] : 0;
            }

            return sum;
        }

        Assert.True(DarkField(2) > 5 * (DarkField(4) + 1), $"the edge scatters: {DarkField(2):F0} vs window {DarkField(4):F0}");
        var counts = run.File.Doubles("/entry0/counter0/data");
        var total = Enumerable.Range(0, 5).Select(p => frames.Skip(p * 48 * 48).Take(48 * 48).Sum()).ToArray();
        Assert.True(total[4] > total[0] && counts[4] > counts[0], $"the window transmits more than the particle, in both detectors: frames {string.Join(", ", total.Select(t => t.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}; counts {string.Join(", ", counts.Select(t => t.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}");
    }

    [Fact(Timeout = 180_000)]
    public async Task InvalidRequests_AreRefusedWithFieldPaths_PerFamily()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = new HttpClient { BaseAddress = _app.Factory.BaseAddress };
        async Task<string[]> Fields(ScanRequest request)
        {
            var response = await client.PostAsJsonAsync("/api/scans", request, ScanDefinitionStore.Json, ct);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
            var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("errors");
            return [.. errors.EnumerateObject().Select(p => p.Name)];
        }

        Assert.Contains("line", await Fields(new ScanRequest { ScanType = ScanType.SampleLineSpectrum, Energies = [new(280, 290, 11, 1)] }));
        Assert.Contains("secondary.positioner", await Fields(ScanRequest.Default(ScanType.TwoVariableImage) with { Secondary = new PositionerAxis(Roles.OsaX, 0, 1, 2) }));
        Assert.Contains("energies[1].startEv", await Fields(ScanRequest.Default(ScanType.SampleImageStack) with { Energies = [new(280, 290, 11, 1), new(285, 295, 11, 1)] }));
        Assert.Contains("dwellMs", await Fields(ScanRequest.Default(ScanType.Ptychography) with { DwellMs = 10 }));
        Assert.Contains("primary.positioner", await Fields(ScanRequest.Default(ScanType.GenericScan) with { Primary = new PositionerAxis("Nope", 0, 1, 2) }));
        Assert.Contains("points[0].x", await Fields(ScanRequest.Default(ScanType.SamplePointSpectrum) with { Points = [new SamplePoint(500, 0)] }));
    }
}
