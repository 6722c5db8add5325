using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.JSInterop;
using StxmWeb.Nexus.Import;
using StxmWeb.Nexus.Reading;
using StxmWeb.Services;

namespace StxmWeb.Components.Viewer;

/// <summary>
/// The image viewer: the live scan as its lines arrive (live-viewer.js, fed by the hub), or a file opened from the run
/// history or uploaded (StxmWeb's, pyStxm's, hand-made; a .json of pyStxm's Bluesky runs is imported first), one entry
/// and one energy plane at a time: the server reads the plane and sends it as float32.
/// </summary>
public sealed partial class ImageViewer
{
    private static readonly string[] Colormaps = ["gray", "viridis", "inferno", "cividis"];

    [Inject] private IJSRuntime JS { get; set; } = null!;

    [Inject] private ViewerBus Bus { get; set; } = null!;

    [Inject] private ViewerFiles Files { get; set; } = null!;

    [Inject] private ILogger<ImageViewer> Logger { get; set; } = null!;

    private ElementReference _host;
    private IJSObjectReference? _module;
    private IJSObjectReference? _viewer;
    private string _colormap = "gray";
    private DotNetObjectReference<ImageViewer>? _self;
    private ViewableFile? _file;
    private int _entry;
    private int _plane;
    private string? _busy;
    private double _progress = -1;
    private string? _error;
    private string _contrast = "auto";
    private double _contrastLo;
    private double _contrastHi;

