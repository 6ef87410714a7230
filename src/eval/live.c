/*
** live.c -- scores while a run plays (rsim/eval_live.h): detection and
** tracks outputs scored one by one as they come, with eval.c's truth,
** projection and frames and coco.c's and mot.c's kernels, kept a record an
** output, so that a seek back takes out exactly what it undid and windows,
** the scores so far and gate markers are always those of the outputs
** scored.  Precision, recall and F1 are those of docs/evaluation.md over
** the outputs scored so far; AP needs every score of the run at once and
** is left to `replaysim eval`.
**
** Gate markers are not kept: they are worked out from the windows each
** time they are asked for, so a seek back and a replay give the same ones
** and never twice.  Only windows the run has passed (or the last, once it
** ended) are held to a gate: a window half played would fail and pass.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsim/eval_live.h"

#define MAX_MARKS 512
#define MAX_COMPS 16
#define MAX_GATE_MARKS 256

enum { K_DET = 1, K_TRK };

typedef struct det_rec {
  rsim_time t;
  int64_t tp, fp, fn;
} det_rec;

typedef struct trk_rec {
  rsim_time t;
  rsim_eval_frame f; /* gt and hyp owned */
} trk_rec;

/* A window's tracking scores and those of the run through its end, kept
** while no output in or before it changes. */
typedef struct trk_cache {
  bool ok;
  size_t a, b; /* records of the window */
  rsim_eval_mot win, cum;
} trk_cache;

typedef struct live_comp {
  char *name;
  int kind;
  rsim_eval_track_opts to;
  det_rec *det;
  trk_rec *trk;
  size_t n, cap;
  trk_cache *cache;
  size_t n_cache;
} live_comp;

typedef struct mark {
  rsim_time t;
  char kind[16], component[64], message[160];
} mark;

/* A component's settings from the graph's eval: block. */
typedef struct block {
  char name[64];
  int as; /* 0 by its type, -1 none, K_DET, K_TRK */
  rsim_eval_track_opts to;
} block;

struct rsim_eval_live {
  rsim_store *st;
  rsim_eval_cam *cam;
  rsim_time from, to, anchor; /* anchor: the first truth frame, where eval's windows start */
  int64_t window_ns;
  live_comp comps[MAX_COMPS];
  size_t n_comps;
  block *blocks;
  size_t n_blocks;
  mark marks[MAX_MARKS];
  size_t n_marks;
  rsim_eval_gateset *gates;
  /* the last image scored, with each box's outcome */
  char last_comp[64];
  rsim_time last_t;
  rsim_eval_image last;
  ptrdiff_t *dt_gt, *gt_dt;
};

static int parse_block(rsim_eval_live *l, const rsim_kv *kv, size_t n, const char *graph, rsim_errbuf *eb) {
  const rsim_sensor_info *radar = rsim_store_first_of_kind(l->st, RSIM_SENSOR_RADAR);
  for (size_t i = 0; i < n; i++) {
    const char *dot = strrchr(kv[i].key, '.');
    if (!dot) continue;
    size_t len = (size_t)(dot - kv[i].key);
    block *b = NULL;
    for (size_t j = 0; j < l->n_blocks && !b; j++)
      if (strlen(l->blocks[j].name) == len && !strncmp(l->blocks[j].name, kv[i].key, len)) b = &l->blocks[j];
    if (!b) {
      l->blocks = rsim_xrealloc(l->blocks, (l->n_blocks + 1) * sizeof *l->blocks);
      b = &l->blocks[l->n_blocks++];
      memset(b, 0, sizeof *b);
      snprintf(b->name, sizeof b->name, "%.*s", (int)len, kv[i].key);
      b->to = (rsim_eval_track_opts){RSIM_EVAL_CENTRE, 2.0, radar ? radar->id : NULL};
    }
    const char *key = dot + 1, *v = kv[i].value;
    char *end;
    double d;
    if (!strcmp(key, "as") && !strcmp(v, "none")) b->as = -1;
    else if (!strcmp(key, "as") && !strcmp(v, "detections")) b->as = K_DET;
    else if (!strcmp(key, "as") && !strcmp(v, "tracks")) b->as = K_TRK;
    else if (!strcmp(key, "as") && !strcmp(v, "plans")) b->as = -1; /* plans are left to eval */
    else if (!strcmp(key, "point") && (!strcmp(v, "centre") || !strcmp(v, "near")))
      b->to.point = !strcmp(v, "near") ? RSIM_EVAL_NEAR : RSIM_EVAL_CENTRE;
    else if (!strcmp(key, "max_dist") && (d = strtod(v, &end)) > 0 && !*end) b->to.max_dist = d;
    else if (!strcmp(key, "sensor") && rsim_store_sensor(l->st, v)) b->to.sensor = rsim_store_sensor(l->st, v)->id;
    else
      return rsim_errbuf_set(eb, RSIM_EGRAPH,
                             "%s: eval: %s: %s: '%s' is not valid (as: detections|tracks|plans|none, point: "
                             "centre|near, max_dist: metres, sensor: a sensor of the store)",
                             graph ? graph : "the graph", b->name, key, v);
  }
  return RSIM_OK;
}

