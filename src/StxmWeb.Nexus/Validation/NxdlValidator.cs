using System.Globalization;
using PureHDF;

namespace StxmWeb.Nexus.Validation;

/// <summary>How bad a finding is: an error breaks the definition, a warning is worth a look.</summary>
public enum FindingSeverity
{
    /// <summary>Not what the definition asks.</summary>
    Error,

    /// <summary>Allowed, but unusual (an item no NeXus class names, a missing units attribute...).</summary>
    Warning,
}

/// <summary>One thing the validator found, at a path in the file.</summary>
/// <param name="Severity">Error or warning.</param>
/// <param name="Path">HDF5 path, e.g. <c>/entry0/counter0/data</c>.</param>
/// <param name="Message">What is wrong, in words.</param>
public sealed record Finding(FindingSeverity Severity, string Path, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{(Severity == FindingSeverity.Error ? "error" : "warning")}: {Path}: {Message}";
}

/// <summary>The validation of a file: what was checked against what, and the findings.</summary>
/// <param name="File">The file.</param>
/// <param name="Definition">The application definition, e.g. NXstxm.</param>
/// <param name="Entries">The NXentry groups checked.</param>
/// <param name="Findings">Errors and warnings, in file order.</param>
public sealed record ValidationReport(string File, string Definition, IReadOnlyList<string> Entries, IReadOnlyList<Finding> Findings)
{
    /// <summary>The errors.</summary>
    public IEnumerable<Finding> Errors => Findings.Where(f => f.Severity == FindingSeverity.Error);

    /// <summary>The warnings.</summary>
    public IEnumerable<Finding> Warnings => Findings.Where(f => f.Severity == FindingSeverity.Warning);

    /// <summary>Whether the file satisfies the definition (warnings allowed).</summary>
    public bool IsValid => !Errors.Any();

    /// <summary>One line: "valid (NXstxm, 2 entries, 3 warnings)" or "4 errors, 1 warning".</summary>
    public string Summary => IsValid
        ? $"valid ({Definition}, {Entries.Count} {(Entries.Count == 1 ? "entry" : "entries")}, {Count(Warnings.Count(), "warning")})"
        : $"{Count(Errors.Count(), "error")}, {Count(Warnings.Count(), "warning")} against {Definition}";

    private static string Count(int n, string what) => $"{n} {what}{(n == 1 ? "" : "s")}";
}

/// <summary>
/// Checks a NeXus HDF5 file against an application definition read from NXDL (NxdlLibrary): every NXentry against the
/// definition's NXentry; in each group the required groups (by class, and by name where the definition names one, with
/// their occurrences), fields (presence, NXDL type, rank and dimension sizes with the definition's symbols held
/// consistent within the entry, enumerations, units), and attributes (signal and the like, enumerations). What the
/// definition does not mention is looked up in the group's base class: an item neither names is reported as a warning,
/// as the NIAC's cnxvalidate does.
/// </summary>
public static class NxdlValidator
{
    /// <summary>Validates <paramref name="path"/> against <paramref name="application"/> from <paramref name="library"/>.</summary>
    /// <exception cref="ArgumentException">The library has no such application definition.</exception>
    public static ValidationReport Validate(string path, NxdlLibrary library, string application = "NXstxm")
    {
        ArgumentNullException.ThrowIfNull(library);
        var definition = library.Find(application) ?? throw new ArgumentException($"The NeXus definitions ({library.Source}) have no {application}.", nameof(application));
        var entrySpec = definition.Content.Groups.FirstOrDefault(g => g.Type == "NXentry")
            ?? throw new ArgumentException($"{application} defines no NXentry.", nameof(application));
        var findings = new List<Finding>();
        var entries = new List<string>();
        PureHDF.VOL.Native.NativeFile file;
        try
        {
            file = H5File.OpenRead(path);
        }
#pragma warning disable CA1031 // PureHDF raises many kinds of exception on a file that is not HDF5; each becomes the finding.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            findings.Add(new Finding(FindingSeverity.Error, "/", $"The file cannot be read as HDF5: {ex.Message}"));
            return new ValidationReport(path, application, entries, findings);
        }

        using (file)
        {
            var context = new Context(library, findings);
            context.Root(file);
            foreach (var group in file.Children().OfType<IH5Group>())
            {
                if (Context.ClassOf(group) == "NXentry")
                {
                    entries.Add(group.Name);
                    context.Symbols.Clear();
                    context.Group(group, $"/{group.Name}", entrySpec);
                }
            }

            if (entries.Count == 0)
            {
                findings.Add(new Finding(FindingSeverity.Error, "/", "The file has no NXentry group (a group with NX_class \"NXentry\")."));
            }
        }

