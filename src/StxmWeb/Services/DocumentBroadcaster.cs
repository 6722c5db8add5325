using System.Threading.Channels;
using StxmWeb.Core.Documents;
using StxmWeb.Core.Engine;

namespace StxmWeb.Services;

/// <summary>
/// Fans the engine's one document stream out to its consumers (NeXus writer, live broadcaster, run registry). Each
/// consumer has its own unbounded queue and task, so a slow disk or a slow browser never holds up the engine or the
/// others; the engine's <see cref="Publish"/> only enqueues. <see cref="DrainAsync"/> waits until every consumer has
/// handled everything published so far.
/// </summary>
public sealed partial class DocumentBroadcaster : IDocumentSink, IAsyncDisposable
{
    private readonly List<Subscription> _subscriptions = [];
    private readonly ILogger _logger;

    /// <summary>Creates the broadcaster with its consumers.</summary>
    public DocumentBroadcaster(IEnumerable<IDocumentConsumer> consumers, ILogger<DocumentBroadcaster> logger)
    {
        ArgumentNullException.ThrowIfNull(consumers);
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        foreach (var consumer in consumers)
        {
            _subscriptions.Add(new Subscription(consumer, this));
        }
    }

    /// <inheritdoc />
    public void Publish(Document document)
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.Queue.Writer.TryWrite(document);
        }
    }

    /// <summary>Completes when every consumer has handled every document published before the call.</summary>
    public Task DrainAsync(CancellationToken cancellationToken = default)
    {
        var marks = _subscriptions.Select(s =>
        {
            var mark = new DrainMark();
            if (!s.Queue.Writer.TryWrite(mark))
            {
                // The broadcaster is closed: its loops end after the documents already queued.
                return s.Loop;
            }

            return mark.Done.Task;
        });
        return Task.WhenAll(marks).WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.Queue.Writer.TryComplete();
        }

        await Task.WhenAll(_subscriptions.Select(s => s.Loop)).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Document consumer {Consumer} failed on {Document}")]
    private static partial void LogConsumerFailed(ILogger logger, string consumer, string document, Exception exception);

    /// <summary>A marker that travels the queue behind the documents; its task completes when the consumer reaches it.</summary>
    private sealed record DrainMark() : Document(Guid.Empty)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Subscription
    {
        public Subscription(IDocumentConsumer consumer, DocumentBroadcaster owner)
        {
            Queue = Channel.CreateUnbounded<Document>(new UnboundedChannelOptions { SingleReader = true });
            Loop = Task.Run(() => RunAsync(consumer, owner));
        }

        public Channel<Document> Queue { get; }

        public Task Loop { get; }

        private async Task RunAsync(IDocumentConsumer consumer, DocumentBroadcaster owner)
        {
            await foreach (var document in Queue.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (document is DrainMark mark)
                {
                    mark.Done.TrySetResult();
                    continue;
                }

                try
                {
                    await consumer.ConsumeAsync(document, CancellationToken.None).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // One consumer's failure (a full disk, say) must not stop the others or the engine; it is logged.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    LogConsumerFailed(owner._logger, consumer.GetType().Name, document.GetType().Name, ex);
                }
            }
        }
    }
}