int rsim_eval_live_new(rsim_store *st, rsim_time from, rsim_time to, int64_t window_ns, const rsim_kv *eval_block,
                       size_t n_block, const char *graph, rsim_eval_live **out, rsim_errbuf *eb) {
  *out = NULL;
  rsim_eval_cam *cam = NULL;
  int rc = rsim_eval_cam_open(st, NULL, &cam, eb);
  if (rc) return rc;
  rsim_eval_live *l = rsim_xcalloc(1, sizeof *l);
  l->st = st;
  l->cam = cam;
  l->from = from;
  l->to = to;
  l->anchor = rsim_eval_cam_truth_start(cam);
  l->window_ns = window_ns > 0 ? window_ns : RSIM_NS_PER_S;
  l->last_t = INT64_MIN;
  rc = parse_block(l, eval_block, n_block, graph, eb);
  if (rc) {
    rsim_eval_live_free(l);
    return rc;
  }
  *out = l;
  return RSIM_OK;
}

int rsim_eval_live_gates(rsim_eval_live *l, const char *path, rsim_errbuf *eb) {
  rsim_eval_gateset *g = NULL;
  int rc = rsim_eval_gateset_load(path, &g, eb);
  if (rc) return rc;
  rsim_eval_gateset_free(l->gates);
  l->gates = g;
  return RSIM_OK;
}

/* How a component's outputs of type t are scored: K_DET, K_TRK or 0.
** Detections by their type unless the block says none; tracks only when
** the eval: block names the component (their frames are kept whole). */
static int kind_of(const rsim_eval_live *l, const char *name, const rsim_type *t, const block **bp) {
  const block *b = NULL;
  for (size_t i = 0; i < l->n_blocks && !b; i++)
    if (!strcmp(l->blocks[i].name, name)) b = &l->blocks[i];
  *bp = b;
  if (b && b->as < 0) return 0;
  if (rsim_eval_cam_scores(t) && (!b || b->as != K_TRK)) return K_DET;
  if (b && rsim_eval_cam_is_tracks(t) && b->as != K_DET) return K_TRK;
  return 0;
}

static live_comp *comp_of(rsim_eval_live *l, const char *name, int kind, const block *b) {
  for (size_t i = 0; i < l->n_comps; i++)
    if (!strcmp(l->comps[i].name, name)) return &l->comps[i];
  if (l->n_comps == MAX_COMPS) return NULL;
  live_comp *c = &l->comps[l->n_comps++];
  memset(c, 0, sizeof *c);
  c->name = rsim_xstrdup(name);
  c->kind = kind;
  if (b) c->to = b->to;
  return c;
}

static rsim_time rec_t(const live_comp *c, size_t i) { return c->kind == K_DET ? c->det[i].t : c->trk[i].t; }

