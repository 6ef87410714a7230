/*
** report.c -- the HTML report over run databases (rsim/report.h): reads each
** run's `eval`, `run` and `events` tables and writes one page that needs
** nothing else to be viewed -- inline CSS, SVG drawn here, no script, no
** fonts or images from anywhere.  Numbers are printed with the precision
** the page shows; every shown number carries data-* attributes naming it
** (run, component, class, metric) so a test can compare the page with the
** database.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsim/batch.h"
#include "rsim/eval.h"
#include "rsim/report.h"

typedef struct row {
  char *component, *kind, *cls, *metric;
  bool window;
  rsim_time t0, t1;
  double v; /* NaN when NULL */
} row;

typedef struct event {
  rsim_time t;
  char *component, *level, *message;
} event;

typedef struct comp {
  const char *name, *kind; /* borrowed from the first row */
} comp;

typedef struct run {
  const char *path;
  char *name, *store, *graph, *status, *digest;
  char *match;   /* runs with equal match are of the same drive: the store; a batch job's store and range */
  bool baseline; /* from --baseline: only the A of A/B */
  char *key, *events_from; /* a batch job's key and recorded run */
  row *rows;
  size_t n, cap;
  event *ev;
  size_t n_ev, cap_ev;
  comp comps[64];
  size_t n_comps;
  rsim_time origin; /* the first window's start: times on the page count from it */
} run;

/* ---- reading a run database ------------------------------------------------------- */

static char *col_dup(sqlite3_stmt *st, int i) {
  const unsigned char *s = sqlite3_column_text(st, i);
  return rsim_xstrdup(s ? (const char *)s : "");
}

static char *run_value(sqlite3 *db, const char *key) {
  sqlite3_stmt *st;
  char *v = NULL;
  if (sqlite3_prepare_v2(db, "SELECT value FROM run WHERE key = ?", -1, &st, NULL) != SQLITE_OK) return rsim_xstrdup("");
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW) v = col_dup(st, 0);
  sqlite3_finalize(st);
  return v ? v : rsim_xstrdup("");
}

static void run_free(run *r) {
  free(r->match);
  free(r->key);
  free(r->events_from);
  free(r->name);
  free(r->store);
  free(r->graph);
  free(r->status);
  free(r->digest);
  for (size_t i = 0; i < r->n; i++) {
    free(r->rows[i].component);
    free(r->rows[i].kind);
    free(r->rows[i].cls);
    free(r->rows[i].metric);
  }
  free(r->rows);
  for (size_t i = 0; i < r->n_ev; i++) {
    free(r->ev[i].component);
    free(r->ev[i].level);
    free(r->ev[i].message);
  }
  free(r->ev);
}

/* Warnings and errors (faults, timeouts, traps) are what a reader looks
** for next to a bad window; debug and info lines are left out. */
static void load_events(sqlite3 *db, run *r) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "SELECT t, component, level, message FROM events WHERE level IN ('warn', 'error') ORDER BY t",
                         -1, &st, NULL) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      if (r->n_ev == r->cap_ev) {
        r->cap_ev = r->cap_ev ? 2 * r->cap_ev : 64;
        r->ev = rsim_xrealloc(r->ev, r->cap_ev * sizeof *r->ev);
      }
      event *e = &r->ev[r->n_ev++];
      e->t = sqlite3_column_int64(st, 0);
      e->component = col_dup(st, 1);
      e->level = col_dup(st, 2);
      e->message = col_dup(st, 3);
    }
  }
  sqlite3_finalize(st);
}

/* Components in the order eval wrote them; the origin is the first window. */
static void index_rows(run *r) {
  bool have_origin = false;
  for (size_t i = 0; i < r->n; i++) {
    const row *x = &r->rows[i];
    size_t k = 0;
    while (k < r->n_comps && strcmp(r->comps[k].name, x->component)) k++;
    if (k == r->n_comps && k < sizeof r->comps / sizeof r->comps[0])
      r->comps[r->n_comps++] = (comp){x->component, x->kind};
    if (x->window && (!have_origin || x->t0 < r->origin)) {
      r->origin = x->t0;
      have_origin = true;
    }
  }
  if (!have_origin)
    for (size_t i = 0; i < r->n; i++)
      if (!have_origin || r->rows[i].t0 < r->origin) {
        r->origin = r->rows[i].t0;
        have_origin = true;
      }
}

