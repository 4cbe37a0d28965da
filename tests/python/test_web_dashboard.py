"""The web dashboard in a real browser: Debian's chromium driven headless by Selenium.

Every page loads without console errors or failed requests; numbers on the page equal the API's;
a request sent during the test shows up in the live table; filters, the detail view and the theme
switch work; the chart module's helpers are unit-tested in the page; screenshots of every page at
desktop and phone widths are saved under artifacts/screenshots."""
import json
import os
import shutil
import time
import urllib.error
import urllib.request

import pytest

from conftest import ARTIFACTS, BIN, free_port, get_json

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

PAGES = ["overview", "requests", "models", "backends", "chat", "embeddings", "costs", "rate-limits", "organization", "resources", "logs", "audit", "alerts", "config"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"

pytestmark = pytest.mark.skipif(not CHROMIUM or not os.path.exists(DRIVER), reason="chromium and chromium-driver are not installed")


def chat(base, model="llama3.2:1b", content="hello"):
    req = urllib.request.Request(base + "/v1/chat/completions",
                                 data=json.dumps({"model": model, "messages": [{"role": "user", "content": content}]}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers["X-Request-Id"]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    from conftest import Processes
    procs = Processes()
    try:
        sim_port, bare_port, gw_port = free_port(), free_port(), free_port()
        cfg = tmp_path_factory.mktemp("web") / "sightglass.yaml"
        # The browser tests load every page repeatedly; the API's per-IP budget is for people.
        # A second engine reports no usage: its tokens, and so its cost, are estimated.
        cfg.write_text("dashboard:\n  rate_limit:\n    enabled: false\npricing:\n  gpt-4o-mini: {input: 0.15, output: 0.6}\n"
                       "  bare-model: {input: 1.0, output: 2.0}\n")
        procs.start([BIN, "simulate", "--port", str(sim_port), "--ttft-ms", "5", "--tokens-per-second", "2000"], sim_port, "simulate")
        procs.start([BIN, "simulate", "--port", str(bare_port), "--ttft-ms", "5", "--tokens-per-second", "2000", "--models", "bare-model",
                     "--no-usage"], bare_port, "simulate-bare")
        procs.start([BIN, "serve", "--config", str(cfg), "--port", str(gw_port), "--backend", f"sim=http://127.0.0.1:{sim_port}",
                     "--backend", f"bare=http://127.0.0.1:{bare_port}"], gw_port, "serve")
        base = f"http://127.0.0.1:{gw_port}"
        for i in range(6):
            chat(base, "llama3.2:1b", f"question {i}")
        for i in range(3):
            chat(base, "gpt-4o-mini", f"other {i}")
        for i in range(2):
            chat(base, "bare-model", f"no usage {i}")
        urllib.request.urlopen(urllib.request.Request(base + "/v1/embeddings", data=json.dumps({"model": "nomic-embed-text", "input": "x"}).encode(),
                                                      headers={"Content-Type": "application/json"}), timeout=10).read()
        time.sleep(1.5)  # the ledger writes at least every second
        yield base
    finally:
        procs.stop_all()


@pytest.fixture(scope="module")
def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def wait_loaded(driver, timeout=10):
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script(
        "const m = document.getElementById('main'); return m && m.children.length > 0 && !m.textContent.startsWith('Loading');"))


def shot(driver, name):
    out = os.path.join(ARTIFACTS, "screenshots")
    os.makedirs(out, exist_ok=True)
    driver.save_screenshot(os.path.join(out, name + ".png"))


def test_every_page_loads_cleanly_at_desktop_and_phone_width(gateway, browser):
    for width, height, label in ((1280, 900, "desktop"), (375, 812, "phone")):
        browser.set_window_size(width, height)
        for page in PAGES:
            browser.get(f"{gateway}/dashboard/{page}")
            wait_loaded(browser)
            time.sleep(0.4)  # charts draw on the next animation frame
            errors = console_errors(browser)
            assert not errors, f"{page} ({label}): {errors}"
            main = browser.find_element(By.ID, "main").text
            assert "Could not load this page" not in main, f"{page}: {main[:200]}"
            shot(browser, f"{page}-{label}")
    browser.set_window_size(1280, 900)


def test_models_page_numbers_equal_the_api(gateway, browser):
    browser.get(f"{gateway}/dashboard/models?since=24h")
    wait_loaded(browser)
    api = get_json(f"{gateway}/api/analytics/breakdown?by=model&since=24h")
    expected = {g["key"]: g["requests"] for g in api["groups"] if g["key"]}
    rows = browser.execute_script("""
        const t = document.querySelector('main table');
        return [...t.tBodies[0].rows].map(r => [r.cells[0].textContent, r.cells[1].textContent]);""")
    shown = {name: int(count.replace(",", "")) for name, count in rows}
    assert shown == expected
    assert shown["llama3.2:1b"] == 6


def test_every_range_page_loads_the_range_its_selector_shows(gateway, browser):
    """With no range in the URL, the selector's value is the range each page queries (the Costs
    page used to show "24 hours" while it loaded 7 days), so its figures equal the Models page's."""
    for page in ("models", "chat", "embeddings", "costs"):
        browser.get(f"{gateway}/dashboard/{page}")
        wait_loaded(browser)
        shown = browser.find_element(By.NAME, "since").get_attribute("value")
        queried = browser.execute_script("""
            const month = new Date(new Date().getFullYear(), new Date().getMonth(), 1).toISOString();
            return performance.getEntriesByType('resource').map(e => new URL(e.name))
              .filter(u => u.pathname.startsWith('/api/analytics/'))
              .map(u => u.searchParams.get('since')).filter(s => s !== month);""")
        assert queried and set(queried) == {shown}, (page, shown, queried)
    browser.get(f"{gateway}/dashboard/costs")
    wait_loaded(browser)
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(
        "return [...document.querySelectorAll('main section h2')].some(h => h.textContent === 'By model')"))
    rows = browser.execute_script("""
        const card = [...document.querySelectorAll('main section')].find(s => s.querySelector('h2')?.textContent === 'By model');
        return [...card.querySelector('table').tBodies[0].rows].map(r => [r.cells[0].textContent, r.cells[1].textContent]);""")
    since = browser.find_element(By.NAME, "since").get_attribute("value")
    api = {g["key"]: g["cost"] for g in get_json(f"{gateway}/api/analytics/breakdown?by=model&since={since}")["groups"] if g["key"]}
    assert {name for name, _ in rows} == set(api)
    # Each model's cost is the API's figure for the same range, as the page's own formatter writes it.
    expected = browser.execute_async_script("""
        const [costs, done] = arguments;
        import('/dashboard/assets/charts.js').then(m => done(Object.fromEntries(Object.entries(costs).map(([k, v]) => [k, m.formatValue(v, '$')]))));""",
        api)
    assert dict(rows) == expected
    assert api["gpt-4o-mini"] > 0 and api["llama3.2:1b"] == 0


def test_costs_page_says_how_much_of_the_cost_is_estimated(gateway, browser):
    """bare-model's engine reports no usage, so its tokens are counted by Sightglass and its cost
    is an estimate: the API and the Costs page say so, per model and in total; measured costs are
    not marked."""
    browser.get(f"{gateway}/dashboard/costs?since=24h")
    wait_loaded(browser)
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(
        "return [...document.querySelectorAll('main section h2')].some(h => h.textContent === 'By model')"))
    api = get_json(f"{gateway}/api/analytics/breakdown?by=model&since=24h")
    by = {g["key"]: g for g in api["groups"] if g["key"]}
    assert by["bare-model"]["cost"] > 0 and by["bare-model"]["estimated_cost"] == by["bare-model"]["cost"]
    assert by["gpt-4o-mini"]["cost"] > 0 and by["gpt-4o-mini"]["estimated_cost"] == 0
    assert abs(api["total"]["estimated_cost"] - by["bare-model"]["cost"]) < 1e-12
    shown = browser.execute_script("""
        const card = [...document.querySelectorAll('main section')].find(s => s.querySelector('h2')?.textContent === 'By model');
        const t = card.querySelector('table');
        const col = [...t.tHead.rows[0].cells].findIndex(c => c.textContent.startsWith('of which estimated'));
        return {total: document.querySelector('[data-estimated-cost]').textContent,
                rows: Object.fromEntries([...t.tBodies[0].rows].map(r => [r.cells[0].textContent, r.cells[col].textContent]))};""")
    expected = browser.execute_async_script("""
        const [total, rows, done] = arguments;
        Promise.all([import('/dashboard/assets/charts.js'), import('/dashboard/assets/ui.js')]).then(([c, u]) => done({
          total: c.formatValue(total, '$'), rows: Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, u.f.usd(v)]))}));""",
        api["total"]["estimated_cost"], {k: g["estimated_cost"] for k, g in by.items()})
    assert shown == expected


