import Foundation
import Hummingbird
import SightglassStore

/// Why a request may not proceed, in the product error shape.
public struct AccessDenial: Error, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// JSON text of the `details` object.
    public var detailsJSON: String
    var headers: HTTPFields

    var details: JSONValue { JSONValue(parsing: detailsJSON) }

    func response() -> Response {
        var r = JSONResponse.error(status, code: code, message: message, details: details)
        r.headers.append(contentsOf: headers)
        return r
    }
}

/// In front of the dashboard API, the live feed and the admin routes: the per-client rate
/// limit first (so failed logins are bounded too), then the credentials, then the permission
/// the method needs (`dashboard:read` to read, `dashboard:admin` to change anything).
///
/// Plain HTTP requests that fail get the error response. WebSocket upgrades cannot: a refused
/// upgrade only ever answers an empty 400 in hummingbird-websocket, and browsers never show a
/// handshake's status anyway. So with `deferDenial` the upgrade goes ahead carrying the denial,
/// and the live feed sends the error as a message and closes with 4401 / 4403 / 4429.
struct DashboardGuard: RouterMiddleware {
    typealias Context = ControlContext
    let auth: DashboardAuth
    let limiter: RateLimiter?
    let audit: AuditLog
    var deferDenial = false

    func handle(_ request: Request, context: ControlContext, next: (Request, ControlContext) async throws -> Response) async throws -> Response {
        var ctx = context
        var limitHeaders: HTTPFields = [:]
        switch await decide(request, context, limitHeaders: &limitHeaders) {
        case .success(let principal):
            ctx.principal = principal
        case .failure(let denial):
            guard deferDenial else { return denial.response() }
            ctx.denial = denial
        }
        var response = try await next(request, ctx)
        response.headers.append(contentsOf: limitHeaders)
        return response
    }

    func decide(_ request: Request, _ context: ControlContext, limitHeaders: inout HTTPFields) async -> Result<Principal, AccessDenial> {
        let ip = context.clientIP(request)
        if let limiter {
            let d = limiter.check(client: ip)
            limitHeaders[.init("X-RateLimit-Limit")!] = String(d.limit)
            limitHeaders[.init("X-RateLimit-Remaining")!] = String(d.remaining)
            limitHeaders[.init("X-RateLimit-Reset")!] = String(d.resetSeconds)
            if !d.allowed {
                auth.recordFailure(type: "rate_limited", sourceIP: ip, details: "\(request.method) \(request.uri.path)", severity: "low")
                limitHeaders[.retryAfter] = String(d.resetSeconds)
                let s = limiter.settings
                return .failure(
                    AccessDenial(
                        status: .tooManyRequests, code: "RATE_LIMITED",
                        message: "too many requests: at most \(s.requestsPerMinute) a minute and \(s.burst) per \(Int(s.burstWindowSeconds)) s per client",
                        detailsJSON: JSONResponse.text(AccessProblem(retryAfterSeconds: d.resetSeconds, clientIp: ip)), headers: limitHeaders))
            }
        }
        let needed = request.method == .get || request.method == .head ? "dashboard:read" : "dashboard:admin"
        let principal: Principal
        switch await auth.authenticate(token: Self.credential(request)) {
        case .success(let p):
            principal = p
        case .failure(let failure):
            let (message, reason): (String, String) =
                switch failure {
                case .missing where auth.mode == .apiKey && auth.keys.isEmpty:
                    (
                        "the dashboard API is closed: this gateway listens on a network address and has no dashboard credential; "
                            + "add dashboard.auth.api_keys (with dashboard:read or dashboard:admin) or write dashboard.auth.mode: off", "missing"
                    )
                case .missing: ("authentication required: send Authorization: Bearer <API key or JWT>", "missing")
                case .expired: ("the token has expired", "expired")
                case .invalid(let why): ("invalid credentials: \(why)", "invalid")
                }
            if failure != .missing {
                auth.recordFailure(type: "failed_login", sourceIP: ip, details: message)
                audit.record(
                    AuditEntry(
                        user: nil, action: "auth_failure", resource: request.uri.path, level: "warning", sourceIP: ip,
                        userAgent: request.headers[.userAgent], detailsJSON: JSONResponse.text(AccessProblem(reason: reason)), result: "failure"))
            }
            var headers = limitHeaders
            headers[.wwwAuthenticate] = "Bearer realm=\"sightglass\""
            return .failure(
                AccessDenial(
                    status: .unauthorized, code: "UNAUTHORIZED", message: message,
                    detailsJSON: JSONResponse.text(AccessProblem(reason: reason, methods: auth.methods)), headers: headers))
        }
        guard principal.allows(needed) else {
            auth.recordFailure(type: "permission_denied", sourceIP: ip, details: "\(principal.user) lacks \(needed) for \(request.uri.path)")
            audit.record(
                AuditEntry(
                    user: principal.user, action: "permission_denied", resource: request.uri.path, level: "warning", sourceIP: ip,
                    userAgent: request.headers[.userAgent], detailsJSON: JSONResponse.text(AccessProblem(requiredPermission: needed)), result: "failure"))
            return .failure(
                AccessDenial(
                    status: .forbidden, code: "INSUFFICIENT_PERMISSIONS", message: "Access denied to dashboard endpoint",
                    detailsJSON: JSONResponse.text(AccessProblem(requiredPermission: needed, userPermissions: principal.permissions.sorted())),
                    headers: limitHeaders))
        }
        return .success(principal)
    }

    /// `Authorization: Bearer …`, `X-API-Key`, or `?access_token=` (browsers cannot set headers on WebSockets).
    static func credential(_ request: Request) -> String? {
        if let h = request.headers[.authorization] {
            let parts = h.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]).trimmingCharacters(in: .whitespaces) }
            return h
        }
        if let k = request.headers.first(where: { $0.name.canonicalName == "x-api-key" })?.value { return k }
        return request.uri.queryParameters["access_token"].map(String.init)
    }
}
