import Hummingbird
import SightglassStore

/// One group of control-plane routes, readable alone: its stored properties are everything it
/// depends on, and `add(to:)` registers its routes. `ControlPlane` composes the groups.
protocol RouteGroup: Sendable {
    func add(to router: Router<ControlContext>)
}

extension RouteGroup {
    /// Runs a handler, turning a bad parameter into 400 naming it.
    func answer(_ body: () throws -> Response) -> Response {
        do { return try body() } catch { return routeFailure(error) }
    }

    func answer(_ body: () async throws -> Response) async -> Response {
        do { return try await body() } catch { return routeFailure(error) }
    }

    /// Answers a route that takes no parameters with `body`'s value.
    func answer<Answer: Encodable>(_ request: Request, _ body: () async -> Answer) async -> Response {
        await answer {
            _ = try DashboardParameters(request, known: [])
            return JSONResponse.encode(await body())
        }
    }
}

/// A bad parameter is the client's 400, naming it; anything else is ours.
func routeFailure(_ error: any Error) -> Response {
    if let e = error as? LedgerQueryError {
        return JSONResponse.error(.badRequest, code: "INVALID_REQUEST", message: e.message, details: ["field": e.field, "parameter": e.field])
    }
    return JSONResponse.error(.internalServerError, code: "INTERNAL_ERROR", message: "\(error)")
}
