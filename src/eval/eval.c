/*
** eval.c -- `replaysim eval`: reads a run database and the truth of its
** store, turns every scored output into frames (image boxes against truth
** projected through the camera's calibration, or vehicle-frame objects
** against truth at the output's time), runs the metric kernels (coco.c,
** mot.c, plan.c) over the whole run and over time windows, and keeps the numbers
** as rows for a table, JSON and the run database.
**
** What is truth for each kind of output, and which truth is ignored, is
** written down in docs/evaluation.md; the code follows it step by step.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval_int.h"
#include "rsim/engine.h"
#include "rsim/eval_live.h"

enum { EV_NONE = 0, EV_DETECTIONS, EV_TRACKS, EV_PLANS };

typedef struct comp {
  char *name;
  int kind;
  rsim_type *type;
  rsim_eval_point point;
  double max_dist;
  const char *roi_sensor; /* borrowed from the store's sensors */
  /* frames */
  rsim_time *t;
  size_t n, cap;
  rsim_eval_image *images; /* detections */
  rsim_eval_frame *frames; /* tracks */
  rsim_eval_plan *plans;   /* plans */
  char **maneuvers;
  size_t n_maneuvers;
} comp;

struct rsim_eval_result {
  rsim_eval_row *rows;
  size_t n, cap;
  char **strings; /* owned names the rows point at */
  size_t n_strings;
};

typedef struct ctx {
  const rsim_eval_opts *o;
  rsim_store *st;
  rsim_errbuf *eb;
  rsim_truth *truth;
  size_t n_truth;
  size_t *frame_at; /* start index of each truth time */
  size_t n_tframes;
  char **classes;
  size_t n_classes;
  /* camera */
  const char *camera;
  double fx, fy, cx, cy, mx, my, mz;
  int width, height;
  comp *comps;
  size_t n_comps;
  const char *can; /* the ego's speed for planning metrics */
  rsim_eval_result *res;
} ctx;

/* ---- classes and small helpers -------------------------------------------------- */

static int class_of(ctx *c, const char *name) {
  for (size_t i = 0; i < c->n_classes; i++)
    if (!strcmp(c->classes[i], name)) return (int)i;
  c->classes = rsim_xrealloc(c->classes, (c->n_classes + 1) * sizeof *c->classes);
  c->classes[c->n_classes] = rsim_xstrdup(name);
  return (int)c->n_classes++;
}

static const char *keep(rsim_eval_result *r, const char *s) {
  for (size_t i = 0; i < r->n_strings; i++)
    if (!strcmp(r->strings[i], s)) return r->strings[i];
  r->strings = rsim_xrealloc(r->strings, (r->n_strings + 1) * sizeof *r->strings);
  return r->strings[r->n_strings++] = rsim_xstrdup(s);
}

static void row(rsim_eval_result *r, const char *comp_name, const char *kind, bool window, rsim_time t0,
                rsim_time t1, const char *cls, const char *metric, double value) {
  if (r->n == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 256;
    r->rows = rsim_xrealloc(r->rows, r->cap * sizeof *r->rows);
  }
  r->rows[r->n++] = (rsim_eval_row){keep(r, comp_name), kind, window, t0, t1, keep(r, cls), metric, value};
}

static bool meta_num(const rsim_sensor_info *s, const char *key, double *out) {
  const char *v = rsim_kv_get(s->meta, s->n_meta, key);
  char *end;
  if (!v) return false;
  *out = strtod(v, &end);
  return end != v && !*end;
}

/* ---- truth ------------------------------------------------------------------------ */

static int load_truth(ctx *c) {
  if (rsim_store_truth(c->st, INT64_MIN, INT64_MAX, &c->truth, &c->n_truth))
    return rsim_errbuf_set(c->eb, RSIM_EBACKEND, "%s", rsim_store_errmsg(c->st));
  if (!c->n_truth)
    return rsim_errbuf_set(c->eb, RSIM_ENOTFOUND, "%s: the store holds no ground truth (replaysim generate writes it)",
                           rsim_store_path(c->st));
  c->frame_at = rsim_xmalloc((c->n_truth + 1) * sizeof *c->frame_at);
  for (size_t i = 0; i < c->n_truth; i++)
    if (!i || c->truth[i].t != c->truth[i - 1].t) c->frame_at[c->n_tframes++] = i;
  c->frame_at[c->n_tframes] = c->n_truth;
  return RSIM_OK;
}

/* Truth at time t: the frame at t, or each object of the frame before
** moved linearly towards the same object in the frame after.  Returns
** false outside the truth's time range. */
static bool truth_at(const ctx *c, rsim_time t, rsim_truth **out, size_t *n) {
  size_t lo = 0, hi = c->n_tframes;
  while (hi - lo > 1) { /* the last frame at or before t */
    size_t mid = (lo + hi) / 2;
    if (c->truth[c->frame_at[mid]].t <= t) lo = mid;
    else hi = mid;
  }
  const rsim_truth *a = &c->truth[c->frame_at[lo]];
  size_t na = c->frame_at[lo + 1] - c->frame_at[lo];
  if (a->t > t || (a->t < t && lo + 1 >= c->n_tframes)) return false;
  *out = rsim_xmalloc((na ? na : 1) * sizeof **out);
  memcpy(*out, a, na * sizeof **out);
  *n = na;
  if (a->t == t) return true;
  const rsim_truth *b = &c->truth[c->frame_at[lo + 1]];
  size_t nb = c->frame_at[lo + 2] - c->frame_at[lo + 1];
  double w = (double)(t - a->t) / (double)(b->t - a->t);
  for (size_t i = 0; i < na; i++)
    for (size_t j = 0; j < nb; j++)
      if (b[j].object_id == a[i].object_id) {
        rsim_truth *g = &(*out)[i];
        g->x += (b[j].x - g->x) * w;
        g->y += (b[j].y - g->y) * w;
        g->z += (b[j].z - g->z) * w;
        g->vx += (b[j].vx - g->vx) * w;
        g->vy += (b[j].vy - g->vy) * w;
        break;
      }
  for (size_t i = 0; i < na; i++) (*out)[i].t = t;
  return true;
}

/* ---- camera ------------------------------------------------------------------------ */

