/*
** test_links.c -- links at run time, through the replaysim command: fan-in
** of several sources into a list input, queue links that hand over every
** output (and count what a full queue drops), latest links that count what
** their target never saw, a link that must carry a named WIT interface,
** and a derived (transformed) camera shared by two detectors.
*/
#include "test.h"

static const char *graph(const char *name, const char *fusion_inputs, const char *planner_objects) {
  char text[4096];
  snprintf(text, sizeof text,
           "components:\n"
           "  detector:\n"
           "    wasm: camera_detector.wasm\n"
           "    trigger: camera_front\n"
           "    inputs: { reading: sensor:camera_front }\n"
           "  tracker:\n"
           "    wasm: radar_tracker.wasm\n"
           "    trigger: radar_front\n"
           "    inputs: { reading: sensor:radar_front }\n"
           "  fusion:\n"
           "    wasm: fusion.wasm\n"
           "    rate_hz: 20\n"
           "    inputs:\n%s"
           "  fusion_b:\n"
           "    wasm: fusion.wasm\n"
           "    rate_hz: 10\n"
           "    inputs: { camera-objects: detector, radar-tracks: tracker }\n"
           "  planner:\n"
           "    wasm: planner.wasm\n"
           "    rate_hz: 10\n"
           "    inputs:\n"
           "      objects: %s\n"
           "      vehicle: sensor:can_vehicle\n",
           fusion_inputs, planner_objects);
  return test_write_text(name, text);
}

static char *run(const char *g, const char *drive, int want_rc) {
  char *out = NULL;
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "RSIM_COMPONENT_PATH=%s/components %s run %s --store %s --quiet --speed max",
           RSIM_BUILD_DIR, test_replaysim_path(), g, drive);
  int rc = test_run(cmd, &out);
  if ((want_rc == 0) != (rc == 0)) test_fail(__FILE__, __LINE__, "exit %d: %s", rc, out);
  return out;
}

TEST(links_fan_in_and_latest_counts_superseded) {
  const char *drive = test_make_drive("drive.db", "2s", 5);
  char d[1024];
  snprintf(d, sizeof d, "%s", drive);
  const char *g = graph("fanin.yaml", "      camera-objects: detector\n      radar-tracks: tracker\n",
                        "[fusion, fusion_b]");
  char *out = run(g, d, 0);
  /* Both fusions feed one list; the planner ran on it every 100 ms. */
  ASSERT_CONTAINS(out, "planner              19       19         1");
  /* The detector runs at 30 Hz, fusion at 20 Hz: some boxes never reach it. */
  ASSERT_CONTAINS(out, "fusion: ");
  ASSERT_CONTAINS(out, "superseded before it ran");
  free(out);
}

TEST(links_queue_hands_over_everything_and_counts_drops) {
  const char *drive = test_make_drive("drive.db", "2s", 5);
  char d[1024];
  snprintf(d, sizeof d, "%s", drive);
  const char *g = graph("queue.yaml",
                        "      camera-objects: { from: detector, queue: 16 }\n      radar-tracks: tracker\n",
                        "fusion");
  char *out = run(g, d, 0);
  /* Every detector output reaches fusion: none superseded, none dropped. */
  ASSERT(strstr(out, "fusion: ") == NULL);
  free(out);
  g = graph("queue1.yaml",
            "      camera-objects: { from: detector, queue: 1 }\n      radar-tracks: tracker\n", "fusion");
  out = run(g, d, 0);
  ASSERT_CONTAINS(out, "outputs dropped by full input queues");
  ASSERT_CONTAINS(out, "queue of input 'camera-objects' (1 outputs) is full");
  free(out);
}

TEST(links_type_errors_name_both_ends) {
  const char *drive = test_make_drive("drive.db", "1s", 5);
  char d[1024], cmd[4096], *out = NULL;
  snprintf(d, sizeof d, "%s", drive);
  /* A link that must carry radar-processing, from the camera detector. */
  const char *g = graph("iface.yaml",
                        "      camera-objects: { from: detector, interface: rsim:sim/radar-processing }\n"
                        "      radar-tracks: tracker\n",
                        "fusion");
  snprintf(cmd, sizeof cmd, "RSIM_COMPONENT_PATH=%s/components %s check %s --store %s", RSIM_BUILD_DIR,
           test_replaysim_path(), g, d);
  ASSERT(test_run(cmd, &out) != 0);
  ASSERT_CONTAINS(out, "link detector.out -> fusion.camera-objects must carry interface rsim:sim/radar-processing");
  ASSERT_CONTAINS(out, "rsim:sim/camera-processing@0.2.0");
  free(out);
  /* The right interface passes. */
  g = graph("iface_ok.yaml",
            "      camera-objects: { from: detector, interface: rsim:sim/camera-processing }\n"
            "      radar-tracks: tracker\n",
            "fusion");
  snprintf(cmd, sizeof cmd, "RSIM_COMPONENT_PATH=%s/components %s check %s --store %s", RSIM_BUILD_DIR,
           test_replaysim_path(), g, d);
  ASSERT_EQ(test_run(cmd, &out), 0);
  free(out);
  /* Fan-in of tracks into the list of fused objects: element types differ. */
  g = graph("fanin_bad.yaml", "      camera-objects: detector\n      radar-tracks: tracker\n", "[fusion, tracker]");
  snprintf(cmd, sizeof cmd, "RSIM_COMPONENT_PATH=%s/components %s check %s --store %s", RSIM_BUILD_DIR,
           test_replaysim_path(), g, d);
  ASSERT(test_run(cmd, &out) != 0);
  ASSERT_CONTAINS(out, "link tracker.out -> planner.objects: type mismatch");
  free(out);
}

TEST(links_derived_camera_shared_by_two_detectors_is_transformed_once) {
  const char *drive = test_make_drive("drive.db", "1s", 5);
  char d[1024];
  snprintf(d, sizeof d, "%s", drive);
  const char *g = test_write_text("derived.yaml",
                                  "sensors:\n"
                                  "  camera_small: { from: camera_front, transform: [grayscale, downscale 2] }\n"
                                  "components:\n"
                                  "  det_a:\n"
                                  "    wasm: camera_detector.wasm\n"
                                  "    trigger: camera_small\n"
                                  "    inputs: { reading: sensor:camera_small }\n"
                                  "  det_b:\n"
                                  "    wasm: camera_detector.wasm\n"
                                  "    trigger: camera_small\n"
                                  "    inputs: { reading: sensor:camera_small }\n");
  char *out = run(g, d, 0);
  /* 1 s at 30 Hz is 31 frames: each transformed once, the second detector
  ** served from the cache. */
  ASSERT_CONTAINS(out, "det_a                31       31");
  ASSERT_CONTAINS(out, "det_b                31       31");
  ASSERT_CONTAINS(out, "31 transformed, 31 served from cache");
  free(out);
}
