"""The WebSocket lab's contract checked by a client this project did not write
(Python's `websockets`), then two timings: echo round trips, and how long a chat message
takes to be pushed to another member. Usage: ws-python-check.py WS_URL [REQUESTS]"""
import asyncio
import json
import statistics
import sys
import time

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

URL = sys.argv[1]
REQUESTS = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
checks = []


def check(name, ok, detail=""):
    checks.append((name, ok, detail))


async def contract():
    async with websockets.connect(URL + "/ws/echo", max_size=None) as ws:
        await ws.send('{"message": "straße", "id": 7}')
        check("echo with id", await ws.recv() == '{"status":"ok","message":"STRASSE","id":7}')
        await ws.send("not json")
        reply = json.loads(await ws.recv())
        check("invalid JSON: error reply", reply["status"] == "error", reply.get("error", ""))
        await ws.send(b"\x01\x02")
        reply = json.loads(await ws.recv())
        check("binary: error reply, still open", reply["status"] == "error")
        await ws.send('{"message": "after"}')
        check("still open after errors", await ws.recv() == '{"status":"ok","message":"AFTER"}')
        await ws.send(json.dumps({"message": "x" * 70000}))
        try:
            await ws.recv()
            check("over 64 KiB: close 1009", False, "got a reply")
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            check("over 64 KiB: close 1009", code == 1009, f"code {code}")
    try:
        async with websockets.connect(URL + "/ws/chat"):
            check("chat without a name: 400", False, "upgraded")
    except InvalidStatus as refused:
        check("chat without a name: 400", refused.response.status_code == 400)
    async with websockets.connect(URL + "/ws/chat?name=ann") as ann, \
            websockets.connect(URL + "/ws/chat?name=bob") as bob:
        joined = json.loads(await ann.recv())
        check("join announced to the others", joined["kind"] == "join" and joined["sender"] == "bob")
        async with websockets.connect(URL + "/ws/chat?name=cat") as cat:
            for member in (ann, bob):
                await member.recv()  # cat joined
            await ann.send("hello all")
            got = [json.loads(await m.recv()) for m in (ann, bob, cat)]
            check("message pushed to every member, sender included",
                  all(g["kind"] == "message" and g["sender"] == "ann" and g["text"] == "hello all" for g in got))
        left = [json.loads(await m.recv()) for m in (ann, bob)]
        check("leave announced", all(l["kind"] == "leave" and l["sender"] == "cat" for l in left))


async def timings():
    async with websockets.connect(URL + "/ws/echo") as ws:
        samples = []
        for i in range(REQUESTS + 200):
            start = time.perf_counter()
            await ws.send('{"message":"Hello Socket Server"}')
            await ws.recv()
            if i >= 200:
                samples.append((time.perf_counter() - start) * 1e6)
    echo = statistics.median(samples)
    async with websockets.connect(URL + "/ws/chat?name=sender") as sender, \
            websockets.connect(URL + "/ws/chat?name=listener") as listener:
        await sender.recv()  # listener joined
        samples = []
        for i in range(REQUESTS // 2):
            start = time.perf_counter()
            await sender.send(f"m{i}")
            while json.loads(await listener.recv()).get("text") != f"m{i}":
                pass
            samples.append((time.perf_counter() - start) * 1e6)
            await sender.recv()  # its own copy
    return echo, statistics.median(samples)


async def main():
    await contract()
    echo, push = await timings()
    failed = [c for c in checks if not c[1]]
    for name, ok, detail in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name} {detail}")
    print(f"| Python websockets, same server | echo round trip p50 | chat push to another member p50 |")
    print(f"|---|---|---|")
    print(f"| {REQUESTS} requests | {echo:.1f} us | {push:.1f} us |")
    sys.exit(1 if failed else 0)


asyncio.run(main())
