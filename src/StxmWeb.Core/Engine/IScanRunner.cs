using StxmWeb.Core.Documents;
using StxmWeb.Core.Plans;

namespace StxmWeb.Core.Engine;

/// <summary>
/// Runs one scan at a time and turns it into the document stream. The <see cref="ScanEngine"/> interprets a plan against
/// the instrument's devices; a backend whose controller runs scans itself (Pixelator) hands the request to the controller
/// and turns what it publishes into the same documents. Either way: RunStart, Descriptor, Frames, one RunStop, always.
/// </summary>
public interface IScanRunner
{
    /// <summary>The current state.</summary>
    EngineState State { get; }

    /// <summary>The latest progress.</summary>
    EngineProgress Progress { get; }

    /// <summary>Raised whenever progress or state changes (any thread).</summary>
    event Action<EngineProgress>? ProgressChanged;

    /// <summary>
    /// Runs the scan of <paramref name="start"/> to its end, publishing <paramref name="start"/>, <paramref name="descriptor"/>,
    /// every frame and the closing <see cref="RunStop"/> to <paramref name="sink"/>; returns that RunStop.
    /// <paramref name="plan"/> is StxmWeb's plan of the request (a runner whose controller plans for itself ignores it).
    /// </summary>
    Task<RunStop> RunAsync(RunStart start, Descriptor descriptor, IEnumerable<Msg> plan, PlanKinematics kinematics, IDocumentSink sink, CancellationToken cancellationToken = default);

    /// <summary>Asks the run to pause at the next line. False when nothing runs.</summary>
    bool Pause();

    /// <summary>Resumes a paused run. False when it was not paused.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1716", Justification = "Resume is the scan's verb everywhere in StxmWeb (API, UI, the controller's resumeScan); no VB implementer.")]
    bool Resume();

    /// <summary>Aborts the run, which ends as aborted with <paramref name="reason"/>. False when idle.</summary>
    bool Abort(string reason);

    /// <summary>Ends the run as failed with <paramref name="reason"/> (something outside the scan failed). False when idle.</summary>
    bool Fail(string reason);
}