static int load_run(const char *path, run *r, rsim_errbuf *eb) {
  memset(r, 0, sizeof *r);
  r->path = path;
  const char *slash = strrchr(path, '/');
  r->name = rsim_xstrdup(slash ? slash + 1 : path);
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    int rc = rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot open the run database: %s", path, db ? sqlite3_errmsg(db) : "");
    sqlite3_close(db);
    return rc;
  }
  sqlite3_stmt *st = NULL;
  int rc = RSIM_OK;
  if (sqlite3_prepare_v2(db, "SELECT component, kind, scope, t0, t1, class, metric, value FROM eval ORDER BY rowid", -1,
                         &st, NULL) != SQLITE_OK) {
    rc = rsim_errbuf_set(eb, RSIM_ENOTFOUND, "%s: no eval table (%s); score it first: replaysim eval %s --truth DRIVE",
                         path, sqlite3_errmsg(db), path);
    goto out;
  }
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (r->n == r->cap) {
      r->cap = r->cap ? 2 * r->cap : 256;
      r->rows = rsim_xrealloc(r->rows, r->cap * sizeof *r->rows);
    }
    row *x = &r->rows[r->n++];
    x->component = col_dup(st, 0);
    x->kind = col_dup(st, 1);
    x->window = !strcmp((const char *)sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "", "window");
    x->t0 = sqlite3_column_int64(st, 3);
    x->t1 = sqlite3_column_int64(st, 4);
    x->cls = col_dup(st, 5);
    x->metric = col_dup(st, 6);
    x->v = sqlite3_column_type(st, 7) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 7);
  }
  sqlite3_finalize(st);
  st = NULL;
  if (step != SQLITE_DONE) {
    rc = rsim_errbuf_set(eb, RSIM_EBACKEND, "%s: reading the eval table: %s", path, sqlite3_errmsg(db));
    goto out;
  }
  if (!r->n) {
    rc = rsim_errbuf_set(eb, RSIM_ENOTFOUND, "%s: the eval table is empty; score it first: replaysim eval %s --truth DRIVE",
                         path, path);
    goto out;
  }
  r->store = run_value(db, "store");
  r->graph = run_value(db, "graph");
  r->status = run_value(db, "status");
  r->digest = run_value(db, "digest");
  load_events(db, r);
  r->match = rsim_xstrdup(r->store);
  index_rows(r);
out:
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rc;
}

bool rsim_report_has_eval(const char *run_db) {
  sqlite3 *db = NULL;
  bool yes = false;
  if (sqlite3_open_v2(run_db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM eval LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
      yes = sqlite3_step(st) == SQLITE_ROW;
      sqlite3_finalize(st);
    }
  }
  sqlite3_close(db);
  return yes;
}

/* ---- reading a batch's results database ------------------------------------------
** A job is shown as a run: its scores are the metrics table's rows, its
** warnings and errors those of its recorded run when there is one. */
typedef struct batch_load {
  run *runs;
  size_t first, n; /* this file's jobs: runs[first .. first + n) */
  const char *path;
  bool baseline;
  run *last; /* the job of the last score: they come job by job */
} batch_load;

static void batch_job(void *ud, const rsim_batch_job *j, const rsim_batch_result *r) {
  batch_load *b = ud;
  run *x = &b->runs[b->first + b->n++];
  memset(x, 0, sizeof *x);
  x->path = b->path;
  x->baseline = b->baseline;
  x->name = rsim_xstrdup(j->name);
  x->store = rsim_xstrdup(j->store);
  x->graph = rsim_xstrdup(j->graph);
  rsim_buf st = {0};
  rsim_buf_puts(&st, r->ok ? "ok" : "failed: ");
  if (!r->ok) rsim_buf_puts(&st, r->reason ? r->reason : "");
  x->status = rsim_buf_take_str(&st);
  x->digest = rsim_xstrdup(r->digest);
  rsim_buf m = {0};
  rsim_buf_printf(&m, "%s|%lld|%lld", j->store, (long long)j->from, (long long)j->to);
  x->match = rsim_buf_take_str(&m);
  /* its key, for its scores; its recorded run, for its warnings and errors */
  x->events_from = rsim_xstrdup(r->out ? r->out : "");
  x->key = rsim_xstrdup(j->key);
}