static int setup_camera(ctx *c) {
  const rsim_sensor_info *s = c->o->camera ? rsim_store_sensor(c->st, c->o->camera)
                                           : rsim_store_first_of_kind(c->st, RSIM_SENSOR_CAMERA);
  if (!s)
    return rsim_errbuf_set(c->eb, RSIM_ENOTFOUND, "%s: no camera %s%s%sto project the truth into",
                           rsim_store_path(c->st), c->o->camera ? "'" : "", c->o->camera ? c->o->camera : "",
                           c->o->camera ? "' " : "");
  static const char *const keys[] = {"fx", "fy", "cx", "cy", "mount_x", "mount_y", "mount_z"};
  double *dst[] = {&c->fx, &c->fy, &c->cx, &c->cy, &c->mx, &c->my, &c->mz};
  for (size_t i = 0; i < 7; i++)
    if (!meta_num(s, keys[i], dst[i]))
      return rsim_errbuf_set(c->eb, RSIM_ENOTFOUND, "camera '%s': no calibration '%s' in its sensor metadata", s->id,
                             keys[i]);
  double pitch = 0;
  if (meta_num(s, "pitch", &pitch) && pitch != 0)
    return rsim_errbuf_set(c->eb, RSIM_ENOTSUP, "camera '%s': pitch %g: only a level camera (pitch 0) is supported",
                           s->id, pitch);
  rsim_time first, last;
  rsim_reading r = {0};
  if (rsim_store_time_range(c->st, &first, &last) || rsim_store_reading_at(c->st, s->id, last, &r))
    return rsim_errbuf_set(c->eb, RSIM_ENOTFOUND, "camera '%s': no reading to take the image size from", s->id);
  int bpp;
  bool ok = rsim_reading_frame(&r, &c->width, &c->height, &bpp);
  rsim_reading_clear(&r);
  if (!ok) return rsim_errbuf_set(c->eb, RSIM_ENOTSUP, "camera '%s': frames are not plain rgb8/mono8", s->id);
  c->camera = s->id;
  return RSIM_OK;
}

typedef struct proj {
  double x0, y0, x1, y1, near;
  bool in_view;
} proj;

