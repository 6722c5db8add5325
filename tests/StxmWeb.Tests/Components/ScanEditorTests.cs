using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using StxmWeb.Components.Scan;
using StxmWeb.Core.Devices;
using StxmWeb.Core.Engine;
using StxmWeb.Core.Scans;
using StxmWeb.Options;
using StxmWeb.Services;
using StxmWeb.Simulation;

namespace StxmWeb.Tests.Components;

/// <summary>The editor with a real <see cref="ControlService"/> on the simulated microscope (no stubs).</summary>
public sealed class ScanEditorTests : BunitContext
{
    private readonly ControlService _control;
    private readonly DocumentBroadcaster _documents;
    private readonly string _dataDir = Directory.CreateTempSubdirectory("stxmweb-bunit-").FullName;

    public ScanEditorTests()
    {
        var time = new AcceleratedTimeProvider(5);
        var scope = new SimMicroscope(SimulationOptions.Standard(), time);
        var options = Microsoft.Extensions.Options.Options.Create(new InstrumentOptions { DataDir = _dataDir });
        _documents = new DocumentBroadcaster([], NullLogger<DocumentBroadcaster>.Instance);
        var definitions = new ScanDefinitionStore(options, NullLogger<ScanDefinitionStore>.Instance);
        _control = new ControlService(scope, new ScanEngine(scope, time, NullLogger<ScanEngine>.Instance), _documents, options, time, NullLoggerFactory.Instance, definitions: definitions);
        Services.AddSingleton(_control);
        Services.AddSingleton(definitions);
        Services.AddSingleton(new QueueRunner(_control, options, NullLogger<QueueRunner>.Instance));
        Services.AddScoped<StxmWeb.Components.Scan.EditorBus>();
        Services.AddMudServices(o => o.PopoverOptions.CheckForPopoverProvider = false);
        JSInterop.Mode = JSRuntimeMode.Loose;
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    private static AngleSharp.Dom.IElement FieldOf(IRenderedComponent<ScanEditor> editor, string inputId) =>
        editor.Find($"#{inputId}").Closest(".mud-input-control")!;

    [Fact]
    public void ZeroPoints_ShowsTheErrorBesideThatField_AndDisablesStart()
    {
        var editor = Render<ScanEditor>();

        editor.Find("#x-points").Input("0");

        editor.WaitForAssertion(() =>
        {
            Assert.Contains("Number of points must be at least 1", FieldOf(editor, "x-points").TextContent, StringComparison.Ordinal);
            Assert.DoesNotContain("Number of points", FieldOf(editor, "y-points").TextContent, StringComparison.Ordinal);
            Assert.True(editor.Find("button[aria-label='Start scan']").HasAttribute("disabled"));
        });
    }

    [Fact]
    public void RangePastTheStage_ShowsTheErrorBesideTheRange()
    {
        var editor = Render<ScanEditor>();

        editor.Find("#y-range").Input("300");

        editor.WaitForAssertion(() =>
            Assert.Contains("outside the SampleFineY limits", FieldOf(editor, "y-range").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public void ValidRequest_ShowsTheTimeEstimate_AndEnablesStart()
    {
        var editor = Render<ScanEditor>();

        Assert.Contains("estimate", editor.Find("[data-testid=estimate]").TextContent, StringComparison.Ordinal);
        Assert.False(editor.Find("button[aria-label='Start scan']").HasAttribute("disabled"));
    }

    [Fact]
    public async Task Start_IsDisabledWhileAScanRuns_AndEnabledAfter()
    {
        var editor = Render<ScanEditor>();

        editor.Find("button[aria-label='Start scan']").Click();

        editor.WaitForAssertion(() =>
        {
            Assert.True(editor.Find("button[aria-label='Start scan']").HasAttribute("disabled"));
            Assert.False(editor.Find("button[aria-label='Abort scan']").HasAttribute("disabled"));
        });
        editor.Find("button[aria-label='Abort scan']").Click();
        await _control.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30), Xunit.TestContext.Current.CancellationToken);
        editor.WaitForAssertion(() => Assert.False(editor.Find("button[aria-label='Start scan']").HasAttribute("disabled")));
        Assert.Equal("aborted", _control.Runs[0].State);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _control.Abort(new Caller("test", "test"));
            _control.WhenIdleAsync().Wait(TimeSpan.FromSeconds(30));
            Directory.Delete(_dataDir, recursive: true);
        }

        base.Dispose(disposing);
    }
}
