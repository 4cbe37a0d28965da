import Foundation
import SightglassConfig
import SightglassGovernance

/// Limits and budgets set through the Admin API: a project's own (tier, overrides, budget) and
/// per model within it. Each change bumps the identity version like a key change, so every
/// instance's request path has it within a poll interval.
extension Organization {
    /// The tables, in SQL both engines accept (SQLite v8, PostgreSQL v5).
    static let limitSchema: [String] = [
        "ALTER TABLE api_keys ADD COLUMN limits TEXT",
        "CREATE TABLE project_limits (project_id TEXT PRIMARY KEY, limits TEXT NOT NULL)",
        """
        CREATE TABLE project_model_limits (
            project_id TEXT NOT NULL, model TEXT NOT NULL, limits TEXT NOT NULL, PRIMARY KEY (project_id, model)
        )
        """,
    ]

    /// Every project's limits, for the key table.
    func allProjectLimits() async throws -> [String: ProjectLimits] {
        var out: [String: ProjectLimits] = [:]
        let decoder = JSONDecoder()
        for r in try await db.select("SELECT project_id, limits FROM project_limits", []) {
            guard let id = r[0].text, let l = Self.limits(r[1].text) else { continue }
            out[id, default: ProjectLimits()].own = l
        }
        for r in try await db.select("SELECT project_id, model, limits FROM project_model_limits", []) {
            guard let id = r[0].text, let model = r[1].text,
                let l = r[2].text.flatMap({ try? decoder.decode(RateLimits.self, from: Data($0.utf8)) })
            else { continue }
            out[id, default: ProjectLimits()].models[model] = l
        }
        return out
    }

    /// One project's limits (its own and per model).
    public func projectLimits(_ projectId: String) async throws -> ProjectLimits {
        _ = try await project(projectId)
        var out = ProjectLimits()
        if let r = try await db.select("SELECT limits FROM project_limits WHERE project_id = ?", [.text(projectId)]).first {
            out.own = Self.limits(r[0].text) ?? KeyLimits()
        }
        let decoder = JSONDecoder()
        for r in try await db.select("SELECT model, limits FROM project_model_limits WHERE project_id = ?", [.text(projectId)]) {
            guard let model = r[0].text, let l = r[1].text.flatMap({ try? decoder.decode(RateLimits.self, from: Data($0.utf8)) }) else { continue }
            out.models[model] = l
        }
        return out
    }

    /// Sets a project's own limits (tier, overrides, budget); empty limits remove them.
    public func setProjectLimits(_ projectId: String, _ limits: KeyLimits) async throws {
        var steps = [
            SQLStep("SELECT id FROM projects WHERE id = ? AND status = 'active'", [.text(projectId)], failure: .notFound(kind: "project", id: projectId))
        ]
        if limits.isEmpty {
            steps.append(SQLStep("DELETE FROM project_limits WHERE project_id = ?", [.text(projectId)]))
        } else {
            steps.append(
                SQLStep(
                    "INSERT INTO project_limits (project_id, limits) VALUES (?, ?) ON CONFLICT (project_id) DO UPDATE SET limits = excluded.limits",
                    [.text(projectId), try Self.json(limits)]))
        }
        try await change(steps)
    }

    /// Sets the limits of one model within a project; empty limits remove them.
    public func setProjectModelLimits(_ projectId: String, model: String, _ limits: RateLimits) async throws {
        var steps = [
            SQLStep("SELECT id FROM projects WHERE id = ? AND status = 'active'", [.text(projectId)], failure: .notFound(kind: "project", id: projectId))
        ]
        if limits.isEmpty {
            steps.append(SQLStep("DELETE FROM project_model_limits WHERE project_id = ? AND model = ?", [.text(projectId), .text(model)]))
        } else {
            let json = String(decoding: try JSONEncoder().encode(limits), as: UTF8.self)
            steps.append(
                SQLStep(
                    """
                    INSERT INTO project_model_limits (project_id, model, limits) VALUES (?, ?, ?)
                    ON CONFLICT (project_id, model) DO UPDATE SET limits = excluded.limits
                    """, [.text(projectId), .text(model), .text(json)]))
        }
        try await change(steps)
    }
}
