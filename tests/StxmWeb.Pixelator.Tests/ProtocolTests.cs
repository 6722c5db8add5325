using System.Text;
using System.Text.Json;
using StxmWeb.Pixelator.Protocol;

namespace StxmWeb.Pixelator.Tests;

/// <summary>
/// The codec: every request and every published message round-trips through its frames (found by reflection, so a new
/// message without a sample fails here), and frames as pyStxm shows them decode to what they say.
/// </summary>
public sealed class ProtocolTests
{
    internal static readonly PixelatorScanRequest SampleScan = new()
    {
        ScanType = "Sample",
        SpatialType = "Image",
        LineMode = PixelatorScanRequest.ConstantVelocity,
        OuterRegions = [new PixelatorRegion { DwellTime = 0.001, Axes = [new PixelatorAxis { NPoints = 1, Trajectories = [new PixelatorTrajectory { Start = 285, End = 285, PositionerName = "Energy" }] }] }],
        InnerRegions = [new PixelatorRegion { Axes =
        [
            new PixelatorAxis { NPoints = 3, Trajectories = [new PixelatorTrajectory { Center = 0, Range = 2, PositionerName = "SampleY" }] },
            new PixelatorAxis { NPoints = 4, Trajectories = [new PixelatorTrajectory { Center = 0, Range = 3, PositionerName = "SampleX" }] },
        ] }],
        Polarization = new PolarizationSpec { Active = 1, Types = ["circ. left"], Stokes = [[0, 0, -1]] },
    };

    private static readonly ZonePlateDefinition ZonePlates = new()
    {
        Osas = [new OsaDefinition { Name = "OSA 50", Diameter = 50, Active = 1 }, new OsaDefinition()],
        DOsa = 298,
        ZonePlates = [new ZonePlateEntry { Name = "ZP 1", B = [0, -11.359], OuterDiameter = 240, OutermostZoneWidth = 25, Active = 1 }],
    };

    /// <summary>One instance of every request type.</summary>
    internal static IEnumerable<PixelatorRequest> Requests() =>
    [
        new InitializeRequest(),
        new GetSettingsRequest(),
        new RecordedChannelsRequest(["Counter0", "Counter1"]),
        new StartScanRequest(SampleScan),
        new AbortScanRequest(),
        new PauseScanRequest(),
        new ResumeScanRequest(),
        new MoveRequest(["OSAX", "OSAY"], [1.5, -2.25]),
        ModifiedPositionerDefinitionRequest.Number("SampleX", "lowerSoftLimit", -40),
        new ModifiedPositionerDefinitionRequest("SampleX", "autoOffMode", JsonSerializer.SerializeToElement("Never")),
        new ModifiedZonePlateDefinitionRequest(ZonePlates),
        new OscilloscopeDefinitionRequest(new OscilloscopeDefinition(0.2, 1, 0)),
        new FocusTypeRequest("Static"),
        new TopupModeRequest("On"),
        new BeamShutterModeRequest("Auto Line"),
        .. MicroscopeCommandRequest.Names.Select(n => new MicroscopeCommandRequest(n)),
        new LoadDirectoryRequest(new DirectoryQuery { Directory = "/data/2026-12-01", ShowHidden = 1 }),
        new LoadFileRequest(new LoadFileQuery { Directory = "/data", File = "/data/a.hdf5", Files = ["a.hdf5"] }, Several: false),
        new LoadFileRequest(new LoadFileQuery { Directory = "/data", File = "/data/a.hdf5", Files = ["/data/a.hdf5", "/data/b.hdf5"] }, Several: true),
        new ListDirectoryRequest(new DirectoryQuery { Directory = "/data" }),
        new ZonePlateFocusRequest(new ZonePlateFocus { Target = "Sample", CursorPosition = -1129.5, SetDOsa = 1 }),
        new EstimatedTimeRequest(SampleScan),
        new ScanStatusRequest(),
        new PositionerStatusRequest(),
        new HomeRequest(["CoarseX"]),
        new DetectorSettingsRequest(),
        .. OtherRequest.Names.Select(n => new OtherRequest(n, "{\"x\":1}")),
    ];

