"""`replaysim serve` under load: many WebSocket clients at once, a stream of
control requests, and clients that stop reading.  Checks that the server
stays up and answering, that its memory stays bounded (lws holds at most
one unsent message a client; a slow client gets fewer states, never a
queue), and that a client that takes nothing is closed by the server
(server.c, STALL_S).  Prints the figures docs/reliability.md quotes: pacing
lag, messages and bytes streamed, control requests, memory.

No assertion here is on wall time: durations only decide how long the load
lasts, and every wait is for a state (a socket state, an answer, EOF) with
a generous deadline.

Usage: load_test.py REPLAYSIM GRAPH DRIVE [--seconds S] [--clients N] [--stalled K] [--no-seeks]"""
import argparse
import json
import os
import random
import selectors
import socket
import subprocess
import threading
import time

from serverlib import call, ws_connect

ap = argparse.ArgumentParser()
ap.add_argument("replaysim")
ap.add_argument("graph")
ap.add_argument("drive")
ap.add_argument("--seconds", type=float, default=4)
ap.add_argument("--clients", type=int, default=50)
ap.add_argument("--stalled", type=int, default=4)
ap.add_argument("--no-seeks", action="store_true", help="leave seeks out of the control stream")
args = ap.parse_args()
rng = random.Random(2026)


