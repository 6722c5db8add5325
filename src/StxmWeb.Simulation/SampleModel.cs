namespace StxmWeb.Simulation;

/// <summary>
/// A material's carbon K-edge absorption, as optical density per µm of thickness: a pre-edge background falling as
/// E⁻³, an edge step (arctangent) and Gaussian resonances (π*, σ*). Values are plausible, modelled on published NEXAFS
/// spectra of the named materials, not fitted to any one measurement.
/// </summary>
/// <param name="Name">Material name.</param>
/// <param name="PreEdge">OD/µm at 280 eV.</param>
/// <param name="EdgeEv">Position of the ionisation edge, eV.</param>
/// <param name="EdgeStep">Height of the edge step, OD/µm.</param>
/// <param name="Peaks">Resonances: centre (eV), height (OD/µm), FWHM (eV).</param>
public sealed record Material(string Name, double PreEdge, double EdgeEv, double EdgeStep, (double Center, double Height, double Fwhm)[] Peaks)
{
    /// <summary>
    /// Linear dichroism of the first (π*) resonance: with linearly polarized light at angle φ from the horizontal,
    /// the peak scales by 1 + LD·cos 2φ (an oriented material, e.g. calcite's carbonate planes); circular light sees 1.
    /// </summary>
    public double LinearDichroism { get; init; }

    /// <summary>Optical density per µm at <paramref name="energyEv"/>, for linear light at <paramref name="polarizationDeg"/> (null: circular).</summary>
    public double OdPerUm(double energyEv, double? polarizationDeg = null)
    {
        var od = PreEdge * Math.Pow(280.0 / energyEv, 3);
        od += EdgeStep * (0.5 + Math.Atan((energyEv - EdgeEv) / 0.6) / Math.PI);
        for (var i = 0; i < Peaks.Length; i++)
        {
            var (center, height, fwhm) = Peaks[i];
            var sigma = fwhm / 2.3548;
            var z = (energyEv - center) / sigma;
            var dichroism = i == 0 && polarizationDeg is { } phi ? 1 + LinearDichroism * Math.Cos(2 * phi * Math.PI / 180) : 1;
            od += height * dichroism * Math.Exp(-0.5 * z * z);
        }

        return od;
    }

    /// <summary>Polystyrene: the strong aromatic C=C π* at 285.2 eV.</summary>
    public static Material Polystyrene { get; } = new("polystyrene", 0.25, 289.5, 1.5, [(285.15, 4.0, 0.4), (287.3, 0.6, 0.7), (293.0, 1.0, 2.5)]);

    /// <summary>PMMA: the carbonyl C=O π* at 288.4 eV.</summary>
    public static Material Pmma { get; } = new("PMMA", 0.25, 290.0, 1.4, [(288.45, 3.2, 0.45), (292.5, 1.0, 3.0)]);

    /// <summary>Calcite (CaCO₃): the carbonate π* at 290.3 eV.</summary>
    public static Material Calcite { get; } = new("calcite", 0.12, 291.0, 0.6, [(290.3, 2.6, 0.3), (300.5, 0.6, 2.5)]) { LinearDichroism = 0.6 };

    /// <summary>Protein: the amide π* at 288.2 eV and a weak aromatic peak.</summary>
    public static Material Protein { get; } = new("protein", 0.2, 289.5, 1.0, [(285.1, 0.6, 0.45), (288.2, 2.0, 0.45)]);
}

/// <summary>A round particle: a dome of <see cref="Material"/>, thickest at its centre.</summary>
/// <param name="X">Centre X, µm (sample coordinates).</param>
/// <param name="Y">Centre Y, µm.</param>
/// <param name="Radius">Radius, µm.</param>
/// <param name="Thickness">Thickness at the centre, µm.</param>
/// <param name="Material">What it is made of.</param>
/// <param name="Z">Centre along the beam, µm (it turns with the goniometer: tomography).</param>
public sealed record Particle(double X, double Y, double Radius, double Thickness, Material Material, double Z = 0);

/// <summary>
/// The simulated sample: particles of several materials on a thin silicon-nitride window. The optical density seen by a
/// beam of a given spot size is the thickness profile blurred by the spot (edges soften with defocus).
/// </summary>
public sealed class SampleModel
{
    private const double WindowOd = 0.04;
    private const double DoseCellUm = 0.25;
    private readonly Dictionary<(int, int), double> _dose = [];
    private readonly Lock _doseGate = new();

    /// <summary>Creates a sample from its particles.</summary>
    public SampleModel(IReadOnlyList<Particle> particles) => Particles = particles ?? throw new ArgumentNullException(nameof(particles));

