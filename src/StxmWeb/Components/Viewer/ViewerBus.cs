namespace StxmWeb.Components.Viewer;

/// <summary>A point picked on the viewer's image: the axes' names (as in the file) and values there.</summary>
/// <param name="XAxis">Fast axis name, e.g. <c>sample_x</c>.</param>
/// <param name="X">Its value.</param>
/// <param name="YAxis">Slow axis name, e.g. <c>sample_y</c> or <c>zpz</c>.</param>
/// <param name="Y">Its value.</param>
public sealed record PickedPoint(string XAxis, double X, string YAxis, double Y);

/// <summary>A line drawn on the viewer's image with the line tool: the axes and both ends.</summary>
public sealed record DrawnLine(string XAxis, string YAxis, double X0, double Y0, double X1, double Y1);

/// <summary>A rectangle drawn on the viewer's image with the region tool: the axes with centre and range.</summary>
public sealed record DrawnRegion(string XAxis, double XCenter, double XRange, string YAxis, double YCenter, double YRange);

/// <summary>
/// Per-browser events around the image viewer: a click on the image picks a point (and a row); a file is asked to be
/// opened in it (from the run history).
/// </summary>
public sealed class ViewerBus
{
    /// <summary>The last point picked.</summary>
    public PickedPoint? Picked { get; private set; }

    /// <summary>Raised when a point is picked.</summary>
    public event Action<PickedPoint>? PointPicked;

    /// <summary>Reports a click on the image.</summary>
    public void Pick(PickedPoint point)
    {
        Picked = point;
        PointPicked?.Invoke(point);
    }

    /// <summary>The last line drawn (line tool), until a point is picked or a region drawn.</summary>
    public DrawnLine? Line { get; private set; }

    /// <summary>The last rectangle drawn (region tool), until a point is picked or a line drawn.</summary>
    public DrawnRegion? Region { get; private set; }

    /// <summary>Raised when a line or a region is drawn.</summary>
    public event Action? ShapeDrawn;

    /// <summary>Reports a line drawn on the image.</summary>
    public void DrawLine(DrawnLine line)
    {
        (Line, Region) = (line, null);
        ShapeDrawn?.Invoke();
    }

    /// <summary>Reports a rectangle drawn on the image.</summary>
    public void DrawRegion(DrawnRegion region)
    {
        (Line, Region) = (null, region);
        ShapeDrawn?.Invoke();
    }

    /// <summary>The region whose spectrum the spectra panel follows during a stack (null: none).</summary>
    public DrawnRegion? SpectrumRegion { get; private set; }

    /// <summary>The background (I0) region of the optical density (null: none; the region's counts are shown).</summary>
    public DrawnRegion? BackgroundRegion { get; private set; }

    /// <summary>Raised when the spectrum or background region changes.</summary>
    public event Action? SpectrumRegionsChanged;

    /// <summary>Follows the spectrum of <paramref name="region"/> (null clears it and the background).</summary>
    public void FollowSpectrum(DrawnRegion? region)
    {
        SpectrumRegion = region;
        if (region is null)
        {
            BackgroundRegion = null;
        }

        SpectrumRegionsChanged?.Invoke();
    }

    /// <summary>Uses <paramref name="region"/> as the I0 region of the optical density.</summary>
    public void UseBackground(DrawnRegion? region)
    {
        BackgroundRegion = region;
        SpectrumRegionsChanged?.Invoke();
    }

    /// <summary>Raised when a file is to be shown in the viewer: its path on the server.</summary>
    public event Action<string>? OpenRequested;

    /// <summary>Asks the viewer to open a file.</summary>
    public void Open(string path) => OpenRequested?.Invoke(path);
}
