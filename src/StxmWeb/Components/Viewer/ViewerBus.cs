namespace StxmWeb.Components.Viewer;

/// <summary>A point picked on the viewer's image: the axes' names (as in the file) and values there.</summary>
/// <param name="XAxis">Fast axis name, e.g. <c>sample_x</c>.</param>
/// <param name="X">Its value.</param>
/// <param name="YAxis">Slow axis name, e.g. <c>sample_y</c> or <c>zpz</c>.</param>
/// <param name="Y">Its value.</param>
public sealed record PickedPoint(string XAxis, double X, string YAxis, double Y);

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

    /// <summary>Raised when a file is to be shown in the viewer: its path on the server.</summary>
    public event Action<string>? OpenRequested;

    /// <summary>Asks the viewer to open a file.</summary>
    public void Open(string path) => OpenRequested?.Invoke(path);
}
