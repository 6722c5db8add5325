using Microsoft.AspNetCore.Http.HttpResults;
using StxmWeb.Core.Devices;
using StxmWeb.Services;

namespace StxmWeb.Apis;

/// <summary>A move request.</summary>
/// <param name="Target">Target position in the positioner's units.</param>
public sealed record MoveRequest(double Target);

/// <summary><c>/api/motors</c>: positioners with readbacks and limits; move and stop.</summary>
public static class MotorApi
{
    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapMotorApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/motors").WithTags("Motors");
        group.MapGet("/", List).WithName("ListMotors").WithSummary("Every positioner: readback, setpoint, moving, units, limits");
        group.MapPost("/{name}/move", Move).WithName("MoveMotor").WithSummary("Move a positioner (202); refused during a scan");
        group.MapPost("/{name}/stop", Stop).WithName("StopMotor").WithSummary("Stop a positioner at once");
        return app;
    }

    internal static Ok<PositionerStatus[]> List(ControlService control) =>
        TypedResults.Ok(control.Instrument.Positioners.Select(p => p.Status).ToArray());

    internal static Results<Accepted, ValidationProblem, ProblemHttpResult> Move(string name, MoveRequest? move, ControlService control, HttpContext context)
    {
        if (move is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["target"] = ["A target is required."] });
        }

        var result = control.Move(name, move.Target, Caller.FromHttp(context));
        if (result.Accepted)
        {
            return TypedResults.Accepted($"/api/motors");
        }

        return result.Conflict ? ScanApi.Conflict(result) : ScanApi.Invalid(result);
    }

    internal static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Stop(string name, ControlService control, HttpContext context) =>
        ScanApi.NoContentOr(await control.StopAsync(name, Caller.FromHttp(context)).ConfigureAwait(false));
}
