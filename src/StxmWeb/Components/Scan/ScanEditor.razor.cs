using System.Globalization;
using System.Text.Json;
using StxmWeb.Core.Engine;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Services;

namespace StxmWeb.Components.Scan;

/// <summary>
/// The scan editor for every scan type: a type selector, the fields and tables of the type's family (regions, line,
/// zone-plate Z, points, positioners, angles, pattern, energy and polarization regions), every field validated as you
/// type (errors beside the field, by field path, and listed under the estimate), the plan's time estimate, Start /
/// Pause / Resume / Abort, and the scan definition as JSON. Each type opens with the user's last-used settings.
/// </summary>
public sealed partial class ScanEditor
{
    private ScanForm _form = ScanForm.From(ScanRequest.Default(ScanType.SampleImage));
    private IReadOnlyList<FieldProblem> _problems = [];
    private TimeSpan _estimate;
    private long _points;
    private string? _commandError;
    private string? _definitionText;

    private EngineState State => Control.Progress.State;

    private bool Locked => State != EngineState.Idle;

    private bool CanStart => RendererInfo.IsInteractive && State == EngineState.Idle && _problems.Count == 0;

    /// <summary>The request the fields describe now.</summary>
    public ScanRequest Request => _form.ToRequest();

    /// <inheritdoc />
    protected override void OnInitialized()
    {
        Control.Changed += OnControlChanged;
        Bus.LoadRequested += OnLoadRequested;
        Bus.ToolApplied += OnToolApplied;
        Bus.RegionApplied += OnRegionApplied;
        _form = ScanForm.From(Definitions.LastUsed(User, ScanType.SampleImage) ?? Defaults(ScanType.SampleImage));
        Revalidate();
    }

    private static string User => Caller.From(null, "ui").Name;

    private void Set(Action assign)
    {
        assign();
        Revalidate();
    }

    private void ChangeType(ScanType type)
    {
        var title = _form.Title;
        _form = ScanForm.From(Definitions.LastUsed(User, type) ?? Defaults(type));
        _form.Title ??= title;
        Revalidate();
    }

    private void ResetToDefaults()
    {
        _form = ScanForm.From(Defaults(_form.Type));
        Revalidate();
    }

    /// <summary>The type's defaults, with focus scans centred on where the zone plate stands now.</summary>
    private ScanRequest Defaults(ScanType type)
    {
        var request = ScanRequest.Default(type);
        if (request.ZonePlateZ is { } z && Control.Instrument.Find(Roles.ZonePlateZ) is { } zpz)
        {
            // The sample is in focus where the zone plate stands; the OSA plane lies A0 upstream of it.
            var a0 = Control.Instrument.Focus?.Settings is { } focus ? focus.A0 + focus.DeltaA0 : 0;
            var centre = type == ScanType.OsaFocus ? zpz.Status.Position - a0 : zpz.Status.Position;
            request = request with { ZonePlateZ = z with { Center = Math.Round(centre, 1) } };
        }

        return request;
    }

    private void AddRegion() => Set(() =>
    {
        var last = _form.Regions[^1];
        _form.Regions.Add(new RegionRow
        {
            XCenter = last.XCenter + last.XRange, XRange = last.XRange, XPoints = last.XPoints,
            YCenter = last.YCenter, YRange = last.YRange, YPoints = last.YPoints,
        });
    });

    private void AddEnergyRegion() => Set(() =>
    {
        var last = _form.Energies[^1];
        _form.Energies.Add(new EnergyRow { Start = last.Stop + 1, Stop = last.Stop + 10, Points = 10, DwellMs = last.DwellMs });
    });

    private void Revalidate()
    {
        var request = Request;
        _problems = Control.Validate(request);
        (_estimate, _points) = _problems.Count == 0 ? Control.Estimate(request) : (TimeSpan.Zero, 0);
    }

    private bool Has(string field) => _problems.Any(p => p.Field == field);

    private string? Message(string field) =>
        _problems.Where(p => p.Field == field).Select(p => p.Message).FirstOrDefault();

    private Task StartAsync()
    {
        var result = Control.StartScan(Request, Caller.From(null, User));
        _commandError = result.Accepted ? null : string.Join(" ", result.Problems.Select(p => p.Message));
        if (!result.Accepted && !result.Conflict)
        {
            _problems = result.Problems;
        }

        return Task.CompletedTask;
    }

