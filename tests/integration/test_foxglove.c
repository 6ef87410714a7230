/*
** test_foxglove.c -- Foxglove-schema MCAP files (written by PyPI's
** foxglove-schemas-protobuf and mcap-protobuf-support, an independent
** encoder, and as JSON) replay in place; topic maps rename, skip and re-kind
** topics, and say which topic or schema does not fit.
*/
#include "rsim/store.h"
#include "test.h"

typedef struct files {
  char pb[1024], json[1024];
} files;

static files make_files(void) {
  char jpath[1024];
  snprintf(jpath, sizeof jpath, "%s", test_write_jpeg("green.jpg", 8, 8, 30, 200, 30));
  files fs;
  snprintf(fs.pb, sizeof fs.pb, "%s", test_tmpfile("fox.mcap"));
  snprintf(fs.json, sizeof fs.json, "%s", test_tmpfile("fox-json.mcap"));
  char cmd[4000], *out = NULL;
  snprintf(cmd, sizeof cmd, "python3 %s %s %s %s", test_source_path("tests/mcap/make_foxglove.py"), fs.pb, fs.json,
           jpath);
  if (test_run(cmd, &out)) test_fail(__FILE__, __LINE__, "foxglove-schemas-protobuf: %s", out);
  free(out);
  return fs;
}

static float f32_at(const uint8_t *p) {
  float v;
  memcpy(&v, p, 4);
  return v;
}

