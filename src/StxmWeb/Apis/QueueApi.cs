using Microsoft.AspNetCore.Http.HttpResults;
using StxmWeb.Core.Scans;
using StxmWeb.Services;

namespace StxmWeb.Apis;

/// <summary>Where a queued scan goes.</summary>
/// <param name="Index">New position, 0 runs next.</param>
public sealed record QueueMove(int Index);

/// <summary>The answer to a queued scan.</summary>
/// <param name="Id">Queue item id.</param>
public sealed record Queued(Guid Id);

/// <summary>
/// <c>/api/queue</c>: list, add (validated: 400 with field paths), remove, reorder, hold (finish the current scan and
/// start no other) and release.
/// </summary>
public static class QueueApi
{
    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapQueueApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/queue").WithTags("Queue");
        group.MapGet("/", (QueueRunner queue) => TypedResults.Ok(queue.State)).WithName("GetQueue");
        group.MapPost("/", Add).WithName("QueueScan").WithSummary("Queue a scan of any type at the end");
        group.MapDelete("/{id:guid}", (Guid id, QueueRunner queue, HttpContext context) => ScanApi.NoContentOr(queue.Remove(id, Caller.FromHttp(context))))
            .WithName("RemoveQueuedScan");
        group.MapPost("/{id:guid}/move", (Guid id, QueueMove move, QueueRunner queue, HttpContext context) =>
            ScanApi.NoContentOr(queue.Move(id, move.Index, Caller.FromHttp(context)))).WithName("MoveQueuedScan");
        group.MapPost("/hold", (QueueRunner queue, HttpContext context) => ScanApi.NoContentOr(queue.Hold(Caller.FromHttp(context))))
            .WithName("HoldQueue").WithSummary("Let the current scan finish and start no other");
        group.MapPost("/release", (QueueRunner queue, HttpContext context) => ScanApi.NoContentOr(queue.Release(Caller.FromHttp(context))))
            .WithName("ReleaseQueue");
        return app;
    }

    internal static Results<Created<Queued>, ValidationProblem, ProblemHttpResult> Add(ScanRequest? request, QueueRunner queue, HttpContext context)
    {
        var result = queue.Add(request, Caller.FromHttp(context));
        return result.Accepted
            ? TypedResults.Created($"/api/queue", new Queued(result.RunId!.Value))
            : result.Conflict ? ScanApi.Conflict(result) : ScanApi.Invalid(result);
    }
}
