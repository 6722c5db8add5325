using StxmWeb.ChannelAccess.Protocol;

namespace StxmWeb.ChannelAccess.Server;

/// <summary>
/// A process variable served over Channel Access: its native type and length, current value with metadata, access,
/// and what a put does. Thread-safe; <see cref="Changed"/> tells the server which monitor events to post.
/// </summary>
public sealed class ProcessVariable
{
    private readonly Lock _gate = new();
    private DbrValue _value;
    private long _version;

    /// <summary>Creates a PV with an initial value (its base and length are the native type and count).</summary>
    public ProcessVariable(string name, DbrValue initial, bool writable = true, int? maxCount = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(initial);
        Name = name;
        _value = initial with { Timestamp = initial.Timestamp == Dbr.Epoch ? DateTimeOffset.UtcNow : initial.Timestamp };
        Writable = writable;
        MaxCount = maxCount ?? initial.Count;
    }

    /// <summary>The PV name.</summary>
    public string Name { get; }

    /// <summary>Native base type.</summary>
    public DbrBase NativeType => Value.Base;

    /// <summary>Native (largest) element count.</summary>
    public int MaxCount { get; }

    /// <summary>Whether clients may write.</summary>
    public bool Writable { get; }

    /// <summary>
    /// What a put does; completes when the action is done (a WRITE_NOTIFY is answered then). Null: the value is stored.
    /// Throwing fails the put with the exception's message.
    /// </summary>
    public Func<DbrValue, CancellationToken, Task>? OnPut { get; init; }

    /// <summary>Raised after the value or its alarm changed, with the events that happened and the new value.</summary>
    public event Action<ProcessVariable, PvChange>? Changed;

    /// <summary>The current value and metadata.</summary>
    public DbrValue Value
    {
        get
        {
            lock (_gate)
            {
                return _value;
            }
        }
    }

    /// <summary>The current value with its version (one more at every change), read together.</summary>
    internal (DbrValue Value, long Version) Snapshot()
    {
        lock (_gate)
        {
            return (_value, _version);
        }
    }

    /// <summary>Replaces the value (already of the native type), time-stamps it and posts the events it makes.</summary>
    public void Update(DbrValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Base != NativeType)
        {
            throw new ArgumentException($"{Name} holds {NativeType}; got {value.Base}", nameof(value));
        }

        MonitorMask events;
        DbrValue stored;
        long version;
        lock (_gate)
        {
            var old = _value;
            _value = stored = value with { Timestamp = DateTimeOffset.UtcNow };
            version = ++_version;
            events = MonitorMask.None;
            if (!ValuesEqual(old.Values, value.Values))
            {
                events |= MonitorMask.Value | MonitorMask.Log;
            }

            if (old.Status != value.Status || old.Severity != value.Severity)
            {
                events |= MonitorMask.Alarm;
            }

            if (old.Units != value.Units || old.Precision != value.Precision || !old.Limits.SequenceEqual(value.Limits)
                || !old.EnumStrings.SequenceEqual(value.EnumStrings))
            {
                events |= MonitorMask.Property;
            }
        }

        if (events != MonitorMask.None)
        {
            Changed?.Invoke(this, new PvChange(events, stored, version));
        }
    }

    /// <summary>Sets the value elements, keeping the metadata.</summary>
    public void Set(Array values)
    {
        ArgumentNullException.ThrowIfNull(values);
        Update(Value with { Values = values });
    }

    /// <summary>The value of a scalar double PV, without copying the DBR value; false for any other PV.</summary>
    internal bool TryReadScalarDouble(out double value)
    {
        lock (_gate)
        {
            if (_value.Values is double[] { Length: 1 } values)
            {
                value = values[0];
                return true;
            }
        }

        value = 0;
        return false;
    }

    /// <summary>
    /// A put of one double to a scalar double PV without a put handler, as <see cref="PutAsync"/> does it but with one
    /// allocation; false (nothing done) for any other PV.
    /// </summary>
    internal bool TryPutScalarDouble(double value)
    {
        if (OnPut is not null)
        {
            return false;
        }

        bool changed;
        DbrValue stored;
        long version;
        lock (_gate)
        {
            if (_value.Values is not double[] { Length: 1 } values)
            {
                return false;
            }

            changed = !values[0].Equals(value);
            _value = stored = _value with { Values = new[] { value }, Timestamp = DateTimeOffset.UtcNow };
            version = ++_version;
        }

        if (changed)
        {
            Changed?.Invoke(this, new PvChange(MonitorMask.Value | MonitorMask.Log, stored, version));
        }

        return true;
    }

    /// <summary>Carries out a put of a value already converted to the native type.</summary>
    public Task PutAsync(DbrValue value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (OnPut is { } onPut)
        {
            return onPut(value, cancellationToken);
        }

        var current = Value;
        Update(current with { Values = value.Values.Length > MaxCount ? Truncate(value.Values, MaxCount) : value.Values });
        return Task.CompletedTask;
    }

    private static Array Truncate(Array values, int count)
    {
        var result = Array.CreateInstance(values.GetType().GetElementType()!, count);
        Array.Copy(values, result, count);
        return result;
    }

    private static bool ValuesEqual(Array a, Array b)
    {
        if (a.Length != b.Length || a.GetType() != b.GetType())
        {
            return false;
        }

        // Typed comparisons for the numeric bases: no boxing on the put and monitor path.
        switch (a)
        {
            case double[] d: return d.AsSpan().SequenceEqual((double[])b);
            case float[] f: return f.AsSpan().SequenceEqual((float[])b);
            case int[] l: return l.AsSpan().SequenceEqual((int[])b);
            case short[] h: return h.AsSpan().SequenceEqual((short[])b);
            case ushort[] e: return e.AsSpan().SequenceEqual((ushort[])b);
            case byte[] c: return c.AsSpan().SequenceEqual((byte[])b);
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (!Equals(a.GetValue(i), b.GetValue(i)))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// One change of a <see cref="ProcessVariable"/>: the monitor events it makes, the value it left, and that value's
/// version (increasing; a later change has a larger one, whatever order handlers see them in).
/// </summary>
public readonly record struct PvChange(MonitorMask Events, DbrValue Value, long Version);
