using System.Net;
using System.Security.Claims;

namespace StxmWeb.Services;

/// <summary>Who asks for an action, and from where: every command carries one, for roles and the audit log.</summary>
/// <param name="Name">User name ("anonymous" until sign-in exists).</param>
/// <param name="Source">Where the command came from: "ui", "api", with the remote address when known.</param>
public sealed record Caller(string Name, string Source)
{
    /// <summary>The caller of an HTTP request.</summary>
    public static Caller FromHttp(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return From(context.User, "api", context.Connection.RemoteIpAddress);
    }

    /// <summary>A caller from a principal and a source.</summary>
    public static Caller From(ClaimsPrincipal? user, string source, IPAddress? address = null)
    {
        var name = user?.Identity is { IsAuthenticated: true, Name: { Length: > 0 } n } ? n : "anonymous";
        return new Caller(name, address is null ? source : $"{source}@{address}");
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Source})";
}
