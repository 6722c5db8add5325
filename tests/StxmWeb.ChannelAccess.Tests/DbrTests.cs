using StxmWeb.ChannelAccess.Protocol;

namespace StxmWeb.ChannelAccess.Tests;

public sealed class DbrTests
{
    [Theory]
    [InlineData(0, 40)]
    [InlineData(6, 8)]
    [InlineData(7, 44)]   // STS_STRING
    [InlineData(8, 6)]    // STS_SHORT
    [InlineData(11, 6)]   // STS_CHAR: pad1 before the value
    [InlineData(13, 16)]  // STS_DOUBLE: pad4
    [InlineData(14, 52)]  // TIME_STRING
    [InlineData(15, 16)]  // TIME_SHORT: pad2
    [InlineData(18, 16)]  // TIME_CHAR: pad3
    [InlineData(20, 24)]  // TIME_DOUBLE, verified on the wire
    [InlineData(22, 26)]  // GR_SHORT
    [InlineData(23, 44)]  // GR_FLOAT
    [InlineData(24, 424)] // GR_ENUM
    [InlineData(25, 20)]  // GR_CHAR
    [InlineData(26, 40)]  // GR_LONG
    [InlineData(27, 72)]  // GR_DOUBLE
    [InlineData(29, 30)]  // CTRL_SHORT
    [InlineData(30, 52)]  // CTRL_FLOAT
    [InlineData(31, 424)] // CTRL_ENUM
    [InlineData(32, 22)]  // CTRL_CHAR
    [InlineData(33, 48)]  // CTRL_LONG
    [InlineData(34, 88)]  // CTRL_DOUBLE, verified on the wire
    public void Size_OfOneElement_MatchesDbAccess(ushort type, int size) => Assert.Equal(size, Dbr.Size(type, 1));

    [Fact]
    public void Arrays_CarryTheMetadataOnce()
    {
        // dbr_size[type] + (count - 1) * value size
        Assert.Equal(24 + 9 * 8, Dbr.Size(20, 10));
        Assert.Equal(88 + 99 * 8, Dbr.Size(34, 100));
    }

    public static TheoryData<ushort> AllValueTypes()
    {
        var data = new TheoryData<ushort>();
        for (ushort t = 0; t <= Dbr.LastValueType; t++)
        {
            data.Add(t);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllValueTypes))]
    public void EveryType_RoundTripsValuesAndTheMetadataItCarries(ushort type)
    {
        var random = new Random(type);
        foreach (var count in new[] { 1, 3, 17 })
        {
            var value = Sample(Dbr.Base(type), count, random);
            var bytes = Dbr.Encode(type, value);

            var decoded = Dbr.Decode(type, count, bytes);

            Assert.Equal(value.Values, decoded.Values);
            var family = Dbr.Family(type);
            if (family != DbrFamily.Plain)
            {
                Assert.Equal(value.Status, decoded.Status);
                Assert.Equal(value.Severity, decoded.Severity);
            }

            if (family == DbrFamily.Time)
            {
                Assert.Equal(value.Timestamp, decoded.Timestamp);
            }

            if (family is DbrFamily.Gr or DbrFamily.Ctrl && Dbr.Base(type) is not (DbrBase.String or DbrBase.Enum))
            {
                Assert.Equal(value.Units, decoded.Units);
                var limits = family == DbrFamily.Ctrl ? 8 : 6;
                Assert.Equal(value.Limits[..limits], decoded.Limits[..limits]);
            }

            if (family is DbrFamily.Gr or DbrFamily.Ctrl && Dbr.Base(type) is DbrBase.Float or DbrBase.Double)
            {
                Assert.Equal(value.Precision, decoded.Precision);
            }

            if (family is DbrFamily.Gr or DbrFamily.Ctrl && Dbr.Base(type) == DbrBase.Enum)
            {
                Assert.Equal(value.EnumStrings, decoded.EnumStrings);
            }
        }
    }

    [Fact]
    public void TimeDouble_PutsTheValueAfterAFourBytePad_AndCountsFrom1990()
    {
        var value = DbrValue.Of(1.0) with { Timestamp = Dbr.Epoch.AddSeconds(1).AddTicks(5) };

        var bytes = Dbr.Encode(20, value);

        Assert.Equal([0, 0, 0, 1], bytes[4..8]);   // seconds past 1990
        Assert.Equal([0, 0, 1, 0xF4], bytes[8..12]); // 500 ns
        Assert.Equal([0, 0, 0, 0], bytes[12..16]);  // RISC pad
        Assert.Equal([0x3F, 0xF0, 0, 0, 0, 0, 0, 0], bytes[16..24]);
    }

    [Fact]
    public void AShortStringPayload_IsZeroExtended()
    {
        // libca writes a single DBR_STRING as strlen+1 padded to 8, not 40 bytes.
        byte[] payload = [(byte)'I', (byte)'n', 0, 0, 0, 0, 0, 0];

        var decoded = Dbr.Decode(0, 1, payload);

        Assert.Equal(["In"], (string[])decoded.Values);
    }

    [Fact]
    public void AMismatchedBase_IsRefused() =>
        Assert.Throws<ArgumentException>(() => Dbr.Encode(5, DbrValue.Of(1.0)));

    private static DbrValue Sample(DbrBase @base, int count, Random random)
    {
        Array values = @base switch
        {
            DbrBase.String => Enumerable.Range(0, count).Select(i => $"state {i} {random.Next(1000)}").ToArray(),
            DbrBase.Short => Enumerable.Range(0, count).Select(_ => (short)random.Next(short.MinValue, short.MaxValue)).ToArray(),
            DbrBase.Float => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 1e4)).ToArray(),
            DbrBase.Enum => Enumerable.Range(0, count).Select(_ => (ushort)random.Next(16)).ToArray(),
            DbrBase.Char => Enumerable.Range(0, count).Select(_ => (byte)random.Next(256)).ToArray(),
            DbrBase.Long => Enumerable.Range(0, count).Select(_ => random.Next()).ToArray(),
            _ => Enumerable.Range(0, count).Select(_ => random.NextDouble() * 1e6 - 5e5).ToArray(),
        };
        double[] limits = @base switch
        {
            DbrBase.Char => [250, 1, 200, 150, 20, 10, 240, 5],
            DbrBase.Short or DbrBase.Long => [1000, -1000, 900, 800, -800, -900, 950, -950],
            _ => [1000.5, -1000.25, 900, 800, -800, -900, 950, -950],
        };
        return new DbrValue
        {
            Base = @base,
            Values = values,
            Status = 3,
            Severity = 2,
            Timestamp = Dbr.Epoch.AddSeconds(random.Next()).AddTicks(random.Next(10_000_000)),
            Units = "um",
            Precision = 4,
            Limits = limits,
            EnumStrings = ["CircLeft", "CircRight", "LinHor", "IncVert-", "IncVert+", "LinInc"],
        };
    }
}
