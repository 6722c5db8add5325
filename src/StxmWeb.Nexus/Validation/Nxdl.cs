// NXDL, the NeXus definition language (nexus-definitions/nxdl.xsd, version 3.1): what a definition says a group holds.
// Only what validation needs is modelled: groups (type, name, occurrences), fields (name, type, units, dimensions,
// enumeration, the signal/axis attributes written on the element), attributes (name, enumeration, optional) and links.
using System.Globalization;
using System.Xml.Linq;

namespace StxmWeb.Nexus.Validation;

/// <summary>Whether a definition is a base class (everything optional) or an application definition (required unless marked).</summary>
public enum NxdlCategory
{
    /// <summary>A base class: lists what may be there.</summary>
    Base,

    /// <summary>An application definition: lists what must be there, unless marked optional.</summary>
    Application,

    /// <summary>A contributed definition.</summary>
    Contributed,
}

/// <summary>An attribute in a definition.</summary>
/// <param name="Name">Attribute name.</param>
/// <param name="Type">NXDL type, e.g. NX_CHAR.</param>
/// <param name="Optional">Whether it may be absent (NXDL's default for attributes).</param>
/// <param name="Enumeration">Allowed values; empty: any.</param>
public sealed record NxdlAttributeSpec(string Name, string Type, bool Optional, IReadOnlyList<string> Enumeration);

/// <summary>The dimensions of a field: a rank (a number, a symbol, or "n+symbol") and per-index sizes (numbers or symbols).</summary>
/// <param name="Rank">The rank as written.</param>
/// <param name="Sizes">Index (1-based) → size as written, for the dimensions that name one.</param>
public sealed record NxdlDimensions(string Rank, IReadOnlyDictionary<int, string> Sizes);

/// <summary>A field in a definition.</summary>
/// <param name="Name">Field name.</param>
/// <param name="Type">NXDL type (NX_CHAR, NX_FLOAT, NX_NUMBER, NX_DATE_TIME...); default NX_CHAR.</param>
/// <param name="Units">Unit category (NX_ENERGY...), when given.</param>
/// <param name="MinOccurs">Least occurrences (0: optional).</param>
/// <param name="Dimensions">Dimensions, when given.</param>
/// <param name="Enumeration">Allowed values; empty: any.</param>
/// <param name="Attributes">Attributes the field must or may carry (the signal/axis/primary XML attributes included).</param>
public sealed record NxdlField(string Name, string Type, string? Units, int MinOccurs, NxdlDimensions? Dimensions, IReadOnlyList<string> Enumeration, IReadOnlyList<NxdlAttributeSpec> Attributes);

/// <summary>A group in a definition.</summary>
/// <param name="Type">NeXus class, e.g. NXdata.</param>
/// <param name="Name">Fixed name, or null for any name.</param>
/// <param name="MinOccurs">Least occurrences.</param>
/// <param name="MaxOccurs">Most occurrences (int.MaxValue for unbounded).</param>
/// <param name="Content">What the group holds.</param>
public sealed record NxdlGroup(string Type, string? Name, int MinOccurs, int MaxOccurs, NxdlContent Content);

/// <summary>What a group or definition holds.</summary>
/// <param name="Groups">Groups.</param>
/// <param name="Fields">Fields.</param>
/// <param name="Attributes">Attributes of the group.</param>
/// <param name="Links">Names of links.</param>
public sealed record NxdlContent(IReadOnlyList<NxdlGroup> Groups, IReadOnlyList<NxdlField> Fields, IReadOnlyList<NxdlAttributeSpec> Attributes, IReadOnlyList<string> Links)
{
    /// <summary>Whether an item called <paramref name="name"/> is declared here (field, attribute-free group name or link).</summary>
    public bool Declares(string name) =>
        Fields.Any(f => string.Equals(f.Name, name, StringComparison.Ordinal)) || Links.Contains(name)
        || Groups.Any(g => string.Equals(g.Name, name, StringComparison.Ordinal));

    /// <summary>Whether a group of class <paramref name="type"/> may be here under any name.</summary>
    public bool DeclaresGroupType(string type) => Groups.Any(g => g.Name is null && g.Type == type);
}

