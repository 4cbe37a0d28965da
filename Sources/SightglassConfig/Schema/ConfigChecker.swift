import Foundation
import Yams

/// Checks a parsed YAML document against a `ConfigShape`: every key known, every value of the
/// right kind (Yams' parser already refuses a key given twice). Collects every problem with its line instead of stopping at the
/// first, so one `config check` shows them all.
struct ConfigChecker {
    private(set) var issues: [ConfigIssue] = []
    let root: ConfigShape

    init(root: ConfigShape) { self.root = root }

    mutating func check(_ node: Node, _ shape: ConfigShape, path: String) {
        if Self.isNull(node) { return }  // `key:` with nothing after it: the default
        switch shape {
        case .string:
            guard node.scalar != nil else { return report(node, path, "expected \(shape.noun)") }
        case .integer:
            guard let s = node.scalar, Int.construct(from: s) != nil else { return report(node, path, "expected \(shape.noun), got \(Self.show(node))") }
        case .number:
            guard let s = node.scalar, Double.construct(from: s) != nil else { return report(node, path, "expected \(shape.noun), got \(Self.show(node))") }
        case .boolean:
            guard let s = node.scalar, Bool.construct(from: s) != nil else { return report(node, path, "expected \(shape.noun), got \(Self.show(node))") }
        case .choice(let options, let caseInsensitive):
            guard let s = node.scalar else { return report(node, path, "expected \(shape.noun)") }
            let value = caseInsensitive ? s.string.lowercased() : s.string
            guard options.contains(value) else {
                return report(node, path, "'\(s.string)' is not \(shape.noun)", suggestion: Self.nearest(s.string, in: options))
            }
        case .list(let element):
            guard let seq = node.sequence else { return report(node, path, "expected \(shape.noun), got \(Self.show(node))") }
            for (i, item) in seq.enumerated() { check(item, element, path: "\(path)[\(i)]") }
        case .table(let value):
            guard let map = node.mapping else { return report(node, path, "expected \(shape.noun), got \(Self.show(node))") }
            for (k, v) in map {
                let key = k.scalar?.string ?? "\(k)"
                check(v, value, path: join(path, key))
            }
        case .section(let fields):
            guard let map = node.mapping else { return report(node, path, "expected \(shape.noun), got \(Self.show(node))") }
            for (k, v) in map {
                let key = k.scalar?.string ?? "\(k)"
                guard let field = fields.first(where: { $0.key == key }) else {
                    report(k, join(path, key), "unknown key '\(key)'", suggestion: suggestion(for: key, among: fields.map(\.key)))
                    continue
                }
                check(v, field.shape, path: join(path, key))
            }
        }
    }

    private mutating func report(_ node: Node, _ path: String, _ message: String, suggestion: String? = nil) {
        issues.append(ConfigIssue(path: path, line: node.mark?.line, message: message, suggestion: suggestion))
    }

    private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// A near spelling among the section's keys, else the same key where it belongs elsewhere.
    private func suggestion(for key: String, among keys: [String]) -> String? {
        if let near = Self.nearest(key, in: keys) { return near }
        return Self.paths(of: key, in: root, prefix: "").first
    }

    /// Where `key` is a valid key anywhere in the shape (`limits.max_queue_size` for `max_queue_size`).
    static func paths(of key: String, in shape: ConfigShape, prefix: String) -> [String] {
        switch shape {
        case .section(let fields):
            return fields.flatMap { f -> [String] in
                let here = prefix.isEmpty ? f.key : "\(prefix).\(f.key)"
                return (f.key == key ? [here] : []) + paths(of: key, in: f.shape, prefix: here)
            }
        case .list(let element): return paths(of: key, in: element, prefix: prefix + "[]")
        case .table(let value): return paths(of: key, in: value, prefix: prefix + ".<name>")
        default: return []
        }
    }

    /// The closest candidate within a few edits (about a third of the word), if any.
    static func nearest(_ word: String, in candidates: [String]) -> String? {
        let lower = word.lowercased()
        let scored = candidates.map { ($0, editDistance(lower, $0.lowercased())) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, word.count / 3) else { return nil }
        return best
    }

    /// Levenshtein distance, two rows at a time.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// A plain `~`/`null`/empty value, as Yams' own decoder reads null.
    static func isNull(_ node: Node) -> Bool {
        node.scalar.flatMap(NSNull.construct(from:)) != nil
    }

    static func show(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return "'\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// The line of the setting at `path` (`server.port`, `backends[1].url`, `pricing.qwen2.5:7b.input`).
    static func line(of path: String, in node: Node) -> Int? {
        var current = node
        var rest = Substring(path)
        while !rest.isEmpty {
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]"), let i = Int(rest[rest.index(after: rest.startIndex)..<close]),
                    let seq = current.sequence, i >= 0, i < seq.count
                else { break }
                current = seq[i]
                rest = rest[rest.index(after: close)...]
                if rest.hasPrefix(".") { rest = rest.dropFirst() }
                continue
            }
            guard let map = current.mapping else { break }
            // The longest key that prefixes what is left, so keys with dots (model names) match whole.
            let match = map.compactMap { pair -> (String, Node)? in
                guard let k = pair.key.scalar?.string, rest.hasPrefix(k) else { return nil }
                let after = rest.dropFirst(k.count)
                return after.isEmpty || after.hasPrefix(".") || after.hasPrefix("[") ? (k, pair.value) : nil
            }.max { $0.0.count < $1.0.count }
            guard let (key, value) = match else { break }
            if rest.count == key.count {
                // The key's own line reads better than its value's for a mapping or a list.
                return map.first { $0.key.scalar?.string == key }?.key.mark?.line ?? value.mark?.line
            }
            current = value
            rest = rest.dropFirst(key.count)
            if rest.hasPrefix(".") { rest = rest.dropFirst() }
        }
        return rest.isEmpty ? current.mark?.line : nil
    }
}
