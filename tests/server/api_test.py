"""Drives `replaysim serve` over real HTTP and a real WebSocket (a minimal
client over the socket module, RFC 6455) and checks the JSON control API:
state, play/pause, seek with clamping, speed, steps, errors as 4xx with a
message, the token when bound off loopback or given (and never in the
server's output), the control rate limit per client, the state stream, and
that a client that disconnects mid-stream costs nothing.
Usage: api_test.py REPLAYSIM GRAPH DRIVE"""
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.request

import serverlib
from serverlib import call, ws_connect, ws_text

replaysim, graph, drive = sys.argv[1:4]


def call_from(src, port, path, method="GET", token=None):
    """Like call, from the local address src: another client to the server
    (Linux answers all of 127.0.0.0/8 on the loopback interface)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(src, 0))
    try:
        c.request(method, "/api/" + path, headers={"Authorization": "Bearer " + token} if token else {})
        r = c.getresponse()
        return r.status, json.loads(r.read())
    finally:
        c.close()


def seek(port, query, body=None):
    """A seek answers at once; a long one goes on in slices (seeking: true)
    while the server keeps answering: wait for it to arrive."""
    code, st = call(port, query, "POST", body)
    seek.answer = st
    deadline = time.time() + 120
    while code == 200 and st["seeking"]:
        assert time.time() < deadline, "a seek never arrived"
        assert st["seek_target"] > st["sim_time"] or st["seek_target"] < st["from"], st
        time.sleep(0.02)
        code, st = call(port, "state")
    return code, st


binary = []  # the camera frames the stream sent, in order


def start(*extra):
    return serverlib.start(replaysim, graph, drive, *extra)


def ws_message(s):
    return ws_text(s, binary)


p, port, _ = start()
try:
    code, st = call(port, "state")
    assert code == 200 and st["mode"] == "paused" and st["sim_time"] == st["from"], st
    names = [c["name"] for c in st["components"]]
    assert names[:1] == ["detector"], names
    # A stream client that goes away mid-stream: the server does not notice.
    gone = ws_connect(port)
    ws_message(gone)
    gone.close()
    ws = ws_connect(port)
    assert ws_message(ws)["type"] == "state"
    code, st = call(port, "step", "POST")
    assert code == 200 and st["sim_time"] == st["from"], st
    code, st = call(port, "speed?x=5", "POST")
    assert code == 200 and st["speed"] == 5, st
    code, st = call(port, "play", "POST")
    assert code == 200 and st["mode"] == "playing", st
    # Sim time advances on the stream while playing.
    t0 = ws_message(ws)["sim_time"]
    deadline = time.time() + 120
    while ws_message(ws)["sim_time"] <= t0 + 200_000_000:
        assert time.time() < deadline, "sim time does not advance"
    # The stream carried camera frames as JPEG and lidar points as it went.
    assert binary and all(b[:3] == b"\xff\xd8\xff" for b in binary), len(binary)
    deadline = time.time() + 120
    while "lidar" not in (doc := ws_message(ws)):
        assert time.time() < deadline, "no lidar points on the stream"
    assert doc["lidar"]["sensor"] == "lidar_top" and len(doc["lidar"]["points"]) % 3 == 0
    code, st = call(port, "pause", "POST")
    assert code == 200 and st["mode"] == "paused", st
    # Seek: exact, and clamped (and said so) outside the log.
    target = st["from"] + 500_000_000
    code, st = seek(port, "seek", {"t": target})
    assert code == 200 and st["from"] <= st["sim_time"] <= target, st
    code, st = seek(port, f"seek?t={st['to'] + 10**10}")
    assert code == 200 and st["sim_time"] == st["to"], st
    # Re-simulating ~2.5 s of the drive takes 100+ ms, more than one 20 ms
    # slice: the seek answered at once, on its way, and arrived later.
    assert seek.answer["seeking"] and seek.answer["sim_time"] < st["to"], seek.answer
    assert any(e["kind"] == "seeking" for e in st["events"]), st["events"]
    assert any(e["kind"] == "seek" and "clamped to the end" in e["message"] for e in st["events"]), st["events"]
    code, st = seek(port, "seek?rel=1000000000")
    assert code == 200 and 900_000_000 < st["rel_ns"] <= 1_000_000_000 and st["sim_time"] - st["from"] == st["rel_ns"], st
    code, st = call(port, "step_back", "POST")
    assert code == 200 and st["sim_time"] < st["to"], st
    # Malformed requests: 4xx with a message.
    for path, method, body, want in [("seek", "POST", None, 400), ("seek?t=soon", "POST", None, 400),
                                     ("speed?x=1000", "POST", None, 400), ("nothing", "GET", None, 404),
                                     ("play", "GET", None, 405)]:
        code, err = call(port, path, method, body)
        assert code == want and err["error"], (path, code, err)
    # Numbers are parsed strictly and the error names the argument.
    for path, want in [("speed?x=abc", "x: 'abc' is not a number (expected 0.01..100 or max)"),
                       ("speed?x=nan", "x: 'nan' is not a number (expected 0.01..100 or max)"),
                       ("seek?t=1e3", "t: '1e3' is not a number (expected an integer"),
                       ("seek?rel=5x", "rel: '5x' is not a number")]:
        code, err = call(port, path, "POST")
        assert code == 400 and err["error"].startswith(want), (path, code, err)
    code, err = call(port, "points?sensor=lidar_top&max=abc")  # atol made it the default
    assert code == 400 and err["error"].startswith("max: 'abc' is not a number (expected an integer 1..1000000)"), (code, err)
    got = ws_message(ws)
    assert got["components"] and "calls" in got["components"][0], got
    # The views: sensors, the camera frame as JPEG, decimated points, truth.
    code, sens = call(port, "sensors")
    kinds = {x["id"]: x["kind"] for x in sens["sensors"]}
    assert kinds["camera_front"] == "camera" and kinds["lidar_top"] == "lidar", kinds
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/frame?sensor=camera_front", timeout=10) as r:
        jpeg = r.read()
        assert r.headers["content-type"] == "image/jpeg" and jpeg[:3] == b"\xff\xd8\xff", r.headers
    code, pts = call(port, "points?sensor=lidar_top&max=500")
    assert code == 200 and 0 < len(pts["points"]) <= 3 * 500 and len(pts["points"]) % 3 == 0, len(pts["points"])
    code, tr = call(port, "truth")
    assert code == 200 and tr["objects"] and {"x", "y", "class"} <= set(tr["objects"][0]), tr
    code, err = call(port, "frame?sensor=lidar_top")
    assert code == 400 and "kind" in err["error"], err
    code, err = call(port, "frame?sensor=nope")
    assert code == 404, err
    code, inp = call(port, "inputs?component=tracker")
    assert code == 200 and inp["inputs"]["reading"]["sensor-id"] == "radar_front", inp
    assert "bytes" in json.dumps(inp["inputs"]["reading"]["payload"]) or isinstance(inp["inputs"]["reading"]["payload"], list)
    ws.close()
    print("api ok")
finally:
    p.terminate()
    p.wait(timeout=10)

# Off loopback, control needs the token the server printed.
p, port, token = start("--bind", "0.0.0.0")
try:
    code, err = call(port, "play", "POST")
    assert code == 401 and "token" in err["error"], (code, err)
    code, st = call(port, "play", "POST", token=token)
    assert code == 200 and st["mode"] == "playing", st
    code, st = call(port, "state")  # reading needs none
    assert code == 200
    print("token ok")
finally:
    p.terminate()
    p.wait(timeout=10)

# A token given with --token is needed even on loopback, is never printed
# or logged, and control requests are rate-limited per client: 3 an hour
# here, so the limit cannot refill during the test.
secret = "s3cret-" + os.urandom(12).hex()
p, port, _ = start("--token", secret, "--control-limit", "3/1h")
try:
    code, err = call_from("127.0.0.1", port, "play", "POST")
    assert code == 401 and "token" in err["error"], (code, err)
    code, st = call_from("127.0.0.1", port, "step", "POST", token=secret)
    assert code == 200, (code, st)
    code, err = call_from("127.0.0.1", port, "play", "POST", token=secret + "x")  # a longer guess
    assert code == 401, (code, err)
    # The fourth control from this client: refused, whatever its token.
    code, err = call_from("127.0.0.1", port, "pause", "POST", token=secret)
    assert code == 429 and err["error"].startswith("too many control requests from this client (at most 3 per 3600.000s)"), (code, err)
    code, st = call_from("127.0.0.1", port, "state")  # reading is not limited
    assert code == 200, code
    # Another client has its own allowance; the token also works as ?token=.
    code, st = call_from("127.0.0.2", port, "play?token=" + secret, "POST")
    assert code == 200 and st["mode"] == "playing", (code, st)
    code, err = call_from("127.0.0.2", port, "pause?token=wrong", "POST")
    assert code == 401, (code, err)
finally:
    p.terminate()
    p.wait(timeout=10)
said = p.stdout.read()
assert "control needs the token given with --token" in said, said
assert secret not in said, said
print("limit ok")
