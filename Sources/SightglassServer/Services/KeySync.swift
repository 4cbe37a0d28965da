import Logging
import SightglassGovernance
import SightglassProxy
import SightglassStore

/// Keeps every event loop's key table in step with the database: polls the identity version
/// each second (so a key revoked on another instance sharing PostgreSQL stops working here
/// within about two), and reloads at once when this instance's Admin API changes a key.
actor KeySync {
    let proxy: ProxyServer
    let store: @Sendable () -> (any LedgerStore)?
    let logger: Logger
    /// Also told of every table installed (the control plane's limit analytics).
    let installed: @Sendable (KeyTable) -> Void
    /// Run once, with the first table and the store (budgets' spend so far, from the ledger).
    let first: (@Sendable (KeyTable, any LedgerStore) async -> Void)?
    var version: Int64 = -1
    var failing = false

    init(
        proxy: ProxyServer, logger: Logger, installed: @escaping @Sendable (KeyTable) -> Void = { _ in },
        first: (@Sendable (KeyTable, any LedgerStore) async -> Void)? = nil, store: @escaping @Sendable () -> (any LedgerStore)?
    ) {
        self.proxy = proxy
        self.installed = installed
        self.first = first
        self.store = store
        self.logger = logger
    }

    /// Reloads the table if the version moved (or `force`). Off the request path: the loops
    /// only receive the finished table.
    func refresh(force: Bool = false) async {
        guard let store = store() else { return }
        do {
            let org = store.organization
            let current = try await org.version()
            guard force || current != version else { return }
            let table = try await org.keyTable()
            // Another refresh may have installed a newer table while this one read: never go back.
            guard table.version >= version else { return }
            if version < 0, let first { await first(table, store) }
            proxy.updateKeys(table)
            installed(table)
            version = table.version
            if failing { logger.info("key table reloaded") }
            failing = false
        } catch {
            // Keep the table in force: a database hiccup must not lock everyone out.
            if !failing { logger.error("cannot read the key table; keeping the current one", metadata: ["error": "\(error)"]) }
            failing = true
        }
    }
}
