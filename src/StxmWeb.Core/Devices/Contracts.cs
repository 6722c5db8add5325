using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;

namespace StxmWeb.Core.Devices;

/// <summary>A positioner's state as a panel shows it.</summary>
/// <param name="Name">Device name (pyStxm DNM_ style without the prefix, e.g. <c>SampleFineX</c>).</param>
/// <param name="Position">Readback, in <paramref name="Units"/>.</param>
/// <param name="Setpoint">Last commanded target.</param>
/// <param name="IsMoving">Whether a move is under way.</param>
/// <param name="Units">Engineering units (µm, eV, ...).</param>
/// <param name="Limits">Soft limits.</param>
/// <param name="Fault">Last fault, if any (a move that was refused or failed).</param>
public sealed record PositionerStatus(string Name, double Position, double Setpoint, bool IsMoving, string Units, Limits Limits, string? Fault = null);

/// <summary>A device that moves: a motor, an energy, a polarization. Small on purpose (ophyd's Movable).</summary>
public interface IPositioner
{
    /// <summary>Unique device name.</summary>
    string Name { get; }

    /// <summary>Human description, e.g. "Fine sample X (piezo)".</summary>
    string Description { get; }

    /// <summary>Engineering units.</summary>
    string Units { get; }

    /// <summary>Soft limits; a move outside them is refused.</summary>
    Limits Limits { get; }

    /// <summary>The current readback and motion state.</summary>
    PositionerStatus Status { get; }

    /// <summary>
    /// Moves to <paramref name="target"/> and completes when the move is done. Throws <see cref="DeviceException"/>
    /// for a target past the limits or a failed move; cancelling the token stops the motion.
    /// </summary>
    /// <param name="target">Target position.</param>
    /// <param name="velocity">Velocity for this move (units/s); null for the device's default.</param>
    /// <param name="cancellationToken">Stops the move when cancelled.</param>
    Task MoveAsync(double target, double? velocity = null, CancellationToken cancellationToken = default);

    /// <summary>Stops any motion at once.</summary>
    Task StopAsync();

    /// <summary>How the positioner moves (velocity, acceleration, settle), for plans and estimates.</summary>
    AxisKinematics Kinematics { get; }
}

/// <summary>A counting detector: a point count for a dwell, or a line of time bins while the beam sweeps.</summary>
public interface ICounter
{
    /// <summary>Detector name, used as the NXdata group name (pyStxm: <c>counter0</c>).</summary>
    string Name { get; }

    /// <summary>Units of the values, e.g. "counts".</summary>
    string Units { get; }

    /// <summary>Counts for one dwell at the current beam position.</summary>
    Task<double> AcquirePointAsync(TimeSpan dwell, CancellationToken cancellationToken = default);

    /// <summary>
    /// Acquires <paramref name="bins"/> consecutive dwell-long time bins (a constant-velocity line); the caller moves
    /// the stage meanwhile. Returns one value per bin.
    /// </summary>
    /// <param name="bins">Number of bins (pixels).</param>
    /// <param name="dwell">Length of each bin.</param>
    /// <param name="startTimestamp">
    /// When the first bin begins, as a timestamp of the instrument's clock: a hardware trigger armed for the moment the
    /// stage reaches constant speed, so software latency does not shift the pixels. Null starts now.
    /// </param>
    /// <param name="cancellationToken">Stops the acquisition.</param>
    Task<double[]> AcquireLineAsync(int bins, TimeSpan dwell, long? startTimestamp = null, CancellationToken cancellationToken = default);
}

/// <summary>
/// An area detector (a camera behind the sample, e.g. the sCMOS of ptychography): one frame per exposure, row-major,
/// <see cref="Height"/> rows of <see cref="Width"/> pixels.
/// </summary>
public interface IAreaDetector
{
    /// <summary>Detector name (NXdetector group), e.g. <c>ccd0</c>.</summary>
    string Name { get; }

    /// <summary>Pixels per row.</summary>
    int Width { get; }

    /// <summary>Rows.</summary>
    int Height { get; }

    /// <summary>Exposes one frame for <paramref name="exposure"/> at the current beam position.</summary>
    Task<float[]> AcquireFrameAsync(TimeSpan exposure, CancellationToken cancellationToken = default);
}

/// <summary>The devices one scan needs, by role. Backends provide one instance (the "instrument").</summary>
public interface IInstrument
{
    /// <summary>Every positioner, in panel order.</summary>
    IReadOnlyList<IPositioner> Positioners { get; }

    /// <summary>The default counter.</summary>
    ICounter Counter { get; }

    /// <summary>Fine sample X (the fast axis of sample images).</summary>
    IPositioner SampleX { get; }

    /// <summary>Fine sample Y.</summary>
    IPositioner SampleY { get; }

    /// <summary>Photon energy, eV.</summary>
    IPositioner Energy { get; }

    /// <summary>Ring current now, mA (written into the file as the NXmonitor control).</summary>
    double RingCurrent { get; }

    /// <summary>The area detector, when the instrument has one (ptychography needs it).</summary>
    IAreaDetector? AreaDetector => null;

    /// <summary>The focus calibration, when the instrument has a zone plate whose focus follows energy.</summary>
    Focus.IFocusControl? Focus => null;

    /// <summary>What the backend can run (the validator refuses the rest before anything moves).</summary>
    BackendCapabilities Capabilities => BackendCapabilities.All;

    /// <summary>The positioner called <paramref name="name"/>, or null.</summary>
    IPositioner? Find(string name) => Positioners.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>A device refused or failed an operation; the message names the device and the reason.</summary>
public sealed class DeviceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DeviceException(string device, string message) : base($"{device}: {message}") => Device = device;

    /// <summary>Creates the exception.</summary>
    public DeviceException() : this("device", "failed") { }

    /// <summary>Creates the exception.</summary>
    public DeviceException(string message) : this("device", message) { }

    /// <summary>Creates the exception.</summary>
    public DeviceException(string message, Exception innerException) : base(message, innerException) => Device = "device";

    /// <summary>The device that failed.</summary>
    public string Device { get; } = "device";
}
