using System.Text;
using FsCheck;
using FsCheck.Fluent;
using StxmWeb.Pixelator.Protocol;

namespace StxmWeb.Pixelator.Tests;

/// <summary>
/// Properties of the codec over generated input (FsCheck shrinks a failure to a minimal case): decoding never fails with
/// anything but a <see cref="PixelatorProtocolException"/>, whatever the bytes; line data round-trip at any shape, and
/// their values as text read to the bit as <see cref="double.Parse(string)"/> reads them.
/// </summary>
public sealed class CodecPropertyTests
{
    private static readonly IArbMap Arbs = ArbMap.Default;

    private static readonly string[] Names = [.. PixelatorRequest.Commands, .. PublishedMessage.Names, "scanFileContent7", ""];

    /// <summary>Valid messages with one frame replaced, cut or mangled, plus wholly random frames.</summary>
    private static Gen<byte[][]> Mangled()
    {
        var valid = Gen.Elements([.. ProtocolTests.Requests().Select(r => r.ToFrames()), .. ProtocolTests.Publications().Select(p => p.ToFrames())]);
        var junk = Gen.Elements("", "{", "[1,2", "null", "NaN", "[NaN,null,1e999]", "{\"status\":1}", "0 0 0 0", "1 -2", "\u00ff\u0000", "[]", "{}", "\"x\"");
        var mangled =
            from frames in valid
            from index in Gen.Choose(0, frames.Length)
            from replacement in Gen.OneOf(junk, Gen.Elements(Names), Arbs.GeneratorFor<string>())
            from cut in Arbs.GeneratorFor<bool>()
            select (cut && index < frames.Length ? frames[..index] : [.. frames[..Math.Min(index, frames.Length)], replacement, .. frames[Math.Min(index + 1, frames.Length)..]]);
        var random = Gen.OneOf(Gen.Elements(Names), Arbs.GeneratorFor<string>()).ArrayOf().Select(a => a.Take(6).ToArray());
        return Gen.OneOf(mangled, random).Select(frames => frames.Select(f => Encoding.UTF8.GetBytes(f ?? "")).ToArray());
    }

    private static Gen<byte[][]> RandomBytes() => Arbs.GeneratorFor<byte[]>().ArrayOf();

