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
  - for plans, the planning metrics written out again in numpy, with
    nuplan-devkit's derivative method (scipy.signal.savgol_filter with
    nuPlan's windows and degrees; nuplan-devkit itself does not install
    here) and its comfort bounds;
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


HORIZON, HARD_BRAKE = 1.0, 4.0
# nuplan-devkit, config/common/simulation_metric/low_level/*.yaml
LON_ACCEL, LAT_ACCEL, YAW_RATE, YAW_ACCEL, LON_JERK, JERK = (-4.05, 2.40), 4.89, 0.95, 1.93, 4.13, 8.37


def savgol(y, window, poly, deriv=0, delta=1.0):
    """nuPlan's use of savgol_filter: the window cut to the series."""
    from scipy.signal import savgol_filter

    window = min(window, len(y))
    if poly >= window:
        return np.full(len(y), np.nan)
    return savgol_filter(np.asarray(y, float), window_length=window, polyorder=poly, deriv=deriv, delta=delta)


def plan_heading(pts, tau):
    k = 0
    while k + 2 < len(pts) and pts[k + 1][0] <= tau:
        k += 1
    while True:
        dx, dy = pts[k + 1][1] - pts[k][1], pts[k + 1][2] - pts[k][2]
        if math.hypot(dx, dy) > 1e-9:
            return math.atan2(dy, dx)
        if k == 0:
            return 0.0
        k -= 1


def plan_scores(comp):
    plans, names = comp["frames"], comp["maneuvers"]
    n = len(plans)
    t = np.array([p["t"] for p in plans], float)
    out = {"plans": n}
    ttc, hw, acc, hard = [math.inf], [math.inf], [], []
    a0, lat = np.zeros(n), np.zeros(n)
    yr = np.zeros(n)
    for k, p in enumerate(plans):
        pts = np.array(p["points"], float).reshape(-1, 5)
        first = pts[pts[:, 0] <= HORIZON]
        acc.extend(first[:, 4])
        hard.append(len(first) > 0 and (-first[:, 4]).max() > HARD_BRAKE)
        if p["lead_gap"] is not None:
            u = p["lead_speed"]
            gap = p["lead_gap"] + u * first[:, 0] - (first[:, 1] - pts[0, 1])
            s = first[:, 3]
            with np.errstate(divide="ignore", invalid="ignore"):
                ttc.extend(np.where(gap <= 0, 0, np.where(s > u, gap / (s - u), math.inf)))
                hw.extend(np.where(gap <= 0, 0, np.where(s > 0, gap / s, math.inf)))
        v0 = np.interp(0.0, pts[:, 0], pts[:, 3])
        a0[k] = np.interp(0.0, pts[:, 0], pts[:, 4])
        if len(pts) >= 2:
            d = plan_heading(pts, HORIZON) - plan_heading(pts, 0.0)
            yr[k] = (d - 2 * math.pi * round(d / (2 * math.pi))) / HORIZON
        lat[k] = v0 * yr[k]
    out["min_ttc"], out["min_headway"] = min(ttc), min(hw)
    out["max_decel"] = -min(acc) if acc else math.nan
    out["max_accel"] = max(acc) if acc else math.nan
    hold = np.append(np.diff(t), t[-1] - t[-2] if n > 1 else 0.0) if n else np.zeros(0)
    out["hard_brakes"] = sum(1 for k in range(n) if hard[k] and (k == 0 or not hard[k - 1]))
    out["hard_brake_time"] = float(hold[np.array(hard, bool)].sum()) if n else 0.0
    delta = (t[-1] - t[0]) / (n - 1) if n > 1 else 1.0
    psi = np.concatenate([[0.0], np.cumsum(0.5 * (yr[1:] + yr[:-1]) * np.diff(t))]) if n else np.zeros(0)
    lon = savgol(a0, 8, 2)
    lon_jerk = savgol(lon, 15, 2, 1, delta)
    lat_s = savgol(lat, 8, 2)
    jerk = savgol(savgol(np.hypot(a0, lat), 8, 2), 15, 2, 1, delta)
    yaw_rate = savgol(psi, 5, 2, 1, delta)
    yaw_accel = savgol(psi, 5, 3, 2, delta)
    out["lon_accel_min"], out["lon_accel_max"] = float(lon.min()), float(lon.max())
    out["lat_accel_max"] = float(np.abs(lat_s).max())
    out["lon_jerk_max"], out["jerk_max"] = float(np.abs(lon_jerk).max()), float(np.abs(jerk).max())
    out["yaw_rate_max"], out["yaw_accel_max"] = float(np.abs(yaw_rate).max()), float(np.abs(yaw_accel).max())
    # nuPlan's WithinBoundMetricBase: every value strictly inside its bounds
    ok = (np.all((lon > LON_ACCEL[0]) & (lon < LON_ACCEL[1])) and np.all(np.abs(lat_s) < LAT_ACCEL)
          and np.all(np.abs(yaw_rate) < YAW_RATE) and np.all(np.abs(yaw_accel) < YAW_ACCEL)
          and np.all(np.abs(lon_jerk) < LON_JERK) and np.all(np.abs(jerk) < JERK))
    out["comfortable"] = float(ok) if n >= 4 else math.nan
    res = {"all": out}
    for m, name in enumerate(names):
        idx = [k for k in range(n) if plans[k]["maneuver"] == m]
        res[name] = {"entries": sum(1 for k in idx if k == 0 or plans[k - 1]["maneuver"] != m),
                     "time": float(sum(hold[k] for k in idx))}
    return res


def main():
    frames = json.load(open(sys.argv[1]))
    result = json.load(open(sys.argv[2]))
    mine = {}
    for m in result["metrics"]:
        if m["scope"] == "run":
            mine[(m["component"], m["class"], m["metric"])] = m["value"]
    compared, bad = 0, []
    for comp in frames["components"]:
        if comp["kind"] == "detection":
            ref = coco_scores(comp, frames["classes"])
        elif comp["kind"] == "planning":
            ref = plan_scores(comp)
        else:
            ref = mot_scores(comp)
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
