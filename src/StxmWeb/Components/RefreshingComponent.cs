using Microsoft.AspNetCore.Components;

namespace StxmWeb.Components;

/// <summary>
/// A component that re-renders at a fixed rate while interactive: readbacks and progress are sampled at a few Hz per
/// browser, whatever rate the devices change at. The timer stops when the component is disposed.
/// </summary>
public abstract class RefreshingComponent : ComponentBase, IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _refresh = Task.CompletedTask;

    /// <summary>How often the component re-renders.</summary>
    protected abstract TimeSpan RefreshInterval { get; }

    /// <inheritdoc />
    protected override void OnInitialized()
    {
        if (RendererInfo.IsInteractive)
        {
            _refresh = RefreshAsync(_stop.Token);
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(RefreshInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await InvokeAsync(StateHasChanged);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _refresh;
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
