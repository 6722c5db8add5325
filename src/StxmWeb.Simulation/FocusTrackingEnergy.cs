using StxmWeb.Core.Devices;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;

namespace StxmWeb.Simulation;

/// <summary>
/// The energy device with pyStxm's "FL change with Energy" on: moving the energy also moves the zone plate to the focus
/// the calibration gives for the new energy (<see cref="Core.Focus.FocusSettings.Zpz"/>; bcm/devices/sim/energy_dev.py).
/// Both move at once; the move ends when both are done.
/// </summary>
internal sealed class FocusTrackingEnergy(SimPositioner energy, SimPositioner zonePlateZ, SimMicroscope scope) : IPositioner
{
    public string Name => energy.Name;

    public string Description => energy.Description + ", zone plate follows focus";

    public string Units => energy.Units;

    public Limits Limits => energy.Limits;

    public PositionerStatus Status => energy.Status;

    public AxisKinematics Kinematics => energy.Kinematics;

    public async Task MoveAsync(double target, double? velocity = null, CancellationToken cancellationToken = default)
    {
        if (!energy.Limits.Contains(target))
        {
            await energy.MoveAsync(target, velocity, cancellationToken).ConfigureAwait(false); // throws with the reason
        }

        var zpzTarget = scope.FocusSettings.Zpz(scope.ZonePlate, target);
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
