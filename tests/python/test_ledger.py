"""The request ledger as a new user meets it: requests sent with the official openai and ollama
clients appear in /api/requests with their exact tokens (streams too), the analytics agree, and
everything is still there after the gateway restarts (SIGTERM flushes the ledger)."""
import json
import os
import signal
import urllib.error
import urllib.request

import ollama
from openai import OpenAI

from conftest import BIN, free_port, get_json, wait_until

PROMPT = [{"role": "user", "content": "tell me about sight glasses"}]


def start_gateway(procs, sim_port, db):
    port = free_port()
    proc = procs.start([BIN, "serve", "--port", str(port), "--backend", f"sim=http://127.0.0.1:{sim_port}", "--db", db], port, "serve")
    return proc, f"http://127.0.0.1:{port}"


def record(base, request_id):
    try:
        return get_json(f"{base}/api/requests/{request_id}")
    except urllib.error.HTTPError:
        return None


def test_clients_requests_are_recorded_exactly_and_survive_a_restart(procs, tmp_path):
    sim_port = free_port()
    procs.start([BIN, "simulate", "--port", str(sim_port), "--ttft-ms", "20", "--tokens-per-second", "400"], sim_port, "simulate")
    db = str(tmp_path / "ledger.sqlite")
    gateway, base = start_gateway(procs, sim_port, db)

    client = OpenAI(base_url=f"{base}/v1", api_key="unused")
    # The simulator answers a prompt the same way streamed or not: the non-streamed usage is the
    # truth for the stream, whose client (no stream_options) never sees a usage chunk itself.
    plain = client.chat.completions.create(model="llama3.2:1b", messages=PROMPT, extra_headers={"X-Request-Id": "py-plain"})
    text = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="llama3.2:1b", messages=PROMPT, stream=True, extra_headers={"X-Request-Id": "py-stream", "X-User-Id": "dana"}))
    assert text == plain.choices[0].message.content

    oc = ollama.Client(host=base, headers={"X-Request-Id": "py-ollama"})
    last = None
    for part in oc.chat(model="llama3.2:1b", messages=PROMPT, stream=True):
        last = part
    assert last.done and last.eval_count > 0

    stream_rec = wait_until(lambda: record(base, "py-stream"), timeout=5)
    assert stream_rec, "the stream was not recorded within 5 s"
    assert stream_rec["stream"] is True and stream_rec["user"] == "dana"
    assert stream_rec["tokens"]["output"] == plain.usage.completion_tokens
    assert stream_rec["tokens"]["input"] == plain.usage.prompt_tokens
    assert stream_rec["tokens"]["estimated"] is False
    assert stream_rec["ttft_ms"] > 0 and stream_rec["latency_ms"] >= stream_rec["ttft_ms"]
    ollama_rec = wait_until(lambda: record(base, "py-ollama"), timeout=5)
    assert ollama_rec["route"] == "/api/chat" and ollama_rec["tokens"]["output"] == last.eval_count
    assert ollama_rec["tokens"]["input"] == last.prompt_eval_count

    # Restart: SIGTERM flushes; the new process finds everything.
    gateway.send_signal(signal.SIGTERM)
    assert gateway.wait(timeout=20) == 0
    _, base2 = start_gateway(procs, sim_port, db)
    ids = {r["id"] for r in get_json(f"{base2}/api/requests?limit=10")["requests"]}
    assert {"py-plain", "py-stream", "py-ollama"} <= ids
    breakdown = get_json(f"{base2}/api/analytics/breakdown?by=route&since=1h")
    by_route = {g["key"]: g for g in breakdown["groups"]}
    assert by_route["/v1/chat/completions"]["requests"] == 2
    assert by_route["/api/chat"]["tokens"]["output"] == last.eval_count
    assert by_route["/v1/chat/completions"]["tokens"]["output"] == 2 * plain.usage.completion_tokens
    series = get_json(f"{base2}/api/analytics/timeseries?metric=requests&interval=1m&since=10m")
    assert sum(p["value"] for p in series["series"][0]["points"]) == 3

    # The export streams the same rows.
    with urllib.request.urlopen(f"{base2}/api/requests/export?format=jsonl") as r:
        lines = [json.loads(l) for l in r.read().decode().splitlines()]
    assert {l["id"] for l in lines} == {"py-plain", "py-stream", "py-ollama"}
    # Bad input: the product error shape, naming the field.
    try:
        urllib.request.urlopen(f"{base2}/api/analytics/timeseries?metric=nonsense")
        raise AssertionError("expected 400")
    except urllib.error.HTTPError as e:
        body = json.loads(e.read())
        assert e.code == 400 and body["error"]["code"] == "INVALID_REQUEST" and body["error"]["details"]["field"] == "metric"
    health = get_json(f"{base2}/health")
    assert health["services"]["ledger"]["status"] == "healthy"
    assert os.path.getsize(db) > 0


def test_an_unwritable_ledger_never_stops_the_proxy(procs, tmp_path):
    sim_port = free_port()
    procs.start([BIN, "simulate", "--port", str(sim_port), "--ttft-ms", "5", "--tokens-per-second", "1000"], sim_port, "simulate")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    _, base = start_gateway(procs, sim_port, str(blocker / "ledger.sqlite"))
    client = OpenAI(base_url=f"{base}/v1", api_key="unused")
    reply = client.chat.completions.create(model="llama3.2:1b", messages=PROMPT)
    assert reply.choices[0].message.content
    health = wait_until(lambda: (lambda h: h if h["services"]["ledger"]["status"] == "degraded" else None)(get_json(f"{base}/health")))
    assert health["status"] == "degraded" and "cannot open" in health["services"]["ledger"]["error"]
    assert health["services"]["ledger"]["records_pending"] >= 1
    try:
        urllib.request.urlopen(f"{base}/api/requests")
        raise AssertionError("expected 503")
    except urllib.error.HTTPError as e:
        assert e.code == 503 and json.loads(e.read())["error"]["code"] == "SERVICE_UNAVAILABLE"
    # The obstacle goes away: the ledger opens and what was kept in memory is written.
    blocker.unlink()
    rec = wait_until(lambda: get_json(f"{base}/health")["services"]["ledger"]["records_written"] >= 1, timeout=10)
    assert rec
    assert len(get_json(f"{base}/api/requests")["requests"]) == 1
