using StxmWeb.Nexus.Import;
using StxmWeb.Nexus.Validation;

namespace StxmWeb.Commands;

/// <summary>
/// <c>StxmWeb import-bluesky [--out DIR] FILE.json...</c>: turns recorded pyStxm Bluesky runs into NXstxm files (one
/// per scan, named after the source file), checks each with StxmWeb's validator and prints its entries, shapes and axes
/// and what the import noticed. Exit status: 0 every file written and valid, 1 some not, 2 usage.
/// </summary>
public static class ImportBlueskyCommand
{
    /// <summary>The command's name, the first argument.</summary>
    public const string Name = "import-bluesky";

    /// <summary>Runs the command.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter errors)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(errors);
        var directory = ".";
        var sources = new List<string>();
        for (var i = 1; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--out" when i + 1 < args.Count:
                    directory = args[++i];
                    break;
                case var option when option.StartsWith("--", StringComparison.Ordinal):
                    errors.WriteLine($"{Name}: unknown option {option}");
                    return Usage(errors);
                default:
                    sources.Add(args[i]);
                    break;
            }
        }

        if (sources.Count == 0)
        {
            return Usage(errors);
        }

        var failed = 0;
        foreach (var source in sources)
        {
            if (!File.Exists(source))
            {
                errors.WriteLine($"{source}: no such file");
                failed++;
                continue;
            }

            IReadOnlyList<ImportedFile> files;
            try
            {
                files = BlueskyImport.Import(File.ReadAllText(source), BlueskyImport.StemOf(source), directory);
            }
            catch (Exception ex) when (ex is BlueskyImportException or IOException or UnauthorizedAccessException)
            {
                errors.WriteLine($"{source}: {ex.Message}");
                failed++;
                continue;
            }

            foreach (var file in files)
            {
                var report = NxdlValidator.Validate(file.Path, NxdlLibrary.Embedded, "NXstxm");
                var scan = file.Scan;
                output.WriteLine($"{source} -> {file.Path}: {scan.Request.ScanType}, {scan.SourceRuns.Count} run(s), {scan.Status.ToString().ToLowerInvariant()}; {report.Summary}");
                foreach (var entry in scan.Descriptor.Entries)
                {
                    output.WriteLine($"  {entry.Name}: ({string.Join(", ", entry.Shape)}) axes [{string.Join(", ", entry.Axes.Select(a => a.Name))}]");
                }

                foreach (var note in scan.Notes)
                {
                    output.WriteLine($"  note: {note}");
                }

                foreach (var finding in report.Findings.Where(f => f.Severity == FindingSeverity.Error))
                {
                    output.WriteLine($"  {finding}");
                }

                failed += report.IsValid ? 0 : 1;
            }
        }

        return failed == 0 ? 0 : 1;
    }

    private static int Usage(TextWriter errors)
    {
        errors.WriteLine($"usage: StxmWeb {Name} [--out DIR] FILE.json...");
        return 2;
    }
}
