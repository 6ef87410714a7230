/*
** eval.h -- scoring a run's outputs against the ground truth in its store:
** detection (precision, recall, F1 at an IoU, COCO AP), tracking (CLEAR MOT,
** IDF1, HOTA) and the position and velocity errors of matched objects, and
** planning (time-to-collision and headway to the true lead, hard braking,
** nuPlan's comfort, manoeuvres) from the first second of every plan.
** Definitions and their references are in docs/evaluation.md.
**
** This module reads what a run recorded (the run database of
** `replaysim run --out run.db`) and the truth the generator wrote beside the
** readings; it is never part of a replay.  The metric kernels take plain
** arrays, so they can be checked on hand-made cases and against the Python
** references (tests/eval/reference.py).
**
** Undefined values (0/0, a class with no truth) are NaN; a value divided by
** zero is infinite, as in py-motmetrics.  Both are null in JSON and NULL in
** the database.
*/
#ifndef RSIM_EVAL_H
#define RSIM_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsim/store.h"
#include "rsim/util.h"

/* ---- assignment ------------------------------------------------------------------ */

/*
** Minimum-cost assignment of an n x m cost matrix (row-major, finite
** values): min(n, m) pairs, every row or every column used once (Hungarian
** method with potentials, O(min^2 max)).  row_to_col[i] gets the column of
** row i or -1.  Returns the total cost.
*/
double rsim_eval_assign(const double *cost, size_t n, size_t m, ptrdiff_t *row_to_col);

/* ---- detection (image boxes) -------------------------------------------------- */

/* A box in image pixels (x, y the top-left corner).  Truth boxes use
** ignore; detections use score. */
typedef struct rsim_eval_box {
  double x, y, w, h;
  int cls;      /* 0 .. n_classes-1 */
  double score; /* detections: confidence */
  bool ignore;  /* truth: in view but too small or occluded (docs/evaluation.md) */
} rsim_eval_box;

typedef struct rsim_eval_image {
  const rsim_eval_box *gt, *dt;
  size_t n_gt, n_dt;
} rsim_eval_image;

typedef struct rsim_eval_det {
  double ap;       /* COCO AP, IoU 0.50:0.05:0.95, 101 recall points, 100 detections an image */
  double ap50;     /* the same at IoU 0.50 */
  int64_t tp, fp, fn; /* at the IoU threshold given to rsim_eval_detection */
  double precision, recall, f1;
} rsim_eval_det;

/*
** Scores images: out[c] for each class c, out[n_classes] over all classes
** (AP: the mean over classes with truth, as COCO's mAP; counts summed).
** Matching is COCO's (greedy by score, ignored truth last, one match per
** truth); iou is the threshold of tp/fp/fn (0.5).
*/
void rsim_eval_detection(const rsim_eval_image *im, size_t n_images, int n_classes, double iou,
                         rsim_eval_det *out);

/* ---- tracking (vehicle-frame objects) ------------------------------------------- */

typedef struct rsim_eval_obj {
  int64_t id;
  double x, y;   /* m, vehicle frame */
  double vx, vy; /* m/s, relative to the ego */
} rsim_eval_obj;

typedef struct rsim_eval_frame {
  const rsim_eval_obj *gt, *hyp;
  size_t n_gt, n_hyp;
} rsim_eval_frame;

typedef struct rsim_eval_stat {
  double mean, rmse, p95; /* p95: linear interpolation between ranks, as numpy */
  int64_t n;
} rsim_eval_stat;

typedef struct rsim_eval_mot {
  /* CLEAR MOT (py-motmetrics' events): a pair can match when its distance is <= max_dist */
  double mota, motp;
  int64_t objects, predictions, matches, switches, misses, false_positives, fragmentations;
  /* as detections: (matches + switches) over predictions, over objects, and their F1 */
  double precision, recall, f1;
  /* identity (IDF1: global min-cost matching of whole trajectories) */
  double idf1, idp, idr;
  int64_t idtp, idfp, idfn;
  /* HOTA (TrackEval), similarity max(0, 1 - d / max_dist), means over alpha 0.05..0.95 */
  double hota, deta, assa, loca;
  /* errors of CLEAR's matched pairs */
  rsim_eval_stat pos_err, vel_err;
} rsim_eval_mot;

