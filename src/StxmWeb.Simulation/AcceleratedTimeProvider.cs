using System.Diagnostics;

namespace StxmWeb.Simulation;

/// <summary>
/// Real time, sped up by a constant factor: timestamps and the UTC clock run <see cref="Factor"/> times faster and timers
/// fire that much sooner. The simulated microscope runs on it in tests, so a 10-minute scan takes seconds while every
/// device still moves and counts by the same rules.
/// </summary>
public sealed class AcceleratedTimeProvider : TimeProvider
{
    private readonly long _origin = Stopwatch.GetTimestamp();
    private readonly DateTimeOffset _originUtc = DateTimeOffset.UtcNow;

    /// <summary>Creates a clock running <paramref name="factor"/> times faster than real time.</summary>
    public AcceleratedTimeProvider(double factor)
    {
        if (!(factor >= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The speed-up factor must be 1 or more.");
        }

        Factor = factor;
    }

    /// <summary>How many times faster than real time.</summary>
    public double Factor { get; }

    /// <inheritdoc />
    public override long TimestampFrequency => Stopwatch.Frequency;

    /// <inheritdoc />
    public override long GetTimestamp() => _origin + (long)((Stopwatch.GetTimestamp() - _origin) * Factor);

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() =>
        _originUtc + TimeSpan.FromSeconds((GetTimestamp() - _origin) / (double)Stopwatch.Frequency);

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        new ScaledTimer(System.CreateTimer(callback, state, Scale(dueTime), Scale(period)), this);

    private TimeSpan Scale(TimeSpan span) =>
        span == Timeout.InfiniteTimeSpan || span <= TimeSpan.Zero ? span : TimeSpan.FromTicks(Math.Max(1, (long)(span.Ticks / Factor)));

    private sealed class ScaledTimer(ITimer inner, AcceleratedTimeProvider owner) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(owner.Scale(dueTime), owner.Scale(period));

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
