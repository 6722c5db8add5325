using System.Text.Json.Nodes;
using StxmWeb.Core.Documents;
using StxmWeb.Nexus.Import;
using StxmWeb.Testing;

namespace StxmWeb.Nexus.Tests;

/// <summary>
/// The Bluesky import on the eleven recorded pyStxm runs (shared/data/pystxm-bluesky-runs): each becomes an NXstxm
/// file that both validators accept and that h5py reads back with the shapes, axes and values of the run's own
/// documents (Python/check_bluesky_import.py derives them independently); broken streams fail with the run and field.
/// </summary>
public sealed class BlueskyImportTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("stxmweb-import-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Runs(string name)
    {
        var path = Path.Combine(NexusValidator.SharedDirectory, "data", "pystxm-bluesky-runs", name + ".json");
        Assert.True(File.Exists(path), $"{path} is missing: the recorded runs are expected in ../shared/data/pystxm-bluesky-runs.");
        return path;
    }

    public static TheoryData<string, string, string> Recorded => new()
    {
        { "DETECTOR_IMAGE", "DetectorImage", "entry0 (1,5,5) energy,detector_y,detector_x" },
        { "OSA_IMAGE", "OsaImage", "entry0 (1,5,5) energy,osa_y,osa_x" },
        { "OSA_FOCUS", "OsaFocus", "entry0 (6,5) zpz,line_position" },
        { "SAMPLE_FOCUS", "SampleFocus", "entry0 (5,20) zpz,line_position" },
        { "SAMPLE_POINT_SPECTRA", "SamplePointSpectrum", "entry0 (20) energy; entry1 (20) energy; entry2 (20) energy" },
        { "SAMPLE_LINE_SPECTRA", "SampleLineSpectrum", "entry0 (10,25) energy,line_position" },
        { "SAMPLE_IMAGE", "SampleImage", "entry0 (1,50,50) energy,sample_y,sample_x" },
        { "SAMPLE_IMAGE_STACK", "SampleImageStack", "entry0 (3,25,25) energy,sample_y,sample_x" },
        { "COARSE_GONI_SCAN", "CoarseGoni", "entry0 (1,5,5) energy,goni_y,goni_x" },
        { "GENERIC_SCAN", "GenericScan", "entry0 (20) goni_x" },
        { "TOMOGRAPHY_SCAN", "Tomography", "entry0 (2,20,20) energy,sample_y,sample_x; entry1 (2,20,20) energy,sample_y,sample_x; entry2 (2,20,20) energy,sample_y,sample_x" },
    };

    [Theory]
    [MemberData(nameof(Recorded))]
    public async Task EachRecordedRun_BecomesAConformantFile_WithTheRunsShapesAxesAndValues(string name, string scanType, string layout)
    {
        var source = Runs(name);
        var file = Assert.Single(BlueskyImport.Import(await File.ReadAllTextAsync(source, TestContext.Current.CancellationToken), name, _directory));

        Assert.Equal(Path.Combine(_directory, name + ".hdf5"), file.Path);
        Assert.Equal(scanType, file.Scan.Request.ScanType.ToString());
        Assert.Equal(ExitStatus.Success, file.Scan.Status);
        Assert.Equal(layout, string.Join("; ", file.Scan.Descriptor.Entries.Select(e => $"{e.Name} ({string.Join(",", e.Shape)}) {string.Join(",", e.Axes.Select(a => a.Name))}")));
        await NexusValidator.AssertConformsAsync(file.Path, name);
        var (code, output) = await CheckAsync(source, file.Path);
        Assert.True(code == 0, $"{name}: {output}");
        Assert.StartsWith("ok ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void AStack_IsItsRunsInEnergyOrder_AndATomogram_AnEntryPerAngle()
    {
        var stack = Assert.Single(BlueskyImport.Read(File.ReadAllText(Runs("SAMPLE_IMAGE_STACK"))));
        Assert.Equal(3, stack.SourceRuns.Count);
        Assert.Equal([720, 735.2, 750.4], stack.Descriptor.Entries[0].EnergyEv);

        var tomogram = Assert.Single(BlueskyImport.Read(File.ReadAllText(Runs("TOMOGRAPHY_SCAN"))));
        Assert.Equal(6, tomogram.SourceRuns.Count);
        Assert.Equal([-2.0, 0.0, 2.0], tomogram.Descriptor.Entries.Select(e => e.RotationAngle));
        Assert.Equal([700.0, 720.0], tomogram.Descriptor.Entries[0].EnergyEv);
        Assert.NotNull(tomogram.Request.Theta);
    }

    [Fact]
    public async Task ARunCutShort_KeepsWhatItRecorded_AsAFailedScan()
    {
        // The last 20 lines and the stop document lost, as when pyStxm dies mid-image.
        var root = Load(Runs("SAMPLE_IMAGE"));
        var docs = (JsonArray)root.Single().Value!;
        var events = docs.Where(d => (string)d![0]! == "event" && d[1]!["data"]!["counter0_waveform_rbv"] is not null).Skip(30).ToList();
        foreach (var d in events.Append(docs.Single(d => (string)d![0]! == "stop")))
        {
            docs.Remove(d);
        }

        var file = Assert.Single(BlueskyImport.Import(root.ToJsonString(), "cut", _directory));

        Assert.Equal(ExitStatus.Failed, file.Scan.Status);
        Assert.Contains("no stop document", file.Scan.Reason, StringComparison.Ordinal);
        Assert.Contains(file.Scan.Notes, n => n.Contains("30 of 50 lines", StringComparison.Ordinal));
        var h5 = await H5py.ReadAsync(file.Path);
        var data = h5.Doubles("/entry0/counter0/data");
        Assert.Equal(2500, data.Length);
        Assert.All(data[..1500], v => Assert.False(double.IsNaN(v)));
        Assert.All(data[1500..], v => Assert.True(double.IsNaN(v)));
        Assert.Equal("failed", h5.Item("/entry0/collection/exit_status").GetProperty("value").Text());
        await NexusValidator.AssertConformsAsync(file.Path, "cut short");
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("[1, 2]", "top level is a JSON array")]
    [InlineData("{}", "no runs")]
    [InlineData("{\"abc\": [[\"event\", {\"descriptor\": \"d\", \"data\": {}}]]}", "run abc: event 0 names descriptor d")]
    [InlineData("{\"abc\": [[\"descriptor\", {\"uid\": \"d\", \"name\": \"primary\"}]]}", "run abc: no start document")]
    [InlineData("{\"abc\": [[\"start\", {\"uid\": \"abc\", \"time\": 1}]]}", "run abc: the start document has no 'metadata'")]
    public void AStreamThatIsNotARecordedRun_IsRefused_SayingWhere(string json, string message)
    {
        var ex = Assert.Throws<BlueskyImportException>(() => BlueskyImport.Read(json));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARunWhoseRegionIsMissing_IsRefused_NamingTheField()
    {
        var ex = Assert.Throws<BlueskyImportException>(() => BlueskyImport.Read(EditMetadata(Runs("SAMPLE_IMAGE"), md =>
        {
            var idx = JsonNode.Parse((string)md["img_idx_map"]!)!;
            idx["sp_id"] = 9;
            md["img_idx_map"] = idx.ToJsonString();
        })));
        Assert.Contains("start.metadata.img_idx_map.sp_id: region 9 is not in start.metadata.rois", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownScanType_IsRefused_NamingTheField()
    {
        var ex = Assert.Throws<BlueskyImportException>(() => BlueskyImport.Read(EditMetadata(Runs("OSA_IMAGE"), md => md["scan_type"] = 42)));
        Assert.Contains("start.metadata.scan_type: 42 is not one of pyStxm's scan types", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWaveformThatIsNotAList_IsRefused_NamingTheEvent()
    {
        var root = Load(Runs("SAMPLE_FOCUS"));
        var docs = (JsonArray)root.Single().Value!;
        docs.First(d => (string)d![0]! == "event" && d[1]!["data"]!["counter0_waveform_rbv"] is not null)![1]!["data"]!["counter0_waveform_rbv"] = 3;

        var ex = Assert.Throws<BlueskyImportException>(() => BlueskyImport.Read(root.ToJsonString()));
        Assert.Matches(@"run \w{8}: event 1: 'counter0_waveform_rbv' is not a waveform", ex.Message);
    }

    [Fact]
    public void TwoRunsForOnePlaneOfAStack_AreRefused()
    {
        var root = Load(Runs("SAMPLE_IMAGE_STACK"));
        foreach (var (_, docs) in root)
        {
            var start = ((JsonArray)docs!).First(d => (string)d![0]! == "start")![1]!;
            var md = JsonNode.Parse((string)start["metadata"]!)!;
            var idx = JsonNode.Parse((string)md["img_idx_map"]!)!;
            idx["e_idx"] = 0;
            md["img_idx_map"] = idx.ToJsonString();
            start["metadata"] = md.ToJsonString();
        }

        var ex = Assert.Throws<BlueskyImportException>(() => BlueskyImport.Read(root.ToJsonString()));
        Assert.Contains("both hold entry0, energy 0", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>The runs object of a recorded file (decoded twice when the file holds a JSON string).</summary>
    private static JsonObject Load(string path)
    {
        var node = JsonNode.Parse(File.ReadAllText(path))!;
        return (node.GetValueKind() == System.Text.Json.JsonValueKind.String ? JsonNode.Parse((string)node!)! : node).AsObject();
    }

    private static string EditMetadata(string path, Action<JsonNode> edit)
    {
        var root = Load(path);
        var start = ((JsonArray)root.Single().Value!).First(d => (string)d![0]! == "start")![1]!;
        var md = JsonNode.Parse((string)start["metadata"]!)!;
        edit(md);
        start["metadata"] = md.ToJsonString();
        return root.ToJsonString();
    }

    private static Task<(int, string)> CheckAsync(string source, string file) => PythonScript.RunAsync("check_bluesky_import.py", source, file);
}