/* The truth's box in the image: the bounding rectangle of its eight corners,
** clipped to the image. */
static proj project(const ctx *c, const rsim_truth *g) {
  proj p = {1e300, 1e300, -1e300, -1e300, 1e300, false};
  double ch = cos(g->heading), sh = sin(g->heading);
  for (int k = 0; k < 8; k++) {
    double lx = (k & 1 ? 0.5 : -0.5) * g->length, ly = (k & 2 ? 0.5 : -0.5) * g->width;
    double z = g->z + (k & 4 ? 0.5 : -0.5) * g->height - c->mz;
    double x = g->x + lx * ch - ly * sh - c->mx, y = g->y + lx * sh + ly * ch - c->my;
    if (x < p.near) p.near = x;
    if (x < 1.0) return p; /* at or behind the lens: not scored */
    double u = c->cx - c->fx * y / x, v = c->cy - c->fy * z / x;
    p.x0 = fmin(p.x0, u), p.x1 = fmax(p.x1, u), p.y0 = fmin(p.y0, v), p.y1 = fmax(p.y1, v);
  }
  p.x0 = fmax(p.x0, 0), p.y0 = fmax(p.y0, 0), p.x1 = fmin(p.x1, c->width), p.y1 = fmin(p.y1, c->height);
  p.in_view = p.x1 > p.x0 && p.y1 > p.y0;
  return p;
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The part of box i that no nearer box covers, as a fraction of it
** (exact, on the grid of all the boxes' edges). */
static double visible(const proj *p, size_t n, size_t i) {
  double xs[2 * 64 + 2], ys[2 * 64 + 2];
  size_t nx = 0, ny = 0;
  xs[nx++] = p[i].x0, xs[nx++] = p[i].x1, ys[ny++] = p[i].y0, ys[ny++] = p[i].y1;
  for (size_t k = 0; k < n && nx < 128; k++)
    if (k != i && p[k].in_view && p[k].near < p[i].near) {
      xs[nx++] = fmin(fmax(p[k].x0, p[i].x0), p[i].x1), xs[nx++] = fmin(fmax(p[k].x1, p[i].x0), p[i].x1);
      ys[ny++] = fmin(fmax(p[k].y0, p[i].y0), p[i].y1), ys[ny++] = fmin(fmax(p[k].y1, p[i].y0), p[i].y1);
    }
  qsort(xs, nx, sizeof *xs, cmp_dbl);
  qsort(ys, ny, sizeof *ys, cmp_dbl);
  double free_area = 0;
  for (size_t a = 0; a + 1 < nx; a++)
    for (size_t b = 0; b + 1 < ny; b++) {
      double w = xs[a + 1] - xs[a], h = ys[b + 1] - ys[b];
      if (w <= 0 || h <= 0) continue;
      double mx = (xs[a] + xs[a + 1]) / 2, my = (ys[b] + ys[b + 1]) / 2;
      bool covered = false;
      for (size_t k = 0; k < n && !covered; k++)
        covered = k != i && p[k].in_view && p[k].near < p[i].near && mx > p[k].x0 && mx < p[k].x1 && my > p[k].y0 &&
                  my < p[k].y1;
      if (!covered) free_area += w * h;
    }
  return free_area / ((p[i].x1 - p[i].x0) * (p[i].y1 - p[i].y0));
}

/* ---- outputs ------------------------------------------------------------------------ */

static const rsim_val *field(const rsim_val *v, const rsim_type *t, const char *name, const rsim_type **ft) {
  *ft = rsim_type_field(t, name);
  return rsim_val_field(v, t, name);
}

static double num(const rsim_val *v, const rsim_type *t, const char *name) {
  const rsim_type *ft;
  const rsim_val *f = field(v, t, name, &ft);
  return f ? rsim_val_number(f) : NAN;
}

/* The element record type of a list of records with every named field. */
static const rsim_type *records_with(const rsim_type *t, const char *a, const char *b) {
  if (!t || t->kind != RSIM_LIST || !t->types[0] || t->types[0]->kind != RSIM_RECORD) return NULL;
  const rsim_type *e = t->types[0];
  return rsim_type_member(e, a) >= 0 && (!b || rsim_type_member(e, b) >= 0) ? e : NULL;
}

static void add_frame(comp *k, rsim_time t) {
  if (k->n == k->cap) {
    k->cap = k->cap ? 2 * k->cap : 64;
    k->t = rsim_xrealloc(k->t, k->cap * sizeof *k->t);
    k->images = rsim_xrealloc(k->images, k->cap * sizeof *k->images);
    k->frames = rsim_xrealloc(k->frames, k->cap * sizeof *k->frames);
    k->plans = rsim_xrealloc(k->plans, k->cap * sizeof *k->plans);
  }
  k->t[k->n] = t;
  memset(&k->images[k->n], 0, sizeof k->images[k->n]);
  memset(&k->frames[k->n], 0, sizeof k->frames[k->n]);
  memset(&k->plans[k->n], 0, sizeof k->plans[k->n]);
  k->n++;
}

static void detection_frame(ctx *c, comp *k, rsim_time t, const rsim_val *v, const rsim_truth *g, size_t ng) {
  const rsim_type *et = records_with(k->type, "bbox", NULL);
  add_frame(k, t);
  rsim_eval_image *im = &k->images[k->n - 1];
  rsim_eval_box *dt = rsim_xmalloc((v->of.agg.n + 1) * sizeof *dt);
  for (size_t i = 0; i < v->of.agg.n; i++) {
    const rsim_val *o = &v->of.agg.items[i];
    const rsim_type *bt, *ct;
    const rsim_val *b = field(o, et, "bbox", &bt), *cls = field(o, et, "class", &ct);
    double score = num(o, et, "confidence");
    dt[i] = (rsim_eval_box){num(b, bt, "x"), num(b, bt, "y"), num(b, bt, "width"), num(b, bt, "height"),
                            class_of(c, cls && cls->kind == RSIM_STRING ? cls->of.str.ptr : "object"),
                            isnan(score) ? 1.0 : score, false};
  }
  proj *p = rsim_xmalloc((ng + 1) * sizeof *p);
  for (size_t i = 0; i < ng; i++) p[i] = project(c, &g[i]);
  rsim_eval_box *gt = rsim_xmalloc((ng + 1) * sizeof *gt);
  size_t n = 0;
  for (size_t i = 0; i < ng; i++) {
    if (!p[i].in_view) continue;
    double w = p[i].x1 - p[i].x0, h = p[i].y1 - p[i].y0;
    bool ignore = w < c->o->min_px || h < c->o->min_px || visible(p, ng, i) < c->o->min_visible;
    gt[n++] = (rsim_eval_box){p[i].x0, p[i].y0, w, h, class_of(c, g[i].cls), 0, ignore};
  }
  free(p);
  *im = (rsim_eval_image){gt, dt, n, v->of.agg.n};
}

/* The point of the truth that outputs are compared with. */
static void ref_point(const rsim_truth *g, rsim_eval_point pt, double *x, double *y) {
  *x = g->x, *y = g->y;
  if (pt == RSIM_EVAL_NEAR && fabs(g->x) > g->length / 2) *x = g->x > 0 ? g->x - g->length / 2 : g->x + g->length / 2;
}

/* Whether the truth is where the component's sensor can see it: inside the
** field of view and range of its radar (mount_x, fov_rad, max_range_m). */
static bool in_roi(const ctx *c, const comp *k, const rsim_truth *g) {
  const rsim_sensor_info *s = k->roi_sensor ? rsim_store_sensor(c->st, k->roi_sensor) : NULL;
  if (!s) return true;
  double mx = 0, fov = 2 * M_PI, range = INFINITY, x, y;
  meta_num(s, "mount_x", &mx);
  meta_num(s, "fov_rad", &fov);
  meta_num(s, "max_range_m", &range);
  ref_point(g, RSIM_EVAL_NEAR, &x, &y);
  double dx = x - mx;
  return dx > 0 && hypot(dx, y) <= range && fabs(atan2(y, dx)) <= fov / 2;
}

typedef struct idmap {
  char **s;
  size_t n;
} idmap;

static int64_t intern_id(idmap *m, const char *s) {
  for (size_t i = 0; i < m->n; i++)
    if (!strcmp(m->s[i], s)) return (int64_t)i;
  m->s = rsim_xrealloc(m->s, (m->n + 1) * sizeof *m->s);
  m->s[m->n] = rsim_xstrdup(s);
  return (int64_t)m->n++;
}

static void tracking_frame(ctx *c, comp *k, idmap *ids, rsim_time t, const rsim_val *v, const rsim_truth *g,
                           size_t ng) {
  const rsim_type *et = records_with(k->type, "id", "position");
  size_t nh = v->of.agg.n;
  rsim_eval_obj *hyp = rsim_xmalloc((nh + 1) * sizeof *hyp), *gt = rsim_xmalloc((ng + 1) * sizeof *gt);
  for (size_t i = 0; i < nh; i++) {
    const rsim_val *o = &v->of.agg.items[i];
    const rsim_type *it, *pt, *vt;
    const rsim_val *id = field(o, et, "id", &it), *pos = field(o, et, "position", &pt), *vel = field(o, et, "velocity", &vt);
    int64_t idv = id && id->kind == RSIM_STRING ? intern_id(ids, id->of.str.ptr) : (int64_t)rsim_val_number(id);
    hyp[i] = (rsim_eval_obj){idv, num(pos, pt, "x"), num(pos, pt, "y"), vel ? num(vel, vt, "x") : 0, vel ? num(vel, vt, "y") : 0};
  }
  /* Truth outside the region of interest is a distractor: outputs that
  ** match it (Hungarian over all truth, within max_dist) are dropped with
  ** it, as TrackEval's preprocessing does for distractor classes. */
  bool *roi = rsim_xmalloc(ng + 1), *drop = rsim_xcalloc(nh + 1, 1);
  size_t n_out = 0;
  for (size_t i = 0; i < ng; i++) n_out += !(roi[i] = in_roi(c, k, &g[i]));
  if (n_out && nh) {
    double *cost = rsim_xmalloc(ng * nh * sizeof *cost);
    for (size_t i = 0; i < ng; i++)
      for (size_t j = 0; j < nh; j++) {
        double x, y;
        ref_point(&g[i], k->point, &x, &y);
        double d = hypot(hyp[j].x - x, hyp[j].y - y);
        cost[i * nh + j] = d <= k->max_dist ? d : 1e12;
      }
    ptrdiff_t *r2c = rsim_xmalloc(ng * sizeof *r2c);
    double *copy = rsim_xmalloc(ng * nh * sizeof *copy);
    memcpy(copy, cost, ng * nh * sizeof *copy);
    rsim_eval_assign(copy, ng, nh, r2c);
    for (size_t i = 0; i < ng; i++)
      if (!roi[i] && r2c[i] >= 0 && cost[i * nh + (size_t)r2c[i]] < 1e12) drop[r2c[i]] = true;
    free(cost);
    free(copy);
    free(r2c);
  }
  size_t kept = 0, n = 0;
  for (size_t j = 0; j < nh; j++)
    if (!drop[j]) hyp[kept++] = hyp[j];
  for (size_t i = 0; i < ng; i++)
    if (roi[i]) {
      double x, y;
      ref_point(&g[i], k->point, &x, &y);
      gt[n++] = (rsim_eval_obj){g[i].object_id, x, y, g[i].vx, g[i].vy};
    }
  free(roi);
  free(drop);
  add_frame(k, t);
  k->frames[k->n - 1] = (rsim_eval_frame){gt, hyp, n, kept};
}

/* ---- the run database --------------------------------------------------------------- */

static int db_fail(ctx *c, sqlite3 *db, const char *path, const char *what) {
  return rsim_errbuf_set(c->eb, RSIM_EBACKEND, "%s: %s: %s", path, what, sqlite3_errmsg(db));
}

static char *run_value(sqlite3 *db, const char *key) {
  sqlite3_stmt *st;
  char *v = NULL;
  if (sqlite3_prepare_v2(db, "SELECT value FROM run WHERE key = ?", -1, &st, NULL) != SQLITE_OK) return NULL;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) v = rsim_xstrdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return v;
}

/* Settings of the graph's `eval:` block for component k. */
static int apply_eval_block(ctx *c, const rsim_kv *kv, size_t n, const char *graph) {
  for (size_t i = 0; i < n; i++) {
    const char *dot = strrchr(kv[i].key, '.');
    size_t len = (size_t)(dot - kv[i].key);
    comp *k = NULL;
    for (size_t j = 0; j < c->n_comps && !k; j++)
      if (strlen(c->comps[j].name) == len && !strncmp(c->comps[j].name, kv[i].key, len)) k = &c->comps[j];
    if (!k)
      return rsim_errbuf_set(c->eb, RSIM_EGRAPH, "%s: eval: '%.*s' is not a component of the run", graph, (int)len,
                             kv[i].key);
    const char *key = dot + 1, *v = kv[i].value;
    char *end;
    if (!strcmp(key, "as") && !strcmp(v, "detections") && records_with(k->type, "bbox", NULL)) k->kind = EV_DETECTIONS;
    else if (!strcmp(key, "as") && !strcmp(v, "tracks") && records_with(k->type, "id", "position")) k->kind = EV_TRACKS;
    else if (!strcmp(key, "as") && !strcmp(v, "plans") && rsim__eval_is_plan_type(k->type)) k->kind = EV_PLANS;
    else if (!strcmp(key, "as") && !strcmp(v, "none")) k->kind = EV_NONE;
    else if (!strcmp(key, "point") && (!strcmp(v, "centre") || !strcmp(v, "near")))
      k->point = !strcmp(v, "near") ? RSIM_EVAL_NEAR : RSIM_EVAL_CENTRE;
    else if (!strcmp(key, "max_dist") && (k->max_dist = strtod(v, &end)) > 0 && !*end) {
    } else if (!strcmp(key, "sensor") && rsim_store_sensor(c->st, v))
      k->roi_sensor = rsim_store_sensor(c->st, v)->id;
    else
      return rsim_errbuf_set(c->eb, RSIM_EGRAPH,
                             "%s: eval: %s: %s: '%s' is not valid (as: detections|tracks|plans|none for outputs "
                             "of that type, point: centre|near, max_dist: metres, sensor: a sensor of the store)",
                             graph, k->name, key, v);
  }
  return RSIM_OK;
}

static int load_components(ctx *c, sqlite3 *db, const char *path) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "SELECT name, result_type FROM components ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
    return db_fail(c, db, path, "not a run database");
  const rsim_sensor_info *radar = rsim_store_first_of_kind(c->st, RSIM_SENSOR_RADAR);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(st, 0), *type = (const char *)sqlite3_column_text(st, 1);
    c->comps = rsim_xrealloc(c->comps, (c->n_comps + 1) * sizeof *c->comps);
    comp *k = &c->comps[c->n_comps++];
    memset(k, 0, sizeof *k);
    k->name = rsim_xstrdup(name ? name : "?");
    k->type = type ? rsim__eval_type_parse(type) : NULL;
    k->point = c->o->point;
    k->max_dist = c->o->max_dist;
    k->roi_sensor = radar ? radar->id : NULL;
    if (records_with(k->type, "bbox", NULL)) k->kind = EV_DETECTIONS;
    else if (records_with(k->type, "id", "position")) k->kind = EV_TRACKS;
    else if (rsim__eval_is_plan_type(k->type)) k->kind = EV_PLANS;
  }
  sqlite3_finalize(st);
  return RSIM_OK;
}