    private void AddToQueue()
    {
        var result = Queue.Add(Request, Caller.From(null, User));
        _commandError = result.Accepted ? null : string.Join(" ", result.Problems.Select(p => p.Message));
    }

    private void OnLoadRequested(ScanRequest request) => _ = InvokeAsync(() =>
    {
        _form = ScanForm.From(request);
        _commandError = null;
        Revalidate();
        StateHasChanged();
    });

    /// <summary>A point picked on a sample image fills the editor (pyStxm's point, line and centre tools).</summary>
    private void OnToolApplied(EditorTool tool, string xAxis, double x, double y) => _ = InvokeAsync(() =>
    {
        switch (tool)
        {
            case EditorTool.AddSpectrumPoint:
                if (_form.Type != ScanType.SamplePointSpectrum)
                {
                    ChangeType(ScanType.SamplePointSpectrum);
                    _form.Points.Clear();
                }

                _form.Points.Add(new PointRow { X = x, Y = y });
                break;
            case EditorTool.LineStart or EditorTool.LineEnd:
                if (_form.Info.Family is not (ScanFamily.Focus or ScanFamily.LineSpectrum) || _form.Type == ScanType.OsaFocus)
                {
                    ChangeType(ScanType.SampleLineSpectrum);
                }

                if (tool == EditorTool.LineStart)
                {
                    (_form.Line.StartX, _form.Line.StartY) = (x, y);
                }
                else
                {
                    (_form.Line.StopX, _form.Line.StopY) = (x, y);
                }

                break;
            case EditorTool.CentreRegion:
                // The next raster of the stage that was picked (detector, OSA, sample...) is centred on the point.
                var rastersPicked = _form.Info.X is { } fast && ScanTypeInfo.AxisName(fast) == xAxis
                    && _form.Info.Family is ScanFamily.Image or ScanFamily.Tomography or ScanFamily.Pattern or ScanFamily.Ptychography;
                if (!rastersPicked)
                {
                    ChangeType(Viewer.PickTools.ImageTypeOf(xAxis) ?? ScanType.SampleImage);
                }

                (_form.Regions[0].XCenter, _form.Regions[0].YCenter) = (x, y);
                break;
        }

        Revalidate();
        StateHasChanged();
    });

    /// <summary>
    /// A rectangle drawn on an image becomes the region of the next raster of that stage (pyStxm's region tool): centre
    /// and range; the points keep their step where the editor had one, so a smaller region is not a coarser one.
    /// </summary>
    private void OnRegionApplied(string xAxis, double xCenter, double xRange, double yCenter, double yRange) => _ = InvokeAsync(() =>
    {
        var rastersPicked = _form.Info.X is { } fast && ScanTypeInfo.AxisName(fast) == xAxis
            && _form.Info.Family is ScanFamily.Image or ScanFamily.Tomography or ScanFamily.Pattern or ScanFamily.Ptychography;
        if (!rastersPicked)
        {
            ChangeType(Viewer.PickTools.ImageTypeOf(xAxis) ?? ScanType.SampleImage);
        }

        var region = _form.Regions[0];
        int Points(double oldRange, int oldPoints, double newRange) =>
            oldPoints > 1 && oldRange > 0 ? Math.Max(2, (int)Math.Round(newRange / (oldRange / (oldPoints - 1))) + 1) : oldPoints;
        (region.XPoints, region.YPoints) = (Points(region.XRange, region.XPoints, xRange), Points(region.YRange, region.YPoints, yRange));
        (region.XCenter, region.XRange, region.YCenter, region.YRange) = (xCenter, xRange, yCenter, yRange);
        Revalidate();
        StateHasChanged();
    });