    protected override void OnInitialized() => Bus.OpenRequested += OnOpenRequested;

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender)
        {
            _module = await JS.InvokeAsync<IJSObjectReference>("import", "./js/live-viewer.js");
            _self = DotNetObjectReference.Create(this);
            _viewer = await _module.InvokeAsync<IJSObjectReference>("attach", _host, "/hubs/live", _colormap, _self);
        }
    }

    /// <summary>Called by the viewer when the image is clicked: both axes' names and values there.</summary>
    [JSInvokable]
    public void Picked(string xAxis, double x, string yAxis, double y) => Bus.Pick(new PickedPoint(xAxis, x, yAxis, y));

    private void OnOpenRequested(string path) => _ = InvokeAsync(() => OpenAsync(path));

    /// <summary>Opens a file on the server into the viewer.</summary>
    private async Task OpenAsync(string path)
    {
        _error = null;
        _busy = $"opening {Path.GetFileName(path)}";
        _progress = -1;
        StateHasChanged();
        try
        {
            var file = await Task.Run(() => NexusImageReader.Open(path));
            _file = file;
            _entry = Math.Max(0, file.Entries.ToList().FindIndex(e => e.Name == file.DefaultEntry));
            _plane = 0;
            if (_viewer is not null)
            {
                await _viewer.InvokeVoidAsync("showFile", Describe(file));
            }

            await SendPlaneAsync();
        }
        catch (InvalidDataException ex)
        {
            _error = ex.Message;
        }
        finally
        {
            _busy = null;
        }

        StateHasChanged();
    }

    /// <summary>What the browser needs of a file: per entry its shape, axes, energies, scan type and angle.</summary>
    private static object Describe(ViewableFile file) => new
    {
        runId = "file:" + file.Path,
        fileName = Path.GetFileName(file.Path),
        units = file.Entries[0].Units,
        entries = file.Entries.Select(e => new
        {
            name = e.Name,
            shape = e.Shape,
            axes = e.Axes.Select(a => new { name = a.Name, units = a.Units, values = a.Values }),
            energy = e.Energy,
            stxmScanType = e.StxmScanType,
            rotationAngle = e.RotationAngle ?? 0,
        }),
    };

    /// <summary>Reads the entry's current plane and sends it to the browser as little-endian float32.</summary>
    private async Task SendPlaneAsync()
    {
        if (_file is not { } file || _viewer is null)
        {
            return;
        }

        var entry = file.Entries[_entry];
        var plane = _plane;
        var values = await Task.Run(() => NexusImageReader.ReadPlane(file.Path, entry, plane));
        var floats = new float[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            floats[i] = (float)values[i];
        }

        var bytes = MemoryMarshal.AsBytes(floats.AsSpan()).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The viewer sends little-endian float32.");
        }

        await _viewer.InvokeVoidAsync("setPlane", _entry, plane, bytes);
    }

    private async Task UploadAsync(InputFileChangeEventArgs e)
    {
        var upload = e.File;
        _error = null;
        if (upload.Size > ViewerFiles.MaxUpload)
        {
            _error = $"{upload.Name} is {upload.Size / 1e9:0.0} GB; the viewer takes files up to {ViewerFiles.MaxUpload / (1L << 30)} GiB.";
            return;
        }

        var total = Math.Max(1, upload.Size);
        _busy = $"uploading {upload.Name}";
        _progress = 0;
        var lastShown = DateTime.MinValue;
        var progress = new Progress<long>(copied =>
        {
            _progress = (double)copied / total;
            if (DateTime.UtcNow - lastShown > TimeSpan.FromMilliseconds(200))
            {
                lastShown = DateTime.UtcNow;
                _busy = $"uploading {upload.Name}: {copied / 1e6:0.0} of {total / 1e6:0.0} MB";
                _ = InvokeAsync(StateHasChanged);
            }
        });
        string path;
        try
        {
            await using var stream = upload.OpenReadStream(ViewerFiles.MaxUpload);
            path = await Files.SaveAsync(stream, upload.Name, progress, CancellationToken.None);
        }
        catch (Exception ex) when (ex is BlueskyImportException or IOException or UnauthorizedAccessException)
        {
            LogUploadRefused(Logger, upload.Name, ex);
            _busy = null;
            _error = $"{upload.Name}: {ex.Message}";
            return;
        }

        await OpenAsync(path);
    }

    private async Task OnEntryAsync(ChangeEventArgs e)
    {
        if (_file is null || !int.TryParse(e.Value?.ToString(), out var index) || index < 0 || index >= _file.Entries.Count)
        {
            return;
        }

        _entry = index;
        _plane = Math.Min(_plane, _file.Entries[index].Planes - 1);
        await SendPlaneAsync();
    }

    private async Task OnPlaneAsync(ChangeEventArgs e)
    {
        if (_file is null || !int.TryParse(e.Value?.ToString(), out var plane) || plane < 0 || plane >= _file.Entries[_entry].Planes)
        {
            return;
        }

        _plane = plane;
        await SendPlaneAsync();
    }

    private static string PlaneLabel(ViewableEntry entry) => entry.Axes[0].Name == "energy" ? "Energy" : entry.Axes[0].Name;

    private static string PlaneText(ViewableEntry entry, int plane)
    {
        var axis = entry.Axes[0];
        var value = plane < axis.Values.Length ? axis.Values[plane] : plane;
        var units = string.IsNullOrEmpty(axis.Units) ? "" : " " + axis.Units;
        return $"{value.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}{units} ({plane + 1}/{entry.Planes})";
    }

    private async Task ShowLiveAsync()
    {
        _file = null;
        _error = null;
        if (_viewer is not null)
        {
            await _viewer.InvokeVoidAsync("showLive");
        }
    }

    private async Task OnColormapAsync(ChangeEventArgs e)
    {
        _colormap = e.Value?.ToString() ?? "gray";
        if (_viewer is not null)
        {
            await _viewer.InvokeVoidAsync("setColormap", _colormap);
        }
    }

    private async Task OnContrastAsync(ChangeEventArgs e)
    {
        var contrast = e.Value?.ToString() is "p1" or "manual" ? e.Value.ToString()! : "auto";
        if (_viewer is not null)
        {
            // A switch to manual starts from the limits in force (the fields appear with them, not with zeros).
            var limits = await _viewer.InvokeAsync<double[]>("setContrast", contrast, null, null);
            (_contrastLo, _contrastHi) = (limits[0], limits[1]);
        }

        _contrast = contrast;
    }

    private Task OnContrastLoAsync(ChangeEventArgs e) => SetManualAsync(e, low: true);

    private Task OnContrastHiAsync(ChangeEventArgs e) => SetManualAsync(e, low: false);

    private async Task SetManualAsync(ChangeEventArgs e, bool low)
    {
        if (!double.TryParse(e.Value?.ToString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value)
            || !double.IsFinite(value))
        {
            return; // the field keeps the last number; a browser's number input sends only numbers
        }

        if (low)
        {
            _contrastLo = value;
        }
        else
        {
            _contrastHi = value;
        }

        if (_viewer is not null)
        {
            var limits = await _viewer.InvokeAsync<double[]>("setContrast", "manual", _contrastLo, _contrastHi);
            (_contrastLo, _contrastHi) = (limits[0], limits[1]);
        }
    }

    private static string Format(double value) => value.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);

    private async Task OnToolAsync(ChangeEventArgs e)
    {
        if (_viewer is not null)
        {
            await _viewer.InvokeVoidAsync("setTool", e.Value?.ToString() is "line" or "region" ? e.Value.ToString() : "pick");
        }
    }

    private async Task OnStreamAsync(ChangeEventArgs e)
    {
        if (_viewer is not null)
        {
            await _viewer.InvokeVoidAsync("setStream", e.Value?.ToString() is "fit" or "fit16" or "fit8" ? e.Value.ToString() : "full");
        }
    }

    private async Task FitAsync()
    {
        if (_viewer is not null)
        {
            await _viewer.InvokeVoidAsync("resetView");
        }
    }

    /// <summary>Called by the viewer when a line is drawn with the line tool: the fast axis and both ends.</summary>
    [JSInvokable]
    public void LineDrawn(string xAxis, double x0, double y0, double x1, double y1, string yAxis) =>
        Bus.DrawLine(new DrawnLine(xAxis, yAxis, x0, y0, x1, y1));

    /// <summary>Called by the viewer when a rectangle is drawn with the region tool: centre and range of both axes.</summary>
    [JSInvokable]
    public void RegionDrawn(string xAxis, double xCenter, double xRange, string yAxis, double yCenter, double yRange) =>
        Bus.DrawRegion(new DrawnRegion(xAxis, xCenter, xRange, yAxis, yCenter, yRange));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upload {Name} could not be opened")]
    private static partial void LogUploadRefused(ILogger logger, string name, Exception exception);

    public async ValueTask DisposeAsync()
    {
        Bus.OpenRequested -= OnOpenRequested;
        try
        {
            if (_viewer is not null)
            {
                await _viewer.InvokeVoidAsync("dispose");
                await _viewer.DisposeAsync();
            }

            if (_module is not null)
            {
                await _module.DisposeAsync();
            }

            _self?.Dispose();
        }
        catch (JSDisconnectedException)
        {
            // The browser is gone; nothing to clean up there.
        }
    }
}
