"""The simulator refuses wrongly typed fields as OpenAI and Ollama servers do, so clients behind the
gateway meet realistic 400s (the gateway forwards them untouched and records them)."""
import urllib.request

import ollama
import openai
import pytest

from conftest import post_json, wait_until


def test_openai_client_gets_invalid_type(stack):
    client = openai.OpenAI(base_url=stack["base"] + "/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="llama3.2:1b", messages=[{"role": "user", "content": "x"}], max_tokens="five")
    assert e.value.status_code == 400
    assert e.value.body["param"] == "max_tokens" and e.value.body["code"] == "invalid_type"
    status, body = post_json(stack["base"] + "/v1/chat/completions", {"model": "llama3.2:1b", "messages": "hello"})
    assert status == 400 and body["error"]["param"] == "messages"
    status, body = post_json(stack["base"] + "/v1/completions", {"model": "llama3.2:1b", "prompt": {"text": "x"}})
    assert status == 400 and body["error"]["param"] == "prompt"
    # A well-typed request still works, and the refusals are recorded as client errors.
    assert client.chat.completions.create(model="llama3.2:1b", messages=[{"role": "user", "content": "x"}], max_tokens=3).choices
    def refused_twice():
        text = urllib.request.urlopen(stack["base"] + "/metrics/prometheus").read().decode()
        lines = [l for l in text.splitlines() if l.startswith("inference_gateway_requests_total{")
                 and 'route="/v1/chat/completions"' in l and 'status="400"' in l]
        # One refused by the gateway's own check (backend "none"), one by the backend.
        return lines and sum(float(l.rsplit(" ", 1)[1]) for l in lines) == 2
    assert wait_until(refused_twice, timeout=5)


def test_ollama_client_gets_go_style_errors(stack):
    client = ollama.Client(host=stack["base"])
    with pytest.raises(ollama.ResponseError) as e:
        client.generate(model="llama3.2:1b", prompt="x", options={"num_predict": "many"})
    assert e.value.status_code == 400 and "cannot unmarshal string" in e.value.error and "num_predict" in e.value.error
    status, body = post_json(stack["base"] + "/api/chat", {"model": "llama3.2:1b", "messages": "hi", "stream": False})
    assert status == 400 and "messages" in body["error"]