static int load_outputs(ctx *c, sqlite3 *db, const char *path, comp *k) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "SELECT t, value FROM outputs WHERE component = ? ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
    return db_fail(c, db, path, "outputs");
  sqlite3_bind_text(st, 1, k->name, -1, SQLITE_STATIC);
  idmap ids = {0};
  int rc = RSIM_OK, step;
  while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
    rsim_time t = sqlite3_column_int64(st, 0);
    /* A scene is scored over its own range, not the warm-up before it. */
    if ((c->o->from && t < c->o->from) || (c->o->to && t > c->o->to)) continue;
    rsim_val v = {0};
    size_t used;
    if (rsim_val_decode(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), &v, &used) ||
        v.kind != (k->kind == EV_PLANS ? RSIM_RECORD : RSIM_LIST)) {
      rc = rsim_errbuf_set(c->eb, RSIM_ECORRUPT, "%s: an output of '%s' at %lld does not decode as its type", path,
                           k->name, (long long)t);
    } else {
      rsim_truth *g = NULL;
      size_t ng = 0;
      if (truth_at(c, t, &g, &ng)) {
        if (k->kind == EV_DETECTIONS) detection_frame(c, k, t, &v, g, ng);
        else if (k->kind == EV_TRACKS) tracking_frame(c, k, &ids, t, &v, g, ng);
        else {
          add_frame(k, t);
          rsim__eval_plan_from(&v, k->type, (double)(t - c->truth[0].t) / 1e9, g, ng,
                               rsim__eval_ego_speed(c->st, c->can, t), c->o->ego_front, &k->maneuvers,
                               &k->n_maneuvers, &k->plans[k->n - 1]);
        }
      }
      free(g);
    }
    rsim_val_clear(&v);
  }
  if (!rc && step != SQLITE_DONE) rc = db_fail(c, db, path, "outputs");
  sqlite3_finalize(st);
  for (size_t i = 0; i < ids.n; i++) free(ids.s[i]);
  free(ids.s);
  return rc;
}

