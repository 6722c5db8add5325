using System.Buffers.Binary;
using System.Text;

namespace StxmWeb.ChannelAccess.Protocol;

/// <summary>The seven base value types of Channel Access (db_access.h).</summary>
#pragma warning disable CA1720 // The names are the protocol's own (DBR_STRING, DBR_SHORT, ...).
public enum DbrBase : ushort
{
    /// <summary>DBR_STRING: 40-byte NUL-terminated text.</summary>
    String = 0,

    /// <summary>DBR_SHORT (= DBR_INT): i16.</summary>
    Short = 1,

    /// <summary>DBR_FLOAT: f32.</summary>
    Float = 2,

    /// <summary>DBR_ENUM: u16 state index.</summary>
    Enum = 3,

    /// <summary>DBR_CHAR: u8.</summary>
    Char = 4,

    /// <summary>DBR_LONG: i32.</summary>
    Long = 5,

    /// <summary>DBR_DOUBLE: f64.</summary>
    Double = 6,
}
#pragma warning restore CA1720

/// <summary>The metadata families: type code = family × 7 + base (codes 0..34).</summary>
public enum DbrFamily
{
    /// <summary>Value only.</summary>
    Plain = 0,

    /// <summary>Alarm status and severity.</summary>
    Sts = 1,

    /// <summary>Alarm and time stamp.</summary>
    Time = 2,

    /// <summary>Alarm, units, precision, display and alarm limits (enum: state strings).</summary>
    Gr = 3,

    /// <summary>Graphic plus control limits.</summary>
    Ctrl = 4,
}

/// <summary>
/// A value with its metadata, as any DBR type carries it. Values are held as a typed array of the base type
/// (string[], short[], float[], ushort[], byte[], int[] or double[]).
/// </summary>
public sealed record DbrValue
{
    /// <summary>Base type of <see cref="Values"/>.</summary>
    public required DbrBase Base { get; init; }

    /// <summary>The elements, a typed array of the base type.</summary>
    public required Array Values { get; init; }

    /// <summary>Alarm status (0 NO_ALARM ... 21 WRITE_ACCESS).</summary>
    public short Status { get; init; }

    /// <summary>Alarm severity (0 NO_ALARM, 1 MINOR, 2 MAJOR, 3 INVALID).</summary>
    public short Severity { get; init; }

    /// <summary>Time stamp; TIME types carry it (EPICS epoch 1990-01-01 UTC, nanoseconds).</summary>
    public DateTimeOffset Timestamp { get; init; } = Dbr.Epoch;

    /// <summary>Engineering units (at most 7 characters on the wire).</summary>
    public string Units { get; init; } = "";

    /// <summary>Display precision (FLOAT and DOUBLE graphic/control types).</summary>
    public short Precision { get; init; }

    /// <summary>
    /// Limits in wire order: upper_disp, lower_disp, upper_alarm, upper_warning, lower_warning, lower_alarm, upper_ctrl,
    /// lower_ctrl. Values are immutable: replace the array (<c>with { Limits = ... }</c>), never write into it; the default
    /// (eight zeros) is one array shared by every value, so that a monitor update allocates no limits of its own.
    /// </summary>
    public double[] Limits { get; init; } = NoLimits;

    private static readonly double[] NoLimits = new double[8];

    /// <summary>Enum state labels (at most 16 of 25 characters).</summary>
    public string[] EnumStrings { get; init; } = [];

    /// <summary>Number of elements.</summary>
    public int Count => Values.Length;

    /// <summary>A scalar double value.</summary>
    public static DbrValue Of(double value) => new() { Base = DbrBase.Double, Values = new[] { value } };

    /// <summary>A scalar string value.</summary>
    public static DbrValue Of(string value) => new() { Base = DbrBase.String, Values = new[] { value } };
}