void rsim_eval_tracking(const rsim_eval_frame *f, size_t n_frames, double max_dist, rsim_eval_mot *out);
/* The same without HOTA (NaN): CLEAR MOT, IDF1 and the errors, a fraction
** of the cost, for scores recomputed while a run plays (eval_live.h). */
void rsim_eval_tracking_clear(const rsim_eval_frame *f, size_t n_frames, double max_dist, rsim_eval_mot *out);

/* ---- planning (a planner's trajectories) ------------------------------------------ */

/* A point of a planned trajectory, in the vehicle frame at the plan's time. */
typedef struct rsim_eval_plan_point {
  double dt;           /* s after the plan's time */
  double x, y;         /* m */
  double speed, accel; /* m/s, m/s^2 (longitudinal) */
} rsim_eval_plan_point;

typedef struct rsim_eval_plan {
  double t; /* s */
  const rsim_eval_plan_point *pts; /* by dt, the first at dt 0 */
  size_t n_pts;
  int maneuver;      /* index into the caller's manoeuvre names; -1 when the plan has none */
  double lead_gap;   /* m, bumper to bumper, to the true lead at t; NaN without a lead */
  double lead_speed; /* m/s, the lead's speed over ground */
} rsim_eval_plan;

/* Thresholds (docs/evaluation.md): a hard brake is a plan commanding more
** than 4 m/s^2 of deceleration within its first second; comfort is
** nuPlan's ego_is_comfortable (nuplan-devkit's low_level metric configs). */
#define RSIM_EVAL_HARD_BRAKE 4.0
#define RSIM_EVAL_HORIZON 1.0 /* s of each plan that is scored */

typedef struct rsim_eval_planning {
  double min_ttc, min_headway; /* s; infinite when never closing on / never behind a lead */
  double max_decel, max_accel; /* m/s^2 over the plans' first second */
  int64_t hard_brakes;         /* runs of consecutive plans that brake hard */
  double hard_brake_time;      /* s */
  /* nuPlan comfort, on the plans' starting states (Savitzky-Golay as nuplan-devkit) */
  double lon_accel_min, lon_accel_max, lat_accel_max, yaw_rate_max, yaw_accel_max, lon_jerk_max, jerk_max;
  double comfortable; /* 1 or 0; NaN with fewer than 4 plans */
  int64_t plans;
} rsim_eval_planning;

/*
** Scores n plans in time order.  entries[m] and time[m] (n_maneuvers each,
** may be NULL when 0) get how often manoeuvre m was entered and the seconds
** spent in it (each plan holds until the next; the last for the interval
** before it).
*/
void rsim_eval_plans(const rsim_eval_plan *p, size_t n, size_t n_maneuvers, int64_t *entries, double *time,
                     rsim_eval_planning *out);

/* Savitzky-Golay filter as scipy.signal.savgol_filter(y, window, poly,
** deriv, delta, mode='interp') computes it (even windows included);
** window is cut to n.  All NaN when n <= poly. */
void rsim_eval_savgol(const double *y, size_t n, size_t window, int poly, int deriv, double delta, double *out);

/* ---- runs ------------------------------------------------------------------------ */

typedef enum rsim_eval_point {
  RSIM_EVAL_CENTRE = 0, /* the truth's centre */
  RSIM_EVAL_NEAR        /* the centre of the face nearest the ego (where a radar measures) */
} rsim_eval_point;

