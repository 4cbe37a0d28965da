import Foundation

/// The simulator's models: the configured ones, plus what `/api/pull`, `/api/create` and
/// `/api/copy` add, minus what `/api/delete` removes, as an Ollama server's library changes.
final class SimulatedModels: @unchecked Sendable {
    private let lock = NSLock()
    private var names: [String]

    init(_ names: [String]) { self.names = names }

    var list: [String] { lock.withLock { names } }

    func contains(_ name: String) -> Bool { lock.withLock { names.contains(name) } }

    func add(_ name: String) { lock.withLock { if !names.contains(name) { names.append(name) } } }

    /// Removes `name`; false when there was no such model.
    func remove(_ name: String) -> Bool {
        lock.withLock {
            guard let i = names.firstIndex(of: name) else { return false }
            names.remove(at: i)
            return true
        }
    }
}
