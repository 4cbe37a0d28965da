import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SightglassConfig
import SightglassTelemetry

/// Delivers fired and resolved alerts as JSON POSTs, retrying failures with exponential backoff
/// (1 s, 2 s, 4 s, … up to `max_attempts`). Runs on its own tasks, off every request path.
public final class AlertWebhook: Sendable {
    let settings: WebhookSettings
    let client: HTTPClient
    let logger: Logger
    private let counts = NIOLockedValueBox((delivered: 0, failed: 0))

    public init(settings: WebhookSettings, client: HTTPClient, logger: Logger) {
        self.settings = settings
        self.client = client
        self.logger = logger
    }

    public var delivered: Int { counts.withLockedValue { $0.delivered } }
    public var failed: Int { counts.withLockedValue { $0.failed } }

    public func deliver(event: String, alert: AlertRecord) {
        let body = JSONResponse.text(AlertDelivery(event: event, alert: alert, sentAt: ISO8601.string(Date())))
        Task { await self.send(body) }
    }

    func send(_ body: String) async {
        var request = HTTPClientRequest(url: settings.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "sightglass-alerts")
        request.body = .bytes(ByteBuffer(string: body))
        for attempt in 1...settings.maxAttempts {
            do {
                let response = try await client.execute(request, timeout: .milliseconds(Int64(settings.timeoutSeconds * 1000)))
                _ = try? await response.body.collect(upTo: 1 << 16)
                if (200..<300).contains(response.status.code) {
                    counts.withLockedValue { $0.delivered += 1 }
                    return
                }
                logger.warning("alert webhook answered \(response.status.code)", metadata: ["attempt": "\(attempt)", "url": "\(settings.url)"])
            } catch {
                logger.warning("alert webhook failed", metadata: ["attempt": "\(attempt)", "error": "\(error)", "url": "\(settings.url)"])
            }
            if attempt < settings.maxAttempts {
                try? await Task.sleep(nanoseconds: UInt64(1 << (attempt - 1)) * 1_000_000_000)
            }
        }
        counts.withLockedValue { $0.failed += 1 }
        logger.error("alert webhook gave up", metadata: ["attempts": "\(settings.maxAttempts)", "url": "\(settings.url)"])
    }
}