    /// <summary>One instance of every published message type.</summary>
    internal static IEnumerable<PublishedMessage> Publications() =>
    [
        new PositionerStatusMessage([new PositionerState("SampleX", 1.25, "ok"), new PositionerState(null, double.NaN, "moving")]),
        new ScanStatusMessage(new ScanStatus { Status = "running", Current = new ScanCounters { Line = 3, Point = 7, RemainingTime = "00h 01m 05s" }, Total = new ScanCounters { Line = 100 } }),
        new ScanStartedMessage(SampleScan),
        new ScanLineDataMessage(2, 0, 1, 0, 3, 5, 1, 4, [1, 2.5, 3, 1e6]),
        new ScanFinishedMessage(new ScanFinished { Filename = "/data/2026-12-01/Sample_Image_2026-12-01_001.hdf5", Flag = "0", NeXusBaseDirectory = "/data" }),
        new ScanAbortedMessage(new ScanAborted { Message = "aborted by user", Filename = "/data/x.hdf5" }),
        new FilenameMessage("Sample_Image_2026-12-01_001.hdf5", "/data/2026-12-01"),
        new RecordedChannelsMessage(["Counter0"]),
        new DetectorValuesMessage([1234, 5.5]),
        new ChartModeDetectorUpdateMessage([new NamedValue("Counter0", 42)]),
        new BeamShutterStatusMessage("red"),
        new FocalStatusMessage(new FocalStatus(296.4372357791096)),
        new ZonePlateDefinitionMessage(ZonePlates),
        new PositionerDefinitionMessage([new PositionerDefinition { Name = "SampleX", Unit = "(μm)", LowerSoftLimit = -50, UpperSoftLimit = 50 }]),
        new ScanFileContentMessage(new ScanFileContent { Directory = "/data", Filename = "a.hdf5", PystxmLoad = "{}" }),
        new ScanFileContentMessage(new ScanFileContent { Directory = "/data", Filename = "a.hdf5" }, PluginNumber: 2),
        .. JsonPublication.KnownNames.Select(n => new JsonPublication(n, JsonSerializer.SerializeToElement(new { value = "x" }))),
    ];

    public static TheoryData<string> RequestNames() => [.. Requests().Select(r => r.Command)];

    public static TheoryData<string> PublicationNames() => [.. Publications().Select(p => p.Name)];