/// <summary>A definition: a base class or an application definition.</summary>
/// <param name="Name">Its name, e.g. NXstxm.</param>
/// <param name="Category">Base class or application.</param>
/// <param name="Extends">What it extends (NXobject for most).</param>
/// <param name="Symbols">The dimension symbols it declares.</param>
/// <param name="Content">What it holds.</param>
public sealed record NxdlDefinition(string Name, NxdlCategory Category, string? Extends, IReadOnlyList<string> Symbols, NxdlContent Content);

/// <summary>
/// Definitions by name, read from NXDL files: StxmWeb's embedded copy of the NIAC definitions (applications/NXstxm and
/// the base classes it uses), or a directory (pyStxm's PATH_TO_NX_DEFINITIONS).
/// </summary>
public sealed class NxdlLibrary
{
    private static readonly XNamespace Nx = "http://definition.nexusformat.org/nxdl/3.1";
    private static readonly Lazy<NxdlLibrary> EmbeddedLibrary = new(LoadEmbedded);
    private readonly Dictionary<string, NxdlDefinition> _definitions;

    private NxdlLibrary(Dictionary<string, NxdlDefinition> definitions, string source)
    {
        _definitions = definitions;
        Source = source;
    }

    /// <summary>Where the definitions came from.</summary>
    public string Source { get; }

    /// <summary>The definitions StxmWeb carries (embedded in this assembly).</summary>
    public static NxdlLibrary Embedded => EmbeddedLibrary.Value;

    /// <summary>The names of the definitions.</summary>
    public IEnumerable<string> Names => _definitions.Keys;

    /// <summary>The definition called <paramref name="name"/>, or null.</summary>
    public NxdlDefinition? Find(string name) => _definitions.GetValueOrDefault(name);

