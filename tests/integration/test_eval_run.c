/*
** test_eval_run.c -- `replaysim eval` on a real run: the demo graph over a
** generated drive, recorded into a run database, scored against the
** drive's truth; every whole-run number is computed again by the Python
** references (pycocotools, py-motmetrics, TrackEval) from the frames eval
** dumped; the numbers land in the run database per run and per window.
*/
#include <math.h>
#include <sqlite3.h>

#include "eval/eval_int.h"
#include "rsim/engine.h"
#include "rsim/eval.h"
#include "test.h"

static const char *demo_run(const char *duration) {
  static char run[1024];
  const char *drive = test_make_drive("drive.db", duration, 42);
  snprintf(run, sizeof run, "%s", test_tmpfile("run.db"));
  char extra[1200], *out = NULL;
  snprintf(extra, sizeof extra, "--speed max --out %s", run);
  int rc = test_replay(test_source_path("examples/demo/graph.yaml"), drive, extra, &out, NULL);
  if (rc) test_fail(__FILE__, __LINE__, "replay failed (%d): %s", rc, out);
  free(out);
  return run;
}

static int64_t windows_of(const char *run, const char *comp) {
  char q[256];
  snprintf(q, sizeof q, "SELECT count(DISTINCT t0) FROM eval WHERE scope = 'window' AND component = '%s'", comp);
  return test_query_int(run, q);
}

TEST(eval_demo_run_agrees_with_the_references_and_is_saved) {
  char run[1024], drive[1024], frames[1024], result[1024], cmd[8192], *out = NULL;
  snprintf(run, sizeof run, "%s", demo_run("6s"));
  snprintf(drive, sizeof drive, "%s", test_tmpfile("drive.db"));
  snprintf(frames, sizeof frames, "%s", test_tmpfile("frames.json"));
  snprintf(result, sizeof result, "%s", test_tmpfile("result.json"));
  snprintf(cmd, sizeof cmd, "%s eval %s --truth %s --json --dump %s > %s", test_replaysim_path(), run, drive, frames,
           result);
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "eval failed (%d): %s", rc, out);
  free(out);
  snprintf(cmd, sizeof cmd, "python3 %s %s %s", test_source_path("tests/eval/reference.py"), frames, result);
  rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "the references disagree (%d): %s", rc, out);
  /* detector: 4 classes and all, 8 numbers each; tracker and fusion 28
  ** each; planner 15 and entries and time of its 2 manoeuvres */
  ASSERT_CONTAINS(out, "compared 115 values with the references, 0 differ");
  free(out);
  /* Every number is in the run database, per run and per 1 s window. */
  ASSERT_EQ(test_query_int(run, "SELECT count(*) FROM eval WHERE scope = 'run'"), 115);
  ASSERT_EQ(test_query_int(run, "SELECT count(*) FROM eval WHERE scope = 'window' AND component = 'planner'"),
            windows_of(run, "planner") * 19);
  int64_t windows = test_query_int(run, "SELECT count(DISTINCT t0) FROM eval WHERE scope = 'window' AND component = 'tracker'");
  ASSERT(windows >= 6 && windows <= 7);
  ASSERT_EQ(test_query_int(run, "SELECT count(*) FROM eval WHERE scope = 'window' AND component = 'tracker'"), windows * 28);
  ASSERT_EQ(test_query_int(run, "SELECT count(*) FROM eval WHERE scope = 'window' AND t1 - t0 != 1000000000"), 0);
  /* Window counts add up to the run's. */
  ASSERT_EQ(test_query_int(run, "SELECT sum(value) FROM eval WHERE scope = 'window' AND component = 'detector' "
                                "AND class = 'all' AND metric = 'tp'"),
            test_query_int(run, "SELECT value FROM eval WHERE scope = 'run' AND component = 'detector' "
                                "AND class = 'all' AND metric = 'tp'"));
}

