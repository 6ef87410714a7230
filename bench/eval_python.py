#!/usr/bin/env python3
"""Times the Python references on the frames `replaysim eval --dump` wrote.

usage: eval_python.py FRAMES.json [REPEATS]

For each component, the whole computation tests/eval/reference.py does:
pycocotools' COCOeval (evaluate, accumulate, and the tp/fp/fn read from its
matches) for detections; py-motmetrics (accumulate, CLEAR MOT, IDF1, the
matched-pair errors) and TrackEval's HOTA for tracks.  Median of REPEATS
(default 3).  bench_eval times replaysim's kernels on the same file.
"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "eval"))
import reference  # noqa: E402

frames = json.load(open(sys.argv[1]))
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
print("| component | kind | frames | Python references (ms, median of %d) |" % repeats)
print("|---|---|---|---|")
for comp in frames["components"]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        if comp["kind"] == "detection":
            reference.coco_scores(comp, frames["classes"])
        elif comp["kind"] == "planning":
            reference.plan_scores(comp)
        else:
            reference.mot_scores(comp)
        times.append((time.perf_counter() - t0) * 1e3)
    print("| %s | %s | %d | %.0f |" % (comp["component"], comp["kind"], len(comp["frames"]), statistics.median(times)))
