using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.Core.Documents;

namespace StxmWeb.Nexus.Import;

/// <summary>A file written by an import: where, and the scan it holds.</summary>
/// <param name="Path">The NXstxm file.</param>
/// <param name="Scan">The scan.</param>
public sealed record ImportedFile(string Path, ImportedScan Scan);

/// <summary>
/// Imports recorded pyStxm Bluesky runs into NXstxm files written by StxmWeb's own writer, the one every live scan
/// goes through (<see cref="NxstxmWriter"/>).
/// </summary>
public static class BlueskyImport
{
    /// <summary>Reads a document file's text into scans.</summary>
    /// <exception cref="BlueskyImportException">The text is not a pyStxm document file, or a run lacks what its scan needs.</exception>
    public static IReadOnlyList<ImportedScan> Read(string json) => PyStxmImporter.Convert(BlueskyDocuments.Parse(json));

    /// <summary>
    /// Writes each scan of a document file into <paramref name="directory"/>: <c>NAME.hdf5</c> for a file of one scan,
    /// <c>NAME_1.hdf5</c>, <c>NAME_2.hdf5</c>... for several, NAME being <paramref name="name"/>. Existing files are replaced.
    /// </summary>
    /// <exception cref="BlueskyImportException">As <see cref="Read"/>.</exception>
    /// <exception cref="IOException">A file cannot be written.</exception>
    public static IReadOnlyList<ImportedFile> Import(string json, string name, string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var scans = Read(json);
        Directory.CreateDirectory(directory);
        var files = new List<ImportedFile>();
        for (var i = 0; i < scans.Count; i++)
        {
            var path = System.IO.Path.Combine(Path.GetFullPath(directory), scans.Count == 1 ? $"{name}.hdf5" : $"{name}_{i + 1}.hdf5");
            Write(scans[i], path);
            files.Add(new ImportedFile(path, scans[i]));
        }

        return files;
    }

    /// <summary>Writes one scan's NXstxm file at <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Write(ImportedScan scan, string path)
    {
        ArgumentNullException.ThrowIfNull(scan);
        using var writer = new NxstxmWriter(NullLogger<NxstxmWriter>.Instance);
        string? fault = null;
        writer.Faulted += (_, reason) => fault = reason;
        foreach (var document in scan.Documents(path))
        {
            // The writer works synchronously: its ValueTask is complete when it returns.
            var written = writer.ConsumeAsync(document, CancellationToken.None);
            if (!written.IsCompletedSuccessfully)
            {
                written.AsTask().GetAwaiter().GetResult();
            }

            if (fault is not null)
            {
                throw new IOException(fault);
            }
        }
    }

    /// <summary>A safe file stem from a source file name: letters, digits, '-' and '_' kept, others '_'.</summary>
    public static string StemOf(string fileName)
    {
        var stem = System.IO.Path.GetFileNameWithoutExtension(fileName ?? "");
        var safe = new string([.. stem.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_')]);
        return string.IsNullOrEmpty(safe.Trim('_')) ? "bluesky" : safe;
    }
}