TEST(eval_projects_truth_onto_the_detector_boxes_and_reads_the_graph_block) {
  const char *run = demo_run("3s");
  char runp[1024];
  snprintf(runp, sizeof runp, "%s", run);
  rsim_errbuf eb = {0};
  rsim_store *st = NULL;
  ASSERT_OK(rsim_store_open(test_tmpfile("drive.db"), &st, &eb));
  rsim_eval_result *r = NULL;
  rsim_eval_opts o = {.window_ns = -1};
  ASSERT_OK(rsim_eval_run(runp, st, &o, &r, &eb));
  /* Cars and trucks are flat colours the detector segments exactly: the
  ** projected truth boxes must overlap its boxes (IoU >= 0.5) nearly always. */
  ASSERT(rsim_eval_get(r, "detector", "car", "recall") > 0.95);
  ASSERT(rsim_eval_get(r, "detector", "car", "precision") > 0.95);
  ASSERT(rsim_eval_get(r, "detector", "truck", "recall") > 0.95);
  /* The demo graph's eval block compares tracks with the near face, where
  ** the radar measures: most truth is then tracked. */
  double near = rsim_eval_get(r, "tracker", NULL, "mota");
  ASSERT(near > 0.8);
  ASSERT_EQ(rsim_eval_n_rows(r), 115);
  rsim_eval_free(r);
  /* A graph without the block: centre points, 2.25 m from a car's rear. */
  const char *g = test_write_text("plain.yaml", "name: plain\ncomponents:\n  tracker:\n    wasm: radar_tracker.wasm\n"
                                                "    trigger: radar_front\n    inputs: {reading: sensor:radar_front}\n");
  char gp[1024];
  snprintf(gp, sizeof gp, "%s", g);
  o.graph = gp;
  ASSERT_OK(rsim_eval_run(runp, st, &o, &r, &eb));
  ASSERT(rsim_eval_get(r, "tracker", NULL, "mota") < near - 0.5);
  rsim_eval_free(r);
  rsim_store_close(st);
}

TEST(eval_scores_the_demo_planner_against_the_true_lead) {
  const char *run = demo_run("6s");
  char runp[1024];
  snprintf(runp, sizeof runp, "%s", run);
  rsim_errbuf eb = {0};
  rsim_store *st = NULL;
  ASSERT_OK(rsim_store_open(test_tmpfile("drive.db"), &st, &eb));
  rsim_eval_result *r = NULL;
  rsim_eval_opts o = {.window_ns = -1};
  ASSERT_OK(rsim_eval_run(runp, st, &o, &r, &eb));
  /* every plan the run recorded inside the truth's time range is scored */
  double plans = rsim_eval_get(r, "planner", NULL, "plans");
  ASSERT(plans >= 55 && plans <= 60);
  /* the demo drive has a car ahead in the lane: the adaptive cruise
  ** (time gap 1.5 s) keeps a headway to it, and never closes in under 2 s */
  double hw = rsim_eval_get(r, "planner", NULL, "min_headway");
  ASSERT(isfinite(hw) && hw > 0.5);
  ASSERT(rsim_eval_get(r, "planner", NULL, "min_ttc") > 2);
  /* its manoeuvres cover the run: each plan holds until the next */
  double total = 0, entries = 0;
  for (size_t i = 0; i < rsim_eval_n_rows(r); i++) {
    const rsim_eval_row *x = rsim_eval_row_at(r, i);
    if (strcmp(x->kind, "planning") || !strcmp(x->cls, "all")) continue;
    if (!strcmp(x->metric, "time")) total += x->value;
    if (!strcmp(x->metric, "entries")) entries += x->value;
  }
  ASSERT_NEAR(total, plans * 0.1, 1e-6);
  ASSERT(entries >= 1);
  /* comfort is defined on a run this long, and the decelerations are real */
  double comfy = rsim_eval_get(r, "planner", NULL, "comfortable");
  ASSERT(comfy == 0 || comfy == 1);
  ASSERT(isfinite(rsim_eval_get(r, "planner", NULL, "max_decel")));
  rsim_eval_free(r);
  /* `as: none` leaves the planner out */
  const char *g = test_write_text("noplan.yaml", "name: noplan\ncomponents:\n  tracker:\n    wasm: radar_tracker.wasm\n"
                                                 "    trigger: radar_front\n    inputs: {reading: sensor:radar_front}\n"
                                                 "eval:\n  planner: {as: none}\n");
  char gp[1024];
  snprintf(gp, sizeof gp, "%s", g);
  o.graph = gp;
  ASSERT_OK(rsim_eval_run(runp, st, &o, &r, &eb));
  ASSERT(isnan(rsim_eval_get(r, "planner", NULL, "plans")));
  rsim_eval_free(r);
  rsim_store_close(st);
}

