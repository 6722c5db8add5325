using StxmWeb.Core.Focus;
using StxmWeb.Simulation;

namespace StxmWeb.Simulation.Tests;

/// <summary>The simulated microscope is physically plausible: counts, noise, spectra, focus.</summary>
public sealed class SimMicroscopeTests
{
    private readonly SimMicroscope _scope = new(SimulationOptions.Standard(), new AcceleratedTimeProvider(50));

    [Fact]
    public async Task Counts_ArePoisson_MeanAndVarianceAgree()
    {
        // Move off the particles onto the bare window, where the rate is constant.
        var (x, y) = EmptySpot(_scope.Sample);
        await _scope.SampleX.MoveAsync(x, cancellationToken: TestContext.Current.CancellationToken);
        await _scope.SampleY.MoveAsync(y, cancellationToken: TestContext.Current.CancellationToken);

        var counts = await _scope.Counter.AcquireLineAsync(4000, TimeSpan.FromMilliseconds(0.01), cancellationToken: TestContext.Current.CancellationToken);

        var mean = counts.Average();
        var variance = counts.Sum(c => (c - mean) * (c - mean)) / (counts.Length - 1);
        Assert.InRange(mean, 20, 400);
        Assert.InRange(variance / mean, 0.85, 1.15);
    }

    [Fact]
    public async Task Counts_ScaleWithDwell()
    {
        var (x, y) = EmptySpot(_scope.Sample);
        await _scope.SampleX.MoveAsync(x, cancellationToken: TestContext.Current.CancellationToken);
        await _scope.SampleY.MoveAsync(y, cancellationToken: TestContext.Current.CancellationToken);

        var shortDwell = (await _scope.Counter.AcquireLineAsync(200, TimeSpan.FromMilliseconds(0.1), cancellationToken: TestContext.Current.CancellationToken)).Average();
        var longDwell = (await _scope.Counter.AcquireLineAsync(200, TimeSpan.FromMilliseconds(1), cancellationToken: TestContext.Current.CancellationToken)).Average();

        Assert.InRange(longDwell / shortDwell, 9.5, 10.5);
    }

    [Fact]
    public void Materials_HaveTheirCarbonEdgeResonances()
    {
        // Polystyrene's C=C π* at 285.2 eV, PMMA's C=O π* at 288.4 eV, calcite's carbonate π* at 290.3 eV.
        Assert.True(Material.Polystyrene.OdPerUm(285.15) > 3 * Material.Pmma.OdPerUm(285.15));
        Assert.True(Material.Pmma.OdPerUm(288.45) > 2 * Material.Polystyrene.OdPerUm(288.45));
        Assert.True(Material.Calcite.OdPerUm(290.3) > Material.Calcite.OdPerUm(288.45) * 3);
        Assert.True(Material.Polystyrene.OdPerUm(320) > Material.Polystyrene.OdPerUm(280), "an edge step above the edge");
    }

    [Fact]
    public void Contrast_BetweenMaterials_ChangesWithEnergy()
    {
        var ps = Isolated(Material.Polystyrene);
        var pmma = Isolated(Material.Pmma);
        double Od(Particle p, double e) => _scope.Sample.OpticalDensity(p.X, p.Y, e, 0.03) / p.Thickness;

        Assert.True(Od(ps, 285.15) > Od(pmma, 285.15));
        Assert.True(Od(pmma, 288.45) > Od(ps, 288.45));
    }

    [Fact]
    public void Blur_GrowsWithDistanceFromFocus()
    {
        var particle = _scope.Sample.Particles.OrderByDescending(p => p.Radius).First();
        double EdgeWidth(double spot)
        {
            // Distance over which the OD falls from 90 % to 10 % of its value just inside the edge.
            var inside = _scope.Sample.OpticalDensity(particle.X + particle.Radius - 0.5, particle.Y, 285.15, 0.03);
            double? r90 = null, r10 = null;
            for (var d = -0.5; d < 30; d += 0.01)
            {
                var od = _scope.Sample.OpticalDensity(particle.X + particle.Radius + d, particle.Y, 285.15, spot) - 0.04;
                r90 ??= od < 0.9 * (inside - 0.04) ? d : null;
                r10 ??= od < 0.1 * (inside - 0.04) ? d : null;
            }

            return r10!.Value - r90!.Value;
        }

        var zp = _scope.ZonePlate;
        var focused = EdgeWidth(FocusGeometry.SpotAtDefocusUm(zp, 285, 0));
        var defocused = EdgeWidth(FocusGeometry.SpotAtDefocusUm(zp, 285, 30));

        Assert.True(defocused > 5 * focused, $"edge {focused:F3} µm in focus, {defocused:F3} µm at 30 µm defocus");
    }

    [Fact]
    public async Task EnergyMove_KeepsTheSampleInFocus()
    {
        await _scope.Energy.MoveAsync(300, cancellationToken: TestContext.Current.CancellationToken);

        var zpz = _scope.Positioners.Single(p => p.Name == "ZonePlateZ").Status.Position;
        Assert.Equal(_scope.FocusZpz(300), zpz, 6);
    }

    [Fact]
    public async Task ClosedOsa_BlocksTheBeam()
    {
        var (x, y) = EmptySpot(_scope.Sample);
        await _scope.SampleX.MoveAsync(x, cancellationToken: TestContext.Current.CancellationToken);
        await _scope.SampleY.MoveAsync(y, cancellationToken: TestContext.Current.CancellationToken);
        var open = await _scope.Counter.AcquirePointAsync(TimeSpan.FromMilliseconds(1), TestContext.Current.CancellationToken);

        await _scope.Positioners.Single(p => p.Name == "OsaX").MoveAsync(500, cancellationToken: TestContext.Current.CancellationToken);
        var blocked = await _scope.Counter.AcquirePointAsync(TimeSpan.FromMilliseconds(1), TestContext.Current.CancellationToken);

        Assert.True(open > 1000, $"open: {open}");
        Assert.True(blocked < open / 100, $"blocked: {blocked}");
    }

    private Particle Isolated(Material material) => _scope.Sample.Particles.First(p => p.Material == material
        && _scope.Sample.Particles.All(q => q == p || Math.Sqrt((p.X - q.X) * (p.X - q.X) + (p.Y - q.Y) * (p.Y - q.Y)) > q.Radius + 0.5));

    private static (double X, double Y) EmptySpot(SampleModel sample)
    {
        for (var x = -45.0; x <= 45; x += 1)
        {
            for (var y = -45.0; y <= 45; y += 1)
            {
                if (sample.Particles.All(p => Math.Sqrt((x - p.X) * (x - p.X) + (y - p.Y) * (y - p.Y)) > p.Radius + 3))
                {
                    return (x, y);
                }
            }
        }

        throw new InvalidOperationException("The sample has no empty spot.");
    }
}
