import Foundation
import NIOCore
import SightglassGovernance
import SightglassTelemetry

/// One request relayed to one upstream and its response relayed back, from the moment the
/// request body is complete until the last response byte is written or either side gives up.
///
/// Runs entirely on its client connection's event loop. The response body is forwarded as the
/// slices that arrive (raw, or de-chunked for HTTP/1.0 clients, or re-framed when the usage
/// chunk the client did not ask for is removed); the stream tap only reads them.
final class Exchange {
    enum BodyMode {
        /// Upstream framing kept: bytes forwarded as received.
        case passthrough
        /// Chunk framing removed for an HTTP/1.0 client; the connection close ends the body.
        case decoded
        /// Payload filtered by the tap and framed in chunks of our own.
        case reframed
    }

    let conn: ClientConnectionHandler
    let ctx: LoopContext
    /// The settings in force when the request arrived; a reload does not change them mid-request.
    let settings: RelaySettings
    let head: HTTPHead
    let route: ProxyRoute?
    let backend: Backend?
    let model: String
    let stream: Bool
    let stripUsage: Bool
    let requestBody: ByteBuffer
    let requestBytes: Int
    let upgradeRequested: Bool
    /// Empty for requests relayed to the control plane (they are not recorded).
    let requestId: String
    /// The key the request was made with (nil: none, or auth off).
    let grant: KeyGrant?
    /// What the request is to be admitted against before anything else: its limits and budgets,
    /// the tokens it reserves and the most it may cost.
    struct PendingLimits {
        var checks: [LimitCheck]
        var tokens: Int
        var cost: Double
    }
    var pendingLimits: PendingLimits?
    /// The request's hold on its limits and budgets, settled when it is recorded.
    var reservation: UsageLimiter.Reservation?
    /// The limit that refused the request, for the ledger and the throttle analytics.
    var limitRefusal: LimitRefusal?
    /// The rate-limit windows reported in the client's response head (nil: no limit applies).
    var limitStatus: LimitStatus?
    var errorMessage: String?

    let start: NIODeadline
    let wallStart = Date().timeIntervalSince1970
    var firstByteAt: NIODeadline?
    var firstTokenAt: NIODeadline?
    var lastActivity: NIODeadline

    var upstreamRequest: ByteBuffer?
    var upstream: UpstreamConnection?
    var reused = false
    var retried = false
    var admitted = false
    /// Set once the request is counted in flight on a backend; given back when it is recorded.
    var inFlight: LoopRecorder.InFlight?
    var waiter: AdmissionController.Waiter?

    var headBuffer: ByteBuffer?
    /// The backend's status, once its final response head has arrived.
    var responseStatus: Int?
    var framing: BodyFraming = .none
    var decoder = ChunkedDecoder()
    var remaining = 0
    var mode: BodyMode = .passthrough
    var tap: StreamTap?
    var closeClient = false
    var responseStarted = false
    var responseBytes = 0
    /// The response payload's first bytes, when bodies are recorded.
    var capturedResponse: [UInt8] = []
    var responsePayloadBytes = 0
    var upstreamReusable = false
    var finished = false
    var tunnel = false

    /// What the exchange is waiting for, which decides the timeout the sweep applies.
    enum Phase { case none, leasing, queued, firstByte, streaming }
    var phase: Phase = .none
    var phaseStart: NIODeadline
    var totalDeadline: NIODeadline?
    /// For the timing waterfall: when a queued request was admitted, and how long a new upstream
    /// connection took (both nil in the common case: no queue, a pooled connection).
    var admittedFromQueueAt: NIODeadline?
    var connectStartedAt: NIODeadline?
    var connectedAt: NIODeadline?

