/*
** diff.c -- `replaysim diff RUN_A RUN_B`: compares two run databases
** component by component (digests computed again from the recorded bytes,
** the first instant whose outputs differ, how many instants differ) and,
** when both runs were scored, every metric they share, with the sign of
** each change said as better or worse.
**
** The component digest here is the engine's (rsim_engine_component_digest:
** SHA-256 over each output's time, 8 bytes little-endian, and canonical
** encoding, in execution order), so a diff agrees with `--component-digests`
** of the runs that wrote the databases.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval_int.h"

struct rsim_diff {
  rsim_diff_comp *comps;
  size_t n_comps;
  rsim_diff_metric *metrics;
  size_t n_metrics, cap_metrics;
  bool scored; /* both runs had an eval table */
};

/* Which way is better, per metric (docs/evaluation.md, "Comparing runs").
** Counts of truth and outputs are neither. */
int rsim_eval_metric_direction(const char *metric) {
  static const char *const higher[] = {"ap",  "ap50", "precision", "recall", "f1",      "tp",   "mota", "idf1",
                                       "hota", "deta", "assa",      "loca",   "idp",    "idr",  "matches", "idtp",
                                       /* plans */ "min_ttc", "min_headway", "comfortable"};
  static const char *const lower[] = {"fp",       "fn",        "motp",         "switches",     "fragmentations",
                                      "misses",   "false_positives", "idfp",   "idfn",         "pos_err_mean",
                                      "pos_err_rmse", "pos_err_p95", "vel_err_mean", "vel_err_rmse", "vel_err_p95",
                                      /* plans */ "hard_brakes", "hard_brake_time", "max_decel", "lon_jerk_max",
                                      "jerk_max", "lat_accel_max", "yaw_rate_max", "yaw_accel_max"};
  for (size_t i = 0; i < sizeof higher / sizeof *higher; i++)
    if (!strcmp(metric, higher[i])) return 1;
  for (size_t i = 0; i < sizeof lower / sizeof *lower; i++)
    if (!strcmp(metric, lower[i])) return -1;
  return 0;
}

static int db_open(const char *path, sqlite3 **db, rsim_errbuf *eb) {
  if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(*db, "SELECT count(*) FROM outputs", -1, &st, NULL) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (ok) return RSIM_OK;
  }
  int rc = rsim_errbuf_set(eb, RSIM_EIO, "%s: not a run database (replaysim run --out): %s", path,
                           *db ? sqlite3_errmsg(*db) : "cannot open");
  sqlite3_close(*db);
  *db = NULL;
  return rc;
}

/* ---- outputs, instant by instant ---------------------------------------------------- */

/* A stream of one component's outputs, read one instant at a time. */
typedef struct stream {
  sqlite3_stmt *st;
  bool has; /* a row is current */
  rsim_sha256 digest;
  uint64_t n;
} stream;

static void stream_step(stream *s) {
  s->has = sqlite3_step(s->st) == SQLITE_ROW;
  if (!s->has) return;
  rsim_time t = sqlite3_column_int64(s->st, 0);
  uint8_t tb[8];
  for (int i = 0; i < 8; i++) tb[i] = (uint8_t)((uint64_t)t >> (8 * i));
  rsim_sha256_update(&s->digest, tb, 8);
  rsim_sha256_update(&s->digest, sqlite3_column_blob(s->st, 1), (size_t)sqlite3_column_bytes(s->st, 1));
  s->n++;
}

static int stream_open(sqlite3 *db, const char *path, const char *comp, stream *s, rsim_errbuf *eb) {
  memset(s, 0, sizeof *s);
  rsim_sha256_init(&s->digest);
  if (sqlite3_prepare_v2(db, "SELECT t, value, json FROM outputs WHERE component = ? ORDER BY seq", -1, &s->st,
                         NULL) != SQLITE_OK)
    return rsim_errbuf_set(eb, RSIM_EBACKEND, "%s: outputs: %s", path, sqlite3_errmsg(db));
  sqlite3_bind_text(s->st, 1, comp, -1, SQLITE_TRANSIENT);
  stream_step(s);
  return RSIM_OK;
}