static void batch_metric(void *ud, const char *key, const rsim_batch_metric *m) {
  batch_load *b = ud;
  run *x = b->last && !strcmp(b->last->key, key) ? b->last : NULL;
  for (size_t i = 0; i < b->n && !x; i++)
    if (!strcmp(b->runs[b->first + i].key, key)) x = &b->runs[b->first + i];
  if (!x) return; /* scores of a job whose row is gone */
  b->last = x;
  if (x->n == x->cap) {
    x->cap = x->cap ? 2 * x->cap : 256;
    x->rows = rsim_xrealloc(x->rows, x->cap * sizeof *x->rows);
  }
  x->rows[x->n++] = (row){rsim_xstrdup(m->component), rsim_xstrdup(m->kind), rsim_xstrdup(m->cls),
                          rsim_xstrdup(m->metric), m->window, m->t0, m->t1, m->value};
}

static void count_job(void *ud, const rsim_batch_job *j, const rsim_batch_result *r) {
  (*(size_t *)ud)++;
  (void)j, (void)r;
}

/* Appends the jobs of a results database to *runs (grown as needed). */
static int load_batch(const char *path, bool baseline, run **runs, size_t *n, rsim_errbuf *eb) {
  rsim_batch_db *db;
  if (rsim_batch_db_open(path, &db, eb)) return eb->code;
  size_t count = 0;
  int rc = rsim_batch_db_each(db, count_job, &count);
  batch_load b = {.first = *n, .path = path, .baseline = baseline};
  if (!rc) {
    *runs = rsim_xrealloc(*runs, (*n + count + 1) * sizeof **runs);
    b.runs = *runs;
    rc = rsim_batch_db_each(db, batch_job, &b);
    *n += b.n;
  }
  if (!rc) rc = rsim_batch_db_each_metric(db, NULL, batch_metric, &b);
  if (rc) rsim_errbuf_set(eb, RSIM_EBACKEND, "%s", rsim_batch_db_errmsg(db));
  rsim_batch_db_close(db);
  if (!rc && !count) rc = rsim_errbuf_set(eb, RSIM_ENOTFOUND, "%s: a results database without jobs", path);
  for (size_t i = 0; i < b.n; i++) {
    run *x = &b.runs[b.first + i];
    sqlite3 *h = NULL;
    if (*x->events_from && sqlite3_open_v2(x->events_from, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) load_events(h, x);
    sqlite3_close(h);
    index_rows(x);
  }
  return rc;
}

/* ---- what is shown --------------------------------------------------------------- */

/* The few numbers a row of the summary shows per component, by kind; other
** kinds (added later) show their first whole-run metrics. */
static size_t headline(const run *r, const comp *c, const char **out, size_t max) {
  size_t n = rsim_eval_headline(c->kind, out, max);
  if (!n)
    for (size_t i = 0; i < r->n && n < max && n < 5; i++) {
      const row *x = &r->rows[i];
      if (x->window || strcmp(x->component, c->name) || strcmp(x->cls, "all")) continue;
      bool dup = false;
      for (size_t k = 0; k < n; k++) dup |= !strcmp(out[k], x->metric);
      if (!dup) out[n++] = x->metric;
    }
  return n;
}

/* Which way is better: one list for diff, gates and this page (diff.c). */
static bool lower_is_better(const char *m) { return rsim_eval_metric_direction(m) < 0; }

/* The whole-run row of (component, class, metric), or NULL. */
static const row *find(const run *r, const char *component, const char *cls, const char *metric) {
  for (size_t i = 0; i < r->n; i++) {
    const row *x = &r->rows[i];
    if (!x->window && !strcmp(x->component, component) && !strcmp(x->cls, cls) && !strcmp(x->metric, metric))
      return x;
  }
  return NULL;
}

static double value(const run *r, const char *component, const char *cls, const char *metric) {
  const row *x = find(r, component, cls, metric);
  return x ? x->v : NAN;
}

static bool has_metric(const run *r, const char *component, const char *metric) {
  for (size_t i = 0; i < r->n; i++)
    if (!strcmp(r->rows[i].component, component) && !strcmp(r->rows[i].metric, metric)) return true;
  return false;
}

/* ---- writing ---------------------------------------------------------------------- */

static void esc(rsim_buf *b, const char *s) {
  for (; *s; s++) switch (*s) {
    case '<': rsim_buf_puts(b, "&lt;"); break;
    case '>': rsim_buf_puts(b, "&gt;"); break;
    case '&': rsim_buf_puts(b, "&amp;"); break;
    case '"': rsim_buf_puts(b, "&quot;"); break;
    default: rsim_buf_putc(b, *s);
    }
}

static void num(rsim_buf *b, const char *metric, double v) {
  if (isnan(v)) rsim_buf_puts(b, "\u2013");
  else if (isinf(v)) rsim_buf_puts(b, v > 0 ? "\u221e" : "\u2212\u221e"); /* a batch keeps infinities (min_ttc) */
  else if (rsim_eval_metric_is_count(metric)) rsim_buf_printf(b, "%.0f", v);
  else rsim_buf_printf(b, "%.3f", v);
}

/* A number cell: what it is in data-*, the value as shown. */
static void cell(rsim_buf *b, size_t ri, const char *component, const char *cls, const char *metric, double v) {
  rsim_buf_printf(b, "<td class=\"num\" data-run=\"%zu\" data-component=\"", ri);
  esc(b, component);
  rsim_buf_puts(b, "\" data-class=\"");
  esc(b, cls);
  rsim_buf_printf(b, "\" data-metric=\"%s\">", metric);
  num(b, metric, v);
  rsim_buf_puts(b, "</td>");
}

static double secs(const run *r, rsim_time t) { return (double)(t - r->origin) / 1e9; }

/* The windows of one component's class-"all" metric, in time order. */
static size_t windows(const run *r, const char *component, const char *metric, const row **out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < r->n && n < max; i++) {
    const row *x = &r->rows[i];
    if (x->window && !strcmp(x->component, component) && !strcmp(x->cls, "all") && !strcmp(x->metric, metric))
      out[n++] = x;
  }
  for (size_t i = 1; i < n; i++) /* eval writes them in order; keep it so regardless */
    for (size_t k = i; k > 0 && out[k - 1]->t0 > out[k]->t0; k--) {
      const row *t = out[k];
      out[k] = out[k - 1];
      out[k - 1] = t;
    }
  return n;
}

