/*
** test_eval_live.c -- scores while a run plays (rsim/eval_live.h, the
** server's GET /api/eval): the per-box matching agrees with the counts of
** rsim_eval_detection on a hand-made image; fed every detector output of a
** demo run as the engine makes them, the live counts equal those of
** `replaysim eval` over the recorded run, detection and tracks (CLEAR MOT,
** IDF1) alike, and gate markers fall where `eval --gate` fails; a rewind
** takes out exactly what a seek back replays, and played again the
** numbers and markers are the same; marks of one kind and component close
** together are one.
*/
#include <jansson.h>
#include <math.h>

#include "rsim/engine.h"
#include "rsim/eval.h"
#include "rsim/eval_live.h"
#include "test.h"

TEST(eval_match_gives_each_box_its_outcome_as_coco_counts_it) {
  /* Truth: A (counts), B (ignored), C (counts, nobody finds it). Detections:
  ** on A, on B, one on nothing, and a second one on A with a lower score. */
  rsim_eval_box gt[] = {{100, 100, 50, 50, 0, 0, false}, {300, 100, 20, 20, 0, 0, true}, {500, 100, 40, 40, 0, 0, false}};
  rsim_eval_box dt[] = {{102, 101, 50, 50, 0, 0.9, false}, {301, 100, 20, 20, 0, 0.8, false},
                        {10, 10, 30, 30, 0, 0.7, false}, {98, 100, 50, 52, 0, 0.6, false}};
  rsim_eval_image im = {gt, dt, 3, 4};
  ptrdiff_t dt_gt[4], gt_dt[3];
  rsim_eval_match(&im, 0.5, dt_gt, gt_dt);
  ASSERT_EQ(dt_gt[0], 0);
  ASSERT_EQ(dt_gt[1], 1);  /* took the ignored truth: neither true nor false */
  ASSERT_EQ(dt_gt[2], -1); /* false */
  ASSERT_EQ(dt_gt[3], -1); /* A was taken by the higher score: false */
  ASSERT_EQ(gt_dt[0], 0);
  ASSERT_EQ(gt_dt[1], 1);
  ASSERT_EQ(gt_dt[2], -1); /* missed */
  rsim_eval_det d[2];
  rsim_eval_detection(&im, 1, 1, 0.5, d);
  ASSERT_EQ(d[1].tp, 1);
  ASSERT_EQ(d[1].fp, 2);
  ASSERT_EQ(d[1].fn, 1);
  /* Another class does not match across. */
  dt[0].cls = 1;
  rsim_eval_match(&im, 0.5, dt_gt, gt_dt);
  ASSERT_EQ(dt_gt[0], -1);
  ASSERT_EQ(dt_gt[3], 0); /* now the second box on A takes it */
}

static json_t *live_json(rsim_eval_live *l, rsim_time now) {
  rsim_buf b = {0};
  rsim_eval_live_json(l, now, &b);
  json_error_t err;
  json_t *j = json_loadb((const char *)b.data, b.len, 0, &err);
  if (!j) test_fail(__FILE__, __LINE__, "not JSON: %s: %.*s", err.text, (int)b.len, (const char *)b.data);
  rsim_buf_free(&b);
  return j;
}

static json_t *comp_named(json_t *j, const char *name) {
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(j, "components"), i, c) if (!strcmp(json_string_value(json_object_get(c, "name")), name)) return c;
  return NULL;
}

static double so_far(json_t *j, const char *comp, const char *metric) {
  json_t *v = json_object_get(json_object_get(comp_named(j, comp), "so_far"), metric);
  return json_is_null(v) || !v ? NAN : json_number_value(v);
}

/* Hands the outputs of the instant e is at to l, as the server does. */
static void feed(rsim_engine *e, rsim_eval_live *l, int64_t *det_outputs) {
  for (size_t i = 0; i < rsim_engine_n_components(e); i++) {
    const rsim_type *t;
    rsim_time ot;
    const rsim_val *v = rsim_engine_output(e, i, &t, &ot);
    if (!v) continue;
    rsim_component_stats cs;
    rsim_engine_stats(e, i, &cs);
    if (det_outputs && !strcmp(cs.name, "detector") && ot == rsim_engine_time(e)) (*det_outputs)++;
    rsim_eval_live_output(l, cs.name, ot, v, t);
  }
}