/* The outputs of the stream at instant t, taken: their bytes into enc
** (length-prefixed, for comparing) and their JSON into json (one value,
** or an array when there are several). */
static void take_instant(stream *s, rsim_time t, rsim_buf *enc, rsim_buf *json) {
  size_t k = 0;
  rsim_buf items = {0};
  while (s->has && sqlite3_column_int64(s->st, 0) == t) {
    size_t n = (size_t)sqlite3_column_bytes(s->st, 1);
    rsim_buf_put_u64le(enc, n);
    rsim_buf_append(enc, sqlite3_column_blob(s->st, 1), n);
    const char *j = (const char *)sqlite3_column_text(s->st, 2);
    if (k++) rsim_buf_puts(&items, ", ");
    rsim_buf_puts(&items, j ? j : "null");
    stream_step(s);
  }
  if (!k) rsim_buf_puts(json, "null");
  else if (k == 1) rsim_buf_append(json, items.data, items.len);
  else {
    rsim_buf_putc(json, '[');
    rsim_buf_append(json, items.data, items.len);
    rsim_buf_putc(json, ']');
  }
  rsim_buf_free(&items);
}

static int compare_component(sqlite3 *da, const char *pa, sqlite3 *db, const char *pb, rsim_diff_comp *c,
                             rsim_errbuf *eb) {
  stream a, b;
  int rc = stream_open(da, pa, c->component, &a, eb);
  if (rc) return rc;
  if ((rc = stream_open(db, pb, c->component, &b, eb))) {
    sqlite3_finalize(a.st);
    return rc;
  }
  rsim_buf ea = {0}, eb_ = {0}, ja = {0}, jb = {0};
  while (a.has || b.has) {
    rsim_time ta = a.has ? sqlite3_column_int64(a.st, 0) : INT64_MAX;
    rsim_time tb = b.has ? sqlite3_column_int64(b.st, 0) : INT64_MAX;
    rsim_time t = ta < tb ? ta : tb;
    ea.len = eb_.len = ja.len = jb.len = 0;
    take_instant(&a, t, &ea, &ja);
    take_instant(&b, t, &eb_, &jb);
    if (ea.len == eb_.len && !memcmp(ea.data, eb_.data, ea.len)) continue;
    if (!c->instants_differ++) {
      c->first_t = t;
      rsim_buf_putc(&ja, 0), rsim_buf_putc(&jb, 0);
      c->json_a = rsim_xstrdup((char *)ja.data);
      c->json_b = rsim_xstrdup((char *)jb.data);
    }
  }
  uint8_t d[32];
  rsim_sha256_final(&a.digest, d), rsim_sha256_hex(d, c->digest_a);
  rsim_sha256_final(&b.digest, d), rsim_sha256_hex(d, c->digest_b);
  c->n_a = a.n, c->n_b = b.n;
  c->identical = c->in_a && c->in_b && !strcmp(c->digest_a, c->digest_b);
  rsim_buf_free(&ea), rsim_buf_free(&eb_), rsim_buf_free(&ja), rsim_buf_free(&jb);
  sqlite3_finalize(a.st);
  sqlite3_finalize(b.st);
  return RSIM_OK;
}

static int list_components(rsim_diff *d, sqlite3 *db, const char *path, bool side_b, rsim_errbuf *eb) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "SELECT name FROM components ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
    return rsim_errbuf_set(eb, RSIM_EBACKEND, "%s: components: %s", path, sqlite3_errmsg(db));
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(st, 0);
    if (!name) continue;
    rsim_diff_comp *c = NULL;
    for (size_t i = 0; i < d->n_comps && !c; i++)
      if (!strcmp(d->comps[i].component, name)) c = &d->comps[i];
    if (!c) {
      d->comps = rsim_xrealloc(d->comps, (d->n_comps + 1) * sizeof *d->comps);
      c = &d->comps[d->n_comps++];
      memset(c, 0, sizeof *c);
      c->component = rsim_xstrdup(name);
    }
    if (side_b) c->in_b = true;
    else c->in_a = true;
  }
  sqlite3_finalize(st);
  return RSIM_OK;
}