/* The metric that picks a component's worst windows: the first headline (higher is better). */
static const char *worst_metric(const run *r, const comp *c) {
  const char *h[8];
  if (!strcmp(c->kind, "detection")) return "f1";
  if (!strcmp(c->kind, "tracking")) return "mota";
  size_t n = headline(r, c, h, 8);
  for (size_t i = 0; i < n; i++)
    if (!lower_is_better(h[i])) return h[i];
  return n ? h[0] : NULL;
}

/* Indexes (into w) of the k lowest defined values, lowest first; ties by time. */
static size_t worst_of(const row **w, size_t n, size_t *idx, size_t k) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(w[i]->v)) continue;
    size_t at = m;
    while (at > 0 && w[idx[at - 1]]->v > w[i]->v) at--;
    if (at >= k) continue;
    if (m < k) m++;
    memmove(idx + at + 1, idx + at, (m - 1 - at) * sizeof *idx);
    idx[at] = i;
  }
  return m;
}

#define MAXW 4096

static void plot(rsim_buf *b, const run *r, size_t ri, size_t ci, const char *metric, const size_t *worst, size_t n_worst) {
  static const row *w[MAXW];
  size_t n = windows(r, r->comps[ci].name, metric, w, MAXW);
  if (!n) return;
  const double W = 320, H = 110, L = 34, R = 6, T = 16, B = 18;
  double t_lo = secs(r, w[0]->t0), t_hi = secs(r, w[n - 1]->t1);
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (isfinite(w[i]->v)) {
      lo = fmin(lo, w[i]->v);
      hi = fmax(hi, w[i]->v);
    }
  if (!isfinite(lo)) lo = 0, hi = 1;
  /* Scores in [0, 1] keep that scale, so plots of runs compare by eye. */
  if (lo >= 0 && hi <= 1 && !rsim_eval_metric_is_count(metric) && strcmp(metric, "motp")) lo = 0, hi = 1;
  if (hi - lo < 1e-9) hi = lo + 1;
  if (t_hi <= t_lo) t_hi = t_lo + 1;
#define X(t) (L + ((t) - t_lo) / (t_hi - t_lo) * (W - L - R))
#define Y(v) (T + (hi - (v)) / (hi - lo) * (H - T - B))
  rsim_buf_printf(b, "<figure class=\"plot\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                     "viewBox=\"0 0 %.0f %.0f\" role=\"img\" data-run=\"%zu\" data-component=\"",
                  W, H, W, H, ri);
  esc(b, r->comps[ci].name);
  rsim_buf_printf(b, "\" data-metric=\"%s\" data-windows=\"%zu\">", metric, n);
  rsim_buf_printf(b, "<text x=\"%.0f\" y=\"11\" class=\"title\">", L);
  esc(b, r->comps[ci].name);
  rsim_buf_printf(b, " %s</text>", metric);
  rsim_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"frame\"/>", L, T, W - L - R, H - T - B);
  for (size_t k = 0; k < n_worst; k++) {
    const row *x = w[worst[k]];
    rsim_buf_printf(b, "<a href=\"#run-%zu-c%zu-w%zu\"><rect class=\"worst\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                       "height=\"%.1f\"><title>worst window %zu: %.1f s</title></rect></a>",
                    ri, ci, k, X(secs(r, x->t0)), T, X(secs(r, x->t1)) - X(secs(r, x->t0)), H - T - B, k + 1,
                    secs(r, x->t0));
  }
  for (size_t k = 0; k < r->n_ev; k++) {
    double t = secs(r, r->ev[k].t);
    if (t < t_lo || t > t_hi) continue;
    rsim_buf_printf(b, "<line class=\"ev %s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"><title>%.3f s ", r->ev[k].level,
                    X(t), X(t), T, H - B, t);
    esc(b, r->ev[k].component);
    rsim_buf_puts(b, ": ");
    esc(b, r->ev[k].message);
    rsim_buf_puts(b, "</title></line>");
  }
  /* A step per window: the value holds over [t0, t1); undefined windows break the line. */
  rsim_buf_puts(b, "<path class=\"line\" d=\"");
  bool pen = false;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(w[i]->v)) {
      pen = false;
      continue;
    }
    rsim_buf_printf(b, "%c%.1f %.1fH%.1f", pen ? 'L' : 'M', X(secs(r, w[i]->t0)), Y(w[i]->v), X(secs(r, w[i]->t1)));
    pen = true;
  }
  rsim_buf_puts(b, "\"/>");
  rsim_buf_printf(b, "<text x=\"%.0f\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">", L - 3, T + 4);
  num(b, metric, hi);
  rsim_buf_printf(b, "</text><text x=\"%.0f\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">", L - 3, H - B);
  num(b, metric, lo);
  rsim_buf_printf(b, "</text><text x=\"%.0f\" y=\"%.0f\" class=\"ax\">%.0f s</text>", L, H - 4, t_lo);
  rsim_buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" class=\"ax\" text-anchor=\"end\">%.0f s</text>", W - R, H - 4, t_hi);
  rsim_buf_puts(b, "</svg></figure>");
#undef X
#undef Y
}