    [Fact]
    public void EveryRequestType_HasASample()
    {
        var types = typeof(PixelatorRequest).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(PixelatorRequest)) && !t.IsAbstract);
        var sampled = Requests().Select(r => r.GetType()).ToHashSet();
        Assert.All(types, t => Assert.Contains(t, sampled));
        Assert.All(PixelatorRequest.Commands, c => Assert.Contains(Requests(), r => r.Command == c));
    }

    [Fact]
    public void EveryPublishedType_HasASample()
    {
        var types = typeof(PublishedMessage).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(PublishedMessage)) && !t.IsAbstract);
        var sampled = Publications().Select(p => p.GetType()).ToHashSet();
        Assert.All(types, t => Assert.Contains(t, sampled));
        Assert.All(PublishedMessage.Names, n => Assert.Contains(Publications(), p => p.Name.StartsWith(n, StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(RequestNames))]
    public void Request_RoundTripsThroughItsFrames(string command)
    {
        foreach (var request in Requests().Where(r => r.Command == command))
        {
            var frames = request.ToFrames();
            Assert.Equal(command, frames[0]);
            var bytes = PixelatorFraming.Encode(frames);
            var decoded = PixelatorRequest.Decode(PixelatorFraming.Decode(bytes));
            Assert.Equal(request.GetType(), decoded.GetType());
            Assert.Equal(frames, decoded.ToFrames());
        }
    }

    [Theory]
    [MemberData(nameof(PublicationNames))]
    public void Publication_RoundTripsThroughItsFrames(string name)
    {
        var message = Publications().First(p => p.Name == name);
        var frames = message.ToFrames();
        var decoded = PublishedMessage.Decode(PixelatorFraming.Decode(PixelatorFraming.Encode(frames)));
        Assert.Equal(message.GetType(), decoded.GetType());
        Assert.Equal(frames, decoded.ToFrames());
    }

    [Fact]
    public void ScanLineData_AsPyStxmShowsIt_Decodes()
    {
        // From pyStxm's pixelator_dcs_server_api docstring: trailing spaces, and values with four decimals.
        string[] frames = ["scanLineData", "0 0 0 0 ", "1 0 ", "1 25 ",
            "[20.940,20.080,20.3650,20.20,20.7250,20.3890,20.2080,20.1390,20.4540,20.8170,20.8690,20.4690,20.5490,20.4280,20.020,20.0970,20.6520,20.5390,20.030,20.5520,20.7720,20.6410,20.1220,20.0420,20.8220]"];

        var line = Assert.IsType<ScanLineDataMessage>(PublishedMessage.Decode(frames));

        Assert.Equal((0, 0, 0, 0), (line.Outer, line.Image, line.Tile, line.Channel));
        Assert.Equal((1, 0, 1, 25), (line.Row, line.Column, line.Height, line.Width));
        Assert.Equal(20.94, line.Values[0]);
        Assert.Equal(20.822, line.Values[^1]);
    }

    [Fact]
    public void ScanLineData_IsWrittenAsPyStxmReadsIt()
    {
        var frames = new ScanLineDataMessage(1, 0, 2, 0, 3, 4, 1, 2, [10, 11.5]).ToFrames();

        Assert.Equal(["scanLineData", "1 0 2 0 ", "3 4 ", "1 2 ", "[10,11.5]"], frames);
    }

    [Fact]
    public void PositionerStatus_WithNaNAndNull_ReadsAsNaN()
    {
        string[] frames = ["positionerStatus", "[{\"position\":NaN,\"status\":\"ok\"},{\"name\":\"OSAX\",\"position\":null,\"status\":\"moving\"},{\"position\":3.5,\"status\":\"error: limit\"}]"];

        var status = Assert.IsType<PositionerStatusMessage>(PublishedMessage.Decode(frames));

        Assert.True(double.IsNaN(status.Positioners[0].Position));
        Assert.True(double.IsNaN(status.Positioners[1].Position));
        Assert.True(status.Positioners[1].IsMoving);
        Assert.True(status.Positioners[2].IsFault);
        Assert.Equal("OSAX", status.Positioners[1].Name);
    }

    [Fact]
    public void ScanStatus_AsPyStxmShowsIt_Decodes()
    {
        // pyStxm's intake_scan_status docstring.
        const string json = """
            {"current":{"innerRegion":1,"line":100,"lineRepetition":1,"outerRegion":1,"point":53,"polarization":null,"remainingTime":"00h 22m 46s","time":"00h 02m 01s"},
             "scanType":"OSA Scan","status":"running",
             "total":{"innerRegion":1,"line":100,"lineRepetition":1,"outerRegion":1,"point":100,"polarization":1,"time":"00h 02m 22s"}}
            """;

        var status = Assert.IsType<ScanStatusMessage>(PublishedMessage.Decode(["scanStatus", json])).Status;

        Assert.Equal("running", status.Status);
        Assert.Equal(53, status.Current.Point);
        Assert.Null(status.Current.Polarization);
        Assert.Equal(TimeSpan.FromSeconds((22 * 60) + 46), ScanStatus.ParseDuration(status.Current.RemainingTime));
        Assert.Equal("00h 22m 46s", ScanStatus.FormatDuration(TimeSpan.FromSeconds((22 * 60) + 46)));
    }

    [Fact]
    public void FocalStatus_AsPyStxmShowsIt_Decodes()
    {
        var focal = Assert.IsType<FocalStatusMessage>(PublishedMessage.Decode(["focalStatus", "{\"maxDOsa\":296.4372357791096}"]));

        Assert.Equal(296.4372357791096, focal.Status.MaxDOsa);
    }

    [Fact]
    public void ScanRequest_OfPyStxmsTemplate_Decodes()
    {
        // pyStxm's scan_reqs/sample_req.py (a coarse sample image with every Scan Request Detail set).
        const string json = """
            {"scanType":"Sample","spatialType":"Image","meander":1,"tiling":1,"yAxisFast":1,"osaInFocus":0,"lineMode":"Point by Point",
             "accelerationDistance":1,"tileDelay":0.002,"lineDelay":0.003,"pointDelay":0.004,"lineRepetition":5,
             "outerRegions":[{"dwellTime":0.01,"axes":[{"nPoints":1,"trajectories":[{"start":650,"end":650,"range":0,"step":0,"positionerName":"Energy"}]}]}],
             "innerRegions":[{"axes":[{"nPoints":25,"trajectories":[{"start":-750,"end":750,"center":0,"range":1500,"step":60,"positionerName":"CoarseY"}]},
                                      {"nPoints":25,"trajectories":[{"start":-750,"end":750,"center":0,"range":1500,"step":60,"positionerName":"CoarseX"}]}]}],
             "nOuterRegions":1,"nInnerRegions":1,"displayedAxes":{"x":{"region":"inner","index":1},"y":{"region":"inner","index":0}},
             "positionPrecision":{"precision":6},"defocus":{"diameter":0},"polarization":{"active":1}}
            """;

        var request = Assert.IsType<StartScanRequest>(PixelatorRequest.Decode(["scanRequest", json])).Scan;

        Assert.Equal("Sample", request.ScanType);
        Assert.Equal(5, request.LineRepetition);
        Assert.Equal(0.004, request.PointDelay);
        Assert.Equal("CoarseX", request.InnerRegions[0].Axes![1].Trajectories[0].PositionerName);
        Assert.Equal(6, request.PositionPrecision!.Precision);
    }

    [Fact]
    public void Stokes_SentUnnestedAsPyStxmDoes_ReadsAsOneVector()
    {
        var spec = JsonSerializer.Deserialize<PolarizationSpec>("{\"active\":1,\"types\":[\"circ. right\"],\"stokes\":[0,0,1]}", PixelatorFraming.Json)!;

        Assert.Equal([0.0, 0, 1], Assert.Single(spec.Stokes!));
    }

    [Fact]
    public void InitializeReply_RoundTripsItsSixDefinitions()
    {
        var reply = new InitializeReply(
            [new PositionerDefinition { Name = "SampleX", Unit = "(μm)", LowerSoftLimit = -50, UpperSoftLimit = 50, MaxVelocity = 2 }],
            [new DetectorDefinition("Counter0", "counts")],
            new OscilloscopeDefinition(),
            ZonePlates,
            new RemoteFileSystemInfo { Directory = "/data" },
            "Pixelator 1.0");

        var frames = reply.ToReply().ToFrames();
        var decoded = InitializeReply.From(PixelatorReply.Decode(frames));

        Assert.Equal(7, frames.Length);
        Assert.Equal("{\"status\":\"ok\"}", frames[0]);
        Assert.Equal("µm", decoded.Positioners[0].PlainUnit);
        Assert.Equal(11.359, decoded.ZonePlates.ActiveZonePlate!.A1);
        Assert.Equal("Pixelator 1.0", decoded.ServerVersion);
    }

    [Fact]
    public void ErrorReply_NamesTheCommandAndReason()
    {
        var reply = PixelatorReply.Decode(["{\"status\":\"error\",\"message\":\"limit\"}"]);

        var error = Assert.Throws<PixelatorCommandException>(() => reply.EnsureOk("moveRequest"));
        Assert.Contains("moveRequest", error.Message, StringComparison.Ordinal);
        Assert.Contains("limit", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "moveRequest" }, "needs 2 frames")]
    [InlineData(new[] { "moveRequest", "{\"positioners\":[\"A\",\"B\"],\"positions\":[1]}" }, "names 2 positioners but gives 1")]
    [InlineData(new[] { "moveRequest", "{not json" }, "not valid JSON")]
    [InlineData(new[] { "fly me to the moon" }, "Unknown command")]
    [InlineData(new[] { "modified positioner definition", "{\"name\":\"X\",\"colour\":3}" }, "changes one of")]
    public void MalformedRequest_FailsWithTheReason(string[] frames, string reason)
    {
        var error = Assert.Throws<PixelatorProtocolException>(() => PixelatorRequest.Decode(frames));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "scanLineData", "0 0 0", "0 0", "1 2", "[1,2]" }, "needs 4 integers")]
    [InlineData(new[] { "scanLineData", "0 0 0 0", "0 0", "1 3", "[1,2]" }, "holds 3 values; the message has 2")]
    [InlineData(new[] { "scanLineData", "0 0 0 0", "0 x", "1 2", "[1,2]" }, "is not an integer")]
    [InlineData(new[] { "scanLineData", "0 0 0 0", "0 0", "1 2", "[1,\"a\"]" }, "not a JSON array of numbers")]
    [InlineData(new[] { "scanLineData", "0 0 0 0", "0 0", "1 2" }, "has 5 frames")]
    [InlineData(new[] { "scanStatus" }, "needs 2 frames")]
    [InlineData(new[] { "filename", "a.hdf5" }, "needs 3 frames")]
    [InlineData(new[] { "scanFileContentX", "{}" }, "plugin number")]
    [InlineData(new[] { "gossip", "{}" }, "Unknown published message")]
    public void MalformedPublication_FailsWithTheReason(string[] frames, string reason)
    {
        var error = Assert.Throws<PixelatorProtocolException>(() => PublishedMessage.Decode(frames));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FramesThatAreNotUtf8_FailWithTheFrame()
    {
        var error = Assert.Throws<PixelatorProtocolException>(() => PixelatorFraming.Decode([Encoding.UTF8.GetBytes("moveRequest"), [0xff, 0xfe, 0x41]]));

        Assert.Contains("Frame 1", error.Message, StringComparison.Ordinal);
    }
}
