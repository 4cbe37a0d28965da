import ArgumentParser
import Foundation
import SightglassConfig

/// `sightglass config …`: work with configuration files without starting a gateway.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check configuration files.", subcommands: [Check.self])

    /// Validates a file strictly and prints the configuration it yields.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file and print the effective configuration (defaults included, secrets redacted).",
            discussion:
                "Exits 0 and prints YAML for a valid file; exits 1 with each problem's key, line and a suggestion on stderr otherwise. SIGHTGLASS_* and LOG_LEVEL variables apply, as they would for `serve`."
        )

        @Argument(help: "The YAML file to check.") var file: String

        func run() throws {
            let environment = ProcessInfo.processInfo.environment
            for warning in ConfigLoader.unknownEnvironment(environment) { Console.warn("warning: \(warning)") }
            do {
                let config = try ConfigLoader.load(file: file, environment: environment)
                try config.validate()
                Console.say(try config.effectiveYAML(), terminator: "")
            } catch let error as ConfigError {
                Console.warn("sightglass: \(error)")
                throw ExitCode.failure
            }
        }
    }
}