/* The numbers and marks of a JSON answer, for comparing two of them. */
static char *numbers(json_t *j) {
  json_t *k = json_pack("{sOsOsO}", "components", json_object_get(j, "components"), "marks", json_object_get(j, "marks"),
                        "gates", json_object_get(j, "gates"));
  char *s = json_dumps(k, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(k);
  return s;
}

TEST(eval_live_scores_equal_eval_over_the_recorded_run_and_survive_seeks) {
  const char *drive = test_make_drive("drive.db", "3s", 42);
  char d[1024], run[1024], extra[1200], *out = NULL;
  snprintf(d, sizeof d, "%s", drive);
  snprintf(run, sizeof run, "%s", test_tmpfile("run.db"));
  snprintf(extra, sizeof extra, "--speed max --out %s", run);
  const char *graph = test_source_path("examples/demo/graph.yaml");
  char gpath[1024];
  snprintf(gpath, sizeof gpath, "%s", graph);
  ASSERT_EQ(test_replay(gpath, d, extra, &out, NULL), 0);
  free(out);
  rsim_errbuf eb = {0};
  rsim_store *st = NULL;
  ASSERT_OK(rsim_store_open(d, &st, &eb));
  rsim_eval_result *r = NULL;
  rsim_eval_opts o = {0}; /* 1 s windows */
  ASSERT_OK(rsim_eval_run(run, st, &o, &r, &eb));
  /* Gates eval holds the run to: F1 of each window, and the tracker's
  ** MOTA so far, both set where the demo cannot keep them. */
  char gates[1024];
  snprintf(gates, sizeof gates, "%s",
           test_write_text("gates.yaml", "gates:\n"
                                         "  - {metric: f1, component: detector, scope: window, min: 0.99}\n"
                                         "  - {metric: mota, component: tracker, scope: run, min: 0.999}\n"
                                         "  - {metric: ap, component: detector, min: 0.1}\n"));
  rsim_buf report = {0};
  size_t failed = 0;
  ASSERT_OK(rsim_eval_gates(r, gates, NULL, "drive", &report, &failed, &eb));
  rsim_buf_putc(&report, 0); /* a string to search */
  size_t eval_window_fails = 0;
  for (const char *p = (const char *)report.data; p && (p = strstr(p, "FAIL gate 1 ")); p++) eval_window_fails++;
  rsim_buf_free(&report);
  ASSERT(eval_window_fails > 0);

  /* The same run in process, every output handed over as it is made. */
  rsim_graph *g = NULL;
  ASSERT_OK(rsim_graph_load(gpath, &g, &eb));
  rsim_engine_opts eo = {.store = st, .log_level = RSIM_LOG_ERROR};
  rsim_engine *e = NULL;
  ASSERT_OK(rsim_engine_new(g, &eo, &e, &eb));
  rsim_time from, to;
  rsim_engine_range(e, &from, &to);
  rsim_eval_live *l = NULL;
  size_t n_block;
  const rsim_kv *block = rsim_graph_eval(g, &n_block);
  ASSERT_OK(rsim_eval_live_new(st, from, to, 0, block, n_block, gpath, &l, &eb));
  ASSERT_OK(rsim_eval_live_gates(l, gates, &eb));
  int rc;
  int64_t outputs = 0;
  while ((rc = rsim_engine_step(e)) == RSIM_OK) feed(e, l, &outputs);
  ASSERT_EQ(rc, RSIM_EEOF);
  json_t *j = live_json(l, rsim_engine_time(e));
  json_t *c = comp_named(j, "detector");
  ASSERT(c);
  ASSERT_STREQ(json_string_value(json_object_get(c, "kind")), "detection");
  ASSERT_EQ(json_integer_value(json_object_get(c, "scored")), outputs);
  const char *det[] = {"tp", "fp", "fn", "precision", "recall", "f1"};
  for (size_t i = 0; i < 6; i++) ASSERT_NEAR(so_far(j, "detector", det[i]), rsim_eval_get(r, "detector", NULL, det[i]), 1e-6);
  ASSERT(so_far(j, "detector", "fp") > 0);
  /* Tracks the eval: block names (tracker, fusion): CLEAR MOT and IDF1 as eval's. */
  const char *trk[] = {"mota", "motp", "idf1", "switches", "matches", "misses", "false_positives", "objects"};
  for (size_t k = 0; k < 2; k++) {
    const char *name = k ? "fusion" : "tracker";
    ASSERT(comp_named(j, name));
    ASSERT_STREQ(json_string_value(json_object_get(comp_named(j, name), "kind")), "tracking");
    for (size_t i = 0; i < 8; i++) ASSERT_NEAR(so_far(j, name, trk[i]), rsim_eval_get(r, name, NULL, trk[i]), 1e-6);
    json_t *obj = json_object_get(comp_named(j, name), "objects");
    ASSERT(json_array_size(json_object_get(obj, "truth")) + json_array_size(json_object_get(obj, "tracks")) > 0);
  }
  ASSERT(so_far(j, "tracker", "mota") < 0.999);
  /* Windows add up to the whole. */
  int64_t tp = 0;
  size_t i;
  json_t *w;
  json_array_foreach(json_object_get(c, "windows"), i, w) tp += json_integer_value(json_object_get(w, "tp"));
  ASSERT_EQ(tp, (int64_t)so_far(j, "detector", "tp"));
  ASSERT_EQ(json_array_size(json_object_get(c, "windows")), 3);
  /* Gate markers: a window gate's where eval fails it; the run gate's
  ** once where MOTA so far fell below; AP is not scored live and says so. */
  size_t gm1 = 0, gm2 = 0;
  json_array_foreach(json_object_get(j, "marks"), i, w) {
    if (strcmp(json_string_value(json_object_get(w, "kind")), "gate")) continue;
    int64_t gi = json_integer_value(json_object_get(w, "gate"));
    gm1 += gi == 1, gm2 += gi == 2;
    ASSERT(json_number_value(json_object_get(w, "value")) < json_number_value(json_object_get(w, "threshold")));
    ASSERT_CONTAINS(json_string_value(json_object_get(w, "message")), "below min");
  }
  ASSERT_EQ(gm1, eval_window_fails);
  ASSERT_EQ(gm2, 1);
  json_t *g3 = json_array_get(json_object_get(j, "gates"), 2);
  ASSERT(json_is_false(json_object_get(g3, "live")));
  ASSERT_CONTAINS(json_string_value(json_object_get(g3, "why")), "not among the scores while playing");
  /* The last image's boxes, each with an outcome. */
  json_t *boxes = json_object_get(j, "boxes");
  ASSERT(json_array_size(json_object_get(boxes, "detections")) > 0);
  ASSERT_STREQ(json_string_value(json_object_get(boxes, "camera")), "camera_front");
  char *whole = numbers(j);
  json_decref(j);

  /* A seek back to 1.5 s takes out exactly what comes after; window gates
  ** of windows not yet played through are not held. */
  rsim_eval_live_rewind(l, from + 1500000000 + 1);
  ASSERT_OK(rsim_engine_seek(e, from + 1500000000));
  feed(e, l, NULL); /* what the seek lands on is scored already: nothing changes */
  j = live_json(l, rsim_engine_time(e));
  c = comp_named(j, "detector");
  ASSERT_EQ(json_array_size(json_object_get(c, "windows")), 2);
  ASSERT(so_far(j, "detector", "tp") < rsim_eval_get(r, "detector", NULL, "tp"));
  json_array_foreach(json_object_get(j, "marks"), i, w) ASSERT(json_integer_value(json_object_get(w, "rel_ns")) < 1500000000);
  json_decref(j);
  /* Played again to the end: the same numbers and markers, none twice. */
  while ((rc = rsim_engine_step(e)) == RSIM_OK) feed(e, l, NULL);
  j = live_json(l, rsim_engine_time(e));
  char *again = numbers(j);
  ASSERT_STREQ(again, whole);
  free(again);
  json_decref(j);

  /* Marks: one a kind and component within 100 ms; a rewind drops what comes again. */
  rsim_eval_live_mark(l, from + 500000000, "timeout", "tracker", "budget");
  rsim_eval_live_mark(l, from + 550000000, "timeout", "tracker", "budget");
  rsim_eval_live_mark(l, from + 560000000, "fault", "tracker", "trap");
  rsim_eval_live_mark(l, from + 2500000000, "timeout", "tracker", "budget");
  j = live_json(l, to);
  size_t n_marks = json_array_size(json_object_get(j, "marks"));
  json_decref(j);
  rsim_eval_live_rewind(l, from + 1500000000);
  j = live_json(l, from + 1500000000);
  size_t left = 0;
  json_array_foreach(json_object_get(j, "marks"), i, w) left += strcmp(json_string_value(json_object_get(w, "kind")), "gate") != 0;
  ASSERT_EQ(n_marks - gm1 - gm2, 3);
  ASSERT_EQ(left, 2);
  ASSERT(json_is_null(json_object_get(j, "boxes")));
  json_decref(j);

  free(whole);
  rsim_eval_live_free(l);
  rsim_engine_free(e);
  rsim_graph_free(g);
  rsim_eval_free(r);
  rsim_store_close(st);
}
