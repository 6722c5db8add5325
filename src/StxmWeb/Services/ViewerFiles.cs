using StxmWeb.Nexus.Import;

namespace StxmWeb.Services;

/// <summary>
/// Where files brought to the server go: uploads opened in the viewer (<c>uploads/</c> of the data directory) and NXstxm
/// files imported from recorded Bluesky runs (<c>imported/</c>). A file is never replaced: a taken name gets -2, -3...
/// </summary>
public sealed class ViewerFiles(ControlService control)
{
    /// <summary>Largest upload opened in the viewer: 4 GiB (a long stack).</summary>
    public const long MaxUpload = 4L << 30;

    /// <summary>Uploaded files.</summary>
    public string UploadDirectory => Path.Combine(Path.GetFullPath(control.DataDirectory), "uploads");

    /// <summary>Files made by the Bluesky import.</summary>
    public string ImportDirectory => Path.Combine(Path.GetFullPath(control.DataDirectory), "imported");

    /// <summary>DIR/NAME.EXT, or DIR/NAME-2.EXT, NAME-3.EXT... when taken.</summary>
    public static string FreeName(string directory, string name, string extension)
    {
        var path = Path.Combine(directory, name + extension);
        for (var n = 2; File.Exists(path); n++)
        {
            path = Path.Combine(directory, $"{name}-{n}{extension}");
        }

        return path;
    }

    /// <summary>
    /// Saves an upload for the viewer and returns the NXstxm file to open: the upload itself, or, for a JSON file of
    /// Bluesky documents, the first file its import wrote. <paramref name="progress"/> gets the bytes copied so far.
    /// </summary>
    /// <exception cref="BlueskyImportException">A JSON upload is not a recording of pyStxm runs.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public async Task<string> SaveAsync(Stream upload, string fileName, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var json = string.Equals(Path.GetExtension(fileName), ".json", StringComparison.OrdinalIgnoreCase);
        var stem = BlueskyImport.StemOf(fileName);
        Directory.CreateDirectory(UploadDirectory);
        var path = FreeName(UploadDirectory, stem, json ? ".json" : NexusExtension(fileName));
        await using (var target = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            var buffer = new byte[1 << 16];
            long copied = 0;
            int n;
            while ((n = await upload.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await target.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                copied += n;
                progress?.Report(copied);
            }
        }

        if (!json)
        {
            return path;
        }

        var scans = BlueskyImport.Read(await File.ReadAllTextAsync(path, cancellationToken));
        Directory.CreateDirectory(ImportDirectory);
        string? first = null;
        for (var i = 0; i < scans.Count; i++)
        {
            var target = FreeName(ImportDirectory, scans.Count == 1 ? stem : $"{stem}_{i + 1}", ".hdf5");
            BlueskyImport.Write(scans[i], target);
            first ??= target;
        }

        return first!;
    }

    private static string NexusExtension(string fileName) =>
        Path.GetExtension(fileName).ToLowerInvariant() is ".h5" or ".hdf" or ".hdf5" or ".nxs" or ".nx5" ? Path.GetExtension(fileName).ToLowerInvariant() : ".hdf5";
}
