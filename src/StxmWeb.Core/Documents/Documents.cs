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
public abstract record Document(Guid RunId);

/// <summary>The run begins: what was asked, when, by whom and where its file goes.</summary>
/// <param name="RunId">Unique run id.</param>
/// <param name="ScanId">Sequential scan number of the day (the NNN of the file name).</param>
/// <param name="Request">The validated request.</param>
/// <param name="Time">Start time.</param>
/// <param name="User">Who started it.</param>
/// <param name="FilePath">Absolute path of the NXstxm file.</param>
public sealed record RunStart(Guid RunId, int ScanId, SampleImageRequest Request, DateTimeOffset Time, string User, string FilePath) : Document(RunId);

/// <summary>An axis of a data stream: its name (as written in the file), units and setpoints.</summary>
/// <param name="Name">Dataset name, e.g. <c>sample_x</c>.</param>
/// <param name="Units">Units attribute.</param>
/// <param name="Values">Setpoints along the axis.</param>
public sealed record Axis(string Name, string Units, double[] Values);

/// <summary>What a stream holds: detector, data shape (slowest first) and the axes along each dimension.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Detector">Detector name (NXdata group), e.g. <c>counter0</c>.</param>
/// <param name="Units">Units of the detector values.</param>
/// <param name="Shape">Data shape, slowest dimension first: (energies, rows, columns) for images.</param>
/// <param name="Axes">One axis per dimension, in data order.</param>
/// <param name="EnergyEv">Energies of the first dimension.</param>
/// <param name="DwellMs">Dwell per pixel.</param>
/// <param name="EstimatedDuration">The plan's estimate of the whole run.</param>
public sealed record Descriptor(Guid RunId, string Detector, string Units, int[] Shape, Axis[] Axes, double[] EnergyEv, double DwellMs, TimeSpan EstimatedDuration) : Document(RunId);

/// <summary>
/// A chunk of new data: a line segment of <see cref="Values"/> at (<see cref="Plane"/>, <see cref="Row"/>,
/// <see cref="Column"/>...). Only new pixels travel.
/// </summary>
/// <param name="RunId">The run.</param>
/// <param name="Sequence">1-based sequence number within the run.</param>
/// <param name="Plane">Index along the first (energy) dimension.</param>
/// <param name="Row">Row index.</param>
/// <param name="Column">First column of the segment.</param>
/// <param name="Values">Detector values.</param>
/// <param name="Time">When the segment was acquired.</param>
/// <param name="RingCurrent">Storage-ring current during the segment, mA.</param>
public sealed record Frame(Guid RunId, int Sequence, int Plane, int Row, int Column, double[] Values, DateTimeOffset Time, double RingCurrent) : Document(RunId);

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
public sealed record RunStop(Guid RunId, ExitStatus Status, string Reason, DateTimeOffset Time, int Frames) : Document(RunId);

/// <summary>A consumer of the document stream. Called in order, one document at a time, from one task.</summary>
public interface IDocumentConsumer
{
    /// <summary>Handles one document. Exceptions end the consumer's part in the run, not the run.</summary>
    ValueTask ConsumeAsync(Document document, CancellationToken cancellationToken);
}