/* ---- scoring ------------------------------------------------------------------------- */

static void score_plans(ctx *c, const comp *k, size_t a, size_t b, bool window, rsim_time t0, rsim_time t1) {
  rsim_eval_result *r = c->res;
  rsim_eval_planning x;
  int64_t *entries = rsim_xmalloc((k->n_maneuvers + 1) * sizeof *entries);
  double *time = rsim_xmalloc((k->n_maneuvers + 1) * sizeof *time);
  rsim_eval_plans(k->plans + a, b - a, k->n_maneuvers, entries, time, &x);
  const struct {
    const char *m;
    double v;
  } m[] = {{"min_ttc", x.min_ttc},
           {"min_headway", x.min_headway},
           {"max_decel", x.max_decel},
           {"max_accel", x.max_accel},
           {"hard_brakes", (double)x.hard_brakes},
           {"hard_brake_time", x.hard_brake_time},
           {"comfortable", x.comfortable},
           {"lon_accel_min", x.lon_accel_min},
           {"lon_accel_max", x.lon_accel_max},
           {"lat_accel_max", x.lat_accel_max},
           {"yaw_rate_max", x.yaw_rate_max},
           {"yaw_accel_max", x.yaw_accel_max},
           {"lon_jerk_max", x.lon_jerk_max},
           {"jerk_max", x.jerk_max},
           {"plans", (double)x.plans}};
  for (size_t j = 0; j < sizeof m / sizeof *m; j++) row(r, k->name, "planning", window, t0, t1, "all", m[j].m, m[j].v);
  for (size_t j = 0; j < k->n_maneuvers; j++) {
    row(r, k->name, "planning", window, t0, t1, k->maneuvers[j], "entries", (double)entries[j]);
    row(r, k->name, "planning", window, t0, t1, k->maneuvers[j], "time", time[j]);
  }
  free(entries);
  free(time);
}

static void score(ctx *c, const comp *k, size_t a, size_t b, bool window, rsim_time t0, rsim_time t1) {
  rsim_eval_result *r = c->res;
  if (k->kind == EV_DETECTIONS) {
    rsim_eval_det *d = rsim_xmalloc((c->n_classes + 1) * sizeof *d);
    rsim_eval_detection(k->images + a, b - a, (int)c->n_classes, c->o->iou, d);
    for (size_t i = 0; i <= c->n_classes; i++) {
      const char *cls = i == c->n_classes ? "all" : c->classes[i];
      const rsim_eval_det *x = &d[i];
      const struct {
        const char *m;
        double v;
      } m[] = {{"ap", x->ap},       {"ap50", x->ap50},           {"precision", x->precision},
               {"recall", x->recall}, {"f1", x->f1},             {"tp", (double)x->tp},
               {"fp", (double)x->fp}, {"fn", (double)x->fn}};
      for (size_t j = 0; j < sizeof m / sizeof *m; j++) row(r, k->name, "detection", window, t0, t1, cls, m[j].m, m[j].v);
    }
    free(d);
  } else if (k->kind == EV_PLANS) {
    score_plans(c, k, a, b, window, t0, t1);
  } else {
    rsim_eval_mot x;
    rsim_eval_tracking(k->frames + a, b - a, k->max_dist, &x);
    const struct {
      const char *m;
      double v;
    } m[] = {{"mota", x.mota},
             {"motp", x.motp},
             {"idf1", x.idf1},
             {"hota", x.hota},
             {"deta", x.deta},
             {"assa", x.assa},
             {"loca", x.loca},
             {"idp", x.idp},
             {"idr", x.idr},
             {"precision", x.precision},
             {"recall", x.recall},
             {"f1", x.f1},
             {"objects", (double)x.objects},
             {"predictions", (double)x.predictions},
             {"matches", (double)x.matches},
             {"switches", (double)x.switches},
             {"fragmentations", (double)x.fragmentations},
             {"misses", (double)x.misses},
             {"false_positives", (double)x.false_positives},
             {"idtp", (double)x.idtp},
             {"idfp", (double)x.idfp},
             {"idfn", (double)x.idfn},
             {"pos_err_mean", x.pos_err.mean},
             {"pos_err_rmse", x.pos_err.rmse},
             {"pos_err_p95", x.pos_err.p95},
             {"vel_err_mean", x.vel_err.mean},
             {"vel_err_rmse", x.vel_err.rmse},
             {"vel_err_p95", x.vel_err.p95}};
    for (size_t j = 0; j < sizeof m / sizeof *m; j++) row(r, k->name, "tracking", window, t0, t1, "all", m[j].m, m[j].v);
  }
}

static void dump_num(rsim_buf *b, double v) {
  if (isfinite(v)) rsim_buf_printf(b, "%.17g", v);
  else rsim_buf_puts(b, "null");
}

