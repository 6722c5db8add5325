using System.Globalization;

namespace StxmWeb.ChannelAccess.Protocol;

/// <summary>
/// Conversion between DBR base types, which is the server's job in CA (a client may ask any type of any channel):
/// numbers to numbers, numbers to strings with the channel's precision, enums to their labels, and back for puts.
/// </summary>
public static class DbrConvert
{
    /// <summary>
    /// <paramref name="value"/> as <paramref name="target"/>, metadata kept. Returns false (with a reason) when a value
    /// cannot be converted, e.g. a string that is not a number or not an enum label.
    /// </summary>
    public static bool TryConvert(DbrValue value, DbrBase target, out DbrValue converted, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(value);
        reason = null;
        if (value.Base == target)
        {
            converted = value;
            return true;
        }

        var count = value.Count;
        Array values;
        if (target == DbrBase.String)
        {
            var strings = new string[count];
            for (var i = 0; i < count; i++)
            {
                strings[i] = ToText(value, i);
            }

            values = strings;
        }
        else
        {
            var numbers = new double[count];
            for (var i = 0; i < count; i++)
            {
                if (!TryNumber(value, i, out numbers[i]))
                {
                    converted = value;
                    reason = $"'{((string[])value.Values)[i]}' is not a number{(value.EnumStrings.Length > 0 ? " or a state label" : "")}";
                    return false;
                }
            }

            values = target switch
            {
                DbrBase.Short => numbers.Select(n => (short)Math.Clamp(Math.Round(n), short.MinValue, short.MaxValue)).ToArray(),
                DbrBase.Float => numbers.Select(n => (float)n).ToArray(),
                DbrBase.Enum => numbers.Select(n => (ushort)Math.Clamp(Math.Round(n), 0, ushort.MaxValue)).ToArray(),
                DbrBase.Char => numbers.Select(n => (byte)Math.Clamp(Math.Round(n), 0, 255)).ToArray(),
                DbrBase.Long => numbers.Select(n => (int)Math.Clamp(Math.Round(n), int.MinValue, int.MaxValue)).ToArray(),
                _ => numbers,
            };
        }

        converted = value with { Base = target, Values = values };
        return true;
    }

    /// <summary>Element <paramref name="index"/> as a double.</summary>
    public static double Number(DbrValue value, int index)
    {
        ArgumentNullException.ThrowIfNull(value);
        return TryNumber(value, index, out var number) ? number : double.NaN;
    }

    private static bool TryNumber(DbrValue value, int index, out double number)
    {
        switch (value.Values)
        {
            case string[] strings:
                var text = strings[index].Trim();
                var label = Array.IndexOf(value.EnumStrings, text);
                if (label >= 0)
                {
                    number = label;
                    return true;
                }

                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number);
            case short[] s: number = s[index]; return true;
            case float[] f: number = f[index]; return true;
            case ushort[] e: number = e[index]; return true;
            case byte[] c: number = c[index]; return true;
            case int[] l: number = l[index]; return true;
            case double[] d: number = d[index]; return true;
            default: number = double.NaN; return false;
        }
    }

    private static string ToText(DbrValue value, int index) => value.Values switch
    {
        string[] s => s[index],
        ushort[] e when e[index] < value.EnumStrings.Length => value.EnumStrings[e[index]],
        float[] or double[] => Number(value, index).ToString("F" + Math.Clamp((int)value.Precision, 0, 17).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
        _ => Number(value, index).ToString(CultureInfo.InvariantCulture),
    };
}
