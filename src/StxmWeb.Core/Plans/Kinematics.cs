namespace StxmWeb.Core.Plans;

/// <summary>
/// How fast an axis moves: trapezoidal velocity profile (accelerate, cruise, decelerate) plus a settle time.
/// The plan's time estimates and the simulated stage use the same formula.
/// </summary>
/// <param name="Velocity">Cruise velocity, units/s.</param>
/// <param name="Acceleration">Acceleration, units/s².</param>
/// <param name="Settle">Time to settle after a move.</param>
public sealed record AxisKinematics(double Velocity, double Acceleration, TimeSpan Settle)
{
    /// <summary>Time of a point-to-point move of <paramref name="distance"/> at cruise velocity <paramref name="velocity"/>.</summary>
    public TimeSpan MoveTime(double distance, double? velocity = null)
    {
        var d = Math.Abs(distance);
        if (d == 0)
        {
            return TimeSpan.Zero;
        }

        var v = Math.Min(velocity ?? Velocity, Velocity);
        var a = Acceleration;
        var rampDistance = v * v / a; // accelerate + decelerate
        var seconds = d >= rampDistance ? d / v + v / a : 2 * Math.Sqrt(d / a);
        return TimeSpan.FromSeconds(seconds) + Settle;
    }

    /// <summary>Distance to reach <paramref name="velocity"/> from rest.</summary>
    public double AccelerationDistance(double velocity) => velocity * velocity / (2 * Acceleration);

    /// <summary>Time to reach <paramref name="velocity"/> from rest.</summary>
    public TimeSpan AccelerationTime(double velocity) => TimeSpan.FromSeconds(velocity / Acceleration);
}
