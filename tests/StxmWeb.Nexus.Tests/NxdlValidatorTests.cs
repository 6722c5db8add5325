using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.Core.Documents;
using StxmWeb.Core.Scans;
using StxmWeb.Nexus.Validation;
using StxmWeb.Testing;

namespace StxmWeb.Nexus.Tests;

/// <summary>
/// StxmWeb's NXDL validator: the definitions it reads, files h5py wrote with one known fault each (each fault found and
/// named, the valid files found valid), StxmWeb's own files valid, and agreement with the NIAC's cnxvalidate.
/// </summary>
public sealed class NxdlValidatorTests : IClassFixture<NxdlValidatorTests.HandMadeFiles>
{
    private readonly HandMadeFiles _files;

    public NxdlValidatorTests(HandMadeFiles files) => _files = files;

    /// <summary>The h5py-written files (Python/make_broken_files.py), made once for the class.</summary>
    public sealed class HandMadeFiles() : PythonMadeFiles("make_broken_files.py");

    private static ValidationReport Validate(string path) => NxdlValidator.Validate(path, NxdlLibrary.Embedded);

    [Fact]
    public void TheEmbeddedDefinitions_HoldNXstxmAndItsBaseClasses()
    {
        var library = NxdlLibrary.Embedded;
        var stxm = library.Find("NXstxm")!;

        Assert.Equal(NxdlCategory.Application, stxm.Category);
        Assert.Equal(["nP", "nE", "nX", "nY", "detectorRank"], stxm.Symbols);
        var entry = Assert.Single(stxm.Content.Groups);
        Assert.Contains(entry.Content.Fields, f => f.Name == "definition" && f.Enumeration.SequenceEqual(["NXstxm"]) && f.MinOccurs == 1);
        Assert.Contains(entry.Content.Groups, g => g.Type == "NXmonitor" && g.Name == "control" && g.MinOccurs == 0);
        var data = entry.Content.Groups.Single(g => g.Type == "NXdata");
        Assert.Contains(data.Content.Fields.Single(f => f.Name == "data").Attributes, a => a.Name == "signal" && !a.Optional);
        foreach (var name in new[] { "NXentry", "NXdata", "NXinstrument", "NXsource", "NXmonochromator", "NXdetector", "NXsample", "NXmonitor", "NXcollection" })
        {
            Assert.Equal(NxdlCategory.Base, library.Find(name)!.Category);
        }

        Assert.Contains("v2026", library.Source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("valid")]
    [InlineData("valid-stack")]
    public void AFileThatMeetsNXstxm_IsValid(string name)
    {
        var report = Validate(_files[name]);

        Assert.True(report.IsValid, string.Join("\n", report.Findings));
        Assert.Equal(["entry0"], report.Entries);
    }

    [Theory]
    [InlineData("no-definition", "/entry0/definition", "The required field definition (NX_CHAR) is missing.")]
    [InlineData("other-definition", "/entry0/definition", "'NXfoo' is not one of: 'NXstxm'.")]
    [InlineData("bad-scan-type", "/entry0/counter0/stxm_scan_type", "'holography' is not one of")]
    [InlineData("no-sample-x", "/entry0/counter0/sample_x", "The required field sample_x (NX_FLOAT) is missing.")]
    [InlineData("energy-rank-2", "/entry0/counter0/energy", "The rank is 2; the definition asks for 1")]
    [InlineData("inconsistent-nP", "/entry0/instrument/", "the symbol nP is")]
    [InlineData("no-instrument", "/entry0/(NXinstrument)", "At least 1 NXinstrument group(s) are required here; found 0.")]
    [InlineData("no-signal", "/entry0/counter0/data", "The required attribute @signal is missing.")]
    [InlineData("bad-start-time", "/entry0/start_time", "'yesterday' is not an ISO 8601 date and time.")]
    [InlineData("no-nx-class", "/entry0/sample", "no NX_class attribute")]
    [InlineData("integer-energy", "/entry0/counter0/energy", "energy must be floating-point numbers (NX_FLOAT); it holds integer.")]
    [InlineData("two-sources", "/entry0/instrument/(NXsource)", "At most 1 NXsource group(s) are allowed here; found 2.")]
    [InlineData("not-hdf5", "/", "cannot be read as HDF5")]
    public void EachKnownFault_IsFoundAndNamed(string name, string path, string message)
    {
        var report = Validate(_files[name]);

        Assert.False(report.IsValid);
        Assert.Contains(report.Errors, f => f.Path.StartsWith(path, StringComparison.Ordinal) && f.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void AFieldNoNeXusClassNames_IsAWarning_NotAnError()
    {
        var report = Validate(_files["stray-field"]);

        Assert.True(report.IsValid, string.Join("\n", report.Findings));
        Assert.Contains(report.Warnings, f => f.Path == "/entry0/sample/colour" && f.Message.Contains("non-NeXus", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("valid")]
    [InlineData("no-definition")]
    [InlineData("bad-scan-type")]
    [InlineData("no-sample-x")]
    [InlineData("energy-rank-2")]
    [InlineData("no-signal")]
    [InlineData("integer-energy")]
    public async Task TheVerdict_AgreesWithTheNIACsValidator(string name)
    {
        var ours = Validate(_files[name]);
        var niac = await NexusValidator.ValidateAsync(_files[name]);

        var niacValid = niac.Contains("passed validation", StringComparison.Ordinal) || niac.StartsWith("0 errors", StringComparison.Ordinal);
        Assert.True(ours.IsValid == niacValid, $"ours: {ours.Summary}; cnxvalidate: {niac}\n{string.Join("\n", ours.Findings)}");
    }

    [Fact]
    public async Task EveryKindOfFileStxmWebWrites_IsValid()
    {
        var root = Directory.CreateTempSubdirectory("stxmweb-nxdl-own-").FullName;
        try
        {
            foreach (var (type, entries) in OwnLayouts())
            {
                var path = Path.Combine(root, $"{type}.hdf5");
                using var writer = new NxstxmWriter(NullLogger<NxstxmWriter>.Instance);
                var id = Guid.NewGuid();
                var start = new RunStart(id, 1, ScanRequest.Default(type), DateTimeOffset.UtcNow, "tester", path);
                var descriptor = new Descriptor(id, "counter0", "counts", type, entries, TimeSpan.FromSeconds(1));
                await writer.ConsumeAsync(start, TestContext.Current.CancellationToken);
                await writer.ConsumeAsync(descriptor, TestContext.Current.CancellationToken);
                await writer.ConsumeAsync(new RunStop(id, ExitStatus.Success, "", DateTimeOffset.UtcNow, 0), TestContext.Current.CancellationToken);

                var report = Validate(path);
                Assert.True(report.IsValid, $"{type}: {string.Join("\n", report.Findings)}");
                Assert.Equal(entries.Length, report.Entries.Count);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Entry shapes of the families StxmWeb writes: image, stack of two regions, point spectra, line spectrum, focus, generic.</summary>
    private static IEnumerable<(ScanType Type, EntryDescriptor[] Entries)> OwnLayouts()
    {
        double[] e = [284, 285, 286];
        Axis Energy(double[] values) => new("energy", "eV", values);
        Axis Stage(string name, int n) => new(name, "µm", [.. Enumerable.Range(0, n).Select(i => (double)i)]);
        yield return (ScanType.SampleImage, [new("entry0", [1, 3, 4], [Energy([285]), Stage("sample_y", 3), Stage("sample_x", 4)], [285], [1], "sample image")]);
        yield return (ScanType.SampleImageStack,
        [
            new("entry0", [3, 2, 5], [Energy(e), Stage("sample_y", 2), Stage("sample_x", 5)], e, [1, 1, 1], "sample image stack"),
            new("entry1", [3, 4, 3], [Energy(e), Stage("sample_y", 4), Stage("sample_x", 3)], e, [1, 1, 1], "sample image stack"),
        ]);
        yield return (ScanType.SamplePointSpectrum,
        [
            new("entry0", [3], [Energy(e)], e, [1, 1, 1], "sample point spectrum") { Positions = [Stage("sample_x", 1), Stage("sample_y", 1)] },
            new("entry1", [3], [Energy(e)], e, [1, 1, 1], "sample point spectrum") { Positions = [Stage("sample_x", 1), Stage("sample_y", 1)] },
        ]);
        yield return (ScanType.SampleLineSpectrum,
            [new("entry0", [3, 6], [Energy(e), Stage("line_position", 6)], e, [1, 1, 1], "sample line spectrum") { Positions = [Stage("sample_x", 6), Stage("sample_y", 6)] }]);
        yield return (ScanType.SampleFocus,
            [new("entry0", [4, 6], [Stage("zpz", 4), Stage("line_position", 6)], [285], [1], "sample focus") { Positions = [Stage("sample_x", 6), Stage("sample_y", 6)] }]);
        yield return (ScanType.GenericScan,
            [new("entry0", [7], [Stage("osa_x", 7)], [285], [1], "generic scan") { Positions = [Stage("sample_x", 1), Stage("sample_y", 1)] }]);
    }
}
