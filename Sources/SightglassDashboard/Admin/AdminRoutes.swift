import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import SightglassConfig
import SightglassStore

/// `/admin/*`: operations that change the running gateway. They need `dashboard:admin`; with
/// authentication off they answer loopback clients only, so a gateway listening on a public
/// address never lets strangers reconfigure it.
struct AdminRoutes: RouteGroup {
    let auth: DashboardAuth
    let limiter: RateLimiter?
    let audit: AuditLog
    /// What a reload runs, once the runtime has installed it.
    let reloader: NIOLockedValueBox<Reloader?>

    func add(to router: Router<ControlContext>) {
        let routes = self
        let admin = router.group("/admin").add(middleware: DashboardGuard(auth: auth, limiter: limiter, audit: audit))
        admin.post("reload") { req, ctx in await routes.reload(req, ctx) }
    }

    func reload(_ request: Request, _ context: ControlContext) async -> Response {
        let ip = context.clientIP(request)
        if auth.mode == .off && !Self.isLoopback(ip) {
            return JSONResponse.error(
                .forbidden, code: "ADMIN_LOOPBACK_ONLY",
                message: "admin routes answer loopback clients only while dashboard authentication is off",
                details: "set dashboard.auth (api_key or jwt) to reload from \(ip)")
        }
        guard let reloader = reloader.withLockedValue({ $0 }) else {
            return JSONResponse.error(.serviceUnavailable, code: "SERVICE_UNAVAILABLE", message: "this gateway cannot reload its configuration")
        }
        do {
            let report = try await reloader("POST /admin/reload", context.principal?.user)
            return JSONResponse.encode(report)
        } catch let error as ConfigError {
            return JSONResponse.error(
                .badRequest, code: "INVALID_CONFIG", message: "\(error)",
                details: JSONValue(encoding: error.issues.map(ConfigProblem.init)))
        } catch {
            return JSONResponse.error(.badRequest, code: "INVALID_CONFIG", message: "\(error)")
        }
    }

    static func isLoopback(_ ip: String) -> Bool {
        ip == "::1" || ip.hasPrefix("127.") || ip.hasPrefix("::ffff:127.")
    }
}
