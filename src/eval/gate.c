/*
** gate.c -- gates for CI: a YAML list of conditions on a scored run
** (`replaysim eval RUN --truth S --gate gates.yaml [--baseline BASE.db]`).
** A gate names a metric of a component and class, over the whole run or
** every window, and bounds it: an absolute min or max, or an allowed
** regression against the same number in a baseline run's eval table, in the
** metric's worse direction (rsim_eval_metric_direction).
**
** Every failure is a line naming the drive, the component, class, window,
** metric and both values, so that a red CI job says what got worse where.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/yaml_int.h"
#include "eval/eval_int.h"

typedef rsim_eval_gate gate;

struct rsim_eval_gateset {
  gate *g;
  size_t n;
};
typedef struct rsim_eval_gateset gates;

static void gates_free(gates *G) {
  for (size_t i = 0; i < G->n; i++) {
    free(G->g[i].component);
    free(G->g[i].cls);
    free(G->g[i].metric);
  }
  free(G->g);
}

static int parse_gate(yaml_document_t *doc, yaml_node_t *m, const char *path, gate *g, rsim_errbuf *eb) {
  int line = (int)m->start_mark.line + 1;
  g->line = line;
  if (m->type != YAML_MAPPING_NODE)
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s:%d: a gate is a mapping (metric, component, ...)", path, line);
  for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
    const char *k = rsim__yaml_scalar(doc, p->key), *v = rsim__yaml_scalar(doc, p->value);
    int kl = (int)yaml_document_get_node(doc, p->key)->start_mark.line + 1;
    if (!k || !v) return rsim_errbuf_set(eb, RSIM_EINVAL, "%s:%d: gate keys and values are scalars", path, kl);
    double *num = NULL;
    bool *has = NULL;
    if (!strcmp(k, "metric")) g->metric = rsim_xstrdup(v);
    else if (!strcmp(k, "component")) g->component = rsim_xstrdup(v);
    else if (!strcmp(k, "class")) g->cls = rsim_xstrdup(v);
    else if (!strcmp(k, "scope")) {
      if (strcmp(v, "run") && strcmp(v, "window"))
        return rsim_errbuf_set(eb, RSIM_EINVAL, "%s:%d: scope '%s': expected run or window", path, kl, v);
      g->window = !strcmp(v, "window");
    } else if (!strcmp(k, "min")) num = &g->min, has = &g->has_min;
    else if (!strcmp(k, "max")) num = &g->max, has = &g->has_max;
    else if (!strcmp(k, "max_regression")) num = &g->reg, has = &g->has_reg;
    else
      return rsim_errbuf_set(eb, RSIM_EINVAL,
                             "%s:%d: unknown gate key '%s' (metric, component, class, scope, min, max, max_regression)",
                             path, kl, k);
    if (num) {
      rsim_errbuf pe = {0};
      if (rsim_parse_real(v, -1e300, 1e300, num, &pe))
        return rsim_errbuf_set(eb, RSIM_EINVAL, "%s:%d: %s: %s", path, kl, k, pe.msg);
      *has = true;
    }
  }
  if (!g->metric || !g->component)
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s:%d: a gate needs a metric and a component", path, line);
  if (!g->has_min && !g->has_max && !g->has_reg)
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s:%d: gate on %s: give min, max or max_regression", path, line,
                           g->metric);
  if (g->has_reg && (g->reg < 0 || !rsim_eval_metric_direction(g->metric)))
    return rsim_errbuf_set(eb, RSIM_EINVAL,
                           g->reg < 0 ? "%s:%d: max_regression of %s must be >= 0"
                                      : "%s:%d: %s is neither better higher nor lower: bound it with min or max",
                           path, line, g->metric);
  if (!g->cls) g->cls = rsim_xstrdup("all");
  return RSIM_OK;
}

static int load_gates(const char *path, gates *G, rsim_errbuf *eb) {
  yaml_document_t doc;
  int rc = rsim__yaml_load(path, RSIM_EINVAL, &doc, eb);
  if (rc) return rc;
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  yaml_node_t *list = NULL;
  if (root && root->type == YAML_MAPPING_NODE)
    for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < root->data.mapping.pairs.top; q++) {
      const char *k = rsim__yaml_scalar(&doc, q->key);
      if (k && !strcmp(k, "gates")) list = yaml_document_get_node(&doc, q->value);
    }
  if (!list || list->type != YAML_SEQUENCE_NODE || list->data.sequence.items.start == list->data.sequence.items.top)
    rc = rsim_errbuf_set(eb, RSIM_EINVAL, "%s: expected `gates:` with a list of gates", path);
  for (yaml_node_item_t *it = list && !rc ? list->data.sequence.items.start : NULL;
       it && it < list->data.sequence.items.top && !rc; it++) {
    G->g = rsim_xrealloc(G->g, (G->n + 1) * sizeof *G->g);
    gate *g = &G->g[G->n++];
    memset(g, 0, sizeof *g);
    rc = parse_gate(&doc, yaml_document_get_node(&doc, *it), path, g, eb);
  }
  yaml_document_delete(&doc);
  return rc;
}

int rsim_eval_gateset_load(const char *path, rsim_eval_gateset **out, rsim_errbuf *eb) {
  gates *G = rsim_xcalloc(1, sizeof *G);
  int rc = load_gates(path, G, eb);
  if (rc) {
    gates_free(G);
    free(G);
    G = NULL;
  }
  *out = G;
  return rc;
}

size_t rsim_eval_gateset_n(const rsim_eval_gateset *G) { return G ? G->n : 0; }
const rsim_eval_gate *rsim_eval_gateset_at(const rsim_eval_gateset *G, size_t i) { return &G->g[i]; }

void rsim_eval_gateset_free(rsim_eval_gateset *G) {
  if (!G) return;
  gates_free(G);
  free(G);
}

const char *rsim_eval_gate_bound(const rsim_eval_gate *g, double v, double *limit) {
  if (g->has_min && v < g->min) return *limit = g->min, "below min";
  if (g->has_max && v > g->max) return *limit = g->max, "above max";
  return NULL;
}

/* The baseline's value of the same number in a run's eval table: the
** whole run's, or the window that starts at the same time.  NaN when it
** has none. */
static double baseline_value(void *ud, const rsim_eval_row *x) {
  sqlite3_stmt *st = ud;
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, x->component, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, x->cls, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, x->metric, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, x->window ? "window" : "run", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, x->window ? x->t0 : 0);
  double v = NAN;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) v = sqlite3_column_double(st, 0);
  return v;
}