def test_a_new_request_appears_in_the_live_table_within_2_seconds(gateway, browser):
    browser.get(f"{gateway}/dashboard/requests")
    wait_loaded(browser)
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "conn").get_attribute("data-mode") == "live")
    rid = chat(gateway, "qwen2.5:0.5b", "live table check")
    started = time.time()
    WebDriverWait(browser, 2).until(lambda d: d.execute_script(f"return !!document.querySelector('[data-id=\"{rid}\"]')"))
    assert time.time() - started <= 2.0


def test_filters_live_in_the_url_and_the_detail_view_opens(gateway, browser):
    browser.get(f"{gateway}/dashboard/requests?model=gpt-4o-mini&since=1h")
    wait_loaded(browser)
    WebDriverWait(browser, 5).until(lambda d: d.execute_script("return document.querySelectorAll('.vtable .row:not(.head)').length") > 0)
    models = browser.execute_script("return [...document.querySelectorAll('.vtable .row:not(.head)')].map(r => r.children[3].textContent)")
    assert models and set(models) == {"gpt-4o-mini"}
    assert browser.find_element(By.NAME, "model").get_attribute("value") == "gpt-4o-mini"
    field = browser.find_element(By.NAME, "model")
    field.clear()
    field.send_keys("llama3.2:1b\n")
    WebDriverWait(browser, 5).until(lambda d: "model=llama3.2%3A1b" in d.current_url or "model=llama3.2:1b" in d.current_url)
    WebDriverWait(browser, 5).until(lambda d: set(d.execute_script(
        "return [...document.querySelectorAll('.vtable .row:not(.head)')].map(r => r.children[3].textContent)")) == {"llama3.2:1b"})
    browser.find_element(By.CSS_SELECTOR, ".vtable .row:not(.head)").click()
    WebDriverWait(browser, 5).until(lambda d: d.execute_script("const x = document.querySelector('dialog'); return x && x.open"))
    text = browser.find_element(By.CSS_SELECTOR, "dialog").text
    assert "Timing" in text and "total" in text
    shot(browser, "request-detail-desktop")


