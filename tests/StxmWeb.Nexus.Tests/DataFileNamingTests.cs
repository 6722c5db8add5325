using StxmWeb.Nexus;

namespace StxmWeb.Nexus.Tests;

public sealed class DataFileNamingTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("stxmweb-naming-").FullName;

    [Fact]
    public void FileName_FollowsPyStxm()
    {
        Assert.Equal("A261124007.hdf5", DataFileNaming.FileName("A", new DateOnly(2026, 11, 24), 7));
    }

    [Fact]
    public void Reserve_NumbersTheDaysScansInOrder_UnderADatedDirectory()
    {
        var day = new DateOnly(2026, 11, 25);

        var first = DataFileNaming.Reserve(_root, "A", day);
        var second = DataFileNaming.Reserve(_root, "A", day);

        Assert.Equal(Path.Combine(_root, "2026-11-25", "A261125001.hdf5"), first.Path);
        Assert.Equal(1, first.Number);
        Assert.Equal(2, second.Number);
        Assert.True(File.Exists(first.Path));
    }

    [Fact]
    public void Reserve_ContinuesAfterTheHighestExistingNumber()
    {
        var day = new DateOnly(2026, 11, 25);
        Directory.CreateDirectory(Path.Combine(_root, "2026-11-25"));
        File.WriteAllText(Path.Combine(_root, "2026-11-25", "A261125041.hdf5"), "");
        File.WriteAllText(Path.Combine(_root, "2026-11-25", "C261125090.hdf5"), "");

        Assert.Equal(42, DataFileNaming.Reserve(_root, "A", day).Number);
    }

    [Theory]
    [InlineData("A", true)]
    [InlineData("Cryo", true)]
    [InlineData("", false)]
    [InlineData("1", false)]
    [InlineData("A/B", false)]
    [InlineData(null, false)]
    public void IsValidPrefix_AllowsLettersOnly(string? prefix, bool valid) => Assert.Equal(valid, DataFileNaming.IsValidPrefix(prefix));

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
