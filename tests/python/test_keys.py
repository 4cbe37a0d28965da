"""Keys and the organization, tried as a new user would: bootstrap, a project and a key through
the Admin API with the official openai package's HTTP client, chat completions with the official
openai and ollama clients using that key, the request attributed to the project, the key revoked
and the next request refused; on SQLite and PostgreSQL, and across two gateways sharing one
PostgreSQL."""
import json
import subprocess
import time
import urllib.error
import urllib.request

import ollama
import openai
import pytest

from conftest import BIN, free_port, get_json, wait_until
from test_ledger import ledger_location, postgres_db

PROMPT = [{"role": "user", "content": "hello there"}]


def bootstrap(db):
    out = subprocess.run([BIN, "admin", "bootstrap", "--db", db, "--email", "ada@example.com"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def start(procs, sim_port, db, auth="required"):
    port = free_port()
    procs.start([BIN, "serve", "--port", str(port), "--backend", f"sim=http://127.0.0.1:{sim_port}", "--db", db], port, "serve",
                env={"SIGHTGLASS_AUTH_INFERENCE": auth})
    return f"http://127.0.0.1:{port}"


def simulator(procs):
    port = free_port()
    procs.start([BIN, "simulate", "--port", str(port), "--ttft-ms", "5", "--tokens-per-second", "2000"], port, "simulate")
    return port


def admin_client(base, admin_key):
    return openai.OpenAI(base_url=f"{base}/v1", api_key=admin_key)


def create_key(base, admin_key, project_id, **body):
    return admin_client(base, admin_key).post(f"/organization/projects/{project_id}/api_keys", body=body, cast_to=object)


def chat_ok(base, key, model="llama3.2:1b"):
    return openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0).chat.completions.create(model=model, messages=PROMPT)


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_a_new_user_bootstraps_creates_a_key_uses_it_and_revokes_it(procs, tmp_path, engine):
    db = ledger_location(engine, tmp_path)
    boot = bootstrap(db)
    assert boot["admin_key"].startswith("sk-sg-admin-") and boot["user_id"] and boot["project_id"]
    base = start(procs, simulator(procs), db)
    admin = admin_client(base, boot["admin_key"])

    project = admin.post("/organization/projects", body={"name": "team-a"}, cast_to=object)
    assert project["object"] == "organization.project" and project["status"] == "active"
    key = create_key(base, boot["admin_key"], project["id"], name="ci", scopes={"models": ["llama*", "nomic-*"]})
    assert key["object"] == "organization.project.api_key" and key["value"].startswith("sk-sg-")
    assert key["redacted_value"].endswith(key["value"][-4:]) and key["value"] not in json.dumps(
        admin.get(f"/organization/projects/{project['id']}/api_keys", cast_to=object))

    # The catalogs need the key too, and list only the models it may use.
    listed = {m.id for m in openai.OpenAI(base_url=f"{base}/v1", api_key=key["value"]).models.list()}
    assert listed == {"llama3.2:1b", "nomic-embed-text"}
    tags = ollama.Client(host=base, headers={"Authorization": f"Bearer {key['value']}"}).list()
    assert {m.model for m in tags.models} == listed
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{base}/v1", api_key="sk-sg-wrong", max_retries=0).models.list()

    answer = chat_ok(base, key["value"])
    assert answer.choices[0].message.content and answer.usage.completion_tokens > 0
    client = ollama.Client(host=base, headers={"Authorization": f"Bearer {key['value']}"})
    reply = client.chat(model="llama3.2:1b", messages=PROMPT)
    assert reply.message.content

    def attributed():
        rows = get_json(f"{base}/api/requests?project_id={project['id']}")["requests"]
        return rows if len(rows) == 2 else None
    rows = wait_until(attributed, timeout=5)
    assert {r["route"] for r in rows} == {"/v1/chat/completions", "/api/chat"}
    assert all(r["api_key_id"] == key["id"] and r["user"] == boot["user_id"] for r in rows)

    # Usage per project and key, in OpenAI's shape, equals what the clients were told.
    since = int(time.time()) - 3600
    usage = admin.get("/organization/usage/completions", cast_to=object, options={
        "params": {"start_time": since, "bucket_width": "1h", "group_by": ["project_id", "api_key_id"], "limit": 2}})
    assert usage["object"] == "page" and all(b["object"] == "bucket" for b in usage["data"])
    results = [r for b in usage["data"] for r in b["results"]]
    assert {(r["project_id"], r["api_key_id"]) for r in results} == {(project["id"], key["id"])}
    assert sum(r["num_model_requests"] for r in results) == 2
    assert sum(r["output_tokens"] for r in results) == answer.usage.completion_tokens + reply.eval_count
    assert sum(r["input_tokens"] for r in results) == answer.usage.prompt_tokens + reply.prompt_eval_count
    costs = admin.get("/organization/costs", cast_to=object, options={"params": {"start_time": since, "group_by": ["project_id"]}})
    assert costs["object"] == "page" and [r["amount"]["currency"] for b in costs["data"] for r in b["results"]] == ["usd"]
    by_project = get_json(f"{base}/api/analytics/breakdown?by=project&since=1h")
    assert {g["key"]: g["requests"] for g in by_project["groups"]} == {project["id"]: 2}
    with pytest.raises(openai.BadRequestError) as bad:
        admin.get("/organization/usage/completions", cast_to=object, options={"params": {"start_time": since, "bucket_width": "2h"}})
    assert bad.value.body["param"] == "bucket_width"

    # Outside the key's scopes a model is answered exactly as one that does not exist.
    with pytest.raises(openai.NotFoundError) as hidden:
        chat_ok(base, key["value"], model="qwen2.5:0.5b")
    with pytest.raises(openai.NotFoundError) as missing:
        chat_ok(base, key["value"], model="no-such-model")
    assert hidden.value.body["code"] == missing.value.body["code"] == "model_not_found"
    assert hidden.value.body["message"].replace("qwen2.5:0.5b", "M") == missing.value.body["message"].replace("no-such-model", "M")

    deleted = admin.delete(f"/organization/projects/{project['id']}/api_keys/{key['id']}", cast_to=object)
    assert deleted == {"object": "organization.project.api_key.deleted", "id": key["id"], "deleted": True}
    with pytest.raises(openai.AuthenticationError) as refused:
        chat_ok(base, key["value"])
    assert key["value"] not in str(refused.value.body)
    with pytest.raises(ollama.ResponseError) as ollama_refused:
        client.chat(model="llama3.2:1b", messages=PROMPT)
    assert ollama_refused.value.status_code == 401


def test_requests_without_a_valid_key_are_refused_in_each_dialect(procs, tmp_path):
    db = str(tmp_path / "ledger.sqlite")
    bootstrap(db)
    base = start(procs, simulator(procs), db)
    req = urllib.request.Request(f"{base}/v1/chat/completions", data=json.dumps({"model": "llama3.2:1b", "messages": PROMPT}).encode(),
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(req, timeout=10)
    assert missing.value.code == 401 and json.loads(missing.value.read())["error"]["code"] == "missing_api_key"
    for header in ("Authorization", "api-key", "x-api-key"):
        value = "Bearer sk-sg-not-a-key" if header == "Authorization" else "sk-sg-not-a-key"
        req = urllib.request.Request(f"{base}/api/chat", data=json.dumps({"model": "llama3.2:1b", "messages": PROMPT}).encode(),
                                     headers={header: value, "Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 401 and json.loads(e.value.read()) == {"error": "Incorrect API key provided."}
    # An oversized or non-ASCII credential is a 401 too, never a crash.
    req = urllib.request.Request(f"{base}/v1/embeddings", data=b'{"model":"nomic-embed-text","input":"x"}',
                                 headers={"Authorization": "Bearer " + "x" * 5000, "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 401
    assert get_json(f"{base}/health")["status"] in ("healthy", "ok", "degraded")
    # Each refusal is in /dashboard/security and the audit trail, with its source, never the key.
    security = wait_until(lambda: (lambda s: s if s["inference"]["failed_authentications_last_hour"] >= 5 else None)(
        get_json(f"{base}/dashboard/security")))
    assert security["inference"]["auth_mode"] == "required" and security["inference"]["users"] == 1
    assert any(ev["type"] == "inference_auth_failure" and ev["source_ip"] == "127.0.0.1" for ev in security["security_events"])
    audit = wait_until(lambda: get_json(f"{base}/dashboard/audit?action=auth_failure")["entries"])
    assert audit and "sk-sg-not-a-key" not in json.dumps(audit) and "sk-sg-not-a-key" not in json.dumps(security)


def test_the_admin_api_needs_an_admin_credential_and_names_bad_fields(procs, tmp_path):
    db = str(tmp_path / "ledger.sqlite")
    boot = bootstrap(db)
    base = start(procs, simulator(procs), db, auth="off")
    # A client cannot narrow (or forge) the catalog's key scope itself: the gateway strips the header.
    req = urllib.request.Request(f"{base}/v1/models", headers={"X-Sightglass-Key-Models": "nothing*"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert len(json.loads(r.read())["data"]) == 4
    with pytest.raises(openai.AuthenticationError):
        admin_client(base, "sk-sg-admin-wrong").get("/organization/projects", cast_to=object)
    key = create_key(base, boot["admin_key"], boot["project_id"], name="plain")
    # The Admin API needs an admin credential: a project key is refused, reads included.
    with pytest.raises(openai.AuthenticationError):
        admin_client(base, key["value"]).get("/organization/projects", cast_to=object)
    with pytest.raises(openai.AuthenticationError):
        admin_client(base, key["value"]).post("/organization/projects", body={"name": "mine"}, cast_to=object)
    admin = admin_client(base, boot["admin_key"])
    with pytest.raises(openai.BadRequestError) as bad:
        admin.post("/organization/projects", body={"name": 3}, cast_to=object)
    assert bad.value.body["param"] == "name"
    with pytest.raises(openai.BadRequestError) as unknown:
        admin.post(f"/organization/projects/{boot['project_id']}/api_keys", body={"name": "x", "colour": "red"}, cast_to=object)
    assert unknown.value.body["param"] == "colour"
    with pytest.raises(openai.NotFoundError):
        admin.post("/organization/projects/proj_nope/archive", cast_to=object)
    audit = wait_until(lambda: get_json(f"{base}/dashboard/audit?action=auth_failure")["entries"])
    assert audit and all(key["value"] not in json.dumps(e) for e in audit)


def test_the_cli_creates_lists_and_revokes_keys(procs, tmp_path):
    db = str(tmp_path / "ledger.sqlite")
    boot = bootstrap(db)
    base = start(procs, simulator(procs), db)
    made = subprocess.run([BIN, "keys", "create", "--db", db, "--project", boot["project_name"], "--name", "cli", "--models", "llama*",
                           "--expires", "90d"], check=True, capture_output=True, text=True)
    secret = made.stdout.strip()
    assert secret.startswith("sk-sg-")
    assert wait_until(lambda: _works(base, secret), timeout=3)
    listed = subprocess.run([BIN, "keys", "list", "--db", db], check=True, capture_output=True, text=True).stdout
    line = next(l for l in listed.splitlines() if "\tcli\t" in l)
    assert secret not in listed and line.split("\t")[3].endswith(secret[-4:])
    subprocess.run([BIN, "keys", "revoke", "--db", db, line.split("\t")[0]], check=True, capture_output=True)
    # Revoked in the database by another process: this gateway refuses it within about two seconds.
    assert wait_until(lambda: not _works(base, secret), timeout=3)


def _works(base, key):
    try:
        chat_ok(base, key)
        return True
    except openai.AuthenticationError:
        return False


def test_a_key_revoked_on_one_gateway_is_refused_by_another_sharing_postgres(procs, tmp_path):
    db = postgres_db()
    boot = bootstrap(db)
    sim = simulator(procs)
    base_a, base_b = start(procs, sim, db), start(procs, sim, db)
    key = create_key(base_a, boot["admin_key"], boot["project_id"], name="shared")
    assert wait_until(lambda: _works(base_b, key["value"]), timeout=3), "created on A, usable on B within 2 s"
    admin_client(base_a, boot["admin_key"]).delete(f"/organization/projects/{boot['project_id']}/api_keys/{key['id']}", cast_to=object)
    assert wait_until(lambda: not _works(base_b, key["value"]), timeout=3), "revoked on A, refused by B within about 2 s"


def test_a_key_with_a_token_cap_refuses_requests_above_it(procs, tmp_path):
    db = str(tmp_path / "ledger.sqlite")
    boot = bootstrap(db)
    base = start(procs, simulator(procs), db)
    key = create_key(base, boot["admin_key"], boot["project_id"], name="capped", scopes={"max_tokens": 16, "routes": ["completions"]})
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=key["value"], max_retries=0)
    assert client.chat.completions.create(model="llama3.2:1b", messages=PROMPT, max_tokens=16).choices
    with pytest.raises(openai.BadRequestError) as above:
        client.chat.completions.create(model="llama3.2:1b", messages=PROMPT, max_tokens=100)
    assert above.value.body["code"] == "max_tokens_above_limit"
    with pytest.raises(openai.PermissionDeniedError) as scope:
        client.embeddings.create(model="nomic-embed-text", input="x")
    assert scope.value.body["code"] == "insufficient_scope"


def test_a_dashboard_admin_key_is_an_admin_credential_and_a_read_key_is_not(procs, tmp_path):
    db = str(tmp_path / "ledger.sqlite")
    boot = bootstrap(db)
    cfg = tmp_path / "sightglass.yaml"
    cfg.write_text("dashboard:\n  auth:\n    api_keys:\n"
                   "      - {id: ops, key: ops-secret-1234567890, permissions: [dashboard:admin]}\n"
                   "      - {id: viewer, key: viewer-secret-1234567890, permissions: [dashboard:read]}\n")
    sim = simulator(procs)
    port = free_port()
    procs.start([BIN, "serve", "--config", str(cfg), "--port", str(port), "--backend", f"sim=http://127.0.0.1:{sim}", "--db", db], port, "serve")
    base = f"http://127.0.0.1:{port}"
    projects = admin_client(base, "ops-secret-1234567890").get("/organization/projects", cast_to=object)
    assert [p["id"] for p in projects["data"]] == [boot["project_id"]]
    with pytest.raises(openai.PermissionDeniedError):
        admin_client(base, "viewer-secret-1234567890").get("/organization/projects", cast_to=object)
    # A dashboard key owns no keys itself: creating one names the owner.
    with pytest.raises(openai.BadRequestError) as owner:
        create_key(base, "ops-secret-1234567890", boot["project_id"], name="x")
    assert owner.value.body["param"] == "user_id"
    made = create_key(base, "ops-secret-1234567890", boot["project_id"], name="x", user_id=boot["user_id"])
    assert made["owner"]["user"]["id"] == boot["user_id"]


def test_model_management_needs_its_scope_and_is_proxied_with_progress(procs, tmp_path):
    db = str(tmp_path / "ledger.sqlite")
    boot = bootstrap(db)
    base = start(procs, simulator(procs), db)
    plain = create_key(base, boot["admin_key"], boot["project_id"], name="plain")
    manager = create_key(base, boot["admin_key"], boot["project_id"], name="ops", scopes={"routes": ["completions", "model_management"]})
    with pytest.raises(ollama.ResponseError) as refused:
        ollama.Client(host=base, headers={"Authorization": f"Bearer {plain['value']}"}).pull("tinyllama:1b")
    assert refused.value.status_code == 403
    client = ollama.Client(host=base, headers={"Authorization": f"Bearer {manager['value']}"})
    progress = list(client.pull("tinyllama:1b", stream=True))
    assert progress[0].status == "pulling manifest" and progress[-1].status == "success"
    assert any(p.total and p.completed == p.total for p in progress)
    # The gateway learns the new model at once and routes to it.
    assert wait_until(lambda: "tinyllama:1b" in {m.model for m in client.list().models}, timeout=5)
    assert client.chat(model="tinyllama:1b", messages=PROMPT).message.content
    client.copy("tinyllama:1b", "tinyllama:copy")
    assert wait_until(lambda: "tinyllama:copy" in {m.model for m in client.list().models}, timeout=5)
    client.delete("tinyllama:copy")
    assert wait_until(lambda: "tinyllama:copy" not in {m.model for m in client.list().models}, timeout=5)
    with pytest.raises(ollama.ResponseError) as missing:
        client.delete("never-was:1b")
    assert missing.value.status_code == 404
    # A model file uploaded as a blob (the client hashes it, the gateway passes the bytes on).
    blob = tmp_path / "adapter.bin"
    blob.write_bytes(bytes(range(256)) * 64)
    digest = client.create_blob(blob)
    assert digest.startswith("sha256:")
    import httpx
    head = httpx.head(f"{base}/api/blobs/{digest}", headers={"Authorization": f"Bearer {manager['value']}"})
    assert head.status_code == 200
    assert httpx.head(f"{base}/api/blobs/{digest}", headers={"Authorization": f"Bearer {plain['value']}"}).status_code == 403
    # Management requests are recorded, with no tokens.
    rows = wait_until(lambda: get_json(f"{base}/api/requests?route=/api/pull")["requests"], timeout=5)
    assert rows[0]["api_key_id"] == manager["id"] and rows[0]["tokens"]["total"] == 0


def _post(base, path, body, key=None, headers=None, method="POST"):
    h = {"Content-Type": "application/json", **(headers or {})}
    if key:
        h["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(base + path, data=body.encode() if isinstance(body, str) else json.dumps(body).encode(), headers=h, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_scopes_cannot_be_slipped_past(procs, tmp_path):
    """Ways around a key's limits that a review found, each closed: a second "model" field, a
    catalog path with extra slashes, leaving max_tokens out or unlimited, a copy's destination."""
    db = str(tmp_path / "ledger.sqlite")
    boot = bootstrap(db)
    base = start(procs, simulator(procs), db)
    key = create_key(base, boot["admin_key"], boot["project_id"], name="narrow",
                     scopes={"models": ["qwen*"], "max_tokens": 8, "routes": ["completions", "model_management"]})["value"]
    # The backend would take the last "model"; the gateway refuses a body that names two.
    status, answer = _post(base, "/v1/chat/completions", '{"model":"qwen2.5:0.5b","model":"llama3.2:1b","messages":[]}', key)
    assert status == 400 and json.loads(answer)["error"]["param"] == "model"
    for path in ("//v1/models", "/api/tags/", "/api//ps"):
        req = urllib.request.Request(base + path)
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 401, path
    # No max_tokens: the key's cap becomes the request's.
    answer = openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0).chat.completions.create(model="qwen2.5:0.5b", messages=PROMPT)
    assert 0 < answer.usage.completion_tokens <= 8
    status, _ = _post(base, "/api/generate", {"model": "qwen2.5:0.5b", "prompt": "hi", "stream": False, "options": {"num_predict": -1}}, key)
    assert status == 400
    reply = ollama.Client(host=base, headers={"Authorization": f"Bearer {key}"}).generate(model="qwen2.5:0.5b", prompt="hi")
    assert 0 < reply.eval_count <= 8
    # A copy may not create a model outside the scope, nor a create start from one.
    status, _ = _post(base, "/api/copy", {"source": "qwen2.5:0.5b", "destination": "prod-model"}, key)
    assert status == 404
    status, _ = _post(base, "/api/create", {"model": "qwen-x", "from": "llama3.2:1b", "stream": False}, key)
    assert status == 404
    # A refused bad key is audited without the user name the client chose.
    _post(base, "/v1/chat/completions", {"model": "qwen2.5:0.5b", "messages": []}, "sk-sg-junk", headers={"X-User-Id": "ceo@corp"})
    audit = wait_until(lambda: get_json(f"{base}/dashboard/audit?action=auth_failure")["entries"])
    assert audit and all(e["user"] != "ceo@corp" for e in audit)