/// <summary>
/// Encoding and decoding of DBR payloads (CA_PROTOCOL.md section 4): big-endian, metadata once then <c>count</c> values,
/// each layout with the RISC padding of db_access.h. Pure functions over spans.
/// </summary>
public static class Dbr
{
    /// <summary>The EPICS epoch, 1990-01-01 UTC (POSIX 631152000).</summary>
    public static readonly DateTimeOffset Epoch = new(1990, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>MAX_STRING_SIZE.</summary>
    public const int StringSize = 40;

    /// <summary>MAX_UNITS_SIZE.</summary>
    public const int UnitsSize = 8;

    /// <summary>MAX_ENUM_STATES.</summary>
    public const int EnumStates = 16;

    /// <summary>MAX_ENUM_STRING_SIZE.</summary>
    public const int EnumStringSize = 26;

    /// <summary>The highest plain/STS/TIME/GR/CTRL code (DBR_CTRL_DOUBLE).</summary>
    public const ushort LastValueType = 34;

    // Offset of the first value, by family then base (String, Short, Float, Enum, Char, Long, Double); db_access.h.
    private static readonly int[][] ValueOffsets =
    [
        [0, 0, 0, 0, 0, 0, 0],
        [4, 4, 4, 4, 5, 4, 8],
        [12, 14, 12, 14, 15, 12, 16],
        [4, 24, 40, 422, 19, 36, 64],
        [4, 28, 48, 422, 21, 44, 80],
    ];

    /// <summary>The type code of a family and base.</summary>
    public static ushort Code(DbrFamily family, DbrBase @base) => (ushort)((int)family * 7 + (int)@base);

    /// <summary>Whether <paramref name="type"/> is a value type this codec carries (0..34).</summary>
    public static bool IsValueType(ushort type) => type <= LastValueType;

    /// <summary>The family of a type code.</summary>
    public static DbrFamily Family(ushort type) => (DbrFamily)(type / 7);

    /// <summary>The base of a type code.</summary>
    public static DbrBase Base(ushort type) => (DbrBase)(type % 7);

    /// <summary>Bytes of one value of a base type.</summary>
    public static int ValueSize(DbrBase @base) => @base switch
    {
        DbrBase.String => StringSize,
        DbrBase.Short or DbrBase.Enum => 2,
        DbrBase.Float or DbrBase.Long => 4,
        DbrBase.Char => 1,
        DbrBase.Double => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(@base), @base, "not a DBR base type"),
    };

    /// <summary>Unpadded payload bytes of <paramref name="count"/> elements of <paramref name="type"/>.</summary>
    public static int Size(ushort type, int count)
    {
        RequireValueType(type);
        return ValueOffsets[(int)Family(type)][(int)Base(type)] + count * ValueSize(Base(type));
    }

    /// <summary>Encodes <paramref name="value"/> as <paramref name="type"/> (its base must match the value's).</summary>
    public static byte[] Encode(ushort type, DbrValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        RequireValueType(type);
        var family = Family(type);
        var @base = Base(type);
        if (@base != value.Base)
        {
            throw new ArgumentException($"type {type} carries {@base}, the value is {value.Base}; convert first", nameof(type));
        }

        var bytes = new byte[Size(type, value.Count)];
        var span = bytes.AsSpan();
        if (family != DbrFamily.Plain)
        {
            BinaryPrimitives.WriteInt16BigEndian(span, value.Status);
            BinaryPrimitives.WriteInt16BigEndian(span[2..], value.Severity);
        }

        if (family == DbrFamily.Time)
        {
            var since = value.Timestamp - Epoch;
            var seconds = (uint)Math.Max(0, Math.Floor(since.TotalSeconds));
            var nanoseconds = (uint)((since.Ticks - seconds * TimeSpan.TicksPerSecond) * 100);
            BinaryPrimitives.WriteUInt32BigEndian(span[4..], seconds);
            BinaryPrimitives.WriteUInt32BigEndian(span[8..], nanoseconds);
        }

        if (family is DbrFamily.Gr or DbrFamily.Ctrl)
        {
            WriteGraphic(span, family, @base, value);
        }

        WriteValues(span[ValueOffsets[(int)family][(int)@base]..], value);
        return bytes;
    }

