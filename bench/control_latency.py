"""Control latency of `replaysim serve`: from a control request (play,
pause, speed, seek) to (1) its HTTP answer, which carries the new state, and
(2) the first state document on the WebSocket stream that shows the change
(for a seek: that shows it has arrived).
Usage: control_latency.py REPLAYSIM GRAPH DRIVE [N]   (prints a Markdown table)"""
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

replaysim, graph, drive = sys.argv[1:4]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 100
p = subprocess.Popen([replaysim, "serve", graph, "--store", drive, "--port", "0"], stdout=subprocess.PIPE, text=True)
port = int(p.stdout.readline().split("http://")[1].split("/")[0].rsplit(":", 1)[1])


def post(path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/{path}", method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


s = socket.create_connection(("127.0.0.1", port))
s.sendall((f"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
           f"{base64.b64encode(os.urandom(16)).decode()}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: rsim\r\n\r\n").encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(1)


def exact(k):
    b = b""
    while len(b) < k:
        b += s.recv(k - len(b))
    return b


def message():
    """The next state document; binary messages (camera frames) are skipped."""
    while True:
        h = exact(2)
        k = h[1] & 0x7F
        k = int.from_bytes(exact(2), "big") if k == 126 else int.from_bytes(exact(8), "big") if k == 127 else k
        data = exact(k)
        if h[0] & 0x0F == 1:
            return json.loads(data)


answer, stream = {}, {}
state = message()
span = state["to"] - state["from"]
for i in range(n):
    x = 2 if i % 2 else 1
    for name, path in [("play", "play"), ("pause", "pause"), ("speed", f"speed?x={x}"),
                       ("seek", f"seek?t={state['from'] + (i * 7919 % 97) * span // 100}")]:
        t0 = time.perf_counter()
        got = post(path)
        answer.setdefault(name, []).append((time.perf_counter() - t0) * 1e3)
        # Visible on the stream: the first document that carries this control's
        # event; for a seek that answered on its way (seeking), the first one
        # where it has arrived.
        want = got["events"][-1]["id"]
        doc = message()
        while max((e["id"] for e in doc.get("events", [])), default=-1) < want:
            doc = message()
        while got.get("seeking") and doc["seeking"]:
            doc = message()
        stream.setdefault(name, []).append((time.perf_counter() - t0) * 1e3)
p.terminate()


def q(v, f):
    v = sorted(v)
    return v[min(len(v) - 1, int(f * len(v)))]


print(f"| control ({n} each) | answer p50 | answer p95 | on the stream p50 | on the stream p95 |")
print("|---|---|---|---|---|")
for name in answer:
    a, st = answer[name], stream[name]
    print(f"| {name} | {q(a, .5):.1f} ms | {q(a, .95):.1f} ms | {q(st, .5):.1f} ms | {q(st, .95):.1f} ms |")
