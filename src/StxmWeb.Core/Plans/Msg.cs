namespace StxmWeb.Core.Plans;

/// <summary>
/// One instruction of a plan, interpreted by the <see cref="Engine.ScanEngine"/> (bluesky's Msg). Plans are pure
/// iterators of these; nothing in a plan touches a device.
/// </summary>
public abstract record Msg;

/// <summary>Move one or more positioners together and wait until all are done (bluesky's grouped <c>mv</c>).</summary>
/// <param name="Targets">Positioner name and target, moved at once.</param>
public sealed record MoveMsg(IReadOnlyList<MoveTarget> Targets) : Msg
{
    /// <summary>A single-positioner move.</summary>
    public MoveMsg(string positioner, double target) : this([new MoveTarget(positioner, target)]) { }
}

/// <summary>A positioner and where it goes.</summary>
/// <param name="Positioner">Positioner name.</param>
/// <param name="Target">Target position.</param>
public sealed record MoveTarget(string Positioner, double Target);

/// <summary>Move a positioner by <paramref name="Delta"/> from its setpoint and wait (a relative move, e.g. a focus correction).</summary>
/// <param name="Positioner">Positioner name.</param>
/// <param name="Delta">Distance to move.</param>
public sealed record MoveByMsg(string Positioner, double Delta) : Msg;

/// <summary>Count one dwell at the current position and store it at (entry, plane, row, column).</summary>
/// <param name="Entry">Index of the NXentry (spatial region, point, polarization or angle).</param>
/// <param name="Plane">Index along the first data dimension.</param>
/// <param name="Row">Row index.</param>
/// <param name="Column">Column index.</param>
/// <param name="Dwell">Count time.</param>
public sealed record AcquirePointMsg(int Entry, int Plane, int Row, int Column, TimeSpan Dwell) : Msg
{
    /// <summary>Whether the area detector exposes a frame during the same dwell (ptychography).</summary>
    public bool WithFrame { get; init; }
}

/// <summary>
/// Fly <paramref name="Positioner"/> from <paramref name="RunUp"/> to <paramref name="RunOut"/> at
/// <paramref name="Velocity"/> and count <paramref name="Bins"/> dwell-long bins once it reaches constant speed, at
/// <paramref name="AccelerationTime"/> after the start. The stage must already stand at the run-up position.
/// </summary>
/// <param name="Entry">Index of the NXentry.</param>
/// <param name="Plane">Index along the first data dimension.</param>
/// <param name="Row">Row index.</param>
/// <param name="Positioner">The fast axis.</param>
/// <param name="RunUp">Start of the fly move, before the first pixel by the acceleration distance.</param>
/// <param name="RunOut">End of the fly move, after the last pixel by the acceleration distance.</param>
/// <param name="Velocity">Constant velocity while counting, units/s.</param>
/// <param name="AccelerationTime">Time from start to constant velocity.</param>
/// <param name="Bins">Number of pixels.</param>
/// <param name="Dwell">Time per pixel.</param>
public sealed record FlyLineMsg(int Entry, int Plane, int Row, string Positioner, double RunUp, double RunOut, double Velocity, TimeSpan AccelerationTime, int Bins, TimeSpan Dwell) : Msg
{
    /// <summary>Column of the first bin (a tile's part of a row starts past 0).</summary>
    public int Column { get; init; }

    /// <summary>
    /// Times the line is flown (Pixelator's line repetition); the stage returns to the run-up between flights and the
    /// counts of every flight are summed into one line.
    /// </summary>
    public int Repetitions { get; init; } = 1;
}

/// <summary>Wait <paramref name="Duration"/> (Pixelator's tile, line and point delays: time for a stage or a sample to settle).</summary>
/// <param name="Duration">How long.</param>
public sealed record DelayMsg(TimeSpan Duration) : Msg;

/// <summary>A place where the run may pause, resume or abort cleanly (a line boundary).</summary>
/// <param name="CompletedPixels">Pixels acquired before this point, for progress.</param>
public sealed record CheckpointMsg(long CompletedPixels) : Msg;
