using System.Buffers;

namespace StxmWeb.ChannelAccess.Protocol;

/// <summary>A framed message: its header and its (padded) payload bytes.</summary>
/// <param name="Header">The header.</param>
/// <param name="Payload">The payload, <see cref="MessageHeader.PayloadSize"/> bytes.</param>
public readonly record struct RawMessage(MessageHeader Header, ReadOnlyMemory<byte> Payload);

/// <summary>
/// Cuts a byte stream (a TCP circuit) or a datagram into messages. A read may hold many messages and a message may span
/// reads: <see cref="TryRead"/> takes what is complete and says when it needs more. Malformed input is
/// <see cref="OperationStatus.InvalidData"/> with a reason, never an exception.
/// </summary>
public static class Framing
{
    /// <summary>The largest payload accepted (a few MB of array, as a server should take).</summary>
    public const uint DefaultMaxPayload = 16 * 1024 * 1024;

    /// <summary>
    /// Reads one message from the start of <paramref name="buffer"/>. On <see cref="OperationStatus.Done"/>,
    /// <paramref name="consumed"/> bytes were used; on NeedMoreData nothing is used; on InvalidData
    /// <paramref name="error"/> says why (the circuit should be closed: its framing is lost).
    /// </summary>
    public static OperationStatus TryRead(ReadOnlySequence<byte> buffer, out RawMessage message, out long consumed, out string? error, uint maxPayload = DefaultMaxPayload)
    {
        message = default;
        consumed = 0;
        error = null;
        Span<byte> headerBytes = stackalloc byte[MessageHeader.ExtendedSize];
        var available = (int)Math.Min(buffer.Length, MessageHeader.ExtendedSize);
        buffer.Slice(0, available).CopyTo(headerBytes);
        var status = MessageHeader.TryRead(headerBytes[..available], out var header, out var headerSize);
        if (status != OperationStatus.Done)
        {
            return status;
        }

        if (header.PayloadSize > maxPayload)
        {
            error = $"payload of {header.PayloadSize} bytes for {header.Command} exceeds the limit of {maxPayload}";
            return OperationStatus.InvalidData;
        }

        if (header.PayloadSize % 8 != 0)
        {
            // rsrv rejects misaligned messages ("Missaligned protocol rejected"); so do we.
            error = $"payload size {header.PayloadSize} of {header.Command} is not a multiple of 8";
            return OperationStatus.InvalidData;
        }

        var total = headerSize + (long)header.PayloadSize;
        if (buffer.Length < total)
        {
            return OperationStatus.NeedMoreData;
        }

        message = new RawMessage(header, buffer.Slice(headerSize, header.PayloadSize).ToArray());
        consumed = total;
        return OperationStatus.Done;
    }

    /// <summary>Reads every complete message of a buffer (a UDP datagram holds several).</summary>
    public static IReadOnlyList<RawMessage> ReadAll(ReadOnlyMemory<byte> datagram, out string? error)
    {
        var messages = new List<RawMessage>();
        var rest = new ReadOnlySequence<byte>(datagram);
        error = null;
        while (!rest.IsEmpty)
        {
            var status = TryRead(rest, out var message, out var consumed, out error);
            if (status != OperationStatus.Done)
            {
                error ??= $"the datagram ends inside a message ({rest.Length} bytes left)";
                break;
            }

            messages.Add(message);
            rest = rest.Slice(consumed);
        }

        return messages;
    }

    /// <summary>Writes a header and its payload, zero-padding the payload to 8 bytes.</summary>
    public static void Write(IBufferWriter<byte> writer, CommandId command, ushort dataType, uint count, uint parameter1, uint parameter2, ReadOnlySpan<byte> payload = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var padded = MessageHeader.Align(payload.Length);
        var header = new MessageHeader(command, (uint)padded, dataType, count, parameter1, parameter2);
        var span = writer.GetSpan(header.Size + padded);
        header.Write(span);
        payload.CopyTo(span[header.Size..]);
        span.Slice(header.Size + payload.Length, padded - payload.Length).Clear();
        writer.Advance(header.Size + padded);
    }
}
