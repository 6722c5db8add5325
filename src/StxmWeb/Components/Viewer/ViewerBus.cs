namespace StxmWeb.Components.Viewer;

/// <summary>Per-browser events from the image viewer: a click on a row (e.g. a focus scan's zone-plate Z row).</summary>
public sealed class ViewerBus
{
    /// <summary>Raised with the slow axis' name and value of the row clicked.</summary>
    public event Action<string, double>? RowClicked;

    /// <summary>Reports a click on a row.</summary>
    public void ClickRow(string axis, double value) => RowClicked?.Invoke(axis, value);
}