/* Plans: t (s), points [dt, x, y, speed, accel], manoeuvre index, the
** lead's gap and speed; then the manoeuvre names. */
static void dump_plans(rsim_buf *b, const comp *k) {
  for (size_t f = 0; f < k->n; f++) {
    const rsim_eval_plan *p = &k->plans[f];
    rsim_buf_printf(b, "%s\n {\"t\": %.17g, \"maneuver\": %d, \"lead_gap\": ", f ? "," : "", p->t, p->maneuver);
    dump_num(b, p->lead_gap);
    rsim_buf_puts(b, ", \"lead_speed\": ");
    dump_num(b, p->lead_speed);
    rsim_buf_puts(b, ", \"points\": [");
    for (size_t j = 0; j < p->n_pts; j++) {
      const rsim_eval_plan_point *q = &p->pts[j];
      rsim_buf_printf(b, "%s[%.17g, %.17g, %.17g, %.17g, %.17g]", j ? ", " : "", q->dt, q->x, q->y, q->speed, q->accel);
    }
    rsim_buf_puts(b, "]}");
  }
  rsim_buf_puts(b, "], \"maneuvers\": [");
  for (size_t j = 0; j < k->n_maneuvers; j++) {
    if (j) rsim_buf_puts(b, ", ");
    rsim_buf_put_json_str(b, k->maneuvers[j], strlen(k->maneuvers[j]));
  }
  rsim_buf_puts(b, "]}");
}

static int write_dump(ctx *c, const char *path) {
  rsim_buf b = {0};
  rsim_buf_puts(&b, "{\"classes\": [");
  for (size_t i = 0; i < c->n_classes; i++) {
    if (i) rsim_buf_puts(&b, ", ");
    rsim_buf_put_json_str(&b, c->classes[i], strlen(c->classes[i]));
  }
  rsim_buf_printf(&b, "], \"iou\": %.17g, \"components\": [", c->o->iou);
  bool first = true;
  for (size_t i = 0; i < c->n_comps; i++) {
    const comp *k = &c->comps[i];
    if (k->kind == EV_NONE) continue;
    rsim_buf_puts(&b, first ? "\n{\"component\": " : ",\n{\"component\": ");
    first = false;
    rsim_buf_put_json_str(&b, k->name, strlen(k->name));
    rsim_buf_printf(&b, ", \"kind\": \"%s\", \"max_dist\": %.17g, \"frames\": [",
                    k->kind == EV_DETECTIONS ? "detection" : k->kind == EV_TRACKS ? "tracking" : "planning", k->max_dist);
    if (k->kind == EV_PLANS) {
      dump_plans(&b, k);
      continue;
    }
    for (size_t f = 0; f < k->n; f++) {
      rsim_buf_printf(&b, "%s\n {\"t\": %lld, \"gt\": [", f ? "," : "", (long long)k->t[f]);
      if (k->kind == EV_DETECTIONS) {
        const rsim_eval_image *im = &k->images[f];
        for (size_t j = 0; j < im->n_gt; j++) {
          const rsim_eval_box *x = &im->gt[j];
          rsim_buf_printf(&b, "%s[%.17g, %.17g, %.17g, %.17g, %d, %d]", j ? ", " : "", x->x, x->y, x->w, x->h, x->cls,
                          x->ignore);
        }
        rsim_buf_puts(&b, "], \"dt\": [");
        for (size_t j = 0; j < im->n_dt; j++) {
          const rsim_eval_box *x = &im->dt[j];
          rsim_buf_printf(&b, "%s[%.17g, %.17g, %.17g, %.17g, %d, %.17g]", j ? ", " : "", x->x, x->y, x->w, x->h,
                          x->cls, x->score);
        }
      } else {
        const rsim_eval_frame *fr = &k->frames[f];
        for (int side = 0; side < 2; side++) {
          if (side) rsim_buf_puts(&b, "], \"hyp\": [");
          size_t n = side ? fr->n_hyp : fr->n_gt;
          for (size_t j = 0; j < n; j++) {
            const rsim_eval_obj *x = side ? &fr->hyp[j] : &fr->gt[j];
            rsim_buf_printf(&b, "%s[%lld, ", j ? ", " : "", (long long)x->id);
            dump_num(&b, x->x), rsim_buf_puts(&b, ", "), dump_num(&b, x->y), rsim_buf_puts(&b, ", ");
            dump_num(&b, x->vx), rsim_buf_puts(&b, ", "), dump_num(&b, x->vy), rsim_buf_puts(&b, "]");
          }
        }
      }
      rsim_buf_puts(&b, "]}");
    }
    rsim_buf_puts(&b, "]}");
  }
  rsim_buf_puts(&b, "\n]}\n");
  FILE *f = fopen(path, "w");
  bool ok = f && fwrite(b.data, 1, b.len, f) == b.len;
  if (f && fclose(f)) ok = false;
  rsim_buf_free(&b);
  return ok ? RSIM_OK : rsim_errbuf_set(c->eb, RSIM_EIO, "%s: cannot write the dump", path);
}

static void free_ctx(ctx *c) {
  for (size_t i = 0; i < c->n_comps; i++) {
    comp *k = &c->comps[i];
    for (size_t f = 0; f < k->n; f++) {
      if (k->kind == EV_DETECTIONS) {
        free((void *)k->images[f].gt);
        free((void *)k->images[f].dt);
      } else if (k->kind == EV_PLANS) {
        free((void *)k->plans[f].pts);
      } else {
        free((void *)k->frames[f].gt);
        free((void *)k->frames[f].hyp);
      }
    }
    free(k->t);
    free(k->images);
    free(k->frames);
    free(k->plans);
    for (size_t j = 0; j < k->n_maneuvers; j++) free(k->maneuvers[j]);
    free(k->maneuvers);
    free(k->name);
    rsim_type_free(k->type);
  }
  free(c->comps);
  for (size_t i = 0; i < c->n_classes; i++) free(c->classes[i]);
  free(c->classes);
  free(c->truth);
  free(c->frame_at);
}