static const char kStyle[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1.05em}"
    "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ddd;padding:2px 8px}"
    "th{background:#f4f4f4;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".wrap{overflow-x:auto}.meta{color:#555}.meta code{color:#222}"
    ".plots{display:flex;flex-wrap:wrap;gap:8px}.plot{margin:0}"
    "svg .frame{fill:#fafafa;stroke:#ccc}svg .line{fill:none;stroke:#1565c0;stroke-width:1.5}"
    "svg .worst{fill:#e53935;fill-opacity:.15}svg .ev{stroke:#f57c00;stroke-width:1;stroke-dasharray:2 2}"
    "svg .ev.error{stroke:#c62828}svg text{font:10px system-ui,sans-serif;fill:#444}svg .title{font-weight:600}"
    "td.better{background:#e8f5e9}td.worse{background:#ffebee}"
    ":target{outline:2px solid #e53935}";

static void summary(rsim_buf *b, const run *runs, size_t n) {
  /* Columns: the headline (component, metric) pairs of all runs, in order of first sight. */
  struct {
    const char *comp, *metric;
  } cols[256];
  size_t nc = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t c = 0; c < runs[i].n_comps; c++) {
      const char *h[8];
      /* The first three headline numbers: the row stays readable with a few components. */
      size_t nh = headline(&runs[i], &runs[i].comps[c], h, 3);
      for (size_t k = 0; k < nh && nc < 256; k++) {
        bool seen = false;
        for (size_t j = 0; j < nc; j++) seen |= !strcmp(cols[j].comp, runs[i].comps[c].name) && !strcmp(cols[j].metric, h[k]);
        if (!seen) cols[nc].comp = runs[i].comps[c].name, cols[nc++].metric = h[k];
      }
    }
  rsim_buf_puts(b, "<h2 id=\"summary\">Summary</h2><div class=\"wrap\"><table id=\"summary-table\"><thead><tr>"
                   "<th>run</th><th>drive</th><th>status</th>");
  for (size_t j = 0; j < nc; j++) {
    rsim_buf_puts(b, "<th>");
    esc(b, cols[j].comp);
    rsim_buf_printf(b, "<br>%s</th>", cols[j].metric);
  }
  rsim_buf_puts(b, "<th>worst windows</th></tr></thead><tbody>");
  for (size_t i = 0; i < n; i++) {
    const run *r = &runs[i];
    rsim_buf_printf(b, "<tr data-run=\"%zu\"><td><a href=\"#run-%zu\">", i, i);
    esc(b, r->name);
    rsim_buf_puts(b, "</a></td><td>");
    esc(b, *r->store ? r->store : "?");
    rsim_buf_puts(b, "</td><td>");
    esc(b, *r->status ? r->status : "?");
    rsim_buf_puts(b, "</td>");
    for (size_t j = 0; j < nc; j++) {
      if (has_metric(r, cols[j].comp, cols[j].metric)) cell(b, i, cols[j].comp, "all", cols[j].metric, value(r, cols[j].comp, "all", cols[j].metric));
      else rsim_buf_puts(b, "<td class=\"num absent\">\u00b7</td>");
    }
    rsim_buf_puts(b, "<td>");
    for (size_t c = 0; c < r->n_comps; c++) {
      rsim_buf_printf(b, "%s<a class=\"worst-link\" href=\"#run-%zu-c%zu-worst\">", c ? " " : "", i, c);
      esc(b, r->comps[c].name);
      rsim_buf_puts(b, "</a>");
    }
    rsim_buf_puts(b, "</td></tr>");
  }
  rsim_buf_puts(b, "</tbody></table></div>");
}

