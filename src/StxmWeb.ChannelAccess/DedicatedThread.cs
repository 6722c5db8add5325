using System.Net.Sockets;

namespace StxmWeb.ChannelAccess;

/// <summary>
/// A loop on a thread of its own that blocks in socket calls, as RSRV's threads do: a request wakes the thread that
/// answers it straight from the kernel, with no hop through the thread pool.
/// </summary>
internal static class DedicatedThread
{
    /// <summary>Runs <paramref name="loop"/>; the task completes when it returns or its socket is closed under it.</summary>
    public static Task Run(string name, Action loop)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                loop();
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The peer went away or the circuit is closing.
            }
            finally
            {
                done.TrySetResult();
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return done.Task;
    }
}
