import SightglassConfig
import SightglassGovernance
import SightglassStore

/// A restart must not hand a month's budget back: when the gateway starts, what each budgeted
/// key and project already spent in its current period is read from the ledger's key rollups
/// (day buckets, UTC) and added to the limiter. Shared limits need none of this: their spend
/// lives in PostgreSQL's lease rows.
enum BudgetSeed {
    static func seed(_ limiter: UsageLimiter, table: KeyTable, store: any LedgerStore, now: Double) async throws {
        var budgets: [(scope: LimitScope, budget: Budget, start: Int64, matches: @Sendable (KeyUsageRow) -> Bool)] = []
        func start(_ b: Budget) -> Int64 { LimitCalendar.periodStart(b.period, LimitCalendar.period(b.period, Int64(now))) }
        for g in table.allGrants {
            guard let b = g.limits.budget else { continue }
            let id = g.keyId
            budgets.append((.key(id), b, start(b), { $0.apiKey == id }))
        }
        for (id, p) in table.projects {
            guard let b = p.own.budget else { continue }
            budgets.append((.project(id), b, start(b), { $0.project == id }))
        }
        guard let earliest = budgets.map(\.start).min() else { return }
        let rows = try await store.keyUsage(level: .day, since: Double(earliest), until: now + 86_400)
        for b in budgets {
            let spent = rows.filter { $0.bucket >= b.start && b.matches($0) }.reduce(0) { $0 + $1.cell.cost }
            if spent > 0 { limiter.addSpent(spent, scope: b.scope, period: b.budget.period) }
        }
    }
}