    /// <summary>
    /// Loads a pattern file into the pattern generator: a <c>.xyt</c> list (its grid becomes the region, its exposures the
    /// map) or an image (GIF, PNG...: brightness is exposure, one pixel per scan pixel over the current region).
    /// </summary>
    private async Task LoadPatternAsync(Microsoft.AspNetCore.Components.Forms.InputFileChangeEventArgs e)
    {
        try
        {
            await using var stream = e.File.OpenReadStream(maxAllowedSize: 4_000_000);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer);
            var current = _form.ToRequest().Regions[0];
            var loaded = Path.GetExtension(e.File.Name).ToLowerInvariant() is ".xyt" or ".txt"
                ? PatternFile.ParseXyt(System.Text.Encoding.UTF8.GetString(buffer.ToArray()))
                : PatternImage.Load(buffer.ToArray(), current, _form.ExposureMs);
            var region = loaded.Region;
            _form.Regions[0] = new RegionRow
            {
                XCenter = Math.Round(region.X.Center, 4), XRange = Math.Round(region.X.Range, 4), XPoints = region.X.Points,
                YCenter = Math.Round(region.Y.Center, 4), YRange = Math.Round(region.Y.Range, 4), YPoints = region.Y.Points,
            };
            (_form.PatternKind, _form.ExposureMs, _form.PatternValues) = (PatternKind.Custom, loaded.Pattern.ExposureMs, loaded.Pattern.Values);
            _commandError = null;
            Revalidate();
        }
#pragma warning disable CA1031 // Whatever a user's file does wrong is shown beside the editor, never thrown at the circuit.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _commandError = $"{e.File.Name}: {ex.Message}";
        }
    }

    /// <summary>pyStxm's "Move OSA Out/In": the OSA stage to the configured out or in position.</summary>
    private void MoveOsa(double x, double y)
    {
        var caller = Caller.From(null, User);
        var results = new[] { Control.Move(Roles.OsaX, x, caller), Control.Move(Roles.OsaY, y, caller) };
        _commandError = results.All(r => r.Accepted) ? null : string.Join(" ", results.SelectMany(r => r.Problems).Select(p => p.Message));
    }

    private void ShowDefinition() => _definitionText = JsonSerializer.Serialize(Request, ScanDefinitionStore.Json);

    private void LoadDefinition()
    {
        try
        {
            var request = JsonSerializer.Deserialize<ScanRequest>(_definitionText ?? "", ScanDefinitionStore.Json)
                ?? throw new JsonException("The definition is empty.");
            _form = ScanForm.From(request);
            _commandError = null;
            Revalidate();
        }
        catch (JsonException ex)
        {
            _commandError = $"The definition is not a scan request: {ex.Message}";
        }
    }

    private void Pause() => Report(Control.Pause(Caller.From(null, User)));

    private void Resume() => Report(Control.Resume(Caller.From(null, User)));

    private void Abort() => Report(Control.Abort(Caller.From(null, User)));

    private void Report(CommandResult result) =>
        _commandError = result.Accepted ? null : string.Join(" ", result.Problems.Select(p => p.Message));

    private void OnControlChanged() => _ = InvokeAsync(StateHasChanged);

    internal static string Format(TimeSpan span) =>
        span.TotalHours >= 1 ? span.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : span.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    private static string Id(string name, int index) => index == 0 ? name : $"{name}-{index}";

    private static string AxisTitle(string? positioner, string what) => positioner is null ? what : $"{what}: {positioner} (µm)";

    private string LineLength() => string.Create(CultureInfo.InvariantCulture, $"length {_form.Line.ToLine().Length:0.##} µm");

    private static string Describe(ScanTypeInfo info) => info.Family switch
    {
        ScanFamily.Image when info.UsesEnergies => "images at each energy: contrast maps",
        ScanFamily.Image => $"raster of {info.X} × {info.Y}",
        ScanFamily.Focus => $"{info.X} line × zone-plate Z: the sharpest row is the focus",
        ScanFamily.PointSpectrum => "energy scan at fixed points",
        ScanFamily.LineSpectrum => "energy × a line across the sample",
        ScanFamily.Generic => "any positioner against the counter",
        ScanFamily.TwoVariable => "any two positioners against the counter",
        ScanFamily.Tomography => "images at a series of goniometer angles",
        ScanFamily.Pattern => "exposes a dose pattern into the sample",
        _ => "raster, counter at each point",
    };

    internal static string PolarizationLabel(Polarization mode) => mode switch
    {
        Polarization.CircLeft => "Circular left",
        Polarization.CircRight => "Circular right",
        Polarization.LinHor => "Linear horizontal",
        Polarization.IncVertMinus => "Inclined vertical −",
        Polarization.IncVertPlus => "Inclined vertical +",
        _ => "Linear inclined",
    };

    /// <inheritdoc />
    public void Dispose()
    {
        Control.Changed -= OnControlChanged;
        Bus.LoadRequested -= OnLoadRequested;
        Bus.ToolApplied -= OnToolApplied;
        Bus.RegionApplied -= OnRegionApplied;
    }
}
