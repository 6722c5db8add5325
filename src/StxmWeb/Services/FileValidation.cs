using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using StxmWeb.Core.Documents;
using StxmWeb.Nexus;
using StxmWeb.Nexus.Validation;
using StxmWeb.Options;

namespace StxmWeb.Services;

/// <summary>A file's verdict: StxmWeb's validator's, and the NIAC's when it is configured.</summary>
/// <param name="Valid">Whether StxmWeb's validator found no error.</param>
/// <param name="Summary">Its one line, e.g. "valid (NXstxm, 1 entry, 3 warnings)".</param>
/// <param name="Errors">The first errors, as "path: message".</param>
/// <param name="Niac">cnxvalidate's last line, or null when it is not configured.</param>
public sealed record FileVerdict(bool Valid, string Summary, IReadOnlyList<string> Errors, string? Niac = null)
{
    /// <summary>Whether the NIAC's validator passed the file (null: not run).</summary>
    public bool? NiacValid => Niac is null ? null : Niac.Contains("passed validation", StringComparison.Ordinal) || Niac.StartsWith("0 errors", StringComparison.Ordinal);
}

/// <summary>
/// Validates NeXus files: on demand (the API, the <c>validate</c> command's library), and every file a run saves, as
/// soon as it is final (pyStxm validates on save when PATH_TO_CNXVALIDATE is set). The verdict goes into the run's
/// history. Runs on a task of its own, so validation never delays a scan.
/// </summary>
public sealed partial class FileValidation : BackgroundService
{
    private readonly ValidationOptions _options;
    private readonly NxstxmWriter _writer;
    private readonly ControlService _control;
    private readonly ILogger _logger;
    private readonly Channel<(Guid RunId, string Path)> _saved = Channel.CreateUnbounded<(Guid, string)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lazy<NxdlLibrary> _library;
    private readonly Lazy<string> _niacDefinitions;

    /// <summary>Creates the service.</summary>
    public FileValidation(IOptions<InstrumentOptions> options, NxstxmWriter writer, ControlService control, ILogger<FileValidation> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value.Validation;
        _writer = writer ?? throw new ArgumentNullException(nameof(writer));
        _control = control ?? throw new ArgumentNullException(nameof(control));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _library = new(() => string.IsNullOrWhiteSpace(_options.DefinitionsPath) ? NxdlLibrary.Embedded : NxdlLibrary.Load(_options.DefinitionsPath));

        // cnxvalidate reads definitions from a directory: the configured one, or the embedded copy written out once.
        _niacDefinitions = new(() => string.IsNullOrWhiteSpace(_options.DefinitionsPath)
            ? NxdlLibrary.ExtractEmbedded(Path.Combine(Path.GetTempPath(), $"stxmweb-nexus-definitions-{Environment.ProcessId}"))
            : _options.DefinitionsPath);
        _writer.FileClosed += OnFileClosed;
    }

    /// <summary>The definitions in use.</summary>
    public NxdlLibrary Library => _library.Value;

    /// <summary>The NIAC's validator program, or null when none is configured.</summary>
    public string? NiacProgram => _options.Cnxvalidate switch
    {
        { Length: > 0 } path when Directory.Exists(path) => Path.Combine(path, "nxvalidate"),
        { Length: > 0 } path => path,
        _ => null,
    };

    /// <summary>StxmWeb's validation of <paramref name="path"/>.</summary>
    public ValidationReport Validate(string path) => NxdlValidator.Validate(path, Library, _options.Definition);

    /// <summary>Both verdicts on <paramref name="path"/>.</summary>
    public async Task<FileVerdict> VerdictAsync(string path, CancellationToken cancellationToken = default)
    {
        var report = await Task.Run(() => Validate(path), cancellationToken).ConfigureAwait(false);
        var niac = NiacProgram is { } program ? await NiacAsync(program, path, cancellationToken).ConfigureAwait(false) : null;
        return new FileVerdict(report.IsValid, report.Summary, [.. report.Errors.Take(5).Select(e => $"{e.Path}: {e.Message}")], niac);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _writer.FileClosed -= OnFileClosed;
        base.Dispose();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var (runId, path) in _saved.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                var verdict = await VerdictAsync(path, stoppingToken).ConfigureAwait(false);
                _control.RecordValidation(runId, verdict);
                if (!verdict.Valid || verdict.NiacValid == false)
                {
                    LogInvalid(_logger, path, verdict.Summary, verdict.Niac ?? "not run");
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A file that cannot be validated is recorded as such; the service goes on with the next.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _control.RecordValidation(runId, new FileVerdict(false, $"not validated: {ex.Message}", []));
            }
        }
    }

    private void OnFileClosed(RunStop stop, string path) => _saved.Writer.TryWrite((stop.RunId, path));

    private async Task<string> NiacAsync(string program, string path, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-l", _niacDefinitions.Value, "-a", _options.Definition, path })
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromMinutes(2), cancellationToken).ConfigureAwait(false);

            // cnxvalidate exits 0 even when it finds errors: its verdict is its last line.
            var lines = (await output.ConfigureAwait(false) + await errors.ConfigureAwait(false)).Trim().Split('\n');
            return lines[^1].Trim();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or TimeoutException)
        {
            return $"cnxvalidate could not run: {ex.Message}";
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path} does not validate: {Summary}; cnxvalidate: {Niac}")]
    private static partial void LogInvalid(ILogger logger, string path, string summary, string niac);
}
