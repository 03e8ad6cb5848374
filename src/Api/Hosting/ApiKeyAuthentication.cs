using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Rag.Storage;

namespace Rag.Api.Hosting;

/// <summary>Bearer API keys: each key belongs to one tenant; the store keeps only their hashes.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IRagStore store,
    LocalOperatorToken localToken,
    FailedAuthThrottle throttle) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    /// <summary>Set on a request refused by <see cref="FailedAuthThrottle"/>: how long its address must wait.</summary>
    const string ThrottledFor = "rag:auth-throttled-for";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header)) return AuthenticateResult.NoResult();
        var address = FailedAuthThrottle.AddressOf(Context);
        if (throttle.Refused(address) is { } wait)
        {
            Context.Items[ThrottledFor] = wait;
            return AuthenticateResult.Fail($"More than {throttle.LimitPerMinute} failed authentications came from this address within " +
                $"a minute; no key is checked from it for {Math.Ceiling(wait.TotalSeconds)} s.");
        }

        var result = await AuthenticateKeyAsync(header);
        if (result.Failure is not null) throttle.RecordFailure(address);
        return result;
    }

    async Task<AuthenticateResult> AuthenticateKeyAsync(string header)
    {
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return AuthenticateResult.Fail("The Authorization header must be 'Bearer <api key>'.");

        var key = header["Bearer ".Length..].Trim();
        if (localToken.Matches(key)) return await AuthenticateLocalAsync();
        var info = await store.Tenants.AuthenticateAsync(key, Context.RequestAborted);
        if (info is null) return AuthenticateResult.Fail("The API key is unknown or revoked.");

        Claim[] claims =
        [
            new(RagClaims.TenantId, info.TenantId),
            new(RagClaims.KeyId, info.Id),
            new(ClaimTypes.Name, info.Name),
            .. info.IsAdmin ? [new Claim(ClaimTypes.Role, "admin")] : Array.Empty<Claim>(),
        ];
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    /// <summary>
    /// The CLI on this service's data folder (see <see cref="LocalServiceInfo"/>): an admin of the tenant it names,
    /// as it would be working on the folder alone.
    /// </summary>
    async Task<AuthenticateResult> AuthenticateLocalAsync()
    {
        string? tenantId = Request.Headers[LocalServiceInfo.TenantHeader];
        if (string.IsNullOrEmpty(tenantId) || await store.Tenants.GetTenantAsync(tenantId, Context.RequestAborted) is null)
            return AuthenticateResult.Fail($"The local operator token needs the {LocalServiceInfo.TenantHeader} header naming an existing tenant id.");
        Claim[] claims =
        [
            new(RagClaims.TenantId, tenantId),
            new(RagClaims.KeyId, RagClaims.LocalOperatorKeyId),
            new(ClaimTypes.Name, "local operator"),
            new(ClaimTypes.Role, "admin"),
        ];
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items[ThrottledFor] is TimeSpan wait)
        {
            Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString();
            return WriteProblemAsync(StatusCodes.Status429TooManyRequests, "Too many failed authentications", "");
        }
        return WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized",
            "Send an API key as 'Authorization: Bearer <key>'. Create one with: rag keys create --tenant NAME");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", "This API key may not do that.");

    async Task WriteProblemAsync(int status, string title, string detail)
    {
        var failure = (await Context.AuthenticateAsync(SchemeName)).Failure?.Message;
        Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized) Response.Headers.WWWAuthenticate = "Bearer";
        await Results.Problem(detail: failure ?? detail, statusCode: status, title: title).ExecuteAsync(Context);
    }
}

public static class RagClaims
{
    public const string TenantId = "rag:tenant";
    public const string KeyId = "rag:key";

    /// <summary>The key id of the local operator (the CLI on the service's own data folder): not rate limited, may read server paths.</summary>
    public const string LocalOperatorKeyId = "local";

    public static bool IsLocalOperator(this ClaimsPrincipal user) => user.FindFirstValue(KeyId) == LocalOperatorKeyId;

    /// <summary>The caller's tenant; every endpoint scopes its work to it.</summary>
    public static string Tenant(this ClaimsPrincipal user) =>
        user.FindFirstValue(TenantId) ?? throw new InvalidOperationException("The request is not authenticated.");

    public static string KeyIdOf(this ClaimsPrincipal user) =>
        user.FindFirstValue(KeyId) ?? throw new InvalidOperationException("The request is not authenticated.");
}
