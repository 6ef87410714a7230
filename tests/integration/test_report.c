/*
** test_report.c -- `replaysim report`: two runs of one drive (the whole
** drive, and its first 3 s), the first scored by `replaysim eval`, the
** second (its tracker over a budget it cannot keep, so it records
** warnings) by the report's --truth; the page is opened in Debian's chromium
** with every request but the file refused (tests/browser/report_test.mjs)
** and what it shows -- every whole-run number of each run, the A/B deltas,
** a plot's windows, the worst window a link leads to, the warnings -- is compared with
** the run databases' eval tables.
*/
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>

#include "test.h"

/* The value of one score row, the first a query gives: its parameters are
** seq (when >= 0), then component, class and metric.  NaN when the value
** is NULL, and *found false when there is no such row. */
static double score_row(const char *db, const char *sql, int64_t seq, const char *component, const char *cls,
                        const char *metric, bool *found) {
  sqlite3 *h = NULL;
  sqlite3_stmt *st = NULL;
  double v = NAN;
  *found = false;
  if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
    int i = 1;
    if (seq >= 0) sqlite3_bind_int64(st, i++, seq);
    sqlite3_bind_text(st, i++, component, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, cls, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i, metric, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
      *found = true;
      if (sqlite3_column_type(st, 0) != SQLITE_NULL) v = sqlite3_column_double(st, 0);
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

/* A whole-run score in a run database's eval table. */
static double eval_value(const char *db, const char *component, const char *cls, const char *metric, bool *found) {
  return score_row(db, "SELECT value FROM eval WHERE scope = 'run' AND component = ? AND class = ? AND metric = ?", -1,
                   component, cls, metric, found);
}

/* A number as the page shows it ("–" undefined, "−" minus) against a value. */
static bool shows(const char *text, double v, bool count) {
  if (!strcmp(text, "\u2013")) return !isfinite(v);
  if (!isfinite(v)) return false;
  double sign = 1;
  if (!strncmp(text, "\u2212", strlen("\u2212"))) sign = -1, text += strlen("\u2212");
  else if (*text == '+') text++;
  char *end;
  double x = sign * strtod(text, &end);
  if (end == text || *end) return false;
  return count ? x == v : fabs(x - v) <= 5e-4 + 1e-12;
}

static bool is_count(const char *m) {
  return strstr(" tp fp fn objects predictions matches switches misses false_positives fragmentations idtp idfp idfn ",
                m) != NULL && strlen(m) > 1;
}

TEST(report_shows_the_eval_numbers_of_two_runs_in_chromium) {
  const char *d = test_make_drive("drive.db", "4s", 42);
  char drive[1024], a[1024], b[1024], html[1024], cmd[8192], *out = NULL;
  snprintf(drive, sizeof drive, "%s", d);
  snprintf(a, sizeof a, "%s", test_tmpfile("a.db"));
  snprintf(b, sizeof b, "%s", test_tmpfile("b.db"));
  snprintf(html, sizeof html, "%s", test_tmpfile("report.html"));
  const char *graph = test_source_path("examples/demo/graph.yaml");
  char g[1024];
  snprintf(g, sizeof g, "%s", graph);
  snprintf(cmd, sizeof cmd, "--speed max --out %s", a);
  ASSERT_EQ(test_replay(g, drive, cmd, &out, NULL), 0);
  free(out);
  /* b: the first 3 s, the tracker given a budget no call keeps, so that b
  ** records warnings for its plots to mark. */
  char gb[1024];
  snprintf(gb, sizeof gb, "%s", test_demo_graph_warning());
  snprintf(cmd, sizeof cmd, "--speed max --to 3s --out %s", b);
  ASSERT_EQ(test_replay(gb, drive, cmd, &out, NULL), 0);
  free(out);
  snprintf(cmd, sizeof cmd, "%s eval %s --truth %s", test_replaysim_path(), a, drive);
  ASSERT_EQ(test_run(cmd, &out), 0);
  free(out);
  /* b is not scored yet: without --truth the report says which run and what to do. */
  snprintf(cmd, sizeof cmd, "%s report %s %s --out %s 2>&1", test_replaysim_path(), a, b, html);
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(out, "b.db: no eval table");
  ASSERT_CONTAINS(out, "replaysim eval");
  free(out);
  snprintf(cmd, sizeof cmd, "%s report %s %s --out %s --truth %s 2>&1", test_replaysim_path(), a, b, html, drive);
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "report failed (%d): %s", rc, out);
  ASSERT_CONTAINS(out, "scored");
  free(out);
  ASSERT(test_query_int(b, "SELECT count(*) FROM eval WHERE scope = 'run'") > 0);

  snprintf(cmd, sizeof cmd, "node %s %s", test_source_path("tests/browser/report_test.mjs"), html);
  rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "report_test.mjs failed (%d): %s", rc, out);
  ASSERT_CONTAINS(out, "report ok");
  char *line = strstr(out, "REPORT {");
  ASSERT(line);
  line += strlen("REPORT ");
  char *nl = strchr(line, '\n');
  if (nl) *nl = 0;
  json_error_t jerr;
  json_t *doc = json_loads(line, 0, &jerr);
  if (!doc) test_fail(__FILE__, __LINE__, "the page's numbers are not JSON: %s", jerr.text);
  const char *runs[2] = {a, b};

  /* Every number the page shows is the database's, and each run shows all its whole-run rows. */
  size_t i, summary = 0, table[2] = {0, 0};
  json_t *c;
  json_array_foreach(json_object_get(doc, "cells"), i, c) {
    int run = (int)json_integer_value(json_object_get(c, "run"));
    ASSERT(run == 0 || run == 1);
    const char *comp = json_string_value(json_object_get(c, "component")),
               *cls = json_string_value(json_object_get(c, "class")),
               *metric = json_string_value(json_object_get(c, "metric")),
               *text = json_string_value(json_object_get(c, "text"));
    bool found;
    double v = eval_value(runs[run], comp, cls, metric, &found);
    if (!found || !shows(text, v, is_count(metric)))
      test_fail(__FILE__, __LINE__, "run %d %s %s %s: the page shows '%s', the database has %.17g%s", run, comp, cls,
                metric, text, v, found ? "" : " (no such row)");
    if (json_is_true(json_object_get(c, "summary"))) summary++;
    else if (!json_is_true(json_object_get(c, "ab"))) table[run]++;
  }
  /* demo graph: detector, tracker, fusion, planner; three headline numbers each */
  ASSERT_EQ(summary, 2 * 12);
  for (int r = 0; r < 2; r++)
    ASSERT_EQ((int64_t)table[r], test_query_int(runs[r], "SELECT count(*) FROM eval WHERE scope = 'run'"));

  /* A/B: b against a, each delta the difference of the databases' numbers. */
  size_t n_delta = 0, differ = 0;
  json_array_foreach(json_object_get(doc, "deltas"), i, c) {
    ASSERT_EQ(json_integer_value(json_object_get(c, "a")), 0);
    ASSERT_EQ(json_integer_value(json_object_get(c, "b")), 1);
    const char *comp = json_string_value(json_object_get(c, "component")),
               *metric = json_string_value(json_object_get(c, "metric")),
               *text = json_string_value(json_object_get(c, "text"));
    bool fa, fb;
    double va = eval_value(a, comp, "all", metric, &fa), vb = eval_value(b, comp, "all", metric, &fb);
    ASSERT(fa && fb);
    if (!shows(text, vb - va, false))
      test_fail(__FILE__, __LINE__, "%s %s: delta '%s', the databases differ by %.6f", comp, metric, text, vb - va);
    bool better = json_is_true(json_object_get(c, "better")), worse = json_is_true(json_object_get(c, "worse"));
    double diff = vb - va;
    if (isfinite(diff) && fabs(diff) >= 5e-4) {
      differ++;
      bool up = diff > 0, low = !strcmp(metric, "motp") || !strcmp(metric, "hard_brakes") || !strcmp(metric, "max_decel");
      ASSERT(better == (up != low));
      ASSERT(worse == !better);
    }
    n_delta++;
  }
  ASSERT_EQ(n_delta, 5 + 2 * 6 + 5); /* detector 5 headline numbers, tracker and fusion 6, planner 5 */
  ASSERT(differ > 0);                /* 3 s of 4 are scored differently */

  /* Each plot has one step per window of the database. */
  size_t n_plots = 0;
  json_array_foreach(json_object_get(doc, "plots"), i, c) {
    int run = (int)json_integer_value(json_object_get(c, "run"));
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM eval WHERE scope = 'window' AND class = 'all' AND component = '%s' AND metric = '%s'",
             json_string_value(json_object_get(c, "component")), json_string_value(json_object_get(c, "metric")));
    ASSERT_EQ(json_integer_value(json_object_get(c, "windows")), test_query_int(runs[run], sql));
    ASSERT(strlen(json_string_value(json_object_get(c, "path"))) > 0);
    n_plots++;
  }
  ASSERT_EQ(n_plots, 2 * (5 + 6 + 6 + 5));

  /* The summary's link leads to the first run's worst detector windows; the
  ** first is the window of the lowest F1 (the earliest of equals). */
  json_t *t = json_object_get(doc, "target");
  ASSERT_STREQ(json_string_value(json_object_get(t, "id")), "run-0-c0-worst");
  ASSERT_STREQ(json_string_value(json_object_get(t, "first")), "run-0-c0-w0");
  int64_t worst = test_query_int(a, "SELECT t0 FROM eval WHERE scope = 'window' AND component = 'detector' AND class = "
                                    "'all' AND metric = 'f1' AND value IS NOT NULL ORDER BY value, t0 LIMIT 1");
  ASSERT_EQ(strtoll(json_string_value(json_object_get(t, "t0")), NULL, 10), worst);
  const char *f1 = json_string_value(json_object_get(json_object_get(t, "values"), "f1"));
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT CAST(round(value * 1000) AS INTEGER) FROM eval WHERE scope = 'window' AND component = 'detector' "
           "AND class = 'all' AND metric = 'f1' AND t0 = %lld",
           (long long)worst);
  ASSERT_NEAR(strtod(f1, NULL) * 1000, (double)test_query_int(a, sql), 0.5);
  /* Warnings and errors: as many as each database holds; b's are drawn on its plots. */
  for (int r = 0; r < 2; r++) {
    json_t *ev = json_array_get(json_object_get(doc, "events"), (size_t)r);
    ASSERT_EQ(json_integer_value(json_object_get(ev, "events")),
              test_query_int(runs[r], "SELECT count(*) FROM events WHERE level IN ('warn', 'error')"));
  }
  ASSERT(json_integer_value(json_object_get(json_array_get(json_object_get(doc, "events"), 1), "events")) > 0);
  ASSERT(json_integer_value(json_object_get(json_array_get(json_object_get(doc, "events"), 1), "drawn")) > 0);
  json_decref(doc);
  free(out);
}

