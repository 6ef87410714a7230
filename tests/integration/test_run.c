/*
** test_run.c -- end to end through the replaysim command: generate a drive
** into SQLite, replay it through the demo graph of real components, and
** check digests, recorded outputs, schedules, type errors and traps.
*/
#include <sqlite3.h>
#include <unistd.h>

#include "rsim/util.h"
#include "test.h"


/* Like query_int, with a second database attached read-only as "d". */
static int64_t query_int_attached(const char *db, const char *other, const char *sql) {
  sqlite3 *h;
  sqlite3_stmt *st;
  char att[1200];
  ASSERT_EQ(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL), SQLITE_OK);
  snprintf(att, sizeof att, "ATTACH 'file:%s?mode=ro' AS d", other);
  ASSERT_EQ(sqlite3_exec(h, att, NULL, NULL, NULL), SQLITE_OK);
  if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
    test_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(h));
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

TEST(run_demo_digest_is_stable_and_outputs_recorded) {
  const char *drive = test_make_drive("drive.db", "4s", 11);
  char *out1 = NULL, *out2 = NULL, d1[65], d2[65];
  char extra[1200];
  snprintf(extra, sizeof extra, "--speed max --out %s", test_tmpfile("run1.db"));
  ASSERT_EQ(test_replay(test_demo_graph(), drive, extra, &out1, d1), 0);
  ASSERT_EQ(test_replay(test_demo_graph(), drive, "--speed max", &out2, d2), 0);
  ASSERT_EQ(strlen(d1), 64);
  ASSERT_STREQ(d1, d2);
  /* The digest of nothing would mean no component ran. */
  ASSERT(strcmp(d1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") != 0);
  ASSERT_CONTAINS(out1, "detector");
  ASSERT_CONTAINS(out1, "planner");
  const char *run = test_tmpfile("run1.db");
  /* One detector output per camera frame, one tracker output per radar scan. */
  int64_t frames = test_query_int(drive, "SELECT count(*) FROM readings WHERE sensor='camera_front'");
  ASSERT(frames >= 110 && frames <= 130);
  ASSERT_EQ(test_query_int(run, "SELECT count(*) FROM outputs WHERE component='detector'"), frames);
  ASSERT_EQ(test_query_int(run, "SELECT count(*) FROM outputs WHERE component='tracker'"),
            test_query_int(drive, "SELECT count(*) FROM readings WHERE sensor='radar_front'"));
  /* Rate components run exactly every period, anchored at the log's start. */
  int64_t first = test_query_int(drive, "SELECT min(t) FROM readings");
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM outputs WHERE component='fusion' AND (t - %lld) %% 50000000 != 0",
           (long long)first);
  ASSERT_EQ(test_query_int(run, sql), 0);
  ASSERT(test_query_int(run, "SELECT count(*) FROM outputs WHERE component='planner'") >= 30);
  /* Detector outputs sit exactly at camera frame timestamps. */
  char attach[2048];
  snprintf(attach, sizeof attach,
           "SELECT count(*) FROM outputs WHERE component='detector' AND t NOT IN "
           "(SELECT t FROM d.readings WHERE sensor='camera_front')");
  ASSERT_EQ(query_int_attached(run, drive, attach), 0);
  char d3[65];
  sqlite3 *h;
  sqlite3_stmt *st;
  ASSERT_EQ(sqlite3_open_v2(run, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  ASSERT_EQ(sqlite3_prepare_v2(h, "SELECT value FROM run WHERE key='digest'", -1, &st, NULL), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  snprintf(d3, sizeof d3, "%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(h);
  ASSERT_STREQ(d3, d1);
  free(out1);
  free(out2);
}

TEST(run_digest_same_at_any_speed) {
  const char *drive = test_make_drive("drive.db", "2s", 3);
  char *o1 = NULL, *o2 = NULL, d1[65], d2[65];
  ASSERT_EQ(test_replay(test_demo_graph(), drive, "--speed max", &o1, d1), 0);
  ASSERT_EQ(test_replay(test_demo_graph(), drive, "--speed 4", &o2, d2), 0);
  ASSERT_STREQ(d1, d2);
  free(o1);
  free(o2);
}

TEST(run_different_drives_give_different_digests) {
  const char *a = test_make_drive("a.db", "2s", 1);
  char da[65], db[65], *o1 = NULL, *o2 = NULL;
  ASSERT_EQ(test_replay(test_demo_graph(), a, "--speed max", &o1, da), 0);
  const char *b = test_make_drive("b.db", "2s", 2);
  ASSERT_EQ(test_replay(test_demo_graph(), b, "--speed max", &o2, db), 0);
  ASSERT(strcmp(da, db) != 0);
  free(o1);
  free(o2);
}

TEST(run_subrange_and_clamped_range) {
  const char *drive = test_make_drive("drive.db", "3s", 5);
  char *out = NULL, d[65];
  char extra[1400];
  snprintf(extra, sizeof extra, "--from 1s --to 2s --out %s", test_tmpfile("r.db"));
  ASSERT_EQ(test_replay(test_demo_graph(), drive, extra, &out, d), 0);
  int64_t first = test_query_int(drive, "SELECT min(t) FROM readings");
  const char *run = test_tmpfile("r.db");
  ASSERT(test_query_int(run, "SELECT min(t) FROM outputs") >= first + 1000000000);
  ASSERT(test_query_int(run, "SELECT max(t) FROM outputs") <= first + 2000000000);
  free(out);
  ASSERT_EQ(test_replay(test_demo_graph(), drive, "--from 1h", &out, d), 0);
  ASSERT_CONTAINS(out, "outside the log");
  free(out);
}

TEST(check_accepts_demo_graph_with_store) {
  const char *drive = test_make_drive("drive.db", "1s", 1);
  char cmd[2048], *out = NULL;
  snprintf(cmd, sizeof cmd, "%s check %s --store %s", test_replaysim_path(), test_demo_graph(), drive);
  ASSERT_EQ(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(out, "ok, 4 components");
  free(out);
}

TEST(check_rejects_mismatched_link_naming_both_ends) {
  char text[2048];
  snprintf(text, sizeof text,
           "components:\n"
           "  detector:\n    wasm: %s\n    trigger: camera_front\n"
           "    inputs: { reading: sensor:camera_front }\n"
           "  planner:\n    wasm: %s\n    rate_hz: 10\n"
           "    inputs:\n      objects: detector\n      vehicle: sensor:can_vehicle\n",
           test_component_path("camera_detector"), test_component_path("planner"));
  const char *g = test_write_text("bad.yaml", text);
  char cmd[2048], *out = NULL;
  snprintf(cmd, sizeof cmd, "%s check %s", test_replaysim_path(), g);
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(out, "bad.yaml:10:");
  ASSERT_CONTAINS(out, "detector.out -> planner.objects");
  ASSERT_CONTAINS(out, "detector.out is list<record { id: string, class: string, confidence: f32");
  ASSERT_CONTAINS(out, "planner.objects expects list<record { id: string, position: record");
  free(out);
}

TEST(check_reports_unknown_sensor_port_and_core_module) {
  const char *drive = test_make_drive("drive.db", "1s", 1);
  /* A core module where a component is expected. */
  static const unsigned char core[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  const char *core_path = test_tmpfile("core.wasm");
  FILE *f = fopen(core_path, "wb");
  fwrite(core, 1, sizeof core, f);
  fclose(f);
  char text[2048];
  snprintf(text, sizeof text,
           "components:\n"
           "  detector:\n    wasm: %s\n    trigger: camera_rear\n"
           "    inputs: { reading: sensor:camera_rear, extra: sensor:camera_front }\n"
           "  broken:\n    wasm: core.wasm\n    rate_hz: 1\n"
           "  wrongworld:\n    wasm: %s\n    world: planner\n    rate_hz: 1\n",
           test_component_path("camera_detector"), test_component_path("camera_detector"));
  const char *g = test_write_text("bad2.yaml", text);
  char cmd[2048], *out = NULL;
  snprintf(cmd, sizeof cmd, "%s check %s --store %s", test_replaysim_path(), g, drive);
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(out, "sensor 'camera_rear'");
  ASSERT_CONTAINS(out, "has no input 'extra'");
  ASSERT_CONTAINS(out, "core.wasm");
  ASSERT_CONTAINS(out, "not a component");
  ASSERT_CONTAINS(out, "component 'wrongworld'");
  ASSERT_CONTAINS(out, "does not implement world 'planner'");
  free(out);
}

static const char *trap_graph(const char *policy_name) {
  char text[2048];
  snprintf(text, sizeof text,
           "components:\n"
           "  trapper:\n    wasm: %s\n    trigger: camera_front\n"
           "    inputs: { reading: sensor:camera_front }\n    config: { trap_at: \"3\" }\n"
           "  tracker:\n    wasm: %s\n    trigger: radar_front\n"
           "    inputs: { reading: sensor:radar_front }\n",
           test_component_path("trap_nth"), test_component_path("radar_tracker"));
  return test_write_text(policy_name, text);
}

TEST(run_trapping_component_stops_with_clear_message) {
  const char *drive = test_make_drive("drive.db", "1s", 1);
  char *out = NULL;
  ASSERT_EQ(test_replay(trap_graph("stop.yaml"), drive, "--speed max", &out, NULL), 1);
  ASSERT_CONTAINS(out, "component 'trapper' failed at sim time 0.0");
  ASSERT_CONTAINS(out, "trap");
  free(out);
}

TEST(run_trapping_component_survived_with_continue) {
  const char *drive = test_make_drive("drive.db", "1s", 1);
  char *out = NULL, d[65];
  char extra[1400];
  snprintf(extra, sizeof extra, "--speed max --on-error continue --checkpoint-every 1s --out %s", test_tmpfile("t.db"));
  ASSERT_EQ(test_replay(trap_graph("cont.yaml"), drive, extra, &out, d), 0);
  ASSERT_EQ(strlen(d), 64);
  const char *run = test_tmpfile("t.db");
  /* It traps on its 3rd call; a restart puts back its state of the latest
  ** checkpoint (every 1 s: the only one is after its first call), so it
  ** traps on every 2nd frame from the 3rd: 31 frames -> 15 traps. */
  int64_t errors = test_query_int(run, "SELECT errors FROM stats WHERE component='trapper'");
  ASSERT_EQ(errors, 15);
  ASSERT_EQ(test_query_int(run, "SELECT count(*) FROM events WHERE component='trapper' AND level='error'"),
            errors);
  /* The other component was not disturbed. */
  ASSERT_EQ(test_query_int(run, "SELECT errors FROM stats WHERE component='tracker'"), 0);
  ASSERT_EQ(test_query_int(run, "SELECT count(*) FROM outputs WHERE component='tracker'"),
            test_query_int(drive, "SELECT count(*) FROM readings WHERE sensor='radar_front'"));
  free(out);
}

TEST(run_bad_store_is_a_clear_error) {
  const char *txt = test_write_text("notes.txt", "this is not a database\n");
  char *out = NULL;
  ASSERT_EQ(test_replay(test_demo_graph(), txt, "", &out, NULL), 1);
  ASSERT_CONTAINS(out, "notes.txt");
  free(out);
  ASSERT_EQ(test_replay(test_demo_graph(), "/nonexistent/drive.db", "", &out, NULL), 1);
  ASSERT_CONTAINS(out, "/nonexistent/drive.db");
  free(out);
}

TEST(inspect_prints_wit_types) {
  char cmd[2048], *out = NULL;
  snprintf(cmd, sizeof cmd, "%s inspect %s", test_replaysim_path(), test_component_path("fusion"));
  ASSERT_EQ(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(out, "rsim:sim/sensor-data@0.2.0");
  ASSERT_CONTAINS(out, "rsim:sim/sensor-fusion@0.2.0");
  ASSERT_CONTAINS(out, "fuse-detections");
  ASSERT_CONTAINS(out, "camera-objects: list<record {");
  free(out);
}

TEST(run_with_remapped_and_excluded_sensors) {
  const char *drive = test_make_drive("drive.db", "2s", 6);
  char *out = NULL, d_plain[65], d_remap[65];
  ASSERT_EQ(test_replay(test_demo_graph(), drive, "--exclude 'lidar*' --exclude gps", &out, d_plain), 0);
  free(out);
  /* The same graph with the camera renamed: same outputs, same digest. */
  char text[4096];
  uint8_t *src;
  size_t len;
  rsim_errbuf eb = {0};
  ASSERT_OK(rsim_read_file(test_demo_graph(), 1 << 20, &src, &len, &eb));
  rsim_buf g = {0};
  for (const char *p = (const char *)src; *p;) {
    const char *hit = strstr(p, "camera_front");
    if (!hit) {
      rsim_buf_puts(&g, p);
      break;
    }
    rsim_buf_append(&g, p, (size_t)(hit - p));
    rsim_buf_puts(&g, "cam_front");
    p = hit + strlen("camera_front");
  }
  rsim_buf_putc(&g, 0);
  snprintf(text, sizeof text, "%s", (char *)g.data);
  rsim_buf_free(&g);
  free(src);
  /* Component files are found beside the graph: point them at the build. */
  char graph_path[1100];
  snprintf(graph_path, sizeof graph_path, "%s", test_tmpfile("remapped.yaml"));
  FILE *f = fopen(graph_path, "w");
  fputs(text, f);
  fclose(f);
  char extra[600];
  snprintf(extra, sizeof extra, "--remap camera_front=cam_front");
  setenv("RSIM_COMPONENT_PATH", RSIM_BUILD_DIR "/components", 1);
  ASSERT_EQ(test_replay(graph_path, drive, extra, &out, d_remap), 0);
  ASSERT_STREQ(d_remap, d_plain);
  free(out);
  /* Excluding a sensor the graph needs is a check error naming it. */
  ASSERT_EQ(test_replay(test_demo_graph(), drive, "--exclude 'radar*'", &out, NULL), 1);
  ASSERT_CONTAINS(out, "sensor 'radar_front'");
  free(out);
}
