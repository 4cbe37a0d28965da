import Foundation
import NIOCore
import SightglassGovernance
import SightglassTelemetry

/// One client connection: reads requests with our own minimal HTTP/1.1 framing, validates the
/// inference routes' bodies, and hands each request to an `Exchange`. Requests on a connection
/// are served one at a time; pipelined bytes wait in `input` until the previous response is done.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State {
        case head
        case body(HTTPHead, BodyFraming, ChunkedDecoder, ByteBuffer?)
        case exchange(Exchange)
        case tunnel(any Channel)
        case closed
    }

    let ctx: LoopContext
    var context: ChannelHandlerContext?
    var input: ByteBuffer?
    var state: State = .head
    /// When the current wait (for a request, or on an idle keep-alive connection) runs out;
    /// checked by the loop's sweep rather than a scheduled task per request.
    var deadline: NIODeadline?
    var deadlineIsIdle = false
    /// After an early error response: our side is half-closed and input is discarded until the
    /// client closes or the linger time ends, so the client reads the response instead of a reset.
    var lingering = false
    var processing = false
    var remoteIP = "unknown"

    init(ctx: LoopContext) {
        self.ctx = ctx
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let addr = context.channel.remoteAddress { remoteIP = addr.ipAddress ?? "unix" }
        ctx.clients[ObjectIdentifier(self)] = self
        armTimer(ctx.settings.requestReadTimeout, idle: false)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ctx.clients[ObjectIdentifier(self)] = nil
        self.context = nil
        ctx.clientClosed()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        switch state {
        case .tunnel(let upstream):
            upstream.writeAndFlush(buffer, promise: nil)
            return
        case .closed:
            return
        case .exchange:
            append(&buffer)
            // A client pipelining far more than one request's worth is not waited for.
            if input!.readableBytes > ctx.settings.maxHeaderBytes + ctx.settings.maxBodyBytes { context.close(promise: nil) }
            return
        case .head:
            if input == nil || input!.readableBytes == 0 { armTimer(ctx.settings.requestReadTimeout, idle: false) }
            append(&buffer)
        case .body:
            append(&buffer)
        }
        process()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let previous = state
        state = .closed
        deadline = nil
        switch previous {
        case .exchange(let e): e.clientGone()
        case .tunnel(let up): up.close(promise: nil)
        default: break
        }
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        switch state {
        case .exchange(let e): e.clientWritabilityChanged(context.channel.isWritable)
        // An upgraded connection (the live feed) gets the same backpressure: a client that stops
        // reading stops the reads from upstream instead of growing a buffer here.
        case .tunnel(let up): up.setAutoRead(context.channel.isWritable)
        default: break
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: - Writing (used by the exchange)

    func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    func writeAndFlush(_ buffer: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func enterTunnel(_ upstream: any Channel) {
        deadline = nil
        state = .tunnel(upstream)
        if var rest = input, rest.readableBytes > 0 {
            input = nil
            upstream.writeAndFlush(rest.readSlice(length: rest.readableBytes)!, promise: nil)
        }
    }

    /// Called by the exchange when the response is complete (or failed).
    func exchangeFinished(closeConnection: Bool) {
        var tunnelled = false
        switch state {
        case .exchange: break
        // The upgraded connection's upstream closed: the client's connection ends with it
        // (the WebSocket client waits for this after the close handshake).
        case .tunnel: tunnelled = true
        default: return
        }
        if closeConnection || ctx.draining || tunnelled {
            state = .closed
            context?.close(promise: nil)
            return
        }
        state = .head
        armTimer(input?.readableBytes ?? 0 > 0 ? ctx.settings.requestReadTimeout : ctx.settings.keepAliveTimeout, idle: true)
        if !processing { process() }
    }

    /// Graceful shutdown: idle connections close now, busy ones after their response.
    func drain() {
        if case .head = state, input?.readableBytes ?? 0 == 0 {
            state = .closed
            context?.close(promise: nil)
        }
    }

    // MARK: - Request framing

    func append(_ buffer: inout ByteBuffer) {
        if input == nil || input!.readableBytes == 0 {
            input = buffer
        } else {
            input!.writeBuffer(&buffer)
        }
    }

    func armTimer(_ amount: TimeAmount, idle: Bool) {
        deadline = .now() + amount
        deadlineIsIdle = idle
    }

    /// Called by the loop's sweep: enforces the connection's and its exchange's timeouts.
    func checkDeadlines(_ now: NIODeadline) {
        if lingering {
            if let d = deadline, now >= d { context?.close(promise: nil) }
            return
        }
        if case .exchange(let e) = state {
            e.checkDeadlines(now)
            return
        }
        guard let d = deadline, now >= d else { return }
        deadline = nil
        switch state {
        case .head where deadlineIsIdle && (input?.readableBytes ?? 0) == 0:
            state = .closed
            context?.close(promise: nil)
        case .head, .body:
            reject(status: 408, dialect: .product, message: "the client did not send a complete request in time")
        default:
            break
        }
    }

    func process() {
        processing = true
        defer { processing = false }
        while true {
            switch state {
            case .head:
                guard let available = input?.readableBytes, available > 0 else { return }
                let limit = ctx.settings.maxHeaderBytes
                let end = input!.withUnsafeReadableBytes { HeadParser.headEnd(UnsafeRawBufferPointer(rebasing: $0.prefix(limit + 4))) }
                guard let end else {
                    if available > limit { reject(status: 400, dialect: .product, message: HTTPParseError.headTooLarge.message) }
                    return
                }
                let head: HTTPHead
                let framing: BodyFraming
                do {
                    head = try input!.withUnsafeReadableBytes { try HeadParser.parseRequest(UnsafeRawBufferPointer(rebasing: $0[0..<end])) }
                    framing = try HeadParser.requestFraming(head)
                } catch let e as HTTPParseError {
                    reject(status: e == .unsupportedVersion ? 505 : (e == .unsupportedTransferEncoding ? 501 : 400), dialect: .product, message: e.message)
                    return
                } catch {
                    reject(status: 400, dialect: .product, message: "malformed request")
                    return
                }
                input!.moveReaderIndex(forwardBy: end)
                if case .contentLength(let n) = framing, n > ctx.settings.maxBodyBytes {
                    rejectTooLarge(head)
                    return
                }
                if framing != .none, head.value("expect")?.lowercased() == "100-continue" {
                    var cont = ByteBufferAllocator().buffer(capacity: 25)
                    cont.writeString("HTTP/1.1 100 Continue\r\n\r\n")
                    writeAndFlush(cont)
                }
                state = .body(head, framing, ChunkedDecoder(maxPayload: ctx.settings.maxBodyBytes), nil)
            case .body(let head, let framing, var decoder, var collected):
                switch framing {
                case .none, .untilClose:
                    startExchange(head, body: ByteBuffer())
                case .contentLength(let n):
                    guard let available = input?.readableBytes, available >= n else { return }
                    startExchange(head, body: input!.readSlice(length: n)!)
                case .chunked:
                    guard input != nil, input!.readableBytes > 0 else { return }
                    var body = collected ?? ByteBufferAllocator().buffer(capacity: 1024)
                    do {
                        let consumed = try input!.withUnsafeReadableBytes { ptr in
                            try decoder.feed(ptr) { range in body.writeBytes(UnsafeRawBufferPointer(rebasing: ptr[range])) }
                        }
                        input!.moveReaderIndex(forwardBy: consumed)
                    } catch HTTPParseError.bodyTooLarge {
                        rejectTooLarge(head)
                        return
                    } catch {
                        reject(status: 400, dialect: ProxyRoute.dialect(forPath: head.path), message: HTTPParseError.badChunk.message)
                        return
                    }
                    collected = body
                    if decoder.isDone {
                        startExchange(head, body: body)
                    } else {
                        state = .body(head, framing, decoder, collected)
                        return
                    }
                }
            case .exchange, .tunnel, .closed:
                return
            }
        }
    }

    // MARK: - Routing and validation

    func startExchange(_ head: HTTPHead, body: ByteBuffer) {
        deadline = nil
        let path = ProxyRoute.normalized(head.path)
        if ctx.bans.anyActive, let left = ctx.bans.banned(remoteIP, now: Date().timeIntervalSince1970), Self.keyed(path, head),
            InferenceAuth.credential({ head.value($0) }).flatMap({ ctx.keys.grant(for: KeyDigest(of: $0)) }) == nil
        {
            // This address failed authentication too often: until the ban ends only a live key
            // gets through (many clients can share one address behind a proxy), and a guess is
            // not even checked.
            let route = ProxyRoute.all[path] ?? ProxyRoute.blobs
            rejectRequest(
                head, route: route, status: 403, error: .permissionDenied,
                message: "Too many failed authentication attempts from this address; try again in \(Int(left.rounded(.up))) seconds.",
                code: "address_banned", param: nil, bytes: body.readableBytes, anonymous: true, retryAfter: Int(left.rounded(.up)))
            return
        }
        if ProxyRoute.isBlob(head, path: path) {
            startBlobExchange(head, body: body)
            return
        }
        guard let route = ProxyRoute.all[path], head.method == route.method else {
            var grant: KeyGrant?
            if ctx.settings.auth != .off && ProxyRoute.isCatalog(path) {
                // Any live key may read the catalogs (its model scope filters them).
                let catalog = ProxyRoute(
                    path: path, dialect: ProxyRoute.dialect(forPath: Substring(path)), modelKeys: [], streamsByDefault: false,
                    acceptsStreamOptions: false, canStream: false, method: head.method)
                switch InferenceAuth.decide(
                    mode: ctx.settings.auth, credential: InferenceAuth.credential({ head.value($0) }), keys: ctx.keys, scope: nil,
                    model: nil, maxTokens: nil, now: Date().timeIntervalSince1970)
                {
                case .anonymous: break
                case .granted(let g): grant = g
                case .refused(let refusal):
                    refuse(head, route: catalog, refusal, bytes: body.readableBytes)
                    return
                }
            }
            let e = Exchange(
                conn: self, ctx: ctx, head: head, route: nil, backend: nil, model: "", stream: false,
                stripUsage: false, body: body, requestBytes: body.readableBytes, grant: grant)
            state = .exchange(e)
            e.begin()
            return
        }
        // The key first: a client without a valid one learns nothing about the body or the models.
        let grant: KeyGrant?
        switch InferenceAuth.decide(
            mode: ctx.settings.auth, credential: ctx.settings.auth == .off ? nil : InferenceAuth.credential({ head.value($0) }), keys: ctx.keys,
            scope: route.scope, model: nil, maxTokens: nil, now: Date().timeIntervalSince1970)
        {
        case .anonymous: grant = nil
        case .granted(let g): grant = g
        case .refused(let refusal):
            refuse(head, route: route, refusal, bytes: body.readableBytes)
            return
        }
        let fields: RequestFields
        do {
            fields = try body.withUnsafeReadableBytes { try RequestFields.scan($0, modelKeys: route.modelKeys, otherModelKeys: route.otherModelKeys) }
        } catch let e as RequestFields.ScanError {
            rejectRequest(
                head, route: route, status: 400, error: .validationError, message: e.message, code: e.code, param: e.field, bytes: body.readableBytes
            )
            return
        } catch {
            rejectRequest(
                head, route: route, status: 400, error: .validationError, message: "invalid request body", code: nil, param: nil, bytes: body.readableBytes)
            return
        }
        guard let model = fields.model, !model.isEmpty else {
            let msg = route.dialect == .ollama ? "model is required" : "you must provide a model parameter"
            rejectRequest(
                head, route: route, status: 400, error: .validationError, message: msg, code: "missing_model", param: "model", bytes: body.readableBytes)
            return
        }
        let stream = route.canStream && (fields.stream ?? route.streamsByDefault)
        // A model outside the key's scope is answered exactly as one that does not exist.
        let hidden = grant.map { g in !g.scopes.allows(model: model) || fields.otherModels.contains { !g.scopes.allows(model: $0) } } ?? false
        guard !hidden, let backend = ctx.pickBackend(for: model) ?? (route.management ? ctx.pickOllama() : nil) else {
            let msg =
                route.dialect == .ollama
                ? "model \"\(model)\" not found, try pulling it first"
                : "The model `\(model)` does not exist or you do not have access to it."
            rejectRequest(
                head, route: route, status: 404, error: hidden ? .permissionDenied : .modelNotFound, message: msg, code: "model_not_found",
                param: "model", bytes: body.readableBytes, model: model, stream: stream, grant: grant,
                recorded: hidden ? "model '\(model)' is outside the key's scopes" : nil)
            return
        }
        var upstreamBody = body
        let outputCap = fields.outputCap(ollama: route.dialect == .ollama)
        if let grant, let cap = grant.scopes.maxTokens, !route.management, route.scope == .completions {
            if let asked = outputCap, asked > cap {
                refuse(head, route: route, .maxTokensAbove(cap), bytes: body.readableBytes, grant: grant)
                return
            }
            if outputCap == nil {
                // No limit asked: the key's cap becomes the request's, so leaving it out is no way around it.
                guard route.dialect == .openAI || !fields.hasOptions else {
                    refuse(head, route: route, .maxTokensAbove(cap), bytes: body.readableBytes, grant: grant)
                    return
                }
                upstreamBody = body.withUnsafeReadableBytes {
                    Self.appendMember(route.dialect == .openAI ? "\"max_tokens\":\(cap)" : "\"options\":{\"num_predict\":\(cap)}", to: $0)
                }
            }
        }
        var strip = false
        if stream && route.acceptsStreamOptions && fields.includeUsage != true {
            upstreamBody = upstreamBody.withUnsafeReadableBytes { Self.injectIncludeUsage($0, fields: fields) }
            strip = true
        }
        let e = Exchange(
            conn: self, ctx: ctx, head: head, route: route, backend: backend, model: model, stream: stream,
            stripUsage: strip, body: upstreamBody, requestBytes: body.readableBytes, requestId: ctx.requestId(for: head), grant: grant)
        // Limits and budgets last: a request refused for any other reason uses none of them.
        // The exchange admits it against them (leasing first when instances share them).
        if grant != nil || ctx.settings.limitsWithoutKey {
            let checks = LimitPlan.checks(
                grant: grant, project: grant.flatMap { ctx.keys.projects[$0.projectId] },
                user: Self.limitedUser(head, grant: grant, header: ctx.settings.userHeader), model: model, backend: backend.name,
                settings: ctx.settings.limits)
            if !checks.isEmpty {
                let outputs = route.scope == .completions && !route.management
                let tokens = LimitPlan.reservedTokens(
                    bodyBytes: body.readableBytes, maxTokens: outputCap ?? grant?.scopes.maxTokens,
                    defaultMaxTokens: ctx.settings.limits.defaultMaxTokens, outputs: outputs)
                let input = max(1, body.readableBytes / 4)
                let cost = ctx.settings.pricing[model]?.cost(input: input, cached: 0, output: tokens - input) ?? 0
                e.pendingLimits = Exchange.PendingLimits(checks: checks, tokens: tokens, cost: cost)
            }
        }
        state = .exchange(e)
        e.begin()
    }

    /// Whether `path` is a route inference keys are checked on (inference, catalogs, blobs): the
    /// ones an address's ban applies to.
    static func keyed(_ path: String, _ head: HTTPHead) -> Bool {
        ProxyRoute.all[path] != nil || ProxyRoute.isCatalog(path) || ProxyRoute.isBlob(head, path: path)
    }

    /// A blob upload or check goes to an Ollama backend as it is (no JSON to read), for keys
    /// with the model-management scope.
    func startBlobExchange(_ head: HTTPHead, body: ByteBuffer) {
        let route = ProxyRoute.blobs
        var grant: KeyGrant?
        switch InferenceAuth.decide(
            mode: ctx.settings.auth, credential: ctx.settings.auth == .off ? nil : InferenceAuth.credential({ head.value($0) }), keys: ctx.keys,
            scope: route.scope, model: nil, maxTokens: nil, now: Date().timeIntervalSince1970)
        {
        case .anonymous: break
        case .granted(let g): grant = g
        case .refused(let refusal):
            refuse(head, route: route, refusal, bytes: body.readableBytes)
            return
        }
        guard let backend = ctx.pickOllama() else {
            rejectRequest(
                head, route: route, status: 502, error: .connectionError, message: "no Ollama backend to store the blob on", code: nil, param: nil,
                bytes: body.readableBytes, grant: grant)
            return
        }
        let e = Exchange(
            conn: self, ctx: ctx, head: head, route: route, backend: backend, model: "", stream: false, stripUsage: false, body: body,
            requestBytes: body.readableBytes, requestId: ctx.requestId(for: head), grant: grant)
        state = .exchange(e)
        e.begin()
    }

    /// Adds a member at the end of the top-level object (after its last `}` is the only
    /// whitespace), leaving every other byte as the client sent it.
    static func appendMember(_ member: String, to bytes: UnsafeRawBufferPointer) -> ByteBuffer {
        let end = bytes.lastIndex(of: UInt8(ascii: "}")) ?? bytes.count
        let empty = bytes[..<end].reversed().first { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 } == UInt8(ascii: "{")
        var out = ByteBufferAllocator().buffer(capacity: bytes.count + member.utf8.count + 1)
        out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
        out.writeString(empty ? member : "," + member)
        out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[end...]))
        return out
    }

    /// Asks the backend for usage on a stream: sets `stream_options.include_usage` to true by editing
    /// the body's bytes in place, leaving everything else exactly as the client sent it.
    static func injectIncludeUsage(_ bytes: UnsafeRawBufferPointer, fields: RequestFields) -> ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: bytes.count + 40)
        if let r = fields.includeUsageRange {
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[0..<r.lowerBound]))
            out.writeString("true")
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[r.upperBound...]))
        } else if let r = fields.streamOptionsRange {
            // `{` of stream_options is at r.lowerBound.
            let empty = bytes[(r.lowerBound + 1)..<(r.upperBound - 1)].allSatisfy { $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[0...r.lowerBound]))
            out.writeString(empty ? "\"include_usage\":true" : "\"include_usage\":true,")
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[(r.lowerBound + 1)...]))
        } else {
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[0..<fields.objectEnd]))
            out.writeString(fields.hasMembers ? ",\"stream_options\":{\"include_usage\":true}" : "\"stream_options\":{\"include_usage\":true}")
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[fields.objectEnd...]))
        }
        return out
    }

    /// Answers a request its key does not allow, in the route's dialect. The message never
    /// repeats the credential.
    /// A refusal is recorded under the key's owner when the key is known, never under a user
    /// name the client chose.
    func refuse(_ head: HTTPHead, route: ProxyRoute, _ refusal: InferenceAuth.Refusal, bytes: Int, grant: KeyGrant? = nil) {
        let (message, code) = Self.message(refusal, path: route.path)
        var recorded = message
        if refusal.status == 401,
            ctx.bans.failure(
                remoteIP, now: Date().timeIntervalSince1970, maxFailures: ctx.settings.banAfterFailures, banSeconds: ctx.settings.banSeconds)
        {
            recorded += " This address is now refused for \(Int(ctx.settings.banSeconds)) s after \(ctx.settings.banAfterFailures) failed attempts in a minute."
        }
        var known = grant
        if known == nil, case .routeNotAllowed = refusal, let credential = InferenceAuth.credential({ head.value($0) }), !credential.isEmpty {
            known = ctx.keys.grant(for: KeyDigest(of: credential))
        }
        rejectRequest(
            head, route: route, status: refusal.status, error: refusal.status == 401 ? .authenticationError : .permissionDenied,
            message: message, code: code, param: nil, bytes: bytes, grant: known, recorded: recorded, anonymous: known == nil)
    }

    /// What a refused client is told (message, OpenAI `code`).
    static func message(_ refusal: InferenceAuth.Refusal, path: String) -> (String, String?) {
        let message: String, code: String?
        switch refusal {
        case .missingKey:
            message = "You didn't provide an API key. Send it in an Authorization header using Bearer auth (Authorization: Bearer YOUR_KEY)."
            code = "missing_api_key"
        case .invalidKey: (message, code) = ("Incorrect API key provided.", "invalid_api_key")
        case .expiredKey: (message, code) = ("The API key provided has expired.", "invalid_api_key")
        case .routeNotAllowed(let scope):
            (message, code) = ("This API key is not allowed to use \(path) (it lacks the '\(scope.rawValue)' scope).", "insufficient_scope")
        case .maxTokensAbove(let cap): (message, code) = ("max_tokens is above this key's limit of \(cap).", "max_tokens_above_limit")
        case .modelHidden: (message, code) = ("The model does not exist or you do not have access to it.", "model_not_found")
        }
        return (message, code)
    }

    /// Answers an inference request the gateway refuses itself, records it, and keeps the connection.
    /// `recorded` is what the ledger keeps as the message when it differs from the client's.
    func rejectRequest(
        _ head: HTTPHead, route: ProxyRoute, status: Int, error: ErrorType, message: String, code: String?, param: String?,
        bytes: Int, model: String = "", stream: Bool = false, grant: KeyGrant? = nil, recorded: String? = nil, anonymous: Bool = false,
        retryAfter: Int? = nil
    ) {
        let close = !head.keepAlive || ctx.draining
        let id = ctx.requestId(for: head)
        writeAndFlush(
            ErrorResponse.response(
                dialect: route.dialect, status: status, message: message, code: code, param: param,
                close: close, retryAfter: retryAfter, requestId: id, allocator: ByteBufferAllocator()))
        ctx.recorder.finished(
            RequestEvent(
                route: route.path, method: head.method, backend: "", model: model, status: status,
                errorType: error, stream: stream, startTime: Date().timeIntervalSince1970, latency: 0,
                requestBytes: bytes, id: id, clientAddress: remoteIP,
                user: anonymous ? nil : Self.user(head, grant: grant, header: ctx.settings.userHeader), errorMessage: recorded ?? message,
                apiKeyId: grant?.keyId, projectId: grant?.projectId))
        finishRefusal(close: close)
    }

    /// After a refusal the gateway answered itself: close, or wait for the next request.
    func finishRefusal(close: Bool) {
        if close {
            state = .closed
            context?.close(promise: nil)
        } else {
            state = .head
            armTimer(ctx.settings.keepAliveTimeout, idle: true)
        }
    }

    /// Who a request is attributed to: without a key, the user header; with one, its owner,
    /// unless the key lets the caller name its end user and the header does.
    static func user(_ head: HTTPHead, grant: KeyGrant?, header: String) -> String? {
        guard let grant else { return head.value(header) }
        return grant.scopes.endUser ? (head.value(header) ?? grant.ownerId) : grant.ownerId
    }

    /// Whom per-user limits count a request against: a key's owner, or the end user the key
    /// names, within the key's project, so one project cannot use up another's user; without a
    /// key, the user header.
    static func limitedUser(_ head: HTTPHead, grant: KeyGrant?, header: String) -> String? {
        guard let grant else { return head.value(header) }
        if grant.scopes.endUser, let named = head.value(header) { return grant.projectId + "/" + named }
        return grant.ownerId
    }

    func rejectTooLarge(_ head: HTTPHead) {
        let message = "request body is larger than the limit of \(ctx.settings.maxBodyBytes) bytes"
        if let route = ProxyRoute.all[String(head.path)] {
            ctx.recorder.finished(
                RequestEvent(
                    route: route.path, method: head.method, backend: "", model: "", status: 413,
                    errorType: .requestTooLarge, stream: false, startTime: Date().timeIntervalSince1970, latency: 0,
                    id: ctx.requestId(for: head), clientAddress: remoteIP,
                    user: head.value(ctx.settings.userHeader), errorMessage: message))
        }
        reject(status: 413, dialect: ProxyRoute.dialect(forPath: head.path), message: message)
    }

    /// Answers with an error and closes: the connection's framing can no longer be trusted.
    /// The close lingers (as nginx's does) so a client still sending its body reads the answer.
    func reject(status: Int, dialect: Dialect, message: String) {
        writeAndFlush(ErrorResponse.response(dialect: dialect, status: status, message: message, close: true, allocator: ByteBufferAllocator()))
        state = .closed
        input = nil
        lingering = true
        deadline = .now() + .seconds(2)
        context?.close(mode: .output, promise: nil)
    }
}
