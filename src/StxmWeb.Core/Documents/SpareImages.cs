namespace StxmWeb.Core.Documents;

/// <summary>
/// A run's image arrays, kept to be the next run's when it has the same sizes (a beamline repeats its scans): a run that
/// starts then takes and refills them instead of allocating tens of megabytes that the garbage collector must collect
/// as the scan begins. Holds at most the arrays last handed back. Not thread-safe: its owner's lock guards it.
/// </summary>
public sealed class SpareImages
{
    private readonly List<Array> _spare = [];

    /// <summary>An array of <paramref name="length"/> elements, all <paramref name="fill"/>: a kept one of that type and length, else a new one.</summary>
    public T[] Take<T>(long length, T fill)
    {
        var index = _spare.FindIndex(a => a is T[] same && same.LongLength == length);
        T[] values;
        if (index >= 0)
        {
            values = (T[])_spare[index];
            _spare.RemoveAt(index);
        }
        else
        {
            values = new T[length];
        }

        Array.Fill(values, fill);
        return values;
    }

    /// <summary>Keeps <paramref name="arrays"/> (a run's, done with) in place of those kept before.</summary>
    public void Keep(IEnumerable<Array> arrays)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        _spare.Clear();
        _spare.AddRange(arrays);
    }

    /// <summary>Lets go of the arrays not taken.</summary>
    public void Clear() => _spare.Clear();
}