static void run_section(rsim_buf *b, const run *r, size_t ri, size_t n_worst_max) {
  rsim_buf_printf(b, "<section id=\"run-%zu\" data-events=\"%zu\"><h2>", ri, r->n_ev);
  esc(b, r->name);
  rsim_buf_puts(b, "</h2><p class=\"meta\">database <code>");
  esc(b, r->path);
  rsim_buf_puts(b, "</code>, drive <code>");
  esc(b, *r->store ? r->store : "?");
  rsim_buf_puts(b, "</code>, graph <code>");
  esc(b, *r->graph ? r->graph : "?");
  rsim_buf_puts(b, "</code>, status ");
  esc(b, *r->status ? r->status : "?");
  if (*r->digest) rsim_buf_printf(b, ", digest <code>%.16s</code>", r->digest);
  rsim_buf_printf(b, "; %zu warnings and errors recorded. Times count from the first window.</p>", r->n_ev);
  static const row *w[MAXW];
  for (size_t ci = 0; ci < r->n_comps; ci++) {
    const comp *c = &r->comps[ci];
    rsim_buf_puts(b, "<h3>");
    esc(b, c->name);
    rsim_buf_printf(b, " <small>(%s)</small></h3>", c->kind);
    /* The whole-run numbers: a row a metric, a column a class. */
    const char *cls[32], *met[64];
    size_t ncls = 0, nmet = 0;
    for (size_t i = 0; i < r->n; i++) {
      const row *x = &r->rows[i];
      if (x->window || strcmp(x->component, c->name)) continue;
      bool seen = false;
      for (size_t k = 0; k < ncls; k++) seen |= !strcmp(cls[k], x->cls);
      if (!seen && ncls < 32) cls[ncls++] = x->cls;
      seen = false;
      for (size_t k = 0; k < nmet; k++) seen |= !strcmp(met[k], x->metric);
      if (!seen && nmet < 64) met[nmet++] = x->metric;
    }
    rsim_buf_printf(b, "<div class=\"wrap\"><table class=\"metrics\" data-run=\"%zu\"><thead><tr><th>metric</th>", ri);
    for (size_t k = 0; k < ncls; k++) {
      rsim_buf_puts(b, "<th>");
      esc(b, cls[k]);
      rsim_buf_puts(b, "</th>");
    }
    rsim_buf_puts(b, "</tr></thead><tbody>");
    for (size_t m = 0; m < nmet; m++) {
      rsim_buf_printf(b, "<tr><th>%s</th>", met[m]);
      /* Not every metric has every class (a plan's manoeuvres have times,
      ** not a TTC): such a cell stays empty, which is not '–' (undefined). */
      for (size_t k = 0; k < ncls; k++) {
        const row *x = find(r, c->name, cls[k], met[m]);
        if (x) cell(b, ri, c->name, cls[k], met[m], x->v);
        else rsim_buf_puts(b, "<td></td>");
      }
      rsim_buf_puts(b, "</tr>");
    }
    rsim_buf_puts(b, "</tbody></table></div>");
    /* Worst windows, then the plots that mark them. */
    const char *wm = worst_metric(r, c);
    size_t worst[64], nw = 0, n_win = 0;
    if (wm) {
      n_win = windows(r, c->name, wm, w, MAXW);
      nw = worst_of(w, n_win, worst, n_worst_max < 64 ? n_worst_max : 64);
    }
    const char *h[8];
    size_t nh = headline(r, c, h, 8);
    rsim_buf_printf(b, "<h4 id=\"run-%zu-c%zu-worst\">worst windows by %s</h4>", ri, ci, wm ? wm : "-");
    if (!nw) rsim_buf_puts(b, "<p>no window with a defined value</p>");
    else {
      rsim_buf_puts(b, "<table class=\"worst\"><thead><tr><th>#</th><th>window</th>");
      for (size_t k = 0; k < nh; k++) rsim_buf_printf(b, "<th>%s</th>", h[k]);
      rsim_buf_puts(b, "<th>warnings and errors in it</th></tr></thead><tbody>");
      for (size_t k = 0; k < nw; k++) {
        const row *x = w[worst[k]];
        rsim_buf_printf(b, "<tr id=\"run-%zu-c%zu-w%zu\" data-t0=\"%lld\"><td>%zu</td><td>%.1f\u2013%.1f s</td>", ri, ci, k,
                        (long long)x->t0, k + 1, secs(r, x->t0), secs(r, x->t1));
        for (size_t j = 0; j < nh; j++) {
          double v = NAN;
          for (size_t i = 0; i < r->n; i++) {
            const row *y = &r->rows[i];
            if (y->window && y->t0 == x->t0 && !strcmp(y->component, c->name) && !strcmp(y->cls, "all") &&
                !strcmp(y->metric, h[j]))
              v = y->v;
          }
          rsim_buf_printf(b, "<td class=\"num\" data-window=\"%lld\" data-metric=\"%s\">", (long long)x->t0, h[j]);
          num(b, h[j], v);
          rsim_buf_puts(b, "</td>");
        }
        rsim_buf_puts(b, "<td>");
        size_t shown = 0, in = 0;
        for (size_t e = 0; e < r->n_ev; e++)
          if (r->ev[e].t >= x->t0 && r->ev[e].t < x->t1) {
            if (shown < 3) {
              rsim_buf_printf(b, "%s%s ", shown ? "<br>" : "", r->ev[e].level);
              esc(b, r->ev[e].component);
              rsim_buf_puts(b, ": ");
              esc(b, r->ev[e].message);
              shown++;
            }
            in++;
          }
        if (in > shown) rsim_buf_printf(b, "<br>and %zu more", in - shown);
        rsim_buf_puts(b, "</td></tr>");
      }
      rsim_buf_puts(b, "</tbody></table>");
    }
    rsim_buf_puts(b, "<div class=\"plots\">");
    for (size_t k = 0; k < nh; k++) {
      /* Worst windows are marked on every plot of the component (they are one set of windows). */
      size_t idx[64];
      size_t ni = 0;
      static const row *wk[MAXW];
      size_t nk = windows(r, c->name, h[k], wk, MAXW);
      for (size_t j = 0; j < nw; j++)
        for (size_t i = 0; i < nk; i++)
          if (wk[i]->t0 == w[worst[j]]->t0) idx[ni++] = i;
      plot(b, r, ri, ci, h[k], idx, ni);
    }
    rsim_buf_puts(b, "</div>");
  }
  rsim_buf_puts(b, "</section>");
}