static rsim_store *open_with_radar(const char *path) {
  rsim_topic_rule rule = {(char *)"/radar", (char *)"radar_front", RSIM_SENSOR_RADAR};
  rsim_store_opts o = {.topics = &rule, .n_topics = 1};
  rsim_errbuf eb = {0};
  rsim_store *st;
  if (rsim_store_open_opts(path, &o, &st, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  return st;
}

static void check_values(rsim_store *st) {
  const rsim_sensor_info *s;
  size_t n;
  ASSERT_OK(rsim_store_sensors(st, &s, &n));
  ASSERT_EQ(n, 6); /* /log (foxglove.Log) is not a sensor */
  ASSERT_EQ(rsim_store_sensor(st, "cam_raw")->kind, RSIM_SENSOR_CAMERA);
  ASSERT_EQ(rsim_store_sensor(st, "lidar")->kind, RSIM_SENSOR_LIDAR);
  ASSERT_EQ(rsim_store_sensor(st, "radar_front")->kind, RSIM_SENSOR_RADAR);
  ASSERT_EQ(rsim_store_sensor(st, "gps")->kind, RSIM_SENSOR_GPS);
  rsim_time t0, t1;
  ASSERT_OK(rsim_store_time_range(st, &t0, &t1));
  rsim_reading r = {0};
  ASSERT_OK(rsim_store_reading_at(st, "cam_raw", t0 + 300000000, &r)); /* i = 3, padding dropped */
  ASSERT_EQ(r.payload_len, 18);
  ASSERT_EQ(r.payload[3 * 2], 23);    /* pixel (2,0) red = 10*2 + 3 */
  ASSERT_EQ(r.payload[3 * 4 + 1], 20); /* pixel (1,1) green */
  ASSERT_STREQ(r.meta[0].value, "rgb8");
  rsim_reading_clear(&r);
  ASSERT_OK(rsim_store_reading_at(st, "cam_mono", t1, &r));
  ASSERT_EQ(r.payload_len, 4);
  ASSERT_EQ(r.payload[0], 9);
  ASSERT_STREQ(r.meta[0].value, "mono8");
  rsim_reading_clear(&r);
  ASSERT_OK(rsim_store_reading_at(st, "cam_jpeg", t1, &r));
  ASSERT_EQ(r.payload_len, 8 * 8 * 3);
  ASSERT_NEAR(r.payload[1], 200, 6);
  rsim_reading_clear(&r);
  /* Fields out of order and an extra uint16 field: x y z intensity by name. */
  ASSERT_OK(rsim_store_reading_at(st, "lidar", t0 + 500000000, &r));
  ASSERT_EQ(r.payload_len, 4 + 16 * 4);
  ASSERT_NEAR(f32_at(r.payload + 4 + 16 * 2), 2.0, 0);
  ASSERT_NEAR(f32_at(r.payload + 4 + 16 * 2 + 4), 5.0, 0);
  ASSERT_NEAR(f32_at(r.payload + 4 + 16 * 2 + 8), -1.0, 0);
  ASSERT_NEAR(f32_at(r.payload + 4 + 16 * 2 + 12), 0.5, 0);
  rsim_reading_clear(&r);
  /* Radar from float64 x, y, z: range and azimuth. */
  ASSERT_OK(rsim_store_reading_at(st, "radar_front", t1, &r));
  ASSERT_EQ(r.payload_len, 4 + 20 * 2);
  ASSERT_NEAR(f32_at(r.payload + 4), 42.4264, 1e-3);
  ASSERT_NEAR(f32_at(r.payload + 8), 0.785398, 1e-5);
  ASSERT_NEAR(f32_at(r.payload + 24), 10.0, 1e-6);
  ASSERT_NEAR(f32_at(r.payload + 28), 0.0, 1e-6);
  rsim_reading_clear(&r);
  ASSERT_OK(rsim_store_reading_at(st, "gps", t1, &r));
  ASSERT_EQ(r.payload_len, 40);
  double lat;
  memcpy(&lat, r.payload, 8);
  ASSERT_NEAR(lat, 48.1 + 9e-5, 1e-9);
  ASSERT_NEAR(f32_at(r.payload + 24), 2.0, 1e-6); /* from the east/north variances */
  ASSERT_NEAR(f32_at(r.payload + 28), 12.5, 0);   /* rsim.speed_mps */
  rsim_reading_clear(&r);
}

TEST(foxglove_protobuf_topics_replay_as_sensors) {
  files fs = make_files();
  rsim_store *st = open_with_radar(fs.pb);
  check_values(st);
  rsim_store_close(st);
}

TEST(foxglove_json_reads_as_its_protobuf_twin) {
  files fs = make_files();
  rsim_store *a = open_with_radar(fs.pb), *b = open_with_radar(fs.json);
  check_values(b);
  rsim_cursor *ca, *cb;
  ASSERT_OK(rsim_store_cursor_open(a, INT64_MIN, INT64_MAX, NULL, 0, &ca));
  ASSERT_OK(rsim_store_cursor_open(b, INT64_MIN, INT64_MAX, NULL, 0, &cb));
  const rsim_reading *x, *y;
  int n = 0;
  while (rsim_cursor_next(ca, &x) == RSIM_OK) {
    ASSERT_OK(rsim_cursor_next(cb, &y));
    ASSERT_STREQ(x->sensor_id, y->sensor_id);
    ASSERT_EQ(x->t, y->t);
    ASSERT_EQ(x->payload_len, y->payload_len);
    ASSERT(memcmp(x->payload, y->payload, x->payload_len) == 0);
    n++;
  }
  ASSERT_EQ(n, 60);
  ASSERT_EQ(rsim_cursor_next(cb, &y), RSIM_EEOF);
  rsim_cursor_close(ca);
  rsim_cursor_close(cb);
  rsim_store_close(a);
  rsim_store_close(b);
}

TEST(topic_map_file_renames_skips_and_rekinds) {
  files fs = make_files();
  const char *map = test_write_text("map.yaml",
                                    "# which topics are which sensors\n"
                                    "/cam/raw: camera_front\n"
                                    "/cam/mono: skip\n"
                                    "/radar: {id: radar_front, kind: radar}\n"
                                    "/lidar: {kind: lidar}\n");
  rsim_errbuf eb = {0};
  rsim_topic_rule *rules;
  size_t n;
  ASSERT_OK(rsim_topic_map_load(map, &rules, &n, &eb));
  ASSERT_EQ(n, 4);
  rsim_store_opts o = {.topics = rules, .n_topics = n};
  rsim_store *st;
  if (rsim_store_open_opts(fs.pb, &o, &st, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_topic_rules_free(rules, n);
  ASSERT(rsim_store_sensor(st, "camera_front") != NULL);
  ASSERT(rsim_store_sensor(st, "cam_raw") == NULL);
  ASSERT(rsim_store_sensor(st, "cam_mono") == NULL);
  ASSERT_EQ(rsim_store_sensor(st, "radar_front")->kind, RSIM_SENSOR_RADAR);
  ASSERT_EQ(rsim_store_sensor(st, "lidar")->kind, RSIM_SENSOR_LIDAR);
  rsim_store_close(st);
}

static void expect_open_error(const char *path, const char *spec, const char *want1, const char *want2) {
  rsim_topic_rule *rules = NULL;
  size_t n = 0;
  rsim_errbuf eb = {0};
  ASSERT_OK(rsim_topic_rule_add(spec, &rules, &n, &eb));
  rsim_store_opts o = {.topics = rules, .n_topics = n};
  rsim_store *st = NULL;
  ASSERT_NE(rsim_store_open_opts(path, &o, &st, &eb), RSIM_OK);
  ASSERT(st == NULL);
  ASSERT_CONTAINS(eb.msg, want1);
  ASSERT_CONTAINS(eb.msg, want2);
  rsim_topic_rules_free(rules, n);
}

TEST(topic_map_mistakes_name_the_topic_and_schema) {
  files fs = make_files();
  expect_open_error(fs.pb, "/gps=gps:camera", "'/gps'", "foxglove.LocationFix cannot be read as a camera");
  expect_open_error(fs.pb, "/log=log", "'/log'", "foxglove.Log");
  expect_open_error(fs.pb, "/nope=x", "'/nope'", "not in the file");
  expect_open_error(fs.pb, "/cam/raw=lidar", "'/lidar'", "another topic has");
  rsim_errbuf eb = {0};
  rsim_topic_rule *rules = NULL;
  size_t n = 0;
  ASSERT_EQ(rsim_topic_rule_add("/radar=r:sonar", &rules, &n, &eb), RSIM_EINVAL);
  ASSERT_CONTAINS(eb.msg, "unknown kind 'sonar'");
  rsim_errbuf_clear(&eb);
  ASSERT_EQ(rsim_topic_rule_add("no-equals", &rules, &n, &eb), RSIM_EINVAL);
  ASSERT_CONTAINS(eb.msg, "TOPIC=ID[:KIND]");
  rsim_errbuf_clear(&eb);
  const char *bad = test_write_text("bad.yaml", "/radar: {id: r, colour: red}\n");
  ASSERT_EQ(rsim_topic_map_load(bad, &rules, &n, &eb), RSIM_EINVAL);
  ASSERT_CONTAINS(eb.msg, "bad.yaml");
  ASSERT_CONTAINS(eb.msg, "unknown key 'colour'");
}

TEST(topic_flags_work_from_the_command_line) {
  files fs = make_files();
  char cmd[4000], *out = NULL;
  snprintf(cmd, sizeof cmd, "%s info %s --topic /radar=radar_front:radar --topic /cam/mono=-", test_replaysim_path(),
           fs.pb);
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "%s", out);
  ASSERT_CONTAINS(out, "radar_front");
  ASSERT_CONTAINS(out, "sensors:  5");
  free(out);
  /* Without the map a point cloud is lidar. */
  snprintf(cmd, sizeof cmd, "%s info %s", test_replaysim_path(), fs.json);
  ASSERT_EQ(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(out, "radar                lidar");
  free(out);
}
