import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SightglassConfig
import SightglassProxy
import SightglassTelemetry

/// Checks each backend's health and discovers its models, off the request path: `GET /v1/models`
/// (OpenAI-compatible servers, Ollama too) and `GET /api/tags` (Ollama). The routing table is
/// rebuilt from what it finds and pushed to every event loop.
public final class BackendMonitor: Sendable {
    /// The backends to watch, each with its slot in the data plane; replaced by a reload.
    let watched: NIOLockedValueBox<[(slot: Int, config: BackendConfig)]>
    let board: BackendStatusBoard
    let client: HTTPClient
    let logger: Logger
    let publish: @Sendable (RoutingTable) -> Void

    public init(
        config: GatewayConfig, board: BackendStatusBoard, client: HTTPClient, logger: Logger,
        publish: @escaping @Sendable (RoutingTable) -> Void
    ) {
        watched = NIOLockedValueBox(config.backends.enumerated().map { ($0.offset, $0.element) })
        self.board = board
        self.client = client
        self.logger = logger
        self.publish = publish
    }

    var backends: [(slot: Int, config: BackendConfig)] { watched.withLockedValue { $0 } }

    /// Watches a reloaded configuration's backends (with their data-plane slots) from now on.
    public func apply(_ config: GatewayConfig, slots: [Int]) {
        watched.withLockedValue { $0 = zip(slots, config.backends).map { (slot: $0, config: $1) } }
    }

    /// Checks every backend once, concurrently, then publishes the routing table.
    public func checkAll() async {
        await withTaskGroup(of: Void.self) { group in
            for (_, backend) in backends {
                group.addTask { await self.check(backend) }
            }
        }
        publish(routingTable())
    }

    /// Runs `checkAll` on the shortest configured interval until cancelled.
    public func run() async {
        while !Task.isCancelled {
            let interval = backends.map(\.config.healthCheckIntervalSeconds).min() ?? 10
            try? await Task.sleep(nanoseconds: UInt64(max(0.2, interval) * 1e9))
            if Task.isCancelled { return }
            await checkAll()
        }
    }

    /// The table as configured models plus discovered ones; healthy backends preferred.
    public func routingTable() -> RoutingTable {
        var all: [String: [Int]] = [:]
        var healthy: [String: [Int]] = [:]
        let statuses = board.all
        for (i, b) in backends {
            let status = statuses.first { $0.name == b.name }
            let models = Set(b.models).union(status?.models ?? [])
            for m in models {
                all[m, default: []].append(i)
                if status?.healthy != false { healthy[m, default: []].append(i) }
            }
        }
        var table: [String: [Int]] = [:]
        for (m, list) in all { table[m] = healthy[m].flatMap { $0.isEmpty ? nil : $0 } ?? list }
        let ollama = backends.filter { i, b in statuses.first { $0.name == b.name }?.kind == .ollama }
        let up = ollama.filter { _, b in statuses.first { $0.name == b.name }?.healthy != false }
        return RoutingTable(modelToBackends: table, ollama: (up.isEmpty ? ollama : up).map(\.0))
    }

    func check(_ backend: BackendConfig) async {
        let start = Date()
        async let openAI = fetch(backend, path: "/v1/models")
        async let ollama = fetch(backend, path: "/api/tags")
        let (o, l) = await (openAI, ollama)
        let elapsed = Date().timeIntervalSince(start) * 1000
        var openAIEntries: [String: String] = [:]
        var ollamaEntries: [String: String] = [:]
        if case .success(let data) = o, let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = obj["data"] as? [[String: Any]]
        {
            for item in list { if let id = item["id"] as? String { openAIEntries[id] = Self.text(item) } }
        }
        var isOllama = false
        if case .success(let data) = l, let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = obj["models"] as? [[String: Any]]
        {
            isOllama = true
            for item in list { if let name = (item["name"] as? String) ?? (item["model"] as? String) { ollamaEntries[name] = Self.text(item) } }
        }
        let reachable =
            !openAIEntries.isEmpty || isOllama
            || {
                if case .success = o { return true }; return false
            }()
        var errorText: String?
        if !reachable {
            if case .failure(let e) = o { errorText = e } else if case .failure(let e) = l { errorText = e }
        }
        let models = Array(Set(openAIEntries.keys).union(ollamaEntries.keys)).sorted()
        let previous = board.all.first { $0.name == backend.name }?.healthy
        board.update(backend.name) { s in
            s.lastCheck = Date().timeIntervalSince1970
            s.healthy = reachable
            s.responseTimeMs = reachable ? elapsed : nil
            s.lastError = errorText
            s.failures = reachable ? 0 : s.failures + 1
            if reachable {
                s.kind = isOllama ? .ollama : .openai
                s.models = models
                s.openAIEntries = openAIEntries
                s.ollamaEntries = ollamaEntries
            }
        }
        if previous != reachable {
            if reachable {
                logger.info("backend is up", metadata: ["backend": "\(backend.name)", "models": "\(models.joined(separator: ","))"])
            } else {
                logger.warning("backend is down", metadata: ["backend": "\(backend.name)", "error": "\(errorText ?? "")"])
            }
        }
    }

    enum Fetched { case success(Data), failure(String) }

    func fetch(_ backend: BackendConfig, path: String) async -> Fetched {
        var url = backend.url
        while url.hasSuffix("/") { url.removeLast() }
        var request = HTTPClientRequest(url: url + path)
        if url.hasPrefix("https://") { request.tlsConfiguration = Backend.tlsConfiguration(backend) }
        if let key = backend.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(backend.healthCheckTimeoutSeconds * 1000)))
            let body = try await response.body.collect(upTo: 16 << 20)
            guard response.status == .ok else { return .failure("\(path) answered \(response.status.code)") }
            return .success(Data(body.readableBytesView))
        } catch {
            return .failure("\(error)")
        }
    }

    static func text(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes, .sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
