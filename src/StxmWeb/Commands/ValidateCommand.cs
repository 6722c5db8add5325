using StxmWeb.Nexus.Validation;

namespace StxmWeb.Commands;

/// <summary>
/// <c>StxmWeb validate [--definition NXstxm] [--definitions DIR] [--quiet] FILE...</c>: checks NeXus files against an
/// application definition with StxmWeb's own validator and prints each finding. The definitions are StxmWeb's embedded
/// copy of the NIAC's, or DIR (also pyStxm's PATH_TO_NX_DEFINITIONS). Exit status: 0 all valid, 1 some invalid, 2 usage.
/// </summary>
public static class ValidateCommand
{
    /// <summary>The command's name, the first argument.</summary>
    public const string Name = "validate";

    /// <summary>Runs the command.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter errors)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(errors);
        var definition = "NXstxm";
        var directory = Environment.GetEnvironmentVariable("PATH_TO_NX_DEFINITIONS");
        var quiet = false;
        var files = new List<string>();
        for (var i = 1; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--definition" when i + 1 < args.Count:
                    definition = args[++i];
                    break;
                case "--definitions" when i + 1 < args.Count:
                    directory = args[++i];
                    break;
                case "--quiet":
                    quiet = true;
                    break;
                case var option when option.StartsWith("--", StringComparison.Ordinal):
                    errors.WriteLine($"validate: unknown option {option}");
                    return Usage(errors);
                default:
                    files.Add(args[i]);
                    break;
            }
        }

        if (files.Count == 0)
        {
            return Usage(errors);
        }

        NxdlLibrary library;
        try
        {
            library = string.IsNullOrWhiteSpace(directory) ? NxdlLibrary.Embedded : NxdlLibrary.Load(directory);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            errors.WriteLine($"validate: the NeXus definitions cannot be read: {ex.Message}");
            return 2;
        }

        var invalid = 0;
        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                errors.WriteLine($"{file}: no such file");
                invalid++;
                continue;
            }

            ValidationReport report;
            try
            {
                report = NxdlValidator.Validate(file, library, definition);
            }
            catch (ArgumentException ex)
            {
                errors.WriteLine($"validate: {ex.Message}");
                return 2;
            }

            output.WriteLine($"{file}: {report.Summary}");
            foreach (var finding in report.Findings.Where(f => !quiet || f.Severity == FindingSeverity.Error))
            {
                output.WriteLine($"  {finding}");
            }

            invalid += report.IsValid ? 0 : 1;
        }

        return invalid == 0 ? 0 : 1;
    }

    private static int Usage(TextWriter errors)
    {
        errors.WriteLine("usage: StxmWeb validate [--definition NXstxm] [--definitions DIR] [--quiet] FILE...");
        return 2;
    }
}
