using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.Core.Devices;
using StxmWeb.Core.Documents;
using StxmWeb.Core.Engine;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Simulation;

namespace StxmWeb.Core.Tests;

/// <summary>The engine against the simulated microscope on an accelerated clock, its documents collected.</summary>
public sealed class ScanEngineTests
{
    private readonly SimMicroscope _scope = new(SimulationOptions.Standard(), new AcceleratedTimeProvider(20));
    private readonly DocumentCollector _documents = new();

    private PlanKinematics Kinematics => new(_scope.SampleX.Kinematics, _scope.SampleY.Kinematics, _scope.Energy.Kinematics);

    private ScanEngine NewEngine() => new(_scope, _scope.Time, NullLogger<ScanEngine>.Instance);

    private Task<RunStop> RunAsync(ScanEngine engine, ScanRequest request, IEnumerable<Msg>? plan = null)
    {
        var id = Guid.NewGuid();
        var start = new RunStart(id, 1, request, DateTimeOffset.UtcNow, "test", "/dev/null");
        var descriptor = new Descriptor(id, "counter0", "counts", request.ScanType, ScanPlanner.Build(request, Kinematics).Entries, TimeSpan.FromSeconds(1));
        return engine.RunAsync(start, descriptor, plan ?? ScanPlanner.Build(request, Kinematics).Plan, Kinematics, _documents, TestContext.Current.CancellationToken);
    }

    [Theory]
    [InlineData(AcquisitionMode.Line)]
    [InlineData(AcquisitionMode.PointByPoint)]
    public async Task Run_EmitsStartDescriptorEveryPixelAndStop(AcquisitionMode mode)
    {
        var request = ScanRequest.SampleImage(new AxisRegion(0, 10, 12), new AxisRegion(0, 10, 8), 1, 285, mode);

        var stop = await RunAsync(NewEngine(), request);

        Assert.Equal(ExitStatus.Success, stop.Status);
        Assert.IsType<RunStart>(_documents.All[0]);
        Assert.IsType<Descriptor>(_documents.All[1]);
        Assert.Same(stop, _documents.All[^1]);
        var pixels = _documents.Pixels();
        Assert.Equal(12 * 8, pixels.Count);
        Assert.All(pixels.Values, v => Assert.True(v > 100, $"a pixel counted {v}"));
        Assert.Equal(_documents.Frames.Count, stop.Frames);
        Assert.Equal(Enumerable.Range(1, stop.Frames), _documents.Frames.Select(f => f.Sequence));
    }

    [Fact]
    public async Task Abort_EndsTheRunAsAborted_KeepingTheLinesTaken()
    {
        var engine = NewEngine();
        var request = ScanRequest.SampleImage(new AxisRegion(0, 10, 50), new AxisRegion(0, 10, 200), 1, 285);
        _documents.OnFrame = frame =>
        {
            if (frame.Row == 5)
            {
                engine.Abort("Aborted by test.");
            }
        };

        var stop = await RunAsync(engine, request);

        Assert.Equal(ExitStatus.Aborted, stop.Status);
        Assert.Equal("Aborted by test.", stop.Reason);
        Assert.InRange(_documents.Frames.Count, 6, 8);
        Assert.Equal(EngineState.Idle, engine.State);
    }

    [Fact]
    public async Task Fail_EndsTheRunAsFailed_WithTheReasonGiven()
    {
        var engine = NewEngine();
        var request = ScanRequest.SampleImage(new AxisRegion(0, 10, 50), new AxisRegion(0, 10, 200), 1, 285);
        _documents.OnFrame = frame =>
        {
            if (frame.Row == 2)
            {
                engine.Fail("Writing A.hdf5 failed: No space left on device");
            }
        };

        var stop = await RunAsync(engine, request);

        Assert.Equal(ExitStatus.Failed, stop.Status);
        Assert.Equal("Writing A.hdf5 failed: No space left on device", stop.Reason);
        Assert.False(engine.Fail("again"), "nothing runs any more");
    }

