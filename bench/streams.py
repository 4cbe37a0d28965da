#!/usr/bin/env python3
"""Concurrent slow streams, every chunk checked.

Opens K streaming chat completions at once against a target and compares each stream, chunk by
chunk, with a reference fetched from the upstream directly for the same request body (the
simulator is deterministic per body): the sequence of content deltas and finish reasons must be
identical, and the stream must end with [DONE]. Prints one JSON object: completed, dropped
(connection failed or cut), corrupted (a chunk missing, extra, changed or out of order), peak
concurrency, and time to first token percentiles.

Standard library only (asyncio protocols, a small HTTP/1.1 + chunked + SSE parser), so it runs
anywhere Python does and costs little per chunk.
"""
import argparse
import asyncio
import json
import time

PROMPTS = 16  # distinct request bodies; stream i uses body i % PROMPTS


def body(i, model, max_tokens):
    return json.dumps({
        "model": model, "stream": True, "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": f"benchmark stream prompt {i % PROMPTS}"}],
    }).encode()


class Stream(asyncio.Protocol):
    """One request on its own connection; collects (content, finish_reason) per SSE event."""

    def __init__(self, request, done):
        self.request = request
        self.done = done
        self.buf = b""
        self.head = None
        self.chunked = False
        self.body = b""
        self.events = []
        self.finished = False
        self.status = 0
        self.t0 = 0.0
        self.ttft = None
        self.prefix = b""  # the first bytes received, to show in a failure report

    def connection_made(self, transport):
        self.transport = transport
        self.t0 = time.perf_counter()
        transport.write(self.request)

    def data_received(self, data):
        if len(self.prefix) < 300:
            self.prefix += data[:300 - len(self.prefix)]
        self.buf += data
        if self.head is None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            self.head = self.buf[:end].decode("latin-1")
            self.buf = self.buf[end + 4:]
            self.status = int(self.head.split(" ", 2)[1])
            self.chunked = "transfer-encoding: chunked" in self.head.lower()
        if self.chunked:
            while True:
                line_end = self.buf.find(b"\r\n")
                if line_end < 0:
                    break
                size = int(self.buf[:line_end].split(b";")[0], 16)
                if len(self.buf) < line_end + 2 + size + 2:
                    break
                self.body += self.buf[line_end + 2:line_end + 2 + size]
                self.buf = self.buf[line_end + 2 + size + 2:]
                if size == 0:
                    self.finish()
                    break
        else:
            self.body += self.buf
            self.buf = b""
        self.parse_events()

    def normalized(self):
        """The stream as a client reads it: the non-empty content pieces in order, the finish
        reason, and [DONE]. A proxy may split or merge chunks, or add empty ones (a role-only
        first chunk), without changing what arrives; anything else is corruption."""
        out = [c for c, _ in (e for e in self.events if e != "[DONE]") if c]
        finish = [f for _, f in (e for e in self.events if e != "[DONE]") if f]
        return out, finish[-1:] , self.events[-1:] == ["[DONE]"]

    def parse_events(self):
        while True:
            end = self.body.find(b"\n\n")
            if end < 0:
                return
            event, self.body = self.body[:end], self.body[end + 2:]
            if not event.startswith(b"data: "):
                continue
            data = event[6:]
            if data == b"[DONE]":
                self.events.append("[DONE]")
                continue
            obj = json.loads(data)
            choices = obj.get("choices") or []
            if not choices:
                continue  # a usage chunk: present or not depending on the request, not content
            content = choices[0].get("delta", {}).get("content")
            if content and self.ttft is None:
                self.ttft = time.perf_counter() - self.t0
            self.events.append((content, choices[0].get("finish_reason")))

    def finish(self):
        if not self.finished:
            self.finished = True
            self.transport.close()

    def connection_lost(self, exc):
        self.parse_events()
        if not self.done.done():
            self.done.set_result(self)


async def run_one(loop, host, port, payload, sem, state):
    request = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
               "Connection: close\r\n\r\n").encode() + payload
    done = loop.create_future()
    async with sem:  # bounds simultaneous connect() calls, not concurrent streams
        try:
            await loop.create_connection(lambda: Stream(request, done), host, port)
        except OSError as e:
            return e
    state["active"] += 1
    state["peak"] = max(state["peak"], state["active"])
    try:
        return await asyncio.wait_for(done, timeout=state["timeout"])
    except asyncio.TimeoutError as e:
        return e
    finally:
        state["active"] -= 1


async def fetch_all(host, port, payloads, timeout):
    loop = asyncio.get_running_loop()
    state = {"active": 0, "peak": 0, "timeout": timeout}
    sem = asyncio.Semaphore(256)
    t0 = time.perf_counter()
    results = await asyncio.gather(*[run_one(loop, host, port, p, sem, state) for p in payloads])
    return results, state["peak"], time.perf_counter() - t0


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True, help="host:port to load")
    ap.add_argument("--reference", required=True, help="host:port of the upstream, for the expected chunks")
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--model", default="llama3.2:1b")
    ap.add_argument("--max-tokens", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    rhost, rport = args.reference.rsplit(":", 1)
    thost, tport = args.target.rsplit(":", 1)

    refs, _, _ = await fetch_all(rhost, int(rport), [body(i, args.model, args.max_tokens) for i in range(PROMPTS)], args.timeout)
    expected = []
    for r in refs:
        if not isinstance(r, Stream) or r.status != 200 or not r.events or r.events[-1] != "[DONE]":
            raise SystemExit(f"reference stream failed: {r!r}")
        expected.append(r.normalized())

    payloads = [body(i, args.model, args.max_tokens) for i in range(args.streams)]
    results, peak, elapsed = await fetch_all(thost, int(tport), payloads, args.timeout)
    completed = dropped = corrupted = 0
    example = None
    ttfts = []
    for i, r in enumerate(results):
        if not isinstance(r, Stream) or r.status == 0:
            dropped += 1
            example = example or repr(r)
            continue
        got, want = r.normalized(), expected[i % PROMPTS]
        if got == want:
            completed += 1
            if r.ttft is not None:
                ttfts.append(r.ttft * 1000)
        elif r.status == 200 and got[0] == want[0][:len(got[0])] and not got[2]:
            dropped += 1  # a clean prefix: the stream was cut, nothing was changed
            example = example or f"stream {i} cut after {len(r.events)} events"
        else:
            corrupted += 1
            example = example or f"stream {i}: status {r.status}, {len(r.events)} events differ from the reference; began {r.prefix[:300]!r}"
    chunks = sum(len(e[0]) for e in expected) * args.streams // PROMPTS
    print(json.dumps({
        "streams": args.streams, "completed": completed, "dropped": dropped, "corrupted": corrupted,
        "peak_concurrent": peak, "chunks_expected": chunks, "elapsed_s": round(elapsed, 2),
        "ttft_p50_ms": percentile(ttfts, 0.5), "ttft_p99_ms": percentile(ttfts, 0.99), "example_failure": example,
    }))


if __name__ == "__main__":
    asyncio.run(main())
