/*
** test_record.c -- the output database: rows land, batches commit, an
** existing file is never clobbered without --overwrite.
*/
#include <sqlite3.h>

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
  ASSERT_OK(rsim_record_close(r));
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
  ASSERT_OK(rsim_record_close(r));
  rsim_errbuf eb2 = {0};
  ASSERT_EQ(rsim_record_open(path, false, &r, &eb2), RSIM_EIO);
  ASSERT_CONTAINS(eb2.msg, "run.db");
  ASSERT_CONTAINS(eb2.msg, "--overwrite");
  ASSERT_EQ(count_rows(path, "SELECT count(*) FROM outputs"), 1);
  ASSERT_OK(rsim_record_open(path, true, &r, &eb));
  ASSERT_OK(rsim_record_close(r));
  ASSERT_EQ(count_rows(path, "SELECT count(*) FROM outputs"), 0);
}

TEST(record_unwritable_path_is_clear_error) {
  rsim_errbuf eb = {0};
  rsim_record *r = NULL;
  ASSERT_NE(rsim_record_open("/nonexistent-dir/run.db", false, &r, &eb), 0);
  ASSERT(r == NULL);
  ASSERT_CONTAINS(eb.msg, "/nonexistent-dir/run.db");
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
