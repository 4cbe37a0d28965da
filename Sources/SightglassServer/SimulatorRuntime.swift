import Hummingbird
import Logging
import SightglassSimulator

/// The simulated inference server, running until stopped.
public final class SimulatorRuntime: Sendable {
    let runner: HummingbirdRunner
    public var port: Int { runner.port }

    public static func start(options: SimulatorOptions, host: String, port: Int, logger: Logger) async throws -> SimulatorRuntime {
        var quiet = logger
        quiet.logLevel = .warning
        let runner = try await HummingbirdRunner.start(
            router: Simulator.router(options: options), address: .hostname(host, port: port),
            name: "simulator", logger: quiet)
        return SimulatorRuntime(runner: runner)
    }

    init(runner: HummingbirdRunner) { self.runner = runner }

    public func stop() async { await runner.stop() }
}
