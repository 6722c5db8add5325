using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using StxmWeb.ChannelAccess.Protocol;

namespace StxmWeb.ChannelAccess.Tests;

/// <summary>Properties of the codec, checked by FsCheck over generated values (shrunk to a minimal case on failure).</summary>
public sealed class CodecPropertyTests
{
    private static readonly IArbMap Arbs = ArbMap.Default;

    [Fact]
    public void DbrNumbers_EncodeDecodeEncode_GivesTheSameBytes_ForEveryFamily()
    {
        Prop.ForAll(Arbs.ArbFor<double[]>(), Arbs.ArbFor<short>(), (double[] values, short severity) =>
        {
            foreach (var family in Enum.GetValues<DbrFamily>())
            {
                var type = Dbr.Code(family, DbrBase.Double);
                var value = new DbrValue { Base = DbrBase.Double, Values = values, Severity = severity, Units = "eV" };
                var bytes = Dbr.Encode(type, value);
                var again = Dbr.Encode(type, Dbr.Decode(type, values.Length, bytes));
                if (!bytes.AsSpan().SequenceEqual(again))
                {
                    return false;
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void DbrIntegersAndChars_RoundTrip()
    {
        Prop.ForAll(Arbs.ArbFor<int[]>(), Arbs.ArbFor<byte[]>(), (int[] longs, byte[] chars) =>
        {
            var l = Dbr.Decode(Dbr.Code(DbrFamily.Time, DbrBase.Long), longs.Length, Dbr.Encode(Dbr.Code(DbrFamily.Time, DbrBase.Long), new DbrValue { Base = DbrBase.Long, Values = longs }));
            var c = Dbr.Decode(Dbr.Code(DbrFamily.Ctrl, DbrBase.Char), chars.Length, Dbr.Encode(Dbr.Code(DbrFamily.Ctrl, DbrBase.Char), new DbrValue { Base = DbrBase.Char, Values = chars }));
            return ((int[])l.Values).SequenceEqual(longs) && ((byte[])c.Values).SequenceEqual(chars);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void DbrStrings_UpTo39Latin1Characters_RoundTrip()
    {
        var latin1 = Gen.Choose(1, 255).Select(i => (char)i).ArrayOf().Select(c => new string(c.Take(39).ToArray()));
        Prop.ForAll(latin1.ArrayOf().ToArbitrary(), (string[] strings) =>
        {
            var type = Dbr.Code(DbrFamily.Sts, DbrBase.String);
            var decoded = Dbr.Decode(type, strings.Length, Dbr.Encode(type, new DbrValue { Base = DbrBase.String, Values = strings }));
            return ((string[])decoded.Values).SequenceEqual(strings);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void DataMessages_RoundTripThroughFraming_AtAnySplitPoint()
    {
        Prop.ForAll(Arbs.ArbFor<uint>(), Arbs.ArbFor<double[]>(), Arbs.ArbFor<int>(), (uint status, double[] values, int split) =>
        {
            var ioid = status ^ 0x5A5A_A5A5u;
            var data = Dbr.Encode(6, new DbrValue { Base = DbrBase.Double, Values = values });
            var messages = new Command[]
            {
                new ReadNotifyResponse(6, (uint)values.Length, status, ioid, data),
                new EventAddResponse(6, (uint)values.Length, status, ioid, data),
                new EchoResponse(),
            };
            var stream = messages.SelectMany(m => m.ToBytes()).ToArray();
            var at = stream.Length == 0 ? 0 : (int)((uint)split % (uint)stream.Length);

            // Bytes arrive in two reads cut at an arbitrary point.
            var decoded = new List<Command>();
            var pending = new List<byte>();
            foreach (var chunk in new[] { stream[..at], stream[at..] })
            {
                pending.AddRange(chunk);
                while (Framing.TryRead(new ReadOnlySequence<byte>(pending.ToArray()), out var raw, out var consumed, out _) == OperationStatus.Done)
                {
                    decoded.Add(Commands.Decode(raw, Role.Server));
                    pending.RemoveRange(0, (int)consumed);
                }
            }

            return pending.Count == 0 && decoded.Select(d => d.ToBytes()).SelectMany(b => b).SequenceEqual(stream);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Names_RoundTripInSearchAndCreateRequests()
    {
        var names = Gen.Choose(33, 126).Select(i => (char)i).ArrayOf().Where(c => c.Length > 0).Select(c => new string(c));
        Prop.ForAll(names.ToArbitrary(), Arbs.ArbFor<uint>(), (string name, uint cid) =>
        {
            var search = (SearchRequest)Commands.Decode(Read(new SearchRequest(name, cid).ToBytes()), Role.Client);
            var create = (CreateChanRequest)Commands.Decode(Read(new CreateChanRequest(name, cid).ToBytes()), Role.Client);
            return search.Name == name && search.Cid == cid && create.Name == name && create.Cid == cid;
        }).QuickCheckThrowOnFailure();
    }

    private static RawMessage Read(byte[] bytes)
    {
        Framing.TryRead(new ReadOnlySequence<byte>(bytes), out var raw, out _, out _);
        return raw;
    }
}
