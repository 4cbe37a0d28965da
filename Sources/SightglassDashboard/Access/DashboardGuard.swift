import Foundation
import Hummingbird
import SightglassStore

/// In front of the dashboard API, the live feed and the admin routes: the per-client rate
/// limit first (so failed logins are bounded too), then the credentials, then the permission
/// the method needs (`dashboard:read` to read, `dashboard:admin` to change anything).
struct DashboardGuard: RouterMiddleware {
    typealias Context = ControlContext
    let auth: DashboardAuth
    let limiter: RateLimiter?
    let audit: AuditLog

    func handle(_ request: Request, context: ControlContext, next: (Request, ControlContext) async throws -> Response) async throws -> Response {
        let ip = context.clientIP(request)
        var limitHeaders: HTTPFields = [:]
        if let limiter {
            let d = limiter.check(client: ip)
            limitHeaders[.init("X-RateLimit-Limit")!] = String(d.limit)
            limitHeaders[.init("X-RateLimit-Remaining")!] = String(d.remaining)
            limitHeaders[.init("X-RateLimit-Reset")!] = String(d.resetSeconds)
            if !d.allowed {
                auth.recordFailure(type: "rate_limited", sourceIP: ip, details: "\(request.method) \(request.uri.path)", severity: "low")
                limitHeaders[.retryAfter] = String(d.resetSeconds)
                var r = JSONResponse.error(.tooManyRequests, code: "RATE_LIMITED",
                                           message: "too many requests: at most \(limiter.settings.requestsPerMinute) a minute and \(limiter.settings.burst) per \(Int(limiter.settings.burstWindowSeconds)) s per client",
                                           details: ["retry_after_seconds": d.resetSeconds, "client_ip": ip])
                r.headers.append(contentsOf: limitHeaders)
                return r
            }
        }
        let needed = request.method == .get || request.method == .head ? "dashboard:read" : "dashboard:admin"
        let principal: Principal
        switch await auth.authenticate(token: Self.credential(request)) {
        case .success(let p):
            principal = p
        case .failure(let failure):
            let (message, reason): (String, String) = switch failure {
            case .missing: ("authentication required: send Authorization: Bearer <API key or JWT>", "missing")
            case .expired: ("the token has expired", "expired")
            case .invalid(let why): ("invalid credentials: \(why)", "invalid")
            }
            if failure != .missing {
                auth.recordFailure(type: "failed_login", sourceIP: ip, details: message)
                audit.record(AuditEntry(user: nil, action: "auth_failure", resource: request.uri.path, level: "warning", sourceIP: ip,
                                        userAgent: request.headers[.userAgent], detailsJSON: JSONResponse.string(["reason": reason]), result: "failure"))
            }
            var r = JSONResponse.error(.unauthorized, code: "UNAUTHORIZED", message: message, details: ["reason": reason, "methods": auth.methods])
            r.headers[.wwwAuthenticate] = "Bearer realm=\"sightglass\""
            r.headers.append(contentsOf: limitHeaders)
            return r
        }
        guard principal.allows(needed) else {
            auth.recordFailure(type: "permission_denied", sourceIP: ip, details: "\(principal.user) lacks \(needed) for \(request.uri.path)")
            audit.record(AuditEntry(user: principal.user, action: "permission_denied", resource: request.uri.path, level: "warning", sourceIP: ip,
                                    userAgent: request.headers[.userAgent], detailsJSON: JSONResponse.string(["required_permission": needed]), result: "failure"))
            var r = JSONResponse.error(.forbidden, code: "INSUFFICIENT_PERMISSIONS", message: "Access denied to dashboard endpoint",
                                       details: ["required_permission": needed, "user_permissions": principal.permissions.sorted()])
            r.headers.append(contentsOf: limitHeaders)
            return r
        }
        var ctx = context
        ctx.principal = principal
        var response = try await next(request, ctx)
        response.headers.append(contentsOf: limitHeaders)
        return response
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