    init(
        conn: ClientConnectionHandler, ctx: LoopContext, head: HTTPHead, route: ProxyRoute?, backend: Backend?, model: String,
        stream: Bool, stripUsage: Bool, body: ByteBuffer, requestBytes: Int, requestId: String = "",
        grant: KeyGrant? = nil
    ) {
        self.requestId = requestId
        self.grant = grant
        self.conn = conn
        self.ctx = ctx
        settings = ctx.settings
        self.head = head
        self.route = route
        self.backend = backend
        self.model = model
        self.stream = stream
        self.stripUsage = stripUsage
        self.requestBody = body
        self.requestBytes = requestBytes
        start = .now()
        lastActivity = start
        phaseStart = start
        upgradeRequested = route == nil && head.value("upgrade") != nil
    }

    var dialect: Dialect { route?.dialect ?? ProxyRoute.dialect(forPath: head.path) }

    // MARK: - Admission and dispatch

    func begin() {
        if let limits = pendingLimits {
            pendingLimits = nil
            admit(limits, allowLease: true)
            return
        }
        guard route != nil else {
            dispatch()
            return
        }
        let loop = ctx.loop
        switch ctx.admission.acquire(
            loop: loop,
            admit: { [self] in
                // Runs on our loop once a slot is handed over.
                waiter = nil
                phase = .none
                admittedFromQueueAt = .now()
                if finished { ctx.admission.release(); return }
                admitted = true
                dispatch()
            })
        {
        case .admitted:
            admitted = true
            dispatch()
        case .queued(let w):
            waiter = w
            phase = .queued
            phaseStart = .now()
        case .rejected:
            fail(status: 503, error: .queueFull, message: "the gateway is at its concurrency limit and its queue is full", retryAfter: 1)
        }
    }

    /// Admits the request against its limits: on, refused (429), or, when instances share the
    /// limits and this one holds too little, after a lease round with the database.
    func admit(_ limits: PendingLimits, allowLease: Bool) {
        switch ctx.limiter.admit(limits.checks, tokens: limits.tokens, cost: limits.cost, allowLease: allowLease) {
        case .admitted(let r, let status):
            reservation = r
            limitStatus = status
            begin()
        case .refused(let refusal):
            limitRefusal = refusal
            let budget = refusal.dimension == .budget
            fail(
                status: 429, error: budget ? .budgetExceeded : .rateLimited, message: refusal.message, retryAfter: refusal.retryAfter,
                type: refusal.dimension.openAIType, headers: refusal.status.headerLines + "retry-after-ms: \(refusal.retryAfter * 1000)\r\n")
        case .needsLease(let needs):
            guard let source = ctx.leases else {
                // A shared limiter with nowhere to lease from: a configuration the runtime does not build.
                fail(
                    status: 503, error: .limitsUnavailable, message: "limits are shared, but no database to lease them from is configured", retryAfter: 1)
                return
            }
            phase = .leasing
            let limiter = ctx.limiter
            ctx.loop.makeFutureWithTask { try await source.lease(needs) }.assumeIsolated().whenComplete { [self] result in
                // Granted capacity is this instance's whether or not the client is still there.
                if case .success(let grants) = result { limiter.apply(grants) }
                guard !finished else { return }
                phase = .none
                switch result {
                case .success:
                    admit(limits, allowLease: false)
                case .failure:
                    // Without the database no instance can know what the others admitted: refuse
                    // rather than risk passing the limit.
                    fail(
                        status: 503, error: .limitsUnavailable, message: "limits are shared through PostgreSQL, which did not answer; try again",
                        retryAfter: 1)
                }
            }
        }
    }

    func dispatch() {
        if route != nil {
            if let backend { inFlight = ctx.recorder.started(backend: backend.index, stream: stream) }
            totalDeadline = .now() + settings.totalTimeout
        }
        upstreamRequest = buildUpstreamRequest()
        // An upgrade gets a connection of its own: servers (Hummingbird among them) only upgrade
        // a connection's first request, and the connection becomes the tunnel anyway.
        if !upgradeRequested, let c = ctx.checkout(backend) {
            reused = true
            send(on: c)
        } else {
            connectAndSend()
        }
    }

