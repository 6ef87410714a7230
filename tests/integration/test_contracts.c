/*
** test_contracts.c -- both contract versions the host loads: rsim:sim@0.2.0
** (payload as packed list<u64> + payload-len, what the examples build
** against) and 0.3.0 (payload as list<u8>).  The same component sources
** built against each (components/CMakeLists.txt, *_0_3.wasm) must replay to
** the same digests, alone, mixed in one graph, composed with wac (whose
** socket gets its camera frame from get-sensor-data), and through
** checkpoints and seeks (0.3.0's state interface).
*/
#include "rsim/engine.h"
#include "test.h"

/* The graph file src with each listed component file replaced by the
** absolute path of the named build output; returns the written path. */
static const char *graph_with(const char *name, const char *src, const char *const *from, const char *const *to,
                              size_t n) {
  char files[8][128], paths[8][1100];
  const char *f[8], *t[8];
  if (n > 8) test_fail(__FILE__, __LINE__, "graph_with: at most 8 components");
  for (size_t k = 0; k < n; k++) {
    snprintf(files[k], sizeof files[k], "wasm: %s.wasm\n", from[k]);
    snprintf(paths[k], sizeof paths[k], "wasm: %s\n", test_component_path(to[k]));
    f[k] = files[k], t[k] = paths[k];
  }
  return test_edit_source(name, src, f, t, n);
}

static const char *const kDemo[] = {"camera_detector", "radar_tracker", "fusion", "planner"};
static const char *const kDemo030[] = {"camera_detector_0_3", "radar_tracker_0_3", "fusion_0_3", "planner_0_3"};
/* detector and planner (sensor readings in) on 0.3.0, tracker and fusion on 0.2.0 */
static const char *const kMixed[] = {"camera_detector_0_3", "radar_tracker", "fusion", "planner_0_3"};

/* The run's output from "digest of" on: every component's digest and the
** run's; fails when the run does. */
static char *digests(const char *graph, const char *drive, const char *extra) {
  char *out = NULL;
  int rc = test_replaysim(&out, "run %s --store %s --quiet --speed max --component-digests %s", graph, drive, extra);
  if (rc) test_fail(__FILE__, __LINE__, "run %s failed (%d): %s", graph, rc, out ? out : "");
  const char *d = strstr(out, "digest of ");
  ASSERT(d != NULL);
  char *r = strdup(d);
  free(out);
  return r;
}

TEST(contracts_demo_same_digests_with_0_2_0_and_0_3_0_components) {
  const char *drive = test_make_drive("drive.db", "3s", 31);
  char *v2 = digests(test_source_path("examples/demo/graph.yaml"), drive, "");
  char *v3 = digests(graph_with("demo_030.yaml", "examples/demo/graph.yaml", kDemo, kDemo030, 4), drive, "");
  char *mixed = digests(graph_with("demo_mixed.yaml", "examples/demo/graph.yaml", kDemo, kMixed, 4), drive, "");
  ASSERT_STREQ(v3, v2);
  ASSERT_STREQ(mixed, v2);
  char d[65];
  test_find_digest(v2, "digest: ", d);
  ASSERT(strcmp(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") != 0); /* not empty */
  free(v2);
  free(v3);
  free(mixed);
}

TEST(contracts_composed_030_gets_readings_through_get_sensor_data) {
  const char *drive = test_make_drive("drive.db", "2s", 33);
  static const char *const from[] = {"perception", "planner"}, *const to[] = {"perception_0_3", "planner_0_3"};
  char *v2 = digests(test_source_path("examples/composed/composed.yaml"), drive, "");
  char *v3 = digests(graph_with("composed_030.yaml", "examples/composed/composed.yaml", from, to, 2), drive, "");
  ASSERT_STREQ(v3, v2);
  free(v2);
  free(v3);
}

/* 0.3.0 components checkpoint through their state@0.3.0 and seek exactly. */
TEST(contracts_030_components_checkpoint_and_seek_exactly) {
  const char *drive = test_make_drive("drive.db", "2s", 34);
  const char *graph = graph_with("demo_030.yaml", "examples/demo/graph.yaml", kDemo, kDemo030, 4);
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(drive, &st, &eb));
  rsim_graph *g;
  ASSERT_OK(rsim_graph_load(graph, &g, &eb));
  rsim_engine_opts o = {.store = st, .checkpoint_every_ns = 250000000, .log_level = RSIM_LOG_ERROR};
  rsim_engine *e;
  ASSERT_OK(rsim_engine_new(g, &o, &e, &eb));
  /* A straight run, noting the digest halfway through. */
  rsim_time from, to;
  rsim_engine_range(e, &from, &to);
  rsim_time mid = from + (to - from) / 2, at = 0;
  char want[65] = "", end[65], hex[65];
  while (rsim_engine_step(e) == RSIM_OK)
    if (rsim_engine_time(e) <= mid) {
      at = rsim_engine_time(e);
      rsim_engine_digest(e, want);
    }
  rsim_engine_digest(e, end);
  ASSERT(want[0]);
  /* Back to the middle (a checkpoint restored), then on to the end again. */
  ASSERT_OK(rsim_engine_seek(e, at));
  rsim_engine_digest(e, hex);
  ASSERT_STREQ(hex, want);
  while (rsim_engine_step(e) == RSIM_OK) {
  }
  rsim_engine_digest(e, hex);
  ASSERT_STREQ(hex, end);
  rsim_engine_ckpt_stats cs;
  rsim_engine_ckpt_stats_get(e, &cs);
  ASSERT(cs.stateless == NULL); /* state@0.3.0 found: no re-simulation from the start */
  ASSERT(cs.restores > 0);
  rsim_engine_free(e);
  rsim_graph_free(g);
  rsim_store_close(st);
}
