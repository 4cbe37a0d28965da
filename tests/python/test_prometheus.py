"""The Prometheus exposition passes promtool, and a real Prometheus scraping Sightglass under
traffic answers every query of the shipped Grafana dashboard."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import openai

from conftest import BIN, ROOT, free_port, get_json, get_text

# Families of features Sightglass does not have yet: never exported, so their panels stay empty.
ABSENT_FEATURES = ("inference_gateway_rate_limit_hits_total", "inference_gateway_fallbacks_total",
                   "inference_gateway_experiment_assignments_total")


def start_gateway(procs, tmp):
    sim_port, gw_port = free_port(), free_port()
    procs.start([BIN, "simulate", "--port", str(sim_port), "--ttft-ms", "15", "--tokens-per-second", "300"], sim_port, "simulate-prom")
    config = os.path.join(tmp, "sightglass.yaml")
    with open(config, "w") as f:
        f.write(f"""
server:
  port: {gw_port}
backends:
  - name: sim
    url: http://127.0.0.1:{sim_port}
pricing:
  gpt-4o-mini: {{input: 0.15, cached_input: 0.075, output: 0.60}}
""")
    procs.start([BIN, "serve", "--config", config], gw_port, "serve-prom")
    return f"http://127.0.0.1:{gw_port}", gw_port


def traffic(base, seconds):
    client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)
    end = time.time() + seconds
    while time.time() < end:
        for model in ("gpt-4o-mini", "llama3.2:1b"):
            list(client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hello"}], stream=True))
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        try:
            client.chat.completions.create(model="not-a-model", messages=[{"role": "user", "content": "x"}])
        except openai.NotFoundError:
            pass


def test_promtool_accepts_exposition(procs):
    promtool = shutil.which("promtool")
    assert promtool, "promtool is installed by scripts/test.sh (Debian package prometheus)"
    with tempfile.TemporaryDirectory() as tmp:
        base, _ = start_gateway(procs, tmp)
        traffic(base, 1)
        text, ctype = get_text(base + "/metrics/prometheus")
        assert ctype.startswith("text/plain; version=0.0.4")
        r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        problems = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
        # promtool also prints lint advice; only errors fail the check (exit code 1 with "error").
        assert r.returncode == 0 or not any("error" in l.lower() for l in problems), problems
        # Prometheus's own Accept header on /metrics gets the text format.
        _, ctype = get_text(base + "/metrics", {"Accept": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"})
        assert ctype.startswith("text/plain")
        _, ctype = get_text(base + "/metrics")
        assert ctype.startswith("application/json")
        for family in ABSENT_FEATURES:
            assert family not in text


def test_prometheus_answers_every_dashboard_query(procs):
    prometheus = shutil.which("prometheus")
    assert prometheus, "prometheus is installed by scripts/test.sh (Debian package prometheus)"
    with tempfile.TemporaryDirectory() as tmp:
        base, gw_port = start_gateway(procs, tmp)
        # The shipped scrape config, pointed at this gateway and scraping every second.
        shipped = open(os.path.join(ROOT, "deploy", "prometheus", "prometheus.yml")).read()
        cfg = shipped.replace('["127.0.0.1:8080"]', f'["127.0.0.1:{gw_port}"]').replace("scrape_interval: 15s", "scrape_interval: 1s")
        assert f"127.0.0.1:{gw_port}" in cfg
        with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
            f.write(cfg)
        prom_port = free_port()
        procs.start([prometheus, f"--config.file={tmp}/prometheus.yml", f"--storage.tsdb.path={tmp}/data",
                     f"--web.listen-address=127.0.0.1:{prom_port}"], prom_port, "prometheus", timeout=60)
        traffic(base, 8)
        dashboard = json.load(open(os.path.join(ROOT, "deploy", "grafana", "sightglass-dashboard.json")))
        exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
        assert len(exprs) >= 17

        def query(expr):
            q = expr.replace("$__rate_interval", "30s")
            url = f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
            r = get_json(url)
            assert r["status"] == "success", (expr, r)
            return [s for s in r["data"]["result"] if s["value"][1] not in ("NaN",)]

        deadline = time.time() + 30
        missing = exprs
        while time.time() < deadline:
            missing = [e for e in exprs if not any(f in e for f in ABSENT_FEATURES) and not query(e)]
            if not missing:
                break
            traffic(base, 1)
        assert not missing, f"queries without data: {missing}"
        for e in exprs:
            if any(f in e for f in ABSENT_FEATURES):
                assert query(e) == [], "features that do not exist export nothing"
        targets = get_json(f"http://127.0.0.1:{prom_port}/api/v1/targets")["data"]["activeTargets"]
        assert all(t["health"] == "up" for t in targets), targets
