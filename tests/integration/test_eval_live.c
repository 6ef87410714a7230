/*
** test_eval_live.c -- scores while a run plays (rsim/eval_live.h, the
** server's GET /api/eval): the per-box matching agrees with the counts of
** rsim_eval_detection on a hand-made image; fed every detector output of a
** demo run as the engine makes them, the live counts equal those of
** `replaysim eval` over the recorded run; a rewind takes out what a seek
** back replays; marks of one kind and component close together are one.
*/
#include <jansson.h>

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

static int64_t so_far(json_t *j, const char *metric) {
  json_t *c = json_array_get(json_object_get(j, "components"), 0);
  return json_integer_value(json_object_get(json_object_get(c, "so_far"), metric));
}

TEST(eval_live_counts_equal_eval_over_the_recorded_run) {
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
  rsim_eval_opts o = {.window_ns = -1};
  ASSERT_OK(rsim_eval_run(run, st, &o, &r, &eb));

  /* The same run in process, every output handed over as it is made. */
  rsim_graph *g = NULL;
  ASSERT_OK(rsim_graph_load(gpath, &g, &eb));
  rsim_engine_opts eo = {.store = st, .log_level = RSIM_LOG_ERROR};
  rsim_engine *e = NULL;
  ASSERT_OK(rsim_engine_new(g, &eo, &e, &eb));
  rsim_time from, to;
  rsim_engine_range(e, &from, &to);
  rsim_eval_live *l = NULL;
  ASSERT_OK(rsim_eval_live_new(st, from, 0, &l, &eb));
  size_t n = rsim_engine_n_components(e);
  rsim_time seen[16];
  ASSERT(n <= 16);
  for (size_t i = 0; i < n; i++) seen[i] = INT64_MIN;
  int rc;
  int64_t outputs = 0;
  while ((rc = rsim_engine_step(e)) == RSIM_OK)
    for (size_t i = 0; i < n; i++) {
      const rsim_type *t;
      rsim_time ot;
      const rsim_val *v = rsim_engine_output(e, i, &t, &ot);
      if (!v || ot == seen[i]) continue;
      seen[i] = ot;
      rsim_component_stats cs;
      rsim_engine_stats(e, i, &cs);
      if (!strcmp(cs.name, "detector")) outputs++;
      rsim_eval_live_output(l, cs.name, ot, v, t);
    }
  ASSERT_EQ(rc, RSIM_EEOF);
  json_t *j = live_json(l, rsim_engine_time(e));
  json_t *c = json_array_get(json_object_get(j, "components"), 0);
  ASSERT_STREQ(json_string_value(json_object_get(c, "name")), "detector");
  ASSERT_EQ(json_array_size(json_object_get(j, "components")), 1); /* tracks are left to eval */
  ASSERT_EQ(json_integer_value(json_object_get(c, "scored")), outputs);
  ASSERT_EQ(so_far(j, "tp"), (int64_t)rsim_eval_get(r, "detector", NULL, "tp"));
  ASSERT_EQ(so_far(j, "fp"), (int64_t)rsim_eval_get(r, "detector", NULL, "fp"));
  ASSERT_EQ(so_far(j, "fn"), (int64_t)rsim_eval_get(r, "detector", NULL, "fn"));
  ASSERT(so_far(j, "fp") > 0);
  ASSERT_NEAR(json_real_value(json_object_get(json_object_get(c, "so_far"), "f1")),
              rsim_eval_get(r, "detector", NULL, "f1"), 1e-6);
  /* Windows add up to the whole. */
  int64_t tp = 0;
  size_t i;
  json_t *w;
  json_array_foreach(json_object_get(c, "windows"), i, w) tp += json_integer_value(json_object_get(w, "tp"));
  ASSERT_EQ(tp, so_far(j, "tp"));
  ASSERT_EQ(json_array_size(json_object_get(c, "windows")), 3);
  /* The last image's boxes, each with an outcome. */
  json_t *boxes = json_object_get(j, "boxes");
  ASSERT(json_array_size(json_object_get(boxes, "detections")) > 0);
  ASSERT_STREQ(json_string_value(json_object_get(boxes, "camera")), "camera_front");
  json_decref(j);

  /* Marks: one a kind and component within 100 ms; a rewind drops what comes again. */
  rsim_eval_live_mark(l, from + 500000000, "timeout", "tracker", "budget");
  rsim_eval_live_mark(l, from + 550000000, "timeout", "tracker", "budget");
  rsim_eval_live_mark(l, from + 560000000, "fault", "tracker", "trap");
  rsim_eval_live_mark(l, from + 2500000000, "timeout", "tracker", "budget");
  j = live_json(l, to);
  ASSERT_EQ(json_array_size(json_object_get(j, "marks")), 3);
  json_decref(j);
  rsim_eval_live_rewind(l, from + 1500000000);
  j = live_json(l, from + 1500000000);
  ASSERT_EQ(json_array_size(json_object_get(j, "marks")), 2);
  c = json_array_get(json_object_get(j, "components"), 0);
  ASSERT_EQ(json_array_size(json_object_get(c, "windows")), 1); /* the window 1.5 s falls in goes whole */
  ASSERT(so_far(j, "tp") < (int64_t)rsim_eval_get(r, "detector", NULL, "tp"));
  ASSERT(json_is_null(json_object_get(j, "boxes")));
  json_decref(j);

  rsim_eval_live_free(l);
  rsim_engine_free(e);
  rsim_graph_free(g);
  rsim_eval_free(r);
  rsim_store_close(st);
}
