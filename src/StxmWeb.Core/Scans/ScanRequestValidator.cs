using System.Globalization;
using StxmWeb.Core.Plans;

namespace StxmWeb.Core.Scans;

/// <summary>One problem found in a request, with the path of the field it concerns (e.g. <c>x.points</c>).</summary>
/// <param name="Field">JSON path of the field, camelCase, dot-separated.</param>
/// <param name="Message">What is wrong and what is allowed, in words a user understands.</param>
public sealed record FieldProblem(string Field, string Message);

/// <summary>Travel limits of one positioner, in its units.</summary>
/// <param name="Low">Lowest reachable position.</param>
/// <param name="High">Highest reachable position.</param>
public readonly record struct Limits(double Low, double High)
{
    /// <summary>Whether <paramref name="value"/> lies within the limits, both ends included.</summary>
    public bool Contains(double value) => value >= Low && value <= High;

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"[{Low:G6}, {High:G6}]");
}

/// <summary>What the validator must know of the instrument: the stage and energy ranges and the allowed dwell.</summary>
/// <param name="SampleX">Fine sample X travel, µm.</param>
/// <param name="SampleY">Fine sample Y travel, µm.</param>
/// <param name="Energy">Energy range, eV.</param>
/// <param name="DwellMs">Dwell range, ms.</param>
/// <param name="MaxPointsPerAxis">Largest number of points along one axis.</param>
public sealed record InstrumentLimits(Limits SampleX, Limits SampleY, Limits Energy, Limits DwellMs, int MaxPointsPerAxis = 10_000)
{
    /// <summary>Kinematics of the fast axis; when given, line mode is checked for velocity and run-up room.</summary>
    public AxisKinematics? FastAxis { get; init; }
}

/// <summary>
/// Checks a request against itself and the instrument. Returns every problem at once, each with its field path, so an
/// editor can show it beside the field and the API can return it as problem details. An empty list means valid.
/// </summary>
public static class ScanRequestValidator
{
    /// <summary>Every problem of a sample-image request; empty when it may run.</summary>
    public static IReadOnlyList<FieldProblem> Validate(SampleImageRequest? request, InstrumentLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var problems = new List<FieldProblem>();
        if (request is null)
        {
            problems.Add(new("", "A scan request is required."));
            return problems;
        }

        if (request.ScanType != ScanType.SampleImage)
        {
            problems.Add(new("scanType", $"This request form runs sample images; got {request.ScanType}."));
        }

        ValidateAxis(problems, "x", request.X, limits.SampleX, limits.MaxPointsPerAxis);
        ValidateAxis(problems, "y", request.Y, limits.SampleY, limits.MaxPointsPerAxis);

        if (!double.IsFinite(request.DwellMs) || !limits.DwellMs.Contains(request.DwellMs))
        {
            problems.Add(new("dwellMs", Invariant($"Dwell must be between {limits.DwellMs.Low:G6} and {limits.DwellMs.High:G6} ms; got {request.DwellMs:G6}.")));
        }

        if (!double.IsFinite(request.EnergyEv) || !limits.Energy.Contains(request.EnergyEv))
        {
            problems.Add(new("energyEv", Invariant($"Energy must be between {limits.Energy.Low:G6} and {limits.Energy.High:G6} eV; got {request.EnergyEv:G6}.")));
        }

        if (!Enum.IsDefined(request.Mode))
        {
            problems.Add(new("mode", "Mode must be PointByPoint or Line."));
        }

        if (problems.Count == 0 && request.Mode == AcquisitionMode.Line && limits.FastAxis is { } fast
            && SampleImagePlan.FlyGeometry(request, fast) is { } fly)
        {
            if (fly.Velocity > fast.Velocity)
            {
                problems.Add(new("dwellMs", Invariant(
                    $"Line mode at this step and dwell needs the X stage at {fly.Velocity:G4} µm/s, above its {fast.Velocity:G4} µm/s; lengthen the dwell, add points or use point by point.")));
            }
            else if (!limits.SampleX.Contains(fly.RunUp) || !limits.SampleX.Contains(fly.RunOut))
            {
                problems.Add(new("x.range", Invariant(
                    $"Line mode needs room to accelerate: the stage would travel {fly.RunUp:G6} to {fly.RunOut:G6} µm, outside {limits.SampleX} µm. Move the centre inward or use point by point.")));
            }
        }

        if (request.Title is { Length: > 200 })
        {
            problems.Add(new("title", "Title must be at most 200 characters."));
        }

        return problems;
    }

    private static void ValidateAxis(List<FieldProblem> problems, string name, AxisRegion? axis, Limits travel, int maxPoints)
    {
        if (axis is null)
        {
            problems.Add(new(name, $"The {name} axis is required."));
            return;
        }

        if (axis.Points < 1)
        {
            problems.Add(new($"{name}.points", Invariant($"Number of points must be at least 1; got {axis.Points}.")));
        }
        else if (axis.Points > maxPoints)
        {
            problems.Add(new($"{name}.points", Invariant($"Number of points must be at most {maxPoints}; got {axis.Points}.")));
        }

        if (!double.IsFinite(axis.Center))
        {
            problems.Add(new($"{name}.center", "Centre must be a finite number."));
        }

        if (!double.IsFinite(axis.Range) || axis.Range < 0)
        {
            problems.Add(new($"{name}.range", "Range must be a finite number, zero or more."));
        }
        else if (axis.Points > 1 && axis.Range == 0)
        {
            problems.Add(new($"{name}.range", "Range must be greater than zero when there is more than one point."));
        }

        if (double.IsFinite(axis.Center) && double.IsFinite(axis.Range) && axis.Range >= 0
            && (!travel.Contains(axis.Start) || !travel.Contains(axis.Stop)))
        {
            problems.Add(new($"{name}.range", Invariant(
                $"The scan reaches {axis.Start:G6} to {axis.Stop:G6} µm, outside the stage limits {travel} µm.")));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
