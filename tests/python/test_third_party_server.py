"""Sightglass in front of a server no one here wrote: FakeAI (PyPI), driven by the openai client."""
import os
import sys

import openai

from conftest import BIN, free_port, get_json, wait_until


def test_fakeai_behind_gateway(procs):
    fake_port, gw_port = free_port(), free_port()
    fakeai = os.path.join(os.path.dirname(sys.executable), "fakeai")
    procs.start([fakeai, "server", "--host", "127.0.0.1", "--port", str(fake_port), "--response-delay", "0", "--no-random-delay"],
                fake_port, "fakeai", timeout=90)
    procs.start([BIN, "serve", "--port", str(gw_port), "--backend", f"fakeai=http://127.0.0.1:{fake_port}"], gw_port, "serve-fakeai")
    base = f"http://127.0.0.1:{gw_port}"
    # Discovery may have raced FakeAI's first (slow) model listing; wait for the model to be routable.
    assert wait_until(lambda: "openai/gpt-oss-120b" in [m["id"] for m in get_json(base + "/v1/models")["data"]], timeout=20)

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

    assert wait_until(done), get_json(base + "/metrics/json")["tokens"]
    m = get_json(base + "/metrics/json")
    assert m["streaming_stats"]["completed_streams"] == 1
    assert m["streaming_stats"]["ttft"]["max"] > 0
