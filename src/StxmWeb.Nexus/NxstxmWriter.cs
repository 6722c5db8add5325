using System.Buffers.Binary;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StxmWeb.Core.Documents;

namespace StxmWeb.Nexus;

/// <summary>How the final copy of a run's file stores its data.</summary>
public enum NxstxmCompression
{
    /// <summary>Contiguous, as the live file (and as HDF5 writes by default).</summary>
    Contiguous,

    /// <summary>Chunked, uncompressed.</summary>
    Chunked,

    /// <summary>Chunked, shuffled and deflated (gzip): what pyStxm writes, several times smaller.</summary>
    Deflate,
}

/// <summary>
/// Writes one NXstxm file per run as the documents arrive. At the descriptor the whole file is laid out (data NaN-filled,
/// end time = start time, exit status "running") and stays a valid HDF5 file from then on: each frame is written in place
/// at its dataset's byte offset and flushed, so a crash leaves every acquired line readable. At RunStop the file is
/// written once more, complete, under a temporary name and renamed over the live one (an atomic replace); that copy's
/// data are chunked and deflated unless <see cref="Compression"/> says otherwise.
/// </summary>
public sealed partial class NxstxmWriter : IDocumentConsumer, IDisposable
{
    private readonly ILogger _logger;
    private RunStart? _start;
    private Descriptor? _descriptor;
    private FileStream? _stream;
    private double[][] _data = [];
    private double[][] _ring = [];
    private long[] _dataOffsets = [];
    private long[] _ringOffsets = [];
    private float[]?[] _frames = [];
    private long[] _frameOffsets = [];
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly SpareImages _spare = new();

    /// <summary>Creates a writer.</summary>
    public NxstxmWriter(ILogger<NxstxmWriter> logger) => _logger = logger ?? throw new ArgumentNullException(nameof(logger));

    /// <summary>How the final copy stores the data (default <see cref="NxstxmCompression.Deflate"/>).</summary>
    public NxstxmCompression Compression { get; init; } = NxstxmCompression.Deflate;

    /// <summary>Raised after a run's file is final: its path and how the run ended.</summary>
    public event Action<RunStop, string>? FileClosed;

    /// <summary>
    /// Raised when the file of a run cannot be written (no space, read-only, I/O error): the run id and the reason. The
    /// writer stops writing that run; what is already on disk stays readable.
    /// </summary>
    public event Action<Guid, string>? Faulted;

    /// <inheritdoc />
    public ValueTask ConsumeAsync(Document document, CancellationToken cancellationToken)
    {
        try
        {
            Handle(document);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var runId = document.RunId;
            var path = _start?.FilePath ?? "the data file";
            LogFaulted(_logger, path, ex);
            Close();
            _start = null;
            Faulted?.Invoke(runId, $"Writing {path} failed: {ex.Message}");
        }

        return ValueTask.CompletedTask;
    }

    private void Handle(Document document)
    {
        switch (document)
        {
            case RunStart start:
                Close();
                _start = start;
                break;
            case Descriptor descriptor when _start is not null && descriptor.RunId == _start.RunId:
                Open(descriptor);
                break;
            case Frame frame when _descriptor is not null && frame.RunId == _descriptor.RunId:
                Write(frame);
                break;
            case DetectorFrame image when _descriptor is not null && image.RunId == _descriptor.RunId:
                Write(image);
                break;
            case RunStop stop when _descriptor is not null && stop.RunId == _descriptor.RunId:
                Finish(stop);
                break;
        }
    }

    private void Open(Descriptor descriptor)
    {
        var start = _start!;
        var began = Stopwatch.GetTimestamp();
        _descriptor = descriptor;
        _data = [.. descriptor.Entries.Select(e => _spare.Take(e.Size, double.NaN))];
        _ring = [.. descriptor.Entries.Select(e => _spare.Take(e.Size, double.NaN))];
        _frames = [.. descriptor.Entries.Select(e => e.Frames is { } f ? _spare.Take(e.Size * f.Height * f.Width, float.NaN) : null)];
        _spare.Clear();
        var layout = NxstxmLayout.Build(start, descriptor, _data, _ring, _frames, start.Time, "running", "");
        layout.Write(start.FilePath, NxstxmLayout.WriteOptions(layout));
        var withFrames = descriptor.Entries.Where(e => e.Frames is not null).ToArray();
        var offsets = NxstxmLayout.ContiguousOffsets(start.FilePath,
            [.. descriptor.Entries.Select(e => NxstxmLayout.DataPath(descriptor, e)), .. descriptor.Entries.Select(NxstxmLayout.ControlDataPath), .. withFrames.Select(NxstxmLayout.FramesPath)]);
        var n = descriptor.Entries.Length;
        _dataOffsets = offsets[..n];
        _ringOffsets = offsets[n..(2 * n)];
        _frameOffsets = new long[n];
        for (var i = 0; i < withFrames.Length; i++)
        {
            _frameOffsets[Array.IndexOf(descriptor.Entries, withFrames[i])] = offsets[(2 * n) + i];
        }
        _stream = new FileStream(start.FilePath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.None);
        var elapsed = Stopwatch.GetElapsedTime(began).TotalMilliseconds;
        LogOpened(_logger, start.FilePath, descriptor.Entries.Length, descriptor.TotalSize, elapsed);
    }

