using System.Text.Json;
using StxmWeb.Nexus;
using Microsoft.Extensions.Options;
using StxmWeb.Core.Scans;
using StxmWeb.Options;

namespace StxmWeb.Services;

/// <summary>
/// Scan definitions as data: the last-used request of each scan type for each user, kept as JSON files under
/// <c>&lt;DataDir&gt;/.stxmweb/definitions/&lt;user&gt;/&lt;ScanType&gt;.json</c> so they survive restarts (pyStxm keeps
/// them in app_dflts.json), and readable back from any NXstxm file's <c>collection/scan_request</c>.
/// </summary>
public sealed partial class ScanDefinitionStore(IOptions<InstrumentOptions> options, ILogger<ScanDefinitionStore> logger)
{
    /// <summary>How definitions are written: camelCase, enums as names, indented.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly string _root = Path.Combine(options.Value.DataDirectory, ".stxmweb", "definitions");

    /// <summary>The last request of <paramref name="type"/> that <paramref name="user"/> started, or null.</summary>
    public ScanRequest? LastUsed(string user, ScanType type)
    {
        var path = PathOf(user, type);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<ScanRequest>(File.ReadAllText(path), Json) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            LogUnreadable(logger, path, ex);
            return null;
        }
    }

    /// <summary>Remembers <paramref name="request"/> as <paramref name="user"/>'s last of its type (atomically replaced).</summary>
    public void SaveLastUsed(string user, ScanRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = PathOf(user, request.ScanType);
        try
        {
            AtomicFile.WriteAllText(path, JsonSerializer.Serialize(request, Json));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Remembering settings must never stop a scan.
            LogUnwritable(logger, path, ex);
        }
    }

    /// <summary>
    /// The request stored in an NXstxm file (<c>/entry0/collection/scan_request</c>), to run the same scan again.
    /// Throws <see cref="InvalidDataException"/> naming what is missing.
    /// </summary>
    public static ScanRequest FromNexusFile(string path)
    {
        var json = NxstxmReader.ScanRequestJson(path);
        try
        {
            return JsonSerializer.Deserialize<ScanRequest>(json, Json) ?? throw new InvalidDataException("The scan request is empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The scan request in {Path.GetFileName(path)} cannot be read: {ex.Message}", ex);
        }
    }

    private string PathOf(string user, ScanType type)
    {
        var safe = string.Concat((string.IsNullOrWhiteSpace(user) ? "anonymous" : user).Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        return Path.Combine(_root, safe, $"{type}.json");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scan definition {Path} cannot be read")]
    private static partial void LogUnreadable(ILogger logger, string path, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scan definition {Path} cannot be written")]
    private static partial void LogUnwritable(ILogger logger, string path, Exception exception);
}
