/*
** test_record.c -- the output database: rows land, batches commit, an
** existing file is never clobbered without --overwrite.
*/
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include "rsim/engine.h"
#include "rsim/record.h"
#include "test.h"

static int64_t count_rows(const char *path, const char *sql) {
  sqlite3 *db;
  sqlite3_stmt *st;
  ASSERT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

TEST(record_outputs_events_stats_land) {
  const char *path = test_tmpfile("run.db");
  rsim_errbuf eb = {0};
  rsim_record *r;
  ASSERT_OK(rsim_record_open(path, false, &r, &eb));
  rsim_type *t = rsim_type_list(rsim_type_new(RSIM_STRING));
  ASSERT_OK(rsim_record_component(r, "det", "/x/det.wasm", "a#b", t));
  /* More rows than one batch, so a mid-run commit happens. */
  for (int i = 0; i < 1500; i++) {
    uint8_t enc[4] = {1, 2, 3, (uint8_t)i};
    ASSERT_OK(rsim_record_output(r, 1000 + i, "det", NULL, NULL, enc, sizeof enc, i % 2 ? "[\"x\"]" : NULL));
  }
  ASSERT_OK(rsim_record_event(r, 5, "det", RSIM_LOG_WARN, "something odd"));
  rsim_component_stats cs = {.name = "det", .calls = 1500, .not_ready = 2, .outputs = 1500, .total_ns = 18750000,
                             .max_ns = 40000, .restarts = 3, .max_fuel = 777};
  ASSERT_OK(rsim_record_stats(r, &cs));
  ASSERT_OK(rsim_record_set(r, "digest", "abc"));
  ASSERT_OK(rsim_record_close(r, &eb));
  rsim_type_free(t);
  ASSERT_EQ(count_rows(path, "SELECT count(*) FROM outputs"), 1500);
  ASSERT_EQ(count_rows(path, "SELECT count(*) FROM outputs WHERE json IS NULL"), 750);
  ASSERT_EQ(count_rows(path, "SELECT max(t) - min(t) FROM outputs"), 1499);
  ASSERT_EQ(count_rows(path, "SELECT count(*) FROM events WHERE level='warn'"), 1);
  ASSERT_EQ(count_rows(path, "SELECT not_ready FROM stats WHERE component='det'"), 2);
  ASSERT_EQ(count_rows(path, "SELECT restarts FROM stats WHERE component='det'"), 3);
  ASSERT_EQ(count_rows(path, "SELECT max_fuel FROM stats WHERE component='det'"), 777);
  ASSERT_EQ(count_rows(path, "SELECT CAST(mean_us * 10 AS INTEGER) FROM stats WHERE component='det'"), 125);
  ASSERT_EQ(count_rows(path, "SELECT count(*) FROM components WHERE result_type='list<string>'"), 1);
}

TEST(record_refuses_to_clobber_without_overwrite) {
  const char *path = test_tmpfile("run.db");
  rsim_errbuf eb = {0};
  rsim_record *r;
  ASSERT_OK(rsim_record_open(path, false, &r, &eb));
  ASSERT_OK(rsim_record_output(r, 1, "a", NULL, NULL, (const uint8_t *)"x", 1, NULL));
  ASSERT_OK(rsim_record_close(r, &eb));
  rsim_errbuf eb2 = {0};
  ASSERT_EQ(rsim_record_open(path, false, &r, &eb2), RSIM_EIO);
  ASSERT_CONTAINS(eb2.msg, "run.db");
  ASSERT_CONTAINS(eb2.msg, "--overwrite");
  ASSERT_EQ(count_rows(path, "SELECT count(*) FROM outputs"), 1);
  ASSERT_OK(rsim_record_open(path, true, &r, &eb));
  ASSERT_OK(rsim_record_close(r, &eb));
  ASSERT_EQ(count_rows(path, "SELECT count(*) FROM outputs"), 0);
}

TEST(record_unwritable_path_is_clear_error) {
  rsim_errbuf eb = {0};
  rsim_record *r = NULL;
  ASSERT_NE(rsim_record_open("/nonexistent-dir/run.db", false, &r, &eb), 0);
  ASSERT(r == NULL);
  ASSERT_CONTAINS(eb.msg, "/nonexistent-dir/run.db");
}

static void run_value(const char *path, const char *key, char *out, size_t n) {
  sqlite3 *db;
  sqlite3_stmt *st;
  ASSERT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT value FROM run WHERE key=?", -1, &st, NULL), SQLITE_OK);
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  const unsigned char *v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
  snprintf(out, n, "%s", v ? (const char *)v : "(none)");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

/* The file says 'incomplete' from the start and how far it got, whole
** instants at a time; 'complete' only when the run says so. */
TEST(record_status_incomplete_until_finished) {
  const char *path = test_tmpfile("run.db");
  char v[128];
  rsim_errbuf eb = {0};
  rsim_record *r;
  ASSERT_OK(rsim_record_open(path, false, &r, &eb));
  run_value(path, "status", v, sizeof v);
  ASSERT_STREQ(v, "incomplete");
  /* Three instants of 300 rows: a batch is full after the second. */
  for (int t = 1; t <= 3; t++) {
    for (int i = 0; i < 300; i++) ASSERT_OK(rsim_record_output(r, t, "a", NULL, NULL, (const uint8_t *)"x", 1, NULL));
    ASSERT_OK(rsim_record_instant_done(r, t));
  }
  /* Read while the recorder holds the file, as after a kill. */
  ASSERT_EQ(count_rows(path, "SELECT count(*) FROM outputs"), 600);
  run_value(path, "recorded_to", v, sizeof v);
  ASSERT_STREQ(v, "2");
  run_value(path, "status", v, sizeof v);
  ASSERT_STREQ(v, "incomplete");
  ASSERT_OK(rsim_record_finish(r, NULL));
  ASSERT_OK(rsim_record_close(r, &eb));
  run_value(path, "status", v, sizeof v);
  ASSERT_STREQ(v, "complete");
  run_value(path, "recorded_to", v, sizeof v);
  ASSERT_STREQ(v, "3");
  ASSERT_EQ(count_rows(path, "SELECT count(*) FROM outputs"), 900);
  /* A run that failed says so, and why. */
  ASSERT_OK(rsim_record_open(path, true, &r, &eb));
  ASSERT_OK(rsim_record_finish(r, "component 'x' failed"));
  ASSERT_OK(rsim_record_close(r, &eb));
  run_value(path, "status", v, sizeof v);
  ASSERT_STREQ(v, "incomplete");
  run_value(path, "error", v, sizeof v);
  ASSERT_STREQ(v, "component 'x' failed");
}

/* A write that fails (here: the file size limit, as a full disk would) is
** kept: every later call returns it, close reports it with the file and
** the cause, and the file keeps the instants committed before. */
TEST(record_first_error_is_sticky_and_close_reports_it) {
  const char *path = test_tmpfile("run.db");
  rsim_errbuf eb = {0};
  rsim_record *r;
  ASSERT_OK(rsim_record_open(path, false, &r, &eb));
  for (int i = 0; i < 600; i++) ASSERT_OK(rsim_record_output(r, 1, "a", NULL, NULL, (const uint8_t *)"x", 1, NULL));
  ASSERT_OK(rsim_record_instant_done(r, 1));
  /* This test runs in a process of its own: limit it, and fail writes
  ** with EFBIG rather than a signal. */
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit old, rl;
  getrlimit(RLIMIT_FSIZE, &old);
  rl = old;
  rl.rlim_cur = 1024 * 1024;
  ASSERT_OK(setrlimit(RLIMIT_FSIZE, &rl));
  static uint8_t blob[1000];
  int rc = RSIM_OK, t = 2;
  for (; t < 1000 && !rc; t++) {
    for (int i = 0; i < 40 && !rc; i++) rc = rsim_record_output(r, t, "a", NULL, NULL, blob, sizeof blob, NULL);
    if (!rc) rc = rsim_record_instant_done(r, t);
  }
  ASSERT_NE(rc, RSIM_OK);
  ASSERT_EQ(rsim_record_error(r), rc);
  char first[512];
  snprintf(first, sizeof first, "%s", rsim_record_errmsg(r));
  ASSERT_CONTAINS(first, path);
  ASSERT_CONTAINS(first, "File too large");
  /* Sticky: later calls fail the same way and write nothing. */
  ASSERT_EQ(rsim_record_output(r, t, "a", NULL, NULL, blob, 1, NULL), rc);
  ASSERT_EQ(rsim_record_event(r, t, "a", RSIM_LOG_WARN, "x"), rc);
  ASSERT_EQ(rsim_record_set(r, "digest", "abc"), rc);
  ASSERT_EQ(rsim_record_finish(r, NULL), rc);
  rsim_errbuf ceb = {0};
  ASSERT_EQ(rsim_record_close(r, &ceb), rc);
  ASSERT_STREQ(ceb.msg, first);
  ASSERT_OK(setrlimit(RLIMIT_FSIZE, &old));
  char v[64];
  run_value(path, "status", v, sizeof v);
  ASSERT_STREQ(v, "incomplete");
  /* Whole instants only: every instant recorded has all its 40 rows. */
  ASSERT(count_rows(path, "SELECT count(*) FROM outputs WHERE t >= 2") > 0);
  ASSERT_EQ(count_rows(path, "SELECT count(*) FROM (SELECT t FROM outputs WHERE t >= 2 GROUP BY t HAVING count(*) != 40)"), 0);
  run_value(path, "recorded_to", v, sizeof v);
  ASSERT_EQ(count_rows(path, "SELECT max(t) FROM outputs"), atoll(v));
}

TEST(bridge_reading_value_matches_wit_type) {
  rsim_kv meta[2] = {{(char *)"encoding", (char *)"rgb8"}, {(char *)"width", (char *)"2"}};
  uint8_t px[6] = {1, 2, 3, 4, 5, 6};
  rsim_reading r = {.sensor_id = (char *)"cam", .t = 42, .kind = RSIM_SENSOR_CAMERA,
                    .payload = px, .payload_len = 6, .meta = meta, .n_meta = 2};
  rsim_val v = {0};
  rsim_engine_reading_to_val(&r, &v);
  rsim_errbuf eb = {0};
  ASSERT_OK(rsim_val_check(&v, rsim_engine_reading_type(), &eb));
  ASSERT_EQ(v.of.agg.items[1].of.s, 42);
  ASSERT_EQ(v.of.agg.items[RSIM_READING_PAYLOAD].kind, RSIM_BYTES);
  ASSERT_EQ(v.of.agg.items[RSIM_READING_PAYLOAD].of.bytes.len, 6);
  ASSERT_EQ(v.of.agg.items[RSIM_READING_PAYLOAD].of.bytes.ptr[5], 6);
  ASSERT_EQ(v.of.agg.items[RSIM_READING_PAYLOAD_LEN].of.u, 6);
  ASSERT_STREQ(v.of.agg.items[RSIM_READING_METADATA].of.agg.items[1].of.agg.items[1].of.str.ptr, "2");
  char *ts = rsim_type_str(rsim_engine_reading_type());
  ASSERT_STREQ(ts, "record { sensor-id: string, timestamp: s64, kind: enum { camera, radar, lidar, "
                   "ultrasonic, imu, gps, can }, payload: list<u64>, payload-len: u32, metadata: list<record { key: "
                   "string, value: string }> }");
  free(ts);
  rsim_val_clear(&v);
}
