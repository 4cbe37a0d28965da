import Foundation

/// Renders every Prometheus family from the hub: recorded series plus live gauges,
/// backend health and process figures, all at the moment of the scrape.
public enum PrometheusExporter {
    public static func render(_ hub: TelemetryHub) -> String {
        let live = hub.live()
        let admission = hub.admissionSnapshot
        let board = hub.board.all
        let sys = hub.system.snapshot
        var out = ""
        out.reserveCapacity(64 * 1024)
        hub.read { agg in
            agg.gwRequests.render(into: &out)
            agg.gwDuration.render(into: &out)
            agg.gwErrors.render(into: &out)
            agg.gwCost.render(into: &out)
            agg.gwTokens.render(into: &out)
            agg.otelDuration.render(into: &out)
            agg.otelTokens.render(into: &out)
            agg.otelTTFT.render(into: &out)
            agg.otelTPOT.render(into: &out)
            agg.olRequests.render(into: &out)
            agg.olDuration.render(into: &out)
            agg.sgRequests.render(into: &out)
            agg.sgTokens.render(into: &out)
            agg.sgCost.render(into: &out)
            agg.sgTTFT.render(into: &out)
            agg.sgTPS.render(into: &out)
            agg.sgBytes.render(into: &out)
            agg.sgStreams.render(into: &out)
            agg.gwRateLimitHits.render(into: &out)
            agg.sgRateLimitHits.render(into: &out)
            PrometheusText.gauge(
                &out, name: "ollama_proxy_tokens_per_second", help: "Output tokens per second generated, per model, since start.", labelNames: ["model"],
                values: agg.byModel.filter { $0.value.generationSeconds > 0 }.sorted { $0.key < $1.key }.map { ([$0.key], $0.value.tokensPerSecond) })
            PrometheusText.header(
                &out, name: "sightglass_telemetry_events_dropped_total", help: "Request events dropped because the telemetry buffer was full.", type: "counter")
            out += "sightglass_telemetry_events_dropped_total \(agg.droppedEvents)\n"
        }
        PrometheusText.gauge(
            &out, name: "inference_gateway_active_requests", help: "Requests in flight per backend.", labelNames: ["backend"],
            values: hub.backendNames.map { ([$0], Double(live.activeByBackend[$0] ?? 0)) })
        PrometheusText.gauge(
            &out, name: "inference_gateway_backend_health", help: "Backend health from the last check (1 healthy, 0 unhealthy).",
            labelNames: ["backend", "namespace"],
            values: board.compactMap { b in b.healthy.map { ([b.name, ""], $0 ? 1 : 0) } })
        let inFlight = Double(live.activeByBackend.values.reduce(0, +))
        PrometheusText.gauge(&out, name: "ollama_proxy_active_requests", help: "Current number of active requests.", values: [([], inFlight)])
        PrometheusText.gauge(
            &out, name: "ollama_proxy_queue_size", help: "Current number of requests waiting for admission.", values: [([], Double(admission.queued))])
        PrometheusText.gauge(&out, name: "sightglass_active_streams", help: "Streamed responses in progress.", values: [([], Double(live.activeStreams))])
        if let cpu = sys.cpuPercent {
            PrometheusText.gauge(&out, name: "ollama_proxy_system_cpu_percent", help: "Host CPU usage percentage.", values: [([], cpu)])
        }
        if let mem = sys.memoryPercent {
            PrometheusText.gauge(&out, name: "ollama_proxy_system_memory_percent", help: "Host memory usage percentage.", values: [([], mem)])
        }
        if let avail = sys.memoryAvailableBytes, let used = sys.memoryUsedBytes {
            PrometheusText.gauge(
                &out, name: "ollama_proxy_system_memory_bytes", help: "Host memory in bytes.", labelNames: ["type"],
                values: [(["available"], avail), (["used"], used)])
        }
        if let v = sys.processCPUSeconds {
            PrometheusText.header(&out, name: "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.", type: "counter")
            out += "process_cpu_seconds_total "; PrometheusText.append(v, to: &out); out += "\n"
        }
        if let v = sys.processResidentBytes {
            PrometheusText.gauge(&out, name: "process_resident_memory_bytes", help: "Resident memory size in bytes.", values: [([], v)])
        }
        if let v = sys.processVirtualBytes {
            PrometheusText.gauge(&out, name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes.", values: [([], v)])
        }
        if let v = sys.processOpenFDs {
            PrometheusText.gauge(&out, name: "process_open_fds", help: "Number of open file descriptors.", values: [([], Double(v))])
        }
        if let v = sys.processMaxFDs {
            PrometheusText.gauge(&out, name: "process_max_fds", help: "Maximum number of open file descriptors.", values: [([], Double(v))])
        }
        if let v = sys.processStartTime {
            PrometheusText.gauge(&out, name: "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.", values: [([], v)])
        }
        PrometheusText.gauge(&out, name: "sightglass_build_info", help: "Sightglass version.", labelNames: ["version"], values: [([hub.version], 1)])
        return out
    }

    /// True when an `Accept` header asks for the Prometheus text format the way scrapers do.
    public static func prefersText(accept: String?) -> Bool {
        guard let accept = accept?.lowercased() else { return false }
        if accept.contains("application/openmetrics-text") || accept.contains("io.prometheus.client") { return true }
        if accept.contains("application/json") { return false }
        return accept.contains("text/plain")
    }
}