/* ---- metrics --------------------------------------------------------------------------- */

static bool has_eval(sqlite3 *db, const char *schema) {
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT 1 FROM %s.sqlite_master WHERE type = 'table' AND name = 'eval'", schema);
  sqlite3_stmt *st = NULL;
  bool yes = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
  sqlite3_finalize(st);
  return yes;
}

static double col_value(sqlite3_stmt *st, int i) {
  return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static int compare_metrics(rsim_diff *d, sqlite3 *da, const char *pa, const char *pb, rsim_errbuf *eb) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(da, "ATTACH DATABASE ? AS b", -1, &st, NULL) != SQLITE_OK)
    return rsim_errbuf_set(eb, RSIM_EBACKEND, "%s: %s", pb, sqlite3_errmsg(da));
  sqlite3_bind_text(st, 1, pb, -1, SQLITE_TRANSIENT);
  int ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_finalize(st);
  if (!ok) return rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot attach: %s", pb, sqlite3_errmsg(da));
  if (!has_eval(da, "main") || !has_eval(da, "b")) return RSIM_OK;
  d->scored = true;
  if (sqlite3_prepare_v2(da,
                         "SELECT x.component, x.kind, x.scope, x.t0, x.t1, x.class, x.metric, x.value, y.value"
                         " FROM main.eval x JOIN b.eval y ON x.component = y.component AND x.kind = y.kind AND x.scope = y.scope"
                         " AND x.class = y.class AND x.metric = y.metric AND (x.scope = 'run' OR x.t0 = y.t0)"
                         " ORDER BY x.rowid",
                         -1, &st, NULL) != SQLITE_OK)
    return rsim_errbuf_set(eb, RSIM_EBACKEND, "%s, %s: eval: %s", pa, pb, sqlite3_errmsg(da));
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (d->n_metrics == d->cap_metrics) {
      d->cap_metrics = d->cap_metrics ? 2 * d->cap_metrics : 256;
      d->metrics = rsim_xrealloc(d->metrics, d->cap_metrics * sizeof *d->metrics);
    }
    rsim_diff_metric *m = &d->metrics[d->n_metrics++];
    const char *s[] = {(const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                       (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 5),
                       (const char *)sqlite3_column_text(st, 6)};
    m->component = rsim_xstrdup(s[0] ? s[0] : "?");
    m->kind = rsim_xstrdup(s[1] ? s[1] : "?");
    m->window = s[2] && !strcmp(s[2], "window");
    m->t0 = sqlite3_column_int64(st, 3);
    m->t1 = sqlite3_column_int64(st, 4);
    m->cls = rsim_xstrdup(s[3] ? s[3] : "all");
    m->metric = rsim_xstrdup(s[4] ? s[4] : "?");
    m->a = col_value(st, 7);
    m->b = col_value(st, 8);
    m->delta = m->b - m->a;
    int dir = rsim_eval_metric_direction(m->metric);
    if (isnan(m->a) && isnan(m->b)) m->change = 0;
    else if (isnan(m->a) != isnan(m->b)) m->change = RSIM_DIFF_UNDEFINED;
    else if (m->a == m->b) m->change = 0;
    else m->change = !dir ? RSIM_DIFF_CHANGED : (m->delta > 0) == (dir > 0) ? RSIM_DIFF_BETTER : RSIM_DIFF_WORSE;
  }
  sqlite3_finalize(st);
  return RSIM_OK;
}

/* ---- the whole -------------------------------------------------------------------------- */