/* Window index of time t (t at or after the anchor). */
static size_t win_of(const rsim_eval_live *l, rsim_time t) {
  return t <= l->anchor ? 0 : (size_t)((t - l->anchor) / l->window_ns);
}

static void invalidate(live_comp *c, size_t w) {
  for (size_t i = w; i < c->n_cache; i++) c->cache[i].ok = false;
}

static void grow(live_comp *c) {
  if (c->n < c->cap) return;
  c->cap = c->cap ? 2 * c->cap : 256;
  if (c->kind == K_DET) c->det = rsim_xrealloc(c->det, c->cap * sizeof *c->det);
  else c->trk = rsim_xrealloc(c->trk, c->cap * sizeof *c->trk);
}

void rsim_eval_live_output(rsim_eval_live *l, const char *component, rsim_time t, const rsim_val *v,
                           const rsim_type *type) {
  const block *b;
  int kind = v ? kind_of(l, component, type, &b) : 0;
  if (!kind) return;
  live_comp *c = comp_of(l, component, kind, b);
  /* An output is scored once: one at or before the last scored is one a
  ** seek back left standing (the records stay in time order). */
  if (!c || (c->n && t <= rec_t(c, c->n - 1))) return;
  rsim_truth *g;
  size_t ng;
  if (!rsim_eval_cam_truth(l->cam, t, &g, &ng)) { /* no truth here: not scored, as in eval */
    free(g);
    return;
  }
  invalidate(c, win_of(l, t));
  grow(c);
  if (kind == K_TRK) {
    trk_rec *r = &c->trk[c->n++];
    r->t = t;
    rsim_eval_cam_tracks(l->cam, &c->to, v, type, g, ng, &r->f);
    free(g);
    return;
  }
  rsim_eval_image im;
  rsim_eval_cam_image(l->cam, v, type, g, ng, &im);
  free(g);
  ptrdiff_t *dt_gt = rsim_xmalloc((im.n_dt + 1) * sizeof *dt_gt), *gt_dt = rsim_xmalloc((im.n_gt + 1) * sizeof *gt_dt);
  rsim_eval_match(&im, 0.5, dt_gt, gt_dt);
  det_rec *k = &c->det[c->n++];
  *k = (det_rec){t, 0, 0, 0};
  for (size_t i = 0; i < im.n_dt; i++) {
    if (dt_gt[i] < 0) k->fp++;
    else if (!im.gt[dt_gt[i]].ignore) k->tp++;
  }
  for (size_t j = 0; j < im.n_gt; j++) k->fn += gt_dt[j] < 0 && !im.gt[j].ignore;
  rsim_eval_image_clear(&l->last);
  free(l->dt_gt);
  free(l->gt_dt);
  l->last = im;
  l->dt_gt = dt_gt;
  l->gt_dt = gt_dt;
  l->last_t = t;
  snprintf(l->last_comp, sizeof l->last_comp, "%s", component);
}

void rsim_eval_live_mark(rsim_eval_live *l, rsim_time t, const char *kind, const char *component, const char *message) {
  /* One mark a kind and component within 100 ms: a component that faults
  ** at every call is one run of marks, not thousands. */
  for (size_t i = l->n_marks; i-- > 0;) {
    const mark *m = &l->marks[i];
    if (t - m->t >= 100000000) break;
    if (!strcmp(m->kind, kind) && !strcmp(m->component, component ? component : "")) return;
  }
  if (l->n_marks == MAX_MARKS) return;
  mark *m = &l->marks[l->n_marks++];
  m->t = t;
  snprintf(m->kind, sizeof m->kind, "%s", kind);
  snprintf(m->component, sizeof m->component, "%s", component ? component : "");
  snprintf(m->message, sizeof m->message, "%s", message ? message : "");
}

