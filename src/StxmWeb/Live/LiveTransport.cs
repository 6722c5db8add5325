using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;

namespace StxmWeb.Live;

/// <summary>Maps the live hub with a transport that keeps each message whole.</summary>
public static class LiveTransport
{
    /// <summary>
    /// Maps <see cref="LiveHub"/> at <paramref name="pattern"/> as <c>MapHub</c> does, with a transport buffer of
    /// <see cref="LiveHub.TransportBufferBytes"/> and every connection's output wrapped in a
    /// <see cref="WholeMessageWriter"/>: a 60 KB batch of lines then leaves as one websocket frame instead of fifteen.
    /// </summary>
    public static IEndpointConventionBuilder MapLiveHub(this IEndpointRouteBuilder endpoints, string pattern)
    {
        var options = new Microsoft.AspNetCore.Http.Connections.HttpConnectionDispatcherOptions
        {
            TransportMaxBufferSize = LiveHub.TransportBufferBytes,
        };
        var hub = endpoints.MapConnections(pattern, options, connection =>
        {
            connection.Use(next => context =>
            {
                context.Transport = new WholeMessageDuplexPipe(context.Transport);
                return next(context);
            });
            connection.UseHub<LiveHub>();
        });
        hub.Add(endpoint => endpoint.Metadata.Add(new HubMetadata(typeof(LiveHub))));
        return hub;
    }

    private sealed class WholeMessageDuplexPipe(IDuplexPipe inner) : IDuplexPipe
    {
        public PipeReader Input { get; } = inner.Input;

        public PipeWriter Output { get; } = new WholeMessageWriter(inner.Output);
    }
}

/// <summary>
/// A <see cref="PipeWriter"/> that writes each <see cref="WriteAsync"/> buffer into one contiguous block of the pipe.
/// SignalR writes a serialized message with <c>WriteAsync</c>; the pipe under it would cut it into 4 KB blocks, and
/// SignalR's websocket transport sends each block as a websocket frame of its own (one write, one flush, one receive on
/// the client each). Asking the pipe for the whole length first makes it one block, so one frame.
/// </summary>
public sealed class WholeMessageWriter(PipeWriter inner) : PipeWriter
{
    /// <summary>Messages up to this size fit the pipe's own blocks; larger ones are given one block of their size.</summary>
    public const int BlockBytes = 4096;

    /// <inheritdoc />
    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        if (source.Length <= BlockBytes)
        {
            return inner.WriteAsync(source, cancellationToken);
        }

        source.Span.CopyTo(inner.GetSpan(source.Length));
        inner.Advance(source.Length);
        return inner.FlushAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override void Advance(int bytes) => inner.Advance(bytes);

    /// <inheritdoc />
    public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

    /// <inheritdoc />
    public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

    /// <inheritdoc />
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

    /// <inheritdoc />
    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    /// <inheritdoc />
    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    /// <inheritdoc />
    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    /// <inheritdoc />
    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    /// <inheritdoc />
    public override long UnflushedBytes => inner.UnflushedBytes;
}
