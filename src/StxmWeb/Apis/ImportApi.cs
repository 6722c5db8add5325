using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using StxmWeb.Nexus.Import;
using StxmWeb.Services;

namespace StxmWeb.Apis;

/// <summary>An entry of an imported file: its name, data shape (slowest first) and axes in data order.</summary>
public sealed record ImportedEntry(string Name, IReadOnlyList<int> Shape, IReadOnlyList<string> Axes);

/// <summary>One NXstxm file an import wrote.</summary>
/// <param name="Path">Absolute path on the server.</param>
/// <param name="RelativePath">Path within the data directory (what <c>/api/files/validate?path=</c> takes).</param>
/// <param name="ScanType">The scan type.</param>
/// <param name="Status">success, aborted or failed (from the runs' stop documents).</param>
/// <param name="Reason">Why, when not success.</param>
/// <param name="Runs">The uids of the Bluesky runs the scan was made of.</param>
/// <param name="Entries">The file's entries.</param>
/// <param name="Notes">What the import noticed.</param>
/// <param name="Validation">StxmWeb's validator on the file.</param>
public sealed record ImportedFileResponse(string Path, string RelativePath, string ScanType, string Status, string Reason, IReadOnlyList<string> Runs,
    IReadOnlyList<ImportedEntry> Entries, IReadOnlyList<string> Notes, ValidationResponse Validation);

/// <summary>An import's result: the source's name and each file written.</summary>
public sealed record ImportResponse(string Source, IReadOnlyList<ImportedFileResponse> Files);

/// <summary><c>/api/import</c>: recorded pyStxm Bluesky runs made into NXstxm files in the data directory (<c>imported/</c>).</summary>
public static class ImportApi
{
    /// <summary>Largest document file accepted: 256 MiB.</summary>
    private const long MaxUpload = 256L << 20;

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapImportApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/import/bluesky", ImportBluesky).WithTags("Files").WithName("ImportBluesky").DisableAntiforgery()
            .WithMetadata(new RequestSizeLimitAttribute(MaxUpload), new RequestFormLimitsAttribute { MultipartBodyLengthLimit = MaxUpload })
            .WithSummary("Import recorded pyStxm Bluesky runs (multipart form, field 'file': the JSON document file) as NXstxm files in the data directory's imported/");
        return app;
    }

    internal static async Task<Results<Ok<ImportResponse>, ValidationProblem>> ImportBluesky(IFormFile? file, ControlService control, ViewerFiles storage, FileValidation validation, CancellationToken cancellationToken)
    {
        if (file is null || file.Length == 0)
        {
            return Problem("file", "A file is required (multipart form field 'file': a JSON file of Bluesky documents).");
        }

        string json;
        using (var reader = new StreamReader(file.OpenReadStream()))
        {
            json = await reader.ReadToEndAsync(cancellationToken);
        }

        IReadOnlyList<ImportedScan> scans;
        try
        {
            scans = BlueskyImport.Read(json);
        }
        catch (BlueskyImportException ex)
        {
            return Problem("file", ex.Message);
        }

        var root = Path.GetFullPath(control.DataDirectory);
        var directory = storage.ImportDirectory;
        Directory.CreateDirectory(directory);
        var stem = BlueskyImport.StemOf(file.FileName);
        var files = new List<ImportedFileResponse>();
        for (var i = 0; i < scans.Count; i++)
        {
            var scan = scans[i];
            var path = ViewerFiles.FreeName(directory, scans.Count == 1 ? stem : $"{stem}_{i + 1}", ".hdf5");
            try
            {
                await Task.Run(() => BlueskyImport.Write(scan, path), cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Problem("file", $"Writing {path} failed: {ex.Message}");
            }

            var report = await Task.Run(() => validation.Validate(path), cancellationToken);
            files.Add(new ImportedFileResponse(path, Path.GetRelativePath(root, path), scan.Request.ScanType.ToString(), scan.Status.ToString().ToLowerInvariant(), scan.Reason,
                scan.SourceRuns, [.. scan.Descriptor.Entries.Select(e => new ImportedEntry(e.Name, e.Shape, [.. e.Axes.Select(a => a.Name)]))], scan.Notes,
                ValidationResponse.From(report, path)));
        }

        return TypedResults.Ok(new ImportResponse(Path.GetFileName(file.FileName), files));
    }

    private static ValidationProblem Problem(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