void rsim_eval_live_rewind(rsim_eval_live *l, rsim_time t) {
  for (size_t i = 0; i < l->n_comps; i++) {
    live_comp *c = &l->comps[i];
    size_t n = c->n;
    while (c->n && rec_t(c, c->n - 1) >= t) c->n--;
    if (c->kind == K_TRK)
      for (size_t k = c->n; k < n; k++) {
        free((void *)c->trk[k].f.gt);
        free((void *)c->trk[k].f.hyp);
      }
    if (c->n < n) invalidate(c, win_of(l, t));
  }
  while (l->n_marks && l->marks[l->n_marks - 1].t >= t) l->n_marks--;
  if (l->last_t >= t) {
    rsim_eval_image_clear(&l->last);
    l->last_t = INT64_MIN;
  }
}

/* ---- numbers ------------------------------------------------------------------------ */

typedef struct counts {
  int64_t images, tp, fp, fn;
} counts;

static double ratio_of(double num, double den) { return den > 0 ? num / den : NAN; }

static double det_metric(const counts *k, const char *m) {
  if (!strcmp(m, "tp")) return (double)k->tp;
  if (!strcmp(m, "fp")) return (double)k->fp;
  if (!strcmp(m, "fn")) return (double)k->fn;
  if (!strcmp(m, "precision")) return ratio_of((double)k->tp, (double)(k->tp + k->fp));
  if (!strcmp(m, "recall")) return ratio_of((double)k->tp, (double)(k->tp + k->fn));
  if (!strcmp(m, "f1")) return ratio_of(2.0 * (double)k->tp, (double)(2 * k->tp + k->fp + k->fn));
  return NAN;
}

static const char *const kDetMetrics[] = {"tp", "fp", "fn", "precision", "recall", "f1", NULL};
static const char *const kTrkMetrics[] = {"mota",      "motp",   "idf1",   "idp",     "idr",
                                          "switches",  "fragmentations", "matches", "misses", "false_positives",
                                          "objects",   "predictions", "precision", "recall", "f1",
                                          NULL};

static double trk_metric(const rsim_eval_mot *x, const char *m) {
  const struct {
    const char *m;
    double v;
  } t[] = {{"mota", x->mota},
           {"motp", x->motp},
           {"idf1", x->idf1},
           {"idp", x->idp},
           {"idr", x->idr},
           {"switches", (double)x->switches},
           {"fragmentations", (double)x->fragmentations},
           {"matches", (double)x->matches},
           {"misses", (double)x->misses},
           {"false_positives", (double)x->false_positives},
           {"objects", (double)x->objects},
           {"predictions", (double)x->predictions},
           {"precision", x->precision},
           {"recall", x->recall},
           {"f1", x->f1}};
  for (size_t i = 0; i < sizeof t / sizeof *t; i++)
    if (!strcmp(t[i].m, m)) return t[i].v;
  return NAN;
}

static bool live_metric(int kind, const char *m) {
  const char *const *list = kind == K_DET ? kDetMetrics : kTrkMetrics;
  for (size_t i = 0; list[i]; i++)
    if (!strcmp(list[i], m)) return true;
  return false;
}

/* Windows: [0, n_win) from the anchor; records [first[w], first[w + 1]). */
static size_t windows(const rsim_eval_live *l, const live_comp *c, size_t **first) {
  size_t n_win = c->n ? win_of(l, rec_t(c, c->n - 1)) + 1 : 0;
  size_t *f = rsim_xmalloc((n_win + 1) * sizeof *f);
  size_t r = 0;
  for (size_t w = 0; w < n_win; w++) {
    f[w] = r;
    while (r < c->n && win_of(l, rec_t(c, r)) == w) r++;
  }
  f[n_win] = c->n;
  *first = f;
  return n_win;
}

static counts det_sum(const live_comp *c, size_t a, size_t b) {
  counts k = {0};
  for (size_t i = a; i < b; i++) k.images++, k.tp += c->det[i].tp, k.fp += c->det[i].fp, k.fn += c->det[i].fn;
  return k;
}

