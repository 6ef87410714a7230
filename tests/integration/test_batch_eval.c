/*
** test_batch_eval.c -- scores in `replaysim batch`: real drives, the demo
** graph (its eval: block) of real components, real results databases.  A
** job's scores in the metrics table are those `replaysim run --eval` keeps
** for the same drive (and, for a scene, `replaysim eval --from --to` of the
** scene's run), value for value; the same with --jobs 1, --jobs 2, two
** shards merged and mpirun with 3 ranks; --resume keeps them, --no-eval
** leaves them out; `batch report` prints them; gates over a batch fail
** naming the job, window, metric and values, and pass with exit 0.
*/
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"


static int batch(const char *args, char **out) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "cd %s && %s batch %s", test_tmpdir(), test_replaysim_path(), args);
  return test_run(cmd, out);
}

/* The first column of a query's first row, as text (static). */
static const char *query_str(const char *db, const char *sql) {
  static char v[4096];
  sqlite3 *h;
  sqlite3_stmt *st;
  ASSERT_EQ(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
    test_fail(__FILE__, __LINE__, "%s: %s: %s", db, sql, sqlite3_errmsg(h));
  v[0] = 0;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    snprintf(v, sizeof v, "%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

static double query_real(const char *db, const char *sql) {
  sqlite3 *h;
  sqlite3_stmt *st;
  double v = NAN;
  ASSERT_EQ(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
    test_fail(__FILE__, __LINE__, "%s: %s: %s", db, sql, sqlite3_errmsg(h));
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) v = sqlite3_column_double(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

/* sql over db with other attached as o. */
static int64_t query_two(const char *db, const char *other, const char *sql) {
  char full[4096];
  snprintf(full, sizeof full, "ATTACH '%s' AS o", other);
  sqlite3 *h;
  sqlite3_stmt *st;
  ASSERT_EQ(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  if (sqlite3_exec(h, full, NULL, NULL, NULL) != SQLITE_OK || sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
    test_fail(__FILE__, __LINE__, "%s + %s: %s: %s", db, other, sql, sqlite3_errmsg(h));
  int64_t v = -1;
  if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

/* Both results files hold the same scores: every row of a is in b, field
** for field, the value bit for bit (NULL for NULL), and as many. */
static void assert_same_metrics(const char *a, const char *b) {
  int64_t na = test_query_int(a, "SELECT count(*) FROM metrics"), nb = test_query_int(b, "SELECT count(*) FROM metrics");
  ASSERT(na > 0);
  ASSERT_EQ(nb, na);
  ASSERT_EQ(query_two(a, b,
                      "SELECT count(*) FROM metrics m JOIN o.metrics x ON x.job = m.job AND x.seq = m.seq"
                      " WHERE x.component = m.component AND x.kind = m.kind AND x.scope = m.scope AND x.t0 = m.t0"
                      " AND x.t1 = m.t1 AND x.class = m.class AND x.metric = m.metric AND x.value IS m.value"),
            na);
}

/* The scores of job key in results are the rows of run_db's eval table (as
** `replaysim eval` keeps them: NULL there for an infinite value). */
static void assert_scores_are_eval(const char *results, const char *key, const char *run_db) {
  char sql[2048];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM metrics WHERE job = '%s'", key);
  int64_t n = test_query_int(results, sql);
  ASSERT(n > 100); /* four components, per run and per window */
  ASSERT_EQ(test_query_int(run_db, "SELECT count(*) FROM eval"), n);
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM metrics m JOIN o.eval e ON e.component = m.component AND e.kind = m.kind"
           " AND e.scope = m.scope AND e.t0 = m.t0 AND e.t1 = m.t1 AND e.class = m.class AND e.metric = m.metric"
           " WHERE m.job = '%s' AND (m.value IS e.value OR (e.value IS NULL AND abs(m.value) > 1e308))",
           key);
  ASSERT_EQ(query_two(results, run_db, sql), n);
}

static void make_logs(void) {
  mkdir(test_tmpfile("logs"), 0777);
  test_make_drive("logs/a.db", "3s", 1);
  test_make_drive("logs/b.db", "2s", 2);
}

TEST(batch_scores_are_run_evals_with_jobs_shards_and_mpirun) {
  make_logs();
  char args[4096], cmd[8192], key[2048], *out = NULL;
  /* Whole drives: a job's scores are those of `replaysim run --eval`. */
  snprintf(args, sizeof args, "%s --stores 'logs/*.db' --jobs 2 --out whole.db --no-runs --quiet", test_demo_graph());
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  char whole[1024], ra[1024];
  snprintf(whole, sizeof whole, "%s", test_tmpfile("whole.db"));
  snprintf(ra, sizeof ra, "%s", test_tmpfile("ra.db"));
  snprintf(cmd, sizeof cmd, "--speed max --out %s --eval", ra);
  ASSERT_EQ(test_replay(test_demo_graph(), test_tmpfile("logs/a.db"), cmd, &out, NULL), 0);
  free(out);
  snprintf(key, sizeof key, "%s", query_str(whole, "SELECT key FROM jobs WHERE name = 'a.db'"));
  assert_scores_are_eval(whole, key, ra);
  /* ... so a gate against the batch as baseline finds no regression. */
  test_write_text("reg.yaml", "gates:\n"
                              "  - {metric: f1, component: detector, max_regression: 0}\n"
                              "  - {metric: mota, component: fusion, scope: window, max_regression: 0}\n");
  snprintf(cmd, sizeof cmd, "cd %s && %s eval ra.db --truth logs/a.db --gate reg.yaml --baseline whole.db",
           test_tmpdir(), test_replaysim_path());
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "eval --gate against the batch failed (%d): %s", rc, out);
  ASSERT_CONTAINS(out, "PASS gate 1");
  ASSERT_CONTAINS(out, "PASS gate 2");
  free(out);

  /* Scenes: the same scores with 1 and 2 workers and two shards merged. */
  const char *common = "--stores 'logs/*.db' --scenes 1s --warmup 500ms --quiet";
  snprintf(args, sizeof args, "%s %s --jobs 1 --out s1.db --no-runs", test_demo_graph(), common);
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  snprintf(args, sizeof args, "%s %s --jobs 2 --out s2.db", test_demo_graph(), common);
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  for (int s = 0; s < 2; s++) {
    snprintf(args, sizeof args, "%s %s --shard %d/2 --out sh%d.db --no-runs", test_demo_graph(), common, s, s);
    ASSERT_EQ(batch(args, &out), 0);
    free(out);
  }
  ASSERT_EQ(batch("--merge --out m.db sh0.db sh1.db", &out), 0);
  free(out);
  char s1[1024], s2[1024], m[1024];
  snprintf(s1, sizeof s1, "%s", test_tmpfile("s1.db"));
  snprintf(s2, sizeof s2, "%s", test_tmpfile("s2.db"));
  snprintf(m, sizeof m, "%s", test_tmpfile("m.db"));
  ASSERT_EQ(test_query_int(s1, "SELECT count(DISTINCT job) FROM metrics"), 5);
  /* Infinities (scenes that never close on a lead: min_ttc) come through
  ** the workers' JSON as they were computed; the comparisons below hold them too. */
  ASSERT(test_query_int(s1, "SELECT count(*) FROM metrics WHERE metric = 'min_ttc' AND value > 1e308") > 0);
  assert_same_metrics(s1, s2);
  assert_same_metrics(s1, m);
  ASSERT(test_query_int(test_tmpfile("sh0.db"), "SELECT count(*) FROM metrics") <
         test_query_int(s1, "SELECT count(*) FROM metrics"));

  /* A scene is scored over its range, not its warm-up: as `replaysim eval
  ** --from --to` scores the run of the scene with its warm-up. */
  int64_t from = test_query_int(s1, "SELECT t_from FROM jobs WHERE name = 'a.db#1'");
  int64_t to = test_query_int(s1, "SELECT t_to FROM jobs WHERE name = 'a.db#1'");
  int64_t warm = test_query_int(s1, "SELECT warmup FROM jobs WHERE name = 'a.db#1'");
  ASSERT_EQ(warm, 500000000);
  char sc[1024];
  snprintf(sc, sizeof sc, "%s", test_tmpfile("scene.db"));
  snprintf(cmd, sizeof cmd, "--speed max --from %lld --to %lld --out %s", (long long)(from - warm), (long long)to, sc);
  ASSERT_EQ(test_replay(test_demo_graph(), test_tmpfile("logs/a.db"), cmd, &out, NULL), 0);
  free(out);
  snprintf(cmd, sizeof cmd, "%s eval %s --truth %s --from %lld --to %lld", test_replaysim_path(), sc,
           test_tmpfile("logs/a.db"), (long long)from, (long long)to);
  ASSERT_EQ(test_run(cmd, &out), 0);
  free(out);
  snprintf(key, sizeof key, "%s", query_str(s1, "SELECT key FROM jobs WHERE name = 'a.db#1'"));
  assert_scores_are_eval(s1, key, sc);
  char sql[4096];
  snprintf(sql, sizeof sql, "SELECT min(t0) >= %lld FROM metrics WHERE job = '%s' AND scope = 'run'", (long long)from,
           key);
  ASSERT_EQ(test_query_int(s1, sql), 1);

  /* --resume: nothing to run, the scores stay; --no-eval: none. */
  int64_t before = test_query_int(s1, "SELECT count(*) FROM metrics");
  snprintf(args, sizeof args, "%s %s --resume s1.db --no-runs", test_demo_graph(), common);
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  ASSERT_EQ(test_query_int(s1, "SELECT count(*) FROM metrics"), before);
  snprintf(args, sizeof args, "%s --stores logs/b.db --no-eval --out none.db --no-runs --quiet", test_demo_graph());
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  ASSERT_EQ(test_query_int(test_tmpfile("none.db"), "SELECT count(*) FROM jobs WHERE status = 'ok'"), 1);
  ASSERT_EQ(test_query_int(test_tmpfile("none.db"), "SELECT count(*) FROM metrics"), 0);

  /* The report: a job's headline scores and the overall ones; in JSON
  ** every whole-job score, as the database holds it. */
  ASSERT_EQ(batch("report s2.db", &out), 0);
  ASSERT_CONTAINS(out, "scores (whole job");
  ASSERT_CONTAINS(out, "detector f1 ");
  ASSERT_CONTAINS(out, "overall ");
  free(out);
  snprintf(cmd, sizeof cmd, "%s batch report %s --json 2>/dev/null", test_replaysim_path(), s2);
  ASSERT_EQ(test_run(cmd, &out), 0);
  json_error_t err;
  json_t *j = json_loads(out, 0, &err);
  if (!j) test_fail(__FILE__, __LINE__, "batch report --json: %s", err.text);
  size_t i, k;
  json_t *job, *x;
  size_t checked = 0;
  json_array_foreach(json_object_get(j, "jobs"), i, job) {
    json_t *scores = json_object_get(job, "scores");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM metrics m JOIN jobs j ON j.key = m.job WHERE j.name = '%s' AND scope = 'run'",
             json_string_value(json_object_get(job, "name")));
    ASSERT_EQ((int64_t)json_array_size(scores), test_query_int(s2, sql));
    json_array_foreach(scores, k, x) {
      if (strcmp(json_string_value(json_object_get(x, "metric")), "f1") ||
          strcmp(json_string_value(json_object_get(x, "component")), "detector") ||
          strcmp(json_string_value(json_object_get(x, "class")), "all"))
        continue;
      snprintf(sql, sizeof sql,
               "SELECT value FROM metrics m JOIN jobs j ON j.key = m.job WHERE j.name = '%s' AND scope = 'run'"
               " AND component = '%s' AND class = 'all' AND metric = 'f1'",
               json_string_value(json_object_get(job, "name")), json_string_value(json_object_get(x, "component")));
      ASSERT_EQ(json_number_value(json_object_get(x, "value")), query_real(s2, sql));
      checked++;
    }
  }
  ASSERT_EQ(checked, 5); /* the detector's f1 of each job */
  size_t overall = 0;
  json_array_foreach(json_object_get(j, "scores"), i, x) {
    if (strcmp(json_string_value(json_object_get(x, "component")), "detector") ||
        strcmp(json_string_value(json_object_get(x, "metric")), "f1"))
      continue;
    ASSERT_EQ(json_integer_value(json_object_get(x, "jobs")), 5);
    ASSERT_NEAR(json_number_value(json_object_get(x, "value")),
                query_real(s2, "SELECT avg(value) FROM metrics WHERE component = 'detector' AND scope = 'run'"
                               " AND class = 'all' AND metric = 'f1'"),
                1e-12);
    overall++;
  }
  ASSERT_EQ(overall, 1);
  json_decref(j);
  free(out);

#ifdef RSIM_HAVE_MPI
  /* mpirun with 3 ranks: rank 0 gathers the scores as messages. */
  if (test_run("command -v mpirun >/dev/null", NULL) == 0) {
    snprintf(cmd, sizeof cmd,
             "cd %s && export ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" && "
             "OMPI_MCA_btl_vader_single_copy_mechanism=none mpirun --allow-run-as-root --oversubscribe "
             "-n 3 %s batch %s %s --out mpi.db --no-runs",
             test_tmpdir(), test_replaysim_path(), test_demo_graph(), common);
    rc = test_run(cmd, &out);
    if (rc != 0) test_fail(__FILE__, __LINE__, "mpirun failed (%d): %s", rc, out);
    free(out);
    ASSERT_EQ(test_query_int(test_tmpfile("mpi.db"), "SELECT count(*) FROM jobs WHERE worker LIKE 'rank %'"), 5);
    assert_same_metrics(s1, test_tmpfile("mpi.db"));
  }
#endif
}

/* The demo graph with its detector keeping only boxes of 300 px and more:
** a new version that scores differently. */
static void new_graph(const char *name) {
  FILE *f = fopen(test_demo_graph(), "rb");
  ASSERT(f);
  static char demo[16384], g[17000];
  size_t len = fread(demo, 1, sizeof demo - 1, f);
  fclose(f);
  demo[len] = 0;
  const char *at = strstr(demo, "    trigger: camera_front");
  ASSERT(at);
  at = strchr(at, '\n') + 1;
  snprintf(g, sizeof g, "%.*s    config: { min_area: \"300\" }\n%s", (int)(at - demo), demo, at);
  test_write_text(name, g);
}

TEST(batch_gates_fail_naming_job_window_metric_and_values_and_pass_with_0) {
  test_make_drive("d.db", "4s", 3);
  new_graph("new.yaml");
  char args[4096], *out = NULL, sql[2048], want[512];
  snprintf(args, sizeof args, "%s --stores d.db --scenes 2s --jobs 2 --out base.db --no-runs --quiet", test_demo_graph());
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  /* Gates that hold: exit 0, a PASS line a job and gate. */
  test_write_text("pass.yaml", "gates:\n"
                               "  - {metric: f1, component: detector, min: 0.1}\n"
                               "  - {metric: mota, component: tracker, scope: window, min: -10}\n"
                               "  - {metric: hota, component: fusion, max_regression: 1}\n");
  ASSERT_EQ(batch("new.yaml --stores d.db --scenes 2s --jobs 2 --out new.db --no-runs --quiet --gate pass.yaml "
                  "--baseline base.db",
                  &out),
            0);
  ASSERT_CONTAINS(out, "PASS job d.db#0: gate 1 (pass.yaml:2): detector/all f1");
  ASSERT_CONTAINS(out, "PASS job d.db#1: gate 2 (pass.yaml:3): tracker/all mota, 2 windows");
  ASSERT_CONTAINS(out, "PASS job d.db#1: gate 3 (pass.yaml:4)");
  ASSERT(!strstr(out, "FAIL"));
  free(out);
  char nw[1024], base[1024];
  snprintf(nw, sizeof nw, "%s", test_tmpfile("new.db"));
  snprintf(base, sizeof base, "%s", test_tmpfile("base.db"));

  /* A regression against the baseline: every job whose detector F1 fell by
  ** more than 0.01 is named with both values; the others pass. */
  test_write_text("reg.yaml", "gates:\n  - {metric: f1, component: detector, max_regression: 0.01}\n");
  ASSERT_EQ(batch("report new.db --gate reg.yaml --baseline base.db", &out), 1);
  const char *both = "SELECT %s FROM metrics m JOIN jobs j ON j.key = m.job JOIN o.jobs oj ON oj.store = j.store"
                     " AND oj.t_from = j.t_from AND oj.t_to = j.t_to JOIN o.metrics x ON x.job = oj.key"
                     " AND x.component = m.component AND x.scope = m.scope AND x.class = m.class AND x.metric = m.metric"
                     " WHERE m.component = 'detector' AND m.scope = 'run' AND m.class = 'all' AND m.metric = 'f1'"
                     " AND j.name = 'd.db#%d'";
  int regressed = 0;
  for (int s = 0; s < 2; s++) {
    snprintf(sql, sizeof sql, both, "x.value - m.value > 0.01", s);
    bool worse = query_two(nw, base, sql) == 1;
    if (!worse) {
      snprintf(want, sizeof want, "PASS job d.db#%d: gate 1", s);
      ASSERT_CONTAINS(out, want);
      continue;
    }
    regressed++;
    char vs[32], bs[32];
    snprintf(sql, sizeof sql, "SELECT value FROM metrics m JOIN jobs j ON j.key = m.job WHERE j.name = 'd.db#%d'"
                              " AND component = 'detector' AND scope = 'run' AND class = 'all' AND metric = 'f1'", s);
    snprintf(vs, sizeof vs, "%.6g", query_real(nw, sql));
    snprintf(bs, sizeof bs, "%.6g", query_real(base, sql));
    snprintf(want, sizeof want, "FAIL gate 1 (reg.yaml:2): drive d.db (job d.db#%d), detector/all f1, run: %s below ", s,
             vs);
    ASSERT_CONTAINS(out, want);
    snprintf(want, sizeof want, "(baseline %s, allowed regression 0.01)", bs);
    ASSERT_CONTAINS(out, want);
  }
  ASSERT(regressed > 0); /* min_area 300 drops true boxes: recall and F1 fall */
  snprintf(want, sizeof want, "batch report: %d gate%s of reg.yaml failed", regressed, regressed == 1 ? "" : "s");
  ASSERT_CONTAINS(test_last_line(out), want);
  free(out);

  /* A threshold no window of the new detector reaches, checked by the batch
  ** itself: it exits 1 naming each job's windows with their values. */
  double top = query_real(nw, "SELECT max(value) FROM metrics WHERE component = 'detector' AND scope = 'window'"
                              " AND class = 'all' AND metric = 'f1'");
  ASSERT(isfinite(top));
  char gates[512];
  snprintf(gates, sizeof gates, "gates:\n  - {metric: f1, component: detector, scope: window, min: %.9f}\n", top + 1e-6);
  test_write_text("high.yaml", gates);
  ASSERT_EQ(batch("new.yaml --stores d.db --scenes 2s --jobs 2 --out new2.db --no-runs --quiet --gate high.yaml", &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "batch: 2 gates of high.yaml failed");
  int64_t t0 = test_query_int(nw, "SELECT min(m.t0) FROM metrics m JOIN jobs j ON j.key = m.job WHERE j.name = 'd.db#1'"
                                  " AND component = 'detector' AND scope = 'window' AND class = 'all' AND metric = 'f1'");
  snprintf(sql, sizeof sql, "SELECT value FROM metrics m JOIN jobs j ON j.key = m.job WHERE j.name = 'd.db#1'"
                            " AND component = 'detector' AND scope = 'window' AND class = 'all' AND metric = 'f1'"
                            " AND t0 = %lld", (long long)t0);
  snprintf(want, sizeof want, "drive d.db (job d.db#1), detector/all f1, window 0.000s-1.000s (t0=%lld): %.6g below min",
           (long long)t0, query_real(nw, sql));
  ASSERT_CONTAINS(out, want);
  free(out);

  /* A job that failed has nothing to hold to its gates: it fails them. */
  char text[4096];
  snprintf(text, sizeof text,
           "components:\n  bad:\n    wasm: %s\n    trigger: camera_front\n"
           "    inputs: { reading: sensor:camera_front }\n    config: { trap_at: \"3\" }\n"
           "eval:\n  bad: {as: none}\n",
           test_component_path("trap_nth"));
  test_write_text("trap.yaml", text);
  snprintf(text, sizeof text, "graph: new.yaml\njobs:\n  - { name: good, store: d.db }\n"
                              "  - { name: trap, graph: trap.yaml, store: d.db }\n");
  test_write_text("jobs.yaml", text);
  test_write_text("low.yaml", "gates:\n  - {metric: f1, component: detector, min: 0.1}\n");
  ASSERT_EQ(batch("--jobs-file jobs.yaml --jobs 2 --out mixed.db --no-runs --quiet --gate low.yaml", &out), 1);
  ASSERT_CONTAINS(out, "PASS job good: gate 1 (low.yaml:2)");
  ASSERT_CONTAINS(out, "FAIL job trap: drive d.db: the job failed, nothing to gate: component 'bad'");
  ASSERT_CONTAINS(test_last_line(out), "batch: 1 gate of low.yaml failed");
  free(out);

  /* A gate file that cannot be read is said before the batch runs. */
  ASSERT_EQ(batch("new.yaml --stores d.db --out new3.db --gate missing.yaml", &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "--gate: cannot read missing.yaml");
  free(out);
  ASSERT(access(test_tmpfile("new3.db"), F_OK) != 0);
}