int rsim_eval_run(const char *run_db, rsim_store *truth, const rsim_eval_opts *opts, rsim_eval_result **out,
                  rsim_errbuf *eb) {
  *out = NULL;
  rsim_eval_opts o = opts ? *opts : (rsim_eval_opts){0};
  if (o.iou <= 0) o.iou = 0.5;
  if (o.max_dist <= 0) o.max_dist = 2.0;
  if (o.window_ns == 0) o.window_ns = RSIM_NS_PER_S;
  if (o.min_px <= 0) o.min_px = 8;
  if (o.min_visible <= 0) o.min_visible = 0.5;
  if (o.ego_front <= 0) o.ego_front = 3.8;
  ctx c = {.o = &o, .st = truth, .eb = eb};
  const rsim_sensor_info *can = rsim_store_first_of_kind(truth, RSIM_SENSOR_CAN);
  c.can = can ? can->id : NULL;
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(run_db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    int rc = rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot open the run database: %s", run_db, db ? sqlite3_errmsg(db) : "");
    sqlite3_close(db);
    return rc;
  }
  int rc = load_components(&c, db, run_db);
  /* The graph's eval: block, from the graph named or the one the run recorded. */
  char *graph = o.graph ? rsim_xstrdup(o.graph) : run_value(db, "graph");
  if (!rc && graph && (o.graph || rsim_file_readable(graph))) {
    rsim_graph *g = NULL;
    rc = rsim_graph_load(graph, &g, eb);
    size_t n = 0;
    const rsim_kv *kv = g ? rsim_graph_eval(g, &n) : NULL;
    if (!rc) rc = apply_eval_block(&c, kv, n, graph);
    rsim_graph_free(g);
  }
  free(graph);
  bool any = false, det = false;
  for (size_t i = 0; i < c.n_comps; i++) any |= c.comps[i].kind != EV_NONE, det |= c.comps[i].kind == EV_DETECTIONS;
  if (!rc && !any)
    rc = rsim_errbuf_set(eb, RSIM_ENOTFOUND,
                         "%s: no output to score (lists of records with a bbox, or with an id and a position; plans)", run_db);
  if (!rc) rc = load_truth(&c);
  if (!rc && det) rc = setup_camera(&c);
  for (size_t i = 0; !rc && i < c.n_comps; i++)
    if (c.comps[i].kind != EV_NONE) rc = load_outputs(&c, db, run_db, &c.comps[i]);
  sqlite3_close(db);
  if (!rc && o.dump) rc = write_dump(&c, o.dump);
  if (rc) {
    free_ctx(&c);
    return rc;
  }
  c.res = rsim_xcalloc(1, sizeof *c.res);
  rsim_time anchor = c.truth[0].t;
  for (size_t i = 0; i < c.n_comps; i++) {
    const comp *k = &c.comps[i];
    if (k->kind == EV_NONE) continue;
    score(&c, k, 0, k->n, false, k->n ? k->t[0] : anchor, k->n ? k->t[k->n - 1] + 1 : anchor);
    if (o.window_ns < 0) continue;
    for (size_t a = 0; a < k->n;) {
      rsim_time w0 = anchor + (k->t[a] - anchor) / o.window_ns * o.window_ns, w1 = w0 + o.window_ns;
      size_t b = a;
      while (b < k->n && k->t[b] < w1) b++;
      score(&c, k, a, b, true, w0, w1);
      a = b;
    }
  }
  *out = c.res;
  free_ctx(&c);
  return RSIM_OK;
}

/* ---- results ------------------------------------------------------------------------- */

size_t rsim_eval_n_rows(const rsim_eval_result *r) { return r->n; }
const rsim_eval_row *rsim_eval_row_at(const rsim_eval_result *r, size_t i) { return &r->rows[i]; }

double rsim_eval_get(const rsim_eval_result *r, const char *component, const char *cls, const char *metric) {
  for (size_t i = 0; i < r->n; i++) {
    const rsim_eval_row *x = &r->rows[i];
    if (!x->window && !strcmp(x->component, component) && !strcmp(x->cls, cls ? cls : "all") && !strcmp(x->metric, metric))
      return x->value;
  }
  return NAN;
}

rsim_eval_result *rsim_eval_result_new(void) { return rsim_xcalloc(1, sizeof(rsim_eval_result)); }

void rsim_eval_result_add(rsim_eval_result *r, const rsim_eval_row *x) {
  row(r, x->component, keep(r, x->kind), x->window, x->t0, x->t1, x->cls, keep(r, x->metric), x->value);
}

size_t rsim_eval_headline(const char *kind, const char **out, size_t max) {
  static const char *const det[] = {"f1", "ap", "precision", "recall", "ap50"};
  static const char *const trk[] = {"mota", "idf1", "hota", "precision", "recall", "motp"};
  static const char *const plan[] = {"min_ttc", "min_headway", "hard_brakes", "max_decel", "comfortable"};
  const char *const *l = NULL;
  size_t n = 0, k = 0;
  if (!strcmp(kind, "detection")) l = det, n = sizeof det / sizeof *det;
  else if (!strcmp(kind, "tracking")) l = trk, n = sizeof trk / sizeof *trk;
  else if (!strcmp(kind, "planning")) l = plan, n = sizeof plan / sizeof *plan;
  for (; k < n && k < max; k++) out[k] = l[k];
  return k;
}

void rsim_eval_free(rsim_eval_result *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n_strings; i++) free(r->strings[i]);
  free(r->strings);
  free(r->rows);
  free(r);
}

void rsim_eval_json(const rsim_eval_result *r, rsim_buf *out) {
  rsim_buf_puts(out, "{\"metrics\": [");
  for (size_t i = 0; i < r->n; i++) {
    const rsim_eval_row *x = &r->rows[i];
    rsim_buf_puts(out, i ? ",\n  {\"component\": " : "\n  {\"component\": ");
    rsim_buf_put_json_str(out, x->component, strlen(x->component));
    rsim_buf_printf(out, ", \"kind\": \"%s\", \"scope\": \"%s\", \"t0\": %lld, \"t1\": %lld, \"class\": ", x->kind,
                    x->window ? "window" : "run", (long long)x->t0, (long long)x->t1);
    rsim_buf_put_json_str(out, x->cls, strlen(x->cls));
    rsim_buf_printf(out, ", \"metric\": \"%s\", \"value\": ", x->metric);
    dump_num(out, x->value);
    rsim_buf_putc(out, '}');
  }
  rsim_buf_puts(out, "\n]}\n");
}

bool rsim_eval_metric_is_count(const char *metric) {
  static const char *const counts[] = {"tp",     "fp",      "fn",          "objects",     "predictions", "matches",
                                       "switches", "fragmentations", "misses", "false_positives", "idtp", "idfp",
                                       "idfn",   "hard_brakes", "plans",     "entries"};
  for (size_t i = 0; i < sizeof counts / sizeof *counts; i++)
    if (!strcmp(metric, counts[i])) return true;
  return false;
}

