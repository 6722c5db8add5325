using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.Core.Documents;
using StxmWeb.Core.Scans;
using StxmWeb.Testing;

namespace StxmWeb.Nexus.Tests;

/// <summary>The writer fed a run's documents; every file read back with h5py.</summary>
public sealed class NxstxmWriterTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("stxmweb-nexus-").FullName;
    private readonly NxstxmWriter _writer = new(NullLogger<NxstxmWriter>.Instance);
    private readonly ScanRequest _request = ScanRequest.SampleImage(new AxisRegion(1, 6, 4), new AxisRegion(-2, 4, 3), 2, 285.2) with { Title = "test image" };

    private (RunStart Start, Descriptor Descriptor) Begin(string name = "A261125001.hdf5")
    {
        var id = Guid.NewGuid();
        var path = Path.Combine(_root, name);
        var start = new RunStart(id, 1, _request, new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero), "tester", path);
        var descriptor = new Descriptor(id, "counter0", "counts", ScanType.SampleImage,
            [new EntryDescriptor("entry0", [1, 3, 4],
                [new Axis("energy", "eV", [285.2]), new Axis("sample_y", "µm", _request.Y.Setpoints()), new Axis("sample_x", "µm", _request.X.Setpoints())],
                [285.2], [2], "sample image")], TimeSpan.FromSeconds(3));
        return (start, descriptor);
    }

    private async Task FeedAsync(params Document[] documents)
    {
        foreach (var document in documents)
        {
            await _writer.ConsumeAsync(document, TestContext.Current.CancellationToken);
        }
    }

    private static Frame Line(Guid run, int sequence, int row, double first) =>
        new(run, sequence, 0, 0, row, 0, [first, first + 1, first + 2, first + 3], DateTimeOffset.UtcNow, 219.5);

    [Fact]
    public async Task CompleteRun_IsAnNXstxmFile_WithTheScansDataAxesAndMetadata()
    {
        var (start, descriptor) = Begin();
        var end = start.Time.AddSeconds(3);

        await FeedAsync(start, descriptor, Line(start.RunId, 1, 0, 10), Line(start.RunId, 2, 1, 20), Line(start.RunId, 3, 2, 30),
            new RunStop(start.RunId, ExitStatus.Success, "", end, 3));
        var file = await H5py.ReadAsync(start.FilePath);

        Assert.Equal("entry0", file.GetProperty("attrs").GetProperty("default").GetString());
        Assert.Equal("NXentry", file.Item("/entry0").GetProperty("attrs").GetProperty("NX_class").GetString());
        Assert.Equal("NXstxm", file.Item("/entry0/definition").GetProperty("value").Text());
        Assert.Equal("test image", file.Item("/entry0/title").GetProperty("value").Text());
        Assert.Equal("2026-11-25T10:00:00.000000+00:00", file.Item("/entry0/start_time").GetProperty("value").Text());
        Assert.Equal("2026-11-25T10:00:03.000000+00:00", file.Item("/entry0/end_time").GetProperty("value").Text());
        Assert.Equal("success", file.Item("/entry0/collection/exit_status").GetProperty("value").Text());

        var data = file.Item("/entry0/counter0");
        Assert.Equal("NXdata", data.GetProperty("attrs").GetProperty("NX_class").GetString());
        Assert.Equal("data", data.GetProperty("attrs").GetProperty("signal").GetString());
        Assert.Equal(["energy", "sample_y", "sample_x"], data.GetProperty("attrs").GetProperty("axes").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("sample image", file.Item("/entry0/counter0/stxm_scan_type").GetProperty("value").Text());
        Assert.Equal([1, 3, 4], file.Shape("/entry0/counter0/data"));
        Assert.Equal([10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33], file.Doubles("/entry0/counter0/data"));
        Assert.Equal(_request.X.Setpoints(), file.Doubles("/entry0/counter0/sample_x"));
        Assert.Equal(_request.Y.Setpoints(), file.Doubles("/entry0/counter0/sample_y"));
        Assert.Equal([285.2], file.Doubles("/entry0/counter0/energy"));
        Assert.Equal([0.002], file.Doubles("/entry0/counter0/count_time"));
        Assert.Equal("µm", file.Item("/entry0/counter0/sample_x").GetProperty("attrs").GetProperty("units").GetString());
        Assert.All(file.Doubles("/entry0/control/data"), v => Assert.Equal(219.5, v));
        Assert.Equal("NXmonitor", file.Item("/entry0/control").GetProperty("attrs").GetProperty("NX_class").GetString());
        Assert.Equal("x-ray", file.Item("/entry0/instrument/source/probe").GetProperty("value").Text());
        Assert.Equal([285.2], file.Doubles("/entry0/instrument/monochromator/energy"));
        Assert.True(file.Item("/entry0/instrument/counter0/data").GetProperty("resolves").GetBoolean());
        Assert.Contains("\"dwellMs\":2", file.Item("/entry0/collection/scan_request").GetProperty("value").Text(), StringComparison.Ordinal);
        Assert.Equal($"passed validation", Verdict(await NexusValidator.ValidateAsync(start.FilePath), start.FilePath));
        await NexusValidator.AssertConformsAsync(start.FilePath);
    }

    [Theory]
    [InlineData(NxstxmCompression.Deflate, "gzip", true)]
    [InlineData(NxstxmCompression.Chunked, null, false)]
    [InlineData(NxstxmCompression.Contiguous, null, false)]
    public async Task TheFinalCopy_StoresTheDataAsConfigured_WhileTheLiveFileIsContiguous(NxstxmCompression compression, string? filter, bool shuffled)
    {
        var writer = new NxstxmWriter(NullLogger<NxstxmWriter>.Instance) { Compression = compression };
        var (start, descriptor) = Begin();
        var ct = TestContext.Current.CancellationToken;
        await writer.ConsumeAsync(start, ct);
        await writer.ConsumeAsync(descriptor, ct);
        await writer.ConsumeAsync(Line(start.RunId, 1, 0, 10), ct);
        var live = (await H5py.ReadAsync(start.FilePath)).Item("/entry0/counter0/data");
        await writer.ConsumeAsync(Line(start.RunId, 2, 1, 20), ct);
        await writer.ConsumeAsync(Line(start.RunId, 3, 2, 30), ct);
        await writer.ConsumeAsync(new RunStop(start.RunId, ExitStatus.Success, "", start.Time.AddSeconds(3), 3), ct);
        var file = await H5py.ReadAsync(start.FilePath);
        var data = file.Item("/entry0/counter0/data");

        Assert.Equal(System.Text.Json.JsonValueKind.Null, live.GetProperty("chunks").ValueKind);
        Assert.True(live.GetProperty("offset").GetInt64() > 0, "the live file's data are contiguous, written in place");
        Assert.Equal(filter, data.GetProperty("compression").GetString());
        Assert.Equal(shuffled, data.GetProperty("shuffle").GetBoolean());
        Assert.Equal(compression == NxstxmCompression.Contiguous, data.GetProperty("chunks").ValueKind == System.Text.Json.JsonValueKind.Null);
        if (compression != NxstxmCompression.Contiguous)
        {
            Assert.Equal([1, 3, 4], data.GetProperty("chunks").EnumerateArray().Select(c => c.GetInt32()));
            Assert.Equal(filter, file.Item("/entry0/control/data").GetProperty("compression").GetString());
        }

        Assert.Equal([10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33], file.Doubles("/entry0/counter0/data"));
        await NexusValidator.AssertConformsAsync(start.FilePath, compression.ToString());
    }

    /// <summary>The NIAC validator's verdict with warnings set aside (it warns about fields NXstxm does not define).</summary>
    private static string Verdict(string line, string path) =>
        line.Contains(" 0 errors", StringComparison.Ordinal) || line.StartsWith("0 errors", StringComparison.Ordinal) || line.Contains("passed validation", StringComparison.Ordinal)
            ? "passed validation"
            : $"{line} ({path})";

    [Fact]
    public async Task Strings_AreFixedLength_AsPyStxmStoresThem()
    {
        var (start, descriptor) = Begin();
        await FeedAsync(start, descriptor, new RunStop(start.RunId, ExitStatus.Success, "", start.Time.AddSeconds(1), 0));

        var file = await H5py.ReadAsync(start.FilePath);

        foreach (var path in new[] { "/entry0/definition", "/entry0/counter0/stxm_scan_type", "/entry0/title", "/entry0/collection/scan_request" })
        {
            Assert.StartsWith("|S", file.Item(path).GetProperty("dtype").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal([1], file.Shape("/entry0/definition"));
        Assert.Equal([1], file.Shape("/entry0/counter0/stxm_scan_type"));
        var request = file.Item("/entry0/collection/scan_request").GetProperty("value").Text();
        Assert.EndsWith("}", request, StringComparison.Ordinal);
        Assert.Equal("µm", file.Item("/entry0/counter0/sample_x").GetProperty("attrs").GetProperty("units").GetString());
    }

    [Fact]
    public async Task DuringTheRun_TheFileIsValid_AndHoldsEveryLineWrittenSoFar()
    {
        var (start, descriptor) = Begin();

        await FeedAsync(start, descriptor, Line(start.RunId, 1, 0, 10), Line(start.RunId, 2, 1, 20));
        var file = await H5py.ReadAsync(start.FilePath);

        var data = file.Doubles("/entry0/counter0/data");
        Assert.Equal([10, 11, 12, 13, 20, 21, 22, 23], data[..8]);
        Assert.All(data[8..], v => Assert.True(double.IsNaN(v)));
        Assert.Equal("running", file.Item("/entry0/collection/exit_status").GetProperty("value").Text());
    }

    [Fact]
    public async Task InPlaceOffsets_AgreeWithH5py()
    {
        var (start, descriptor) = Begin();
        await FeedAsync(start, descriptor);

        var file = await H5py.ReadAsync(start.FilePath);

        Assert.Equal(file.Item("/entry0/counter0/data").GetProperty("offset").GetInt64(),
            NxstxmLayout.ContiguousOffset(start.FilePath, "/entry0/counter0/data"));
        Assert.Equal(file.Item("/entry0/control/data").GetProperty("offset").GetInt64(),
            NxstxmLayout.ContiguousOffset(start.FilePath, "/entry0/control/data"));
    }

    [Fact]
    public async Task AbortedRun_IsMarkedAborted_WithItsReason_AndKeepsItsLines()
    {
        var (start, descriptor) = Begin();

        await FeedAsync(start, descriptor, Line(start.RunId, 1, 0, 10),
            new RunStop(start.RunId, ExitStatus.Aborted, "Aborted by tester.", start.Time.AddSeconds(1), 1));
        var file = await H5py.ReadAsync(start.FilePath);

        Assert.Equal("aborted", file.Item("/entry0/collection/exit_status").GetProperty("value").Text());
        Assert.Equal("Aborted by tester.", file.Item("/entry0/collection/exit_reason").GetProperty("value").Text());
        await NexusValidator.AssertConformsAsync(start.FilePath);
        Assert.Equal([10, 11, 12, 13], file.Doubles("/entry0/counter0/data")[..4]);
        Assert.True(double.IsNaN(file.Doubles("/entry0/counter0/data")[4]));
    }

    [Fact]
    public async Task ARunAfterOneOfTheSameSize_HoldsOnlyItsOwnLines()
    {
        // The writer reuses the last run's arrays for a run of the same size: nothing of the first may show in the second.
        var (first, descriptor) = Begin();
        await FeedAsync(first, descriptor, Line(first.RunId, 1, 0, 10), Line(first.RunId, 2, 1, 20), Line(first.RunId, 3, 2, 30),
            new RunStop(first.RunId, ExitStatus.Success, "", first.Time.AddSeconds(1), 3));
        var (second, again) = Begin("A261125002.hdf5");
        await FeedAsync(second, again, Line(second.RunId, 1, 1, 50),
            new RunStop(second.RunId, ExitStatus.Aborted, "Aborted by tester.", second.Time.AddSeconds(1), 1));

        var file = await H5py.ReadAsync(second.FilePath);
        var data = file.Doubles("/entry0/counter0/data");
        var ring = file.Doubles("/entry0/control/data");
        Assert.All(data[..4].Concat(data[8..]), v => Assert.True(double.IsNaN(v)));
        Assert.Equal([50, 51, 52, 53], data[4..8]);
        Assert.All(ring[..4].Concat(ring[8..]), v => Assert.True(double.IsNaN(v)));
        Assert.All(ring[4..8], v => Assert.Equal(219.5, v));
        var firstData = (await H5py.ReadAsync(first.FilePath)).Doubles("/entry0/counter0/data");
        Assert.Equal([10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33], firstData);
    }

    public void Dispose()
    {
        _writer.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
