namespace StxmWeb.Core.Timing;

/// <summary>
/// Delays that end on time. A timer-based <c>Task.Delay</c> overshoots by up to a millisecond or more; at 1 ms dwell that
/// error would be as large as the dwell itself. These wait on the timer until shortly before the deadline, then yield
/// until it passes. Works with any <see cref="TimeProvider"/> (real or accelerated).
/// </summary>
public static class PreciseDelay
{
    private static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(2);

    /// <summary>The timestamp <paramref name="delay"/> after now.</summary>
    public static long Deadline(this TimeProvider time, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(time);
        return time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency);
    }

    /// <summary>Waits until <paramref name="deadline"/> (a timestamp of <paramref name="time"/>).</summary>
    public static async Task DelayUntilAsync(this TimeProvider time, long deadline, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (ReferenceEquals(time, TimeProvider.System))
        {
            // The system clock's timestamps are Stopwatch's. Long waits sleep on the precision timer until just before
            // the deadline (its hand-over to the thread pool takes tens of microseconds); the rest is spent yielding.
            var handOver = time.TimestampFrequency / 2000;
            if (deadline - time.GetTimestamp() > 4 * handOver)
            {
                await PrecisionTimer.WaitUntilAsync(deadline - handOver, cancellationToken).ConfigureAwait(false);
            }

            while (time.GetTimestamp() < deadline)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await Task.Yield();
            }

            return;
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var remaining = TimeSpan.FromSeconds((deadline - time.GetTimestamp()) / (double)time.TimestampFrequency);
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }

            if (remaining > TimerSlack)
            {
                await Task.Delay(remaining - TimerSlack, time, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Task.Yield();
            }
        }
    }

    /// <summary>Waits <paramref name="delay"/>, ending on time.</summary>
    public static Task DelayPreciseAsync(this TimeProvider time, TimeSpan delay, CancellationToken cancellationToken = default) =>
        delay <= TimeSpan.Zero ? Task.CompletedTask : time.DelayUntilAsync(time.Deadline(delay), cancellationToken);
}
