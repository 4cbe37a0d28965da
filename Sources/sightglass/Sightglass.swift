import ArgumentParser
import Foundation
import Logging
import SightglassServer

@main
struct Sightglass: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sightglass",
        abstract: "A gateway and live dashboard for LLM inference.",
        version: GatewayRuntime.version,
        subcommands: [Serve.self, Simulate.self, Demo.self, LedgerCommand.self, ConfigCommand.self, AdminCommand.self, KeysCommand.self, Version.self]
    )
}
