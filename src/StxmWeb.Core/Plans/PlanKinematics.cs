namespace StxmWeb.Core.Plans;

/// <summary>
/// How each positioner moves, by name, for fly-line parameters and time estimates. Positioners not listed move with
/// <see cref="Fallback"/>.
/// </summary>
public sealed class PlanKinematics
{
    private readonly Dictionary<string, AxisKinematics> _axes;

    /// <summary>Kinematics by positioner name.</summary>
    public PlanKinematics(IReadOnlyDictionary<string, AxisKinematics> axes, AxisKinematics? fallback = null)
    {
        ArgumentNullException.ThrowIfNull(axes);
        _axes = new(axes, StringComparer.OrdinalIgnoreCase);
        Fallback = fallback ?? new AxisKinematics(1000, 5000, TimeSpan.FromMilliseconds(20));
    }

    /// <summary>Kinematics of the fine sample stage and the energy (the axes of a sample image).</summary>
    public PlanKinematics(AxisKinematics x, AxisKinematics y, AxisKinematics energy)
        : this(new Dictionary<string, AxisKinematics> { [Roles.SampleX] = x, [Roles.SampleY] = y, [Roles.Energy] = energy })
    {
    }

    /// <summary>For positioners not listed.</summary>
    public AxisKinematics Fallback { get; }

    /// <summary>Fine sample X.</summary>
    public AxisKinematics X => For(Roles.SampleX);

    /// <summary>Fine sample Y.</summary>
    public AxisKinematics Y => For(Roles.SampleY);

    /// <summary>Energy.</summary>
    public AxisKinematics Energy => For(Roles.Energy);

    /// <summary>The kinematics of <paramref name="positioner"/>.</summary>
    public AxisKinematics For(string positioner) => _axes.TryGetValue(positioner, out var k) ? k : Fallback;
}
