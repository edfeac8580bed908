#!/usr/bin/env python3
"""Live updates under load (issue 16: 500 open subscribers, an event reaches all within
100 ms p95). Opens N server-sent-event subscriptions to the programme board
(`GET /live?topic=programme.board`, signed in), then moves a card on the board ROUNDS times
(`POST /programm/massnahmen/{id}/verschieben`, as the board's script does) and measures, per
subscriber and move, the time from sending the move to the subscriber reading its `change`
event. Standard library only (asyncio streams).

Usage: live.py BASE_URL COOKIE CSRF [--subscribers 500] [--rounds 20]
"""
import argparse
import asyncio
import re
import statistics
import time
import urllib.parse


async def request(host, port, raw):
    r, w = await asyncio.open_connection(host, port)
    w.write(raw)
    await w.drain()
    return r, w


def get(path, host, cookie, extra=""):
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n{extra}"
            "Connection: close\r\n\r\n").encode()


async def fetch(host, port, hosthdr, cookie, path):
    r, w = await request(host, port, get(path, hosthdr, cookie))
    body = await r.read()
    w.close()
    return body.decode("utf-8", "replace")


async def subscriber(host, port, hosthdr, cookie, ready, arrivals, idx):
    r, w = await request(host, port, get("/live?topic=programme.board", hosthdr, cookie,
                                         "Accept: text/event-stream\r\n"))
    status = await r.readline()
    if b" 200 " not in status:
        raise SystemExit(f"subscriber {idx}: {status!r}")
    while (await r.readline()) not in (b"\r\n", b""):
        pass
    ready.set_result(True) if not ready.done() else None
    while True:
        line = await r.readline()
        if not line:
            return
        if line.startswith(b"event: change"):
            arrivals.append((idx, time.perf_counter()))


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("cookie")
    ap.add_argument("csrf")
    ap.add_argument("--subscribers", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=20)
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.base)
    host, port, hosthdr = u.hostname, u.port, u.netloc

    board = await fetch(host, port, hosthdr, a.cookie, "/programm")
    phases = re.findall(r'data-phase="([^"]+)"', board)
    card = re.search(r'data-id="(\d+)"', board)
    if len(phases) < 2 or not card:
        raise SystemExit("no board with two phases and a card")
    card = card.group(1)

    arrivals = []
    readies = [asyncio.get_running_loop().create_future() for _ in range(a.subscribers)]
    tasks = [asyncio.create_task(subscriber(host, port, hosthdr, a.cookie, readies[i], arrivals, i))
             for i in range(a.subscribers)]
    await asyncio.gather(*readies)
    await asyncio.sleep(0.5)

    latencies, missing = [], 0
    for n in range(a.rounds):
        arrivals.clear()
        body = urllib.parse.urlencode({"_csrf": a.csrf, "phase": phases[(n + 1) % 2]}).encode()
        raw = (f"POST /programm/massnahmen/{card}/verschieben HTTP/1.1\r\nHost: {hosthdr}\r\n"
               f"Cookie: {a.cookie}\r\nAccept: application/json\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
        t0 = time.perf_counter()
        r, w = await request(host, port, raw)
        status = await r.readline()
        await r.read()
        w.close()
        if b" 200 " not in status:
            raise SystemExit(f"move {n}: {status!r}")
        deadline = t0 + 2.0
        while len(arrivals) < a.subscribers and time.perf_counter() < deadline:
            await asyncio.sleep(0.002)
        got = {}
        for i, t in arrivals:
            got.setdefault(i, t)
        missing += a.subscribers - len(got)
        latencies += [(t - t0) * 1000 for t in got.values()]
        await asyncio.sleep(0.2)
    for t in tasks:
        t.cancel()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    print(f"subscribers {a.subscribers}, moves {a.rounds}, deliveries {len(latencies)}, "
          f"missing {missing}")
    print(f"latency ms (move sent → event read): p50 {q[49]:.1f}, p95 {q[94]:.1f}, "
          f"p99 {q[98]:.1f}, max {latencies[-1]:.1f}")


asyncio.run(main())
