"""`sightglass demo` as a new user runs it: a week of synthetic history for the charts, marked as
such, and never counted as traffic: the live totals, the stats and today's figures hold only
what really passed through the gateway."""
import json
import urllib.request

from conftest import BIN, free_port, get_json, wait_until


def test_synthetic_history_never_enters_live_totals(procs):
    port = free_port()
    procs.start([BIN, "demo", "--port", str(port), "--rate", "0", "--incidents", "0"], port, "demo", timeout=180)
    base = f"http://127.0.0.1:{port}"
    # The history is there, marked synthetic...
    week = get_json(base + "/api/analytics/breakdown?by=model&since=8d")
    assert week["total"]["requests"] >= 100_000
    oldest = get_json(base + "/api/requests?limit=1&since=8d")["requests"][0]
    assert oldest["synthetic"] is True
    # ...and none of it counts as traffic: totals, stats, today's figures.
    assert get_json(base + "/api/analytics/breakdown?by=model&since=24h")["total"]["requests"] == 0
    assert get_json(base + "/dashboard/stats")["inference"]["total_requests"] == 0
    assert get_json(base + "/api/metrics/summary")["summary"]["total_requests"] == 0
    assert get_json(base + "/metrics/json")["tokens"] == {}
    # One real request is counted once, everywhere.
    req = urllib.request.Request(base + "/v1/chat/completions", headers={"Content-Type": "application/json"},
                                 data=json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}).encode())
    urllib.request.urlopen(req, timeout=10).read()
    assert wait_until(lambda: get_json(base + "/dashboard/stats")["inference"]["total_requests"] == 1, timeout=5)
    assert get_json(base + "/api/metrics/summary")["summary"]["total_requests"] == 1
    assert wait_until(lambda: get_json(base + "/api/analytics/breakdown?by=model&since=24h")["total"]["requests"] == 1, timeout=5)