static void where(rsim_buf *b, const rsim_eval_row *x, rsim_time anchor) {
  if (!x->window) {
    rsim_buf_puts(b, "run");
    return;
  }
  char s0[32], s1[32];
  rsim_format_duration(x->t0 - anchor, s0, sizeof s0);
  rsim_format_duration(x->t1 - anchor, s1, sizeof s1);
  rsim_buf_printf(b, "window %s-%s (t0=%lld)", s0, s1, (long long)x->t0);
}

int rsim_eval_gates(const rsim_eval_result *r, const char *gates_yaml, const char *baseline_db, const char *drive,
                    rsim_buf *report, size_t *failed, rsim_errbuf *eb) {
  *failed = 0;
  gates G = {0};
  int rc = load_gates(gates_yaml, &G, eb);
  bool need_base = false;
  for (size_t i = 0; !rc && i < G.n; i++) need_base |= G.g[i].has_reg;
  gates_free(&G);
  if (rc) return rc;
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  if (need_base && baseline_db) {
    if (sqlite3_open_v2(baseline_db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT value FROM eval WHERE component = ?1 AND class = ?2 AND metric = ?3 AND scope = ?4"
                           " AND (?4 = 'run' OR t0 = ?5)",
                           -1, &st, NULL) != SQLITE_OK)
      rc = rsim_errbuf_set(eb, RSIM_EIO, "%s: no eval table to compare with (run replaysim eval on the baseline): %s",
                           baseline_db, db ? sqlite3_errmsg(db) : "cannot open");
  }
  if (!rc)
    rc = rsim_eval_gates_with(r, gates_yaml, st ? baseline_value : NULL, st, drive, report, failed, eb);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rc;
}