/* Window w's tracking scores and the run's through its end. */
static const trk_cache *trk_window(live_comp *c, const size_t *first, size_t w) {
  if (w >= c->n_cache) {
    c->cache = rsim_xrealloc(c->cache, (w + 1) * sizeof *c->cache);
    memset(c->cache + c->n_cache, 0, (w + 1 - c->n_cache) * sizeof *c->cache);
    c->n_cache = w + 1;
  }
  trk_cache *k = &c->cache[w];
  if (k->ok && k->a == first[w] && k->b == first[w + 1]) return k;
  k->a = first[w], k->b = first[w + 1];
  rsim_eval_frame *f = rsim_xmalloc((k->b + 1) * sizeof *f);
  for (size_t i = 0; i < k->b; i++) f[i] = c->trk[i].f;
  rsim_eval_tracking_clear(f + k->a, k->b - k->a, c->to.max_dist, &k->win);
  rsim_eval_tracking_clear(f, k->b, c->to.max_dist, &k->cum);
  free(f);
  k->ok = true;
  return k;
}

/* A metric of window w (cum: of the run through its end). */
static double metric_at(live_comp *c, const size_t *first, size_t w, bool cum, const char *m) {
  if (c->kind == K_DET) {
    counts k = det_sum(c, cum ? 0 : first[w], first[w + 1]);
    return det_metric(&k, m);
  }
  const trk_cache *k = trk_window(c, first, w);
  return trk_metric(cum ? &k->cum : &k->win, m);
}

/* ---- JSON --------------------------------------------------------------------------- */

static void num(rsim_buf *b, const char *name, double v, bool count) {
  if (!isfinite(v)) rsim_buf_printf(b, "\"%s\":null", name);
  else if (count) rsim_buf_printf(b, "\"%s\":%.0f", name, v);
  else rsim_buf_printf(b, "\"%s\":%.6f", name, v);
}

static void metrics_json(rsim_buf *b, live_comp *c, const size_t *first, size_t w, bool cum) {
  const char *const *list = c->kind == K_DET ? kDetMetrics : kTrkMetrics;
  counts k = {0};
  const rsim_eval_mot *x = NULL;
  if (c->kind == K_DET) k = det_sum(c, cum ? 0 : first[w], first[w + 1]);
  else {
    const trk_cache *t = trk_window(c, first, w);
    x = cum ? &t->cum : &t->win;
  }
  for (size_t i = 0; list[i]; i++) {
    if (i) rsim_buf_putc(b, ',');
    num(b, list[i], x ? trk_metric(x, list[i]) : det_metric(&k, list[i]), rsim_eval_metric_is_count(list[i]));
  }
}

static void box_json(rsim_buf *b, const rsim_eval_live *l, const rsim_eval_box *x) {
  rsim_buf_printf(b, "\"x\":%.1f,\"y\":%.1f,\"width\":%.1f,\"height\":%.1f,\"class\":", x->x, x->y, x->w, x->h);
  const char *cls = rsim_eval_cam_class(l->cam, x->cls);
  rsim_buf_put_json_str(b, cls, strlen(cls));
}