TEST(report_usage_and_unreadable_runs_are_errors) {
  char cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd, "%s report --out %s 2>&1", test_replaysim_path(), test_tmpfile("r.html"));
  ASSERT_EQ(test_run(cmd, &out), 2);
  ASSERT_CONTAINS(out, "usage: replaysim report");
  free(out);
  snprintf(cmd, sizeof cmd, "%s report %s --out %s 2>&1", test_replaysim_path(), test_tmpfile("nosuch.db"),
           test_tmpfile("r.html"));
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(out, "nosuch.db: cannot open the run database");
  free(out);
}

/* ---- a batch's results database --------------------------------------------------- */

/* A whole-job score of the job at seq in a results database. */
static double job_value(const char *db, int64_t seq, const char *component, const char *cls, const char *metric,
                        bool *found) {
  return score_row(db,
                   "SELECT value FROM metrics m JOIN jobs j ON j.key = m.job WHERE j.seq = ? AND scope = 'run'"
                   " AND component = ? AND class = ? AND metric = ?",
                   seq, component, cls, metric, found);
}

/* shows(), and "∞" for an infinite value (a batch keeps infinities). */
static bool shows_inf(const char *text, double v, bool count) {
  if (!strcmp(text, "\u221e")) return isinf(v) && v > 0;
  if (!strcmp(text, "\u2212\u221e")) return isinf(v) && v < 0;
  return shows(text, v, count);
}

