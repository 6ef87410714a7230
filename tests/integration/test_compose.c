/*
** test_compose.c -- components composed with the real `wac` tool run in
** the host like any other: the perception component made by `wac plug`
** and the one made by `wac compose` give the same outputs as the same
** detector, tracker and fusion linked by a graph file, and a composition
** with an import left unsatisfied is refused with the import named.
*/
#include "test.h"

static void component_digest(const char *out, const char *name, char hex[65]) {
  char label[128];
  snprintf(label, sizeof label, "digest of %s: ", name);
  test_find_digest(out, label, hex);
  if (!hex[0]) test_fail(__FILE__, __LINE__, "no digest of %s in: %s", name, out);
}

TEST(compose_plugged_and_composed_match_their_linked_twin) {
  const char *drive = test_make_drive("drive.db", "4s", 21);
  char *lo = NULL, *po = NULL, *wo = NULL, d[6][65];
  ASSERT_EQ(test_replay(test_source_path("examples/composed/linked.yaml"), drive,
                        "--component-digests", &lo, NULL), 0);
  ASSERT_EQ(test_replay(test_source_path("examples/composed/composed.yaml"), drive,
                        "--component-digests", &po, NULL), 0);
  ASSERT_EQ(test_replay(test_source_path("examples/composed/composed_wac.yaml"), drive,
                        "--component-digests", &wo, NULL), 0);
  component_digest(lo, "perception", d[0]);
  component_digest(po, "perception", d[1]);
  component_digest(wo, "perception", d[2]);
  component_digest(lo, "planner", d[3]);
  component_digest(po, "planner", d[4]);
  component_digest(wo, "planner", d[5]);
  ASSERT_STREQ(d[0], d[1]);
  ASSERT_STREQ(d[0], d[2]);
  ASSERT_STREQ(d[3], d[4]);
  ASSERT_STREQ(d[3], d[5]);
  /* Equal because something ran: 4 s of radar at 20 Hz is 80 outputs. */
  ASSERT(strcmp(d[0], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") != 0);
  ASSERT_CONTAINS(po, "perception           80       80");
  /* The linked graph runs the detector separately; the composed one cannot. */
  ASSERT_CONTAINS(lo, "digest of detector: ");
  ASSERT(strstr(po, "digest of detector: ") == NULL);
  free(lo);
  free(po);
  free(wo);
}

TEST(compose_inspect_shows_what_the_composition_imports_and_exports) {
  char cmd[2048], *out = NULL;
  snprintf(cmd, sizeof cmd, "%s inspect %s", test_replaysim_path(), test_component_path("perception"));
  ASSERT_EQ(test_run(cmd, &out), 0);
  /* The plugged interfaces are gone; the host interface remains. */
  ASSERT_CONTAINS(out, "import rsim:sim/sensor-data@0.2.0");
  ASSERT_CONTAINS(out, "export rsim:sim/perceiving@0.2.0");
  ASSERT_CONTAINS(out, "perceive: func(scan: record");
  ASSERT(strstr(out, "camera-processing") == NULL);
  ASSERT(strstr(out, "radar-processing") == NULL);
  free(out);
  snprintf(cmd, sizeof cmd, "%s inspect %s", test_replaysim_path(), test_component_path("perception_socket"));
  ASSERT_EQ(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(out, "import rsim:sim/camera-processing@0.2.0");
  ASSERT_CONTAINS(out, "import rsim:sim/sensor-fusion@0.2.0");
  free(out);
}

TEST(compose_unsatisfied_import_is_named) {
  const char *drive = test_make_drive("drive.db", "1s", 2);
  char graph[4096], *out = NULL;
  snprintf(graph, sizeof graph,
           "components:\n"
           "  perception:\n"
           "    wasm: %s\n"
           "    trigger: radar_front\n"
           "    inputs: { scan: sensor:radar_front }\n",
           test_component_path("perception_unplugged"));
  const char *g = test_write_text("unplugged.yaml", graph);
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s check %s --store %s", test_replaysim_path(), g, drive);
  ASSERT(test_run(cmd, &out) != 0);
  ASSERT_CONTAINS(out, "perception");
  ASSERT_CONTAINS(out, "rsim:sim/radar-processing@0.2.0");
  free(out);
  ASSERT(test_replay(g, drive, "", &out, NULL) != 0);
  ASSERT_CONTAINS(out, "rsim:sim/radar-processing@0.2.0");
  free(out);
}