    /// <summary>
    /// Decodes <paramref name="count"/> elements of <paramref name="type"/>. A payload shorter than the layout (a single
    /// string written as strlen+1, say) is zero-extended; the padding after the data is ignored.
    /// </summary>
    public static DbrValue Decode(ushort type, int count, ReadOnlySpan<byte> payload)
    {
        RequireValueType(type);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var family = Family(type);
        var @base = Base(type);
        var size = Size(type, count);

        // A short payload (a server may send fewer bytes than the count implies) is read as zero-padded.
        ReadOnlySpan<byte> data;
        if (payload.Length < size)
        {
            var padded = new byte[size];
            payload.CopyTo(padded);
            data = padded;
        }
        else
        {
            data = payload;
        }

        // One value object, with the status and time-stamp read first (this is every monitor update's path).
        short status = 0, severity = 0;
        var timestamp = Epoch;
        if (family != DbrFamily.Plain)
        {
            status = BinaryPrimitives.ReadInt16BigEndian(data);
            severity = BinaryPrimitives.ReadInt16BigEndian(data[2..]);
        }

        if (family == DbrFamily.Time)
        {
            var seconds = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
            var nanoseconds = BinaryPrimitives.ReadUInt32BigEndian(data[8..]);
            timestamp = Epoch + TimeSpan.FromSeconds(seconds) + TimeSpan.FromTicks(nanoseconds / 100);
        }

        var value = new DbrValue
        {
            Base = @base, Values = ReadValues(data[ValueOffsets[(int)family][(int)@base]..], @base, count),
            Status = status, Severity = severity, Timestamp = timestamp,
        };

        if (family is DbrFamily.Gr or DbrFamily.Ctrl)
        {
            value = ReadGraphic(data, family, @base, value);
        }

        return value;
    }

    private static void WriteGraphic(Span<byte> span, DbrFamily family, DbrBase @base, DbrValue value)
    {
        var limits = family == DbrFamily.Ctrl ? 8 : 6;
        switch (@base)
        {
            case DbrBase.String:
                return;
            case DbrBase.Enum:
                var states = Math.Min(value.EnumStrings.Length, EnumStates);
                BinaryPrimitives.WriteInt16BigEndian(span[4..], (short)states);
                for (var i = 0; i < states; i++)
                {
                    WriteText(span.Slice(6 + i * EnumStringSize, EnumStringSize), value.EnumStrings[i]);
                }

                return;
            case DbrBase.Float or DbrBase.Double:
                BinaryPrimitives.WriteInt16BigEndian(span[4..], value.Precision);
                WriteText(span.Slice(8, UnitsSize), value.Units);
                WriteLimits(span[16..], @base, value.Limits, limits);
                return;
            default:
                WriteText(span.Slice(4, UnitsSize), value.Units);
                WriteLimits(span[12..], @base, value.Limits, limits);
                return;
        }
    }

    private static DbrValue ReadGraphic(ReadOnlySpan<byte> data, DbrFamily family, DbrBase @base, DbrValue value)
    {
        var limits = family == DbrFamily.Ctrl ? 8 : 6;
        switch (@base)
        {
            case DbrBase.String:
                return value;
            case DbrBase.Enum:
                var states = Math.Clamp((int)BinaryPrimitives.ReadInt16BigEndian(data[4..]), 0, EnumStates);
                var strings = new string[states];
                for (var i = 0; i < states; i++)
                {
                    strings[i] = ReadText(data.Slice(6 + i * EnumStringSize, EnumStringSize));
                }

                return value with { EnumStrings = strings };
            case DbrBase.Float or DbrBase.Double:
                return value with
                {
                    Precision = BinaryPrimitives.ReadInt16BigEndian(data[4..]),
                    Units = ReadText(data.Slice(8, UnitsSize)),
                    Limits = ReadLimits(data[16..], @base, limits),
                };
            default:
                return value with { Units = ReadText(data.Slice(4, UnitsSize)), Limits = ReadLimits(data[12..], @base, limits) };
        }
    }

    private static void WriteLimits(Span<byte> span, DbrBase @base, double[] limits, int n)
    {
        var size = ValueSize(@base);
        for (var i = 0; i < n; i++)
        {
            var limit = i < limits.Length ? limits[i] : 0;
            var slot = span[(i * size)..];
            switch (@base)
            {
                case DbrBase.Short: BinaryPrimitives.WriteInt16BigEndian(slot, (short)Math.Clamp(limit, short.MinValue, short.MaxValue)); break;
                case DbrBase.Float: BinaryPrimitives.WriteSingleBigEndian(slot, (float)limit); break;
                case DbrBase.Char: slot[0] = (byte)Math.Clamp(limit, byte.MinValue, byte.MaxValue); break;
                case DbrBase.Long: BinaryPrimitives.WriteInt32BigEndian(slot, (int)Math.Clamp(limit, int.MinValue, int.MaxValue)); break;
                case DbrBase.Double: BinaryPrimitives.WriteDoubleBigEndian(slot, limit); break;
            }
        }
    }

