/*
** test_runtime_ab.c -- the same replay on two Wasmtime builds: this build's
** and another replaysim built against the other one (stock from PyPI, or
** from source with patches/wasmtime: packed lists).  How values cross the
** boundary must not change a single output, so the demo, the composed and
** a fault graph (fuel-limited, checkpointed) give the same digests on both.
**
** Needs RSIM_AB_REPLAYSIM (the other build's replaysim) and
** RSIM_AB_WASMTIME_DIR (the Wasmtime it was built against); skipped
** without them.  `RSIM_WASMTIME_AB=1 scripts/test.sh` builds the patched
** Wasmtime and sets them for both suites (docs/benchmarks.md, 2a and 4).
*/
#include <stdlib.h>

#include "test.h"

static const char *other_replaysim(void) {
  const char *bin = getenv("RSIM_AB_REPLAYSIM"), *dir = getenv("RSIM_AB_WASMTIME_DIR");
  if (!bin || !*bin || !dir || !*dir) test_skip("RSIM_AB_REPLAYSIM / RSIM_AB_WASMTIME_DIR not set");
  static char cmd[2048];
  /* Its own libwasmtime.so: the two builds' libraries differ in symbols. */
  snprintf(cmd, sizeof cmd, "LD_LIBRARY_PATH=%s/lib %s", dir, bin);
  return cmd;
}

/* Runs graph on drive with this build (other == NULL) or the other one;
** returns the output. */
static char *replay(const char *other, const char *graph, const char *drive, const char *extra) {
  char cmd[4096];
  char *out = NULL;
  snprintf(cmd, sizeof cmd, "%s run %s --store %s --quiet --speed max --component-digests %s",
           other ? other : test_replaysim_path(), graph, drive, extra ? extra : "");
  int rc = test_run(cmd, &out);
  if (rc != 0) test_fail(__FILE__, __LINE__, "%s failed (%d): %s", cmd, rc, out ? out : "");
  return out;
}

static void same_digests(const char *graph, const char *drive, const char *extra) {
  const char *other = other_replaysim();
  char *a = replay(NULL, graph, drive, extra), *b = replay(other, graph, drive, extra);
  char da[65], db[65];
  test_find_digest(a, "digest: ", da);
  test_find_digest(b, "digest: ", db);
  ASSERT_STREQ(da, db);
  ASSERT(strcmp(da, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") != 0);
  /* Per component too: the whole "digest of X: ..." block is the same. */
  const char *pa = strstr(a, "digest of "), *pb = strstr(b, "digest of ");
  ASSERT(pa && pb);
  ASSERT_STREQ(pa, pb);
  free(a);
  free(b);
}

TEST(runtime_ab_demo_and_composed_digests_match_across_wasmtime_builds) {
  other_replaysim();
  const char *drive = test_make_drive("drive.db", "3s", 31);
  same_digests(test_source_path("examples/demo/graph.yaml"), drive, NULL);
  same_digests(test_source_path("examples/composed/composed.yaml"), drive, NULL);
  same_digests(test_source_path("examples/composed/linked.yaml"), drive, NULL);
}

/* The demo with its components built against rsim:sim@0.3.0: payloads as
** list<u8>, packed on the patched runtime, one value a byte on stock. */
TEST(runtime_ab_contract_030_demo_digests_match_across_wasmtime_builds) {
  other_replaysim();
  const char *drive = test_make_drive("drive.db", "3s", 31);
  char text[4096];
  snprintf(text, sizeof text,
           "components:\n"
           "  detector:\n    wasm: %s\n    trigger: camera_front\n"
           "    inputs: { reading: sensor:camera_front }\n"
           "  tracker:\n    wasm: %s\n    trigger: radar_front\n"
           "    inputs: { reading: sensor:radar_front }\n"
           "  fusion:\n    wasm: %s\n    rate_hz: 20\n"
           "    inputs: { camera-objects: detector, radar-tracks: tracker }\n"
           "    config: { camera.fx: \"500\", camera.cx: \"320\" }\n"
           "  planner:\n    wasm: %s\n    rate_hz: 10\n"
           "    inputs: { objects: fusion, vehicle: sensor:can_vehicle }\n",
           test_component_path("camera_detector_0_3"), test_component_path("radar_tracker_0_3"),
           test_component_path("fusion_0_3"), test_component_path("planner_0_3"));
  same_digests(test_write_text("demo_030.yaml", text), drive, "--checkpoint-every 250ms");
}

TEST(runtime_ab_fault_graph_digests_match_across_wasmtime_builds) {
  other_replaysim();
  const char *drive = test_make_drive("drive.db", "2s", 32);
  char text[2048];
  snprintf(text, sizeof text,
           "components:\n"
           "  bad:\n    wasm: %s\n    trigger: camera_front\n"
           "    inputs: { reading: sensor:camera_front }\n"
           "    config: { fault: loop, at: \"3\" }\n"
           "    limits: { fuel: 20M }\n    on_fault: skip\n"
           "  tracker:\n    wasm: %s\n    trigger: radar_front\n"
           "    inputs: { reading: sensor:radar_front }\n",
           test_component_path("misbehave"), test_component_path("radar_tracker"));
  same_digests(test_write_text("fault.yaml", text), drive, "--checkpoint-every 250ms");
}
