using StxmWeb.Nexus.Import;
using StxmWeb.Nexus.Reading;
using StxmWeb.Testing;

namespace StxmWeb.Nexus.Tests;

/// <summary>
/// The viewer's reader on files other programs wrote (h5py: pyStxm's layout, an older hand-made file, a spectrum with
/// bin edges), on StxmWeb's own files (a Bluesky import), and on files it cannot show: every value it returns is the
/// one h5py reads.
/// </summary>
public sealed class NexusImageReaderTests : IClassFixture<NexusImageReaderTests.OtherProgramsFiles>
{
    private readonly OtherProgramsFiles _files;

    public NexusImageReaderTests(OtherProgramsFiles files) => _files = files;

    /// <summary>The files of Python/make_reader_files.py, and an imported tomogram, made once.</summary>
    public sealed class OtherProgramsFiles : PythonMadeFiles
    {
        public OtherProgramsFiles()
            : base("make_reader_files.py")
        {
            var runs = Path.Combine(NexusValidator.SharedDirectory, "data", "pystxm-bluesky-runs", "TOMOGRAPHY_SCAN.json");
            Tomogram = BlueskyImport.Import(File.ReadAllText(runs), "tomogram", Directory)[0].Path;
        }

        public string Tomogram { get; }
    }

    [Fact]
    public async Task APyStxmStack_OpensWithItsAxes_AndEachEnergyPlane()
    {
        var file = NexusImageReader.Open(_files["pystxm-stack"]);

        var entry = Assert.Single(file.Entries);
        Assert.Equal("entry0", file.DefaultEntry);
        Assert.Equal("/entry0/counter0/data", entry.DataPath);
        Assert.Equal([3, 4, 5], entry.Shape);
        Assert.Equal(["energy", "sample_y", "sample_x"], entry.Axes.Select(a => a.Name));
        Assert.Equal(["eV", "um", "um"], entry.Axes.Select(a => a.Units));
        Assert.Equal([700.0, 710.0, 720.0], entry.Energy);
        Assert.Equal("sample image stack", entry.StxmScanType);
        Assert.Equal(12.5, entry.RotationAngle);
        Assert.Equal(3, entry.Planes);
        var h5 = await H5py.ReadAsync(_files["pystxm-stack"]);
        var all = h5.Doubles("/entry0/counter0/data");
        for (var plane = 0; plane < 3; plane++)
        {
            Assert.Equal(all[(plane * 20)..((plane + 1) * 20)], NexusImageReader.ReadPlane(file.Path, entry, plane));
        }

        Assert.All(NexusImageReader.ReadPlane(file.Path, entry, 2), v => Assert.True(double.IsNaN(v)));
        Assert.Throws<ArgumentOutOfRangeException>(() => NexusImageReader.ReadPlane(file.Path, entry, 3));
    }

    [Fact]
    public async Task AnOlderHandMadeFile_WithoutDefaults_AndIntegerData_Opens()
    {
        var file = NexusImageReader.Open(_files["legacy-image"]);

        var entry = Assert.Single(file.Entries);
        Assert.Equal("entry1", entry.Name);
        Assert.Equal("/entry1/image/counts", entry.DataPath);
        Assert.Equal([6, 8], entry.Shape);
        Assert.Equal(["y", "x"], entry.Axes.Select(a => a.Name));
        Assert.Equal([0.0, 1, 2, 3, 4, 5], entry.Axes[0].Values);
        Assert.Equal("mm", entry.Axes[1].Units);
        Assert.Equal(1, entry.Planes);
        Assert.Equal((await H5py.ReadAsync(file.Path)).Doubles("/entry1/image/counts"), NexusImageReader.ReadPlane(file.Path, entry, 0));
        Assert.Equal(47000, NexusImageReader.ReadPlane(file.Path, entry, 0)[47]);
    }

    [Fact]
    public void ASpectrum_WithBinEdges_GetsTheirCentres()
    {
        var file = NexusImageReader.Open(_files["spectrum"]);

        var entry = Assert.Single(file.Entries);
        Assert.Equal([50], entry.Shape);
        var energy = Assert.Single(entry.Axes);
        Assert.Equal("energy", energy.Name);
        Assert.Equal(50, energy.Values.Length);
        Assert.Equal(280.25, energy.Values[0], 9);
        Assert.Equal(304.75, energy.Values[^1], 9);
        Assert.Equal(Math.Sin(3.0), NexusImageReader.ReadPlane(file.Path, entry, 0)[^1], 6);
    }

    [Fact]
    public void AnImportedTomogram_OpensEveryAngle()
    {
        var file = NexusImageReader.Open(_files.Tomogram);

        Assert.Equal(["entry0", "entry1", "entry2"], file.Entries.Select(e => e.Name));
        Assert.Equal([-2.0, 0.0, 2.0], file.Entries.Select(e => e.RotationAngle!.Value));
        Assert.All(file.Entries, e => Assert.Equal([2, 20, 20], e.Shape));
        Assert.All(file.Entries, e => Assert.Equal("sample image", e.StxmScanType));
        Assert.Equal(400, NexusImageReader.ReadPlane(file.Path, file.Entries[2], 1).Length);
    }

    [Fact]
    public void FilesWithNothingToShow_AreRefused_SayingWhy()
    {
        var rank4 = Assert.Throws<InvalidDataException>(() => NexusImageReader.Open(_files["rank4"]));
        Assert.Contains("entry0: frames/data has rank 4", rank4.Message, StringComparison.Ordinal);
        Assert.Contains("entry1: no NXdata group", rank4.Message, StringComparison.Ordinal);

        var text = Path.Combine(_files.Directory, "text.hdf5");
        File.WriteAllText(text, "not HDF5");
        Assert.Contains("cannot be read as HDF5", Assert.Throws<InvalidDataException>(() => NexusImageReader.Open(text)).Message, StringComparison.Ordinal);
        Assert.Contains("no such file", Assert.Throws<InvalidDataException>(() => NexusImageReader.Open(text + ".missing")).Message, StringComparison.Ordinal);
    }
}
