using StxmWeb.Core.Documents;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Pixelator.Protocol;
using StxmWeb.Simulation;

namespace StxmWeb.Pixelator.Tests;

/// <summary>
/// StxmWeb's requests → the controller's JSON → back, for every Pixelator scan type and every Scan Request Detail; the
/// JSON has the shape of pyStxm's templates; and every value of every scan, sent as scanLineData, lands where it belongs.
/// </summary>
public sealed class TranslationTests
{
    private static readonly PlanKinematics Kinematics = new(SimulationOptions.Standard().Positioners.ToDictionary(
        p => p.Name, p => new AxisKinematics(p.Velocity, p.Acceleration, TimeSpan.FromMilliseconds(p.SettleMs)), StringComparer.OrdinalIgnoreCase));

    /// <summary>Requests of every Pixelator scan type, with and without details.</summary>
    internal static IEnumerable<ScanRequest> Requests()
    {
        foreach (var type in PixelatorScans.Supported)
        {
            yield return ScanRequest.Default(type);
        }

        var image = ScanRequest.Default(ScanType.SampleImage);
        yield return image with { Polarizations = [new PolarizationSetting(Polarization.LinInc, Angle: 30)], Title = "inclined" };
        yield return image with
        {
            Mode = AcquisitionMode.PointByPoint,
            Meander = true,
            Details = new ScanDetails(YAxisFast: true, LineDelayMs: 2, PointDelayMs: 0.5, DefocusDiameterUm: 2, PositionPrecisionPercent: 10),
        };
        yield return image with { Details = new ScanDetails(AccelerationDistanceUm: 3, LineRepetition: 3) };
        yield return image with { Regions = [new SpatialRegion(new(0, 150, 61), new(0, 150, 31))], Tiling = true, Details = new ScanDetails(TileDelayMs: 5) };
        yield return ScanRequest.Default(ScanType.SampleImageStack) with { Polarizations = [new PolarizationSetting(Polarization.CircRight)] };
        yield return ScanRequest.Default(ScanType.SamplePointSpectrum) with { Points = [new(1, 2), new(-3, 4.5), new(7, -8)] };
        yield return ScanRequest.Default(ScanType.SampleLineSpectrum) with { Mode = AcquisitionMode.PointByPoint, Line = new LineRegion(-10, -5, 12, 8, 30) };
        yield return ScanRequest.Default(ScanType.OsaFocus) with { Line = new LineRegion(-20, 10, 20, -10, 21) };
    }

    public static TheoryData<int> RequestIndexes() => [.. Enumerable.Range(0, Requests().Count())];

    [Theory]
    [MemberData(nameof(RequestIndexes))]
    public void Request_ThroughTheControllersJson_ComesBackTheSame(int index)
    {
        var request = Requests().ElementAt(index);

        var json = PixelatorFraming.ToJson(PixelatorScans.ToPixelator(request, PixelatorNames.PolLux));
        var wire = ((StartScanRequest)PixelatorRequest.Decode(["scanRequest", json])).Scan;
        var back = PixelatorScans.ToScanRequest(wire, PixelatorNames.PolLux, request.EnergyEv);

        Assert.Equal(request.ScanType, back.ScanType);
        Assert.Equal(request.Mode == AcquisitionMode.Line && ScanTypes.Of(request.ScanType).CanFly ? AcquisitionMode.Line : AcquisitionMode.PointByPoint, back.Mode);
        Assert.Equal(request.Meander, back.Meander);
        Assert.Equal(request.Tiling, back.Tiling);
        Assert.Equal(request.Details, back.Details);
        Assert.Equal(request.EnergySetpoints(), back.EnergySetpoints());
        Assert.Equal(request.Regions, back.Regions);
        Assert.Equal(request.Points, back.Points);
        Assert.Equal(request.ZonePlateZ, back.ZonePlateZ);
        Assert.Equal(request.Primary, back.Primary);
        Assert.Equal(request.Secondary, back.Secondary);
        Assert.Equal(request.Polarizations.Select(p => (p.Mode, Math.Round(p.Angle, 6))), back.Polarizations.Select(p => (p.Mode, Math.Round(p.Angle, 6))));
        if (request.Line is { } line)
        {
            var l = back.Line!;
            Assert.Equal(line.Points, l.Points);
            Assert.Equal([line.StartX, line.StartY, line.StopX, line.StopY], new[] { l.StartX, l.StartY, l.StopX, l.StopY }, (a, b) => Math.Abs(a - b) < 1e-6);
        }
    }