int rsim_diff_runs(const char *run_a, const char *run_b, rsim_diff **out, rsim_errbuf *eb) {
  *out = NULL;
  sqlite3 *da = NULL, *db = NULL;
  int rc = db_open(run_a, &da, eb);
  if (!rc) rc = db_open(run_b, &db, eb);
  rsim_diff *d = rsim_xcalloc(1, sizeof *d);
  if (!rc) rc = list_components(d, da, run_a, false, eb);
  if (!rc) rc = list_components(d, db, run_b, true, eb);
  for (size_t i = 0; !rc && i < d->n_comps; i++) rc = compare_component(da, run_a, db, run_b, &d->comps[i], eb);
  if (!rc) rc = compare_metrics(d, da, run_a, run_b, eb);
  sqlite3_close(da);
  sqlite3_close(db);
  if (rc) {
    rsim_diff_free(d);
    return rc;
  }
  *out = d;
  return RSIM_OK;
}

bool rsim_diff_identical(const rsim_diff *d) {
  for (size_t i = 0; i < d->n_comps; i++)
    if (!d->comps[i].identical) return false;
  return true;
}

size_t rsim_diff_n_components(const rsim_diff *d) { return d->n_comps; }
const rsim_diff_comp *rsim_diff_component(const rsim_diff *d, size_t i) { return &d->comps[i]; }
size_t rsim_diff_n_metrics(const rsim_diff *d) { return d->n_metrics; }
const rsim_diff_metric *rsim_diff_metric_at(const rsim_diff *d, size_t i) { return &d->metrics[i]; }

void rsim_diff_free(rsim_diff *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n_comps; i++) {
    free(d->comps[i].component);
    free(d->comps[i].json_a);
    free(d->comps[i].json_b);
  }
  for (size_t i = 0; i < d->n_metrics; i++) {
    free(d->metrics[i].component);
    free(d->metrics[i].kind);
    free(d->metrics[i].cls);
    free(d->metrics[i].metric);
  }
  free(d->comps);
  free(d->metrics);
  free(d);
}

static const char *change_name(int c) {
  switch (c) {
  case RSIM_DIFF_BETTER: return "better";
  case RSIM_DIFF_WORSE: return "worse";
  case RSIM_DIFF_CHANGED: return "changed";
  case RSIM_DIFF_UNDEFINED: return "undefined in one";
  default: return "same";
  }
}

static void put_num(rsim_buf *b, double v) {
  if (isfinite(v)) rsim_buf_printf(b, "%.17g", v);
  else rsim_buf_puts(b, "null");
}

void rsim_diff_json(const rsim_diff *d, rsim_buf *out) {
  rsim_buf_printf(out, "{\"identical\": %s, \"components\": [", rsim_diff_identical(d) ? "true" : "false");
  for (size_t i = 0; i < d->n_comps; i++) {
    const rsim_diff_comp *c = &d->comps[i];
    rsim_buf_puts(out, i ? ",\n  {\"component\": " : "\n  {\"component\": ");
    rsim_buf_put_json_str(out, c->component, strlen(c->component));
    rsim_buf_printf(out, ", \"identical\": %s, \"in_a\": %s, \"in_b\": %s, \"digest_a\": \"%s\", \"digest_b\": \"%s\","
                         " \"outputs_a\": %llu, \"outputs_b\": %llu, \"instants_differ\": %llu",
                    c->identical ? "true" : "false", c->in_a ? "true" : "false", c->in_b ? "true" : "false",
                    c->digest_a, c->digest_b, (unsigned long long)c->n_a, (unsigned long long)c->n_b,
                    (unsigned long long)c->instants_differ);
    if (c->instants_differ)
      rsim_buf_printf(out, ", \"first_differ\": {\"t\": %lld, \"a\": %s, \"b\": %s}", (long long)c->first_t,
                      c->json_a, c->json_b);
    rsim_buf_putc(out, '}');
  }
  rsim_buf_printf(out, "\n], \"scored\": %s, \"metrics\": [", d->scored ? "true" : "false");
  for (size_t i = 0; i < d->n_metrics; i++) {
    const rsim_diff_metric *m = &d->metrics[i];
    rsim_buf_puts(out, i ? ",\n  {\"component\": " : "\n  {\"component\": ");
    rsim_buf_put_json_str(out, m->component, strlen(m->component));
    rsim_buf_printf(out, ", \"kind\": \"%s\", \"scope\": \"%s\", \"t0\": %lld, \"t1\": %lld, \"class\": ", m->kind,
                    m->window ? "window" : "run", (long long)m->t0, (long long)m->t1);
    rsim_buf_put_json_str(out, m->cls, strlen(m->cls));
    rsim_buf_printf(out, ", \"metric\": \"%s\", \"higher_is_better\": ", m->metric);
    int dir = rsim_eval_metric_direction(m->metric);
    rsim_buf_puts(out, dir > 0 ? "true" : dir < 0 ? "false" : "null");
    rsim_buf_puts(out, ", \"a\": "), put_num(out, m->a);
    rsim_buf_puts(out, ", \"b\": "), put_num(out, m->b);
    rsim_buf_puts(out, ", \"delta\": "), put_num(out, m->delta);
    rsim_buf_printf(out, ", \"change\": \"%s\"}", change_name(m->change));
  }
  rsim_buf_puts(out, "\n]}\n");
}

