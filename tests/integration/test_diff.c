/*
** test_diff.c -- comparing runs, A/B runs and gates on real runs of the
** demo graph over a generated drive: `replaysim diff` against the engine's
** own component digests and against SQL over the two run databases;
** `run --variant` against plain runs; `eval --gate` failing with the
** window, metric and values named, and passing on an unchanged run.
*/
#include <jansson.h>
#include <sqlite3.h>

#include "test.h"

static const char *graph(void) { return test_source_path("examples/demo/graph.yaml"); }

/* The number after label in out, or -1. */
static long long number_after(const char *out, const char *label) {
  const char *p = out ? strstr(out, label) : NULL;
  return p ? strtoll(p + strlen(label), NULL, 10) : -1;
}

/* Runs cmd, fails the test unless it exits with want; returns its output. */
static char *run_cmd(const char *cmd, int want) {
  char *out = NULL;
  int rc = test_run(cmd, &out);
  if (rc != want) test_fail(__FILE__, __LINE__, "`%s` exited %d, not %d: %s", cmd, rc, want, out ? out : "");
  return out;
}

static json_t *diff_json(const char *a, const char *b) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s diff %s %s --json 2>/dev/null", test_replaysim_path(), a, b);
  char *out = run_cmd(cmd, 0);
  json_error_t err;
  json_t *j = json_loads(out, 0, &err);
  if (!j) test_fail(__FILE__, __LINE__, "diff --json is not JSON (%s): %s", err.text, out);
  free(out);
  return j;
}

static json_t *component(json_t *d, const char *name) {
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(d, "components"), i, c) if (!strcmp(json_string_value(json_object_get(c, "component")), name)) return c;
  test_fail(__FILE__, __LINE__, "no component %s in the diff", name);
}