    [Fact]
    public void DecodingAnything_EitherSucceedsOrRaisesAProtocolError()
    {
        Prop.ForAll(Gen.OneOf(Mangled(), RandomBytes()).ToArbitrary(), frames =>
        {
            foreach (var decode in new Func<string[], object>[] { PixelatorRequest.Decode, PublishedMessage.Decode, PixelatorReply.Decode })
            {
                try
                {
                    _ = decode(PixelatorFraming.Decode(frames));
                }
                catch (PixelatorProtocolException)
                {
                }
            }
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void LineData_RoundTrips_AtAnyShape()
    {
        var gen =
            from outer in Gen.Choose(0, 1000)
            from image in Gen.Choose(0, 50)
            from tile in Gen.Choose(0, 100)
            from row in Gen.Choose(0, 4096)
            from column in Gen.Choose(0, 4096)
            from height in Gen.Choose(0, 4)
            from width in Gen.Choose(0, 40)
            from values in Arbs.GeneratorFor<double>().ArrayOf(height * width)
            select new ScanLineDataMessage(outer, image, tile, 0, row, column, height, width, values);
        Prop.ForAll(gen.ToArbitrary(), message =>
        {
            var decoded = (ScanLineDataMessage)PublishedMessage.Decode(message.ToFrames());
            return decoded with { Values = [] } == message with { Values = [] }
                && decoded.Values.Zip(message.Values).All(p => p.First.Equals(p.Second) || (double.IsNaN(p.First) && !double.IsFinite(p.Second)));
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void LineValuesAsText_ReadAsDoubleParseReadsThem_ToTheBit()
    {
        // Decimals as controllers write them (counts, fixed decimals, leading zeros, signs, up to 25 digits and 25
        // decimals: both sides of the fast path's limits), and a few that only the general parser takes.
        var digits = Gen.Elements("0123456789".ToCharArray()).ArrayOf().Select(c => new string(c));
        var plain =
            from sign in Gen.Elements("", "-")
            from whole in digits
            from point in Gen.Elements(true, false)
            from fraction in digits
            where whole.Length + fraction.Length is > 0 and <= 25
            select sign + whole + (point ? "." + fraction : fraction.Length > 0 ? fraction : "");
        var text = Gen.Frequency((9, plain), (1, Gen.Elements("1e5", "-2.5E-3", "+7", "1234567890123456789", "0.1", "-0", "4.9e-324")));
        Prop.ForAll(text.ArrayOf().Where(a => a.Length > 0).ToArbitrary(), items =>
        {
            string[] frames = ["scanLineData", "0 0 0 0", "0 0", $"1 {items.Length}", "[" + string.Join(",", items) + "]"];
            var values = ((ScanLineDataMessage)PublishedMessage.Decode(frames)).Values;
            return items.Select((item, i) => BitConverter.DoubleToInt64Bits(values[i])
                == BitConverter.DoubleToInt64Bits(double.Parse(item, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture))).All(same => same);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void MangledScanRequests_AreRefusedWithAProtocolError_NeverACrash()
    {
        var templates = TranslationTests.Requests().Select(r => System.Text.Json.Nodes.JsonNode.Parse(
            PixelatorFraming.ToJson(PixelatorScans.ToPixelator(r, PixelatorNames.PolLux)))!).ToArray();
        var junk = new Func<System.Text.Json.Nodes.JsonNode?>[]
        {
            () => null, () => 0, () => -1, () => 1e300, () => "x", () => new System.Text.Json.Nodes.JsonArray(), () => new System.Text.Json.Nodes.JsonObject(),
        };
        var gen =
            from template in Gen.Elements(templates)
            from seed in Arbs.GeneratorFor<int>()
            from count in Gen.Choose(1, 4)
            select (template, seed, count);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var node = t.template.DeepClone();
            var random = new Random(t.seed);
            for (var i = 0; i < t.count; i++)
            {
                Mangle(node, random, junk);
            }

            var frames = new[] { "scanRequest", node.ToJsonString() };
            try
            {
                var scan = ((StartScanRequest)PixelatorRequest.Decode(frames)).Scan;
                _ = PixelatorScans.ToScanRequest(scan, PixelatorNames.PolLux, 285);
            }
            catch (PixelatorProtocolException)
            {
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(3000));

        static void Mangle(System.Text.Json.Nodes.JsonNode node, Random random, Func<System.Text.Json.Nodes.JsonNode?>[] junk)
        {
            // Walk down a random path and replace what is found there.
            var current = node;
            while (true)
            {
                switch (current)
                {
                    case System.Text.Json.Nodes.JsonObject o when o.Count > 0:
                        var key = o.ElementAt(random.Next(o.Count)).Key;
                        if (o[key] is null || random.Next(3) == 0)
                        {
                            o[key] = junk[random.Next(junk.Length)]();
                            return;
                        }

                        current = o[key]!;
                        break;
                    case System.Text.Json.Nodes.JsonArray a when a.Count > 0:
                        var index = random.Next(a.Count);
                        if (a[index] is null || random.Next(3) == 0)
                        {
                            a[index] = junk[random.Next(junk.Length)]();
                            return;
                        }

                        current = a[index]!;
                        break;
                    default:
                        return;
                }
            }
        }
    }

    [Theory]
    [InlineData("[1,NaN,2]", "[1,null,2]")]
    [InlineData("{\"a\":-Infinity,\"b\":\"NaN stays in a string\"}", "{\"a\":null,\"b\":\"NaN stays in a string\"}")]
    [InlineData("{\"q\":\"a \\\"NaN\\\" quote\",\"v\":Infinity}", "{\"q\":\"a \\\"NaN\\\" quote\",\"v\":null}")]
    [InlineData("[1,2]", "[1,2]")]
    public void BareNonFiniteNumbers_BecomeNull_OutsideStrings(string json, string expected) =>
        Assert.Equal(expected, PixelatorFraming.WithoutBareNonFinite(json));
}
