using Microsoft.AspNetCore.Http.HttpResults;
using StxmWeb.Core.Focus;
using StxmWeb.Core.Scans;
using StxmWeb.Services;

namespace StxmWeb.Apis;

/// <summary>Where a focus scan says the focus is.</summary>
/// <param name="RunId">The focus scan.</param>
/// <param name="Zpz">Zone-plate Z of the sharpest row, µm.</param>
public sealed record FocusFromScan(Guid RunId, double Zpz);

/// <summary>The focus calibration and the zone plate it applies to.</summary>
/// <param name="Settings">A0, ΔA0, adjust, mode, defocus.</param>
/// <param name="ZonePlate">The zone plate.</param>
/// <param name="Osa">The OSA.</param>
/// <param name="A0MaxUm">Largest A0 at which the OSA still blocks the zero order, at the current energy.</param>
/// <param name="FocalLengthUm">Focal length at the current energy.</param>
public sealed record FocusResponse(FocusSettings Settings, ZonePlate ZonePlate, Osa Osa, double A0MaxUm, double FocalLengthUm);

/// <summary>
/// <c>/api/scan-definitions</c>: scan types, defaults, last-used definitions and the definition stored in an NXstxm
/// file; <c>/api/focus</c>: the focus calibration, set directly or from a focus scan.
/// </summary>
public static class DefinitionApi
{
    /// <summary>Maps the scan-definition endpoints.</summary>
    public static IEndpointRouteBuilder MapDefinitionApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/scan-definitions").WithTags("Scan definitions");
        group.MapGet("/types", () => TypedResults.Ok(ScanTypes.All)).WithName("ScanTypes").WithSummary("The fifteen scan types and what each drives");
        group.MapGet("/default/{type}", (ScanType type) => TypedResults.Ok(ScanRequest.Default(type))).WithName("DefaultDefinition");
        group.MapGet("/last/{type}", LastUsed).WithName("LastUsedDefinition").WithSummary("The caller's last-started request of a type");
        group.MapGet("/from-file", FromFile).WithName("DefinitionFromFile").WithSummary("The request stored in an NXstxm file under the data directory");
        return app;
    }

    /// <summary>Maps the focus endpoints.</summary>
    public static IEndpointRouteBuilder MapFocusApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/focus").WithTags("Focus");
        group.MapGet("/", Get).WithName("GetFocus");
        group.MapPut("/", Set).WithName("SetFocus").WithSummary("Apply a focus calibration; the zone plate moves to the new focus");
        group.MapGet("/suggest/{runId:guid}", (Guid runId, ControlService control) =>
            control.SuggestFocus(runId) is { } suggestion ? Results.Ok(suggestion) : Results.NotFound())
            .WithName("SuggestFocus").WithSummary("The zone-plate Z of a finished focus scan's sharpest row");
        group.MapPost("/from-scan", FromScan).WithName("SetFocusFromScan").WithSummary("The row at zpz of a focus scan is the focus");
        return app;
    }

    internal static Results<Ok<ScanRequest>, NotFound> LastUsed(ScanType type, ScanDefinitionStore store, HttpContext context) =>
        store.LastUsed(Caller.FromHttp(context).Name, type) is { } request ? TypedResults.Ok(request) : TypedResults.NotFound();

    internal static Results<Ok<ScanRequest>, ValidationProblem, NotFound> FromFile(string path, ControlService control)
    {
        // Only files under the data directory: the API must not read arbitrary paths on the server.
        var (full, problem) = FileApi.InDataDirectory(path, control);
        if (problem is not null)
        {
            return problem;
        }

        if (!File.Exists(full))
        {
            return TypedResults.NotFound();
        }

        try
        {
            return TypedResults.Ok(ScanDefinitionStore.FromNexusFile(full!));
        }
        catch (InvalidDataException ex)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["path"] = [ex.Message] });
        }
    }

    internal static Results<Ok<FocusResponse>, NotFound> Get(ControlService control)
    {
        if (control.Instrument.Focus is not { } focus)
        {
            return TypedResults.NotFound();
        }

        var energy = control.Instrument.Energy.Status.Position;
        return TypedResults.Ok(new FocusResponse(focus.Settings, focus.ZonePlate, focus.Osa,
            FocusGeometry.A0Max(focus.Osa.DiameterUm, focus.ZonePlate.A1, energy, focus.ZonePlate.DiameterUm),
            FocusGeometry.FocalLength(focus.ZonePlate.A1, energy)));
    }

    internal static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Set(FocusSettings settings, ControlService control, HttpContext context) =>
        ScanApi.NoContentOr(await control.SetFocusAsync(settings, Caller.FromHttp(context)).ConfigureAwait(false));

    internal static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> FromScan(FocusFromScan body, ControlService control, HttpContext context) =>
        ScanApi.NoContentOr(await control.SetFocusFromScanAsync(body.RunId, body.Zpz, Caller.FromHttp(context)).ConfigureAwait(false));
}
