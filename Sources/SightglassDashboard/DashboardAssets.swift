import CompressNIO
import Crypto
import Foundation
import Hummingbird
import NIOCore

/// The web dashboard's files, compiled into the binary (SwiftPM `embedInCode`), served with an
/// ETag, long-lived caching for assets, gzip where the client accepts it, and a Content-Security-
/// Policy that allows nothing but this origin (no inline script, nothing fetched elsewhere).
struct DashboardAssets: Sendable {
    struct Asset: Sendable {
        let body: ByteBuffer
        let gzipped: ByteBuffer?
        let contentType: String
        let etag: String
    }

    let files: [String: Asset]

    static let shared = DashboardAssets()

    static let policy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        + "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    init() {
        let sources: [(String, [UInt8], String)] = [
            ("index.html", PackageResources.index_html, "text/html; charset=utf-8"),
            ("style.css", PackageResources.style_css, "text/css; charset=utf-8"),
            ("app.js", PackageResources.app_js, "text/javascript; charset=utf-8"),
            ("charts.js", PackageResources.charts_js, "text/javascript; charset=utf-8"),
            ("ui.js", PackageResources.ui_js, "text/javascript; charset=utf-8"),
            ("pages.js", PackageResources.pages_js, "text/javascript; charset=utf-8"),
            ("pages-live.js", PackageResources.pages_live_js, "text/javascript; charset=utf-8"),
            ("pages-catalog.js", PackageResources.pages_catalog_js, "text/javascript; charset=utf-8"),
            ("pages-ops.js", PackageResources.pages_ops_js, "text/javascript; charset=utf-8"),
            ("pages-org.js", PackageResources.pages_org_js, "text/javascript; charset=utf-8"),
            ("pages-limits.js", PackageResources.pages_limits_js, "text/javascript; charset=utf-8"),
        ]
        var files: [String: Asset] = [:]
        for (name, bytes, type) in sources {
            let body = ByteBuffer(bytes: bytes)
            var input = body
            let gz = try? input.compress(with: .gzip())
            let digest = SHA256.hash(data: bytes).prefix(8).map { String(format: "%02x", $0) }.joined()
            files[name] = Asset(
                body: body, gzipped: gz.flatMap { $0.readableBytes < body.readableBytes ? $0 : nil },
                contentType: type, etag: "\"\(digest)\"")
        }
        self.files = files
    }

    /// The file, honouring `If-None-Match` and `Accept-Encoding: gzip`. The page itself is
    /// revalidated each time (`no-cache`) so a new binary's assets are picked up; assets are
    /// revalidated too but cheaply (304 on a matching ETag).
    func response(_ name: String, request: Request) -> Response {
        guard let asset = files[name] else {
            return JSONResponse.error(.notFound, code: "NOT_FOUND", message: "no dashboard asset '\(name)'", details: ["field": "path"])
        }
        var headers: HTTPFields = [
            .contentType: asset.contentType, .eTag: asset.etag, .cacheControl: "no-cache",
            .init("Content-Security-Policy")!: Self.policy, .init("X-Content-Type-Options")!: "nosniff",
            .init("Referrer-Policy")!: "no-referrer", .vary: "Accept-Encoding",
        ]
        if request.headers[.ifNoneMatch]?.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag }) == true {
            return Response(status: .notModified, headers: headers)
        }
        let acceptsGzip = request.headers[.acceptEncoding]?.lowercased().contains("gzip") == true
        if acceptsGzip, let gz = asset.gzipped {
            headers[.contentEncoding] = "gzip"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: gz))
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
    }
}

/// `/dashboard` and the page paths serve the app shell (client-side routing with real URLs);
/// `/dashboard/assets/*` the files. Neither is rate limited or behind auth: they hold no data.
struct AssetRoutes: RouteGroup {
    func add(to router: Router<ControlContext>) {
        let assets = DashboardAssets.shared
        router.get("/dashboard") { req, _ in assets.response("index.html", request: req) }
        router.get("/dashboard/assets/{name}") { req, ctx in assets.response(ctx.parameters.get("name") ?? "", request: req) }
        for page in Self.webPages where !Self.apiEndpoints.contains(page) {
            router.get("/dashboard/\(page)") { req, _ in assets.response("index.html", request: req) }
        }
    }

    static let webPages = [
        "overview", "requests", "models", "backends", "chat", "embeddings", "costs", "rate-limits", "organization", "resources", "logs", "audit", "alerts",
        "config",
    ]
    static let apiEndpoints: Set<String> = [
        "stats", "models", "health", "config", "logs", "metrics", "cache", "jobs", "audit", "workers",
        "resources", "errors", "security", "alerts",
    ]
}

/// Some pages share their path with a seed-000 endpoint (`/dashboard/models` is both the Models
/// page and the models JSON). A browser navigating there asks for HTML and gets the app shell;
/// API clients (`Accept: application/json`, `*/*`) get the JSON. Runs before the guard: the shell
/// holds no data, so it needs no credentials and spends no rate-limit budget.
struct WebShellMiddleware: RouterMiddleware {
    typealias Context = ControlContext

    func handle(_ request: Request, context: ControlContext, next: (Request, ControlContext) async throws -> Response) async throws -> Response {
        if request.method == .get, let accept = request.headers[.accept], accept.contains("text/html"),
            let page = request.uri.path.split(separator: "/").last, AssetRoutes.webPages.contains(String(page)),
            request.uri.path == "/dashboard/\(page)"
        {
            return DashboardAssets.shared.response("index.html", request: request)
        }
        return try await next(request, context)
    }
}
