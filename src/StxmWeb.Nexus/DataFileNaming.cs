using System.Globalization;
using System.Text.RegularExpressions;

namespace StxmWeb.Nexus;

/// <summary>
/// pyStxm's file names: <c>&lt;prefix&gt;&lt;yymmdd&gt;&lt;nnn&gt;.hdf5</c> (e.g. <c>A261124007.hdf5</c>) under
/// <c>&lt;DataDir&gt;/&lt;yyyy-mm-dd&gt;/</c>. The number is the day's next free one; the file is reserved by creating it,
/// so two runs never share a name.
/// </summary>
public static partial class DataFileNaming
{
    /// <summary>The file extension pyStxm uses (app.ini <c>save_file_suffix</c>).</summary>
    public const string Extension = ".hdf5";

    /// <summary>The day's directory under <paramref name="dataDir"/>.</summary>
    public static string DayDirectory(string dataDir, DateOnly day) =>
        Path.Combine(dataDir, day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));

    /// <summary>The file name for scan <paramref name="number"/> of <paramref name="day"/>.</summary>
    public static string FileName(string prefix, DateOnly day, int number) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}{day:yyMMdd}{number:000}{Extension}");

    /// <summary>
    /// Creates the day's directory if needed and reserves the next free file (created empty). Returns its path and number.
    /// </summary>
    public static (string Path, int Number) Reserve(string dataDir, string prefix, DateOnly day)
    {
        var directory = DayDirectory(dataDir, day);
        Directory.CreateDirectory(directory);
        var pattern = new Regex($"^{Regex.Escape(prefix)}{day.ToString("yyMMdd", CultureInfo.InvariantCulture)}(\\d{{3,}})\\{Extension}$", RegexOptions.CultureInvariant);
        var highest = 0;
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            var match = pattern.Match(Path.GetFileName(file));
            if (match.Success && int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                highest = Math.Max(highest, n);
            }
        }

        for (var number = highest + 1; ; number++)
        {
            var path = Path.Combine(directory, FileName(prefix, day, number));
            try
            {
                using (new FileStream(path, FileMode.CreateNew, FileAccess.Write))
                {
                }

                return (path, number);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another run took this number between the listing and now: take the next.
            }
        }
    }

    /// <summary>Whether <paramref name="prefix"/> is a valid file prefix (letters only, 1 to 8).</summary>
    public static bool IsValidPrefix(string? prefix) => prefix is not null && PrefixPattern().IsMatch(prefix);

    [GeneratedRegex("^[A-Za-z]{1,8}$")]
    private static partial Regex PrefixPattern();
}