    private static double[] ReadLimits(ReadOnlySpan<byte> data, DbrBase @base, int n)
    {
        var size = ValueSize(@base);
        var limits = new double[8];
        for (var i = 0; i < n; i++)
        {
            var slot = data[(i * size)..];
            limits[i] = @base switch
            {
                DbrBase.Short => BinaryPrimitives.ReadInt16BigEndian(slot),
                DbrBase.Float => BinaryPrimitives.ReadSingleBigEndian(slot),
                DbrBase.Char => slot[0],
                DbrBase.Long => BinaryPrimitives.ReadInt32BigEndian(slot),
                _ => BinaryPrimitives.ReadDoubleBigEndian(slot),
            };
        }

        return limits;
    }

    private static void WriteValues(Span<byte> span, DbrValue value)
    {
        switch (value.Values)
        {
            case string[] strings:
                for (var i = 0; i < strings.Length; i++)
                {
                    WriteText(span.Slice(i * StringSize, StringSize), strings[i]);
                }

                break;
            case short[] shorts:
                for (var i = 0; i < shorts.Length; i++)
                {
                    BinaryPrimitives.WriteInt16BigEndian(span[(i * 2)..], shorts[i]);
                }

                break;
            case float[] floats:
                for (var i = 0; i < floats.Length; i++)
                {
                    BinaryPrimitives.WriteSingleBigEndian(span[(i * 4)..], floats[i]);
                }

                break;
            case ushort[] enums:
                for (var i = 0; i < enums.Length; i++)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(span[(i * 2)..], enums[i]);
                }

                break;
            case byte[] chars:
                chars.CopyTo(span);
                break;
            case int[] longs:
                for (var i = 0; i < longs.Length; i++)
                {
                    BinaryPrimitives.WriteInt32BigEndian(span[(i * 4)..], longs[i]);
                }

                break;
            case double[] doubles:
                for (var i = 0; i < doubles.Length; i++)
                {
                    BinaryPrimitives.WriteDoubleBigEndian(span[(i * 8)..], doubles[i]);
                }

                break;
            default:
                throw new ArgumentException($"values of type {value.Values.GetType().Name} do not match {value.Base}", nameof(value));
        }
    }

    private static Array ReadValues(ReadOnlySpan<byte> data, DbrBase @base, int count)
    {
        switch (@base)
        {
            case DbrBase.String:
                var strings = new string[count];
                for (var i = 0; i < count; i++)
                {
                    strings[i] = ReadText(data.Slice(i * StringSize, StringSize));
                }

                return strings;
            case DbrBase.Short:
                var shorts = new short[count];
                for (var i = 0; i < count; i++)
                {
                    shorts[i] = BinaryPrimitives.ReadInt16BigEndian(data[(i * 2)..]);
                }

                return shorts;
            case DbrBase.Float:
                var floats = new float[count];
                for (var i = 0; i < count; i++)
                {
                    floats[i] = BinaryPrimitives.ReadSingleBigEndian(data[(i * 4)..]);
                }

                return floats;
            case DbrBase.Enum:
                var enums = new ushort[count];
                for (var i = 0; i < count; i++)
                {
                    enums[i] = BinaryPrimitives.ReadUInt16BigEndian(data[(i * 2)..]);
                }

                return enums;
            case DbrBase.Char:
                return data[..count].ToArray();
            case DbrBase.Long:
                var longs = new int[count];
                for (var i = 0; i < count; i++)
                {
                    longs[i] = BinaryPrimitives.ReadInt32BigEndian(data[(i * 4)..]);
                }

                return longs;
            default:
                var doubles = new double[count];
                for (var i = 0; i < count; i++)
                {
                    doubles[i] = BinaryPrimitives.ReadDoubleBigEndian(data[(i * 8)..]);
                }

                return doubles;
        }
    }

    /// <summary>Writes Latin-1 text, NUL-terminated, cut to fit the field.</summary>
    internal static void WriteText(Span<byte> field, string text)
    {
        field.Clear();
        var length = Math.Min(text.Length, field.Length - 1);
        Encoding.Latin1.GetBytes(text.AsSpan(0, length), field);
    }

    /// <summary>Reads NUL-terminated Latin-1 text.</summary>
    internal static string ReadText(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.Latin1.GetString(end < 0 ? field : field[..end]);
    }

    private static void RequireValueType(ushort type)
    {
        if (!IsValueType(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, $"DBR type {type} is not a value type (0..{LastValueType})");
        }
    }
}
