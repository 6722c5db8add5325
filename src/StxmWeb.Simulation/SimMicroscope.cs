using StxmWeb.Core.Devices;
using StxmWeb.Core.Focus;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Core.Timing;

namespace StxmWeb.Simulation;

/// <summary>What the simulated microscope is made of; bound from the beamline profile.</summary>
public sealed class SimulationOptions
{
    /// <summary>Positioners, in panel order. Names follow pyStxm's DNM_ names without the prefix.</summary>
    public List<SimPositionerOptions> Positioners { get; } = [];

    /// <summary>The zone plate in the beam.</summary>
    public ZonePlate ZonePlate { get; set; } = new("ZP 240/25", FocusGeometry.A1FromGeometry(240, 25), 240, 90, 25);

    /// <summary>The OSA in the beam.</summary>
    public Osa Osa { get; set; } = new("OSA 60", 60);

    /// <summary>Count rate through an empty window at 220 mA and the flux maximum, counts/s.</summary>
    public double PeakCountRate { get; set; } = 2.0e7;

    /// <summary>Dark count rate, counts/s.</summary>
    public double DarkCountRate { get; set; } = 50;

    /// <summary>
    /// The true OSA–sample distance, µm: the sample is in focus at Zpz = −FL + A0 (with <see cref="TrueZpzAdjustUm"/>).
    /// The calibration starts equal to it; a sample focus scan finds it again when the calibration has drifted.
    /// </summary>
    public double TrueA0Um { get; set; } = 250;

    /// <summary>The true zone-plate Z calibration error, µm: the OSA is in focus at Zpz = −|FL + this|.</summary>
    public double TrueZpzAdjustUm { get; set; }

    /// <summary>Where the beam hits the detector stage (its X/Y), µm, and the spot's FWHM there.</summary>
    public (double X, double Y, double FwhmUm) DetectorBeam { get; set; } = (80, -50, 300);

    /// <summary>
    /// Dose (photons/µm²) that removes 1/e of a particle's mass (radiation damage); 0 turns damage off. Every count
    /// deposits its photons where the beam stands, so long exposures (the pattern generator) show up in later images.
    /// </summary>
    public double DamageDosePerUm2 { get; set; } = 1e8;

    /// <summary>Seed of the counter's Poisson noise (and the sample layout).</summary>
    public int Seed { get; set; } = 17;

    /// <summary>
    /// The standard simulated STXM (the same devices as appsettings/beamline.sim.json): piezo fine stage ±50 µm,
    /// steppers, goniometer, zone plate in focus at 285 eV, OSA, detector stage, energy and EPU.
    /// </summary>
    public static SimulationOptions Standard()
    {
        var options = new SimulationOptions();
        var focus = -FocusGeometry.FocalLength(options.ZonePlate.A1, 285) + options.TrueA0Um;
        options.Positioners.AddRange(
        [
            Axis("SampleFineX", "µm", -50, 50, 2000, 200_000, 1, 0),
            Axis("SampleFineY", "µm", -50, 50, 2000, 200_000, 1, 0),
            Axis("CoarseX", "µm", -5000, 5000, 2000, 10_000, 50, 0),
            Axis("CoarseY", "µm", -5000, 5000, 2000, 10_000, 50, 0),
            Axis("ZonePlateZ", "µm", -20_000, 0, 500, 5000, 20, focus),
            Axis("OsaX", "µm", -3000, 3000, 1000, 5000, 20, 0),
            Axis("OsaY", "µm", -3000, 3000, 1000, 5000, 20, 0),
            Axis("DetectorX", "µm", -5000, 5000, 1000, 5000, 20, 80),
            Axis("DetectorY", "µm", -5000, 5000, 1000, 5000, 20, -50),
            Axis("GoniX", "µm", -3000, 3000, 1000, 5000, 30, 0),
            Axis("GoniY", "µm", -3000, 3000, 1000, 5000, 30, 0),
            Axis("GoniTheta", "degree", -90, 90, 20, 40, 100, 0),
            Axis("Energy", "eV", 100, 2500, 20, 100, 20, 285),
            Axis("EpuPolarization", "", 0, 5, 0.5, 1, 100, 0),
            Axis("EpuOffset", "mm", -10, 10, 1, 5, 50, 0),
            Axis("EpuAngle", "degree", -90, 90, 10, 20, 50, 0),
        ]);
        return options;
    }

