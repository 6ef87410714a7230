/*
** eval_live.h -- scores while a run plays (the server's GET /api/eval):
** each detection output the engine produces is matched, as `replaysim
** eval` matches it (docs/evaluation.md), against the truth frame at its
** time projected into the camera image; the counts add up per window and
** over the run so far, and the last image's boxes keep their outcome
** (matched, missed, false) for the camera view.  Marks -- faults, limit
** stops, timing violations, and later gates -- are kept with their times.
**
** Light by design: a few boxes an output, no database; what a seek back
** replays again is first taken out (rsim_eval_live_rewind).
*/
#ifndef RSIM_EVAL_LIVE_H
#define RSIM_EVAL_LIVE_H

#include "rsim/eval.h"
#include "rsim/value.h"

/* ---- kernels ----------------------------------------------------------------------- */

/*
** COCO's matching of one image at one IoU threshold (0 = 0.5), as
** rsim_eval_detection counts it: dt_gt[i] gets the truth detection i took
** (or -1), gt_dt[j] the detection that took truth j (or -1).  A detection
** that took ignored truth is neither a true nor a false positive.
*/
void rsim_eval_match(const rsim_eval_image *im, double iou, ptrdiff_t *dt_gt, ptrdiff_t *gt_dt);

/* A camera to project truth into (eval.c): its calibration and image size. */
typedef struct rsim_eval_cam rsim_eval_cam;
/* o: camera, min_px and min_visible are used (0 = defaults). */
int rsim_eval_cam_open(rsim_store *st, const rsim_eval_opts *o, rsim_eval_cam **out, rsim_errbuf *eb);
/* True when t is a list of records with a bbox: detections. */
bool rsim_eval_cam_scores(const rsim_type *t);
/*
** One detection output v (of type t) against the truth frame g[0..ng-1],
** into im (gt and dt malloc'd: rsim_eval_image_clear).  Box classes index
** rsim_eval_cam_class.
*/
void rsim_eval_cam_image(rsim_eval_cam *c, const rsim_val *v, const rsim_type *t, const rsim_truth *g, size_t ng,
                         rsim_eval_image *im);
const char *rsim_eval_cam_class(const rsim_eval_cam *c, int cls);
const char *rsim_eval_cam_id(const rsim_eval_cam *c);
void rsim_eval_image_clear(rsim_eval_image *im);
void rsim_eval_cam_free(rsim_eval_cam *c);

/* ---- a playing run ---------------------------------------------------------------- */

typedef struct rsim_eval_live rsim_eval_live;

/* Windows of window_ns (0 = 1 s) from `from`, the run's start. */
int rsim_eval_live_new(rsim_store *st, rsim_time from, int64_t window_ns, rsim_eval_live **out, rsim_errbuf *eb);
/* An output of component at t; outputs that are not detections are left alone. */
void rsim_eval_live_output(rsim_eval_live *l, const char *component, rsim_time t, const rsim_val *v,
                           const rsim_type *type);
/* A mark at t: kind "fault", "timeout", "gate", ... and what happened. */
void rsim_eval_live_mark(rsim_eval_live *l, rsim_time t, const char *kind, const char *component, const char *message);
/* The run went back to t (a seek): counts and marks at or after t are dropped. */
void rsim_eval_live_rewind(rsim_eval_live *l, rsim_time t);
/*
** {"sim_time": now (the engine's time the scores are up to), "window_ns", "components": [{"name", "kind", "scored", "so_far": {tp, fp, fn, precision, recall, f1},
**  "windows": [{"rel_ns", tp, fp, fn, precision, recall, f1}]}], "marks": [{"rel_ns", "kind",
**  "component", "message"}], "boxes": {"component", "t", "camera", "truth": [...], "detections": [...]}}
** Times are ns from `from`; undefined ratios are null.
*/
void rsim_eval_live_json(const rsim_eval_live *l, rsim_time now, rsim_buf *out);
void rsim_eval_live_free(rsim_eval_live *l);

#endif /* RSIM_EVAL_LIVE_H */
