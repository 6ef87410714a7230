#!/usr/bin/env python3
"""Checks replaysim's evaluation against the reference implementations.

usage: reference.py FRAMES.json RESULT.json

FRAMES.json is what `replaysim eval --dump` wrote: every frame the metrics
were computed on (truth boxes with their ignore flags and detections; truth
objects and outputs in the vehicle frame).  RESULT.json is
`replaysim eval --json`.  This script computes the whole-run metrics of each
component again with
  - pycocotools' COCOeval (AP at IoU 0.50:0.95 and 0.50; the tp/fp/fn at 0.5
    from its own per-image matches), ignored truth given to it as truth out
    of its area range, which is how COCOeval ignores truth;
  - py-motmetrics' MOTAccumulator (CLEAR MOT, IDF1; matched-pair errors from
    its MATCH and SWITCH events);
  - TrackEval's HOTA.eval_sequence with TrackEval's euclidean similarity;
and fails unless every number agrees with replaysim's to 1e-6.  It prints
how many numbers it compared.
"""
import contextlib
import io
import json
import math
import sys

import numpy as np

TOL = 1e-6


def coco_scores(comp, classes):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, gts, dts = [], [], []
    for i, fr in enumerate(comp["frames"]):
        images.append({"id": i + 1})
        for g in fr["gt"]:
            x, y, w, h, c, ign = g
            gts.append({"id": len(gts) + 1, "image_id": i + 1, "category_id": c + 1, "bbox": [x, y, w, h],
                        # COCOeval ignores truth outside its area range: that is how ignored truth is given to it
                        "area": 1e11 if ign else w * h, "iscrowd": 0})
        for d in fr["dt"]:
            x, y, w, h, c, s = d
            dts.append({"id": len(dts) + 1, "image_id": i + 1, "category_id": c + 1, "bbox": [x, y, w, h],
                        "area": w * h, "score": s, "iscrowd": 0})
    cats = [{"id": k + 1, "name": n} for k, n in enumerate(classes)]
    gt = COCO()
    gt.dataset = {"images": images, "categories": cats, "annotations": gts}
    dt = COCO()
    dt.dataset = {"images": images, "categories": cats, "annotations": dts}
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        dt.createIndex()
        E = COCOeval(gt, dt, "bbox")
        E.evaluate()
        E.accumulate()
    p = E.eval["precision"]  # T x R x K x A x M
    out = {}

    def mean_valid(a):
        a = a[a > -1]
        return float(np.mean(a)) if a.size else float("nan")

    n_img = len(images)
    totals = [0, 0, 0]
    for k, name in enumerate(classes + ["all"]):
        if name == "all":
            ap, ap50 = mean_valid(p[:, :, :, 0, 2]), mean_valid(p[0, :, :, 0, 2])
            tp, fp, fn = totals
        else:
            ap, ap50 = mean_valid(p[:, :, k, 0, 2]), mean_valid(p[0, :, k, 0, 2])
            tp = fp = npig = 0
            for i in range(n_img):  # evalImgs: category-major, then area range, then image
                e = E.evalImgs[k * 4 * n_img + i]
                if e is None:
                    continue
                m, ig = e["dtMatches"][0], e["dtIgnore"][0]  # IoU 0.5
                tp += int(np.sum((m > 0) & ~ig))
                fp += int(np.sum((m == 0) & ~ig))
                npig += int(np.sum(np.logical_not(e["gtIgnore"])))
            fn = npig - tp
            totals = [totals[0] + tp, totals[1] + fp, totals[2] + fn]
        div = lambda a, b: a / b if b else float("nan")
        out[name] = {"ap": ap, "ap50": ap50, "tp": tp, "fp": fp, "fn": fn, "precision": div(tp, tp + fp),
                     "recall": div(tp, tp + fn), "f1": div(2 * tp, 2 * tp + fp + fn)}
    return out


def stats(v):
    if not v:
        return float("nan"), float("nan"), float("nan")
    a = np.array(v, dtype=float)
    return float(np.mean(a)), float(math.sqrt(np.mean(a * a))), float(np.percentile(a, 95))


