using System.Globalization;
using StxmWeb.Core.Devices;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Pixelator.Client;
using StxmWeb.Pixelator.Protocol;

namespace StxmWeb.Pixelator.Backend;

/// <summary>
/// A positioner of the controller: limits and units from its positionerDefinition, position and motion from the
/// positionerStatus it publishes. A move is a moveRequest; it is done when a status after the request shows the
/// positioner at rest at its target. The protocol has no stop for one positioner, so a stop asks it to move to where it
/// stands.
/// </summary>
public sealed class PixelatorPositioner : IPositioner
{
    /// <summary>How long a positioner may take to start moving after an accepted moveRequest.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(3);

    private readonly PixelatorClient _client;
    private readonly Lock _gate = new();
    private readonly List<Waiter> _waiters = [];
    private PositionerDefinition _definition;
    private PositionerState _state;
    private double _setpoint;
    private string? _fault;

    internal PixelatorPositioner(PixelatorClient client, string name, PositionerDefinition definition)
    {
        _client = client;
        Name = name;
        _definition = definition;
        _state = new PositionerState(definition.Name, definition.Destination ?? double.NaN, PositionerState.Ok);
        _setpoint = definition.Destination ?? double.NaN;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The controller's name.</summary>
    public string ControllerName => _definition.Name;

    /// <inheritdoc />
    public string Description => string.IsNullOrWhiteSpace(_definition.Description)
        ? $"{_definition.Name} (Pixelator)"
        : $"{_definition.Description} ({_definition.Name})";

    /// <inheritdoc />
    public string Units => _definition.PlainUnit;

    /// <inheritdoc />
    public Limits Limits => new(_definition.LowerSoftLimit, _definition.UpperSoftLimit);

    /// <inheritdoc />
    public PositionerStatus Status
    {
        get
        {
            lock (_gate)
            {
                var fault = _fault ?? (_state.IsFault ? _state.Status : null);
                return new PositionerStatus(Name, _state.Position, double.IsNaN(_setpoint) ? _state.Position : _setpoint, _state.IsMoving, Units, Limits, fault);
            }
        }
    }

    /// <summary>The controller gives a maximum velocity per millisecond; acceleration and settle are not published.</summary>
    public AxisKinematics Kinematics
    {
        get
        {
            var velocity = _definition.MaxVelocity is { } v && v > 0 ? v * 1000 : 1000;
            return new AxisKinematics(velocity, velocity * 20, TimeSpan.FromSeconds(_definition.AtPositionCheckInterval ?? 0.002));
        }
    }

    /// <inheritdoc />
    public async Task MoveAsync(double target, double? velocity = null, CancellationToken cancellationToken = default)
    {
        if (!double.IsFinite(target) || !Limits.Contains(target))
        {
            throw new DeviceException(Name, string.Create(CultureInfo.InvariantCulture, $"target {target:G6} {Units} is outside the limits {Limits}."));
        }

        var waiter = new Waiter(target, Tolerance);
        lock (_gate)
        {
            _setpoint = target;
            _fault = null;
        }

        try
        {
            await _client.CommandAsync(new MoveRequest(ControllerName, target), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is PixelatorCommandException or PixelatorTimeoutException or PixelatorProtocolException)
        {
            SetFault(ex.Message);
            throw new DeviceException(Name, ex.Message);
        }

        waiter.Accepted = TimeProvider.System.GetTimestamp();
        lock (_gate)
        {
            _waiters.Add(waiter);
        }

        var timeout = TimeSpan.FromSeconds(_definition.AtPositionCheckTimeout ?? 10)
            + Kinematics.MoveTime(Math.Abs(target - Status.Position)) * 2 + StartTimeout;
        try
        {
            await waiter.Done.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var message = string.Create(CultureInfo.InvariantCulture, $"did not reach {target:G6} {Units} within {timeout.TotalSeconds:0} s (at {Status.Position:G6}).");
            SetFault(message);
            throw new DeviceException(Name, message);
        }
        catch (OperationCanceledException)
        {
            await StopAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            lock (_gate)
            {
                _waiters.Remove(waiter);
            }
        }
    }

    /// <inheritdoc />
    public async Task StopAsync()
    {
        var here = Status.Position;
        if (!double.IsFinite(here) || !Status.IsMoving)
        {
            return;
        }

        try
        {
            await _client.CommandAsync(new MoveRequest(ControllerName, Math.Clamp(here, Limits.Low, Limits.High))).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is PixelatorCommandException or PixelatorTimeoutException or PixelatorProtocolException)
        {
            SetFault($"stop failed: {ex.Message}");
        }
    }

    /// <summary>A positioner at rest within this of its target has arrived.</summary>
    private double Tolerance => Math.Max(1e-3, 1e-6 * Math.Abs(_definition.UpperSoftLimit - _definition.LowerSoftLimit));

    internal void Update(PositionerDefinition definition)
    {
        lock (_gate)
        {
            _definition = definition;
        }
    }

    /// <summary>A positionerStatus entry for this positioner (on the client's poller thread).</summary>
    internal void Update(PositionerState state, long timestamp)
    {
        List<(Waiter Waiter, Exception? Error)> done = [];
        lock (_gate)
        {
            _state = state;
            if (!state.IsFault)
            {
                _fault = null;
            }

            foreach (var waiter in _waiters)
            {
                if (waiter.Accepted == 0 || timestamp < waiter.Accepted)
                {
                    continue;
                }

                if (state.IsFault)
                {
                    done.Add((waiter, new DeviceException(Name, $"the controller reports '{state.Status}'.")));
                }
                else if (state.IsMoving)
                {
                    waiter.SeenMoving = true;
                }
                else if (Math.Abs(state.Position - waiter.Target) <= waiter.Tolerance)
                {
                    done.Add((waiter, null));
                }
                else if (waiter.SeenMoving)
                {
                    done.Add((waiter, new DeviceException(Name, string.Create(CultureInfo.InvariantCulture,
                        $"stopped at {state.Position:G6} {Units}, short of its target {waiter.Target:G6}."))));
                }
                else if (TimeProvider.System.GetElapsedTime(waiter.Accepted, timestamp) > StartTimeout)
                {
                    done.Add((waiter, new DeviceException(Name, string.Create(CultureInfo.InvariantCulture,
                        $"did not start moving to {waiter.Target:G6} {Units} within {StartTimeout.TotalSeconds:0} s of the accepted moveRequest."))));
                }
            }
        }

        foreach (var (waiter, error) in done)
        {
            if (error is null)
            {
                waiter.Done.TrySetResult();
            }
            else
            {
                waiter.Done.TrySetException(error);
            }
        }
    }

    /// <summary>The controller went silent or came back; a waiting move fails when it goes silent.</summary>
    internal void ControllerLost(string reason)
    {
        List<Waiter> waiting;
        lock (_gate)
        {
            _fault = reason;
            waiting = [.. _waiters];
        }

        foreach (var waiter in waiting)
        {
            waiter.Done.TrySetException(new DeviceException(Name, reason));
        }
    }

    private void SetFault(string message)
    {
        lock (_gate)
        {
            _fault = message;
        }
    }

    private sealed class Waiter(double target, double tolerance)
    {
        public double Target { get; } = target;

        public double Tolerance { get; } = tolerance;

        public long Accepted { get; set; }

        public bool SeenMoving { get; set; }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
