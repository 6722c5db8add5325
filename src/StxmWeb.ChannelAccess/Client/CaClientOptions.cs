using System.Globalization;
using System.Net;

namespace StxmWeb.ChannelAccess.Client;

/// <summary>Where and how a client searches (the EPICS_CA_* environment variables of libca).</summary>
public sealed class CaClientOptions
{
    /// <summary>Search destinations (EPICS_CA_ADDR_LIST: "host[:port] ...").</summary>
    public IList<IPEndPoint> AddressList { get; } = [];

    /// <summary>Also search the broadcast addresses of every interface (EPICS_CA_AUTO_ADDR_LIST, default YES).</summary>
    public bool AutoAddressList { get; set; } = true;

    /// <summary>Default server port (EPICS_CA_SERVER_PORT, default 5064).</summary>
    public int ServerPort { get; set; } = 5064;

    /// <summary>How long a connect, get or put waits before failing with the PV's name.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Silence on a circuit after which an ECHO is sent (EPICS_CA_CONN_TMO).</summary>
    public TimeSpan EchoInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait between two searches of an unresolved name.</summary>
    public TimeSpan MaxSearchPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>User name sent to servers.</summary>
    public string ClientName { get; set; } = Environment.UserName;

    /// <summary>Host name sent to servers.</summary>
    public string HostName { get; set; } = Environment.MachineName;

    /// <summary>Options from the EPICS_CA_* environment variables, as libca reads them.</summary>
    public static CaClientOptions FromEnvironment()
    {
        var options = new CaClientOptions();
        if (Environment.GetEnvironmentVariable("EPICS_CA_SERVER_PORT") is { Length: > 0 } port
            && int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p))
        {
            options.ServerPort = p;
        }

        if (Environment.GetEnvironmentVariable("EPICS_CA_AUTO_ADDR_LIST") is { } auto)
        {
            options.AutoAddressList = !string.Equals(auto.Trim(), "NO", StringComparison.OrdinalIgnoreCase);
        }

        foreach (var entry in (Environment.GetEnvironmentVariable("EPICS_CA_ADDR_LIST") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            options.AddressList.Add(ParseEndPoint(entry, options.ServerPort));
        }

        return options;
    }

    /// <summary>Parses "host[:port]".</summary>
    public static IPEndPoint ParseEndPoint(string entry, int defaultPort)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var colon = entry.LastIndexOf(':');
        var host = colon > 0 ? entry[..colon] : entry;
        var port = colon > 0 ? int.Parse(entry[(colon + 1)..], CultureInfo.InvariantCulture) : defaultPort;
        var address = IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
        return new IPEndPoint(address, port);
    }
}

/// <summary>A CA operation did not complete in time; the message names the PV and the operation.</summary>
public sealed class CaTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    public CaTimeoutException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public CaTimeoutException() { }

    /// <summary>Creates the exception.</summary>
    public CaTimeoutException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>A CA operation failed with an ECA status or a lost connection; the message names the PV.</summary>
public sealed class CaException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CaException(string message, uint status = 0) : base(message) => Status = status;

    /// <summary>Creates the exception.</summary>
    public CaException() { }

    /// <summary>Creates the exception.</summary>
    public CaException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The ECA status, when the server gave one.</summary>
    public uint Status { get; }
}