TEST(report_shows_a_batch_against_its_baseline_in_chromium) {
  test_make_drive("drive.db", "4s", 42);
  char html[1024], cmd[8192], base[1024], nw[1024], *out = NULL;
  snprintf(base, sizeof base, "%s", test_tmpfile("base.db"));
  snprintf(nw, sizeof nw, "%s", test_tmpfile("new.db"));
  snprintf(html, sizeof html, "%s", test_tmpfile("batch.html"));
  /* new: the detector keeping boxes of 300 px and more (other scores), the
  ** tracker over a budget it cannot keep (warnings in the recorded runs). */
  FILE *f = fopen(test_source_path("examples/demo/graph.yaml"), "rb");
  ASSERT(f);
  static char demo[16384], g[17000];
  size_t len = fread(demo, 1, sizeof demo - 1, f);
  fclose(f);
  demo[len] = 0;
  char *det = strstr(demo, "    trigger: camera_front"), *trk = strstr(demo, "    trigger: radar_front\n");
  ASSERT(det && trk && det < trk);
  det = strchr(det, '\n') + 1;
  trk += strlen("    trigger: radar_front\n");
  snprintf(g, sizeof g, "%.*s    config: { min_area: \"300\" }\n%.*s    budget: 1us\n    on_timing: warn\n%s",
           (int)(det - demo), demo, (int)(trk - det), det, trk);
  test_write_text("new.yaml", g);
  snprintf(cmd, sizeof cmd,
           "cd %s && %s batch %s --stores drive.db --scenes 2s --jobs 2 --out base.db --no-runs --quiet && "
           "%s batch new.yaml --stores drive.db --scenes 2s --jobs 2 --out new.db --quiet && "
           "%s report new.db --baseline base.db --out batch.html",
           test_tmpdir(), test_replaysim_path(), test_source_path("examples/demo/graph.yaml"), test_replaysim_path(),
           test_replaysim_path());
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "batch or report failed (%d): %s", rc, out);
  free(out);
  ASSERT_EQ(test_query_int(nw, "SELECT count(*) FROM jobs WHERE status = 'ok'"), 2);

  snprintf(cmd, sizeof cmd, "node %s %s", test_source_path("tests/browser/report_test.mjs"), html);
  rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "report_test.mjs failed (%d): %s", rc, out);
  ASSERT_CONTAINS(out, "report ok");
  char *line = strstr(out, "REPORT {");
  ASSERT(line);
  line += strlen("REPORT ");
  char *nl = strchr(line, '\n');
  if (nl) *nl = 0;
  json_error_t jerr;
  json_t *doc = json_loads(line, 0, &jerr);
  if (!doc) test_fail(__FILE__, __LINE__, "the page's numbers are not JSON: %s", jerr.text);

  /* Runs 0 and 1 are the jobs (in batch order), 2 and 3 the baseline's. */
  size_t i, summary = 0, table[2] = {0, 0};
  json_t *c;
  json_array_foreach(json_object_get(doc, "cells"), i, c) {
    int run = (int)json_integer_value(json_object_get(c, "run"));
    ASSERT(run >= 0 && run < 4);
    const char *comp = json_string_value(json_object_get(c, "component")),
               *cls = json_string_value(json_object_get(c, "class")),
               *metric = json_string_value(json_object_get(c, "metric")),
               *text = json_string_value(json_object_get(c, "text"));
    bool found;
    double v = job_value(run < 2 ? nw : base, run % 2, comp, cls, metric, &found);
    if (!found || !shows_inf(text, v, is_count(metric)))
      test_fail(__FILE__, __LINE__, "run %d %s %s %s: the page shows '%s', the database has %.17g%s", run, comp, cls,
                metric, text, v, found ? "" : " (no such row)");
    if (json_is_true(json_object_get(c, "summary"))) summary++;
    else if (!json_is_true(json_object_get(c, "ab"))) {
      ASSERT(run < 2); /* the baseline's jobs have no section */
      table[run]++;
    }
  }
  ASSERT_EQ(summary, 2 * 12);
  for (int r = 0; r < 2; r++) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM metrics m JOIN jobs j ON j.key = m.job WHERE j.seq = %d AND scope = 'run'", r);
    ASSERT_EQ((int64_t)table[r], test_query_int(nw, sql));
  }

  /* A/B: each job against the baseline's job of the same drive and range. */
  size_t n_delta = 0, worse = 0;
  json_array_foreach(json_object_get(doc, "deltas"), i, c) {
    int a = (int)json_integer_value(json_object_get(c, "a")), b = (int)json_integer_value(json_object_get(c, "b"));
    ASSERT(b < 2);
    ASSERT_EQ(a, b + 2);
    const char *comp = json_string_value(json_object_get(c, "component")),
               *metric = json_string_value(json_object_get(c, "metric")),
               *text = json_string_value(json_object_get(c, "text"));
    bool fa, fb;
    double va = job_value(base, b, comp, "all", metric, &fa), vb = job_value(nw, b, comp, "all", metric, &fb);
    ASSERT(fa && fb);
    double d = vb - va;
    if (!(isnan(d) ? !strcmp(text, "\u2013") : shows_inf(text, d, false)))
      test_fail(__FILE__, __LINE__, "%s %s: delta '%s', the databases differ by %.6f", comp, metric, text, d);
    if (!strcmp(comp, "detector") && !strcmp(metric, "f1") && d < -5e-4) {
      ASSERT(json_is_true(json_object_get(c, "worse")));
      worse++;
    }
    n_delta++;
  }
  ASSERT_EQ(n_delta, 2 * (5 + 6 + 6 + 5));
  ASSERT(worse > 0); /* fewer true boxes kept: F1 falls */

  /* Plots: a step a window of the job. */
  size_t n_plots = 0;
  json_array_foreach(json_object_get(doc, "plots"), i, c) {
    int run = (int)json_integer_value(json_object_get(c, "run"));
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM metrics m JOIN jobs j ON j.key = m.job WHERE j.seq = %d AND scope = 'window'"
             " AND class = 'all' AND component = '%s' AND metric = '%s'",
             run, json_string_value(json_object_get(c, "component")), json_string_value(json_object_get(c, "metric")));
    int64_t w = test_query_int(nw, sql);
    ASSERT_EQ(w, 2); /* 2 s scenes, 1 s windows */
    ASSERT_EQ(json_integer_value(json_object_get(c, "windows")), w);
    n_plots++;
  }
  ASSERT_EQ(n_plots, 2 * (5 + 6 + 6 + 5));

  /* The first job's worst detector window, linked from the summary. */
  json_t *t = json_object_get(doc, "target");
  ASSERT_STREQ(json_string_value(json_object_get(t, "id")), "run-0-c0-worst");
  ASSERT_EQ(strtoll(json_string_value(json_object_get(t, "t0")), NULL, 10),
            test_query_int(nw, "SELECT t0 FROM metrics m JOIN jobs j ON j.key = m.job WHERE j.seq = 0 AND scope = 'window'"
                               " AND component = 'detector' AND class = 'all' AND metric = 'f1' AND value IS NOT NULL"
                               " ORDER BY value, t0 LIMIT 1"));
  /* Warnings: those of each job's recorded run, drawn on its plots. */
  for (int r = 0; r < 2; r++) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT out FROM jobs WHERE seq = %d", r);
    sqlite3 *h;
    sqlite3_stmt *st;
    char run_db[1024] = "";
    ASSERT_EQ(sqlite3_open_v2(nw, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ASSERT_EQ(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) snprintf(run_db, sizeof run_db, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
    json_t *ev = json_array_get(json_object_get(doc, "events"), (size_t)r);
    int64_t n_ev = test_query_int(run_db, "SELECT count(*) FROM events WHERE level IN ('warn', 'error')");
    ASSERT(n_ev > 0);
    ASSERT_EQ(json_integer_value(json_object_get(ev, "events")), n_ev);
    /* drawn where they fall in the scene's windows (not in its warm-up) */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE level IN ('warn', 'error') AND t >= %lld AND t <= %lld",
             (long long)test_query_int(nw, "SELECT min(t_from) FROM jobs") + r * 2000000000LL,
             (long long)test_query_int(nw, "SELECT min(t_from) FROM jobs") + (r + 1) * 2000000000LL - 1);
    int64_t in_scene = test_query_int(run_db, sql);
    if (r == 0) ASSERT(in_scene > 0);
    ASSERT_EQ(json_integer_value(json_object_get(ev, "drawn")) > 0, in_scene > 0);
  }
  ASSERT_EQ(json_array_size(json_object_get(doc, "events")), 2);
  json_decref(doc);
  free(out);
}
