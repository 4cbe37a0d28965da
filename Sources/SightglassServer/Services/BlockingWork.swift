import NIOPosix

/// The one way the gateway runs blocking work (a process start, a file, the ledger's final
/// flush) from async code: on NIO's shared thread pool, never on Swift's cooperative pool,
/// whose few threads the async work it would wait on needs.
public enum BlockingWork {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}