/* The last tracks frame's objects by outcome, for the bird's-eye view:
** pairs within max_dist by minimum total distance (CLEAR's rule for new
** pairs), the rest missed truth and false outputs. */
static void objects_json(rsim_buf *b, const rsim_eval_live *l, const live_comp *c) {
  const trk_rec *r = &c->trk[c->n - 1];
  const rsim_eval_frame *f = &r->f;
  size_t no = f->n_gt, nh = f->n_hyp;
  ptrdiff_t *r2c = rsim_xmalloc((no + 1) * sizeof *r2c), *c2r = rsim_xmalloc((nh + 1) * sizeof *c2r);
  for (size_t j = 0; j < nh; j++) c2r[j] = -1;
  for (size_t i = 0; i < no; i++) r2c[i] = -1;
  if (no && nh) {
    double *cost = rsim_xmalloc(no * nh * sizeof *cost);
    for (size_t i = 0; i < no; i++)
      for (size_t j = 0; j < nh; j++) {
        double d = hypot(f->gt[i].x - f->hyp[j].x, f->gt[i].y - f->hyp[j].y);
        cost[i * nh + j] = d <= c->to.max_dist ? d : 1e12;
      }
    rsim_eval_assign(cost, no, nh, r2c);
    for (size_t i = 0; i < no; i++) {
      double d = r2c[i] >= 0 ? hypot(f->gt[i].x - f->hyp[r2c[i]].x, f->gt[i].y - f->hyp[r2c[i]].y) : INFINITY;
      if (d <= c->to.max_dist) c2r[r2c[i]] = (ptrdiff_t)i;
      else r2c[i] = -1;
    }
    free(cost);
  }
  rsim_buf_printf(b, ",\"objects\":{\"rel_ns\":%lld,\"truth\":[", (long long)(r->t - l->from));
  for (size_t i = 0; i < no; i++)
    rsim_buf_printf(b, "%s{\"id\":%lld,\"x\":%.2f,\"y\":%.2f,\"outcome\":\"%s\"}", i ? "," : "", (long long)f->gt[i].id,
                    f->gt[i].x, f->gt[i].y, r2c[i] >= 0 ? "matched" : "missed");
  rsim_buf_puts(b, "],\"tracks\":[");
  for (size_t j = 0; j < nh; j++)
    rsim_buf_printf(b, "%s{\"id\":%lld,\"x\":%.2f,\"y\":%.2f,\"outcome\":\"%s\"}", j ? "," : "",
                    (long long)f->hyp[j].id, f->hyp[j].x, f->hyp[j].y, c2r[j] >= 0 ? "matched" : "false");
  rsim_buf_puts(b, "]}");
  free(r2c);
  free(c2r);
}

static live_comp *find(rsim_eval_live *l, const char *name) {
  for (size_t i = 0; i < l->n_comps; i++)
    if (!strcmp(l->comps[i].name, name)) return &l->comps[i];
  return NULL;
}

/* Why a gate is not held to the live scores, or NULL when it is. */
static const char *not_live(rsim_eval_live *l, const rsim_eval_gate *g) {
  live_comp *c = find(l, g->component);
  if (!g->has_min && !g->has_max) return "max_regression needs a baseline run: replaysim eval --baseline";
  if (strcmp(g->cls, "all")) return "scores while playing are over all classes: replaysim eval has them by class";
  if (!c) return "the component has no scored output yet";
  if (!live_metric(c->kind, g->metric)) return "not among the scores while playing";
  return NULL;
}

static void where(char *out, size_t n, const rsim_eval_live *l, size_t w) {
  char a[32], b[32];
  rsim_time t0 = l->anchor + (int64_t)w * l->window_ns;
  rsim_format_duration(t0 - l->from, a, sizeof a);
  rsim_format_duration(t0 + l->window_ns - l->from, b, sizeof b);
  snprintf(out, n, "window %s-%s", a, b);
}

