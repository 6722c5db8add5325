using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using StxmWeb.Core.Devices;
using StxmWeb.Core.Documents;
using StxmWeb.Core.Engine;
using StxmWeb.Epics;
using StxmWeb.Live;
using StxmWeb.Nexus;
using StxmWeb.Options;
using StxmWeb.Pixelator.Backend;
using StxmWeb.Services;
using StxmWeb.Simulation;

namespace StxmWeb.Extensions;

/// <summary>Registration of StxmWeb's services (Program.cs stays short).</summary>
public static class StxmServiceExtensions
{
    /// <summary>
    /// Loads <c>appsettings/appsettings.json</c>, the beamline profile <c>appsettings/beamline.&lt;profile&gt;.json</c>
    /// (profile from <c>STXMWEB_PROFILE</c> or <c>Profile</c>, default <c>sim</c>), then <c>STXMWEB_</c> environment variables,
    /// pyStxm's <c>DATA_DIR</c>, and the command line.
    /// </summary>
    public static void AddStxmConfiguration(this WebApplicationBuilder builder, string[] args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var folder = Path.Combine(AppContext.BaseDirectory, "appsettings");
        var configuration = builder.Configuration;
        configuration.AddJsonFile(Path.Combine(folder, "appsettings.json"), optional: false, reloadOnChange: false);
        var early = new ConfigurationBuilder().AddEnvironmentVariables("STXMWEB_").AddCommandLine(args).Build();
        var profile = early["PROFILE"] ?? early["Profile"] ?? "sim";
        var profileFile = Path.Combine(folder, $"beamline.{profile}.json");
        if (!File.Exists(profileFile))
        {
            throw new OptionsValidationException("Profile", typeof(InstrumentOptions),
                [$"Profile: no beamline profile '{profile}' (looked for {profileFile})."]);
        }

        configuration.AddJsonFile(profileFile, optional: false, reloadOnChange: false);
        configuration.AddEnvironmentVariables("STXMWEB_");
        if (Environment.GetEnvironmentVariable("DATA_DIR") is { Length: > 0 } dataDir)
        {
            configuration.AddInMemoryCollection([new($"{InstrumentOptions.Section}:DataDir", dataDir)]);
        }

        // pyStxm's environment for validation and the Pixelator backend (reqd_env_vars.sh), where it is set.
        foreach (var (variable, key) in new[] { ("PATH_TO_CNXVALIDATE", "Cnxvalidate"), ("PATH_TO_NX_DEFINITIONS", "DefinitionsPath") })
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
            {
                configuration.AddInMemoryCollection([new($"{InstrumentOptions.Section}:Validation:{key}", value)]);
            }
        }

        var pyStxm = new (string Variable, string Key)[]
        {
            ("DCS_HOST", "Host"), ("DCS_SUB_PORT", "SubPort"), ("DCS_REQ_PORT", "ReqPort"), ("DATA_SERVER_HOST", "DataHost"), ("DATA_SUB_PORT", "DataPort"),
        };
        configuration.AddInMemoryCollection(pyStxm
            .Where(v => Environment.GetEnvironmentVariable(v.Variable) is { Length: > 0 })
            .Select(v => new KeyValuePair<string, string?>($"{InstrumentOptions.Section}:Pixelator:{v.Key}", Environment.GetEnvironmentVariable(v.Variable))));

