"""Strict configuration and reload without a restart, driven as a user would: `sightglass config
check`, `serve` refusing a typo, and a running gateway whose YAML is edited and re-read on SIGHUP
and `POST /admin/reload` while traffic flows through it."""
import os
import signal
import subprocess
import threading
import time

import openai
import yaml

from conftest import BIN, ROOT, free_port, get_json, post_json, wait_until

EXAMPLE = os.path.join(ROOT, "sightglass.example.yaml")


def run(*args, env=None):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})


def models(base):
    return sorted(m["id"] for m in get_json(base + "/v1/models")["data"])


def test_config_check_prints_the_effective_configuration(tmp_path):
    r = run("config", "check", EXAMPLE)
    assert r.returncode == 0, r.stderr
    effective = yaml.safe_load(r.stdout)
    # Defaults included, under the file's own key names.
    assert effective["server"]["port"] == 8080
    assert effective["limits"]["max_concurrent_requests"] == 0
    assert effective["ledger"]["retention"]["raw_days"] == 30
    assert effective["pricing"]["gpt-4o-mini"]["output"] == 0.6
    assert any(rule["name"] == "high_latency_p95" and rule["threshold"] == 10000 for rule in effective["dashboard"]["alerts"]["rules"])
    # What it prints is itself a valid file with the same settings.
    again = tmp_path / "effective.yaml"
    again.write_text(r.stdout)
    r2 = run("config", "check", str(again))
    assert r2.returncode == 0 and r2.stdout == r.stdout


def test_config_check_redacts_secrets(tmp_path):
    f = tmp_path / "secret.yaml"
    f.write_text("backends:\n  - name: openai\n    url: https://api.openai.com\n    api_key: sk-live-do-not-print\n"
                 "dashboard:\n  auth:\n    jwt:\n      hs256_secret: hush-hush\n")
    r = run("config", "check", str(f))
    assert r.returncode == 0, r.stderr
    assert "sk-live-do-not-print" not in r.stdout and "hush-hush" not in r.stdout
    assert yaml.safe_load(r.stdout)["backends"][0]["api_key"] == "[REDACTED]"


def test_config_check_refuses_a_typo_with_its_line_and_a_suggestion(tmp_path):
    f = tmp_path / "typo.yaml"
    f.write_text("server:\n  port: 8080\nlimits:\n  max_concurent_requests: 4\n  max_queue_size: lots\n")
    r = run("config", "check", str(f))
    assert r.returncode != 0
    assert r.stdout == ""
    assert "max_concurent_requests" in r.stderr and "line 4" in r.stderr
    assert "max_concurrent_requests" in r.stderr  # the suggestion
    assert "max_queue_size" in r.stderr and "line 5" in r.stderr  # every problem, not only the first


def test_serve_with_an_unknown_key_exits_before_listening(tmp_path):
    port = free_port()
    f = tmp_path / "typo.yaml"
    f.write_text(f"server:\n  port: {port}\nbackends:\n  - name: a\n    url: http://127.0.0.1:9\n    helth_check_interval_seconds: 1\n")
    r = run("serve", "--config", str(f))
    assert r.returncode != 0
    assert "helth_check_interval_seconds" in r.stderr and "health_check_interval_seconds" in r.stderr
    with __import__("socket").socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "nothing may listen"