/* A/B: each later run of a drive against the first run of it; with a
** baseline, each run against the baseline's run of its drive. */
static void ab(rsim_buf *b, const run *runs, size_t n) {
  bool any = false, with_base = false;
  for (size_t i = 0; i < n; i++) with_base |= runs[i].baseline;
  for (size_t j = 0; j < n; j++) {
    if (runs[j].baseline || !*runs[j].match) continue;
    size_t i = 0;
    if (with_base)
      while (i < n && (!runs[i].baseline || strcmp(runs[i].match, runs[j].match))) i++;
    else
      while (i < j && strcmp(runs[i].match, runs[j].match)) i++;
    if (i >= n || i == j) continue;
    if (!any)
      rsim_buf_puts(b, with_base ? "<h2 id=\"ab\">A/B</h2><p>Each run against the baseline's run of the same drive "
                                   "(and range); \u0394 = B \u2212 A, green where B is better.</p>"
                                 : "<h2 id=\"ab\">A/B</h2><p>Runs of the same drive, each against the first one given; "
                                   "\u0394 = B \u2212 A, green where B is better.</p>");
    any = true;
    const run *A = &runs[i], *B = &runs[j];
    if (A->baseline) {
      rsim_buf_printf(b, "<h3 id=\"ab-%zu-%zu\">A <span class=\"baseline\">baseline ", i, j);
      esc(b, A->name);
      rsim_buf_puts(b, "</span>");
    } else {
      rsim_buf_printf(b, "<h3 id=\"ab-%zu-%zu\">A <a href=\"#run-%zu\">", i, j, i);
      esc(b, A->name);
      rsim_buf_puts(b, "</a>");
    }
    rsim_buf_printf(b, " vs B <a href=\"#run-%zu\">", j);
    esc(b, B->name);
    rsim_buf_puts(b, "</a></h3><table class=\"ab\" data-a=\"");
    rsim_buf_printf(b, "%zu\" data-b=\"%zu\"><thead><tr><th>component</th><th>metric</th><th>A</th><th>B</th><th>\u0394</th>"
                       "</tr></thead><tbody>", i, j);
    for (size_t c = 0; c < A->n_comps; c++) {
      const char *h[8];
      size_t nh = headline(A, &A->comps[c], h, 8);
      for (size_t k = 0; k < nh; k++) {
        const char *name = A->comps[c].name;
        if (!has_metric(B, name, h[k])) continue;
        double va = value(A, name, "all", h[k]), vb = value(B, name, "all", h[k]), d = vb - va;
        int dir = rsim_eval_metric_direction(h[k]);
        const char *cls = !dir || !isfinite(d) || fabs(d) < 5e-4 ? "" : (d > 0) == (dir > 0) ? "better" : "worse";
        rsim_buf_puts(b, "<tr><td>");
        esc(b, name);
        rsim_buf_printf(b, "</td><td>%s</td>", h[k]);
        cell(b, i, name, "all", h[k], va);
        cell(b, j, name, "all", h[k], vb);
        rsim_buf_printf(b, "<td class=\"num delta %s\" data-component=\"", cls);
        esc(b, name);
        rsim_buf_printf(b, "\" data-metric=\"%s\">", h[k]);
        if (isfinite(d) && fabs(d) >= 5e-4) rsim_buf_puts(b, d > 0 ? "+" : "\u2212");
        num(b, h[k], fabs(d));
        rsim_buf_puts(b, "</td></tr>");
      }
    }
    rsim_buf_puts(b, "</tbody></table>");
  }
}