def test_theme_switch_is_remembered(gateway, browser):
    browser.get(f"{gateway}/dashboard/overview")
    wait_loaded(browser)
    before = browser.execute_script("return document.documentElement.dataset.theme")
    browser.find_element(By.ID, "theme").click()
    after = browser.execute_script("return document.documentElement.dataset.theme")
    assert {before, after} == {"light", "dark"}
    browser.refresh()
    wait_loaded(browser)
    assert browser.execute_script("return document.documentElement.dataset.theme") == after
    shot(browser, f"overview-desktop-{after}")


def test_chart_module_helpers(gateway, browser):
    browser.get(f"{gateway}/dashboard/overview")
    wait_loaded(browser)
    r = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        import('/dashboard/assets/charts.js').then(m => ({
          ticks: m.niceTicks(0, 97, 5), ticksSmall: m.niceTicks(0.2, 0.9, 4), flat: m.niceTicks(5, 5, 4),
          ms: m.formatValue(1500, 'ms'), pct: m.formatValue(12.345, '%'), bytes: m.formatValue(1536, 'B'), big: m.formatValue(25300, 'req'),
          usd: m.formatValue(0.0042, '$'), none: m.formatValue(null, 'ms'),
          path: m.linePath([[0, 1], [1, null], [2, 3], [3, 4]]),
          stacked: m.stack([{name: 'a', points: [[1, 2], [2, 3]]}, {name: 'b', points: [[1, 5], [2, null]]}]).map(s => s.points),
          scale: [m.scaleLinear(0, 10, 0, 100)(2.5), m.scaleLinear(0, 10, 100, 0)(10)],
        })).then(r => import('/dashboard/assets/pages-live.js').then(p => { r.histogram = p.latencyHistogram([3, 7, 7, 40000, null]); return r; }))
          .then(done, e => done({error: String(e)}));""")
    assert "error" not in r, r
    assert r["ticks"] == [0, 20, 40, 60, 80, 100]
    assert r["ticksSmall"][0] <= 0.2 and r["ticksSmall"][-1] >= 0.9
    assert len(r["flat"]) >= 2
    assert (r["ms"], r["pct"], r["bytes"], r["big"], r["usd"], r["none"]) == ("1.5 s", "12.3 %", "1.5 KB", "25.3k req", "$0.0042", "–")
    assert r["path"] == "M0.0,1.0M2.0,3.0L3.0,4.0"
    assert r["stacked"] == [[[1, 2, 0], [2, 3, 0]], [[1, 7, 2], [2, 3, 3]]]
    assert r["scale"] == [25, 0]
    counts = [c for _, c in r["histogram"]]
    assert counts[:2] == [1, 2] and counts[-1] == 1 and sum(counts) == 4
    assert r["histogram"][0][0] == "≤5 ms" and r["histogram"][-1][0] == ">30 s"


def test_first_load_weight_and_headers(gateway, browser):
    browser.get(f"{gateway}/dashboard/overview")
    wait_loaded(browser)
    m = browser.execute_script("""
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        const paint = performance.getEntriesByType('paint').find(p => p.name === 'first-contentful-paint');
        return {transfer: nav.transferSize + res.reduce((a, r) => a + (r.transferSize || 0), 0), resources: res.length,
                first_contentful_paint_ms: paint ? paint.startTime : null, external: res.filter(r => !r.name.startsWith(location.origin)).length};""")
    # What the live overview costs the browser: renderer task time over ten seconds of 1 Hz
    # updates (recorded for BENCHMARKS.md, not asserted: speed is measured, not tested).
    browser.execute_cdp_cmd("Performance.enable", {})
    def task_seconds():
        return next(x["value"] for x in browser.execute_cdp_cmd("Performance.getMetrics", {})["metrics"] if x["name"] == "TaskDuration")
    t0, c0 = time.time(), task_seconds()
    time.sleep(10)
    m["live_overview_core_percent"] = round((task_seconds() - c0) / (time.time() - t0) * 100, 2)
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ARTIFACTS, "web-first-load.json"), "w") as f:
        json.dump(m, f, indent=2)
    assert m["external"] == 0
    assert m["transfer"] <= 200 * 1024, m
    req = urllib.request.Request(gateway + "/dashboard/assets/app.js", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers["Content-Encoding"] == "gzip"
        etag = r.headers["ETag"]
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    req = urllib.request.Request(gateway + "/dashboard/assets/app.js", headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(req, timeout=10)
    assert not_modified.value.code == 304
    # A browser asking for a page path gets the app; an API client gets the seed-000 JSON.
    req = urllib.request.Request(gateway + "/dashboard/models", headers={"Accept": "text/html"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/html")
    assert "models" in get_json(gateway + "/dashboard/models")
