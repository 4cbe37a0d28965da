import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// Runs a Hummingbird router in the background and reports where it listens.
/// Used for the control plane and the simulator, which start and stop with the process.
public final class HummingbirdRunner: Sendable {
    let group: ServiceGroup
    let task: Task<Void, any Error>
    /// The bound TCP port (0 for a Unix socket).
    public let port: Int

    public static func start<Context: RequestContext>(
        router: Router<Context>, server: HTTPServerBuilder = .http1(), address: BindAddress, name: String,
        logger: Logger
    ) async throws -> HummingbirdRunner where Context.Source == ApplicationRequestContextSource {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, server: server, configuration: .init(address: address, serverName: nil, backlog: 1024),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: logger)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        let task = Task { try await group.run() }
        var port: Int?
        for await p in stream { port = p }
        guard let port else {
            task.cancel()
            _ = await task.result
            throw RunnerError.failedToStart(name)
        }
        return HummingbirdRunner(group: group, task: task, port: port)
    }

    init(group: ServiceGroup, task: Task<Void, any Error>, port: Int) {
        self.group = group
        self.task = task
        self.port = port
    }

    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}

public enum RunnerError: Error, CustomStringConvertible {
    case failedToStart(String)
    public var description: String {
        switch self {
        case .failedToStart(let what): return "\(what) failed to start (is the address in use?)"
        }
    }
}
