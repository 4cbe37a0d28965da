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


def send_chat(base, content):
    req = urllib.request.Request(f"{base}/v1/chat/completions", data=json.dumps({"model": "llama3.2:1b", "messages": [{"role": "user", "content": content}]}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers["X-Request-Id"]


def test_kill_9_loses_at_most_the_last_second(procs, tmp_path):
    sim_port = free_port()
    procs.start([BIN, "simulate", "--port", str(sim_port), "--ttft-ms", "1", "--tokens-per-second", "5000"], sim_port, "simulate")
    db = str(tmp_path / "ledger.sqlite")
    proc, base = start_gateway(procs, sim_port, db)
    older = [send_chat(base, f"older {i}") for i in range(30)]
    import time
    time.sleep(1.3)  # the writer flushes at least every second
    newest = [send_chat(base, f"newest {i}") for i in range(5)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _, base = start_gateway(procs, sim_port, db)
    missing = [rid for rid in older if record(base, rid) is None]
    assert missing == [], f"{len(missing)} requests older than a second were lost"
    kept = sum(record(base, rid) is not None for rid in newest)
    assert 0 <= kept <= len(newest)


def test_a_corrupt_ledger_file_never_stops_the_proxy(procs, tmp_path):
    sim_port = free_port()
    procs.start([BIN, "simulate", "--port", str(sim_port), "--ttft-ms", "1", "--tokens-per-second", "5000"], sim_port, "simulate")
    db = tmp_path / "ledger.sqlite"
    db.write_bytes(b"this is not a database " * 4096)
    _, base = start_gateway(procs, sim_port, str(db))
    assert send_chat(base, "still served")
    health = wait_until(lambda: (lambda h: h if h["services"]["ledger"]["status"] == "degraded" else None)(get_json(f"{base}/health")))
    assert health, "the ledger reports degraded"
    assert health["services"]["ledger"]["error"]
    assert health["services"]["ledger"]["records_pending"] >= 1
    # The file is still the user's: nothing overwrote it.
    assert db.read_bytes().startswith(b"this is not a database")


def test_a_full_disk_degrades_the_ledger_and_writing_resumes_when_space_returns(procs, tmp_path):
    import resource
    sim_port = free_port()
    procs.start([BIN, "simulate", "--port", str(sim_port), "--ttft-ms", "1", "--tokens-per-second", "5000"], sim_port, "simulate")
    db = str(tmp_path / "ledger.sqlite")
    proc, base = start_gateway(procs, sim_port, db)
    send_chat(base, "before the disk fills")
    assert wait_until(lambda: get_json(f"{base}/health")["services"]["ledger"]["records_written"] >= 1, timeout=5)
    # The disk "fills": the process may write no file past its first page (as a quota or a full
    # filesystem would refuse); SQLite sees EFBIG as SQLITE_FULL. SIGXFSZ is ignored by the CLI.
    soft, hard = resource.prlimit(proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (4096, hard))
    ids = []
    for i in range(200):
        ids.append(send_chat(base, f"while full {i} " + "x" * 200))
    health = wait_until(lambda: (lambda h: h if h["services"]["ledger"]["status"] == "degraded" else None)(get_json(f"{base}/health")), timeout=10)
    assert health, "the ledger reports degraded while the disk is full"
    assert proc.poll() is None, "the proxy is still running"
    # Space returns: the kept records are written.
    resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (soft, hard))
    assert wait_until(lambda: get_json(f"{base}/health")["services"]["ledger"]["status"] == "healthy", timeout=10)
    assert wait_until(lambda: record(base, ids[-1]) is not None, timeout=5)
    assert all(record(base, rid) is not None for rid in ids[:20])