int rsim_eval_gates_with(const rsim_eval_result *r, const char *gates_yaml, rsim_eval_baseline_fn base_fn, void *base_ud,
                         const char *drive, rsim_buf *report, size_t *failed, rsim_errbuf *eb) {
  *failed = 0;
  gates G = {0};
  int rc = load_gates(gates_yaml, &G, eb);
  bool need_base = false;
  for (size_t i = 0; !rc && i < G.n; i++) need_base |= G.g[i].has_reg;
  if (!rc && need_base && !base_fn)
    rc = rsim_errbuf_set(eb, RSIM_EINVAL, "%s: a gate has max_regression: give the baseline run (--baseline BASE.db)",
                         gates_yaml);
  /* Windows are said as offsets from the first window of the run. */
  rsim_time anchor = INT64_MAX;
  for (size_t i = 0; i < rsim_eval_n_rows(r); i++) {
    const rsim_eval_row *x = rsim_eval_row_at(r, i);
    if (x->window && x->t0 < anchor) anchor = x->t0;
  }
  for (size_t gi = 0; !rc && gi < G.n; gi++) {
    const gate *g = &G.g[gi];
    size_t checked = 0, fails = 0, skipped = 0;
    for (size_t i = 0; i < rsim_eval_n_rows(r); i++) {
      const rsim_eval_row *x = rsim_eval_row_at(r, i);
      if (x->window != g->window || strcmp(x->component, g->component) || strcmp(x->cls, g->cls) ||
          strcmp(x->metric, g->metric))
        continue;
      double v = x->value, base = NAN, limit = NAN;
      const char *why = NULL;
      if (isnan(v)) {
        if (g->window) { /* a window without truth has nothing to hold to */
          skipped++;
          continue;
        }
        why = "undefined";
      } else if ((why = rsim_eval_gate_bound(g, v, &limit))) {
      } else if (g->has_reg) {
        base = base_fn(base_ud, x);
        int dir = rsim_eval_metric_direction(g->metric);
        if (!isnan(base) && (dir > 0 ? base - v : v - base) > g->reg) {
          why = dir > 0 ? "below" : "above";
          limit = dir > 0 ? base - g->reg : base + g->reg;
        }
      }
      checked++;
      if (!why) continue;
      if (fails++ < 20) {
        rsim_buf_printf(report, "FAIL gate %zu (%s:%d): drive %s, %s/%s %s, ", gi + 1, gates_yaml, g->line, drive,
                        g->component, g->cls, g->metric);
        where(report, x, anchor);
        rsim_buf_printf(report, ": %.6g %s", v, why);
        if (!isnan(limit)) rsim_buf_printf(report, " %.6g", limit);
        if (!isnan(base)) rsim_buf_printf(report, " (baseline %.6g, allowed regression %.6g)", base, g->reg);
        rsim_buf_putc(report, '\n');
      }
    }
    if (fails > 20) rsim_buf_printf(report, "FAIL gate %zu: ... and %zu more\n", gi + 1, fails - 20);
    if (!checked && !skipped) {
      fails++;
      rsim_buf_printf(report, "FAIL gate %zu (%s:%d): drive %s, %s/%s %s (%s): not among the results\n", gi + 1,
                      gates_yaml, g->line, drive, g->component, g->cls, g->metric, g->window ? "window" : "run");
    } else if (!fails) {
      rsim_buf_printf(report, "PASS gate %zu (%s:%d): %s/%s %s, %s", gi + 1, gates_yaml, g->line, g->component, g->cls,
                      g->metric, g->window ? "" : "run");
      if (g->window) rsim_buf_printf(report, "%zu windows", checked);
      if (skipped) rsim_buf_printf(report, " (%zu windows undefined, skipped)", skipped);
      rsim_buf_putc(report, '\n');
    }
    if (fails) (*failed)++;
  }
  gates_free(&G);
  return rc;
}
