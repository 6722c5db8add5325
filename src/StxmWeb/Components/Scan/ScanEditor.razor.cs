using System.Globalization;
using StxmWeb.Core.Engine;
using StxmWeb.Core.Scans;
using StxmWeb.Services;

namespace StxmWeb.Components.Scan;

/// <summary>
/// The sample-image editor: every field validated as you type (errors beside the field, by field path), the plan's
/// time estimate, and Start / Pause / Resume / Abort. Start is disabled while a scan runs, while the request has
/// problems, and until the circuit is interactive (a click before that would be lost).
/// </summary>
public sealed partial class ScanEditor
{
    private double _xCenter = SampleImageRequest.Default.X.Center;
    private double _xRange = SampleImageRequest.Default.X.Range;
    private int _xPoints = SampleImageRequest.Default.X.Points;
    private double _yCenter = SampleImageRequest.Default.Y.Center;
    private double _yRange = SampleImageRequest.Default.Y.Range;
    private int _yPoints = SampleImageRequest.Default.Y.Points;
    private double _energy = SampleImageRequest.Default.EnergyEv;
    private double _dwell = SampleImageRequest.Default.DwellMs;
    private AcquisitionMode _mode = SampleImageRequest.Default.Mode;
    private string? _title;
    private IReadOnlyList<FieldProblem> _problems = [];
    private TimeSpan _estimate;
    private string? _commandError;

    private EngineState State => Control.Progress.State;

    private bool Locked => State != EngineState.Idle;

    private bool CanStart => RendererInfo.IsInteractive && State == EngineState.Idle && _problems.Count == 0;

    /// <summary>The request the fields describe now.</summary>
    public SampleImageRequest Request => new(new AxisRegion(_xCenter, _xRange, _xPoints), new AxisRegion(_yCenter, _yRange, _yPoints), _dwell, _energy, _mode)
    {
        Title = string.IsNullOrWhiteSpace(_title) ? null : _title,
    };

    /// <inheritdoc />
    protected override void OnInitialized()
    {
        Control.Changed += OnControlChanged;
        Revalidate();
    }

    private void Set(Action assign)
    {
        assign();
        Revalidate();
    }

    private void Revalidate()
    {
        var request = Request;
        _problems = Control.Validate(request);
        _estimate = _problems.Count == 0 ? Control.Estimate(request) : TimeSpan.Zero;
    }

    private bool Has(string field) => _problems.Any(p => p.Field == field);

    private string? Message(string field) =>
        _problems.Where(p => p.Field == field).Select(p => p.Message).FirstOrDefault();

    private Task StartAsync()
    {
        var result = Control.StartScan(Request, Caller.From(null, "ui"));
        _commandError = result.Accepted ? null : string.Join(" ", result.Problems.Select(p => p.Message));
        if (!result.Accepted && !result.Conflict)
        {
            _problems = result.Problems;
        }

        return Task.CompletedTask;
    }

    private void Pause() => Report(Control.Pause(Caller.From(null, "ui")));

    private void Resume() => Report(Control.Resume(Caller.From(null, "ui")));

    private void Abort() => Report(Control.Abort(Caller.From(null, "ui")));

    private void Report(CommandResult result) =>
        _commandError = result.Accepted ? null : string.Join(" ", result.Problems.Select(p => p.Message));

    private void OnControlChanged() => _ = InvokeAsync(StateHasChanged);

    internal static string Format(TimeSpan span) =>
        span.TotalHours >= 1 ? span.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : span.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    private static string Step(double range, int points) =>
        points > 1 ? (range / (points - 1)).ToString("0.###", CultureInfo.InvariantCulture) : "—";

    /// <inheritdoc />
    public void Dispose() => Control.Changed -= OnControlChanged;
}