/* A run database, or every job of a batch's results database. */
static int load_any(const char *path, bool baseline, run **runs, size_t *n, rsim_errbuf *eb) {
  if (rsim_batch_db_is_results(path)) return load_batch(path, baseline, runs, n, eb);
  *runs = rsim_xrealloc(*runs, (*n + 1) * sizeof **runs);
  int rc = load_run(path, &(*runs)[*n], eb);
  (*runs)[*n].baseline = baseline;
  (*n)++; /* loaded or half loaded: freed either way */
  return rc;
}

int rsim_report_html(const char *const *paths, size_t n, const rsim_report_opts *o, rsim_buf *out, rsim_errbuf *eb) {
  if (!n) return rsim_errbuf_set(eb, RSIM_EINVAL, "no run database given");
  run *runs = NULL;
  int rc = RSIM_OK;
  size_t loaded = 0;
  for (size_t i = 0; i < n && !rc; i++) rc = load_any(paths[i], false, &runs, &loaded, eb);
  size_t shown = loaded;
  if (!rc && o && o->baseline) rc = load_any(o->baseline, true, &runs, &loaded, eb);
  if (!rc) {
    const char *title = o && o->title ? o->title : "replaysim report";
    rsim_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    esc(out, title);
    rsim_buf_printf(out, "</title><style>%s</style></head><body><h1>", kStyle);
    esc(out, title);
    rsim_buf_printf(out, "</h1><p>%zu run%s, scored by <code>replaysim eval</code> (docs/evaluation.md defines every "
                         "number; \u2013 is undefined). Plots show a step a window; shaded: the worst windows, dashed: "
                         "warnings and errors the run recorded.</p>",
                    shown, shown == 1 ? "" : "s");
    summary(out, runs, shown);
    ab(out, runs, loaded);
    for (size_t i = 0; i < shown; i++) run_section(out, &runs[i], i, o && o->worst > 0 ? (size_t)o->worst : 3);
    rsim_buf_puts(out, "</body></html>\n");
  }
  for (size_t i = 0; i < loaded; i++) run_free(&runs[i]);
  free(runs);
  return rc;
}
