/*
** test_store.c -- the SQLite store: documented order of readings, ranges,
** reading-at, read-only inputs, and clear errors for bad files.
*/
#include <sys/stat.h>
#include <unistd.h>

#include "rsim/store.h"
#include "test.h"

static void add(rsim_store *st, const char *id, rsim_sensor_kind k) {
  rsim_sensor_info info = {.id = (char *)id, .kind = k, .rate_hz = 10};
  ASSERT_OK(rsim_store_add_sensor(st, &info));
}

static void put(rsim_store *st, const char *id, rsim_sensor_kind k, rsim_time t, uint8_t tag) {
  rsim_kv meta[1] = {{(char *)"tag", (char *)"x"}};
  rsim_reading r = {.sensor_id = (char *)id, .t = t, .kind = k, .payload = &tag, .payload_len = 1,
                    .meta = meta, .n_meta = 1};
  ASSERT_OK(rsim_store_put(st, &r));
}

/* Sensors b, a (added out of order) with equal times across and within sensors. */
static const char *make_store(void) {
  const char *path = test_tmpfile("s.db");
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_create(path, false, &st, &eb));
  add(st, "b", RSIM_SENSOR_RADAR);
  add(st, "a", RSIM_SENSOR_CAMERA);
  put(st, "b", RSIM_SENSOR_RADAR, 20, 1);
  put(st, "a", RSIM_SENSOR_CAMERA, 20, 2);
  put(st, "a", RSIM_SENSOR_CAMERA, 10, 3);
  put(st, "b", RSIM_SENSOR_RADAR, 20, 4); /* same sensor, same time: after tag 1 */
  put(st, "a", RSIM_SENSOR_CAMERA, 30, 5);
  ASSERT_OK(rsim_store_set_meta(st, "seed", "7"));
  rsim_store_close(st);
  return path;
}

static uint64_t file_hash(const char *path) {
  FILE *f = fopen(path, "rb");
  ASSERT(f != NULL);
  uint64_t h = 1469598103934665603ULL;
  int c;
  while ((c = fgetc(f)) != EOF) h = (h ^ (uint64_t)c) * 1099511628211ULL;
  fclose(f);
  return h;
}

TEST(store_cursor_follows_documented_order) {
  const char *path = make_store();
  uint64_t before = file_hash(path);
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(path, &st, &eb));
  rsim_cursor *c;
  ASSERT_OK(rsim_store_cursor_open(st, 0, 100, NULL, 0, &c));
  /* time, then sensor id, then insertion order */
  const uint8_t want[] = {3, 2, 1, 4, 5};
  const char *want_id[] = {"a", "a", "b", "b", "a"};
  const rsim_reading *r;
  for (int i = 0; i < 5; i++) {
    rsim_time pt;
    ASSERT_OK(rsim_cursor_peek_time(c, &pt));
    ASSERT_OK(rsim_cursor_next(c, &r));
    ASSERT_EQ(pt, r->t);
    ASSERT_EQ(r->payload[0], want[i]);
    ASSERT_STREQ(r->sensor_id, want_id[i]);
    ASSERT_EQ(r->n_meta, 1);
    ASSERT_STREQ(r->meta[0].value, "x");
  }
  ASSERT_EQ(rsim_cursor_next(c, &r), RSIM_EEOF);
  rsim_cursor_close(c);
  rsim_store_close(st);
  ASSERT(before == file_hash(path));
}

TEST(store_ranges_filters_and_counts) {
  const char *path = make_store();
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(path, &st, &eb));
  rsim_time t0, t1;
  ASSERT_OK(rsim_store_time_range(st, &t0, &t1));
  ASSERT_EQ(t0, 10);
  ASSERT_EQ(t1, 30);
  int64_t n;
  ASSERT_OK(rsim_store_count(st, "a", &n));
  ASSERT_EQ(n, 3);
  ASSERT_OK(rsim_store_count(st, NULL, &n));
  ASSERT_EQ(n, 5);
  const char *only_b[] = {"b"};
  rsim_cursor *c;
  const rsim_reading *r;
  ASSERT_OK(rsim_store_cursor_open(st, 15, 25, only_b, 1, &c));
  ASSERT_OK(rsim_cursor_next(c, &r));
  ASSERT_EQ(r->payload[0], 1);
  ASSERT_OK(rsim_cursor_next(c, &r));
  ASSERT_EQ(r->payload[0], 4);
  ASSERT_EQ(rsim_cursor_next(c, &r), RSIM_EEOF);
  rsim_cursor_close(c);
  const char *ghost[] = {"ghost"};
  ASSERT_EQ(rsim_store_cursor_open(st, 0, 100, ghost, 1, &c), RSIM_ENOTFOUND);
  ASSERT_CONTAINS(rsim_store_errmsg(st), "ghost");
  char *seed;
  ASSERT_OK(rsim_store_get_meta(st, "seed", &seed));
  ASSERT_STREQ(seed, "7");
  free(seed);
  rsim_store_close(st);
}

