using StxmWeb.Core.Devices;
using StxmWeb.Core.Focus;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;

namespace StxmWeb.Simulation;

/// <summary>
/// The energy device with pyStxm's "FL change with Energy" on: moving the energy also moves the zone plate along Z by
/// the change of focal length (FL = A1·E), so the sample stays in focus (bcm/devices/sim/energy_dev.py). Both move at
/// once; the move ends when both are done.
/// </summary>
internal sealed class FocusTrackingEnergy(SimPositioner energy, SimPositioner zonePlateZ, ZonePlate zonePlate) : IPositioner
{
    public string Name => energy.Name;

    public string Description => energy.Description + ", zone plate follows focus";

    public string Units => energy.Units;

    public Limits Limits => energy.Limits;

    public PositionerStatus Status => energy.Status;

    public AxisKinematics Kinematics => energy.Kinematics;

    public async Task MoveAsync(double target, double? velocity = null, CancellationToken cancellationToken = default)
    {
        var from = energy.Status.Setpoint;
        var zpzTarget = zonePlateZ.Status.Setpoint
            + FocusGeometry.ZpzOsaFocused(zonePlate.A1, target) - FocusGeometry.ZpzOsaFocused(zonePlate.A1, from);
        if (!energy.Limits.Contains(target))
        {
            await energy.MoveAsync(target, velocity, cancellationToken).ConfigureAwait(false); // throws with the reason
        }

        await Task.WhenAll(
            energy.MoveAsync(target, velocity, cancellationToken),
            zonePlateZ.MoveAsync(Math.Clamp(zpzTarget, zonePlateZ.Limits.Low, zonePlateZ.Limits.High), null, cancellationToken)).ConfigureAwait(false);
    }

    public async Task StopAsync()
    {
        await energy.StopAsync().ConfigureAwait(false);
        await zonePlateZ.StopAsync().ConfigureAwait(false);
    }
}
