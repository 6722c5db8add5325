using System.Text.Json.Serialization;
using StxmWeb.Core.Scans;

namespace StxmWeb.Core.Documents;

/// <summary>
/// The one stream of documents a run produces, in the spirit of bluesky's event model. The NeXus writer, the live
/// broadcaster and the run history all consume it; nothing else carries data.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(RunStart), "runStart")]
[JsonDerivedType(typeof(Descriptor), "descriptor")]
[JsonDerivedType(typeof(Frame), "frame")]
[JsonDerivedType(typeof(RunStop), "runStop")]
[JsonDerivedType(typeof(DetectorFrame), "detectorFrame")]
public abstract record Document(Guid RunId);

/// <summary>The run begins: what was asked, when, by whom and where its file goes.</summary>
/// <param name="RunId">Unique run id.</param>
/// <param name="ScanId">Sequential scan number of the day (the NNN of the file name).</param>
/// <param name="Request">The validated request.</param>
/// <param name="Time">Start time.</param>
/// <param name="User">Who started it.</param>
/// <param name="FilePath">Absolute path of the NXstxm file.</param>
public sealed record RunStart(Guid RunId, int ScanId, ScanRequest Request, DateTimeOffset Time, string User, string FilePath) : Document(RunId);

/// <summary>An axis of a data stream: its name (as written in the file), units and setpoints.</summary>
/// <param name="Name">Dataset name, e.g. <c>sample_x</c>.</param>
/// <param name="Units">Units attribute.</param>
/// <param name="Values">Setpoints along the axis.</param>
public sealed record Axis(string Name, string Units, double[] Values);

/// <summary>
/// One NXentry of a run: a spatial region, a point, a polarization or an angle (pyStxm writes one entry per each). Its
/// data shape (slowest first), the axes along each dimension and what stays fixed in it.
/// </summary>
/// <param name="Name">Entry name, <c>entry0</c>, <c>entry1</c>...</param>
/// <param name="Shape">Data shape, slowest first: (energies, rows, columns) for images; (energies) for a point spectrum.</param>
/// <param name="Axes">One axis per dimension, in data order (the NXdata <c>axes</c>).</param>
/// <param name="EnergyEv">The energies of the entry.</param>
/// <param name="DwellMs">Dwell at each energy, ms.</param>
/// <param name="StxmScanType">The <c>stxm_scan_type</c> string.</param>
public sealed record EntryDescriptor(string Name, int[] Shape, Axis[] Axes, double[] EnergyEv, double[] DwellMs, string StxmScanType)
{
    /// <summary>Datasets written beside the data that are not dimension axes (e.g. sample_x and sample_y of a line or point).</summary>
    public Axis[] Positions { get; init; } = [];

    /// <summary>The polarization of the entry, when the scan set one.</summary>
    public PolarizationSetting? Polarization { get; init; }

    /// <summary>Area-detector frames of the entry, one per point: the detector's name and (rows, columns) of a frame.</summary>
    public FrameLayout? Frames { get; init; }

    /// <summary>Sample rotation angle, degrees (tomography).</summary>
    public double RotationAngle { get; init; }

    /// <summary>Number of values in the entry.</summary>
    public long Size => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>What a run holds: its detector, scan type, every NXentry and the plan's estimate.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Detector">Detector name (NXdata group), e.g. <c>counter0</c>.</param>
/// <param name="Units">Units of the detector values.</param>
/// <param name="ScanType">The scan type.</param>
/// <param name="Entries">The entries, in file order.</param>
/// <param name="EstimatedDuration">The plan's estimate of the whole run.</param>
public sealed record Descriptor(Guid RunId, string Detector, string Units, ScanType ScanType, EntryDescriptor[] Entries, TimeSpan EstimatedDuration) : Document(RunId)
{
    /// <summary>Values in the whole run.</summary>
    public long TotalSize => Entries.Sum(e => e.Size);
}

/// <summary>
/// A chunk of new data: a line segment of <see cref="Values"/> at (<see cref="Entry"/>, <see cref="Plane"/>, <see cref="Row"/>,
/// <see cref="Column"/>...). Only new pixels travel.
/// </summary>
/// <param name="RunId">The run.</param>
/// <param name="Sequence">1-based sequence number within the run.</param>
/// <param name="Entry">Index of the entry.</param>
/// <param name="Plane">Index along the first (energy) dimension.</param>
/// <param name="Row">Row index.</param>
/// <param name="Column">First column of the segment.</param>
/// <param name="Values">Detector values.</param>
/// <param name="Time">When the segment was acquired.</param>
/// <param name="RingCurrent">Storage-ring current during the segment, mA.</param>
public sealed record Frame(Guid RunId, int Sequence, int Entry, int Plane, int Row, int Column, double[] Values, DateTimeOffset Time, double RingCurrent) : Document(RunId);

/// <summary>An area detector's frames in an entry: one frame per point of the entry's data, in data order.</summary>
/// <param name="Detector">Detector name (NXdetector group), e.g. <c>ccd0</c>.</param>
/// <param name="Height">Rows per frame.</param>
/// <param name="Width">Pixels per row.</param>
public sealed record FrameLayout(string Detector, int Height, int Width);

/// <summary>One area-detector frame, taken at point <paramref name="Index"/> (flat, in data order) of an entry.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Entry">Entry index.</param>
/// <param name="Index">Point index within the entry's data.</param>
/// <param name="Pixels">Height × Width values, row-major.</param>
public sealed record DetectorFrame(Guid RunId, int Entry, int Index, float[] Pixels) : Document(RunId);

/// <summary>How a run ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ExitStatus>))]
public enum ExitStatus
{
    /// <summary>Every point was acquired.</summary>
    Success,

    /// <summary>The user aborted it.</summary>
    Aborted,

    /// <summary>A device or the system failed; the reason says why.</summary>
    Failed,
}

/// <summary>The run ended: how, why, when, and how many frames it produced.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Status">Success, aborted or failed.</param>
/// <param name="Reason">Why it ended that way (empty for success).</param>
/// <param name="Time">End time.</param>
/// <param name="Frames">Number of frames emitted.</param>
public sealed record RunStop(Guid RunId, ExitStatus Status, string Reason, DateTimeOffset Time, int Frames) : Document(RunId)
{
    /// <summary>The file the backend's own controller wrote of the run (Pixelator), as the controller names it; null otherwise.</summary>
    public string? ControllerFile { get; init; }
}

/// <summary>A consumer of the document stream. Called in order, one document at a time, from one task.</summary>
public interface IDocumentConsumer
{
    /// <summary>Handles one document. Exceptions end the consumer's part in the run, not the run.</summary>
    ValueTask ConsumeAsync(Document document, CancellationToken cancellationToken);
}
