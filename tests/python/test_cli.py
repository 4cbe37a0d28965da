"""The command line as a user meets it: version, bad input, graceful shutdown with a stream in flight."""
import signal
import subprocess
import threading
import time

import openai

from conftest import BIN, free_port, get_json


def test_version_and_bad_flags():
    out = subprocess.run([BIN, "version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("sightglass ")
    bad = subprocess.run([BIN, "serve", "--backend", "nourl"], capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "NAME=URL" in bad.stderr
    none = subprocess.run([BIN, "serve", "--port", str(free_port())], capture_output=True, text=True, timeout=30)
    assert none.returncode != 0 and "no backends" in none.stderr
    env = subprocess.run([BIN, "serve"], capture_output=True, text=True, timeout=30, env={"SIGHTGLASS_PORT": "x", "PATH": "/usr/bin"})
    assert env.returncode != 0 and "SIGHTGLASS_PORT" in env.stderr


def test_sigterm_drains_in_flight_stream(procs):
    sim_port, gw_port = free_port(), free_port()
    procs.start([BIN, "simulate", "--port", str(sim_port), "--ttft-ms", "50", "--tokens-per-second", "20"], sim_port, "simulate-drain")
    gw = procs.start([BIN, "serve", "--port", str(gw_port), "--backend", f"sim=http://127.0.0.1:{sim_port}", "--drain-timeout", "20"],
                     gw_port, "serve-drain")
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{gw_port}/v1", api_key="unused", max_retries=0)
    result = {}

    def stream():
        chunks = list(client.chat.completions.create(model="llama3.2:1b", messages=[{"role": "user", "content": "long answer"}], stream=True))
        result["chunks"] = chunks

    t = threading.Thread(target=stream)
    t.start()
    time.sleep(0.4)  # the stream is under way (about 1 s long at 20 tokens/s)
    gw.send_signal(signal.SIGTERM)
    t.join(timeout=30)
    assert gw.wait(timeout=30) == 0
    assert result["chunks"][-1].choices[0].finish_reason == "stop", "the in-flight stream finished"