typedef struct rsim_eval_opts {
  const char *camera;   /* projection of truth into images; NULL = the store's first camera */
  const char *graph;    /* graph file with an `eval:` block; NULL = the run's graph, if it is there */
  double iou;           /* 0 = 0.5 */
  double max_dist;      /* m; 0 = 2 */
  rsim_eval_point point;
  int64_t window_ns;    /* 0 = 1 s; < 0 = whole run only */
  double min_px;        /* truth boxes narrower or lower are ignored; 0 = 8 */
  double min_visible;   /* truth less visible than this is ignored; 0 = 0.5 */
  const char *dump;     /* when set, the frames the metrics were computed on, as JSON */
  double ego_front;     /* m from the ego's origin to its front bumper; 0 = 3.8 */
  rsim_time from, to;   /* only outputs at from..to (inclusive, as a run's range) are scored; 0 = unbounded */
} rsim_eval_opts;

/* One number: a metric of a component over the whole run or a window. */
typedef struct rsim_eval_row {
  const char *component;
  const char *kind;   /* "detection", "tracking" or "planning" */
  bool window;        /* false: the whole run */
  rsim_time t0, t1;   /* [t0, t1) */
  const char *cls;    /* "all", a class, or (planning) a manoeuvre */
  const char *metric;
  double value;
} rsim_eval_row;

typedef struct rsim_eval_result rsim_eval_result;

/*
** Scores the outputs recorded in run_db against truth's ground truth.
** Which outputs are scored how comes from their WIT types (a list of
** records with a `bbox` is detections; with an `id` and a `position`,
** tracks; a record with a list of `points` with `dt`, `x`, `y`, `speed` and
** `accel`, plans) and from the graph's `eval:` block (docs/evaluation.md).
*/
int rsim_eval_run(const char *run_db, rsim_store *truth, const rsim_eval_opts *o, rsim_eval_result **out,
                  rsim_errbuf *eb);
size_t rsim_eval_n_rows(const rsim_eval_result *r);
const rsim_eval_row *rsim_eval_row_at(const rsim_eval_result *r, size_t i);
/* The value of a whole-run metric (class "all" when cls is NULL); NaN when absent. */
double rsim_eval_get(const rsim_eval_result *r, const char *component, const char *cls, const char *metric);
/* Replaces the table eval(component, kind, scope, t0, t1, class, metric, value) in run_db. */
int rsim_eval_save(const rsim_eval_result *r, const char *run_db, rsim_errbuf *eb);
void rsim_eval_json(const rsim_eval_result *r, rsim_buf *out);
/* The whole-run rows as a table for people. */
void rsim_eval_table(const rsim_eval_result *r, rsim_buf *out);
/* Whether a metric counts things (printed as a whole number: tp, switches,
** hard_brakes, ...); the table, diff and the report agree through it. */
bool rsim_eval_metric_is_count(const char *metric);
/* The headline numbers, one line a component (the end of `replaysim run --eval`). */
void rsim_eval_summary(const rsim_eval_result *r, rsim_buf *out);
void rsim_eval_free(rsim_eval_result *r);
/* A result made from rows kept elsewhere (a batch's results database),
** for gates and tables: rows are copied, strings included. */
rsim_eval_result *rsim_eval_result_new(void);
void rsim_eval_result_add(rsim_eval_result *r, const rsim_eval_row *x);
/* The headline metrics of a kind ("detection", ...), most telling first:
** what the summaries (batch report, HTML report) show.  0 for other kinds. */
size_t rsim_eval_headline(const char *kind, const char **out, size_t max);

/* ---- comparing runs (diff.c; docs/evaluation.md, "Comparing runs") ---------------- */

/* Which way a metric is better: +1 higher, -1 lower, 0 neither (counts of
** truth and outputs, and metrics this module does not know). */
int rsim_eval_metric_direction(const char *metric);

/* One component of two runs.  Digests are the engine's component digests,
** computed again from the recorded outputs. */
typedef struct rsim_diff_comp {
  char *component;
  bool in_a, in_b;
  bool identical;                 /* in both, and the same digest */
  char digest_a[65], digest_b[65];
  uint64_t n_a, n_b;              /* outputs */
  uint64_t instants_differ;       /* instants whose outputs differ (or exist in one run only) */
  rsim_time first_t;              /* the first of them (when instants_differ > 0) */
  char *json_a, *json_b;          /* the outputs there, as JSON ("null": none; an array: several) */
} rsim_diff_comp;