    func connectAndSend() {
        if case .none = ctx.controlPlane, route == nil {
            fail(status: 404, error: .validationError, message: "no route for \(head.method) \(head.path)")
            return
        }
        connectStartedAt = .now()
        ctx.connect(backend).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let c):
                if finished { c.channel.close(promise: nil); return }
                connectedAt = .now()
                send(on: c)
            case .failure(let error):
                guard !finished else { return }
                if case ChannelError.connectTimeout = error {
                    fail(status: 504, error: .timeout, message: "timed out connecting to backend '\(backend?.name ?? "control plane")'")
                } else {
                    fail(status: 502, error: .connectionError, message: "cannot connect to backend '\(backend?.name ?? "control plane")': \(error)")
                }
            }
        }
    }

    func send(on connection: UpstreamConnection) {
        upstream = connection
        let channel = connection.channel
        connection.handler.exchange = self
        if !conn.isWritable { channel.setAutoRead(false) }
        channel.write(upstreamRequest!, promise: nil)
        if requestBody.readableBytes > 0 { channel.write(requestBody, promise: nil) }
        channel.flush()
        phase = .firstByte
        phaseStart = .now()
    }

    /// Request head for the upstream: hop-by-hop headers removed, Host and framing set.
    func buildUpstreamRequest() -> ByteBuffer {
        var buf = ByteBufferAllocator().buffer(capacity: 512)
        let prefix = backend?.url.pathPrefix ?? ""
        buf.writeString(head.method); buf.writeStaticString(" "); buf.writeString(prefix); buf.writeString(head.target)
        buf.writeStaticString(" HTTP/1.1\r\n")
        // Headers named in Connection are hop-by-hop too (rare; skip the work when there is none).
        let named: Set<String> = head.value("connection") == nil ? [] : Set(head.connectionTokens)
        var forwardedFor: String?
        for (name, value) in head.headers {
            let lower = name.lowercased()
            switch lower {
            case "host", "content-length", "transfer-encoding", "expect", "keep-alive", "proxy-connection", "te", "trailer",
                "x-sightglass-client-ip", ProxyRoute.keyModelsHeader:
                continue
            case "connection", "upgrade":
                if upgradeRequested { break }
                continue
            case "accept-encoding":
                // The tap must see plain text to find usage; identity is always acceptable to clients.
                if route != nil { continue }
            case "authorization", "api-key", "x-api-key":
                // With auth on, these carry the gateway's own key: never forwarded upstream.
                // (Requests for the control plane keep theirs: the dashboard and Admin API read it.)
                if (route != nil && settings.auth != .off) || (lower == "authorization" && backend?.apiKey != nil) { continue }
            case "x-forwarded-for":
                forwardedFor = value
                continue
            case "x-request-id":
                if route != nil { continue }  // ours follows (the client's own when it sent one)
            default:
                if named.contains(lower) && !upgradeRequested { continue }
            }
            buf.writeString(name); buf.writeStaticString(": "); buf.writeString(value); buf.writeStaticString("\r\n")
        }
        if !requestId.isEmpty {
            buf.writeStaticString("X-Request-Id: "); buf.writeString(requestId); buf.writeStaticString("\r\n")
        }
        buf.writeStaticString("Host: ")
        buf.writeString(backend?.url.authority ?? (head.value("host") ?? "localhost"))
        buf.writeStaticString("\r\n")
        if requestBody.readableBytes > 0 || head.method == "POST" || head.method == "PUT" || head.method == "PATCH" {
            buf.writeStaticString("Content-Length: ")
            buf.writeString(String(requestBody.readableBytes))
            buf.writeStaticString("\r\n")
        }
        if let key = backend?.apiKey {
            buf.writeStaticString("Authorization: Bearer ")
            buf.writeString(key)
            buf.writeStaticString("\r\n")
        }
        buf.writeStaticString("X-Forwarded-For: ")
        if let forwardedFor {
            buf.writeString(forwardedFor)
            buf.writeStaticString(", ")
        }
        buf.writeString(conn.remoteIP)
        buf.writeStaticString("\r\n")
        if route == nil {
            buf.writeStaticString("X-Sightglass-Client-IP: ")
            buf.writeString(conn.remoteIP)
            buf.writeStaticString("\r\n")
            if let models = grant?.scopes.models, !models.isEmpty {
                buf.writeStaticString("X-Sightglass-Key-Models: ")
                buf.writeString(models.map(\.pattern).joined(separator: ","))
                buf.writeStaticString("\r\n")
            }
        }
        buf.writeStaticString("\r\n")
        return buf
    }

    // MARK: - Timeouts

    /// Called by the loop's sweep (a few times a second): no scheduled task per request.
    func checkDeadlines(_ now: NIODeadline) {
        guard !finished, !tunnel else { return }
        if let total = totalDeadline, now >= total {
            timedOut("total")
            return
        }
        switch phase {
        case .none, .leasing:
            break
        case .queued:
            if now >= phaseStart + settings.queueTimeout, let w = waiter, ctx.admission.cancel(w) {
                waiter = nil
                fail(status: 503, error: .queueFull, message: "the gateway is at its concurrency limit and the request waited too long", retryAfter: 1)
            }
        case .firstByte:
            if now >= phaseStart + settings.firstByteTimeout { timedOut("first byte") }
        case .streaming:
            if now >= lastActivity + settings.idleTimeout { timedOut("idle") }
        }
    }

    func timedOut(_ phase: String) {
        guard !finished, !tunnel else { return }
        fail(status: 504, error: .timeout, message: "backend '\(backend?.name ?? "control plane")' timed out (\(phase) timeout)")
    }

    // MARK: - Upstream events

    func upstreamRead(_ buffer: ByteBuffer) {
        guard !finished else { return }
        var buffer = buffer
        if tunnel {
            conn.writeAndFlush(buffer)
            return
        }
        lastActivity = .now()
        if firstByteAt == nil {
            firstByteAt = lastActivity
            phase = .streaming
        }
        do {
            if responseStatus == nil {
                guard try readHead(&buffer) else { return }
            }
            try relayBody(&buffer)
            conn.flush()
        } catch let error as HTTPParseError {
            fail(status: 502, error: .invalidResponse, message: "backend sent an invalid response: \(error.message)")
        } catch {
            fail(status: 502, error: .invalidResponse, message: "backend sent an invalid response")
        }
    }

    func upstreamClosed() {
        upstream = nil
        guard !finished else { return }
        if tunnel {
            finish(status: 101, error: nil, closeClient: true)
            return
        }
        if responseStatus != nil, case .untilClose = framing {
            completeBody()
            return
        }
        if firstByteAt == nil && reused && !retried {
            // A pooled connection the backend had already closed: try once on a fresh one.
            retried = true
            reused = false
            connectAndSend()
            return
        }
        fail(
            status: 502, error: .connectionError,
            message: "backend '\(backend?.name ?? "control plane")' closed the connection before the response was complete")
    }

    /// The client went away: stop the upstream request and record the cancellation.
    func clientGone() {
        guard !finished else { return }
        if let w = waiter, ctx.admission.cancel(w) { waiter = nil }
        upstreamReusable = false
        closeClient = true
        // A client that closes once the stream's end marker has reached it got the whole answer
        // (clients do not wait for the upstream's last empty chunk): that is a completed stream.
        if let status = responseStatus, status < 400, tap?.endSeen == true {
            finish(status: status, error: nil, closeClient: true)
            return
        }
        finish(status: responseStatus ?? 499, error: tunnel ? nil : .clientCancelled, closeClient: true)
    }

    func clientWritabilityChanged(_ writable: Bool) {
        upstream?.channel.setAutoRead(writable)
    }

    // MARK: - Response head

    /// Accumulates and parses the response head; returns false while it is incomplete.
    func readHead(_ buffer: inout ByteBuffer) throws -> Bool {
        if headBuffer == nil { headBuffer = buffer } else { headBuffer!.writeBuffer(&buffer) }
        while true {
            let end = headBuffer!.withUnsafeReadableBytes { HeadParser.headEnd($0) }
            guard let end else {
                if headBuffer!.readableBytes > 64 * 1024 { throw HTTPParseError.headTooLarge }
                return false
            }
            let status = try headBuffer!.withUnsafeReadableBytes { all -> Int in
                let bytes = UnsafeRawBufferPointer(rebasing: all[0..<end])
                let raw = try RawResponseHead.parse(bytes)
                if raw.status >= 200 { try startResponse(raw, bytes) }
                return raw.status
            }
            if status == 101 {
                guard upgradeRequested else { throw HTTPParseError.badStatusLine }
                let parsed = try headBuffer!.withUnsafeReadableBytes { try HeadParser.parseResponse(UnsafeRawBufferPointer(rebasing: $0[0..<end])) }
                headBuffer!.moveReaderIndex(forwardBy: end)
                startTunnel(parsed)
                return false
            }
            headBuffer!.moveReaderIndex(forwardBy: end)
            if status >= 200 { break }  // Interim responses (100 Continue) are ours to absorb.
        }
        buffer = headBuffer!
        headBuffer = nil
        return true
    }

    static let sse = Array("text/event-stream".utf8)
    static let ndjson = Array("ndjson".utf8)
    static let close = Array("close".utf8)
    static let keepAliveToken = Array("keep-alive".utf8)
    static let contentLengthName = Array("content-length".utf8)
    static let requestIdName = Array("x-request-id".utf8)

    /// Decides framing and relay mode, and writes the client's response head: the backend's
    /// status line and header lines copied as they are, hop-by-hop headers left out.
    func startResponse(_ r: RawResponseHead, _ bytes: UnsafeRawBufferPointer) throws {
        framing = try r.framing(bytes, requestMethod: head.method)
        if case .contentLength(let n) = framing { remaining = n }
        decoder = ChunkedDecoder()
        responseStatus = r.status
        upstreamReusable = r.keepAlive(bytes) && framing != .untilClose
        var format: StreamTap.Format?
        if route != nil {
            var ct: [UInt8] = []
            if let range = r.contentType { ct = bytes[range].map { ($0 >= 65 && $0 <= 90) ? $0 | 0x20 : $0 } }
            let has: ([UInt8]) -> Bool = { p in ct.withUnsafeBytes { ByteSearch.find(p, in: $0, range: 0..<$0.count) != nil } }
            format = has(Self.sse) ? .sse : (has(Self.ndjson) ? .ndjson : .json)
        }
        let strip = stripUsage && format == .sse && (200..<300).contains(r.status)
        let client11 = head.versionMinor == 1
        var closeAfter = false
        if strip {
            mode = client11 ? .reframed : .decoded
            closeAfter = !client11 && framing != .none
        } else {
            switch framing {
            case .chunked:
                mode = client11 ? .passthrough : .decoded
                closeAfter = !client11
            case .untilClose:
                mode = .passthrough
                closeAfter = true
            default:
                mode = .passthrough
            }
        }
        if let format { tap = StreamTap(format: format, stripUsage: strip) }
        closeClient = closeAfter || !head.keepAlive || ctx.draining

        var out = ByteBufferAllocator().buffer(capacity: bytes.count + 64)
        out.writeStaticString("HTTP/1.1 ")
        out.writeInteger(UInt8(48 + r.status / 100))
        out.writeInteger(UInt8(48 + r.status / 10 % 10))
        out.writeInteger(UInt8(48 + r.status % 10))
        out.writeStaticString(" ")
        out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[r.reason]))
        out.writeStaticString("\r\n")
        // Headers named in Connection are hop-by-hop too.
        let named = r.connection.isEmpty ? [] : RawResponseHead.tokens(bytes, r.connection).filter { $0 != Self.close && $0 != Self.keepAliveToken }
        let keepLength = head.method == "HEAD" || (mode == .passthrough && framing != .chunked)
        fields: for f in r.fields {
            for h in RawResponseHead.hopByHop where RawResponseHead.equals(bytes, f.name, h) { continue fields }
            if !keepLength && RawResponseHead.equals(bytes, f.name, Self.contentLengthName) { continue }
            for n in named where RawResponseHead.equals(bytes, f.name, n) { continue fields }
            if !requestId.isEmpty && RawResponseHead.equals(bytes, f.name, Self.requestIdName) { continue }
            // Under a limit of ours, the backend's own rate-limit figures (an upstream account's
            // quota) would contradict ours and tell tenants about it: ours replace them.
            if limitStatus != nil
                && (RawResponseHead.hasPrefix(bytes, f.name, "x-ratelimit-") || RawResponseHead.equals(bytes, f.name, "retry-after-ms"))
            {
                continue
            }
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[f.line]))
            out.writeStaticString("\r\n")
        }
        if !requestId.isEmpty {
            out.writeStaticString("X-Request-Id: "); out.writeString(requestId); out.writeStaticString("\r\n")
        }
        if let limitStatus { LimitHeaders.write(limitStatus, into: &out) }
        if (mode == .passthrough && framing == .chunked) || mode == .reframed {
            out.writeStaticString("Transfer-Encoding: chunked\r\n")
        }
        if closeClient {
            out.writeStaticString("Connection: close\r\n")
        } else if !client11 {
            out.writeStaticString("Connection: keep-alive\r\n")
        }
        out.writeStaticString("\r\n")
        responseStarted = true
        conn.write(out)
    }

    func startTunnel(_ r: HTTPHead) {
        var out = ByteBufferAllocator().buffer(capacity: 256)
        out.writeString("HTTP/1.1 101 \(r.reason)\r\n")
        for (name, value) in r.headers {
            out.writeString(name); out.writeString(": "); out.writeString(value); out.writeString("\r\n")
        }
        out.writeString("\r\n")
        if let rest = headBuffer, rest.readableBytes > 0 { out.writeImmutableBuffer(rest) }
        headBuffer = nil
        responseStarted = true
        tunnel = true
        phase = .none
        totalDeadline = nil
        conn.writeAndFlush(out)
        conn.enterTunnel(upstream!.channel)
    }

    // MARK: - Response body

    func relayBody(_ buffer: inout ByteBuffer) throws {
        switch framing {
        case .none:
            completeBody()
        case .contentLength:
            let take = min(remaining, buffer.readableBytes)
            if take > 0 {
                let slice = buffer.readSlice(length: take)!
                remaining -= take
                emit(slice, raw: slice)
            }
            if buffer.readableBytes > 0 { upstreamReusable = false }
            if remaining == 0 { completeBody() }
        case .untilClose:
            if buffer.readableBytes > 0 { emit(buffer, raw: buffer) }
        case .chunked:
            let consumed = try buffer.withUnsafeReadableBytes { ptr -> Int in
                try decoder.feed(ptr) { range in
                    let payload = UnsafeRawBufferPointer(rebasing: ptr[range])
                    switch mode {
                    case .passthrough:
                        observe(payload)
                    case .decoded:
                        observe(payload)
                        let slice = buffer.getSlice(at: buffer.readerIndex + range.lowerBound, length: range.count)!
                        responseBytes += slice.readableBytes
                        conn.write(slice)
                    case .reframed:
                        filter(payload)
                    }
                }
            }
            if mode == .passthrough {
                let raw = buffer.readSlice(length: consumed)!
                responseBytes += raw.readableBytes
                conn.write(raw)
            } else {
                buffer.moveReaderIndex(forwardBy: consumed)
            }
            if buffer.readableBytes > 0 { upstreamReusable = false }
            if decoder.isDone { completeBody() }
        }
    }

    /// Keeps the response payload's first bytes for the ledger (`ledger.bodies`).
    func capture(_ payload: UnsafeRawBufferPointer) {
        responsePayloadBytes += payload.count
        let room = settings.bodyCaptureBytes - capturedResponse.count
        if room > 0 { capturedResponse.append(contentsOf: payload.prefix(room)) }
    }

    /// Forwards a body slice whose payload and wire bytes are the same (non-chunked framing).
    func emit(_ payload: ByteBuffer, raw: ByteBuffer) {
        if mode == .reframed {
            payload.withUnsafeReadableBytes { filter($0) }
            return
        }
        payload.withUnsafeReadableBytes { observe($0) }
        responseBytes += raw.readableBytes
        conn.write(raw)
    }

    func observe(_ payload: UnsafeRawBufferPointer) {
        if settings.bodyCaptureBytes > 0 { capture(payload) }
        guard tap != nil else { return }
        if tap!.observe(payload), firstTokenAt == nil { firstTokenAt = .now() }
    }

    /// Room left in front of filtered bytes for the chunk-size line (16 hex digits and CRLF).
    static let chunkHeadroom = 18

    func filter(_ payload: UnsafeRawBufferPointer) {
        if settings.bodyCaptureBytes > 0 { capture(payload) }
        var out = ByteBufferAllocator().buffer(capacity: payload.count + Self.chunkHeadroom + 2)
        out.moveWriterIndex(forwardBy: Self.chunkHeadroom)
        out.moveReaderIndex(forwardBy: Self.chunkHeadroom)
        if tap!.filter(payload, into: &out), firstTokenAt == nil { firstTokenAt = .now() }
        writeChunk(out)
    }

    /// Writes filtered bytes as one chunk; the size line goes into the headroom in front of
    /// them when there is some, so the payload is not copied again.
    func writeChunk(_ data: ByteBuffer) {
        guard data.readableBytes > 0 else { return }
        if mode == .decoded {
            responseBytes += data.readableBytes
            conn.write(data)
            return
        }
        var frame = data
        let sizeLine = String(data.readableBytes, radix: 16) + "\r\n"
        let n = sizeLine.utf8.count
        if frame.readerIndex >= n {
            frame.moveReaderIndex(to: frame.readerIndex - n)
            frame.setString(sizeLine, at: frame.readerIndex)
        } else {
            frame = ByteBufferAllocator().buffer(capacity: data.readableBytes + n + 2)
            frame.writeString(sizeLine)
            frame.writeImmutableBuffer(data)
        }
        frame.writeStaticString("\r\n")
        responseBytes += frame.readableBytes
        conn.write(frame)
    }

    func completeBody() {
        if tap != nil {
            if mode == .reframed {
                var out: ByteBuffer? = ByteBufferAllocator().buffer(capacity: 256)
                tap!.finish(into: &out)
                writeChunk(out!)
                var end = ByteBufferAllocator().buffer(capacity: 5)
                end.writeString("0\r\n\r\n")
                responseBytes += 5
                conn.write(end)
            } else {
                var none: ByteBuffer? = nil
                tap!.finish(into: &none)
            }
        }
        conn.flush()
        let status = responseStatus ?? 502
        finish(status: status, error: status >= 400 ? .upstreamError : nil, closeClient: closeClient)
    }

    // MARK: - Ending

    /// Ends the exchange with an error: an error response if nothing was sent yet, else a cut connection.
    func fail(status: Int, error: ErrorType, message: String, retryAfter: Int? = nil, type: String? = nil, headers: String? = nil) {
        guard !finished else { return }
        upstreamReusable = false
        errorMessage = message
        if responseStarted {
            finish(status: responseStatus ?? status, error: error, closeClient: true)
            return
        }
        let close = !head.keepAlive || ctx.draining
        let code: String?
        switch error {
        case .timeout: code = "timeout"
        case .queueFull: code = "queue_full"
        case .connectionError, .invalidResponse: code = "backend_unavailable"
        case .rateLimited: code = "rate_limit_exceeded"
        case .budgetExceeded: code = "insufficient_quota"
        case .limitsUnavailable: code = "limits_unavailable"
        default: code = nil
        }
        conn.writeAndFlush(
            ErrorResponse.response(
                dialect: dialect, status: status, message: message, code: code, type: type, close: close,
                retryAfter: retryAfter, requestId: requestId.isEmpty ? nil : requestId, headers: headers ?? limitStatus?.headerLines ?? "",
                allocator: ByteBufferAllocator()))
        finish(status: status, error: error, closeClient: close)
    }

    func finish(status: Int, error: ErrorType?, closeClient: Bool) {
        guard !finished else { return }
        finished = true
        phase = .none
        if let c = upstream {
            upstream = nil
            c.handler.exchange = nil
            if upstreamReusable && !tunnel && (error == nil || error == .upstreamError) {
                if !conn.isWritable { c.channel.setAutoRead(true) }
                ctx.checkin(backend, c)
            } else {
                c.channel.close(promise: nil)
            }
        }
        if admitted {
            admitted = false
            ctx.admission.release()
        }
        if route != nil { record(status: status, error: error) }
        conn.exchangeFinished(closeConnection: closeClient)
    }

    func record(status: Int, error: ErrorType?) {
        let end = NIODeadline.now()
        func seconds(_ d: NIODeadline?) -> Double? { d.map { Double(($0 - start).nanoseconds) / 1e9 } }
        var input = 0, output = 0, cached = 0, estimated = false
        /// Tokens when the backend reported none: about four bytes a token in, content chunks
        /// (or bytes ÷ 4) out.
        func estimate() -> (input: Int, output: Int) {
            (max(1, requestBytes / 4), stream ? (tap?.contentChunks ?? 0) : responseBytes / 4)
        }
        if let u = tap?.usage {
            input = u.input
            output = u.output
            cached = u.cached
        } else if route?.canStream == true, route?.management == false, error == nil, status < 400 {
            // No usage from the backend: estimate, and say so.
            estimated = true
            (input, output) = estimate()
        }
        if let r = reservation {
            // What the request really used goes back to its limits and budgets. Without the
            // backend's usage (a client gone or a timeout mid-stream) what was generated is still
            // charged, estimated as the ledger estimates it: leaving early must not be free.
            reservation = nil
            var (usedIn, usedOut) = (input, output)
            if tap?.usage == nil, !estimated, firstByteAt != nil, (responseStatus ?? 500) < 400 { (usedIn, usedOut) = estimate() }
            ctx.limiter.settle(
                r, tokens: usedIn + usedOut, cost: settings.pricing[model]?.cost(input: usedIn, cached: cached, output: usedOut) ?? 0)
        }
        var event = RequestEvent(
            route: route!.path, method: head.method, backend: inFlight != nil ? (backend?.name ?? "") : "",
            serverAddress: backend?.url.host ?? "", serverPort: backend?.url.port ?? 0,
            model: model, status: status, errorType: error, stream: stream, startTime: wallStart,
            firstByte: seconds(firstByteAt), firstToken: stream ? seconds(firstTokenAt) : nil,
            latency: Double((end - start).nanoseconds) / 1e9,
            inputTokens: input, outputTokens: output, cachedTokens: cached, tokensEstimated: estimated,
            requestBytes: requestBytes, responseBytes: responseBytes,
            id: requestId, clientAddress: conn.remoteIP, user: ClientConnectionHandler.user(head, grant: grant, header: settings.userHeader),
            errorMessage: errorMessage ?? (error == .upstreamError ? "backend '\(backend?.name ?? "")' answered \(status)" : nil),
            apiKeyId: grant?.keyId, projectId: grant?.projectId, queued: seconds(admittedFromQueueAt),
            connect: connectStartedAt.flatMap { s in connectedAt.map { Double(($0 - s).nanoseconds) / 1e9 } })
        if let refusal = limitRefusal {
            event.limitScope = refusal.scope.kind
            event.limitDimension = refusal.dimension.rawValue
            event.limitRetryAfter = refusal.retryAfter
        }
        let cap = settings.bodyCaptureBytes
        if cap > 0 {
            event.bodies = CapturedBodies(
                request: Array(requestBody.readableBytesView.prefix(cap)), requestTruncated: requestBody.readableBytes > cap,
                response: capturedResponse, responseTruncated: responsePayloadBytes > cap)
        }
        ctx.recorder.finished(event, started: inFlight)
        inFlight = nil
    }
}

extension Channel {
    /// Pauses or resumes reading, for backpressure between the two sides of a relay.
    func setAutoRead(_ on: Bool) {
        if let sync = syncOptions {
            try? sync.setOption(ChannelOptions.autoRead, value: on)
        } else {
            setOption(ChannelOptions.autoRead, value: on).whenComplete { _ in }
        }
    }
}
