import NIOSSL
import SightglassConfig

/// A backend as the relay uses it: parsed address, the bytes of its Host header, and TLS.
public final class Backend: Sendable {
    public let index: Int
    public let name: String
    public let url: BackendURL
    public let apiKey: String?
    /// What it was built from: a reload that gives the same name a different setting builds a new one.
    public let config: BackendConfig
    let sslContext: NIOSSLContext?

    public init(index: Int, config: BackendConfig) throws {
        self.index = index
        self.config = config
        name = config.name
        url = try BackendURL(parsing: config.url)
        apiKey = config.apiKey
        sslContext = url.tls ? try NIOSSLContext(configuration: Self.tlsConfiguration(config)) : nil
    }

    /// TLS towards an https backend: the system's trust roots, or the configured CA file.
    public static func tlsConfiguration(_ config: BackendConfig) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = config.caFile { tls.trustRoots = .file(ca) }
        if !config.tlsVerify { tls.certificateVerification = .none }
        return tls
    }
}

/// Which backends serve which model. Replaced wholesale when discovery finds changes.
public struct RoutingTable: Sendable {
    public let modelToBackends: [String: [Int]]
    /// Slots of the Ollama backends (healthy ones, when any is): where a pull or create goes.
    public let ollama: [Int]

    public init(modelToBackends: [String: [Int]], ollama: [Int] = []) {
        self.modelToBackends = modelToBackends
        self.ollama = ollama
    }

    /// Backends for a model; Ollama treats `name` as `name:latest`, and so do we.
    public func backends(for model: String) -> [Int]? {
        if let b = modelToBackends[model] { return b }
        if !model.contains(":"), let b = modelToBackends[model + ":latest"] { return b }
        if model.hasSuffix(":latest"), let b = modelToBackends[String(model.dropLast(7))] { return b }
        return nil
    }
}
