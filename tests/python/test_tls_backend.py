"""An https:// backend: the relay speaks TLS upstream (swift-nio-ssl), trusting a configured CA."""
import os
import subprocess
import sys

import openai

from conftest import BIN, free_port, get_json, wait_until


def start_tls_stack(procs, tmp, backend_yaml):
    """A self-signed HTTPS backend and a gateway configured with `backend_yaml` (formatted with port and cert)."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    tls_port, gw_port = free_port(), free_port()
    procs.start([sys.executable, os.path.join(os.path.dirname(__file__), "tls_backend.py"), str(tls_port), cert, key],
                tls_port, f"tls-backend-{tls_port}")
    config = os.path.join(tmp, "sightglass.yaml")
    with open(config, "w") as f:
        f.write(f"server: {{port: {gw_port}}}\nbackends:\n  - name: secure\n    url: https://127.0.0.1:{tls_port}\n"
                + backend_yaml.format(cert=cert))
    procs.start([BIN, "serve", "--config", config], gw_port, f"serve-tls-{gw_port}")
    base = f"http://127.0.0.1:{gw_port}"
    return base, openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)


def test_https_backend_with_private_ca(procs, tmp_path):
    base, client = start_tls_stack(procs, str(tmp_path), "    ca_file: {cert}\n")
    assert wait_until(lambda: get_json(base + "/health")["services"]["secure"]["status"] == "healthy", timeout=10)
    r = client.chat.completions.create(model="tls-model", messages=[{"role": "user", "content": "hi"}])
    assert r.choices[0].message.content == "secure tokens over tls"
    chunks = list(client.chat.completions.create(model="tls-model", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "secure tokens over tls"
    assert all(c.usage is None for c in chunks), "usage was injected upstream and stripped"

    def exact():
        t = get_json(base + "/metrics/json")["tokens"].get("/v1/chat/completions", {})
        return t.get("input_total") == 6 and t.get("output_total") == 8
    assert wait_until(exact), get_json(base + "/metrics/json")["tokens"]


def test_untrusted_certificate_is_refused(procs, tmp_path):
    _, client = start_tls_stack(procs, str(tmp_path), "    models: [tls-model]\n")
    try:
        client.chat.completions.create(model="tls-model", messages=[{"role": "user", "content": "hi"}])
        assert False, "a certificate no configured CA signed must not be trusted"
    except openai.APIStatusError as e:
        assert e.status_code == 502