static void fmt_val(char *s, size_t n, double v) {
  if (isfinite(v)) snprintf(s, n, "%.4g", v);
  else snprintf(s, n, "-");
}

void rsim_diff_table(const rsim_diff *d, rsim_buf *out) {
  for (size_t i = 0; i < d->n_comps; i++) {
    const rsim_diff_comp *c = &d->comps[i];
    if (!c->in_a || !c->in_b) {
      rsim_buf_printf(out, "%s: only in run %s\n", c->component, c->in_a ? "A" : "B");
      continue;
    }
    if (c->identical) {
      rsim_buf_printf(out, "%s: identical (%llu outputs, digest %.16s)\n", c->component, (unsigned long long)c->n_a,
                      c->digest_a);
      continue;
    }
    rsim_buf_printf(out, "%s: differs at %llu instants (outputs %llu vs %llu), first at t=%lld\n", c->component,
                    (unsigned long long)c->instants_differ, (unsigned long long)c->n_a, (unsigned long long)c->n_b,
                    (long long)c->first_t);
  }
  if (!d->scored) {
    rsim_buf_puts(out, "metrics: not compared (run replaysim eval on both runs first)\n");
    return;
  }
  /* Whole-run numbers that changed, then per component and metric how many
  ** windows got better or worse. */
  size_t shown = 0;
  for (size_t i = 0; i < d->n_metrics; i++) {
    const rsim_diff_metric *m = &d->metrics[i];
    if (m->window || !m->change) continue;
    char a[32], b[32], delta[32] = "";
    fmt_val(a, sizeof a, m->a), fmt_val(b, sizeof b, m->b);
    if (isfinite(m->delta)) snprintf(delta, sizeof delta, "%+.4g", m->delta);
    if (!shown++) rsim_buf_puts(out, "metrics (run A -> run B):\n");
    rsim_buf_printf(out, "  %-10s %-10s %-16s %10s -> %-10s %10s  %s\n", m->component, m->cls, m->metric, a, b, delta,
                    change_name(m->change));
  }
  if (!shown) rsim_buf_puts(out, "metrics: the same over the whole run\n");
  for (size_t i = 0; i < d->n_metrics; i++) {
    const rsim_diff_metric *m = &d->metrics[i];
    if (m->window || !rsim_eval_metric_direction(m->metric)) continue;
    size_t better = 0, worse = 0;
    for (size_t j = 0; j < d->n_metrics; j++) {
      const rsim_diff_metric *w = &d->metrics[j];
      if (!w->window || strcmp(w->component, m->component) || strcmp(w->cls, m->cls) || strcmp(w->metric, m->metric))
        continue;
      better += w->change == RSIM_DIFF_BETTER;
      worse += w->change == RSIM_DIFF_WORSE;
    }
    if (better || worse)
      rsim_buf_printf(out, "  %-10s %-10s %-16s windows: %zu better, %zu worse\n", m->component, m->cls, m->metric,
                      better, worse);
  }
}
