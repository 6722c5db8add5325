// The PixelatorController protocol (reference/PYSTXM.md section 3), as pyStxm speaks it:
//   - every message is a ZeroMQ multipart message of UTF-8 strings;
//   - a request is frame 0 the command name (plain text), optionally frame 1 its JSON argument;
//   - a reply is every frame JSON, frame 0 the status object {"status":"ok"} or {"status":...,"message":...};
//   - a published message is frame 0 its name (plain text), the following frames JSON or plain text.
// Nothing here touches a socket: the transports (Client/, Server/) hand frames in and take frames out.
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StxmWeb.Pixelator.Protocol;

/// <summary>A message that breaks the protocol: the text says which message, which frame and why.</summary>
public sealed class PixelatorProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PixelatorProtocolException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public PixelatorProtocolException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception.</summary>
    public PixelatorProtocolException() : this("Malformed Pixelator message.") { }
}

/// <summary>Multipart frames ↔ strings, and the JSON conventions of the protocol.</summary>
public static class PixelatorFraming
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// JSON as the controller writes it: property names spelled out on each model, NaN allowed (positions of positioners
    /// that have none), comments and trailing commas tolerated on input.
    /// </summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        PropertyNameCaseInsensitive = false,
    };

    /// <summary>Decodes the frames of one multipart message as UTF-8 text.</summary>
    /// <exception cref="PixelatorProtocolException">No frame, or a frame that is not UTF-8.</exception>
    public static string[] Decode(IReadOnlyList<byte[]> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Count == 0)
        {
            throw new PixelatorProtocolException("An empty multipart message (no frame).");
        }

        var text = new string[frames.Count];
        for (var i = 0; i < frames.Count; i++)
        {
            try
            {
                text[i] = StrictUtf8.GetString(frames[i]);
            }
            catch (DecoderFallbackException ex)
            {
                throw new PixelatorProtocolException($"Frame {i} is not UTF-8 text.", ex);
            }
        }

        return text;
    }

    /// <summary>Encodes frames as UTF-8.</summary>
    public static byte[][] Encode(IReadOnlyList<string> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        return [.. frames.Select(f => Encoding.UTF8.GetBytes(f))];
    }

    /// <summary>Serialises <paramref name="value"/> as the controller's JSON.</summary>
    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, Json);

    /// <summary>
    /// Parses frame <paramref name="index"/> of <paramref name="frames"/> as JSON of type <typeparamref name="T"/>; a
    /// missing frame or bad JSON raises <see cref="PixelatorProtocolException"/> naming the message and the frame.
    /// </summary>
    public static T FromJson<T>(IReadOnlyList<string> frames, int index, string message)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (index >= frames.Count)
        {
            throw new PixelatorProtocolException($"'{message}' needs {index + 1} frames; got {frames.Count}.");
        }

        try
        {
            return JsonSerializer.Deserialize<T>(WithoutBareNonFinite(frames[index]), Json)
                ?? throw new PixelatorProtocolException($"'{message}' frame {index} is JSON null; a value is required.");
        }
        catch (JsonException ex)
        {
            throw new PixelatorProtocolException($"'{message}' frame {index} is not valid JSON for {typeof(T).Name}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// The controller writes non-finite numbers as bare <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c>, which JSON does not
    /// have (pyStxm replaces "NaN" by "null" before parsing). Outside strings they become <c>null</c>; text without them is
    /// returned as it is.
    /// </summary>
    public static string WithoutBareNonFinite(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (!json.Contains("NaN", StringComparison.Ordinal) && !json.Contains("Infinity", StringComparison.Ordinal))
        {
            return json;
        }

        var result = new StringBuilder(json.Length);
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                result.Append(c);
                if (c == '\\' && i + 1 < json.Length)
                {
                    result.Append(json[++i]);
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            if (c == '"')
            {
                inString = true;
                result.Append(c);
            }
            else if (Token(json, i, "NaN") || Token(json, i, "Infinity"))
            {
                result.Append("null");
                i += json[i] == 'N' ? 2 : 7;
            }
            else if (c == '-' && Token(json, i + 1, "Infinity"))
            {
                result.Append("null");
                i += 8;
            }
            else
            {
                result.Append(c);
            }
        }

        return result.ToString();

        static bool Token(string text, int at, string token) => string.CompareOrdinal(text, at, token, 0, token.Length) == 0;
    }

    /// <summary>Whether frame <paramref name="index"/> is present.</summary>
    public static bool Has(IReadOnlyList<string> frames, int index) => frames is not null && index < frames.Count;
}