    private void Write(Frame frame)
    {
        var d = _descriptor!;
        if (frame.Entry < 0 || frame.Entry >= d.Entries.Length)
        {
            LogOutOfRange(_logger, frame.Sequence, frame.Plane, frame.Row, frame.Column);
            return;
        }

        var shape = d.Entries[frame.Entry].Shape;
        var data = _data[frame.Entry];
        var ring = _ring[frame.Entry];
        var rows = shape.Length >= 2 ? shape[^2] : 1;
        var columns = shape[^1];
        var index = ((long)frame.Plane * rows + frame.Row) * columns + frame.Column;
        var count = Math.Min(frame.Values.Length, data.Length - (int)index);
        if (index < 0 || count <= 0 || frame.Column < 0 || frame.Row < 0 || frame.Plane < 0)
        {
            LogOutOfRange(_logger, frame.Sequence, frame.Plane, frame.Row, frame.Column);
            return;
        }

        for (var i = 0; i < count; i++)
        {
            data[index + i] = frame.Values[i];
            ring[index + i] = frame.RingCurrent;
        }

        WriteInPlace(_dataOffsets[frame.Entry] + index * sizeof(double), data.AsSpan((int)index, count));
        WriteInPlace(_ringOffsets[frame.Entry] + index * sizeof(double), ring.AsSpan((int)index, count));
        _stream!.Flush();
    }

    private void Write(DetectorFrame image)
    {
        var d = _descriptor!;
        if (image.Entry < 0 || image.Entry >= d.Entries.Length || d.Entries[image.Entry].Frames is not { } stream || _frames[image.Entry] is not { } frames)
        {
            LogFrameDropped(_logger, image.Entry, image.Index);
            return;
        }

        var size = stream.Height * stream.Width;
        if (image.Index < 0 || (long)(image.Index + 1) * size > frames.Length || image.Pixels.Length != size)
        {
            LogFrameDropped(_logger, image.Entry, image.Index);
            return;
        }

        image.Pixels.CopyTo(frames, (long)image.Index * size);
        var stream0 = _stream!;
        stream0.Position = _frameOffsets[image.Entry] + ((long)image.Index * size * sizeof(float));
        var bytes = new byte[size * sizeof(float)];
        for (var i = 0; i < size; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), image.Pixels[i]);
        }

        stream0.Write(bytes);
        stream0.Flush();
    }

    private void WriteInPlace(long offset, ReadOnlySpan<double> values)
    {
        var stream = _stream!;
        stream.Position = offset;
        while (!values.IsEmpty)
        {
            var n = Math.Min(values.Length, _buffer.Length / sizeof(double));
            for (var i = 0; i < n; i++)
            {
                BinaryPrimitives.WriteDoubleLittleEndian(_buffer.AsSpan(i * sizeof(double)), values[i]);
            }

            stream.Write(_buffer, 0, n * sizeof(double));
            values = values[n..];
        }
    }

    private void Finish(RunStop stop)
    {
        var start = _start!;
        var descriptor = _descriptor!;
        _stream?.Flush(flushToDisk: true);
        _stream?.Dispose();
        _stream = null;

        var status = stop.Status.ToString().ToLowerInvariant();
        var temporary = start.FilePath + ".final";
        try
        {
            var layout = NxstxmLayout.Build(start, descriptor, _data, _ring, _frames, stop.Time, status, stop.Reason, Compression);
            layout.Write(temporary, NxstxmLayout.WriteOptions(layout));
            File.Move(temporary, start.FilePath, overwrite: true);
        }
        catch (IOException)
        {
            // The live file (every line, status "running") stays; only the final copy could not be made.
            File.Delete(temporary);
            throw;
        }
        finally
        {
            ReleaseImages();
        }

        LogClosed(_logger, start.FilePath, status);
        _start = null;
        _descriptor = null;
        FileClosed?.Invoke(stop, start.FilePath);
    }

    private void Close()
    {
        _stream?.Dispose();
        _stream = null;
        _descriptor = null;
        ReleaseImages();
    }

    /// <summary>
    /// The run's images are in its file now: they are kept only to be the next run's when it has the same sizes (a
    /// beamline repeats its scans), so that a new run does not allocate and collect tens of megabytes as it starts (the
    /// garbage collector's pause at that moment was the live path's worst latency; bench/results/live-load.md).
    /// </summary>
    private void ReleaseImages()
    {
        if (_data.Length == 0 && _ring.Length == 0 && _frames.Length == 0)
        {
            return; // released already
        }

        _spare.Keep([.. _data, .. _ring, .. _frames.OfType<float[]>()]);
        _data = [];
        _ring = [];
        _frames = [];
    }

    /// <inheritdoc />
    public void Dispose() => Close();

    [LoggerMessage(Level = LogLevel.Information, Message = "NXstxm file {Path} laid out: {Entries} entries, {Values} values, in {Milliseconds:F0} ms")]
    private static partial void LogOpened(ILogger logger, string path, int entries, long values, double milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "NXstxm file {Path} closed: {Status}")]
    private static partial void LogClosed(ILogger logger, string path, string status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Path} failed")]
    private static partial void LogFaulted(ILogger logger, string path, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Area-detector frame {Index} of entry {Entry} does not fit the layout; dropped from the file")]
    private static partial void LogFrameDropped(ILogger logger, int entry, int index);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Frame {Sequence} at ({Plane},{Row},{Column}) lies outside the data; dropped from the file")]
    private static partial void LogOutOfRange(ILogger logger, int sequence, int plane, int row, int column);
}
