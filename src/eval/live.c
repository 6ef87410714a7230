/*
** live.c -- scores while a run plays (rsim/eval_live.h): detection outputs
** matched one by one as they come (eval.c's projection, coco.c's
** matching), counted per window and over the run so far, and the marks a
** viewer puts on the timeline.  Precision, recall and F1 are those of
** docs/evaluation.md over the outputs scored so far; AP needs every score
** of the run at once and is left to `replaysim eval`.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsim/eval_live.h"

#define MAX_MARKS 512
#define MAX_COMPS 16

typedef struct counts {
  int64_t images, tp, fp, fn;
} counts;

typedef struct live_comp {
  char *name;
  counts *win; /* by window index from l->from */
  size_t n_win;
} live_comp;

typedef struct mark {
  rsim_time t;
  char kind[16], component[64], message[160];
} mark;

struct rsim_eval_live {
  rsim_store *st;
  rsim_eval_cam *cam;
  rsim_time from;
  int64_t window_ns;
  live_comp comps[MAX_COMPS];
  size_t n_comps;
  mark marks[MAX_MARKS];
  size_t n_marks;
  /* the last image scored, with each box's outcome */
  char last_comp[64];
  rsim_time last_t;
  rsim_eval_image last;
  ptrdiff_t *dt_gt, *gt_dt;
};

int rsim_eval_live_new(rsim_store *st, rsim_time from, int64_t window_ns, rsim_eval_live **out, rsim_errbuf *eb) {
  *out = NULL;
  rsim_eval_cam *cam = NULL;
  int rc = rsim_eval_cam_open(st, NULL, &cam, eb);
  if (rc) return rc;
  rsim_eval_live *l = rsim_xcalloc(1, sizeof *l);
  l->st = st;
  l->cam = cam;
  l->from = from;
  l->window_ns = window_ns > 0 ? window_ns : RSIM_NS_PER_S;
  l->last_t = INT64_MIN;
  *out = l;
  return RSIM_OK;
}

static live_comp *comp_of(rsim_eval_live *l, const char *name) {
  for (size_t i = 0; i < l->n_comps; i++)
    if (!strcmp(l->comps[i].name, name)) return &l->comps[i];
  if (l->n_comps == MAX_COMPS) return NULL;
  live_comp *c = &l->comps[l->n_comps++];
  c->name = rsim_xstrdup(name);
  return c;
}

/* The truth frame at t: the latest at or before it, within 200 ms (the
** generator writes one at every camera frame, so a detector's is exact). */
static void truth_at(rsim_eval_live *l, rsim_time t, rsim_truth **g, size_t *ng) {
  rsim_truth *all = NULL;
  size_t n = 0;
  *g = NULL;
  *ng = 0;
  if (rsim_store_truth(l->st, t - 200000000, t, &all, &n) || !n) {
    free(all);
    return;
  }
  size_t first = n;
  while (first > 0 && all[first - 1].t == all[n - 1].t) first--;
  memmove(all, all + first, (n - first) * sizeof *all);
  *g = all;
  *ng = n - first;
}

void rsim_eval_live_output(rsim_eval_live *l, const char *component, rsim_time t, const rsim_val *v,
                           const rsim_type *type) {
  if (!v || !rsim_eval_cam_scores(type) || t < l->from) return;
  live_comp *c = comp_of(l, component);
  if (!c) return;
  rsim_truth *g;
  size_t ng;
  truth_at(l, t, &g, &ng);
  if (!g) return; /* no truth here: not scored, as in eval */
  rsim_eval_image im;
  rsim_eval_cam_image(l->cam, v, type, g, ng, &im);
  free(g);
  ptrdiff_t *dt_gt = rsim_xmalloc((im.n_dt + 1) * sizeof *dt_gt), *gt_dt = rsim_xmalloc((im.n_gt + 1) * sizeof *gt_dt);
  rsim_eval_match(&im, 0.5, dt_gt, gt_dt);
  size_t w = (size_t)((t - l->from) / l->window_ns);
  if (w >= c->n_win) {
    c->win = rsim_xrealloc(c->win, (w + 1) * sizeof *c->win);
    memset(c->win + c->n_win, 0, (w + 1 - c->n_win) * sizeof *c->win);
    c->n_win = w + 1;
  }
  counts *k = &c->win[w];
  for (size_t i = 0; i < im.n_dt; i++) {
    if (dt_gt[i] < 0) k->fp++;
    else if (!im.gt[dt_gt[i]].ignore) k->tp++;
  }
  for (size_t j = 0; j < im.n_gt; j++) k->fn += gt_dt[j] < 0 && !im.gt[j].ignore;
  k->images++;
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
    if (!strcmp(m->kind, kind) && !strcmp(m->component, component)) return;
  }
  if (l->n_marks == MAX_MARKS) return;
  mark *m = &l->marks[l->n_marks++];
  m->t = t;
  snprintf(m->kind, sizeof m->kind, "%s", kind);
  snprintf(m->component, sizeof m->component, "%s", component ? component : "");
  snprintf(m->message, sizeof m->message, "%s", message ? message : "");
}

