"""`replaysim serve` against bad clients, one case each: malformed HTTP,
oversized bodies (declared and actual), bad JSON, a wrong token, and
clients that disconnect in the middle of a request, a body or a WebSocket
frame.  After every case the server must still be up, answer the state
API, and keep streaming to a well-behaved WebSocket client.

Usage: abuse_test.py REPLAYSIM GRAPH DRIVE"""
import os
import socket
import sys

import serverlib
from serverlib import call, ws_connect, ws_text

replaysim, graph, drive = sys.argv[1:4]


def start(*extra):
    return serverlib.start(replaysim, graph, drive, *extra)


def raw(port, data, shut=True):
    """Sends bytes as they are; returns what came back before the server
    closed or answered (b"" when it closed without a word)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        # It stopped listening before the end (a broken pipe, a reset, or
        # ENOTCONN when it had already closed before our shutdown): an
        # answer too, and whatever it said is still in the buffer.
        pass
    got = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
            if b"\r\n\r\n" in got and not shut:
                break
    except OSError:  # a reset or a timeout ends the reply
        pass
    s.close()
    return got


def status_of(reply):
    line = reply.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) > 1 and line[0].startswith(b"HTTP/") else None


def masked_frame(opcode, payload, claim=None):
    """A client frame (masked, as RFC 6455 requires); claim overrides the length sent in the header."""
    n = len(payload) if claim is None else claim
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


p, port, _ = start()
cases = 0


def still_serving(case):
    """Up, answering, and streaming to a new client now."""
    global cases
    assert p.poll() is None, f"{case}: the server died: " + p.stdout.read()
    code, st = call(port, "state")
    assert code == 200 and st["type"] == "state", (case, code, st)
    w = ws_connect(port)
    assert ws_text(w)["type"] == "state", case
    w.close()
    cases += 1


try:
    # Malformed HTTP: garbage, a bad request line, a header without a colon,
    # a huge header, a bad version.  An error status or a closed connection.
    for case, data in [("garbage", b"\x00\x01\x02 this is not http\r\n\r\n"),
                       ("bad request line", b"GET\r\n\r\n"),
                       ("header without colon", b"GET /api/state HTTP/1.1\r\nHost x\r\nnocolon\r\n\r\n"),
                       ("huge header", b"GET /api/state HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n"),
                       ("bad version", b"GET /api/state HTTP/9.9\r\nHost: x\r\n\r\n"),
                       ("bad method", b"BREW /api/state HTTP/1.1\r\nHost: x\r\n\r\n")]:
        reply = raw(port, data)
        code = status_of(reply)
        assert code is None or code >= 400 or case == "bad version", (case, reply[:200])
        still_serving(case)

    # Oversized bodies: declared too large -> 413 with a message; a body
    # larger than it said -> the rest is cut at the limit, never overflows.
    code, err = call(port, "seek", "POST", b"{" + b" " * 10000 + b"}", {"Content-Type": "application/json"})
    assert code == 413 and "too large" in err["error"], (code, err)
    still_serving("declared oversized body")
    reply = raw(port, b"POST /api/seek HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000000\r\n\r\n{}")
    assert status_of(reply) in (None, 400, 413), reply[:200]
    still_serving("absurd content length")
    reply = raw(port, b"POST /api/seek HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n" + b"{\"t\": 1" + b"9" * 9000 + b"}")
    assert status_of(reply) in (None, 200, 400), reply[:200]
    still_serving("body longer than declared")
    reply = raw(port, b"POST /api/seek HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
    assert status_of(reply) in (None, 400, 411, 413), reply[:200]
    still_serving("negative content length")

    # Bad JSON: 400 with a message, whatever the shape.
    for body in [b"{not json", b"[1, 2, 3]", b"\"t\"", b"{\"t\": [1]}", b"{\"t\": {\"x\": 1}}", b"\xff\xfe\x00",
                 b"{\"t\": 1e999}", b"{\"x\": null}"]:
        code, err = call(port, "seek", "POST", body, {"Content-Type": "application/json"})
        assert code == 400 and err.get("error"), (body, code, err)
        code, err = call(port, "speed", "POST", body, {"Content-Type": "application/json"})
        assert code == 400 and err.get("error"), (body, code, err)
    still_serving("bad JSON")

    # Disconnects mid-request, mid-body and mid-frame.
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"GET /api/sta")
    s.close()
    still_serving("gone mid request line")
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"POST /api/seek HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"t\":")
    s.close()
    still_serving("gone mid body")
    for case, frame in [("gone mid frame header", masked_frame(1, b"hello")[:3]),
                        ("gone mid payload", masked_frame(1, b"x" * 40, claim=1000)),
                        ("gone mid large frame", masked_frame(2, b"y" * 70000, claim=10 << 20)),
                        ("unmasked frame", bytes([0x81, 5]) + b"hello"),
                        ("bad opcode", masked_frame(0x3, b"zz"))]:
        s = ws_connect(port)
        s.sendall(frame)
        s.close()
        still_serving(case)
    # A client whose frames are fine but who never reads is a slow client:
    # tests/server/load_test.py.
    print(f"abuse ok ({cases} cases)")
finally:
    p.terminate()
    p.wait(timeout=30)

# A wrong token is refused with a message, as a missing one is; the right one works.
p, port, token = start("--bind", "0.0.0.0")
try:
    for headers, query in [({"Authorization": "Bearer wrong"}, ""), ({"Authorization": "Bearer " + token + "x"}, ""),
                           ({"Authorization": "Basic " + token}, ""), ({}, "?token=wrong"),
                           ({"Authorization": "Bearer " + token[:-1]}, "")]:
        code, err = call(port, "play" + query, "POST", b"", headers)
        assert code == 401 and "token" in err["error"], (headers, query, code, err)
    code, st = call(port, "play", "POST", b"", {"Authorization": "Bearer " + token})
    assert code == 200 and st["mode"] == "playing", (code, st)
    print("wrong token ok")
finally:
    p.terminate()
    p.wait(timeout=30)