/* The first time and the number of instants where component's outputs
** differ between two run databases, by SQL (one output an instant, as the
** detector and fusion have). */
static void sql_differ(const char *a, const char *b, const char *comp, int64_t *first, int64_t *n) {
  sqlite3 *db;
  ASSERT(sqlite3_open_v2(a, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
  char sql[2048];
  snprintf(sql, sizeof sql, "ATTACH DATABASE '%s' AS b", b);
  ASSERT(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_stmt *st;
  ASSERT(sqlite3_prepare_v2(db,
                            "SELECT min(x.t), count(*) FROM main.outputs x JOIN b.outputs y"
                            " ON x.component = y.component AND x.t = y.t WHERE x.component = ? AND x.value != y.value",
                            -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_text(st, 1, comp, -1, SQLITE_STATIC);
  ASSERT(sqlite3_step(st) == SQLITE_ROW);
  *first = sqlite3_column_int64(st, 0);
  *n = sqlite3_column_int64(st, 1);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(diff_of_two_runs_of_one_graph_is_identical_with_the_engines_digests) {
  const char *drive = test_make_drive("drive.db", "3s", 42);
  char a[1024], b[1024], digest[65], *out = NULL;
  snprintf(a, sizeof a, "%s", test_tmpfile("a.db"));
  snprintf(b, sizeof b, "%s", test_tmpfile("b.db"));
  char extra[2048];
  snprintf(extra, sizeof extra, "--out %s --component-digests", a);
  ASSERT_OK(test_replay(graph(), drive, extra, &out, digest));
  snprintf(extra, sizeof extra, "--out %s", b);
  char *out_b = NULL;
  ASSERT_OK(test_replay(graph(), drive, extra, &out_b, NULL));
  free(out_b);
  json_t *d = diff_json(a, b);
  ASSERT(json_is_true(json_object_get(d, "identical")));
  ASSERT_EQ(json_array_size(json_object_get(d, "components")), 4);
  /* The digests diff computes from the recorded bytes are the engine's. */
  static const char *const names[] = {"detector", "tracker", "fusion", "planner"};
  for (int i = 0; i < 4; i++) {
    json_t *c = component(d, names[i]);
    char label[64], hex[65];
    snprintf(label, sizeof label, "digest of %s: ", names[i]);
    test_find_digest(out, label, hex);
    ASSERT_STREQ(json_string_value(json_object_get(c, "digest_a")), hex);
    ASSERT_STREQ(json_string_value(json_object_get(c, "digest_b")), hex);
    ASSERT_EQ(json_integer_value(json_object_get(c, "instants_differ")), 0);
    ASSERT(!json_object_get(c, "first_differ"));
  }
  ASSERT(json_is_false(json_object_get(d, "scored")));
  json_decref(d);
  free(out);
}

TEST(run_variant_baseline_is_a_plain_run_and_same_component_gives_same_digest) {
  const char *drive = test_make_drive("drive.db", "3s", 42);
  char plain[65], base[65], var[65], extra[4096], *out = NULL;
  ASSERT_OK(test_replay(graph(), drive, "", &out, plain));
  const char *p = strstr(out, " readings in ");
  ASSERT(p);
  while (p > out && p[-1] != ' ') p--;
  long long readings = strtoll(p, NULL, 10);
  ASSERT(readings > 100);
  free(out);
  /* The same component, by name only and by an explicit path to its file. */
  const char *variants[] = {"--variant detector", NULL};
  char explicit_path[2048];
  snprintf(explicit_path, sizeof explicit_path, "--variant detector=%s", test_component_path("camera_detector"));
  variants[1] = explicit_path;
  char a[1024], b[1024];
  snprintf(a, sizeof a, "%s", test_tmpfile("a.db"));
  snprintf(b, sizeof b, "%s", test_tmpfile("b.db"));
  for (int i = 0; i < 2; i++) {
    snprintf(extra, sizeof extra, "%s --out %s --out-variant %s --overwrite", variants[i], a, b);
    ASSERT_OK(test_replay(graph(), drive, extra, &out, base));
    test_find_digest(out, "digest of variant: ", var);
    ASSERT_STREQ(base, plain);
    ASSERT_STREQ(var, plain);
    /* One read of the drive for both engines: as many readings taken from
    ** the store as a plain run takes, and each engine got them all. */
    ASSERT_EQ(number_after(out, "drive read once for both runs: "), readings);
    ASSERT_EQ(number_after(out, "(the variant took "), readings);
    free(out);
  }
  json_t *d = diff_json(a, b);
  ASSERT(json_is_true(json_object_get(d, "identical")));
  json_decref(d);
  /* The variant's run database says what it was. */
  ASSERT_EQ(test_query_int(b, "SELECT count(*) FROM run WHERE key = 'variant' AND value LIKE 'detector=%'"), 1);
  ASSERT_EQ(test_query_int(b, "SELECT count(*) FROM outputs"), test_query_int(a, "SELECT count(*) FROM outputs"));
  /* One file cannot hold both runs. */
  snprintf(extra, sizeof extra, "--variant detector --out %s --out-variant %s --overwrite", a, a);
  ASSERT_EQ(test_replay(graph(), drive, extra, &out, NULL), 2);
  ASSERT_CONTAINS(out, "--out-variant must name another file");
  free(out);
}

/* The A/B run the next tests share: the detector with a larger minimum
** blob area (misses small objects), both runs scored. */
static void ab_run(char a[1024], char b[1024], char drive[1024], char plain[65], char base[65], char var[65]) {
  snprintf(drive, 1024, "%s", test_make_drive("drive.db", "3s", 42));
  snprintf(a, 1024, "%s", test_tmpfile("a.db"));
  snprintf(b, 1024, "%s", test_tmpfile("b.db"));
  char extra[4096], *out = NULL;
  ASSERT_OK(test_replay(graph(), drive, "", &out, plain));
  free(out);
  snprintf(extra, sizeof extra, "--out %s --variant detector --variant-config min_area=300 --out-variant %s", a, b);
  ASSERT_OK(test_replay(graph(), drive, extra, &out, base));
  test_find_digest(out, "digest of variant: ", var);
  ASSERT_CONTAINS(out, "variant detector with min_area=300:");
  free(out);
  for (int i = 0; i < 2; i++) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s eval %s --truth %s", test_replaysim_path(), i ? b : a, drive);
    free(run_cmd(cmd, 0));
  }
}

TEST(run_variant_with_a_config_change_differs_and_diff_finds_where) {
  char a[1024], b[1024], drive[1024], plain[65], base[65], var[65];
  ab_run(a, b, drive, plain, base, var);
  ASSERT_STREQ(base, plain);
  ASSERT(strcmp(var, plain) != 0);
  json_t *d = diff_json(a, b);
  ASSERT(json_is_false(json_object_get(d, "identical")));
  /* The tracker does not see the camera: untouched.  The detector and
  ** what it feeds differ, first where SQL over the two databases says. */
  ASSERT(json_is_true(json_object_get(component(d, "tracker"), "identical")));
  static const char *const changed[] = {"detector", "fusion"};
  for (int i = 0; i < 2; i++) {
    json_t *c = component(d, changed[i]);
    int64_t first, n;
    sql_differ(a, b, changed[i], &first, &n);
    ASSERT(n > 0);
    ASSERT(json_is_false(json_object_get(c, "identical")));
    ASSERT_EQ(json_integer_value(json_object_get(c, "instants_differ")), n);
    json_t *f = json_object_get(c, "first_differ");
    ASSERT_EQ(json_integer_value(json_object_get(f, "t")), first);
    /* Both outputs side by side: the variant's detections are fewer. */
    if (i == 0) {
      ASSERT(json_is_array(json_object_get(f, "a")) && json_is_array(json_object_get(f, "b")));
      ASSERT(json_array_size(json_object_get(f, "b")) < json_array_size(json_object_get(f, "a")));
    }
  }
  /* Metric deltas, signed by whether higher is better. */
  size_t i;
  json_t *m;
  int seen = 0;
  json_array_foreach(json_object_get(d, "metrics"), i, m) {
    if (strcmp(json_string_value(json_object_get(m, "component")), "detector") ||
        strcmp(json_string_value(json_object_get(m, "scope")), "run") ||
        strcmp(json_string_value(json_object_get(m, "class")), "all"))
      continue;
    const char *name = json_string_value(json_object_get(m, "metric"));
    double va = json_real_value(json_object_get(m, "a")), vb = json_real_value(json_object_get(m, "b"));
    if (json_is_integer(json_object_get(m, "a"))) va = (double)json_integer_value(json_object_get(m, "a"));
    if (json_is_integer(json_object_get(m, "b"))) vb = (double)json_integer_value(json_object_get(m, "b"));
    const char *change = json_string_value(json_object_get(m, "change"));
    if (!strcmp(name, "recall")) {
      seen++;
      ASSERT(vb < va);
      ASSERT(json_is_true(json_object_get(m, "higher_is_better")));
      ASSERT_STREQ(change, "worse");
    } else if (!strcmp(name, "fn")) {
      seen++;
      ASSERT(vb > va);
      ASSERT(json_is_false(json_object_get(m, "higher_is_better")));
      ASSERT_STREQ(change, "worse");
    } else if (!strcmp(name, "fp") && vb < va) {
      seen++;
      ASSERT_STREQ(change, "better");
    }
  }
  ASSERT(seen >= 2);
  json_decref(d);
  /* The table for people says the same. */
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s diff %s %s", test_replaysim_path(), a, b);
  char *out = run_cmd(cmd, 0);
  ASSERT_CONTAINS(out, "tracker: identical");
  ASSERT_CONTAINS(out, "detector: differs at ");
  ASSERT_CONTAINS(out, " worse\n");
  free(out);
}

TEST(eval_gates_fail_naming_window_metric_and_values_and_pass_unchanged) {
  char a[1024], b[1024], drive[1024], plain[65], base[65], var[65], cmd[8192];
  ab_run(a, b, drive, plain, base, var);
  const char *gates = test_write_text("gates.yaml", "gates:\n"
                                                     "  - {metric: recall, component: detector, class: car, scope: window, min: 0.95}\n"
                                                     "  - {metric: f1, component: detector, max_regression: 0.01}\n"
                                                     "  - {metric: mota, component: tracker, max_regression: 0}\n");
  char g[1024];
  snprintf(g, sizeof g, "%s", gates);
  /* The baseline against itself: every gate holds. */
  snprintf(cmd, sizeof cmd, "%s eval %s --truth %s --gate %s --baseline %s", test_replaysim_path(), a, drive, g, a);
  char *out = run_cmd(cmd, 0);
  ASSERT_CONTAINS(out, "PASS gate 1");
  ASSERT_CONTAINS(out, "PASS gate 2");
  ASSERT_CONTAINS(out, "PASS gate 3");
  free(out);
  /* The variant against the baseline: the detector's gates fail, each
  ** failure naming drive, window, metric and values; the tracker holds. */
  snprintf(cmd, sizeof cmd, "%s eval %s --truth %s --gate %s --baseline %s", test_replaysim_path(), b, drive, g, a);
  out = run_cmd(cmd, 1);
  ASSERT_CONTAINS(out, "FAIL gate 1");
  ASSERT_CONTAINS(out, "detector/car recall, window 0.000s-1.000s");
  ASSERT_CONTAINS(out, drive);
  ASSERT_CONTAINS(out, "below min 0.95");
  ASSERT_CONTAINS(out, "FAIL gate 2");
  ASSERT_CONTAINS(out, "detector/all f1, run:");
  ASSERT_CONTAINS(out, "(baseline ");
  ASSERT_CONTAINS(out, "PASS gate 3");
  /* The command's last line is the verdict. */
  const char *last = out + strlen(out) - 1;
  while (last > out && last[-1] != '\n') last--;
  ASSERT_CONTAINS(last, "eval: 2 gates of ");
  free(out);
  /* A regression gate without a baseline, or a malformed gate, is an error. */
  snprintf(cmd, sizeof cmd, "%s eval %s --truth %s --gate %s", test_replaysim_path(), b, drive, g);
  out = run_cmd(cmd, 1);
  ASSERT_CONTAINS(out, "--baseline");
  free(out);
  const char *bad = test_write_text("bad.yaml", "gates:\n  - {metric: objects, component: tracker, max_regression: 1}\n");
  snprintf(cmd, sizeof cmd, "%s eval %s --truth %s --gate %s --baseline %s", test_replaysim_path(), b, drive, bad, a);
  out = run_cmd(cmd, 1);
  ASSERT_CONTAINS(out, "bad.yaml:2: objects is neither better higher nor lower");
  free(out);
}

TEST(run_variant_that_traps_fails_the_command_but_the_baseline_plays_on) {
  const char *drive = test_make_drive("drive.db", "2s", 42);
  char plain[65], base[65], extra[4096], *out = NULL;
  ASSERT_OK(test_replay(graph(), drive, "", &out, plain));
  free(out);
  /* A detector that returns a string that is not UTF-8 at its second call. */
  snprintf(extra, sizeof extra, "--variant detector=%s --variant-config fault=badvalue --out %s",
           test_component_path("misbehave"), test_tmpfile("a.db"));
  ASSERT_EQ(test_replay(graph(), drive, extra, &out, base), 1);
  ASSERT_STREQ(base, plain); /* the whole baseline, not a partial digest */
  ASSERT_CONTAINS(out, "digest of variant (partial): ");
  const char *last = out + strlen(out) - 1;
  while (last > out && last[-1] != '\n') last--;
  ASSERT_CONTAINS(last, "run: variant detector=");
  ASSERT_CONTAINS(last, "component 'detector' failed at sim time");
  free(out);
}