TEST(store_reading_at_takes_latest_at_or_before) {
  const char *path = make_store();
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(path, &st, &eb));
  rsim_reading r = {0};
  ASSERT_EQ(rsim_store_reading_at(st, "b", 19, &r), RSIM_ENOTFOUND);
  ASSERT_OK(rsim_store_reading_at(st, "b", 25, &r));
  ASSERT_EQ(r.payload[0], 4); /* the last written among equal times */
  ASSERT_EQ(r.kind, RSIM_SENSOR_RADAR);
  rsim_reading_clear(&r);
  ASSERT_OK(rsim_store_reading_at(st, "a", 1000, &r));
  ASSERT_EQ(r.payload[0], 5);
  rsim_reading_clear(&r);
  rsim_store_close(st);
}

TEST(store_input_is_read_only) {
  const char *path = make_store();
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(path, &st, &eb));
  uint8_t b = 0;
  rsim_reading r = {.sensor_id = (char *)"a", .t = 1, .kind = RSIM_SENSOR_CAMERA, .payload = &b, .payload_len = 1};
  ASSERT_EQ(rsim_store_put(st, &r), RSIM_EREADONLY);
  ASSERT_CONTAINS(rsim_store_errmsg(st), "read-only");
  rsim_store_close(st);
}

TEST(store_bad_files_give_clear_errors) {
  rsim_errbuf eb = {0};
  rsim_store *st = NULL;
  ASSERT_EQ(rsim_store_open(test_tmpfile("missing.db"), &st, &eb), RSIM_EIO);
  ASSERT_CONTAINS(eb.msg, "missing.db");
  const char *txt = test_tmpfile("notes.txt");
  FILE *f = fopen(txt, "w");
  fputs("hello, not a database at all\n", f);
  fclose(f);
  rsim_errbuf_clear(&eb);
  ASSERT_EQ(rsim_store_open(txt, &st, &eb), RSIM_ECORRUPT);
  ASSERT_CONTAINS(eb.msg, "notes.txt");
  ASSERT(st == NULL);
}

TEST(store_truncated_or_damaged_database_is_an_error_not_a_crash) {
  /* A store big enough to span many pages, then cut and damaged. */
  const char *path = test_tmpfile("big.db");
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_create(path, false, &st, &eb));
  add(st, "cam", RSIM_SENSOR_CAMERA);
  uint8_t payload[3000];
  memset(payload, 7, sizeof payload);
  for (int i = 0; i < 200; i++) {
    rsim_reading r = {.sensor_id = (char *)"cam", .t = i, .kind = RSIM_SENSOR_CAMERA, .payload = payload,
                      .payload_len = sizeof payload};
    ASSERT_OK(rsim_store_put(st, &r));
  }
  rsim_store_close(st);
  struct stat sb;
  ASSERT_OK(stat(path, &sb));
  /* Garbage over the middle pages (the b-tree interior), then over the schema. */
  FILE *f = fopen(path, "r+b");
  uint8_t junk[8192];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 37 + 11);
  fseek(f, sb.st_size / 2, SEEK_SET);
  fwrite(junk, 1, sizeof junk, f);
  fseek(f, 100, SEEK_SET);
  fwrite(junk, 1, 3000, f);
  fclose(f);
  rsim_errbuf_clear(&eb);
  int rc = rsim_store_open(path, &st, &eb);
  if (rc == RSIM_OK) {
    /* SQLite may only notice while reading: then the cursor must say so. */
    rsim_cursor *c;
    const rsim_reading *r;
    int rc2 = rsim_store_cursor_open(st, 0, 1000, NULL, 0, &c);
    while (rc2 == RSIM_OK) rc2 = rsim_cursor_next(c, &r);
    if (rc2 != RSIM_EEOF) ASSERT_CONTAINS(rsim_store_errmsg(st), "big.db");
    if (c) rsim_cursor_close(c);
    rsim_store_close(st);
  } else {
    ASSERT_CONTAINS(eb.msg, "big.db");
  }
  /* Truncated to a quarter. */
  ASSERT_OK(truncate(path, sb.st_size / 4));
  rsim_errbuf_clear(&eb);
  rc = rsim_store_open(path, &st, &eb);
  if (rc) ASSERT_CONTAINS(eb.msg, "big.db");
  else rsim_store_close(st);
}

TEST(store_create_refuses_to_overwrite) {
  const char *path = make_store();
  rsim_errbuf eb = {0};
  rsim_store *st = NULL;
  ASSERT_EQ(rsim_store_create(path, false, &st, &eb), RSIM_EIO);
  ASSERT_CONTAINS(eb.msg, "--overwrite");
}