/* Each gate, and a marker at the start of every window where it fails:
** a window gate, every window whose value breaks it; a run gate, the
** window through whose end the score so far went from holding to breaking. */
static void gates_json(rsim_buf *out, rsim_buf *marks, size_t *n_marks, rsim_eval_live *l, rsim_time now) {
  rsim_buf_puts(out, ",\"gates\":[");
  for (size_t gi = 0; gi < rsim_eval_gateset_n(l->gates); gi++) {
    const rsim_eval_gate *g = rsim_eval_gateset_at(l->gates, gi);
    rsim_buf_printf(out, "%s{\"gate\":%zu,\"line\":%d,\"component\":", gi ? "," : "", gi + 1, g->line);
    rsim_buf_put_json_str(out, g->component, strlen(g->component));
    rsim_buf_puts(out, ",\"class\":");
    rsim_buf_put_json_str(out, g->cls, strlen(g->cls));
    rsim_buf_puts(out, ",\"metric\":");
    rsim_buf_put_json_str(out, g->metric, strlen(g->metric));
    rsim_buf_printf(out, ",\"scope\":\"%s\",", g->window ? "window" : "run");
    num(out, "min", g->has_min ? g->min : NAN, false);
    rsim_buf_putc(out, ',');
    num(out, "max", g->has_max ? g->max : NAN, false);
    const char *why = not_live(l, g);
    if (why) {
      rsim_buf_puts(out, ",\"live\":false,\"why\":");
      rsim_buf_put_json_str(out, why, strlen(why));
      rsim_buf_putc(out, '}');
      continue;
    }
    live_comp *c = find(l, g->component);
    size_t *first;
    size_t n_win = windows(l, c, &first);
    size_t fails = 0;
    bool was_failing = false;
    for (size_t w = 0; w < n_win; w++) {
      rsim_time end = l->anchor + (int64_t)(w + 1) * l->window_ns;
      if (first[w] == first[w + 1] || (now < end && now < l->to)) continue; /* empty, or not played through */
      double v = metric_at(c, first, w, !g->window, g->metric), limit = NAN;
      if (isnan(v)) continue; /* nothing to hold to, as eval skips it */
      const char *bad = rsim_eval_gate_bound(g, v, &limit);
      bool mark_it = bad && (g->window || !was_failing);
      was_failing = bad != NULL;
      if (!bad) continue;
      fails++;
      if (!mark_it || *n_marks >= MAX_GATE_MARKS) continue;
      char at[80], msg[300];
      where(at, sizeof at, l, w);
      snprintf(msg, sizeof msg, "gate %zu: %s %s %.4g %s %.4g (%s%s)", gi + 1, g->component, g->metric, v, bad, limit,
               g->window ? "" : "so far, through ", at);
      rsim_buf_printf(marks, "%s{\"rel_ns\":%lld,\"kind\":\"gate\",\"component\":", *n_marks ? "," : "",
                      (long long)(l->anchor + (int64_t)w * l->window_ns - l->from));
      rsim_buf_put_json_str(marks, g->component, strlen(g->component));
      rsim_buf_puts(marks, ",\"message\":");
      rsim_buf_put_json_str(marks, msg, strlen(msg));
      rsim_buf_printf(marks, ",\"gate\":%zu,\"scope\":\"%s\",\"metric\":", gi + 1, g->window ? "window" : "run");
      rsim_buf_put_json_str(marks, g->metric, strlen(g->metric));
      rsim_buf_printf(marks, ",\"value\":%.6g,\"threshold\":%.6g,\"window_ns\":%lld}", v, limit,
                      (long long)l->window_ns);
      (*n_marks)++;
    }
    double so_far = n_win ? metric_at(c, first, n_win - 1, true, g->metric) : NAN, limit;
    free(first);
    rsim_buf_puts(out, ",\"live\":true,");
    num(out, "so_far", so_far, rsim_eval_metric_is_count(g->metric));
    rsim_buf_printf(out, ",\"failing_now\":%s,\"windows_failed\":%zu}",
                    !isnan(so_far) && rsim_eval_gate_bound(g, so_far, &limit) ? "true" : "false",
                    g->window ? fails : (size_t)0);
  }
  rsim_buf_putc(out, ']');
}