void rsim_eval_live_rewind(rsim_eval_live *l, rsim_time t) {
  size_t w = t <= l->from ? 0 : (size_t)((t - l->from) / l->window_ns);
  /* The window t falls in is replayed from its start only after a seek to
  ** its start; dropping it whole keeps its counts from being added twice. */
  for (size_t i = 0; i < l->n_comps; i++) {
    live_comp *c = &l->comps[i];
    if (c->n_win > w) c->n_win = w;
  }
  while (l->n_marks && l->marks[l->n_marks - 1].t >= t) l->n_marks--;
  if (l->last_t >= t) {
    rsim_eval_image_clear(&l->last);
    l->last_t = INT64_MIN;
  }
}

static void ratio(rsim_buf *b, const char *name, double num, double den) {
  if (den > 0) rsim_buf_printf(b, ",\"%s\":%.6f", name, num / den);
  else rsim_buf_printf(b, ",\"%s\":null", name);
}

static void counts_json(rsim_buf *b, const counts *k) {
  rsim_buf_printf(b, "\"tp\":%lld,\"fp\":%lld,\"fn\":%lld", (long long)k->tp, (long long)k->fp, (long long)k->fn);
  ratio(b, "precision", (double)k->tp, (double)(k->tp + k->fp));
  ratio(b, "recall", (double)k->tp, (double)(k->tp + k->fn));
  ratio(b, "f1", 2.0 * (double)k->tp, (double)(2 * k->tp + k->fp + k->fn));
}

static void box_json(rsim_buf *b, const rsim_eval_live *l, const rsim_eval_box *x) {
  rsim_buf_printf(b, "\"x\":%.1f,\"y\":%.1f,\"width\":%.1f,\"height\":%.1f,\"class\":", x->x, x->y, x->w, x->h);
  const char *cls = rsim_eval_cam_class(l->cam, x->cls);
  rsim_buf_put_json_str(b, cls, strlen(cls));
}

void rsim_eval_live_json(const rsim_eval_live *l, rsim_time now, rsim_buf *out) {
  rsim_buf_printf(out, "{\"sim_time\":%lld,\"window_ns\":%lld,\"components\":[", (long long)now, (long long)l->window_ns);
  for (size_t i = 0; i < l->n_comps; i++) {
    const live_comp *c = &l->comps[i];
    rsim_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
    rsim_buf_put_json_str(out, c->name, strlen(c->name));
    counts all = {0};
    for (size_t w = 0; w < c->n_win; w++)
      all.images += c->win[w].images, all.tp += c->win[w].tp, all.fp += c->win[w].fp, all.fn += c->win[w].fn;
    rsim_buf_printf(out, ",\"kind\":\"detection\",\"scored\":%lld,\"so_far\":{", (long long)all.images);
    counts_json(out, &all);
    rsim_buf_puts(out, "},\"windows\":[");
    for (size_t w = 0; w < c->n_win; w++) {
      rsim_buf_printf(out, "%s{\"rel_ns\":%lld,", w ? "," : "", (long long)w * (long long)l->window_ns);
      counts_json(out, &c->win[w]);
      rsim_buf_putc(out, '}');
    }
    rsim_buf_puts(out, "]}");
  }
  rsim_buf_puts(out, "],\"marks\":[");
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
    free(l->comps[i].name);
    free(l->comps[i].win);
  }
  rsim_eval_image_clear(&l->last);
  free(l->dt_gt);
  free(l->gt_dt);
  rsim_eval_cam_free(l->cam);
  free(l);
}