def test_log_level_in_any_case(procs, tmp_path):
    """`logging.level: WARNING` keeps info lines out of the log; `LOG_LEVEL=Info` (any case) overrides it."""
    sim = free_port()
    procs.start([BIN, "simulate", "--port", str(sim)], sim, "simulate-loglevel")
    logs = {}
    for name, env in (("quiet", {"LOG_LEVEL": ""}), ("loud", {"LOG_LEVEL": "Info"})):
        gw = free_port()
        f = tmp_path / f"{name}.yaml"
        f.write_text(f"server: {{port: {gw}}}\nbackends: [{{name: s, url: 'http://127.0.0.1:{sim}'}}]\nlogging: {{level: WARNING}}\nledger: {{enabled: false}}\n")
        procs.start([BIN, "serve", "--config", str(f)], gw, f"serve-loglevel-{name}", env=env)
        assert get_json(f"http://127.0.0.1:{gw}/health")["status"] in ("healthy", "degraded")
        logs[name] = open(os.path.join(os.environ.get("SIGHTGLASS_ARTIFACTS", os.path.join(ROOT, "artifacts")), f"serve-loglevel-{name}-{gw}.log")).read()
    assert " info " not in logs["quiet"], logs["quiet"][:500]
    assert " info " in logs["loud"] and "gateway listening" in logs["loud"]


class Traffic(threading.Thread):
    """Sends chat requests (plain and streamed) back to back with the official client and counts failures."""

    def __init__(self, base, model):
        super().__init__(daemon=True)
        self.client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0, timeout=30)
        self.model = model
        self.stop = threading.Event()
        self.ok = 0
        self.failures = []

    def run(self):
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                if i % 2:
                    r = self.client.chat.completions.create(model=self.model, messages=[{"role": "user", "content": f"hi {i}"}], max_tokens=8)
                    assert r.choices[0].message.content
                else:
                    text = "".join(c.choices[0].delta.content or "" for c in self.client.chat.completions.create(
                        model=self.model, messages=[{"role": "user", "content": f"hi {i}"}], max_tokens=8, stream=True) if c.choices)
                    assert text
                self.ok += 1
            except Exception as e:  # noqa: BLE001 - every failure is the finding
                self.failures.append(repr(e))


def test_sighup_and_admin_reload_change_a_running_gateway_without_failing_a_request(procs, tmp_path):
    sim_a, sim_b, gw = free_port(), free_port(), free_port()
    procs.start([BIN, "simulate", "--port", str(sim_a), "--models", "alpha:1b", "--ttft-ms", "5", "--tokens-per-second", "500"], sim_a, "sim-a")
    procs.start([BIN, "simulate", "--port", str(sim_b), "--models", "beta:2b", "--ttft-ms", "5", "--tokens-per-second", "500"], sim_b, "sim-b")
    cfg = tmp_path / "sightglass.yaml"
    head = f"server:\n  port: {gw}\nledger:\n  path: {tmp_path / 'ledger.sqlite'}\n"
    one = f"backends:\n  - name: a\n    url: http://127.0.0.1:{sim_a}\n    health_check_interval_seconds: 30\n"
    two = one + f"  - name: b\n    url: http://127.0.0.1:{sim_b}\n    health_check_interval_seconds: 30\n"
    cfg.write_text(head + one)
    gateway = procs.start([BIN, "serve", "--config", str(cfg)], gw, "serve-reload")
    base = f"http://127.0.0.1:{gw}"
    assert wait_until(lambda: models(base) == ["alpha:1b"], timeout=10)

    traffic = Traffic(base, "alpha:1b")
    traffic.start()
    try:
        time.sleep(0.5)
        # 1. A backend added under `backends:`, then SIGHUP: its models are listed and served.
        cfg.write_text(head + two)
        gateway.send_signal(signal.SIGHUP)
        assert wait_until(lambda: models(base) == ["alpha:1b", "beta:2b"], timeout=5), models(base)
        client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)
        assert client.chat.completions.create(model="beta:2b", messages=[{"role": "user", "content": "x"}]).choices[0].message.content

        # 2. A price changed: requests from then on cost what the new price says.
        cfg.write_text(head + two + "pricing:\n  beta:2b: {input: 1000, output: 2000}\n")
        status, body = post_json(base + "/admin/reload")
        assert status == 200 and body["reloaded"] is True, body
        assert body["changed"] == ["pricing.beta:2b"] and body["restart_required"] == []
        r = client.chat.completions.create(model="beta:2b", messages=[{"role": "user", "content": "x"}])
        want = (r.usage.prompt_tokens * 1000 + r.usage.completion_tokens * 2000) / 1e6

        def newest_cost():
            rows = get_json(base + "/api/requests?model=beta:2b&limit=1")["requests"]
            return rows and abs(rows[0]["cost"] - want) < 1e-9
        assert wait_until(newest_cost, timeout=5), get_json(base + "/api/requests?model=beta:2b&limit=1")

        # 3. A typo: refused with the key and its line, and the running configuration stays.
        cfg.write_text(head + two + "limits:\n  max_concurent_requests: 1\n")
        gateway.send_signal(signal.SIGHUP)
        status, body = post_json(base + "/admin/reload")
        assert status == 400, body
        assert body["error"]["code"] == "INVALID_CONFIG"
        assert "max_concurent_requests" in body["error"]["message"]
        detail = body["error"]["details"][0]
        assert (detail["path"], detail["line"], detail["suggestion"]) == ("limits.max_concurent_requests", (head + two).count("\n") + 2, "max_concurrent_requests"), detail
        assert models(base) == ["alpha:1b", "beta:2b"]

        # 4. A listener setting changed: kept until a restart, and said so.
        cfg.write_text(head.replace(f"port: {gw}", f"port: {free_port()}") + two)
        status, body = post_json(base + "/admin/reload")
        assert status == 200 and body["restart_required"] == ["server.port"], body

        # 5. The backend removed again.
        cfg.write_text(head + one)
        gateway.send_signal(signal.SIGHUP)
        assert wait_until(lambda: models(base) == ["alpha:1b"], timeout=5), models(base)
        time.sleep(0.5)
    finally:
        traffic.stop.set()
        traffic.join(timeout=30)
    assert traffic.failures == [], traffic.failures[:5]
    assert traffic.ok > 10
    log = open(os.path.join(os.environ.get("SIGHTGLASS_ARTIFACTS", os.path.join(ROOT, "artifacts")), f"serve-reload-{gw}.log")).read()
    assert "configuration reload refused" in log and "max_concurent_requests" in log

    def audited():
        results = [e["result"] for e in get_json(base + "/dashboard/audit?action=config_reload&limit=50")["entries"]]
        return results.count("failure") == 2 and results.count("success") == 4
    assert wait_until(audited, timeout=5), get_json(base + "/dashboard/audit?action=config_reload&limit=50")