    /// <summary>The particles.</summary>
    public IReadOnlyList<Particle> Particles { get; }

    /// <summary>
    /// The default sample: a reproducible scatter of particles of four materials within ±<paramref name="halfWidth"/> µm of
    /// the origin (seeded, so every run and test sees the same sample).
    /// </summary>
    public static SampleModel Default(double halfWidth = 25, int count = 14, int seed = 17)
    {
        var random = new Random(seed);
        Material[] materials = [Material.Polystyrene, Material.Pmma, Material.Calcite, Material.Protein];
        var particles = new List<Particle>(count);
        for (var i = 0; i < count; i++)
        {
            var radius = 1.2 + random.NextDouble() * 4.5;
            particles.Add(new Particle(
                (random.NextDouble() * 2 - 1) * (halfWidth - radius),
                (random.NextDouble() * 2 - 1) * (halfWidth - radius),
                radius,
                0.08 + random.NextDouble() * 0.25,
                materials[i % materials.Length],
                (random.NextDouble() * 2 - 1) * 12));
        }

        return new SampleModel(particles);
    }

    /// <summary>
    /// Optical density at (x, y) µm for energy E, seen with a Gaussian beam of FWHM <paramref name="spotUm"/>, with the
    /// sample turned by <paramref name="thetaDeg"/> about the vertical axis (particles project at X cos θ + Z sin θ), in
    /// light linearly polarized at <paramref name="polarizationDeg"/> (null: circular), after the dose received so far.
    /// </summary>
    public double OpticalDensity(double x, double y, double energyEv, double spotUm, double thetaDeg = 0, double? polarizationDeg = null)
    {
        var sigma = Math.Max(spotUm, 1e-3) / 2.3548;
        var od = WindowOd;
        var theta = thetaDeg * Math.PI / 180;
        var (cos, sin) = (Math.Cos(theta), Math.Sin(theta));
        var remaining = MassRemaining(x, y);
        foreach (var p in Particles)
        {
            var px = p.X * cos + p.Z * sin;
            var dx = x - px;
            var dy = y - p.Y;
            var r = Math.Sqrt(dx * dx + dy * dy);
            if (r > p.Radius + 5 * sigma)
            {
                continue;
            }

            // Dome profile inside, an error-function edge whose width is the beam's.
            var inside = Math.Min(r, p.Radius) / p.Radius;
            var dome = 1 - 0.6 * inside * inside;
            var edge = 0.5 * Erfc((r - p.Radius) / (Math.Sqrt(2) * sigma));
            od += p.Thickness * dome * edge * remaining * p.Material.OdPerUm(energyEv, polarizationDeg);
        }

        return od;
    }

    /// <summary>
    /// Records <paramref name="photons"/> delivered at (x, y), spread over the dose cells around it; mass is lost as
    /// exp(−dose / <paramref name="dosePerUm2"/>).
    /// </summary>
    public void Deposit(double x, double y, double photons, double dosePerUm2)
    {
        if (!(photons > 0) || !(dosePerUm2 > 0))
        {
            return;
        }

        var (cx, cy) = ((int)Math.Floor(x / DoseCellUm), (int)Math.Floor(y / DoseCellUm));
        var perCell = photons / (DoseCellUm * DoseCellUm) / dosePerUm2;
        lock (_doseGate)
        {
            // Half in the cell hit, the rest in its four neighbours: pixels a little coarser than a cell still join up.
            Add((cx, cy), perCell * 0.5);
            Add((cx + 1, cy), perCell * 0.125);
            Add((cx - 1, cy), perCell * 0.125);
            Add((cx, cy + 1), perCell * 0.125);
            Add((cx, cy - 1), perCell * 0.125);
        }

        void Add((int, int) cell, double amount) => _dose[cell] = _dose.GetValueOrDefault(cell) + amount;
    }

    /// <summary>Fraction of the material left at (x, y) after the dose received there.</summary>
    public double MassRemaining(double x, double y)
    {
        lock (_doseGate)
        {
            return _dose.Count == 0 ? 1 : Math.Exp(-_dose.GetValueOrDefault(((int)Math.Floor(x / DoseCellUm), (int)Math.Floor(y / DoseCellUm))));
        }
    }

    /// <summary>Complementary error function (Abramowitz and Stegun 7.1.26; |error| &lt; 1.5e-7).</summary>
    internal static double Erfc(double x)
    {
        var z = Math.Abs(x);
        var t = 1 / (1 + 0.3275911 * z);
        var poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        var erfcAbs = poly * Math.Exp(-z * z);
        return x >= 0 ? erfcAbs : 2 - erfcAbs;
    }
}
