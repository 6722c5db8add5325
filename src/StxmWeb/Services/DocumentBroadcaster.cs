using System.Collections.Concurrent;
using StxmWeb.Core.Documents;
using StxmWeb.Core.Engine;

namespace StxmWeb.Services;

/// <summary>
/// Fans the engine's one document stream out to its consumers (NeXus writer, live broadcaster, Redis relay). Each
/// consumer has its own unbounded queue and thread, so a slow disk or a slow browser never holds up the engine or the
/// others; the engine's <see cref="Publish"/> only enqueues. The threads are the consumers' own, not the thread pool's:
/// with a hundred browsers the pool's queue holds hundreds of websocket sends, and a line waiting behind them reached
/// the file and the viewers hundreds of milliseconds late (bench/results/live-load.md). <see cref="DrainAsync"/> waits
/// until every consumer has handled everything published so far.
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
            subscription.Enqueue(document);
        }
    }

    /// <summary>Completes when every consumer has handled every document published before the call.</summary>
    public Task DrainAsync(CancellationToken cancellationToken = default)
    {
        var marks = _subscriptions.Select(s =>
        {
            var mark = new DrainMark();
            if (!s.Enqueue(mark))
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
            subscription.Complete();
        }

        await Task.WhenAll(_subscriptions.Select(s => s.Loop)).ConfigureAwait(false);
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Document consumer {Consumer} failed on {Document}")]
    private static partial void LogConsumerFailed(ILogger logger, string consumer, string document, Exception exception);

    /// <summary>A marker that travels the queue behind the documents; its task completes when the consumer reaches it.</summary>
    private sealed record DrainMark() : Document(Guid.Empty)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>One consumer's queue and the thread that hands it the documents in order.</summary>
    private sealed class Subscription : IDisposable
    {
        private readonly ConcurrentQueue<Document> _queue = new();
        // No spinning before the thread sleeps: on a machine of two cores a spinning waiter takes the time the producer needs.
        private readonly ManualResetEventSlim _ready = new(false, spinCount: 0);
        private readonly TaskCompletionSource _loop = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly IDocumentConsumer _consumer;
        private readonly DocumentBroadcaster _owner;
        private volatile bool _completed; // set under the queue's lock, so that nothing is queued after it

        public Subscription(IDocumentConsumer consumer, DocumentBroadcaster owner)
        {
            (_consumer, _owner) = (consumer, owner);
            new Thread(Run) { IsBackground = true, Name = $"documents to {consumer.GetType().Name}" }.Start();
        }

        /// <summary>Completes when the thread has handled everything queued before <see cref="Complete"/>.</summary>
        public Task Loop => _loop.Task;

        /// <summary>Queues a document; false once completed.</summary>
        public bool Enqueue(Document document)
        {
            lock (_queue)
            {
                if (_completed)
                {
                    return false;
                }

                _queue.Enqueue(document);
            }

            _ready.Set();
            return true;
        }

        /// <summary>No more documents: the thread ends once it has handled those queued (none can come after).</summary>
        public void Complete()
        {
            lock (_queue)
            {
                if (_completed)
                {
                    return;
                }

                _completed = true;
            }

            _ready.Set();
        }

        /// <summary>Once <see cref="Loop"/> has completed.</summary>
        public void Dispose() => _ready.Dispose();

        private void Run()
        {
            while (true)
            {
                while (_queue.TryDequeue(out var document))
                {
                    Handle(document);
                }

                if (_completed && _queue.IsEmpty)
                {
                    break;
                }

                // Reset, then look again: a document queued after the look sets the event after the reset.
                _ready.Reset();
                if (_queue.IsEmpty && !_completed)
                {
                    _ready.Wait();
                }
            }

            _loop.TrySetResult();
        }

        private void Handle(Document document)
        {
            if (document is DrainMark mark)
            {
                mark.Done.TrySetResult();
                return;
            }

            try
            {
                // The writer and the live broadcaster complete synchronously; a consumer that awaits (the Redis relay's
                // publish) holds only its own thread meanwhile.
                var consumed = _consumer.ConsumeAsync(document, CancellationToken.None);
                if (!consumed.IsCompletedSuccessfully)
                {
                    consumed.AsTask().GetAwaiter().GetResult();
                }
            }
#pragma warning disable CA1031 // One consumer's failure (a full disk, say) must not stop the others or the engine; it is logged.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogConsumerFailed(_owner._logger, _consumer.GetType().Name, document.GetType().Name, ex);
            }
        }
    }
}
