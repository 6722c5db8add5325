using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using StxmWeb.Apis;
using StxmWeb.Components;
using StxmWeb.Extensions;
using StxmWeb.Live;
using StxmWeb.Options;

if (args.Length > 0 && args[0] == StxmWeb.Commands.ValidateCommand.Name)
{
    return StxmWeb.Commands.ValidateCommand.Run(args, Console.Out, Console.Error);
}

if (args.Length > 0 && args[0] == StxmWeb.Commands.ImportBlueskyCommand.Name)
{
    return StxmWeb.Commands.ImportBlueskyCommand.Run(args, Console.Out, Console.Error);
}

WebApplication app;
try
{
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions
    {
        Args = args,
        ContentRootPath = AppContext.BaseDirectory,
        WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
    });
    builder.AddStxmConfiguration(args);
    builder.WebHost.UseStaticWebAssets();
    builder.Services.AddStxmCore();
    builder.Services.AddRazorComponents().AddInteractiveServerComponents();
    builder.Services.AddMudServices();
    var signalR = builder.Services.AddSignalR().AddMessagePackProtocol();
    if (builder.Configuration["Live:Redis"] is { Length: > 0 } redis)
    {
        // Scale-out: the backplane carries hub messages between instances; RedisLiveRelay carries the live runs.
        signalR.AddStackExchangeRedis(redis, options => options.Configuration.ChannelPrefix = StackExchange.Redis.RedisChannel.Literal("stxmweb"));
        builder.Services.AddStxmLiveRelay(redis);
    }

    builder.Services.AddStxmLiveHub(scaledOut: builder.Configuration["Live:Redis"] is { Length: > 0 });

    builder.Services.AddProblemDetails();
    builder.Services.AddOpenApi();
    builder.Services.AddHealthChecks();
    app = builder.Build();

    // Resolve the options and the instrument now: a bad value or an unreachable IOC stops start-up here, with one message.
    _ = app.Services.GetRequiredService<IOptions<InstrumentOptions>>().Value;
    _ = app.Services.GetRequiredService<StxmWeb.Core.Devices.IInstrument>();
}
catch (OptionsValidationException ex)
{
    await Console.Error.WriteLineAsync("StxmWeb cannot start, the configuration is invalid:");
    foreach (var failure in ex.Failures)
    {
        await Console.Error.WriteLineAsync($"  {failure}");
    }

    return 2;
}
catch (Exception ex) when (ex is StxmWeb.ChannelAccess.Client.CaTimeoutException or StxmWeb.ChannelAccess.Client.CaException)
{
    await Console.Error.WriteLineAsync($"StxmWeb cannot start, the EPICS backend cannot reach its IOC: {ex.Message}");
    return 3;
}
catch (Exception ex) when (ex is StxmWeb.Pixelator.Client.PixelatorTimeoutException or StxmWeb.Pixelator.Protocol.PixelatorCommandException
    or StxmWeb.Pixelator.Protocol.PixelatorProtocolException)
{
    await Console.Error.WriteLineAsync($"StxmWeb cannot start, the Pixelator backend cannot use its controller: {ex.Message}");
    return 3;
}

// A request the framework cannot read (a malformed form or body) is the caller's fault: 400, not 500.
app.UseExceptionHandler(new ExceptionHandlerOptions
{
    StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
});
app.UseStatusCodePages();
app.UseAntiforgery();
app.MapStaticAssets();
app.MapOpenApi();
app.MapHealthChecks("/healthz");
app.MapScanApi();
app.MapMotorApi();
app.MapDefinitionApi();
app.MapFocusApi();
app.MapQueueApi();
app.MapFileApi();
app.MapImportApi();
// A live message is up to 60 KB: the transport takes a few before it pushes back (the default 64 KB took one), and sends
// each as one websocket frame.
app.MapLiveHub("/hubs/live");
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

app.Lifetime.ApplicationStarted.Register(() =>
{
    var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
    var options = app.Services.GetRequiredService<IOptions<InstrumentOptions>>().Value;
    foreach (var address in addresses)
    {
        Console.WriteLine($"StxmWeb ({options.Beamline}, {options.Backend} backend) is running at {address}  (data: {options.DataDirectory})");
    }
});

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to the test host.</summary>
public partial class Program;