TEST(eval_run_with_eval_prints_the_scores_before_an_unchanged_digest) {
  const char *drive0 = test_make_drive("drive.db", "4s", 42);
  char drive[1024], run[1024], extra[1200], plain[65], scored[65], *out = NULL;
  snprintf(drive, sizeof drive, "%s", drive0);
  snprintf(run, sizeof run, "%s", test_tmpfile("run.db"));
  const char *graph = test_source_path("examples/demo/graph.yaml");
  ASSERT_EQ(test_replay(graph, drive, "--speed max", &out, plain), 0);
  free(out);
  snprintf(extra, sizeof extra, "--speed max --out %s --eval", run);
  int rc = test_replay(graph, drive, extra, &out, scored);
  if (rc) test_fail(__FILE__, __LINE__, "run --eval failed (%d): %s", rc, out);
  /* the digest is the same, and still the last line; the scores come before */
  ASSERT(plain[0] && !strcmp(plain, scored));
  const char *digest = strstr(out, "digest: "), *scores = strstr(out, "scores against the truth of");
  ASSERT(scores && digest && scores < digest);
  ASSERT(!strchr(digest, '\n') || !strchr(digest, '\n')[1]);
  ASSERT_CONTAINS(scores, "detector     detection   AP ");
  ASSERT_CONTAINS(scores, "tracker      tracking    MOTA ");
  ASSERT_CONTAINS(scores, "planner      planning    min TTC ");
  ASSERT_CONTAINS(scores, "comfortable ");
  free(out);
  /* and the numbers are in the run database, as replaysim eval leaves them */
  ASSERT(test_query_int(run, "SELECT count(*) FROM eval WHERE kind = 'planning' AND scope = 'window'") > 0);
  ASSERT_EQ(test_query_int(run, "SELECT count(*) FROM eval WHERE scope = 'run' AND component = 'planner' "
                                "AND class = 'all'"), 15);
  /* --eval needs a recording to score */
  snprintf(extra, sizeof extra, "--speed max --eval");
  ASSERT_EQ(test_replay(graph, drive, extra, &out, NULL), 2);
  ASSERT_CONTAINS(out, "--eval scores the recorded outputs: it needs --out");
  free(out);
  /* a store without truth: the run is replayed and recorded, then fails with
  ** the reason as its last line, after its digest */
  char notruth[1024], cmd[4096];
  snprintf(notruth, sizeof notruth, "%s", test_tmpfile("notruth.db"));
  snprintf(cmd, sizeof cmd, "cp %s %s", drive, notruth);
  ASSERT_EQ(test_run(cmd, NULL), 0);
  sqlite3 *db;
  ASSERT_EQ(sqlite3_open(notruth, &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DELETE FROM truth", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  snprintf(extra, sizeof extra, "--speed max --out %s --overwrite --eval", run);
  ASSERT_EQ(test_replay(graph, notruth, extra, &out, scored), 1);
  ASSERT(!strcmp(plain, scored));
  const char *err = strstr(out, "run: --eval: ");
  ASSERT(err && err > strstr(out, "digest: "));
  ASSERT_CONTAINS(err, "holds no ground truth");
  free(out);
}

TEST(eval_failures_are_named_errors) {
  char cmd[4096], *out = NULL;
  /* a store without truth */
  rsim_errbuf eb = {0};
  rsim_store *st = NULL;
  char empty[1024];
  snprintf(empty, sizeof empty, "%s", test_tmpfile("empty.db"));
  ASSERT_OK(rsim_store_create(empty, false, &st, &eb));
  rsim_sensor_info cam = {.id = (char *)"camera_front", .kind = RSIM_SENSOR_CAMERA};
  ASSERT_OK(rsim_store_add_sensor(st, &cam));
  rsim_store_close(st);
  const char *run = demo_run("1s");
  snprintf(cmd, sizeof cmd, "%s eval %s --truth %s 2>&1", test_replaysim_path(), run, empty);
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(out, "empty.db: the store holds no ground truth");
  free(out);
  char nosuch[1024];
  snprintf(nosuch, sizeof nosuch, "%s", test_tmpfile("nosuch.db"));
  snprintf(cmd, sizeof cmd, "%s eval %s --truth %s 2>&1", test_replaysim_path(), nosuch, test_tmpfile("drive.db"));
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(out, "nosuch.db: cannot open the run database");
  free(out);
  snprintf(cmd, sizeof cmd, "%s eval %s --truth %s --camera cam9 2>&1", test_replaysim_path(), run, test_tmpfile("drive.db"));
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(out, "no camera 'cam9'");
  free(out);
  const char *bad = test_write_text("bad.yaml", "name: bad\ncomponents:\n  tracker:\n    wasm: radar_tracker.wasm\n"
                                                "    trigger: radar_front\n    inputs: {reading: sensor:radar_front}\n"
                                                "eval:\n  tracker: {point: middle}\n");
  snprintf(cmd, sizeof cmd, "%s eval %s --truth %s --graph %s 2>&1", test_replaysim_path(), run, test_tmpfile("drive.db"), bad);
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(out, "eval: tracker: point: 'middle' is not valid");
  free(out);
}

TEST(eval_reads_back_the_types_a_run_database_keeps) {
  /* detected-object and radar-track as the record module writes them */
  rsim_type *bbox = rsim_type_new(RSIM_RECORD);
  const char *bf[] = {"x", "y", "width", "height"};
  for (int i = 0; i < 4; i++) rsim_type_add(bbox, bf[i], rsim_type_new(RSIM_F32));
  rsim_type *det = rsim_type_new(RSIM_RECORD);
  rsim_type_add(det, "id", rsim_type_new(RSIM_STRING));
  rsim_type_add(det, "bbox", bbox);
  rsim_type *opt = rsim_type_option(rsim_type_new(RSIM_STRING));
  rsim_type_add(det, "lead", opt);
  rsim_type *en = rsim_type_new(RSIM_ENUM);
  rsim_type_add(en, "debug", NULL);
  rsim_type_add(en, "info", NULL);
  rsim_type_add(det, "level", en);
  rsim_type *res = rsim_type_new(RSIM_RESULT);
  rsim_type_add(res, NULL, NULL);
  rsim_type_add(res, NULL, rsim_type_new(RSIM_STRING));
  rsim_type_add(det, "r", res);
  rsim_type *list = rsim_type_list(det);
  char *text = rsim_type_str(list);
  rsim_type *back = rsim__eval_type_parse(text);
  ASSERT(back != NULL);
  char *again = rsim_type_str(back);
  ASSERT_STREQ(again, text);
  ASSERT(rsim_type_equal(back, list));
  ASSERT(rsim__eval_type_parse("list<record { x: f32 ") == NULL);
  ASSERT(rsim__eval_type_parse("list<wat>") == NULL);
  free(text);
  free(again);
  rsim_type_free(back);
  rsim_type_free(list);
}

TEST(eval_block_in_a_graph_is_checked_when_loaded) {
  const char *base = "name: g\ncomponents:\n  tracker:\n    wasm: radar_tracker.wasm\n    trigger: radar_front\n"
                     "    inputs: {reading: sensor:radar_front}\n";
  char text[1024];
  rsim_errbuf eb = {0};
  rsim_graph *g = NULL;
  snprintf(text, sizeof text, "%seval:\n  tracker: 3\n", base);
  ASSERT_EQ(rsim_graph_load(test_write_text("a.yaml", text), &g, &eb), RSIM_EGRAPH);
  ASSERT_CONTAINS(eb.msg, "a.yaml:8");
  ASSERT_CONTAINS(eb.msg, "eval: each entry must be COMPONENT: {KEY: VALUE, ...}");
  rsim_errbuf_clear(&eb);
  snprintf(text, sizeof text, "%seval:\n  tracker: {point: near, max_dist: 2.5}\n", base);
  ASSERT_OK(rsim_graph_load(test_write_text("b.yaml", text), &g, &eb));
  size_t n = 0;
  const rsim_kv *kv = rsim_graph_eval(g, &n);
  ASSERT_EQ(n, 2);
  ASSERT_STREQ(kv[0].key, "tracker.point");
  ASSERT_STREQ(kv[0].value, "near");
  ASSERT_STREQ(kv[1].key, "tracker.max_dist");
  ASSERT_STREQ(kv[1].value, "2.5");
  rsim_graph_free(g);
}

/* Truth read from an MCAP file (the /rsim/truth topic, docs/evaluation.md)
** scores a run exactly as the SQLite drive it was exported from. */
TEST(eval_truth_from_an_mcap_file_scores_as_from_sqlite) {
  char run[1024], drive[1024], mcap[1024], cmd[8192], *a = NULL, *b = NULL;
  snprintf(run, sizeof run, "%s", demo_run("3s"));
  snprintf(drive, sizeof drive, "%s", test_tmpfile("drive.db"));
  snprintf(mcap, sizeof mcap, "%s", test_tmpfile("drive.mcap"));
  snprintf(cmd, sizeof cmd, "%s export %s --out %s", test_replaysim_path(), drive, mcap);
  ASSERT_EQ(test_run(cmd, NULL), 0);
  snprintf(cmd, sizeof cmd, "%s eval %s --truth %s --json --no-save", test_replaysim_path(), run, drive);
  ASSERT_EQ(test_run(cmd, &a), 0);
  snprintf(cmd, sizeof cmd, "%s eval %s --truth %s --json --no-save", test_replaysim_path(), run, mcap);
  ASSERT_EQ(test_run(cmd, &b), 0);
  ASSERT_CONTAINS(a, "\"mota\"");
  ASSERT_STREQ(a, b);
  free(a);
  free(b);
}