    [Fact]
    public async Task Pause_HoldsAtALineBoundary_AndResumeCompletesTheRun()
    {
        var engine = NewEngine();
        var request = ScanRequest.SampleImage(new AxisRegion(0, 10, 20), new AxisRegion(0, 10, 10), 1, 285);
        var paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        engine.ProgressChanged += p =>
        {
            if (p.State == EngineState.Paused)
            {
                paused.TrySetResult();
            }
        };
        _documents.OnFrame = frame =>
        {
            if (frame.Row == 3)
            {
                engine.Pause();
            }
        };

        var run = RunAsync(engine, request);
        await paused.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var framesWhilePaused = _documents.Frames.Count;
        await Task.Delay(200, TestContext.Current.CancellationToken);

        Assert.Equal(framesWhilePaused, _documents.Frames.Count);
        Assert.Equal(4, framesWhilePaused);
        Assert.Equal(EngineState.Paused, engine.State);
        Assert.True(engine.Resume());
        var stop = await run;
        Assert.Equal(ExitStatus.Success, stop.Status);
        Assert.Equal(200, _documents.Pixels().Count);
    }

    [Fact]
    public async Task DeviceFault_EndsTheRunAsFailed_WithTheDeviceAndReason()
    {
        var request = ScanRequest.SampleImage(new AxisRegion(0, 10, 10), new AxisRegion(0, 10, 10), 1, 285);
        var plan = ScanPlanner.Build(request, Kinematics).Plan.Take(8).Append(new MoveMsg(Roles.SampleY, 75));

        var stop = await RunAsync(NewEngine(), request, plan);

        Assert.Equal(ExitStatus.Failed, stop.Status);
        Assert.Contains("SampleFineY", stop.Reason, StringComparison.Ordinal);
        Assert.Contains("soft limits", stop.Reason, StringComparison.Ordinal);
        Assert.NotEmpty(_documents.Frames);
    }

    [Fact]
    public async Task Run_WhileAnotherRuns_IsRefused()
    {
        var engine = NewEngine();
        var request = ScanRequest.SampleImage(new AxisRegion(0, 10, 20), new AxisRegion(0, 10, 40), 1, 285);
        var first = RunAsync(engine, request);

        await Assert.ThrowsAsync<InvalidOperationException>(() => RunAsync(engine, request));
        engine.Abort("done");
        await first;
    }

    [Fact]
    public async Task Progress_ReachesEveryPixel_AndReportsTimeLeft()
    {
        var engine = NewEngine();
        var seen = new List<EngineProgress>();
        engine.ProgressChanged += p =>
        {
            lock (seen)
            {
                seen.Add(p);
            }
        };
        var request = ScanRequest.SampleImage(new AxisRegion(0, 10, 20), new AxisRegion(0, 10, 10), 1, 285);

        await RunAsync(engine, request);

        Assert.Contains(seen, p => p.State == EngineState.Running && p.TimeLeft > TimeSpan.Zero);
        Assert.Equal(200, seen.Max(p => p.CompletedPixels));
        Assert.Equal(EngineState.Idle, seen[^1].State);
    }

    /// <summary>Collects a run's documents (bluesky's DocCollector).</summary>
    private sealed class DocumentCollector : IDocumentSink
    {
        private readonly List<Document> _all = [];

        public Action<Frame>? OnFrame { get; set; }

        public IReadOnlyList<Document> All
        {
            get
            {
                lock (_all)
                {
                    return [.. _all];
                }
            }
        }

        public IReadOnlyList<Frame> Frames => [.. All.OfType<Frame>()];

        public void Publish(Document document)
        {
            lock (_all)
            {
                _all.Add(document);
            }

            if (document is Frame frame)
            {
                OnFrame?.Invoke(frame);
            }
        }

        public Dictionary<(int Row, int Column), double> Pixels()
        {
            var pixels = new Dictionary<(int, int), double>();
            foreach (var frame in Frames)
            {
                for (var i = 0; i < frame.Values.Length; i++)
                {
                    Assert.True(pixels.TryAdd((frame.Row, frame.Column + i), frame.Values[i]), $"pixel ({frame.Row}, {frame.Column + i}) twice");
                }
            }

            return pixels;
        }
    }
}
