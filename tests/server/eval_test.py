"""Scores while playing, over real HTTP (GET /api/eval of `replaysim serve`):
played at max speed -- a poll then runs many instants -- the scores so far
equal `replaysim eval` over the same run recorded by `replaysim run`, for
the detector and for the tracks the graph's eval: block names (CLEAR MOT,
IDF1); with --gate, a marker falls on every window where `eval --gate`
fails the same gate, and a seek back played again gives the same numbers
and markers, none twice; a gate file that cannot be used stops `serve`
with its error.
Usage: eval_test.py REPLAYSIM GRAPH DRIVE WORKDIR"""
import json
import os
import subprocess
import sys
import time

import serverlib

replaysim, graph, drive, work = sys.argv[1:5]
gates = os.path.join(work, "gates.yaml")
with open(gates, "w") as f:
    f.write("gates:\n"
            "  - {metric: f1, component: detector, scope: window, min: 0.99}\n"
            "  - {metric: idf1, component: tracker, scope: window, min: 0.999}\n")

# The reference: the run recorded, scored and gated by `replaysim eval`.
run = os.path.join(work, "run.db")
subprocess.run([replaysim, "run", graph, "--store", drive, "--speed", "max", "--out", run],
               check=True, capture_output=True)
ev = subprocess.run([replaysim, "eval", run, "--truth", drive, "--json", "--no-save", "--gate", gates],
                    capture_output=True, text=True)
assert ev.returncode != 0, "the gates were set to fail: " + ev.stdout + ev.stderr
ref = {(m["component"], m["metric"]): m["value"] for m in json.loads(ev.stdout)["metrics"]
       if m["scope"] == "run" and m["class"] == "all"}
fails = {1: ev.stderr.count("FAIL gate 1 "), 2: ev.stderr.count("FAIL gate 2 ")}
assert fails[1] > 0, ev.stderr


def start(*extra):
    p, port, _ = serverlib.start(replaysim, graph, drive, *extra)
    return p, port


def call(port, path, method="GET"):
    code, d = serverlib.call(port, path, method)
    assert code == 200, (path, code, d)
    return d


def wait_for(what, check, timeout=300):
    """Asks again until check() holds: a state the server must reach."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = check()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def play_to_the_end(port):
    call(port, "play", "POST")
    wait_for("the end", lambda: call(port, "state")["mode"] == "ended")
    st = call(port, "state")
    return wait_for("the scores of the last instant",
                    lambda: (lambda d: d if d["sim_time"] == st["sim_time"] else None)(call(port, "eval")))


def numbers(d):
    return json.dumps({k: d.get(k) for k in ("components", "marks", "gates")}, sort_keys=True)


p, port = start("--speed", "max", "--gate", gates)
try:
    d = play_to_the_end(port)
    comps = {c["name"]: c for c in d["components"]}
    det = comps["detector"]
    assert det["kind"] == "detection"
    for m in ("tp", "fp", "fn", "precision", "recall", "f1"):
        assert abs(det["so_far"][m] - ref[("detector", m)]) < 1e-6, (m, det["so_far"][m], ref[("detector", m)])
    for name in ("tracker", "fusion"):
        c = comps[name]
        assert c["kind"] == "tracking", c
        for m in ("mota", "motp", "idf1", "switches", "misses", "false_positives"):
            assert abs(c["so_far"][m] - ref[(name, m)]) < 1e-6, (name, m, c["so_far"][m], ref[(name, m)])
        assert {o["outcome"] for o in c["objects"]["truth"]} <= {"matched", "missed"}
        assert {o["outcome"] for o in c["objects"]["tracks"]} <= {"matched", "false"}
    print(f"max speed: detector F1 {det['so_far']['f1']:.4f}, tracker MOTA {comps['tracker']['so_far']['mota']:.4f} "
          f"IDF1 {comps['tracker']['so_far']['idf1']:.4f}, as replaysim eval")

    gm = [m for m in d["marks"] if m["kind"] == "gate"]
    for g in (1, 2):
        got = [m for m in gm if m["gate"] == g]
        assert len(got) == fails[g], (g, len(got), fails[g], ev.stderr)
        for m in got:
            assert m["value"] < m["threshold"] and m["metric"] in m["message"], m
    assert len({(m["gate"], m["rel_ns"]) for m in gm}) == len(gm), "a marker twice"
    assert [g["live"] for g in d["gates"]] == [True, True], d["gates"]
    print(f"gate markers: {len(gm)}, where replaysim eval --gate fails")

    # A seek back: what comes after is taken out; played again, the same.
    call(port, "seek?rel=1000000000", "POST")
    back = wait_for("the seek back", lambda: (lambda e: e if e["sim_time"] < d["sim_time"] else None)(call(port, "eval")))
    assert all(m["rel_ns"] <= 1000000000 for m in back["marks"]), back["marks"]
    assert back["components"][0]["scored"] < det["scored"]
    again = play_to_the_end(port)
    assert numbers(again) == numbers(d), "played again after a seek back, the scores or markers differ"
    print("seek back and play again: the same scores and markers")
finally:
    p.terminate()
    p.wait(timeout=10)

# Without --gate: no gates and no gate markers.
p, port = start()
try:
    d = call(port, "eval")
    assert "gates" not in d and not [m for m in d["marks"] if m["kind"] == "gate"], d
finally:
    p.terminate()
    p.wait(timeout=10)

# A gate file serve cannot use: it stops, with the file and line in its last line.
bad = os.path.join(work, "bad.yaml")
with open(bad, "w") as f:
    f.write("gates:\n  - {metric: f1, component: detector, scope: sometimes, min: 0.5}\n")
r = subprocess.run([replaysim, "serve", graph, "--store", drive, "--port", "0", "--gate", bad],
                   capture_output=True, text=True, timeout=60)
last = r.stderr.strip().splitlines()[-1]
assert r.returncode != 0 and bad + ":2" in last and "scope" in last, (r.returncode, r.stderr)
print("bad gate file:", last)
print("eval api ok")