void rsim_eval_table(const rsim_eval_result *r, rsim_buf *out) {
  const char *last = NULL, *last_cls = NULL;
  for (size_t i = 0; i < r->n; i++) {
    const rsim_eval_row *x = &r->rows[i];
    if (x->window) continue;
    if (!last || strcmp(last, x->component)) {
      rsim_buf_printf(out, "%s%s (%s)\n", last ? "\n" : "", x->component, x->kind);
      last_cls = NULL;
    }
    if (!last_cls || strcmp(last_cls, x->cls)) rsim_buf_printf(out, "  %-12s", x->cls);
    bool count = rsim_eval_metric_is_count(x->metric);
    if (!isfinite(x->value)) rsim_buf_printf(out, " %s -", x->metric);
    else if (count) rsim_buf_printf(out, " %s %.0f", x->metric, x->value);
    else rsim_buf_printf(out, " %s %.4f", x->metric, x->value);
    last = x->component;
    last_cls = x->cls;
    if (i + 1 >= r->n || r->rows[i + 1].window || strcmp(r->rows[i + 1].cls, x->cls) ||
        strcmp(r->rows[i + 1].component, x->component))
      rsim_buf_putc(out, '\n');
  }
}

int rsim_eval_save(const rsim_eval_result *r, const char *run_db, rsim_errbuf *eb) {
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(run_db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    int rc = rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot open for writing: %s", run_db, db ? sqlite3_errmsg(db) : "");
    sqlite3_close(db);
    return rc;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt *st = NULL;
  int rc = RSIM_OK;
  if (sqlite3_exec(db,
                   "BEGIN; DROP TABLE IF EXISTS eval;"
                   "CREATE TABLE eval(component TEXT, kind TEXT, scope TEXT, t0 INTEGER, t1 INTEGER, class TEXT,"
                   " metric TEXT, value REAL);",
                   NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO eval VALUES(?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
    rc = RSIM_EBACKEND;
  for (size_t i = 0; !rc && i < r->n; i++) {
    const rsim_eval_row *x = &r->rows[i];
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, x->component, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, x->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, x->window ? "window" : "run", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, x->t0);
    sqlite3_bind_int64(st, 5, x->t1);
    sqlite3_bind_text(st, 6, x->cls, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, x->metric, -1, SQLITE_STATIC);
    if (isfinite(x->value)) sqlite3_bind_double(st, 8, x->value);
    else sqlite3_bind_null(st, 8);
    if (sqlite3_step(st) != SQLITE_DONE) rc = RSIM_EBACKEND;
  }
  if (!rc && sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK) rc = RSIM_EBACKEND;
  if (rc) rsim_errbuf_set(eb, rc, "%s: cannot write the eval table: %s", run_db, sqlite3_errmsg(db));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rc;
}

/* ---- a camera for live scoring (rsim/eval_live.h) -------------------------------------- */

/* The context rsim_eval_run builds, kept for one camera: the same
** projection and ignore rules for every image the server scores. */
struct rsim_eval_cam {
  ctx c;
  rsim_eval_opts o;
  rsim_errbuf eb;
  idmap ids; /* track ids given as strings, numbered as eval numbers them */
};

int rsim_eval_cam_open(rsim_store *st, const rsim_eval_opts *o, rsim_eval_cam **out, rsim_errbuf *eb) {
  *out = NULL;
  rsim_eval_cam *k = rsim_xcalloc(1, sizeof *k);
  k->o = o ? *o : (rsim_eval_opts){0};
  if (k->o.min_px <= 0) k->o.min_px = 8;
  if (k->o.min_visible <= 0) k->o.min_visible = 0.5;
  k->c = (ctx){.o = &k->o, .st = st, .eb = eb};
  /* The whole truth, as eval loads it: an output between two truth frames
  ** is scored against the truth moved to its time, as eval scores it. */
  int rc = setup_camera(&k->c);
  if (!rc) rc = load_truth(&k->c);
  if (rc) {
    free(k->c.truth);
    free(k->c.frame_at);
    free(k);
    return rc;
  }
  k->c.eb = &k->eb;
  *out = k;
  return RSIM_OK;
}

bool rsim_eval_cam_scores(const rsim_type *t) { return records_with(t, "bbox", NULL) != NULL; }

void rsim_eval_cam_image(rsim_eval_cam *k, const rsim_val *v, const rsim_type *t, const rsim_truth *g, size_t ng,
                         rsim_eval_image *im) {
  comp one = {.type = (rsim_type *)t};
  detection_frame(&k->c, &one, 0, v, g, ng);
  *im = one.images[0];
  free(one.t);
  free(one.images);
  free(one.frames);
  free(one.plans);
}

const char *rsim_eval_cam_class(const rsim_eval_cam *k, int cls) {
  return cls >= 0 && (size_t)cls < k->c.n_classes ? k->c.classes[cls] : "?";
}

const char *rsim_eval_cam_id(const rsim_eval_cam *k) { return k->c.camera; }

void rsim_eval_image_clear(rsim_eval_image *im) {
  free((void *)im->gt);
  free((void *)im->dt);
  *im = (rsim_eval_image){0};
}

bool rsim_eval_cam_truth(const rsim_eval_cam *k, rsim_time t, rsim_truth **g, size_t *ng) {
  *g = NULL;
  *ng = 0;
  return truth_at(&k->c, t, g, ng);
}

rsim_time rsim_eval_cam_truth_start(const rsim_eval_cam *k) { return k->c.truth[0].t; }

bool rsim_eval_cam_is_tracks(const rsim_type *t) { return records_with(t, "id", "position") != NULL; }

void rsim_eval_cam_tracks(rsim_eval_cam *k, const rsim_eval_track_opts *to, const rsim_val *v, const rsim_type *t,
                          const rsim_truth *g, size_t ng, rsim_eval_frame *f) {
  comp one = {.type = (rsim_type *)t, .point = to->point, .max_dist = to->max_dist, .roi_sensor = to->sensor};
  tracking_frame(&k->c, &one, &k->ids, 0, v, g, ng);
  *f = one.frames[0];
  free(one.t);
  free(one.images);
  free(one.frames);
  free(one.plans);
}

void rsim_eval_cam_free(rsim_eval_cam *k) {
  if (!k) return;
  for (size_t i = 0; i < k->ids.n; i++) free(k->ids.s[i]);
  free(k->ids.s);
  free(k->c.truth);
  free(k->c.frame_at);
  for (size_t i = 0; i < k->c.n_classes; i++) free(k->c.classes[i]);
  free(k->c.classes);
  free(k);
}