    /// <summary>
    /// Writes the embedded definitions into <paramref name="directory"/> (applications/, base_classes/), for a program
    /// that reads NXDL from disk (the NIAC's cnxvalidate); returns the directory.
    /// </summary>
    public static string ExtractEmbedded(string directory)
    {
        var assembly = typeof(NxdlLibrary).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".nxdl.xml", StringComparison.Ordinal)))
        {
            var category = Embedded.Find(resource[..^".nxdl.xml".Length])?.Category == NxdlCategory.Application ? "applications" : "base_classes";
            var target = Path.Combine(directory, category, resource);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using var source = assembly.GetManifestResourceStream(resource)!;
            using var file = File.Create(target);
            source.CopyTo(file);
        }

        return directory;
    }

    /// <summary>Reads every *.nxdl.xml under <paramref name="directory"/> (applications/, base_classes/, contributed_definitions/).</summary>
    /// <exception cref="InvalidDataException">A file is not NXDL; the message names it.</exception>
    public static NxdlLibrary Load(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"No NeXus definitions directory {directory}.");
        }

        var definitions = new Dictionary<string, NxdlDefinition>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(directory, "*.nxdl.xml", SearchOption.AllDirectories))
        {
            using var stream = File.OpenRead(file);
            var definition = Parse(stream, file);
            definitions[definition.Name] = definition;
        }

        return new NxdlLibrary(definitions, directory);
    }

    /// <summary>Parses one NXDL document.</summary>
    public static NxdlDefinition Parse(Stream stream, string what)
    {
        XDocument document;
        try
        {
            document = XDocument.Load(stream);
        }
        catch (System.Xml.XmlException ex)
        {
            throw new InvalidDataException($"{what} is not XML: {ex.Message}", ex);
        }

        var root = document.Root;
        if (root is null || root.Name != Nx + "definition")
        {
            throw new InvalidDataException($"{what} is not an NXDL 3.1 definition (its root is {root?.Name}).");
        }

        var category = (string?)root.Attribute("category") switch
        {
            "application" => NxdlCategory.Application,
            "contributed" => NxdlCategory.Contributed,
            _ => NxdlCategory.Base,
        };
        var symbols = root.Element(Nx + "symbols")?.Elements(Nx + "symbol").Select(s => (string?)s.Attribute("name") ?? "").Where(s => s.Length > 0).ToList() ?? [];
        return new NxdlDefinition((string?)root.Attribute("name") ?? throw new InvalidDataException($"{what} has no definition name."),
            category, (string?)root.Attribute("extends"), symbols, Content(root, category != NxdlCategory.Base));
    }

    private static NxdlLibrary LoadEmbedded()
    {
        var assembly = typeof(NxdlLibrary).Assembly;
        var definitions = new Dictionary<string, NxdlDefinition>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".nxdl.xml", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            var definition = Parse(stream, resource);
            definitions[definition.Name] = definition;
        }

        using var version = new StreamReader(assembly.GetManifestResourceStream("NXDL_VERSION")!);
        return new NxdlLibrary(definitions, $"NeXus definitions {version.ReadToEnd().Trim()}, embedded in {assembly.GetName().Name}");
    }

    /// <summary>Reads a group's or definition's content; <paramref name="required"/> is whether unmarked items are required.</summary>
    private static NxdlContent Content(XElement element, bool required)
    {
        var groups = element.Elements(Nx + "group").Select(g => new NxdlGroup(
            (string?)g.Attribute("type") ?? "NXobject",
            (string?)g.Attribute("name"),
            MinOccurs(g, required),
            (string?)g.Attribute("maxOccurs") is { } max ? max == "unbounded" ? int.MaxValue : int.Parse(max, CultureInfo.InvariantCulture) : int.MaxValue,
            Content(g, required))).ToList();
        var fields = element.Elements(Nx + "field").Select(f => Field(f, required)).ToList();
        var attributes = element.Elements(Nx + "attribute").Select(a => Attribute(a, required)).ToList();
        var links = element.Elements(Nx + "link").Select(l => (string?)l.Attribute("name") ?? "").Where(n => n.Length > 0).ToList();
        return new NxdlContent(groups, fields, attributes, links);
    }

    private static NxdlField Field(XElement f, bool required)
    {
        var attributes = f.Elements(Nx + "attribute").Select(a => Attribute(a, required)).ToList();

        // NXDL writes some attributes on the field element itself (signal="1", axis="1", primary="1"); they are
        // attributes the HDF5 field must carry with that value.
        foreach (var name in new[] { "signal", "axis", "primary" })
        {
            if ((string?)f.Attribute(name) is { } value)
            {
                attributes.Add(new NxdlAttributeSpec(name, "NX_POSINT", Optional: !required, [value]));
            }
        }

        NxdlDimensions? dimensions = null;
        if (f.Element(Nx + "dimensions") is { } d)
        {
            var sizes = d.Elements(Nx + "dim")
                .Where(dim => (string?)dim.Attribute("index") is not null && (string?)dim.Attribute("value") is not null)
                .ToDictionary(dim => int.Parse((string)dim.Attribute("index")!, CultureInfo.InvariantCulture), dim => (string)dim.Attribute("value")!);
            dimensions = new NxdlDimensions((string?)d.Attribute("rank") ?? "", sizes);
        }

        return new NxdlField(
            (string?)f.Attribute("name") ?? "",
            (string?)f.Attribute("type") ?? "NX_CHAR",
            (string?)f.Attribute("units"),
            MinOccurs(f, required),
            dimensions,
            Enumeration(f),
            attributes);
    }

    private static NxdlAttributeSpec Attribute(XElement a, bool required)
    {
        // Attributes are optional unless marked: NXDL's default for <attribute> is optional="true".
        var optional = (string?)a.Attribute("optional") is not "false" || (string?)a.Attribute("recommended") == "true" || !required;
        return new NxdlAttributeSpec((string?)a.Attribute("name") ?? "", (string?)a.Attribute("type") ?? "NX_CHAR", optional, Enumeration(a));
    }

    /// <summary>
    /// In an application definition groups and fields are required unless minOccurs="0", optional="true" or
    /// recommended="true"; in a base class everything is optional.
    /// </summary>
    private static int MinOccurs(XElement e, bool required)
    {
        if ((string?)e.Attribute("optional") == "true" || (string?)e.Attribute("recommended") == "true")
        {
            return 0;
        }

        if ((string?)e.Attribute("minOccurs") is { } min)
        {
            return int.Parse(min, CultureInfo.InvariantCulture);
        }

        return required ? 1 : 0;
    }

    private static List<string> Enumeration(XElement e) =>
        e.Element(Nx + "enumeration")?.Elements(Nx + "item").Select(i => (string?)i.Attribute("value") ?? "").ToList() ?? [];
}