    [Fact]
    public void DetectorImage_IsWrittenAsPyStxmsTemplate()
    {
        var scan = PixelatorScans.ToPixelator(ScanRequest.Default(ScanType.DetectorImage), PixelatorNames.PolLux);

        Assert.Equal(("Detector", "Image", PixelatorScanRequest.PointByPoint), (scan.ScanType, scan.SpatialType, scan.LineMode));
        var outer = Assert.Single(scan.OuterRegions);
        Assert.Null(outer.Axes);
        Assert.Equal(0.002, outer.DwellTime);
        Assert.Equal(["DetectorY", "DetectorX"], scan.InnerRegions[0].Axes!.Select(a => a.Trajectories[0].PositionerName));
        Assert.Equal(41, scan.InnerRegions[0].Axes![1].NPoints);
    }

    [Fact]
    public void Focus_IsZoneplateThenALineOfTwoCentres()
    {
        var request = ScanRequest.Default(ScanType.SampleFocus);

        var scan = PixelatorScans.ToPixelator(request, PixelatorNames.PolLux);

        Assert.Equal("Focus", scan.ScanType);
        var (z, line) = (scan.InnerRegions[0].Axes![0], scan.InnerRegions[0].Axes![1]);
        Assert.Equal("Zoneplate", z.Trajectories[0].PositionerName);
        Assert.Equal(request.ZonePlateZ!.Center, z.Trajectories[0].Center);
        Assert.Equal(request.Line!.Length, line.Length);
        Assert.Equal(0, line.Angle);
        Assert.Equal(["SampleX", "SampleY"], line.Trajectories.Select(t => t.PositionerName));
    }

    [Fact]
    public void PointSpectrum_IsOneInnerRegionPerPoint_AndEnergyOuterRegions()
    {
        var request = ScanRequest.Default(ScanType.SamplePointSpectrum);

        var scan = PixelatorScans.ToPixelator(request, PixelatorNames.PolLux);

        Assert.Equal(("Sample", "Point"), (scan.ScanType, scan.SpatialType));
        Assert.Equal(request.Points.Count, scan.InnerRegions.Count);
        Assert.All(scan.InnerRegions, r => Assert.Equal(1, r.Axes![0].NPoints));
        Assert.Equal(request.Energies.Count, scan.OuterRegions.Count);
        Assert.All(scan.OuterRegions, r => Assert.Equal("Energy", r.Axes![0].Trajectories[0].PositionerName));
        Assert.Equal(new DisplayedAxes(new DisplayedAxis("outer", -1), new DisplayedAxis("inner", 0)), scan.DisplayedAxes);
    }

    [Fact]
    public void Polarization_IsSentAsItsStokesVector()
    {
        var left = PixelatorScans.ToSpec(new PolarizationSetting(Polarization.CircLeft));
        var linear45 = PixelatorScans.ToSpec(new PolarizationSetting(Polarization.LinInc, Angle: 45));

        Assert.Equal(["circ. left"], left.Types);
        Assert.Equal([0.0, 0, -1], left.Stokes![0]);
        Assert.Equal(["linear"], linear45.Types);
        Assert.Equal(0, linear45.Stokes![0][0], 9);
        Assert.Equal(1, linear45.Stokes![0][1], 9);
    }

    [Theory]
    [InlineData(ScanType.Tomography)]
    [InlineData(ScanType.PatternGen)]
    [InlineData(ScanType.Ptychography)]
    [InlineData(ScanType.CoarseGoni)]
    public void TypesTheControllerDoesNotRun_AreRefused(ScanType type) =>
        Assert.Throws<ArgumentException>(() => PixelatorScans.ToPixelator(ScanRequest.Default(type), PixelatorNames.PolLux));