enum { RSIM_DIFF_SAME = 0, RSIM_DIFF_BETTER, RSIM_DIFF_WORSE, RSIM_DIFF_CHANGED, RSIM_DIFF_UNDEFINED };

/* One metric both runs' eval tables hold (same component, scope, window,
** class): b - a, and whether that is better (RSIM_DIFF_*). */
typedef struct rsim_diff_metric {
  char *component, *kind, *cls, *metric;
  bool window;
  rsim_time t0, t1;
  double a, b, delta;
  int change;
} rsim_diff_metric;

typedef struct rsim_diff rsim_diff;

int rsim_diff_runs(const char *run_a, const char *run_b, rsim_diff **out, rsim_errbuf *eb);
bool rsim_diff_identical(const rsim_diff *d);
size_t rsim_diff_n_components(const rsim_diff *d);
const rsim_diff_comp *rsim_diff_component(const rsim_diff *d, size_t i);
size_t rsim_diff_n_metrics(const rsim_diff *d);
const rsim_diff_metric *rsim_diff_metric_at(const rsim_diff *d, size_t i);
void rsim_diff_json(const rsim_diff *d, rsim_buf *out);
void rsim_diff_table(const rsim_diff *d, rsim_buf *out);
void rsim_diff_free(rsim_diff *d);

/* ---- gates (gate.c; docs/evaluation.md, "Gates") ------------------------------------ */

/*
** Checks r against the gates of a YAML file (a threshold, or an allowed
** regression against the eval table of baseline_db, which may be NULL when
** no gate needs it).  Appends one line per gate checked to report ("PASS"
** or "FAIL", naming drive, component, class, window, metric and values);
** *failed gets the number of gates that failed.  An error is a gate file or
** baseline that cannot be used, not a failed gate.
*/
int rsim_eval_gates(const rsim_eval_result *r, const char *gates_yaml, const char *baseline_db, const char *drive,
                    rsim_buf *report, size_t *failed, rsim_errbuf *eb);

/* The same gates with the baseline's numbers from elsewhere (a batch's
** results database): base_fn gives the baseline's value of the number a
** row names (the whole run's, or the window starting at the same t0), NaN
** when it has none; NULL when there is no baseline. */
typedef double (*rsim_eval_baseline_fn)(void *ud, const rsim_eval_row *x);
int rsim_eval_gates_with(const rsim_eval_result *r, const char *gates_yaml, rsim_eval_baseline_fn base_fn,
                         void *base_ud, const char *drive, rsim_buf *report, size_t *failed, rsim_errbuf *eb);

/*
** A gate file loaded (the same YAML), for checks other than a scored run's:
** the server's gate markers while a run plays (rsim/eval_live.h).
*/
typedef struct rsim_eval_gate {
  char *component, *cls, *metric; /* cls "all" when the gate names none */
  bool window;                    /* scope: window (else run) */
  bool has_min, has_max, has_reg;
  double min, max, reg;
  int line; /* in the gate file */
} rsim_eval_gate;
typedef struct rsim_eval_gateset rsim_eval_gateset;
int rsim_eval_gateset_load(const char *path, rsim_eval_gateset **out, rsim_errbuf *eb);
size_t rsim_eval_gateset_n(const rsim_eval_gateset *G);
const rsim_eval_gate *rsim_eval_gateset_at(const rsim_eval_gateset *G, size_t i);
/* Whether v breaks the gate's min or max: "below min" or "above max" with
** *limit the bound, or NULL (max_regression needs a baseline: not here). */
const char *rsim_eval_gate_bound(const rsim_eval_gate *g, double v, double *limit);
void rsim_eval_gateset_free(rsim_eval_gateset *G);

#endif /* RSIM_EVAL_H */