void rsim_eval_live_json(rsim_eval_live *l, rsim_time now, rsim_buf *out) {
  rsim_buf_printf(out, "{\"sim_time\":%lld,\"window_ns\":%lld,\"window_start_ns\":%lld,\"components\":[",
                  (long long)now, (long long)l->window_ns, (long long)(l->anchor - l->from));
  for (size_t i = 0; i < l->n_comps; i++) {
    live_comp *c = &l->comps[i];
    rsim_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
    rsim_buf_put_json_str(out, c->name, strlen(c->name));
    size_t *first;
    size_t n_win = windows(l, c, &first);
    rsim_buf_printf(out, ",\"kind\":\"%s\",\"scored\":%zu,\"so_far\":{", c->kind == K_DET ? "detection" : "tracking",
                    c->n);
    size_t none[2] = {0, 0}; /* all taken back by a seek: no records */
    if (n_win) metrics_json(out, c, first, n_win - 1, true);
    else if (c->kind == K_DET) metrics_json(out, c, none, 0, false);
    rsim_buf_puts(out, "},\"windows\":[");
    for (size_t w = 0; w < n_win; w++) {
      rsim_buf_printf(out, "%s{\"rel_ns\":%lld,", w ? "," : "",
                      (long long)(l->anchor + (int64_t)w * l->window_ns - l->from));
      if (first[w] < first[w + 1] || c->kind == K_DET) metrics_json(out, c, first, w, false);
      else rsim_buf_puts(out, "\"empty\":true");
      rsim_buf_putc(out, '}');
    }
    free(first);
    rsim_buf_putc(out, ']');
    if (c->kind == K_TRK && c->n) objects_json(out, l, c);
    rsim_buf_putc(out, '}');
  }
  rsim_buf_puts(out, "]");
  rsim_buf gm = {0};
  size_t n_gm = 0;
  if (l->gates) gates_json(out, &gm, &n_gm, l, now);
  rsim_buf_puts(out, ",\"marks\":[");
  for (size_t i = 0; i < l->n_marks; i++) {
    const mark *m = &l->marks[i];
    rsim_buf_printf(out, "%s{\"rel_ns\":%lld,\"kind\":", i ? "," : "", (long long)(m->t - l->from));
    rsim_buf_put_json_str(out, m->kind, strlen(m->kind));
    rsim_buf_puts(out, ",\"component\":");
    rsim_buf_put_json_str(out, m->component, strlen(m->component));
    rsim_buf_puts(out, ",\"message\":");
    rsim_buf_put_json_str(out, m->message, strlen(m->message));
    rsim_buf_putc(out, '}');
  }
  if (n_gm) {
    if (l->n_marks) rsim_buf_putc(out, ',');
    rsim_buf_append(out, gm.data, gm.len);
  }
  rsim_buf_free(&gm);
  rsim_buf_puts(out, "],\"boxes\":");
  if (l->last_t == INT64_MIN) rsim_buf_puts(out, "null");
  else {
    rsim_buf_puts(out, "{\"component\":");
    rsim_buf_put_json_str(out, l->last_comp, strlen(l->last_comp));
    rsim_buf_printf(out, ",\"rel_ns\":%lld,\"camera\":", (long long)(l->last_t - l->from));
    const char *cam = rsim_eval_cam_id(l->cam);
    rsim_buf_put_json_str(out, cam, strlen(cam));
    rsim_buf_puts(out, ",\"truth\":[");
    for (size_t j = 0; j < l->last.n_gt; j++) {
      const rsim_eval_box *x = &l->last.gt[j];
      rsim_buf_puts(out, j ? ",{" : "{");
      box_json(out, l, x);
      rsim_buf_printf(out, ",\"outcome\":\"%s\"}", x->ignore ? "ignored" : l->gt_dt[j] >= 0 ? "matched" : "missed");
    }
    rsim_buf_puts(out, "],\"detections\":[");
    for (size_t i = 0; i < l->last.n_dt; i++) {
      const rsim_eval_box *x = &l->last.dt[i];
      ptrdiff_t m = l->dt_gt[i];
      rsim_buf_puts(out, i ? ",{" : "{");
      box_json(out, l, x);
      rsim_buf_printf(out, ",\"index\":%zu,\"outcome\":\"%s\"}", i,
                      m < 0 ? "false" : l->last.gt[m].ignore ? "ignored" : "matched");
    }
    rsim_buf_puts(out, "]}");
  }
  rsim_buf_puts(out, "}");
}

void rsim_eval_live_free(rsim_eval_live *l) {
  if (!l) return;
  for (size_t i = 0; i < l->n_comps; i++) {
    live_comp *c = &l->comps[i];
    free(c->name);
    free(c->det);
    if (c->kind == K_TRK)
      for (size_t k = 0; k < c->n; k++) {
        free((void *)c->trk[k].f.gt);
        free((void *)c->trk[k].f.hyp);
      }
    free(c->trk);
    free(c->cache);
  }
  free(l->blocks);
  rsim_eval_gateset_free(l->gates);
  rsim_eval_image_clear(&l->last);
  free(l->dt_gt);
  free(l->gt_dt);
  rsim_eval_cam_free(l->cam);
  free(l);
}
