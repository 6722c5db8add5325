using StxmWeb.Core.Devices;
using StxmWeb.Simulation;

namespace StxmWeb.Simulation.Tests;

public sealed class SimPositionerTests
{
    private readonly AcceleratedTimeProvider _time = new(10);

    private SimPositioner Stage() => new(new SimPositionerOptions
    {
        Name = "CoarseX", Units = "µm", Low = -5000, High = 5000, Velocity = 2000, Acceleration = 10_000, SettleMs = 0, Initial = 0,
    }, _time);

    [Fact]
    public async Task Move_TakesTheTrapezoidalTime_AndArrives()
    {
        var stage = Stage();
        var started = _time.GetTimestamp();

        await stage.MoveAsync(1000, cancellationToken: TestContext.Current.CancellationToken);

        // 1000 µm at 2000 µm/s with 10 000 µm/s² ramps: 0.5 s + 0.2 s = 0.7 s of simulated time, never less.
        var elapsed = _time.GetElapsedTime(started);
        Assert.True(elapsed >= TimeSpan.FromSeconds(0.7), $"the move took {elapsed}");
        Assert.Equal(1000, stage.Status.Position);
        Assert.False(stage.Status.IsMoving);
    }

    [Fact]
    public async Task Readback_DuringAMove_IsBetweenStartAndTarget()
    {
        var stage = Stage();
        // A move of 10 s of simulated time (1 s here), read at 0.5 s: on a loaded machine the read still comes mid-move.
        var move = stage.MoveAsync(2000, velocity: 200, cancellationToken: TestContext.Current.CancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(0.5), _time, TestContext.Current.CancellationToken);

        var status = stage.Status;

        Assert.True(status.IsMoving);
        Assert.InRange(status.Position, 1, 1999);
        Assert.Equal(2000, status.Setpoint);
        await move;
    }

    [Fact]
    public async Task Move_PastTheSoftLimit_IsRefusedWithTheReason()
    {
        var stage = Stage();

        var error = await Assert.ThrowsAsync<DeviceException>(() => stage.MoveAsync(6000, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal("CoarseX", error.Device);
        Assert.Contains("outside the soft limits [-5000, 5000]", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, stage.Status.Position);
        Assert.NotNull(stage.Status.Fault);
    }

    [Fact]
    public async Task Stop_HaltsWhereTheStageIs()
    {
        var stage = Stage();
        var move = stage.MoveAsync(4000, cancellationToken: TestContext.Current.CancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(0.6), _time, TestContext.Current.CancellationToken);

        await stage.StopAsync();
        var stoppedAt = stage.Status.Position;
        await Task.Delay(TimeSpan.FromSeconds(0.3), _time, TestContext.Current.CancellationToken);

        Assert.InRange(stoppedAt, 1, 3999);
        Assert.Equal(stoppedAt, stage.Status.Position);
        Assert.False(stage.Status.IsMoving);
        await move;
    }

    [Fact]
    public async Task Cancel_StopsTheMove_AndThrows()
    {
        var stage = Stage();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(30));

        // A move of 40 s of simulated time (4 s here): on a loaded machine the cancellation still comes long before it ends.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stage.MoveAsync(4000, velocity: 100, cancellationToken: cts.Token));

        Assert.False(stage.Status.IsMoving);
        Assert.InRange(stage.Status.Position, 0, 3999);
    }

    [Fact]
    public async Task Move_FasterThanTheStage_IsRefused()
    {
        var error = await Assert.ThrowsAsync<DeviceException>(() => Stage().MoveAsync(100, 5000, TestContext.Current.CancellationToken));

        Assert.Contains("velocity", error.Message, StringComparison.Ordinal);
    }
}