def test_a_stream_in_flight_finishes_on_the_settings_it_started_with(procs, tmp_path):
    sim, gw = free_port(), free_port()
    procs.start([BIN, "simulate", "--port", str(sim), "--models", "slow:1b", "--ttft-ms", "10", "--tokens-per-second", "20"], sim, "sim-slow")
    cfg = tmp_path / "sightglass.yaml"
    body = f"server:\n  port: {gw}\nbackends:\n  - name: s\n    url: http://127.0.0.1:{sim}\nledger:\n  enabled: false\n"
    cfg.write_text(body)
    gateway = procs.start([BIN, "serve", "--config", str(cfg)], gw, "serve-stream-reload")
    base = f"http://127.0.0.1:{gw}"
    assert wait_until(lambda: models(base) == ["slow:1b"], timeout=10)
    client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)
    stream = client.chat.completions.create(model="slow:1b", messages=[{"role": "user", "content": "tell me"}], max_tokens=40, stream=True)
    parts = []
    for i, chunk in enumerate(stream):
        if i == 3:
            # An idle timeout far below the stream's pace would cut it if it applied to it.
            cfg.write_text(body + "timeouts:\n  idle_seconds: 0.01\n")
            gateway.send_signal(signal.SIGHUP)
        if chunk.choices:
            parts.append(chunk.choices[0].delta.content or "")
    assert len(parts) > 10, parts
    assert wait_until(lambda: get_json(base + "/metrics/json")["streaming_stats"]["completed_streams"] == 1, timeout=5)
    assert get_json(base + "/metrics/json")["streaming_stats"]["failed_streams"] == 0
