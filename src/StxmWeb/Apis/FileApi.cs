using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using StxmWeb.Nexus.Validation;
using StxmWeb.Services;

namespace StxmWeb.Apis;

/// <summary>A validation as the API returns it.</summary>
/// <param name="File">The file (its name, for an upload).</param>
/// <param name="Definition">The application definition.</param>
/// <param name="Valid">Whether StxmWeb's validator found no error.</param>
/// <param name="Summary">One line.</param>
/// <param name="Entries">The NXentry groups checked.</param>
/// <param name="Findings">Every error and warning.</param>
public sealed record ValidationResponse(string File, string Definition, bool Valid, string Summary, IReadOnlyList<string> Entries, IReadOnlyList<Finding> Findings)
{
    internal static ValidationResponse From(ValidationReport report, string file) =>
        new(file, report.Definition, report.IsValid, report.Summary, report.Entries, report.Findings);
}

/// <summary><c>/api/files</c>: NeXus files checked against NXstxm by StxmWeb's validator.</summary>
public static class FileApi
{
    /// <summary>Largest upload to validate: 4 GiB (a long stack).</summary>
    private const long MaxUpload = 4L << 30;

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapFileApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/files").WithTags("Files");
        group.MapGet("/validate", ValidatePath).WithName("ValidateFile")
            .WithSummary("Validate a file of the data directory against NXstxm (path relative to the data directory, or absolute within it)");
        group.MapPost("/validate", ValidateUpload).WithName("ValidateUpload").DisableAntiforgery()
            .WithMetadata(new RequestSizeLimitAttribute(MaxUpload), new RequestFormLimitsAttribute { MultipartBodyLengthLimit = MaxUpload })
            .WithSummary("Validate an uploaded NeXus file (multipart form, field 'file') against NXstxm");
        return app;
    }

    /// <summary>A path inside the data directory, or a problem; the API reads no other file on the server.</summary>
    internal static (string? Path, ValidationProblem? Problem) InDataDirectory(string? path, ControlService control)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return (null, TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["path"] = ["A path is required."] }));
        }

        var root = Path.GetFullPath(control.DataDirectory) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(root, path));
        return full.StartsWith(root, StringComparison.Ordinal)
            ? (full, null)
            : (null, TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["path"] = [$"Files are read from the data directory {root} only."] }));
    }

    internal static async Task<Results<Ok<ValidationResponse>, ValidationProblem, NotFound>> ValidatePath(string? path, ControlService control, FileValidation validation, CancellationToken cancellationToken)
    {
        var (full, problem) = InDataDirectory(path, control);
        if (problem is not null)
        {
            return problem;
        }

        if (!File.Exists(full))
        {
            return TypedResults.NotFound();
        }

        var report = await Task.Run(() => validation.Validate(full!), cancellationToken);
        return TypedResults.Ok(ValidationResponse.From(report, full!));
    }

    internal static async Task<Results<Ok<ValidationResponse>, ValidationProblem>> ValidateUpload(IFormFile? file, FileValidation validation, CancellationToken cancellationToken)
    {
        if (file is null || file.Length == 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["file"] = ["A file is required (multipart form field 'file')."] });
        }

        var temporary = Path.Combine(Path.GetTempPath(), $"stxmweb-upload-{Guid.NewGuid():N}.hdf5");
        try
        {
            await using (var target = File.Create(temporary))
            {
                await file.CopyToAsync(target, cancellationToken);
            }

            var report = await Task.Run(() => validation.Validate(temporary), cancellationToken);
            return TypedResults.Ok(ValidationResponse.From(report, Path.GetFileName(file.FileName)));
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
