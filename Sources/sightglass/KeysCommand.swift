import ArgumentParser
import Foundation
import SightglassConfig
import SightglassGovernance
import SightglassStore

/// Where the organization lives: `--db`, else the configuration's ledger, else the default file.
struct OrganizationStore: ParsableArguments {
    @Option(help: "Ledger database: a SQLite file or a postgres:// URL (default: the config's ledger.path, else \(LedgerSettings.defaultPath)).")
    var db: String?
    @Option(help: "Configuration file whose ledger.path to use.") var config: String?

    func open() throws -> any LedgerStore {
        let location: String
        if let db {
            location = db
        } else {
            location = try ConfigLoader.load(file: config, environment: ProcessInfo.processInfo.environment).ledger.effectivePath
        }
        return try LedgerStores.open(location, logger: Console.logger())
    }

    /// Runs `body` on the organization and reports its refusal as the command's error.
    func run<T: Sendable>(_ body: @escaping @Sendable (Organization) async throws -> T) throws -> T {
        let store = try open()
        defer { store.close() }
        do {
            return try LedgerStores.blocking { try await body(store.organization) }
        } catch let e as IdentityError {
            switch e {
            case .notFound(let kind, let id): throw CommandFailure("no \(kind) '\(id)'")
            case .conflict(let message): throw CommandFailure(message)
            case .invalid(let field, let message): throw CommandFailure("\(field): \(message)")
            }
        }
    }
}

/// A command that could not do what it was asked: printed as `Error: …`, without the usage text.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// `sightglass admin …`: setting up the organization.
struct AdminCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Set up the organization that owns API keys.", subcommands: [Bootstrap.self])

    struct Bootstrap: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "On a fresh store: create the first owner, a default project and an admin key; print them as one JSON object.")
        @OptionGroup var store: OrganizationStore
        @Option(help: "The owner's email.") var email = "admin@localhost"
        @Option(help: "The owner's name.") var name = "Administrator"
        @Option(help: "The first project's name.") var project = "Default project"

        func run() throws {
            let (email, name, project) = (email, name, project)
            let boot = try store.run { try await $0.bootstrap(email: email, name: name, project: project) }
            let out: [String: String] = [
                "admin_key": boot.adminKey.secret, "admin_key_id": boot.adminKey.key.id, "user_id": boot.user.id,
                "project_id": boot.project.id, "project_name": boot.project.name,
            ]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(out), as: UTF8.self))
        }
    }
}

/// `sightglass keys …`: inference keys, without a running gateway (a running one sees the
/// change within a second or two).
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create, list and revoke inference API keys.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key in a project and print it (once: only its digest is kept).")
        @OptionGroup var store: OrganizationStore
        @Option(help: "The project's name or id.") var project: String
        @Option(help: "A name for the key.") var name = "Secret key"
        @Option(parsing: .upToNextOption, help: "Models the key may use (globs such as qwen2.5:*); default all.") var models: [String] = []
        @Option(help: "Expiry: a duration (90d, 12h, 30m) or Unix seconds.") var expires: String?
        @Option(help: "Cap on max_tokens per request.") var maxTokens: Int?
        @Option(help: "The owner's user id (default: the organization's first owner).") var user: String?

        func validate() throws {
            if let expires { _ = try Self.expiry(expires, now: 0) }
            if let maxTokens, maxTokens <= 0 { throw ValidationError("--max-tokens must be positive") }
            if let bad = models.first(where: { !Glob.isValid($0) }) {
                throw ValidationError("--models: '\(bad)' is not a model pattern (visible ASCII, no commas)")
            }
        }

        static func expiry(_ text: String, now: Int64) throws -> Int64 {
            let units: [Character: Int64] = ["d": 86_400, "h": 3_600, "m": 60, "s": 1]
            if let unit = text.last, let seconds = units[unit], let n = Int64(text.dropLast()), n > 0 { return now + n * seconds }
            if let at = Int64(text), at > 0 { return at }
            throw ValidationError("--expires must be a duration like 90d, 12h, 30m, or Unix seconds")
        }

        func run() throws {
            let (project, name, user) = (project, name, user)
            let scopes = KeyScopes(models: models.map(Glob.init), maxTokens: maxTokens)
            let expiresAt = try expires.map { try Self.expiry($0, now: Int64(Date().timeIntervalSince1970)) }
            let created = try store.run { org in
                let p: Project
                if let byId = try? await org.project(project) { p = byId } else { p = try await org.project(named: project) }
                let ownerId: String
                if let user {
                    ownerId = user
                } else {
                    guard let owner = try await org.users(limit: 100).items.first(where: { $0.role == "owner" }) else {
                        throw IdentityError.conflict("the organization has no owner yet: run `sightglass admin bootstrap` first")
                    }
                    ownerId = owner.id
                }
                return (p, try await org.createKey(projectId: p.id, ownerId: ownerId, name: name, scopes: scopes, expiresAt: expiresAt))
            }
            print(created.1.secret)
            FileHandle.standardError.write(
                Data("key \(created.1.key.id) in project \(created.0.name) (\(created.0.id)); it is shown only this once\n".utf8))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List live keys: id, project, name, hint, scopes, expiry, last use.")
        @OptionGroup var store: OrganizationStore

        func run() throws {
            let keys = try store.run { try await $0.allKeys() }
            func time(_ t: Int64?) -> String { t.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double($0))) } ?? "-" }
            print(["ID", "PROJECT", "NAME", "KEY", "MODELS", "EXPIRES", "LAST USED"].joined(separator: "\t"))
            for k in keys {
                let models = k.scopes.models.isEmpty ? "*" : k.scopes.models.map(\.pattern).joined(separator: ",")
                print([k.id, k.projectId ?? "(admin)", k.name, k.hint, models, time(k.expiresAt), time(k.lastUsedAt)].joined(separator: "\t"))
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id; running gateways refuse it within about two seconds.")
        @OptionGroup var store: OrganizationStore
        @Argument(help: "The key's id (key_…).") var id: String

        func run() throws {
            let id = id
            try store.run { try await $0.revokeKey(id) }
            print("revoked \(id)")
        }
    }
}