def mot_scores(comp):
    import motmetrics as mm
    from trackeval.metrics import HOTA
    from trackeval.datasets._base_dataset import _BaseDataset

    md = comp["max_dist"]
    acc = mm.MOTAccumulator(auto_id=True)
    for fr in comp["frames"]:
        g, h = fr["gt"], fr["hyp"]
        d = np.full((len(g), len(h)), np.nan)
        for i, a in enumerate(g):
            for j, b in enumerate(h):
                x = math.sqrt((a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]))
                if x <= md:
                    d[i, j] = x
        acc.update([a[0] for a in g], [b[0] for b in h], d)
    names = {"mota": "mota", "motp": "motp", "idf1": "idf1", "idp": "idp", "idr": "idr", "switches": "num_switches",
             "fragmentations": "num_fragmentations", "objects": "num_objects", "predictions": "num_predictions",
             "matches": "num_matches", "misses": "num_misses", "false_positives": "num_false_positives",
             "idtp": "idtp", "idfp": "idfp", "idfn": "idfn", "precision": "precision", "recall": "recall"}
    mh = mm.metrics.create()
    s = mh.compute(acc, metrics=list(names.values()), name="x")
    out = {k: float(s[v].iloc[0]) for k, v in names.items()}
    det = out["matches"] + out["switches"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["f1"] = float(np.float64(2 * det) / (out["objects"] + out["predictions"]))
    # errors of the pairs motmetrics matched
    pe, ve = [], []
    ev = acc.mot_events
    ev = ev[ev.Type.isin(["MATCH", "SWITCH"])]
    for (fid, _), r in ev.iterrows():
        fr = comp["frames"][fid]
        a = next(x for x in fr["gt"] if x[0] == r.OId)
        b = next(x for x in fr["hyp"] if x[0] == r.HId)
        pe.append(r.D)
        ve.append(math.hypot(b[3] - a[3], b[4] - a[4]))
    out["pos_err_mean"], out["pos_err_rmse"], out["pos_err_p95"] = stats(pe)
    out["vel_err_mean"], out["vel_err_rmse"], out["vel_err_p95"] = stats(ve)
    # HOTA, TrackEval's own code on the same frames
    gid = sorted({a[0] for fr in comp["frames"] for a in fr["gt"]})
    hid = sorted({b[0] for fr in comp["frames"] for b in fr["hyp"]})
    gi, hi = {v: i for i, v in enumerate(gid)}, {v: i for i, v in enumerate(hid)}
    data = {"num_gt_ids": len(gid), "num_tracker_ids": len(hid), "gt_ids": [], "tracker_ids": [],
            "similarity_scores": [], "num_gt_dets": 0, "num_tracker_dets": 0}
    for fr in comp["frames"]:
        g = np.array([[a[1], a[2]] for a in fr["gt"]], dtype=float).reshape(-1, 2)
        h = np.array([[b[1], b[2]] for b in fr["hyp"]], dtype=float).reshape(-1, 2)
        data["gt_ids"].append(np.array([gi[a[0]] for a in fr["gt"]], dtype=int))
        data["tracker_ids"].append(np.array([hi[b[0]] for b in fr["hyp"]], dtype=int))
        data["similarity_scores"].append(_BaseDataset._calculate_euclidean_similarity(g, h, zero_distance=md))
        data["num_gt_dets"] += len(fr["gt"])
        data["num_tracker_dets"] += len(fr["hyp"])
    with contextlib.redirect_stdout(io.StringIO()):
        r = HOTA().eval_sequence(data)
    out["hota"], out["deta"] = float(np.mean(r["HOTA"])), float(np.mean(r["DetA"]))
    out["assa"], out["loca"] = float(np.mean(r["AssA"])), float(np.mean(r["LocA"]))
    return {"all": out}


def main():
    frames = json.load(open(sys.argv[1]))
    result = json.load(open(sys.argv[2]))
    mine = {}
    for m in result["metrics"]:
        if m["scope"] == "run":
            mine[(m["component"], m["class"], m["metric"])] = m["value"]
    compared, bad = 0, []
    for comp in frames["components"]:
        ref = coco_scores(comp, frames["classes"]) if comp["kind"] == "detection" else mot_scores(comp)
        for cls, metrics in ref.items():
            for metric, want in metrics.items():
                key = (comp["component"], cls, metric)
                if key not in mine:
                    bad.append("%s %s %s: missing in replaysim's result" % key)
                    continue
                got = mine[key]
                if want is None or not math.isfinite(want):
                    ok = got is None
                else:
                    ok = got is not None and abs(got - want) <= TOL
                compared += 1
                if not ok:
                    bad.append("%s %s %s: replaysim %r, reference %r" % (key + (got, want)))
    for b in bad:
        print("MISMATCH", b)
    print("compared %d values with the references, %d differ" % (compared, len(bad)))
    sys.exit(1 if bad or compared == 0 else 0)


if __name__ == "__main__":
    main()
