import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

/// The control plane's request context: Hummingbird's basics, WebSocket upgrade support, the
/// peer's address, and who the request was authenticated as.
public struct ControlContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public let remoteAddress: SocketAddress?
    /// The connection, so the live feed can cut a client that stopped reading.
    public let channel: any Channel
    /// Set by `DashboardGuard` once credentials are accepted (or auth is off).
    public var principal: Principal?
    /// Set instead of `principal` on a live-feed upgrade that was refused (see `DashboardGuard`).
    public var denial: AccessDenial?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }

    /// The client's IP. Behind the data plane the control plane listens on a private Unix socket
    /// and the data plane names the client in `X-Sightglass-Client-IP` (a header it removes from
    /// what clients send, so it cannot be forged); on its own TCP port the socket's peer is the client.
    public func clientIP(_ request: Request) -> String {
        switch remoteAddress {
        case .some(.unixDomainSocket), .none:
            return request.headers.first { $0.name.canonicalName == "x-sightglass-client-ip" }?.value ?? "unknown"
        case .some(let address):
            return address.ipAddress ?? "unknown"
        }
    }
}

/// Who a request is, once authenticated.
public struct Principal: Sendable, Equatable {
    public var user: String
    public var permissions: Set<String>
    /// `none` (auth off), `api_key` or `jwt`.
    public var method: String

    public func allows(_ permission: String) -> Bool {
        if permissions.contains(permission) || permissions.contains("*") { return true }
        // Admin includes read.
        return permission == "dashboard:read" && permissions.contains("dashboard:admin")
    }

    public static let anonymous = Principal(user: "anonymous", permissions: ["dashboard:read", "dashboard:admin"], method: "none")
}
