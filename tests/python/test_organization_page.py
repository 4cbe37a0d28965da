"""The Organization page in a real browser: the admin key is asked for and kept in the tab, each
project shows the usage the API reports for it, a key is created with a one-time reveal and
revoked, and a revoked key is refused by the gateway."""
import json
import subprocess
import urllib.error
import urllib.request

import openai
import pytest

from conftest import BIN, Processes, free_port, get_json, wait_until
from test_web_dashboard import CHROMIUM, DRIVER, browser, console_errors, wait_loaded  # noqa: F401 (browser is a fixture)

import os

pytestmark = pytest.mark.skipif(not CHROMIUM or not os.path.exists(DRIVER), reason="chromium and chromium-driver are not installed")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    procs = Processes()
    try:
        db = str(tmp_path_factory.mktemp("org") / "ledger.sqlite")
        boot = json.loads(subprocess.run([BIN, "admin", "bootstrap", "--db", db], check=True, capture_output=True, text=True).stdout)
        sim_port, port = free_port(), free_port()
        procs.start([BIN, "simulate", "--port", str(sim_port), "--ttft-ms", "5", "--tokens-per-second", "2000"], sim_port, "simulate")
        procs.start([BIN, "serve", "--port", str(port), "--backend", f"sim=http://127.0.0.1:{sim_port}", "--db", db], port, "serve",
                    env={"SIGHTGLASS_AUTH_INFERENCE": "optional"})
        base = f"http://127.0.0.1:{port}"
        admin = openai.OpenAI(base_url=f"{base}/v1", api_key=boot["admin_key"])
        key = admin.post(f"/organization/projects/{boot['project_id']}/api_keys", body={"name": "app"}, cast_to=object)
        client = openai.OpenAI(base_url=f"{base}/v1", api_key=key["value"])
        for _ in range(3):
            client.chat.completions.create(model="llama3.2:1b", messages=[{"role": "user", "content": "hi"}])
        wait_until(lambda: get_json(f"{base}/api/analytics/breakdown?by=project&since=1h")["groups"], timeout=5)
        yield {"base": base, "boot": boot, "key": key}
    finally:
        procs.stop_all()


def test_the_page_shows_projects_keys_and_usage_and_manages_keys(org, browser):  # noqa: F811
    base, boot = org["base"], org["boot"]
    browser.get(f"{base}/dashboard/organization?since=1h")
    wait_loaded(browser)
    field = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.NAME, "admin-key"))
    field.send_keys(boot["admin_key"])
    field.submit()
    card = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, f'[data-project="{boot["project_id"]}"]'))
    usage = get_json(f"{base}/api/analytics/breakdown?by=project&since=1h")["groups"][0]
    assert usage["requests"] == 3
    assert "3 requests" in card.text and org["key"]["redacted_value"] in card.text
    assert org["key"]["value"] not in browser.page_source
    # Usage over time: the chart's table holds the project's requests, as the usage API counts them.
    charts = browser.execute_script("""
        return [...document.querySelectorAll('main .chart')].map(c => c.querySelector('h2').textContent + ' | ' + c.textContent);""")
    assert any(c.startswith("Requests per project") and "Default project" in c for c in charts), charts
    assert any(c.startswith("Tokens per key") and "app (Default project)" in c for c in charts), charts
    counted = browser.execute_async_script("""
        const done = arguments[0];
        import('/dashboard/assets/pages-org.js').then(async (m) => {
          const q = m.usageQuery('1h');
          const page = await m.admin(`/usage/completions?start_time=${q.start}&bucket_width=${q.width}&limit=${q.limit}&group_by=project_id`);
          done(m.projectSeries([page], {}, (r) => r.num_model_requests).map(s => s.points.reduce((a, p) => a + p[1], 0)));
        });""")
    assert counted == [3]

    card.find_element(By.NAME, "key-name").send_keys("from the page")
    card.find_element(By.NAME, "key-models").send_keys("llama*")
    card.find_element(By.NAME, "key-name").submit()
    secret = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-secret]")).text
    assert secret.startswith("sk-sg-")
    user = openai.OpenAI(base_url=f"{base}/v1", api_key=secret, max_retries=0)
    assert wait_until(lambda: user.models.list().data, timeout=3)
    assert {m.id for m in user.models.list()} == {"llama3.2:1b"}

    created = next(k for k in openai.OpenAI(base_url=f"{base}/v1", api_key=boot["admin_key"]).get(
        f"/organization/projects/{boot['project_id']}/api_keys", cast_to=object)["data"] if k["name"] == "from the page")
    browser.execute_script("window.confirm = () => true;")
    browser.find_element(By.CSS_SELECTOR, f'[data-revoke="{created["id"]}"]').click()
    WebDriverWait(browser, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, f'[data-revoke="{created["id"]}"]'))

    def refused():
        try:
            user.models.list()
            return False
        except openai.AuthenticationError:
            return True
    assert wait_until(refused, timeout=3)
    assert not console_errors(browser)


def test_a_project_key_sees_its_own_project_read_only(org, browser):  # noqa: F811
    base, boot = org["base"], org["boot"]
    other = openai.OpenAI(base_url=f"{base}/v1", api_key=boot["admin_key"]).post("/organization/projects", body={"name": "elsewhere"}, cast_to=object)
    reader = openai.OpenAI(base_url=f"{base}/v1", api_key=org["key"]["value"])
    # The Admin API stays closed to it; its own project is readable through /api/projects/own.
    with pytest.raises(openai.AuthenticationError):
        reader.get(f"/organization/projects/{other['id']}", cast_to=object)
    req = urllib.request.Request(f"{base}/api/projects/own", headers={"Authorization": f"Bearer {org['key']['value']}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        own = json.loads(r.read())
    assert own["project"]["id"] == boot["project_id"] and org["key"]["id"] in {k["id"] for k in own["api_keys"]["data"]}
    assert org["key"]["value"] not in json.dumps(own)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(f"{base}/api/projects/own", headers={"Authorization": "Bearer sk-sg-nope"}), timeout=10)
    assert refused.value.code == 401
    browser.get(f"{base}/health")  # same origin, no page script: forget the admin key from the last test
    browser.execute_script("sessionStorage.clear();")
    console_errors(browser)  # drains the log: /health has no favicon
    browser.get(f"{base}/dashboard/organization?since=1h")
    field = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.NAME, "admin-key"))
    field.send_keys(org["key"]["value"])
    field.submit()
    card = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, f'[data-project="{boot["project_id"]}"]'))
    assert "read-only" in browser.find_element(By.ID, "main").text
    assert not browser.find_elements(By.CSS_SELECTOR, f'[data-project="{other["id"]}"]')
    assert not card.find_elements(By.CSS_SELECTOR, "[data-revoke]") and not card.find_elements(By.NAME, "key-name")
    assert not console_errors(browser)
