// Micro-benchmarks of the telemetry path, run by `bench/run` (release build) and printed as JSON.
//
// ordo-one/benchmark would be the natural harness, but its 1.38 release needs
// swift-runtime-interposer on Linux with Swift 6.3, which the package mirror does not carry;
// this is a plain timed loop with warm-up, best-of-N rounds and a black hole for results.
import Foundation
import SightglassConfig
import SightglassGovernance
import SightglassTelemetry

@inline(never) func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` `rounds` times and returns the fastest round's seconds (the least disturbed one).
func best(rounds: Int, _ body: () -> Void) -> Double {
    body()  // warm-up
    var fastest = Double.infinity
    for _ in 0..<rounds {
        let t0 = now()
        body()
        fastest = min(fastest, now() - t0)
    }
    return fastest
}

func config(backends: Int, models: [String]) -> GatewayConfig {
    var c = GatewayConfig()
    c.backends = (0..<backends).map { BackendConfig(name: "b\($0)", url: "http://127.0.0.1:\(20000 + $0)", models: models) }
    for m in models { c.pricing[m] = ModelPrice(input: 0.15, output: 0.6) }
    return c
}

func event(_ i: Int, models: [String], backends: Int) -> RequestEvent {
    let routes = ["/v1/chat/completions", "/v1/completions", "/api/chat", "/api/generate", "/v1/embeddings"]
    let stream = i % 3 != 0
    let failed = i % 50 == 0
    return RequestEvent(
        route: routes[(i / backends) % routes.count], method: "POST", backend: "b\(i % backends)", serverAddress: "127.0.0.1",
        serverPort: 20000 + i % backends, model: models[(i / (backends * routes.count)) % models.count], status: failed ? 502 : 200,
        errorType: failed ? .connectionError : nil, stream: stream, startTime: Date().timeIntervalSince1970,
        firstByte: 0.004 + Double(i % 7) / 1000, firstToken: stream ? 0.05 + Double(i % 11) / 100 : nil,
        latency: 0.2 + Double(i % 97) / 100, inputTokens: 20 + i % 300, outputTokens: failed ? 0 : 10 + i % 500,
        requestBytes: 200 + i % 900, responseBytes: 1000 + i % 9000)
}

var results: [String: Any] = [:]

// 1. Recording: what the request path pays (LoopRecorder.finished) and what the hub pays off the
//    path to price and fold the event into every aggregate.
do {
    let models = (0..<8).map { "model-\($0)" }
    let hub = TelemetryHub(config: config(backends: 4, models: models), loops: 1, version: "bench")
    let recorder = hub.recorder(0)
    let n = 200_000
    let events = (0..<n).map { event($0, models: models, backends: 4) }
    var recordSeconds = Double.infinity, foldSeconds = Double.infinity
    for _ in 0..<5 {
        let t0 = now()
        for i in 0..<n {
            let token = recorder.started(backend: i % 4, stream: events[i].stream)
            recorder.finished(events[i], started: token)
        }
        let t1 = now()
        hub.drain()
        let t2 = now()
        recordSeconds = min(recordSeconds, t1 - t0)
        foldSeconds = min(foldSeconds, t2 - t1)
    }
    results["record_ns_per_request"] = (recordSeconds / Double(n) * 1e9).rounded()
    results["fold_ns_per_request"] = (foldSeconds / Double(n) * 1e9).rounded()
    results["recording_total_us_per_request"] = ((recordSeconds + foldSeconds) / Double(n) * 1e7).rounded() / 10
}

// 2. /metrics/prometheus render at 10,000 series: add models (each with every route on one
//    backend) until the exposition holds at least that many samples.
func prometheusHub(models count: Int) -> (TelemetryHub, series: Int) {
    let models = (0..<count).map { "model-\($0)" }
    let hub = TelemetryHub(config: config(backends: 1, models: models), loops: 1, version: "bench")
    let recorder = hub.recorder(0)
    for i in 0..<count * 5 * 4 {
        let e = event(i, models: models, backends: 1)
        let token = recorder.started(backend: 0, stream: e.stream)
        recorder.finished(e, started: token)
    }
    let text = PrometheusExporter.render(hub)
    return (hub, text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.count)
}

do {
    var models = 1
    var (hub, series) = prometheusHub(models: models)
    while series < 10_000 {
        models += 1
        (hub, series) = prometheusHub(models: models)
    }
    let bytes = PrometheusExporter.render(hub).utf8.count
    let seconds = best(rounds: 30) { blackHole(PrometheusExporter.render(hub)) }
    results["prometheus_series"] = series
    results["prometheus_bytes"] = bytes
    results["prometheus_render_ms"] = (seconds * 1e4).rounded() / 10
}

// The host probe: one full sample (every /proc file, statvfs of each filesystem) per second.
do {
    var probe = HostProbe()
    let rounds = 200
    let seconds = best(rounds: 5) { for _ in 0..<rounds { blackHole(probe.sample()) } }
    let perSample = seconds / Double(rounds)
    results["probe_sample_us"] = (perSample * 1e7).rounded() / 10
    // Sampled once a second: its share of one core.
    results["probe_core_percent_at_1hz"] = (perSample * 100 * 1e4).rounded() / 1e4
}

// The key check on the request path: parse the Authorization header, hash the key, look it
// up among 10,000 live keys, check scope and model.
do {
    var grants: [KeyDigest: KeyGrant] = [:]
    var secrets: [String] = []
    for i in 0..<10_000 {
        let secret = APIKeySecret.generate()
        secrets.append(secret)
        grants[KeyDigest(of: secret)] = KeyGrant(keyId: "key_\(i)", projectId: "proj_\(i % 10)", ownerId: "user-\(i % 100)")
    }
    let table = KeyTable(grants, version: 1)
    let headers = secrets.prefix(1000).map { ["authorization": "Bearer " + $0] }
    let rounds = 100_000
    let seconds = best(rounds: 5) {
        for i in 0..<rounds {
            let h = headers[i % headers.count]
            blackHole(
                InferenceAuth.decide(
                    mode: .required, credential: InferenceAuth.credential { h[$0] }, keys: table, scope: .completions, model: "llama3.2:1b",
                    maxTokens: nil, now: 1_800_000_000))
        }
    }
    results["key_check_ns_per_request"] = (seconds / Double(rounds) * 1e9).rounded()
    results["key_check_keys_loaded"] = table.count
}

// Limits on the request path: plan the checks of a key under RPM, TPM, RPD and TPD limits, admit
// against 1,000 keys' counters, and settle to the real usage. (The headers are written straight
// into the response head by the proxy; its own tests cover them.)
do {
    var settings = LimitSettings()
    settings.tiers["bench"] = RateLimits(requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000_000)
    let grants = (0..<1000).map { i in
        KeyGrant(
            keyId: "key_\(i)", projectId: "proj_\(i % 10)", ownerId: "user-\(i % 100)",
            limits: KeyLimits(rateLimits: RateLimits(tokensPerMinute: 1_000_000_000_000), tier: "bench"))
    }
    let limiter = UsageLimiter(unixNow: 1_800_000_000, monotonic: { Int64(DispatchTime.now().uptimeNanoseconds) })
    let rounds = 100_000
    let seconds = best(rounds: 5) {
        for i in 0..<rounds {
            let g = grants[i % grants.count]
            let checks = LimitPlan.checks(grant: g, project: nil, user: g.ownerId, model: "llama3.2:1b", backend: "canned", settings: settings)
            if case .admitted(let r, let status) = limiter.admit(checks, tokens: 300, cost: 0) {
                blackHole(status)
                limiter.settle(r, tokens: 120, cost: 0)
            }
        }
    }
    results["limit_check_ns_per_request"] = (seconds / Double(rounds) * 1e9).rounded()
    results["limit_check_keys"] = grants.count
}

let data = try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys, .prettyPrinted])
print(String(decoding: data, as: UTF8.self))