def rss_kb(pid, key="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def tcp_state(server_port, client_port):
    """The state of the server's end of a connection, or None when gone
    (/proc/net/tcp6 too: lws may listen on a v4-mapped IPv6 socket)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as f:
            next(f)
            for line in f:
                cols = line.split()
                local, remote, st = cols[1], cols[2], cols[3]
                if int(local.rsplit(":", 1)[1], 16) == server_port and int(remote.rsplit(":", 1)[1], 16) == client_port:
                    return int(st, 16)
    return None


ESTABLISHED = 1

# Under AddressSanitizer (scripts/test.sh sets ASAN_OPTIONS) freed memory
# sits in a quarantine of up to 256 MB, which would read as growth: keep it
# small so the bound still means something there.
env = dict(os.environ)
if "ASAN_OPTIONS" in env:
    env["ASAN_OPTIONS"] += ":quarantine_size_mb=4:thread_local_quarantine_size_kb=256"
p = subprocess.Popen([args.replaysim, "serve", args.graph, "--store", args.drive, "--port", "0"],
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
try:
    first = p.stdout.readline()
    assert "serving" in first, first + p.stdout.read()
    port = int(first.split("http://")[1].split("/")[0].rsplit(":", 1)[1])
    code, st = call(port, "state")
    assert code == 200, st
    rss_idle = rss_kb(p.pid)

    readers = [ws_connect(port) for _ in range(args.clients)]
    stalled = [ws_connect(port, rcvbuf=4096) for _ in range(args.stalled)]
    assert all(tcp_state(port, s.getsockname()[1]) == ESTABLISHED for s in stalled), "cannot see the connections"
    received = [0] * len(readers)
    lags, max_lag = [], [0.0]
    stop = threading.Event()

    def read_all():
        """Drains every reader; parses the frames of the first one for the lag figures."""
        sel = selectors.DefaultSelector()
        for i, s in enumerate(readers):
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, i)
        probe = b""
        while not stop.is_set():
            for key, _ in sel.select(timeout=0.2):
                i = key.data
                try:
                    data = key.fileobj.recv(1 << 20)
                except BlockingIOError:
                    continue
                assert data, f"the server closed reader {i}"
                received[i] += len(data)
                if i == 0:
                    probe += data
                    while len(probe) >= 2:
                        n, h = probe[1] & 0x7F, 2
                        if n == 126:
                            if len(probe) < 4:
                                break
                            n, h = int.from_bytes(probe[2:4], "big"), 4
                        elif n == 127:
                            if len(probe) < 10:
                                break
                            n, h = int.from_bytes(probe[2:10], "big"), 10
                        if len(probe) < h + n:
                            break
                        if probe[0] & 0x0F == 1:
                            doc = json.loads(probe[h:h + n])
                            if doc["mode"] == "playing":
                                lags.append(doc["lag_ms"])
                            max_lag[0] = max(max_lag[0], doc["max_lag_ms"])
                        probe = probe[h + n:]

    controls = [0]
    def control():
        """Play, seek, speed and state requests, one after another, as a UI would send them."""
        while not stop.is_set():
            code, st = call(port, "state")
            assert code == 200, st
            if st["mode"] == "ended":
                call(port, "seek?rel=0", "POST")
            choice = rng.random()
            if choice < 0.1 and not args.no_seeks:
                code, _ = call(port, f"seek?rel={rng.randrange(0, max(1, st['span_ns']))}", "POST")
            elif choice < 0.2:
                code, _ = call(port, f"speed?x={rng.choice(['0.5', '1', '2'])}", "POST")
            else:
                code, _ = call(port, "play", "POST")
            assert code == 200, code
            controls[0] += 2

    errors = []

    def guarded(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # reported by the main thread
                errors.append(repr(e))
                stop.set()
        return run

    threads = [threading.Thread(target=guarded(read_all), daemon=True),
               threading.Thread(target=guarded(control), daemon=True)]
    for t in threads:
        t.start()
    rss_max, end = rss_kb(p.pid), time.time() + args.seconds
    while time.time() < end and not stop.is_set():
        assert p.poll() is None, "the server died: " + p.stdout.read()
        rss_max = max(rss_max, rss_kb(p.pid))
        time.sleep(0.05)  # sampling memory, not synchronising
    stop.set()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a client thread hung"
    assert not errors, errors
    assert p.poll() is None, "the server died: " + p.stdout.read()
    hwm = rss_kb(p.pid, "VmHWM")
    assert all(n > 0 for n in received), "a reader got nothing: %s" % received
    code, st = call(port, "state")
    assert code == 200, st

    # The stalled clients: the server closes its end once they have taken
    # nothing for a while (a socket state, waited for).
    deadline = time.time() + 120
    ports = [s.getsockname()[1] for s in stalled]
    while any(tcp_state(port, cp) == ESTABLISHED for cp in ports):
        assert time.time() < deadline, "a stalled client was never closed: %s" % [tcp_state(port, cp) for cp in ports]
        time.sleep(0.1)
    # What they get when they read: what was in flight, then the end;
    # nothing was queued for them beyond one message and the socket buffers.
    in_flight = []
    for s in stalled:
        got = 0
        try:
            while True:
                data = s.recv(1 << 20)
                if not data:
                    break
                got += len(data)
                assert got < 64 << 20, "a stalled client keeps receiving: it was queued for"
        except (ConnectionResetError, socket.timeout):
            pass
        in_flight.append(got)
        s.close()
    hwm = max(hwm, rss_kb(p.pid, "VmHWM"))
    # Bounded memory: the load costs at most a message or two a client
    # (states of some KB, frames and point lists of tens of KB) over the
    # idle server, with room for allocator slack; never a queue per client.
    per_client_kb = 512
    bound_kb = (args.clients + args.stalled) * per_client_kb + 64 * 1024
    assert hwm - rss_idle < bound_kb, f"memory grew by {hwm - rss_idle} KB under load (bound {bound_kb} KB)"
    for s in readers:
        s.close()
    lags.sort()
    pct = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))] if lags else 0.0
    total = sum(received)
    print(f"clients {args.clients} readers + {args.stalled} stalled, {args.seconds:.0f} s of load")
    print(f"streamed {total / 1e6:.1f} MB, {total / args.seconds / 1e6:.1f} MB/s; least per reader "
          f"{min(received) / 1e6:.2f} MB, most {max(received) / 1e6:.2f} MB")
    print(f"control requests {controls[0]} ({controls[0] / args.seconds:.0f}/s)")
    print(f"pacing lag while playing: median {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms, max {max_lag[0]:.1f} ms "
          f"({len(lags)} states)")
    print(f"memory: idle {rss_idle / 1024:.1f} MB, peak {hwm / 1024:.1f} MB under load "
          f"(+{(hwm - rss_idle) / 1024:.1f} MB; bound {bound_kb / 1024:.0f} MB)")
    print(f"stalled clients closed by the server; in flight when they read: {max(in_flight) / 1e6:.2f} MB at most")
    print("load ok")
finally:
    p.terminate()
    p.wait(timeout=30)
