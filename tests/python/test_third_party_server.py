"""Sightglass in front of a server no one here wrote: FakeAI (PyPI), driven by the openai client."""
import os
import sys

import openai

from conftest import BIN, free_port, get_json, wait_until


def test_fakeai_behind_gateway(procs, tmp_path):
    fake_port, gw_port = free_port(), free_port()
    fakeai = os.path.join(os.path.dirname(sys.executable), "fakeai")
    procs.start([fakeai, "server", "--host", "127.0.0.1", "--port", str(fake_port), "--response-delay", "0", "--no-random-delay"],
                fake_port, "fakeai", timeout=90)
    # FakeAI lists its models slowly on a loaded machine: a generous health-check timeout, checked every second.
    config = tmp_path / "sightglass.yaml"
    config.write_text(f"server: {{port: {gw_port}}}\nbackends:\n  - name: fakeai\n    url: http://127.0.0.1:{fake_port}\n"
                      "    health_check_interval_seconds: 1\n    health_check_timeout_seconds: 15\n")
    procs.start([BIN, "serve", "--config", str(config)], gw_port, "serve-fakeai")
    base = f"http://127.0.0.1:{gw_port}"
    assert wait_until(lambda: "openai/gpt-oss-120b" in [m["id"] for m in get_json(base + "/v1/models")["data"]], timeout=60)

    client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)
    r = client.chat.completions.create(model="openai/gpt-oss-120b", messages=[{"role": "user", "content": "Hello"}])
    assert r.choices[0].message.content
    want_in, want_out = r.usage.prompt_tokens, r.usage.completion_tokens

    chunks = list(client.chat.completions.create(model="openai/gpt-oss-120b", messages=[{"role": "user", "content": "Hello"}],
                                                 stream=True, stream_options={"include_usage": True}))
    usage = [c.usage for c in chunks if c.usage is not None]
    assert usage, "FakeAI reports usage on the last chunk"
    want_in += usage[-1].prompt_tokens
    want_out += usage[-1].completion_tokens

    def done():
        t = get_json(base + "/metrics/json")["tokens"].get("/v1/chat/completions", {})
        return (t.get("input_total"), t.get("output_total")) == (want_in, want_out)

    assert wait_until(done, timeout=15), (get_json(base + "/metrics/json")["tokens"], want_in, want_out)
    m = get_json(base + "/metrics/json")
    assert m["streaming_stats"]["completed_streams"] == 1
    assert m["streaming_stats"]["ttft"]["max"] > 0
