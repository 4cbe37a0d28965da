import SightglassTelemetry

/// One request as the ledger holds it.
public struct StoredRequest: Sendable {
    public var seq: Int64
    public var id: String
    /// Seconds since 1970.
    public var startTime: Double
    public var route: String
    public var backend: String
    public var model: String
    public var method: String
    public var stream: Bool
    public var status: Int
    public var errorType: String?
    public var errorMessage: String?
    public var tokensIn: Int
    public var tokensOut: Int
    public var tokensCached: Int
    public var tokensEstimated: Bool
    public var cost: Double
    /// Seconds from start.
    public var latency: Double
    public var firstByte: Double?
    public var firstToken: Double?
    public var bytesIn: Int
    public var bytesOut: Int
    public var client: String?
    public var user: String?
    public var apiKeyId: String?
    public var projectId: String? = nil
    /// Written by `ledger generate`, not by traffic.
    public var synthetic: Bool
    /// Seconds waiting in the admission queue (nil: not queued) and opening a new upstream
    /// connection (nil: a pooled one).
    public var queued: Double? = nil
    public var connect: Double? = nil
    /// The recorded bodies (only with `ledger.bodies.enabled`), in the one-request view.
    public var bodies: StoredBodies? = nil

    /// Output tokens per second over the generation (from the first token for streams).
    /// A cost priced from estimated tokens is itself an estimate (a zero price is exact either way).
    public var costEstimated: Bool { tokensEstimated && cost > 0 }

    public var tokensPerSecond: Double? {
        guard tokensOut > 0, errorType == nil else { return nil }
        let span = RequestEvent.generationSeconds(stream: stream, firstToken: firstToken, latency: latency)
        return span > 0 ? Double(tokensOut) / span : nil
    }

    /// Cursor that continues a newest-first listing after this row.
    public var cursor: String { "\(Int64((startTime * 1e6).rounded()))_\(seq)" }
}

/// A page of requests, newest first.
public struct RequestPage: Sendable {
    public var requests: [StoredRequest]
    public var nextCursor: String?

    public init(requests: [StoredRequest], nextCursor: String?) {
        self.requests = requests
        self.nextCursor = nextCursor
    }

    /// From up to `limit + 1` rows (the extra one only says there is another page).
    init(newestFirst rows: [StoredRequest], limit: Int) {
        self.init(requests: Array(rows.prefix(limit)), nextCursor: rows.count > limit ? rows[limit - 1].cursor : nil)
    }
}

extension StoredRequest {
    /// The record a finished request will become, before it reaches the store (the live feed
    /// shows it in the same shape as `/api/requests`).
    public init(_ e: RequestEvent) {
        self.init(
            seq: 0, id: e.id, startTime: e.startTime, route: e.route, backend: e.backend, model: e.model, method: e.method,
            stream: e.stream, status: e.status, errorType: e.errorType?.rawValue, errorMessage: e.errorMessage,
            tokensIn: e.inputTokens, tokensOut: e.outputTokens, tokensCached: e.cachedTokens, tokensEstimated: e.tokensEstimated,
            cost: e.cost, latency: e.latency, firstByte: e.firstByte, firstToken: e.firstToken, bytesIn: e.requestBytes,
            bytesOut: e.responseBytes, client: e.clientAddress.isEmpty ? nil : e.clientAddress, user: e.user, apiKeyId: e.apiKeyId,
            projectId: e.projectId, synthetic: false, queued: e.queued, connect: e.connect)
    }
}
