"""The live feed with a real third-party WebSocket client (`websockets`), and the host probe
checked against /proc and statvfs read independently here."""
import asyncio
import concurrent.futures
import json
import os
import socket
import base64
import time
import urllib.error
import urllib.request

import pytest
import websockets
import websockets.exceptions

from conftest import BIN, free_port, get_json, wait_until

CHAT = {"model": "llama3.2:1b", "messages": [{"role": "user", "content": "hello"}]}


def chat(base):
    req = urllib.request.Request(base + "/v1/chat/completions", data=json.dumps(CHAT).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers["X-Request-Id"]


async def recv_until(ws, pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "no matching message in time"
        msg = json.loads(await asyncio.wait_for(ws.recv(), left))
        if pred(msg):
            return msg


def test_subscribe_receive_unsubscribe(stack):
    ws_url = stack["base"].replace("http", "ws") + "/dashboard/ws"

    async def run():
        async with websockets.connect(ws_url) as ws:
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello" and "requests" in hello["topics"]
            await ws.send(json.dumps({"action": "subscribe", "topics": ["requests", "stats"]}))
            ack = await recv_until(ws, lambda m: m.get("type") == "subscribed")
            assert ack["topics"] == ["requests", "stats"]
            stats = await recv_until(ws, lambda m: m.get("topic") == "stats")
            assert "inference" in stats["data"] and "system" in stats["data"]
            started = time.monotonic()
            rid = await asyncio.to_thread(chat, stack["base"])
            event = await recv_until(ws, lambda m: m.get("topic") == "requests" and m["data"]["id"] == rid)
            assert time.monotonic() - started < 2.0
            assert event["data"]["status"] == 200 and event["data"]["model"] == "llama3.2:1b"
            assert event["data"]["tokens"]["output"] > 0
            await ws.send(json.dumps({"action": "unsubscribe", "topics": ["requests"]}))
            await recv_until(ws, lambda m: m.get("type") == "unsubscribed")
            await asyncio.to_thread(chat, stack["base"])
            # Stats keep coming; request events do not.
            for _ in range(2):
                m = await recv_until(ws, lambda m: m.get("topic") in ("stats", "requests"))
                assert m["topic"] == "stats"
            await ws.send(json.dumps({"action": "subscribe", "topics": ["nonsense"]}))
            err = await recv_until(ws, lambda m: m.get("type") == "error")
            assert err["error"]["code"] == "INVALID_TOPIC" and err["error"]["details"]["topics"] == ["nonsense"]
            await ws.send("not json")
            err = await recv_until(ws, lambda m: m.get("type") == "error")
            assert err["error"]["code"] == "INVALID_MESSAGE"

    asyncio.run(run())
    # Disconnect cleans up: no live connection remains.
    assert wait_until(lambda: connected(stack["base"]) == 0)


def test_metrics_stream_pushes_seed_003_json_every_second(stack):
    async def run():
        async with websockets.connect(stack["base"].replace("http", "ws") + "/metrics/stream") as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            second = json.loads(await asyncio.wait_for(ws.recv(), 3))
            for key in ("timestamp", "requests", "responses", "tokens", "errors"):
                assert key in first
            assert second["timestamp"] != first["timestamp"]

    asyncio.run(run())


def ws_frame(text):
    """A masked client text frame, by hand: the slow client below must not be a library that reads."""
    payload = text.encode()
    mask = os.urandom(4)
    head = bytes([0x81, 0x80 | len(payload)]) + mask
    return head + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def connected(base):
    return get_json(base + "/api/status")["connected_clients"]


def test_a_slow_client_does_not_delay_a_fast_one(procs, tmp_path):
    sim_port, gw_port = free_port(), free_port()
    config = tmp_path / "sightglass.yaml"
    config.write_text("dashboard:\n  live:\n    queue_limit: 64\n")
    procs.start([BIN, "simulate", "--port", str(sim_port), "--ttft-ms", "1", "--tokens-per-second", "5000"], sim_port, "simulate")
    procs.start([BIN, "serve", "--config", str(config), "--port", str(gw_port), "--backend", f"sim=http://127.0.0.1:{sim_port}"],
                gw_port, "serve")
    base = f"http://127.0.0.1:{gw_port}"
    # A client that subscribes to everything and then never reads, with a tiny receive buffer.
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    slow.connect(("127.0.0.1", gw_port))
    key = base64.b64encode(os.urandom(16)).decode()
    slow.sendall(f"GET /dashboard/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    assert b"101" in slow.recv(12)
    slow.sendall(ws_frame(json.dumps({"action": "subscribe", "topics": ["requests", "logs", "stats", "metrics"]})))
    assert wait_until(lambda: connected(base) == 1)

    async def fast():
        async with websockets.connect(base.replace("http", "ws") + "/dashboard/ws") as ws:
            await ws.send(json.dumps({"action": "subscribe", "topics": ["requests"]}))
            await recv_until(ws, lambda m: m.get("type") == "subscribed")
            lags = []
            for _ in range(30):
                # A burst in the background fills the slow client's queue...
                burst = [asyncio.to_thread(chat, base) for _ in range(20)]
                started = time.monotonic()
                rid = await asyncio.to_thread(chat, base)
                # ...while the fast client still sees its own request at once.
                await recv_until(ws, lambda m: m.get("topic") == "requests" and m["data"]["id"] == rid)
                lags.append(time.monotonic() - started)
                await asyncio.gather(*burst)
            return lags

    lags = asyncio.run(fast())
    assert max(lags) < 2.0, lags
    # Kernel socket buffers absorb a few hundred kilobytes before the slow client's own queue
    # fills; keep the traffic coming (bounded) until it is cut off.
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for _ in range(20):
            if connected(base) == 0:
                break
            list(pool.map(lambda _: chat(base), range(200)))
    assert wait_until(lambda: connected(base) == 0, timeout=10)
    slow.close()


def proc_meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            out[k] = int(v.split()[0]) * 1024
    return out


@pytest.mark.skipif(not os.path.exists("/proc/meminfo"), reason="Linux /proc only")
def test_resources_match_proc_and_statvfs(stack):
    # Per-core figures need two samples, a second apart (polled gently: the dashboard API is rate limited).
    for _ in range(6):
        time.sleep(1)
        res = get_json(stack["base"] + "/dashboard/resources")
        if res["cpu"]["per_core_usage"]:
            break
    assert res["cpu"]["per_core_usage"], "per-core figures after two samples"
    mem = proc_meminfo()
    assert res["memory"]["total_bytes"] == mem["MemTotal"]
    assert abs(res["memory"]["available_bytes"] - mem["MemAvailable"]) < 0.05 * mem["MemTotal"]
    assert res["cpu"]["cores"] == os.cpu_count()
    assert len(res["cpu"]["per_core_usage"]) == os.cpu_count()
    assert all(0 <= v <= 100 for v in res["cpu"]["per_core_usage"])
    with open("/proc/loadavg") as f:
        load = [float(x) for x in f.read().split()[:3]]
    assert all(abs(a - b) < 2.0 for a, b in zip(res["cpu"]["load_average"], load))
    root = next(fs for fs in res["disk"]["filesystems"] if fs["mount"] == "/")
    st = os.statvfs("/")
    assert root["total_bytes"] == st.f_blocks * st.f_frsize
    assert abs(root["available_bytes"] - st.f_bavail * st.f_frsize) < 1 << 30
    with open("/proc/net/dev") as f:
        names = {line.split(":")[0].strip() for line in f.readlines()[2:]}
    assert {i["name"] for i in res["network"]["interfaces"]} == names
    stats = get_json(stack["base"] + "/dashboard/stats")
    assert stats["gpu"] == {"available": False} or stats["gpu"]["available"] is True
    assert abs(stats["system"]["memory_total_gb"] - mem["MemTotal"] / 2**30) < 0.01


def start_gateway(procs, tmp_path, yaml_text, sim_args=()):
    sim_port, gw_port = free_port(), free_port()
    config = tmp_path / "sightglass.yaml"
    config.write_text(yaml_text)
    procs.start([BIN, "simulate", "--port", str(sim_port), "--ttft-ms", "1", "--tokens-per-second", "5000", *sim_args], sim_port, "simulate")
    procs.start([BIN, "serve", "--config", str(config), "--port", str(gw_port), "--backend", f"sim=http://127.0.0.1:{sim_port}"],
                gw_port, "serve")
    return f"http://127.0.0.1:{gw_port}", sim_port


def test_live_feed_auth_and_one_connection_per_user(procs, tmp_path):
    base, _ = start_gateway(procs, tmp_path, """dashboard:
  auth:
    mode: api_key
    api_keys:
      - id: alice
        key: alice-key
""")
    ws = base.replace("http", "ws") + "/dashboard/ws"

    async def refused(url, **kw):
        # Browsers never see a handshake's status, so refusals come as an error message and a close code.
        async with websockets.connect(url, **kw) as ws:
            err = json.loads(await ws.recv())
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await ws.recv()
            return err["error"], closed.value.rcvd.code

    async def run():
        err, code = await refused(ws)
        assert (err["code"], err["status"], code) == ("UNAUTHORIZED", 401, 4401)
        err, code = await refused(ws + "?access_token=wrong")
        assert (err["details"]["reason"], code) == ("invalid", 4401)
        async with websockets.connect(ws + "?access_token=alice-key") as first:
            assert json.loads(await first.recv())["type"] == "hello"
            err, code = await refused(ws, additional_headers={"Authorization": "Bearer alice-key"})
            assert (err["code"], code) == ("TOO_MANY_CONNECTIONS", 4429)
        # Once the first closes, alice may connect again.
        await asyncio.sleep(0.3)
        async with websockets.connect(ws, additional_headers={"Authorization": "Bearer alice-key"}) as again:
            assert json.loads(await again.recv())["type"] == "hello"

    asyncio.run(run())


def test_alert_fires_to_feed_and_webhook_and_is_acknowledged(procs, tmp_path):
    import http.server
    import threading

    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        # A backend that answers every request with a 500: the error-rate rule must fire.
        base, _ = start_gateway(procs, tmp_path, f"""dashboard:
  alerts:
    interval_seconds: 0.2
    rules:
      - name: high_error_rate
        window_seconds: 60
      - name: backend_down
        enabled: false
    webhook:
      url: http://127.0.0.1:{hook.server_address[1]}/hook
""", sim_args=("--error-rate", "1"))

        async def run():
            async with websockets.connect(base.replace("http", "ws") + "/dashboard/ws") as ws:
                await ws.send(json.dumps({"action": "subscribe", "topics": ["alerts"]}))
                await recv_until(ws, lambda m: m.get("type") == "subscribed")
                req = urllib.request.Request(base + "/v1/chat/completions", data=json.dumps(CHAT).encode(),
                                             headers={"Content-Type": "application/json"})
                with pytest.raises(urllib.error.HTTPError) as failed:
                    urllib.request.urlopen(req, timeout=10)
                assert failed.value.code == 500
                fired = await recv_until(ws, lambda m: m.get("topic") == "alerts" and m.get("event") == "fired"
                                         and m["data"]["details"]["rule"] == "high_error_rate")
                return fired["data"]

        alert = asyncio.run(run())
        assert alert["details"]["value"] == 1.0 and alert["details"]["threshold"] == 0.05
        assert alert["level"] == "warning" and alert["acknowledged"] is False
        assert wait_until(lambda: any(r["event"] == "fired" and r["alert"]["id"] == alert["id"] for r in received), timeout=5)
        active = get_json(base + "/dashboard/alerts")["active_alerts"]
        assert [a["id"] for a in active if a["details"]["rule"] == "high_error_rate"] == [alert["id"]]
        ack = urllib.request.Request(base + f"/dashboard/alerts/{alert['id']}/acknowledge", method="POST")
        with urllib.request.urlopen(ack, timeout=10) as r:
            assert json.loads(r.read())["alert"]["acknowledged"] is True
        audit = get_json(base + "/dashboard/audit?action=alert_acknowledge")
        assert audit["entries"][0]["resource"] == alert["id"]
        health = get_json(base + "/dashboard/health")
        assert any(a["id"] == alert["id"] for a in health["alerts"])
    finally:
        hook.shutdown()
