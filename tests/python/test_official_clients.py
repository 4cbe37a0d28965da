"""The official `openai` and `ollama` Python packages, unmodified, through `sightglass serve`."""
import ollama
import openai
import pytest

from conftest import get_json, wait_until


def test_openai_client(stack):
    client = openai.OpenAI(base_url=stack["base"] + "/v1", api_key="unused", max_retries=0)
    models = [m.id for m in client.models.list()]
    assert "llama3.2:1b" in models

    seen_in = seen_out = 0
    r = client.chat.completions.create(model="llama3.2:1b", messages=[{"role": "user", "content": "say something"}])
    assert r.choices[0].message.content
    seen_in += r.usage.prompt_tokens
    seen_out += r.usage.completion_tokens

    # Streamed with usage requested: exactly one usage chunk, as from the backend.
    chunks = list(client.chat.completions.create(model="qwen2.5:0.5b", messages=[{"role": "user", "content": "stream please"}],
                                                 stream=True, stream_options={"include_usage": True}))
    usage = [c.usage for c in chunks if c.usage is not None]
    assert len(usage) == 1
    seen_in += usage[0].prompt_tokens
    seen_out += usage[0].completion_tokens

    # Streamed without usage: the client sees no usage at all, the gateway still knows the tokens.
    chunks = list(client.chat.completions.create(model="qwen2.5:0.5b", messages=[{"role": "user", "content": "stream again"}], stream=True))
    assert all(c.usage is None for c in chunks)
    text = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    seen_out += len(text)
    seen_in += 2  # the simulator counts whitespace-separated words of the prompt

    c = client.completions.create(model="llama3.2:1b", prompt="one two three four", max_tokens=5)
    assert c.usage.completion_tokens <= 5
    seen_in += c.usage.prompt_tokens
    seen_out += c.usage.completion_tokens

    e = client.embeddings.create(model="nomic-embed-text", input=["alpha beta", "gamma"])
    assert len(e.data) == 2 and len(e.data[0].embedding) > 0
    seen_in += e.usage.prompt_tokens

    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    assert err.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="llama3.2:1b", messages=[{"role": "user", "content": "x"}], extra_body={"stream": "yes"})

    def totals():
        m = get_json(stack["base"] + "/metrics/json")
        t = m["tokens"]
        got_in = sum(v["input_total"] for k, v in t.items() if k.startswith("/v1/"))
        got_out = sum(v["output_total"] for k, v in t.items() if k.startswith("/v1/"))
        return (got_in, got_out) if (got_in, got_out) == (seen_in, seen_out) else None

    assert wait_until(totals), (get_json(stack["base"] + "/metrics/json")["tokens"], seen_in, seen_out)


def test_ollama_client(stack):
    client = ollama.Client(host=stack["base"])
    names = [m.model for m in client.list().models]
    assert "llama3.2:1b" in names
    assert client.ps().models is not None
    assert client.show("llama3.2:1b").details.family

    seen_in = seen_out = 0
    r = client.chat(model="llama3.2:1b", messages=[{"role": "user", "content": "hello there"}])
    assert r.message.content and r.done
    seen_in += r.prompt_eval_count
    seen_out += r.eval_count

    parts = list(client.chat(model="qwen2.5:0.5b", messages=[{"role": "user", "content": "stream it"}], stream=True))
    assert parts[-1].done
    assert len(parts) - 1 == parts[-1].eval_count
    seen_in += parts[-1].prompt_eval_count
    seen_out += parts[-1].eval_count

    g = client.generate(model="llama3.2:1b", prompt="why is the sky blue")
    assert g.response
    seen_in += g.prompt_eval_count
    seen_out += g.eval_count

    gen = list(client.generate(model="llama3.2:1b", prompt="count to three", stream=True))
    seen_in += gen[-1].prompt_eval_count
    seen_out += gen[-1].eval_count

    emb = client.embed(model="nomic-embed-text", input=["a b c", "d"])
    assert len(emb.embeddings) == 2
    seen_in += emb.prompt_eval_count

    with pytest.raises(ollama.ResponseError) as err:
        client.chat(model="missing-model", messages=[{"role": "user", "content": "x"}])
    assert err.value.status_code == 404 and "not found" in err.value.error

    def totals():
        t = get_json(stack["base"] + "/metrics/json")["tokens"]
        got = (sum(v["input_total"] for k, v in t.items() if k.startswith("/api/")),
               sum(v["output_total"] for k, v in t.items() if k.startswith("/api/")))
        return got if got == (seen_in, seen_out) else None

    assert wait_until(totals), (get_json(stack["base"] + "/metrics/json")["tokens"], seen_in, seen_out)
    summary = get_json(stack["base"] + "/api/metrics/summary")
    assert summary["models"]["llama3.2:1b"]["requests"] >= 3
