using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.Core.Documents;
using StxmWeb.Services;

namespace StxmWeb.Tests.Live;

/// <summary>
/// The engine's document stream to its consumers: each in order, each with its own queue, none held up by another (a
/// stuck disk, a failing consumer), and <see cref="DocumentBroadcaster.DrainAsync"/> exact.
/// </summary>
public sealed class DocumentBroadcasterTests
{
    private static readonly Guid Run = Guid.NewGuid();

    private static Frame Line(int sequence) => new(Run, sequence, 0, 0, sequence, 0, [sequence], DateTimeOffset.UnixEpoch, 0);

    [Fact(Timeout = 30_000)]
    public async Task EveryConsumer_GetsEveryDocumentInOrder_AndDrainWaitsForAllOfThem()
    {
        var (first, second) = (new Recorder(), new Recorder());
        await using var documents = new DocumentBroadcaster([first, second], NullLogger<DocumentBroadcaster>.Instance);
        var published = Enumerable.Range(0, 5000).Select(Line).ToList();
        await Task.Run(() => published.ForEach(documents.Publish), TestContext.Current.CancellationToken); // as the engine, from a thread of its own

        await documents.DrainAsync(TestContext.Current.CancellationToken);

        Assert.Equal(published, first.Seen);
        Assert.Equal(published, second.Seen);
    }

    [Fact(Timeout = 30_000)]
    public async Task AStuckConsumer_HoldsUpNeitherThePublisherNorTheOthers()
    {
        using var release = new ManualResetEventSlim();
        var stuck = new Recorder(_ => release.Wait());
        var fast = new Recorder();
        await using var documents = new DocumentBroadcaster([stuck, fast], NullLogger<DocumentBroadcaster>.Instance);

        for (var i = 0; i < 100; i++)
        {
            documents.Publish(Line(i)); // returns at once: the stuck consumer is blocked in its first document
        }

        await fast.WaitForAsync(100).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.True(stuck.Seen.Count <= 1);
        var drained = documents.DrainAsync(TestContext.Current.CancellationToken);
        Assert.False(drained.IsCompleted); // the stuck one has not handled them

        release.Set();
        await drained.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(100, stuck.Seen.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task AConsumerThatThrows_GoesOnWithTheNextDocument_AndTheOthersGetEverything()
    {
        var failing = new Recorder(d =>
        {
            if (((Frame)d).Sequence % 2 == 0)
            {
                throw new IOException("disk full");
            }
        });
        var other = new Recorder();
        await using var documents = new DocumentBroadcaster([failing, other], NullLogger<DocumentBroadcaster>.Instance);
        for (var i = 0; i < 10; i++)
        {
            documents.Publish(Line(i));
        }

        await documents.DrainAsync(TestContext.Current.CancellationToken);

        Assert.Equal(10, failing.Seen.Count);
        Assert.Equal(10, other.Seen.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task AConsumerThatAwaits_IsHandedTheNextDocumentOnlyWhenItIsDone()
    {
        var inFlight = 0;
        var overlapped = false;
        var awaiting = new AsyncRecorder(async () =>
        {
            overlapped |= Interlocked.Increment(ref inFlight) > 1;
            await Task.Delay(1);
            Interlocked.Decrement(ref inFlight);
        });
        await using var documents = new DocumentBroadcaster([awaiting], NullLogger<DocumentBroadcaster>.Instance);
        var published = Enumerable.Range(0, 50).Select(Line).ToList();
        published.ForEach(documents.Publish);

        await documents.DrainAsync(TestContext.Current.CancellationToken);

        Assert.False(overlapped);
        Assert.Equal(published, awaiting.Seen);
    }

    [Fact(Timeout = 30_000)]
    public async Task Dispose_EndsAfterTheDocumentsQueued_AndLaterOnesAreRefused()
    {
        var recorder = new Recorder();
        var documents = new DocumentBroadcaster([recorder], NullLogger<DocumentBroadcaster>.Instance);
        for (var i = 0; i < 1000; i++)
        {
            documents.Publish(Line(i));
        }

        await documents.DisposeAsync();
        Assert.Equal(1000, recorder.Seen.Count);

        documents.Publish(Line(1000));
        await documents.DrainAsync(TestContext.Current.CancellationToken); // completes: nothing more will come
        await documents.DisposeAsync(); // twice is harmless
        Assert.Equal(1000, recorder.Seen.Count);
    }

    /// <summary>Records what it is handed, then does an optional action (blocks, throws).</summary>
    private sealed class Recorder(Action<Document>? action = null) : IDocumentConsumer
    {
        private readonly List<Document> _seen = [];

        public List<Document> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        public async Task WaitForAsync(int count)
        {
            while (Seen.Count < count)
            {
                await Task.Delay(10);
            }
        }

        public ValueTask ConsumeAsync(Document document, CancellationToken cancellationToken)
        {
            lock (_seen)
            {
                _seen.Add(document);
            }

            action?.Invoke(document);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Records what it is handed, then awaits.</summary>
    private sealed class AsyncRecorder(Func<Task> work) : IDocumentConsumer
    {
        public List<Document> Seen { get; } = [];

        public async ValueTask ConsumeAsync(Document document, CancellationToken cancellationToken)
        {
            Seen.Add(document);
            await work();
        }
    }
}
