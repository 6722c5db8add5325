using Microsoft.AspNetCore.Http.HttpResults;
using StxmWeb.Core.Scans;
using StxmWeb.Services;

namespace StxmWeb.Apis;

/// <summary>A run as the API returns it.</summary>
/// <param name="Id">Run id.</param>
/// <param name="ScanId">Scan number of the day.</param>
/// <param name="State">running, pausing, paused, aborting, success, aborted or failed.</param>
/// <param name="CompletedPixels">Pixels acquired.</param>
/// <param name="TotalPixels">Pixels in the scan.</param>
/// <param name="Progress">Fraction done, 0..1.</param>
/// <param name="ElapsedSeconds">Time acquiring.</param>
/// <param name="TimeLeftSeconds">Estimated time to the end.</param>
/// <param name="FilePath">The NXstxm file.</param>
/// <param name="Reason">Why it ended, when it did not succeed.</param>
/// <param name="Request">The request.</param>
/// <param name="User">Who started it.</param>
/// <param name="StartTime">Start.</param>
/// <param name="EndTime">End, once ended.</param>
/// <param name="ControllerFile">The file the backend's controller wrote itself (Pixelator), on the controller's host.</param>
/// <param name="Validation">The saved file's validation (StxmWeb's validator, and the NIAC's when configured), once done.</param>
public sealed record RunResponse(Guid Id, int ScanId, string State, long CompletedPixels, long TotalPixels, double Progress,
    double ElapsedSeconds, double TimeLeftSeconds, string FilePath, string Reason, ScanRequest Request, string User,
    DateTimeOffset StartTime, DateTimeOffset? EndTime, string? ControllerFile = null, FileVerdict? Validation = null)
{
    internal static RunResponse From(RunRecord r) => new(r.Id, r.ScanId, r.State, r.Progress.CompletedPixels, r.Progress.TotalPixels,
        r.IsFinished && r.State == "success" ? 1 : r.Progress.Fraction, r.Progress.Elapsed.TotalSeconds, r.IsFinished ? 0 : r.Progress.TimeLeft.TotalSeconds,
        r.FilePath, r.Reason, r.Request, r.User, r.StartTime, r.EndTime, r.ControllerFile, r.Validation);
}

/// <summary>The answer to a started scan.</summary>
/// <param name="Id">Run id.</param>
/// <param name="FilePath">Where its file goes.</param>
/// <param name="Status">URL to poll.</param>
public sealed record ScanAccepted(Guid Id, string FilePath, string Status);

/// <summary>
/// <c>/api/scans</c>: start a scan (202 with the run id, or 400 with problem details naming each bad field, or 409 when
/// busy), read a run, list runs, and pause / resume / abort. Every action goes through <see cref="ControlService"/>.
/// </summary>
public static class ScanApi
{
    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapScanApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/scans").WithTags("Scans");
        group.MapPost("/", Start).WithName("StartScan").WithSummary("Start a scan of any type (scanType: SampleImage, SampleImageStack, OsaFocus...)");
        group.MapGet("/", List).WithName("ListScans").WithSummary("Runs since the server started, newest first");
        group.MapGet("/{id:guid}", Get).WithName("GetScan").WithSummary("State, progress and file of a run");
        group.MapPost("/current/pause", Pause).WithName("PauseScan").WithSummary("Pause at the next line");
        group.MapPost("/current/resume", Resume).WithName("ResumeScan");
        group.MapPost("/current/abort", Abort).WithName("AbortScan").WithSummary("Abort; the file keeps what was acquired");
        group.MapPost("/estimate", Estimate).WithName("EstimateScan").WithSummary("Validate a request and estimate its duration");
        return app;
    }

    internal static Results<Accepted<ScanAccepted>, ValidationProblem, ProblemHttpResult> Start(ScanRequest? request, ControlService control, HttpContext context)
    {
        var result = control.StartScan(request, Caller.FromHttp(context));
        if (result.Accepted)
        {
            var id = result.RunId!.Value;
            var run = control.FindRun(id)!;
            var url = $"/api/scans/{id}";
            return TypedResults.Accepted(url, new ScanAccepted(id, run.FilePath, url));
        }

        return result.Conflict ? Conflict(result) : Invalid(result);
    }

    internal static Ok<RunResponse[]> List(ControlService control) => TypedResults.Ok(control.Runs.Select(RunResponse.From).ToArray());

    internal static Results<Ok<RunResponse>, NotFound> Get(Guid id, ControlService control) =>
        control.FindRun(id) is { } run ? TypedResults.Ok(RunResponse.From(run)) : TypedResults.NotFound();

    internal static Results<NoContent, ValidationProblem, ProblemHttpResult> Pause(ControlService control, HttpContext context) =>
        NoContentOr(control.Pause(Caller.FromHttp(context)));

    internal static Results<NoContent, ValidationProblem, ProblemHttpResult> Resume(ControlService control, HttpContext context) =>
        NoContentOr(control.Resume(Caller.FromHttp(context)));

    internal static Results<NoContent, ValidationProblem, ProblemHttpResult> Abort(ControlService control, HttpContext context) =>
        NoContentOr(control.Abort(Caller.FromHttp(context)));

    internal static Results<Ok<EstimateResponse>, ValidationProblem> Estimate(ScanRequest? request, ControlService control)
    {
        var problems = control.Validate(request);
        return problems.Count > 0
            ? TypedResults.ValidationProblem(Group(problems))
            : TypedResults.Ok(Estimated(control.Estimate(request!)));
    }

    private static EstimateResponse Estimated((TimeSpan Duration, long Points) estimate) => new(estimate.Duration.TotalSeconds, estimate.Points);

    /// <summary>A validation problem (400) for bad input, a conflict (409) for the instrument's state.</summary>
    internal static Results<NoContent, ValidationProblem, ProblemHttpResult> NoContentOr(CommandResult result) =>
        result.Accepted ? TypedResults.NoContent() : Refusal(result);

    private static Results<NoContent, ValidationProblem, ProblemHttpResult> Refusal(CommandResult result) =>
        result.Conflict ? Conflict(result) : Invalid(result);

    /// <summary>409: the instrument's state refuses the command.</summary>
    internal static ProblemHttpResult Conflict(CommandResult result) =>
        TypedResults.Problem(result.Problems[0].Message, statusCode: StatusCodes.Status409Conflict, title: "The instrument is busy");

    /// <summary>400: problem details with each bad field and its messages.</summary>
    internal static ValidationProblem Invalid(CommandResult result) =>
        TypedResults.ValidationProblem(Group(result.Problems), title: "The request has invalid fields");

    internal static Dictionary<string, string[]> Group(IEnumerable<FieldProblem> problems) =>
        problems.GroupBy(p => p.Field).ToDictionary(g => g.Key, g => g.Select(p => p.Message).ToArray());
}

/// <summary>The estimate of a valid request.</summary>
/// <param name="Seconds">Estimated duration.</param>
/// <param name="Pixels">Number of values the scan acquires (pixels, spectrum points).</param>
public sealed record EstimateResponse(double Seconds, long Pixels);