    [Theory]
    [MemberData(nameof(RequestIndexes))]
    public void EveryValue_SentAsScanLineData_LandsWhereItBelongs(int index)
    {
        var request = Requests().ElementAt(index);
        var planned = ScanPlanner.Build(request, Kinematics, tileUm: 80);
        var tiles = request.Tiling
            ? new TileGrid(
                [.. ScanPlanner.Tiles(request.Regions[0].Y.Setpoints(), 80).Select(t => (t.First, t.End))],
                [.. ScanPlanner.Tiles(request.Regions[0].X.Setpoints(), 80).Select(t => (t.First, t.End))])
            : null;
        var data = planned.Entries.Select(e => Enumerable.Repeat(double.NaN, (int)e.Size).ToArray()).ToArray();
        var assembler = new LineDataAssembler(request.ScanType, planned.Entries);

        // What the engine would emit: a frame per fly line, a frame per point; each value is its own flat index.
        foreach (var frame in Frames(planned))
        {
            foreach (var message in PixelatorLineData.ToWire(request.ScanType, frame, tiles))
            {
                foreach (var segment in assembler.Place((ScanLineDataMessage)PublishedMessage.Decode(message.ToFrames())))
                {
                    var start = FlatIndex(planned.Entries[segment.Entry], segment.Plane, segment.Row, segment.Column);
                    for (var i = 0; i < segment.Values.Length; i++)
                    {
                        Assert.True(double.IsNaN(data[segment.Entry][start + i]), $"entry {segment.Entry} index {start + i} written twice");
                        data[segment.Entry][start + i] = segment.Values[i];
                    }
                }
            }
        }

        for (var e = 0; e < data.Length; e++)
        {
            Assert.Equal(Enumerable.Range(0, data[e].Length).Select(i => (double)i), data[e]);
        }
    }

    [Fact]
    public void ATileThatSkipsOne_IsRefused()
    {
        var entries = ScanPlanner.Build(ScanRequest.Default(ScanType.SampleImage), Kinematics).Entries;
        var assembler = new LineDataAssembler(ScanType.SampleImage, entries);

        var error = Assert.Throws<PixelatorProtocolException>(() => assembler.Place(new ScanLineDataMessage(0, 0, 2, 0, 0, 0, 1, 3, [1, 2, 3])));

        Assert.Contains("before tile 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALineOutsideTheImage_IsRefused()
    {
        var entries = ScanPlanner.Build(ScanRequest.Default(ScanType.SampleImage), Kinematics).Entries;
        var assembler = new LineDataAssembler(ScanType.SampleImage, entries);

        var error = Assert.Throws<PixelatorProtocolException>(() => assembler.Place(new ScanLineDataMessage(0, 0, 0, 0, 100, 0, 1, 3, [1, 2, 3])));

        Assert.Contains("outside entry 0", error.Message, StringComparison.Ordinal);
    }

    private static long FlatIndex(EntryDescriptor entry, int plane, int row, int column)
    {
        var rows = entry.Shape.Length >= 2 ? entry.Shape[^2] : 1;
        return ((long)plane * rows + row) * entry.Shape[^1] + column;
    }

    private static IEnumerable<Frame> Frames(PlannedScan planned)
    {
        var id = Guid.NewGuid();
        var sequence = 0;
        foreach (var msg in planned.Plan)
        {
            switch (msg)
            {
                case AcquirePointMsg p:
                    var index = FlatIndex(planned.Entries[p.Entry], p.Plane, p.Row, p.Column);
                    yield return new Frame(id, ++sequence, p.Entry, p.Plane, p.Row, p.Column, [index], DateTimeOffset.UtcNow, 200);
                    break;
                case FlyLineMsg f:
                    var first = FlatIndex(planned.Entries[f.Entry], f.Plane, f.Row, f.Column);
                    yield return new Frame(id, ++sequence, f.Entry, f.Plane, f.Row, f.Column, [.. Enumerable.Range(0, f.Bins).Select(i => (double)(first + i))], DateTimeOffset.UtcNow, 200);
                    break;
            }
        }
    }
}