    private static SimPositionerOptions Axis(string name, string units, double low, double high, double velocity, double acceleration, double settleMs, double initial) =>
        new() { Name = name, Description = name, Units = units, Low = low, High = high, Velocity = velocity, Acceleration = acceleration, SettleMs = settleMs, Initial = initial };
}

/// <summary>
/// The simulated STXM: positioners with real dynamics, a beam focused by a zone plate (blur grows with distance from
/// focus, FL = A1·E), an OSA, a sample of particles with carbon K-edge spectra, a storage ring with top-up, and a
/// counter with Poisson noise. Everything reads time from one <see cref="TimeProvider"/>.
/// </summary>
public sealed class SimMicroscope : IInstrument, IFocusControl
{
    private readonly Dictionary<string, SimPositioner> _byName;
    private readonly TimeProvider _time;
    private readonly SimulationOptions _options;
    private readonly long _origin;
    private FocusSettings _focus;

    /// <summary>Builds the microscope from its options.</summary>
    public SimMicroscope(SimulationOptions options, TimeProvider time, SampleModel? sample = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _origin = time.GetTimestamp();
        _focus = new FocusSettings(A0: options.TrueA0Um, ZpzAdjust: options.TrueZpzAdjustUm);
        var positioners = options.Positioners.Select(o => new SimPositioner(o, time)).ToList();
        _byName = positioners.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var required in new[] { Roles.SampleX, Roles.SampleY, Roles.Energy, "ZonePlateZ" })
        {
            if (!_byName.ContainsKey(required))
            {
                throw new ArgumentException($"The simulated microscope needs a positioner named {required}.", nameof(options));
            }
        }

