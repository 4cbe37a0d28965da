"""Shared helpers: start real sightglass, simulator and third-party processes on free loopback
ports, and stop every one of them by PID afterwards."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SIGHTGLASS_BIN", os.path.join(ROOT, ".build", "debug", "sightglass"))
ARTIFACTS = os.environ.get("SIGHTGLASS_ARTIFACTS", os.path.join(ROOT, "artifacts"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}: {proc.args}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open within {timeout}s: {proc.args}")


class Processes:
    def __init__(self):
        self.procs = []
        # Each test's processes keep their default data (the request ledger) in a fresh folder.
        self.data_home = tempfile.mkdtemp(prefix="sightglass-test-data-")

    def start(self, args, port, name, env=None, timeout=30.0):
        os.makedirs(ARTIFACTS, exist_ok=True)
        log = open(os.path.join(ARTIFACTS, f"{name}-{port}.log"), "w")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "XDG_DATA_HOME": self.data_home, **(env or {})})
        self.procs.append(proc)
        wait_for_port(port, proc, timeout)
        return proc

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.data_home, ignore_errors=True)


@pytest.fixture
def procs():
    p = Processes()
    yield p
    p.stop_all()


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def post_json(url, body=None):
    """POSTs `body` as JSON (nothing when None); returns (status, parsed answer), errors included."""
    data = b"" if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def get_text(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode(), r.headers.get("Content-Type")


def wait_until(fn, timeout=5.0):
    """Polls fn until it returns a truthy value (telemetry lands microseconds after the last byte)."""
    deadline = time.time() + timeout
    value = fn()
    while not value and time.time() < deadline:
        time.sleep(0.05)
        value = fn()
    return value


@pytest.fixture
def stack(procs):
    """`sightglass simulate` and `sightglass serve` in front of it, as separate processes."""
    sim_port, gw_port = free_port(), free_port()
    procs.start([BIN, "simulate", "--port", str(sim_port), "--ttft-ms", "20", "--tokens-per-second", "400"], sim_port, "simulate")
    procs.start([BIN, "serve", "--port", str(gw_port), "--backend", f"sim=http://127.0.0.1:{sim_port}"], gw_port, "serve")
    return {"base": f"http://127.0.0.1:{gw_port}", "port": gw_port, "sim_port": sim_port}