        return new ValidationReport(path, application, entries, findings);
    }

    private sealed class Context(NxdlLibrary library, List<Finding> findings)
    {
        public Dictionary<string, (long Value, string Where)> Symbols { get; } = new(StringComparer.Ordinal);

        private void Error(string path, string message) => findings.Add(new Finding(FindingSeverity.Error, path, message));

        private void Warn(string path, string message) => findings.Add(new Finding(FindingSeverity.Warning, path, message));

        public static string? ClassOf(IH5Object item) => Text(item, "NX_class");

        /// <summary>The root: NeXus asks for file_name and file_time (ISO 8601).</summary>
        public void Root(IH5Group root)
        {
            if (Text(root, "file_name") is null)
            {
                Warn("/", "The root has no file_name attribute.");
            }

            switch (Text(root, "file_time"))
            {
                case null:
                    Warn("/", "The root has no file_time attribute.");
                    break;
                case var time when !IsDateTime(time):
                    Error("/", $"The root attribute file_time '{time}' is not an ISO 8601 date and time.");
                    break;
            }
        }

        /// <summary>
        /// Checks a group against <paramref name="spec"/>. A group the application definition does not describe is
        /// checked against its base class (<paramref name="byBaseClass"/>): what breaks the base class is then a warning,
        /// since the application definition is the contract.
        /// </summary>
        public void Group(IH5Group group, string path, NxdlGroup spec, bool byBaseClass = false)
        {
            var strict = _strict;
            _strict = strict && !byBaseClass;
            try
            {
                CheckGroup(group, path, spec);
            }
            finally
            {
                _strict = strict;
            }
        }

        private bool _strict = true;

        /// <summary>An error where the application definition speaks, a warning where only a base class does.</summary>
        private void Problem(string path, string message)
        {
            if (_strict)
            {
                Error(path, message);
            }
            else
            {
                Warn(path, message);
            }
        }

        private void CheckGroup(IH5Group group, string path, NxdlGroup spec)
        {
            var nxClass = ClassOf(group);
            if (nxClass is null)
            {
                Error(path, $"The group has no NX_class attribute (the definition wants {spec.Type}).");
            }

            var children = group.Children().ToList();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var field in spec.Content.Fields)
            {
                var dataset = children.OfType<IH5Dataset>().FirstOrDefault(d => d.Name == field.Name);
                if (dataset is null)
                {
                    if (field.MinOccurs > 0)
                    {
                        Error($"{path}/{field.Name}", $"The required field {field.Name} ({field.Type}) is missing.");
                    }

                    continue;
                }

                seen.Add(dataset.Name);
                Field(dataset, $"{path}/{field.Name}", field);
            }

            foreach (var attribute in spec.Content.Attributes)
            {
                Attribute(group, path, attribute);
            }

            // Named group specifications claim their groups first; unnamed ones of the same class take the rest.
            var groups = children.OfType<IH5Group>().Select(g => (Group: g, Class: ClassOf(g))).ToList();
            foreach (var groupSpec in spec.Content.Groups.OrderBy(g => g.Name is null))
            {
                var matches = groups.Where(g => g.Class == groupSpec.Type && !seen.Contains(g.Group.Name)
                    && (groupSpec.Name is null ? !spec.Content.Groups.Any(o => o.Name == g.Group.Name && o.Type == groupSpec.Type) : g.Group.Name == groupSpec.Name)).ToList();
                var where = groupSpec.Name is null ? $"{path}/({groupSpec.Type})" : $"{path}/{groupSpec.Name}";
                if (matches.Count < groupSpec.MinOccurs)
                {
                    Error(where, groupSpec.Name is null
                        ? $"At least {groupSpec.MinOccurs} {groupSpec.Type} group(s) are required here; found {matches.Count}."
                        : $"The required {groupSpec.Type} group {groupSpec.Name} is missing.");
                }
                else if (matches.Count > groupSpec.MaxOccurs)
                {
                    Error(where, $"At most {groupSpec.MaxOccurs} {groupSpec.Type} group(s) are allowed here; found {matches.Count}.");
                }

                foreach (var (child, _) in matches)
                {
                    seen.Add(child.Name);
                    Group(child, $"{path}/{child.Name}", groupSpec);
                }
            }

            Others(children, seen, path, nxClass ?? spec.Type);
        }

        /// <summary>What the application definition does not mention: fine if the group's base class names it.</summary>
        private void Others(List<IH5Object> children, HashSet<string> seen, string path, string nxClass)
        {
            var baseClass = library.Find(nxClass);
            foreach (var child in children.Where(c => !seen.Contains(c.Name)))
            {
                var childPath = $"{path}/{child.Name}";
                if (child is IH5Group group)
                {
                    var childClass = ClassOf(group);
                    if (childClass is null)
                    {
                        Error(childPath, "The group has no NX_class attribute.");
                        continue;
                    }

                    if (baseClass is not null && !baseClass.Content.DeclaresGroupType(childClass) && !baseClass.Content.Declares(child.Name))
                    {
                        Warn(childPath, $"{nxClass} does not name a {childClass} group here.");
                    }

                    // Below, the base class of the child is the definition: everything optional, unknown items noted.
                    var spec = library.Find(childClass) is { } definition
                        ? new NxdlGroup(childClass, child.Name, 0, int.MaxValue, definition.Content with { Fields = [.. definition.Content.Fields.Select(f => f with { MinOccurs = 0 })] })
                        : new NxdlGroup(childClass, child.Name, 0, int.MaxValue, new NxdlContent([], [], [], []));
                    if (library.Find(childClass) is null)
                    {
                        Warn(childPath, $"No definition of the base class {childClass} is available; its content is not checked.");
                        continue;
                    }

                    Group(group, childPath, spec, byBaseClass: true);
                }
                else if (baseClass is not null && !baseClass.Content.Declares(child.Name) && !TakesAnyName(baseClass))
                {
                    Warn(childPath, $"{nxClass} does not define a field {child.Name} (a non-NeXus field).");
                }
            }
        }

        /// <summary>
        /// NXDL writes a name in capitals for "any name" (NXdata's AXISNAME and DATA, NXmonitor's...): a class that has
        /// such a field takes fields of any name (axes such as sample_x, line_position, zpz). NXcollection holds anything.
        /// </summary>
        private static bool TakesAnyName(NxdlDefinition baseClass) =>
            baseClass.Name == "NXcollection" || baseClass.Content.Fields.Any(f => f.Name.Length > 0 && f.Name.All(c => char.IsUpper(c) || char.IsDigit(c) || c == '_'));

        private void Field(IH5Dataset dataset, string path, NxdlField spec)
        {
            var kind = Kind(dataset);
            var (ok, wanted) = spec.Type switch
            {
                "NX_CHAR" => (kind == Kinds.Text, "text"),
                "NX_DATE_TIME" => (kind == Kinds.Text, "an ISO 8601 date and time"),
                "NX_FLOAT" => (kind == Kinds.Float, "floating-point numbers"),
                "NX_INT" or "NX_POSINT" or "NX_UINT" => (kind == Kinds.Integer, "integers"),
                "NX_NUMBER" => (kind is Kinds.Float or Kinds.Integer, "numbers"),
                "NX_BOOLEAN" => (kind is Kinds.Integer or Kinds.Other, "booleans"),
                _ => (true, spec.Type),
            };
            if (!ok)
            {
                Problem(path, $"{spec.Name} must be {wanted} ({spec.Type}); it holds {kind.ToString().ToLowerInvariant()}.");
            }

            if (spec.Dimensions is { } dimensions)
            {
                Dimensions(dataset, path, dimensions);
            }

            if ((spec.Enumeration.Count > 0 || spec.Type == "NX_DATE_TIME") && kind == Kinds.Text)
            {
                foreach (var value in Strings(dataset, path))
                {
                    if (spec.Enumeration.Count > 0 && !spec.Enumeration.Contains(value))
                    {
                        Problem(path, $"'{value}' is not one of: {string.Join(", ", spec.Enumeration.Select(e => $"'{e}'"))}.");
                    }
                    else if (spec.Type == "NX_DATE_TIME" && !IsDateTime(value))
                    {
                        Problem(path, $"'{value}' is not an ISO 8601 date and time.");
                    }
                }
            }

            foreach (var attribute in spec.Attributes)
            {
                Attribute(dataset, path, attribute);
            }

            if (spec.Units is { } units && units != "NX_UNITLESS" && units != "NX_DIMENSIONLESS" && Text(dataset, "units") is null)
            {
                Warn(path, $"{spec.Name} has no units attribute ({units}).");
            }
        }

        private void Dimensions(IH5Dataset dataset, string path, NxdlDimensions spec)
        {
            var shape = dataset.Space.Type == H5DataspaceType.Scalar ? [] : dataset.Space.Dimensions;
            if (Rank(spec.Rank, shape.Length) is { } rank && rank != shape.Length)
            {
                Problem(path, $"The rank is {shape.Length}; the definition asks for {spec.Rank} ({rank}).");
                return;
            }

            foreach (var (index, size) in spec.Sizes)
            {
                if (index < 1 || index > shape.Length)
                {
                    continue;
                }

                var actual = (long)shape[index - 1];
                if (long.TryParse(size, NumberStyles.Integer, CultureInfo.InvariantCulture, out var fixedSize))
                {
                    if (fixedSize != actual)
                    {
                        Problem(path, $"Dimension {index} is {actual}; the definition asks for {fixedSize}.");
                    }
                }
                else if (Symbols.TryGetValue(size, out var known))
                {
                    if (known.Value != actual)
                    {
                        Problem(path, $"Dimension {index} is {actual}, but the symbol {size} is {known.Value} (from {known.Where}).");
                    }
                }
                else
                {
                    Symbols[size] = (actual, path);
                }
            }
        }

        /// <summary>The rank a rank expression asks for: a number, a symbol, or "n+symbol" (the symbol then takes the rest).</summary>
        private static long? Rank(string expression, int actual)
        {
            var text = expression.Replace(" ", "", StringComparison.Ordinal);
            if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
            {
                return n;
            }

            var plus = text.IndexOf('+', StringComparison.Ordinal);
            var (constant, symbol) = plus > 0 && long.TryParse(text[..plus], NumberStyles.Integer, CultureInfo.InvariantCulture, out var c)
                ? (c, text[(plus + 1)..])
                : (0L, text);
            if (symbol.Length == 0)
            {
                return null;
            }

            // A rank symbol (NXstxm's detectorRank) belongs to the field it sizes: each detector has its own. Only the
            // constant part binds: "1+detectorRank" asks for at least one dimension.
            return actual >= constant ? actual : constant;
        }

        private void Attribute(IH5Object item, string path, NxdlAttributeSpec spec)
        {
            if (!item.AttributeExists(spec.Name))
            {
                if (!spec.Optional)
                {
                    Problem(path, $"The required attribute @{spec.Name} is missing.");
                }

                return;
            }

            if (spec.Enumeration.Count == 0)
            {
                return;
            }

            var value = AttributeText(item, spec.Name);
            if (value is null || !spec.Enumeration.Contains(value))
            {
                Problem(path, $"@{spec.Name} is '{value}'; it must be one of: {string.Join(", ", spec.Enumeration.Select(e => $"'{e}'"))}.");
            }
        }

        private static bool IsDateTime(string text) =>
            DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _) && text.Contains('T', StringComparison.Ordinal);

        private enum Kinds
        {
            Text,
            Float,
            Integer,
            Other,
        }

        private static Kinds Kind(IH5Dataset dataset) => dataset.Type.Class switch
        {
            H5DataTypeClass.String or H5DataTypeClass.VariableLength => Kinds.Text,
            H5DataTypeClass.FloatingPoint => Kinds.Float,
            H5DataTypeClass.FixedPoint => Kinds.Integer,
            _ => Kinds.Other,
        };

        private IEnumerable<string> Strings(IH5Dataset dataset, string path)
        {
            string[] values;
            try
            {
                values = dataset.Space.Type == H5DataspaceType.Scalar ? [dataset.Read<string>()] : dataset.Read<string[]>();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Error(path, $"The text cannot be read: {ex.Message}");
                return [];
            }

            return values.Select(v => v.TrimEnd('\0', ' '));
        }

        /// <summary>A text attribute, or null when it is absent or not text.</summary>
        private static string? Text(IH5Object item, string name)
        {
            if (!item.AttributeExists(name))
            {
                return null;
            }

            var attribute = item.Attribute(name);
            if (attribute.Type.Class is not (H5DataTypeClass.String or H5DataTypeClass.VariableLength))
            {
                return null;
            }

            try
            {
                return (attribute.Space.Type == H5DataspaceType.Scalar ? attribute.Read<string>() : attribute.Read<string[]>().FirstOrDefault())?.TrimEnd('\0', ' ');
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return null;
            }
        }

        /// <summary>An attribute as text, numbers included (signal="1" may be written as the number 1 or the text "1").</summary>
        private static string? AttributeText(IH5Object item, string name)
        {
            var attribute = item.Attribute(name);
            try
            {
                var scalar = attribute.Space.Type == H5DataspaceType.Scalar;
                T First<T>() => scalar ? attribute.Read<T>() : attribute.Read<T[]>()[0];

                // PureHDF reads a number only as its own width.
                return (attribute.Type.Class, attribute.Type.Size) switch
                {
                    (H5DataTypeClass.String or H5DataTypeClass.VariableLength, _) => Text(item, name),
                    (H5DataTypeClass.FixedPoint, 8) => First<long>().ToString(CultureInfo.InvariantCulture),
                    (H5DataTypeClass.FixedPoint, 4) => First<int>().ToString(CultureInfo.InvariantCulture),
                    (H5DataTypeClass.FixedPoint, 2) => First<short>().ToString(CultureInfo.InvariantCulture),
                    (H5DataTypeClass.FixedPoint, 1) => First<sbyte>().ToString(CultureInfo.InvariantCulture),
                    (H5DataTypeClass.FloatingPoint, 8) => First<double>().ToString(CultureInfo.InvariantCulture),
                    (H5DataTypeClass.FloatingPoint, 4) => First<float>().ToString(CultureInfo.InvariantCulture),
                    _ => null,
                };
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return null;
            }
        }
    }
}