        // pyStxm's "FL change with Energy": the energy device drives the zone plate along with it.
        Positioners = [.. positioners.Select(p => string.Equals(p.Name, Roles.Energy, StringComparison.OrdinalIgnoreCase)
            ? new FocusTrackingEnergy(p, _byName["ZonePlateZ"], this)
            : (IPositioner)p)];
        Sample = sample ?? SampleModel.Default(seed: options.Seed);
        Counter = new SimCounter(this, options.Seed);
        AreaDetector = new SimAreaDetector(this, options.Seed + 1);
    }

    /// <inheritdoc />
    public IReadOnlyList<IPositioner> Positioners { get; }

    /// <inheritdoc />
    public ICounter Counter { get; }

    /// <inheritdoc />
    public IAreaDetector AreaDetector { get; }

    /// <inheritdoc />
    public IPositioner SampleX => _byName[Roles.SampleX];

    /// <inheritdoc />
    public IPositioner SampleY => _byName[Roles.SampleY];

    /// <inheritdoc />
    public IPositioner Energy => Positioners.First(p => string.Equals(p.Name, Roles.Energy, StringComparison.OrdinalIgnoreCase));

    /// <summary>The sample in the beam.</summary>
    public SampleModel Sample { get; }

    /// <summary>The zone plate.</summary>
    public ZonePlate ZonePlate => _options.ZonePlate;

    /// <inheritdoc />
    public Osa Osa => _options.Osa;

    /// <inheritdoc />
    public IFocusControl Focus => this;

    /// <summary>The focus calibration the energy device applies.</summary>
    public FocusSettings FocusSettings => Volatile.Read(ref _focus);

    /// <inheritdoc />
    FocusSettings IFocusControl.Settings => FocusSettings;

    /// <inheritdoc />
    public async Task ApplyAsync(FocusSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!FocusSettings.A0Limits.Contains(settings.A0) || !double.IsFinite(settings.DeltaA0) || !double.IsFinite(settings.ZpzAdjust)
            || !double.IsFinite(settings.DefocusSpotUm) || settings.DefocusSpotUm < 0)
        {
            throw new DeviceException("Focus", FormattableString.Invariant($"A0 must be within {FocusSettings.A0Limits} µm and the other values finite (defocus ≥ 0)."));
        }

        Volatile.Write(ref _focus, settings);
        var zpz = _byName[Roles.ZonePlateZ];
        await zpz.MoveAsync(Math.Clamp(settings.Zpz(ZonePlate, Energy.Status.Setpoint), zpz.Limits.Low, zpz.Limits.High), null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The clock every device runs on.</summary>
    public TimeProvider Time => _time;

    /// <summary>Storage-ring current with top-up: decays from 220 mA and is refilled every 60 s.</summary>
    public double RingCurrent => RingCurrentAt(_time.GetTimestamp());

    /// <summary>Ring current at a timestamp.</summary>
    public double RingCurrentAt(long timestamp)
    {
        var seconds = (timestamp - _origin) / (double)_time.TimestampFrequency;
        var phase = seconds % 60.0;
        return 220.0 * Math.Exp(-phase / 6000.0);
    }

    /// <summary>The zone-plate Z at which the sample truly is in focus for <paramref name="energyEv"/> (−|FL + adjust| + A0).</summary>
    public double FocusZpz(double energyEv) => FocusGeometry.ZpzSampleFocused(ZonePlate.A1, energyEv, _options.TrueA0Um, 0, 0, _options.TrueZpzAdjustUm);

    /// <summary>The zone-plate Z at which the OSA plane truly is in focus (−|FL + adjust|).</summary>
    public double OsaFocusZpz(double energyEv) => FocusGeometry.ZpzOsaFocused(ZonePlate.A1, energyEv, _options.TrueZpzAdjustUm);

    /// <summary>
    /// Expected count rate (counts/s) at a timestamp, from where every positioner stands then: beam position on the
    /// sample (coarse + fine), energy, focus (spot size), OSA alignment and ring current.
    /// </summary>
    public double CountRateAt(long timestamp)
    {
        var energy = Position(Roles.Energy, timestamp);
        var (x, y) = BeamOnSample(timestamp);
        var zpz = Position(Roles.ZonePlateZ, timestamp);
        var spot = FocusGeometry.SpotAtDefocusUm(ZonePlate, energy, zpz - FocusZpz(energy));
        var od = Sample.OpticalDensity(x, y, energy, spot, Position(Roles.GoniTheta, timestamp), PolarizationAngle(timestamp));
        return IncidentRateAt(timestamp) * Math.Exp(-od) * DetectorAcceptance(timestamp) + _options.DarkCountRate;
    }

    /// <summary>Photons/s reaching the sample: ring current, beamline flux at the energy, OSA transmission.</summary>
    public double IncidentRateAt(long timestamp)
    {
        var energy = Position(Roles.Energy, timestamp);
        var zpz = Position(Roles.ZonePlateZ, timestamp);
        return _options.PeakCountRate * (RingCurrentAt(timestamp) / 220.0) * BeamlineFlux(energy) * OsaTransmission(timestamp, energy, zpz);
    }

    /// <summary>Where the beam crosses the sample, in sample coordinates: coarse + goniometer + fine stage.</summary>
    public (double X, double Y) BeamOnSample(long timestamp) =>
        (Position(Roles.CoarseX, timestamp) + Position(Roles.GoniX, timestamp) + Position(Roles.SampleX, timestamp),
         Position(Roles.CoarseY, timestamp) + Position(Roles.GoniY, timestamp) + Position(Roles.SampleY, timestamp));

    /// <summary>
    /// Direction of the linear polarization's E vector, degrees from horizontal, or null for circular light: LinHor 0°,
    /// IncVert± 90°, LinInc its angle.
    /// </summary>
    private double? PolarizationAngle(long timestamp) => (int)Math.Round(Position(Roles.EpuPolarization, timestamp)) switch
    {
        2 => 0,
        3 or 4 => 90,
        5 => Position(Roles.EpuAngle, timestamp),
        _ => null,
    };

    /// <summary>Fraction of the beam the detector collects: a Gaussian spot at <see cref="SimulationOptions.DetectorBeam"/>.</summary>
    private double DetectorAcceptance(long timestamp)
    {
        var (bx, by, fwhm) = _options.DetectorBeam;
        var dx = Position(Roles.DetectorX, timestamp) - bx;
        var dy = Position(Roles.DetectorY, timestamp) - by;
        var sigma = fwhm / 2.3548;
        return Math.Exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
    }

    /// <summary>
    /// Relative photon flux of the beamline: a smooth undulator/grating envelope with the dip that carbon contamination
    /// of the optics makes at 285 eV (every soft X-ray beamline has it; it is why I0 is measured).
    /// </summary>
    public static double BeamlineFlux(double energyEv)
    {
        var envelope = Math.Exp(-0.5 * Math.Pow((energyEv - 330) / 120, 2));
        var contamination = 0.35 * Math.Exp(-0.5 * Math.Pow((energyEv - 285.2) / 0.5, 2)) + 0.12 / (1 + Math.Exp(-(energyEv - 289) / 0.8));
        return envelope * Math.Exp(-contamination);
    }

    /// <summary>
    /// Fraction of the first-order cone the OSA lets through. At the OSA plane the cone is a disc of radius
    /// |Zpz − OSA focus| · NA; the aperture's edge is seen through it, so the edge softens with that radius and is
    /// sharpest when the OSA is in focus (what an OSA focus scan finds).
    /// </summary>
    private double OsaTransmission(long timestamp, double energy, double zpz)
    {
        var dx = Position(Roles.OsaX, timestamp);
        var dy = Position(Roles.OsaY, timestamp);
        var offset = Math.Sqrt(dx * dx + dy * dy);
        var radius = _options.Osa.DiameterUm / 2;
        var na = FocusGeometry.NumericalAperture(ZonePlate.DiameterUm, FocusGeometry.FocalLength(ZonePlate.A1, energy));
        var cone = Math.Abs(zpz - OsaFocusZpz(energy)) * na;
        var width = Math.Sqrt(1.0 + cone * cone * 0.5);
        return 0.5 * SampleModel.Erfc((offset - radius + 0.3 * cone) / width);
    }

    /// <summary>Deposits the photons of a dwell that began at <paramref name="start"/> where the beam stood (radiation dose).</summary>
    private void Deposit(long start, TimeSpan dwell)
    {
        if (_options.DamageDosePerUm2 <= 0)
        {
            return;
        }

        var middle = start + (long)(dwell.TotalSeconds / 2 * _time.TimestampFrequency);
        var (x, y) = BeamOnSample(middle);
        Sample.Deposit(x, y, IncidentRateAt(middle) * dwell.TotalSeconds, _options.DamageDosePerUm2);
    }

    private double Position(string name, long timestamp) => _byName.TryGetValue(name, out var p) ? p.PositionAt(timestamp) : 0;

    /// <summary>
    /// The area detector behind the sample (ptychography's camera), 48 × 48 pixels: the zone plate's bright-field cone
    /// (an annulus: the central stop's shadow in the middle) carrying the transmitted beam, shifted towards the local
    /// thickness gradient (differential phase contrast), and a dark-field halo scattered by edges, falling as 1/q³.
    /// Poisson noise on every pixel.
    /// </summary>
    private sealed class SimAreaDetector(SimMicroscope scope, int seed) : IAreaDetector
    {
        private const double BrightFieldRadius = 14;
        private const double Step = 0.05;
        private readonly Random _random = new(seed);
        private readonly Lock _gate = new();

        public string Name => "ccd0";

        public int Width => 48;

        public int Height => 48;

        public async Task<float[]> AcquireFrameAsync(TimeSpan exposure, CancellationToken cancellationToken = default)
        {
            var start = scope._time.GetTimestamp();
            await scope._time.DelayPreciseAsync(exposure, cancellationToken).ConfigureAwait(false);
            var middle = start + (long)(exposure.TotalSeconds / 2 * scope._time.TimestampFrequency);
            var energy = scope.Position(Roles.Energy, middle);
            var (x, y) = scope.BeamOnSample(middle);
            var spot = FocusGeometry.SpotAtDefocusUm(scope.ZonePlate, energy, scope.Position(Roles.ZonePlateZ, middle) - scope.FocusZpz(energy));
            var theta = scope.Position(Roles.GoniTheta, middle);
            double Od(double px, double py) => scope.Sample.OpticalDensity(px, py, energy, spot, theta);
            var od = Od(x, y);
            var gx = (Od(x + Step, y) - Od(x - Step, y)) / (2 * Step);
            var gy = (Od(x, y + Step) - Od(x, y - Step)) / (2 * Step);
            var photons = scope.IncidentRateAt(middle) * exposure.TotalSeconds * Math.Exp(-od);
            var stop = BrightFieldRadius * scope.ZonePlate.CentralStopUm / scope.ZonePlate.DiameterUm;
            var area = Math.PI * ((BrightFieldRadius * BrightFieldRadius) - (stop * stop));
            // Edges scatter a fraction of the transmitted photons out of the bright field (never more than they carry).
            var strength = 0.05 * ((gx * gx) + (gy * gy));
            var scattered = strength / (1 + strength);
            var darkWeights = 0.0;
            for (var k = 0; k < Width * Height; k++)
            {
                var q = Radius(k);
                darkWeights += q > BrightFieldRadius ? Math.Pow(BrightFieldRadius / q, 3) : 0;
            }

            var frame = new float[Width * Height];
            lock (_gate)
            {
                for (var k = 0; k < Width * Height; k++)
                {
                    var (qx, qy) = ((k % Width) - (Width / 2.0) + 0.5, (k / Width) - (Height / 2.0) + 0.5);
                    var q = Radius(k);
                    double mean;
                    if (q <= BrightFieldRadius && q >= stop)
                    {
                        // The bright field tilts towards the thickness gradient (a phase ramp deflects the beam).
                        mean = photons * (1 - scattered) / area * Math.Clamp(1 - (0.3 * ((gx * qx) + (gy * qy)) / (q * (1 + Math.Sqrt(strength)))), 0, 2);
                    }
                    else if (q > BrightFieldRadius)
                    {
                        mean = photons * scattered * Math.Pow(BrightFieldRadius / q, 3) / darkWeights;
                    }
                    else
                    {
                        mean = 0; // the central stop's shadow
                    }

                    frame[k] = (float)Noisy(mean);
                }
            }

            return frame;
        }

        private double Radius(int k)
        {
            var qx = (k % Width) - (Width / 2.0) + 0.5;
            var qy = (k / Width) - (Height / 2.0) + 0.5;
            return Math.Sqrt((qx * qx) + (qy * qy));
        }

        private double Noisy(double mean)
        {
            if (mean <= 0)
            {
                return 0;
            }

            var u1 = 1.0 - _random.NextDouble();
            var u2 = _random.NextDouble();
            var gauss = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            return Math.Max(0, Math.Round(mean + (Math.Sqrt(mean) * gauss)));
        }
    }

    /// <summary>The counter: Poisson counts of the expected rate over each dwell.</summary>
    private sealed class SimCounter(SimMicroscope scope, int seed) : ICounter
    {
        private const int SubSamples = 4;
        private readonly Random _random = new(seed);
        private readonly Lock _gate = new();

        public string Name => "counter0";

        public string Units => "counts";

        public async Task<double> AcquirePointAsync(TimeSpan dwell, CancellationToken cancellationToken = default)
        {
            var start = scope._time.GetTimestamp();
            await scope._time.DelayPreciseAsync(dwell, cancellationToken).ConfigureAwait(false);
            return Count(start, dwell);
        }

        public async Task<double[]> AcquireLineAsync(int bins, TimeSpan dwell, long? startTimestamp = null, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(bins);
            var start = startTimestamp ?? scope._time.GetTimestamp();
            await scope._time.DelayUntilAsync(start + (long)((bins * dwell).TotalSeconds * scope._time.TimestampFrequency), cancellationToken).ConfigureAwait(false);
            var binTicks = (long)(dwell.TotalSeconds * scope._time.TimestampFrequency);
            var values = new double[bins];
            for (var i = 0; i < bins; i++)
            {
                values[i] = Count(start + i * binTicks, dwell);
            }

            return values;
        }

        private double Count(long start, TimeSpan dwell)
        {
            // Average the rate over the bin (the stage may be moving through it), then draw Poisson counts.
            var ticks = dwell.TotalSeconds * scope._time.TimestampFrequency;
            var rate = 0.0;
            for (var s = 0; s < SubSamples; s++)
            {
                rate += scope.CountRateAt(start + (long)((s + 0.5) / SubSamples * ticks));
            }

            var mean = rate / SubSamples * dwell.TotalSeconds;
            scope.Deposit(start, dwell);
            lock (_gate)
            {
                return Poisson(mean);
            }
        }

        private double Poisson(double mean)
        {
            if (mean < 30)
            {
                // Knuth's multiplication method, exact for small means.
                var limit = Math.Exp(-mean);
                var k = 0;
                var product = _random.NextDouble();
                while (product > limit)
                {
                    k++;
                    product *= _random.NextDouble();
                }

                return k;
            }

            // Normal approximation (Box-Muller), accurate to well under 1 % of sigma at these means.
            var u1 = 1.0 - _random.NextDouble();
            var u2 = _random.NextDouble();
            var gauss = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            return Math.Max(0, Math.Round(mean + Math.Sqrt(mean) * gauss));
        }
    }
}
