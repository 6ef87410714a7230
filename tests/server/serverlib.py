"""What the tests of `replaysim serve` share (imported by the *_test.py
beside it): starting the server, one HTTP call to its API, and the plain
WebSocket client they read its stream with (no library: the tests must see
frames as they come)."""
import base64
import json
import os
import socket
import subprocess
import urllib.error
import urllib.request


def start(replaysim, graph, drive, *extra):
    """`replaysim serve` on a free port: (process, port, control token or
    None).  The token is printed only when it is needed (--bind elsewhere),
    as "control token: T (the web UI: http://HOST:PORT/#token=T)"."""
    p = subprocess.Popen([replaysim, "serve", graph, "--store", drive, "--port", "0", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = p.stdout.readline()
    assert "serving" in first, first + p.stdout.read()
    port = int(first.split("http://")[1].split("/")[0].rsplit(":", 1)[1])
    token = None
    if "--bind" in extra:
        line = p.stdout.readline()
        assert line.startswith("control token: ") and "/#token=" in line, line
        token = line.split()[2]
    return p, port, token


def call(port, path, method="GET", body=None, headers=None, token=None, host="127.0.0.1", timeout=60):
    """(status, JSON answer) of /api/PATH.  body: bytes as they are, or a
    value sent as JSON; a POST without one sends an empty body."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    if data is None and method == "POST":
        data = b""
    req = urllib.request.Request(f"http://{host}:{port}/api/{path}", method=method, data=data)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def ws_connect(port, rcvbuf=None, timeout=30):
    """A WebSocket to the stream, handshake done.  rcvbuf: a small receive
    window set before connecting (a client that reads slowly)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: rsim\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, "closed during the handshake"
        head += chunk
    assert b" 101 " in head.split(b"\r\n")[0], head
    return s


def ws_frame(s):
    """The next frame: (opcode, payload)."""
    def exact(n):
        b = b""
        while len(b) < n:
            chunk = s.recv(n - len(b))
            assert chunk, "stream closed"
            b += chunk
        return b
    h = exact(2)
    n = h[1] & 0x7F
    if n == 126:
        n = int.from_bytes(exact(2), "big")
    elif n == 127:
        n = int.from_bytes(exact(8), "big")
    return h[0] & 0x0F, exact(n)


def ws_text(s, binary=None):
    """The next text message (JSON); binary ones (camera frames) are skipped,
    or kept in the list binary when one is given."""
    while True:
        opcode, data = ws_frame(s)
        if opcode == 1:
            return json.loads(data)
        if binary is not None:
            binary.append(data)
