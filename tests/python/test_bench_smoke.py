"""Smoke test of the benchmark harness: `bench/run --quick` end to end with tiny durations.

Checks that the harness still starts every upstream and target, loads them and writes its JSON,
and that no stream was dropped or corrupted on any target. It never judges speed: the
benchmarks' numbers come from `bench/run` on a quiet machine, not from CI.
"""
import json
import os
import subprocess
import sys

from conftest import ARTIFACTS, BIN, ROOT


def test_bench_quick_runs_end_to_end():
    os.makedirs(ARTIFACTS, exist_ok=True)
    out = os.path.join(ARTIFACTS, "bench-smoke.json")
    run = subprocess.run(
        [sys.executable, os.path.join(ROOT, "bench", "run"), "--quick", "--duration", "1", "--streams", "50",
         "--sightglass", BIN, "--out", out],
        capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    report = json.load(open(out))
    assert set(report["results"]) == {"direct", "nginx", "sightglass", "sightglass-keys", "sightglass-limits", "sightglass-again"}
    for name, r in report["results"].items():
        assert r["throughput"]["requests_per_s"] > 0, (name, r)
        assert r["throughput"]["errors"] == 0, (name, r)
        assert r["latency_1conn"]["p50_ms"] > 0, (name, r)
        if name in ("sightglass-keys", "sightglass-limits", "sightglass-again"):
            continue  # the key check's and the limits' cost: throughput and latency only
        s = r["streams_50"]
        assert (s["completed"], s["dropped"], s["corrupted"]) == (50, 0, 0), (name, s)
    assert report["results"]["sightglass"]["rss_idle_mb"] > 0
    assert "requests_per_s" in report["ratios"]["sightglass_vs_nginx"]
    assert report["ratios"]["auth_required_vs_off"]["keys_loaded"] == 10_000
    assert report["ratios"]["limits_vs_no_limits"]["keys_with_limits"] == 1_000
    assert "throughput vs nginx" in run.stdout  # the printed table and target list


def test_bench_ledger_on_postgres_runs_end_to_end():
    """The ledger scenario on a durable throwaway PostgreSQL, tiny: generate, query, ingest under load."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    out = os.path.join(ARTIFACTS, "bench-smoke-postgres.json")
    run = subprocess.run(
        [sys.executable, os.path.join(ROOT, "bench", "run"), "--ledger-only", "--ledger-rows", "0", "--postgres-rows", "20000",
         "--duration", "1", "--sightglass", BIN, "--out", out],
        capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    report = json.load(open(out))
    pg = report["ledger_postgres"]
    assert pg["engine"] == "postgres" and pg["rows"] == 20000 and pg["bytes"] > 0
    assert all(v["p95_ms"] > 0 for v in pg["analytics"].values()), pg["analytics"]
    assert pg["under_load"]["records_written"] > 0 and pg["under_load"]["dropped"] == 0, pg["under_load"]
    assert report["ledger"] is None
    assert "ledger (postgres)" in run.stdout
