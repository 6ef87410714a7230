/*
** eval_live.h -- scores while a run plays (the server's GET /api/eval):
** each detection output the engine produces is matched, as `replaysim
** eval` matches it (docs/evaluation.md), against the truth frame at its
** time projected into the camera image; the counts add up per window and
** over the run so far, and the last image's boxes keep their outcome
** (matched, missed, false) for the camera view.  Tracks outputs the graph's
** eval: block names are scored too (CLEAR MOT, IDF1 so far).  Marks --
** faults, limit stops, timing violations -- are kept with their times;
** gate markers are worked out from the windows when asked for.
**
** Light by design: a few numbers an output (a tracks output's frame),
** no database; what a seek back replays again is first taken out
** (rsim_eval_live_rewind).
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
/* The truth at t as eval takes it: the frame at t, or the objects of the
** one before moved towards the one after (malloc'd); false outside the
** truth's time range (not scored).  The truth is loaded with the camera. */
bool rsim_eval_cam_truth(const rsim_eval_cam *c, rsim_time t, rsim_truth **g, size_t *ng);
/* The time of the first truth frame: eval's windows start there. */
rsim_time rsim_eval_cam_truth_start(const rsim_eval_cam *c);
/* True when t is a list of records with an id and a position: tracks. */
bool rsim_eval_cam_is_tracks(const rsim_type *t);
/* A component's settings from the eval: block (docs/evaluation.md). */
typedef struct rsim_eval_track_opts {
  rsim_eval_point point;
  double max_dist;    /* m, > 0 */
  const char *sensor; /* region of interest: a radar of the store (borrowed), or NULL */
} rsim_eval_track_opts;
/* One tracks output v against the truth g[0..ng-1] at its time, into f
** (gt and hyp malloc'd), as eval makes its frame: truth outside the
** sensor's view dropped with the outputs that match it. */
void rsim_eval_cam_tracks(rsim_eval_cam *c, const rsim_eval_track_opts *o, const rsim_val *v, const rsim_type *t,
                          const rsim_truth *g, size_t ng, rsim_eval_frame *f);
const char *rsim_eval_cam_id(const rsim_eval_cam *c);
void rsim_eval_image_clear(rsim_eval_image *im);
void rsim_eval_cam_free(rsim_eval_cam *c);

/* ---- a playing run ---------------------------------------------------------------- */

typedef struct rsim_eval_live rsim_eval_live;

/*
** Scores for a run over [from, to] of st, in windows of window_ns (0 = 1 s)
** from the first truth frame, as eval's.  eval_block is the graph's eval:
** block (rsim_graph_eval; graph names it in errors): `as: none` leaves a
** component out, and a tracks output is scored only when the block names
** it, with its point, max_dist and sensor.
*/
int rsim_eval_live_new(rsim_store *st, rsim_time from, rsim_time to, int64_t window_ns, const rsim_kv *eval_block,
                       size_t n_block, const char *graph, rsim_eval_live **out, rsim_errbuf *eb);
/* Holds the scores to the gates of a gate file (eval --gate's YAML): a
** marker where one fails (in the JSON's marks, kind "gate"). */
int rsim_eval_live_gates(rsim_eval_live *l, const char *path, rsim_errbuf *eb);
/* An output of component at t; outputs that are not scored are left alone,
** and so is one at or before the component's last scored output (each is
** scored once, whatever the seeks). */
void rsim_eval_live_output(rsim_eval_live *l, const char *component, rsim_time t, const rsim_val *v,
                           const rsim_type *type);
/* A mark at t: kind "fault", "timeout", ... and what happened. */
void rsim_eval_live_mark(rsim_eval_live *l, rsim_time t, const char *kind, const char *component, const char *message);
/* The run went back (a seek): scores and marks at or after t are taken out. */
void rsim_eval_live_rewind(rsim_eval_live *l, rsim_time t);
/*
** {"sim_time": now (the engine's time the scores are up to), "window_ns", "window_start_ns",
**  "components": [{"name", "kind": "detection"|"tracking", "scored", "so_far": {metrics},
**  "windows": [{"rel_ns", metrics}], "objects" (tracking: the last frame's truth and tracks
**  by outcome)}], "gates": [...] (with a gate file), "marks": [{"rel_ns", "kind",
**  "component", "message", and for gates "gate", "scope", "metric", "value", "threshold"}],
**  "boxes": {"component", "rel_ns", "camera", "truth": [...], "detections": [...]}}
** Times are ns from `from`; undefined numbers are null.  Tracking numbers
** are cached a window (hence not const).  docs/server.md has the fields.
*/
void rsim_eval_live_json(rsim_eval_live *l, rsim_time now, rsim_buf *out);
void rsim_eval_live_free(rsim_eval_live *l);

#endif /* RSIM_EVAL_LIVE_H */
