/// A backend's base URL split into what the relay needs: scheme, host, port and path prefix.
public struct BackendURL: Sendable, Equatable, CustomStringConvertible {
    public var tls: Bool
    public var host: String
    public var port: Int
    /// Prefix prepended to forwarded paths, without a trailing slash ("" for none).
    public var pathPrefix: String
    /// The value for the upstream `Host` header, computed once.
    public private(set) var authority: String = ""

    public init(parsing text: String) throws {
        var rest = Substring(text)
        if rest.hasPrefix("http://") {
            tls = false
            rest = rest.dropFirst(7)
        } else if rest.hasPrefix("https://") {
            tls = true
            rest = rest.dropFirst(8)
        } else {
            throw ConfigError.invalid("backend URL '\(text)' must start with http:// or https://")
        }
        let authority: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            var path = String(rest[slash...])
            while path.hasSuffix("/") { path.removeLast() }
            pathPrefix = path
        } else {
            authority = rest
            pathPrefix = ""
        }
        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw ConfigError.invalid("backend URL '\(text)' has an unterminated IPv6 address")
            }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { throw ConfigError.invalid("backend URL '\(text)' has no host") }
        host = String(hostPart)
        if let portPart {
            guard let p = Int(portPart), (1...65535).contains(p) else {
                throw ConfigError.invalid("backend URL '\(text)' has an invalid port")
            }
            port = p
        } else {
            port = tls ? 443 : 80
        }
        let h = host.contains(":") ? "[\(host)]" : host
        self.authority = port == (tls ? 443 : 80) ? h : "\(h):\(port)"
    }

    public var description: String {
        "\(tls ? "https" : "http")://\(authority)\(pathPrefix)"
    }
}