        configuration.AddCommandLine(args);
    }

    /// <summary>The instrument (by backend), engine, document fan-out, file writer, live broadcaster and command path.</summary>
    public static IServiceCollection AddStxmCore(this IServiceCollection services)
    {
        services.AddOptions<InstrumentOptions>().BindConfiguration(InstrumentOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<InstrumentOptions>, InstrumentOptionsValidator>();

        services.AddSingleton<TimeProvider>(sp =>
        {
            var scale = sp.GetRequiredService<IOptions<InstrumentOptions>>().Value.TimeScale;
            return scale > 1 ? new AcceleratedTimeProvider(scale) : TimeProvider.System;
        });
        services.AddSingleton<IInstrument>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<InstrumentOptions>>().Value;
            if (options.IsEpics)
            {
                // Connecting is part of starting: a missing IOC stops start-up with the PV that did not answer.
                return EpicsInstrument.ConnectAsync(options.Epics, TimeProvider.System).GetAwaiter().GetResult();
            }

            if (options.IsPixelator)
            {
                // Likewise: no controller, no start (the message names the endpoint).
                return PixelatorInstrument.ConnectAsync(options.Pixelator, sp.GetRequiredService<ILoggerFactory>()).GetAwaiter().GetResult();
            }

            var simulation = new SimulationOptions
            {
                ZonePlate = options.ZonePlate.ToZonePlate(),
                Osa = new(options.Osa.Name, options.Osa.DiameterUm),
            };
            simulation.Positioners.AddRange(options.Positioners);
            return new SimMicroscope(simulation, sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<ScanEngine>();

        // A Pixelator controller runs its scans itself; every other backend's scans run on StxmWeb's engine.
        services.AddSingleton<IScanRunner>(sp => sp.GetRequiredService<IInstrument>() is PixelatorInstrument pixelator
            ? new PixelatorScanRunner(pixelator, TimeProvider.System, sp.GetRequiredService<ILogger<PixelatorScanRunner>>())
            : sp.GetRequiredService<ScanEngine>());
        services.AddSingleton(sp => new NxstxmWriter(sp.GetRequiredService<ILogger<NxstxmWriter>>())
        {
            Compression = sp.GetRequiredService<IOptions<InstrumentOptions>>().Value.FileCompression,
        });
        services.AddSingleton<LiveConnections>();
        services.AddSingleton<LiveBroadcaster>();
        services.AddSingleton<DocumentBroadcaster>(sp => new DocumentBroadcaster(
            [sp.GetRequiredService<NxstxmWriter>(), sp.GetRequiredService<LiveBroadcaster>(), .. sp.GetServices<RedisLiveRelay>()],
            sp.GetRequiredService<ILogger<DocumentBroadcaster>>()));
        services.AddSingleton<ScanDefinitionStore>();
        services.AddSingleton<ControlService>();
        services.AddSingleton<QueueRunner>();
        services.AddSingleton<FileValidation>();
        services.AddSingleton<ViewerFiles>();
        services.AddHostedService(sp => sp.GetRequiredService<FileValidation>());
        services.AddScoped<Components.Scan.EditorBus>();
        services.AddScoped<Components.Viewer.ViewerBus>();
        services.AddHostedService(sp => sp.GetRequiredService<QueueRunner>());
        services.AddHostedService<InstrumentStartup>();
        return services;
    }

    /// <summary>
    /// The live hub's connections, noted for the <see cref="LiveBroadcaster"/> by a lifetime manager that wraps SignalR's own
    /// (in memory, or the Redis backplane's when <paramref name="scaledOut"/>). Call after AddSignalR (and AddStackExchangeRedis).
    /// </summary>
    public static IServiceCollection AddStxmLiveHub(this IServiceCollection services, bool scaledOut)
    {
        services.AddSingleton<HubLifetimeManager<LiveHub>>(sp => new LiveHubLifetimeManager(
            scaledOut
                ? ActivatorUtilities.CreateInstance<Microsoft.AspNetCore.SignalR.StackExchangeRedis.RedisHubLifetimeManager<LiveHub>>(sp)
                : ActivatorUtilities.CreateInstance<DefaultHubLifetimeManager<LiveHub>>(sp),
            sp.GetRequiredService<LiveConnections>()));
        return services;
    }

    /// <summary>
    /// Scale-out (<c>Live:Redis</c> = a StackExchange.Redis configuration such as <c>redis:6379</c>): this instance's
    /// live runs go to Redis and the other instances' runs come from it to this instance's viewers.
    /// </summary>
    public static IServiceCollection AddStxmLiveRelay(this IServiceCollection services, string redis)
    {
        services.AddSingleton(sp => new RedisLiveRelay(redis, sp.GetRequiredService<LiveBroadcaster>(), sp.GetRequiredService<ILogger<RedisLiveRelay>>()));
        services.AddHostedService(sp => sp.GetRequiredService<RedisLiveRelay>());
        return services;
    }

    /// <summary>Connects the instrument while the host starts, so that an unreachable IOC fails start-up, not the first scan.</summary>
    private sealed class InstrumentStartup(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = services.GetRequiredService<IInstrument>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
