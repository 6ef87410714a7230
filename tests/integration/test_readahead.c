/*
** test_readahead.c -- reading ahead (rsim_store_readahead) changes nothing
** but when the reading happens: the same readings in the same order from
** SQLite, MCAP and PostgreSQL drives, whatever the window; the same run
** digests, also across seeks and steps back in the middle of a run; a
** damaged MCAP chunk found by the reader thread reaches the caller with the
** same message after the same readings; the window bounds what is held.
*/

#include "rsim/engine.h"
#include "rsim/store.h"
#include "test.h"


static rsim_store *open_store(const char *path) {
  rsim_errbuf eb = {0};
  rsim_store *st;
  if (rsim_store_open(path, &st, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  return st;
}

static rsim_store *ahead(rsim_store *base, size_t n, size_t bytes) {
  rsim_readahead_opts o = {.max_readings = n, .max_bytes = bytes, .own_base = true};
  rsim_store *st;
  ASSERT_OK(rsim_store_readahead(base, &o, &st));
  ASSERT(rsim_store_is_readahead(st));
  return st;
}

/* What a cursor gave: a SHA-256 over every reading (id, time, kind,
** metadata, payload) in order, how many, and how it ended. */
typedef struct trace {
  char hex[65];
  int n, end;
  char msg[512];
} trace;

/* Reads [t0, t1] of sensors (all when n_ids is 0), peeking before every
** other reading and, with busy, asking st other things on the way (the
** reader thread holds base meanwhile). */
static trace read_all(rsim_store *st, rsim_time t0, rsim_time t1, const char *const *ids, size_t n_ids, bool busy) {
  trace tr = {0};
  rsim_cursor *c;
  ASSERT_OK(rsim_store_cursor_open(st, t0, t1, ids, n_ids, &c));
  rsim_sha256 s;
  rsim_sha256_init(&s);
  const rsim_reading *r;
  for (;;) {
    rsim_time pt = 0;
    int prc = tr.n % 2 ? rsim_cursor_peek_time(c, &pt) : RSIM_OK;
    int rc = rsim_cursor_next(c, &r);
    if (tr.n % 2) ASSERT_EQ(prc, rc);
    if (rc) {
      tr.end = rc;
      snprintf(tr.msg, sizeof tr.msg, "%s", rc == RSIM_EEOF ? "" : rsim_store_errmsg(st));
      ASSERT_EQ(rsim_cursor_next(c, &r), rc); /* asked again: the same answer */
      break;
    }
    if (tr.n % 2) ASSERT_EQ(pt, r->t);
    rsim_sha256_update(&s, r->sensor_id, strlen(r->sensor_id) + 1);
    rsim_sha256_update(&s, &r->t, sizeof r->t);
    rsim_sha256_update(&s, &r->kind, sizeof r->kind);
    for (size_t i = 0; i < r->n_meta; i++) {
      rsim_sha256_update(&s, r->meta[i].key, strlen(r->meta[i].key) + 1);
      rsim_sha256_update(&s, r->meta[i].value, strlen(r->meta[i].value) + 1);
    }
    rsim_sha256_update(&s, r->payload, r->payload_len);
    tr.n++;
    if (busy && tr.n % 7 == 0) {
      rsim_reading at = {0};
      ASSERT_OK(rsim_store_reading_at(st, "imu", r->t, &at));
      ASSERT(at.t <= r->t);
      rsim_reading_clear(&at);
      rsim_truth *g = NULL;
      size_t ng = 0;
      ASSERT_OK(rsim_store_truth(st, r->t - 100000000, r->t, &g, &ng));
      free(g);
    }
  }
  rsim_cursor_close(c);
  uint8_t d[32];
  rsim_sha256_final(&s, d);
  rsim_sha256_hex(d, tr.hex);
  return tr;
}

static void same_trace(const trace *a, const trace *b) {
  ASSERT_EQ(a->n, b->n);
  ASSERT_EQ(a->end, b->end);
  ASSERT_STREQ(a->hex, b->hex);
  ASSERT_STREQ(a->msg, b->msg);
}

/* Every window, from one reading to the default, gives base's readings. */
static void readings_match(const char *path) {
  rsim_store *plain = open_store(path);
  rsim_time first, last;
  ASSERT_OK(rsim_store_time_range(plain, &first, &last));
  const char *some[2] = {"camera_front", "imu"};
  trace all = read_all(plain, INT64_MIN, INT64_MAX, NULL, 0, false);
  trace part = read_all(plain, first + 700000000, last - 300000000, some, 2, false);
  ASSERT(all.n > 500);
  ASSERT(part.n > 100 && part.n < all.n);
  ASSERT_EQ(all.end, RSIM_EEOF);
  rsim_store_close(plain);
  const size_t windows[][2] = {{1, 0}, {3, 0}, {0, 1}, {64, 2u << 20}, {0, 0}};
  for (size_t w = 0; w < sizeof windows / sizeof *windows; w++) {
    rsim_store *st = ahead(open_store(path), windows[w][0], windows[w][1]);
    trace a = read_all(st, INT64_MIN, INT64_MAX, NULL, 0, w % 2 == 0);
    same_trace(&a, &all);
    trace p = read_all(st, first + 700000000, last - 300000000, some, 2, true);
    same_trace(&p, &part);
    /* Two cursors at once, each with its reader. */
    rsim_cursor *c1, *c2;
    const rsim_reading *r1, *r2;
    const char *cam[1] = {"camera_front"}, *imu[1] = {"imu"};
    ASSERT_OK(rsim_store_cursor_open(st, first, last, cam, 1, &c1));
    ASSERT_OK(rsim_store_cursor_open(st, first, last, imu, 1, &c2));
    for (int k = 0; k < 20; k++) {
      ASSERT_OK(rsim_cursor_next(c1, &r1));
      ASSERT_OK(rsim_cursor_next(c2, &r2));
      ASSERT_STREQ(r1->sensor_id, "camera_front");
      ASSERT_STREQ(r2->sensor_id, "imu");
    }
    rsim_cursor_close(c1); /* closed mid-read: its reader stops */
    rsim_cursor_close(c2);
    size_t pn, pb;
    rsim_store_readahead_peak(st, &pn, &pb);
    size_t max_n = windows[w][0] ? windows[w][0] : RSIM_READAHEAD_READINGS;
    size_t max_b = windows[w][1] ? windows[w][1] : RSIM_READAHEAD_BYTES;
    ASSERT(pn >= 1 && pn <= max_n);
    ASSERT(pb < max_b + (size_t)640 * 360 * 3); /* up to the window, plus the reading that filled it */
    rsim_store_close(st);
  }
}

TEST(readahead_gives_the_readings_of_sqlite_and_mcap_in_order_for_any_window) {
  const char *db = test_make_drive("drive.db", "3s", 31);
  char path[1024];
  snprintf(path, sizeof path, "%s", db);
  readings_match(path);
  snprintf(path, sizeof path, "%s", test_make_drive("drive.mcap", "3s", 31));
  readings_match(path);
}

/* Threads of this process. */
static int n_threads(void) {
  int n = 0;
  FILE *f = fopen("/proc/self/status", "r");
  ASSERT(f != NULL);
  char line[256];
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "Threads:", 8)) n = atoi(line + 8);
  fclose(f);
  return n;
}

/* A cursor asked for one reading (a view finding each sensor's first, the
** engine a sensor's next) starts no thread and reads nothing more; the
** second reading starts its reader. */
TEST(readahead_cursor_reads_ahead_only_from_its_second_reading) {
  rsim_store *st = ahead(open_store(test_make_drive("drive.db", "3s", 34)), 0, 0);
  int before = n_threads();
  rsim_cursor *c;
  const rsim_reading *r;
  ASSERT_OK(rsim_store_cursor_open(st, INT64_MIN, INT64_MAX, NULL, 0, &c));
  rsim_time t;
  ASSERT_OK(rsim_cursor_peek_time(c, &t));
  ASSERT_OK(rsim_cursor_next(c, &r));
  ASSERT_EQ(r->t, t);
  ASSERT_EQ(n_threads(), before);
  size_t n, bytes;
  rsim_store_readahead_peak(st, &n, &bytes);
  ASSERT_EQ(n, 1u);
  rsim_cursor_close(c);
  ASSERT_OK(rsim_store_cursor_open(st, INT64_MIN, INT64_MAX, NULL, 0, &c));
  ASSERT_OK(rsim_cursor_next(c, &r));
  ASSERT_OK(rsim_cursor_next(c, &r));
  ASSERT_EQ(n_threads(), before + 1); /* a 3 s drive fills the window: the reader waits, alive */
  rsim_cursor_close(c);
  rsim_store_close(st);
}

/* ---- replays ----------------------------------------------------------------------- */

/* A straight run without read-ahead, then one with it that seeks back and
** forth and steps back in the middle: every state is the straight run's. */
static void replay_matches(const char *path) {
  test_straight r = {0};
  rsim_store *plain = open_store(path);
  rsim_graph *g;
  rsim_engine *e = test_engine(test_demo_graph(), plain, 500000000, 0, &g);
  test_straight_record(&r, e);
  ASSERT(r.n > 100);
  rsim_engine_free(e);
  rsim_graph_free(g);
  rsim_store_close(plain);

  rsim_store *st = ahead(open_store(path), 0, 0);
  e = test_engine(test_demo_graph(), st, 500000000, 0, &g);
  for (size_t i = 0; i < r.n / 2; i++) {
    ASSERT_OK(rsim_engine_step(e));
    EXPECT_STRAIGHT(&r, e);
  }
  uint64_t x = 99;
  for (int k = 0; k < 12; k++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    rsim_time t = r.t[(x >> 11) % r.n] + (k % 2 ? 1000 : 0);
    if (rsim_engine_seek(e, t)) test_fail(__FILE__, __LINE__, "seek: %s", rsim_engine_errmsg(e));
    EXPECT_STRAIGHT(&r, e);
    for (int s = 0; s < 25 && rsim_engine_step(e) == RSIM_OK; s++) EXPECT_STRAIGHT(&r, e);
    if (k % 3 == 0 && rsim_engine_step_back(e) == RSIM_OK) EXPECT_STRAIGHT(&r, e);
  }
  int rc;
  while ((rc = rsim_engine_step(e)) == RSIM_OK) EXPECT_STRAIGHT(&r, e);
  ASSERT_EQ(rc, RSIM_EEOF);
  char end[65];
  rsim_engine_digest(e, end);
  ASSERT_STREQ(end, r.hex[r.n - 1]);
  rsim_engine_free(e);
  rsim_graph_free(g);
  rsim_store_close(st);
  test_straight_free(&r);
}

TEST(readahead_replays_with_seeks_give_the_digests_of_plain_reads_sqlite_and_mcap) {
  char path[1024];
  snprintf(path, sizeof path, "%s", test_make_drive("drive.db", "3s", 32));
  replay_matches(path);
  snprintf(path, sizeof path, "%s", test_make_drive("drive.mcap", "3s", 32));
  replay_matches(path);
  /* The command line: on by default, off with --no-read-ahead, one digest. */
  char d1[65], d2[65], *out = NULL;
  ASSERT_EQ(test_replay(test_demo_graph(), path, "--speed max", &out, d1), 0);
  free(out);
  ASSERT_EQ(test_replay(test_demo_graph(), path, "--speed max --no-read-ahead", &out, d2), 0);
  free(out);
  ASSERT_EQ(strlen(d1), 64u);
  ASSERT_STREQ(d1, d2);
}

TEST(readahead_pg_drive_replays_and_seeks_give_the_digests_of_plain_reads) {
  const char *db = test_make_drive("drive.db", "2s", 33);
  char dbp[1024], *out = NULL;
  snprintf(dbp, sizeof dbp, "%s", db);
  const char *uri = test_pg_uri(NULL);
  if (test_replaysim(&out, "db init '%s'", uri)) test_fail(__FILE__, __LINE__, "db init: %s", out);
  free(out);
  if (test_replaysim(&out, "import %s --out '%s' --drive d", dbp, uri)) test_fail(__FILE__, __LINE__, "import: %s", out);
  free(out);
  char pg[1024];
  snprintf(pg, sizeof pg, "%s", test_pg_uri("d"));
  /* The readings, with the libpq connection shared by the reader thread and
  ** the caller's own questions. */
  rsim_store *plain = open_store(pg);
  trace want = read_all(plain, INT64_MIN, INT64_MAX, NULL, 0, false);
  rsim_store_close(plain);
  rsim_store *st = ahead(open_store(pg), 5, 0);
  trace got = read_all(st, INT64_MIN, INT64_MAX, NULL, 0, true);
  same_trace(&got, &want);
  rsim_store_close(st);
  replay_matches(pg);
  char d1[65], d2[65], quoted[1100];
  snprintf(quoted, sizeof quoted, "'%s'", pg);
  ASSERT_EQ(test_replay(test_demo_graph(), quoted, "--speed max", &out, d1), 0);
  free(out);
  ASSERT_EQ(test_replay(test_demo_graph(), quoted, "--speed max --no-read-ahead", &out, d2), 0);
  free(out);
  ASSERT_EQ(strlen(d1), 64u);
  ASSERT_STREQ(d1, d2);
}

/* ---- a damaged chunk ----------------------------------------------------------------- */

static uint64_t le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* A copy of an MCAP file with the CRC of its k-th chunk flipped. */
static const char *damage_chunk(const char *path, int k, const char *name) {
  FILE *f = fopen(path, "rb");
  ASSERT(f != NULL);
  fseek(f, 0, SEEK_END);
  size_t n = (size_t)ftell(f);
  rewind(f);
  uint8_t *b = malloc(n);
  ASSERT_EQ(fread(b, 1, n, f), n);
  fclose(f);
  size_t off = 8;
  int seen = 0;
  bool done = false;
  while (off + 9 <= n && !done) {
    uint64_t len = le64(b + off + 1);
    if (b[off] == 0x06 && seen++ == k) {
      b[off + 9 + 24] ^= 0x01;
      done = true;
    }
    off += 9 + len;
  }
  ASSERT(done);
  const char *out = test_tmpfile(name);
  f = fopen(out, "wb");
  ASSERT(f != NULL);
  ASSERT_EQ(fwrite(b, 1, n, f), n);
  fclose(f);
  free(b);
  return out;
}

TEST(readahead_damaged_mcap_chunk_error_comes_with_its_message_after_the_same_readings) {
  char drive[1024], bad[1024];
  snprintf(drive, sizeof drive, "%s", test_make_drive("drive.mcap", "3s", 34));
  snprintf(bad, sizeof bad, "%s", damage_chunk(drive, 3, "bad.mcap"));
  rsim_store *plain = open_store(bad);
  trace want = read_all(plain, INT64_MIN, INT64_MAX, NULL, 0, false);
  rsim_store_close(plain);
  ASSERT_EQ(want.end, RSIM_ECORRUPT);
  ASSERT_CONTAINS(want.msg, "crc mismatch");
  ASSERT(want.n > 10);
  /* The reader thread meets the chunk first, possibly long before the
  ** caller: the caller still gets every reading before it, then the error. */
  const size_t windows[][2] = {{1, 0}, {0, 0}, {100000, (size_t)1 << 30}};
  for (size_t w = 0; w < 3; w++) {
    rsim_store *st = ahead(open_store(bad), windows[w][0], windows[w][1]);
    trace got = read_all(st, INT64_MIN, INT64_MAX, NULL, 0, false);
    same_trace(&got, &want);
    rsim_store_close(st);
  }
  /* A run stops with the same last line either way. */
  char *a = NULL, *b = NULL;
  ASSERT_EQ(test_replaysim(&a, "run %s --store %s --quiet --speed max", test_demo_graph(), bad), 1);
  ASSERT_EQ(test_replaysim(&b, "run %s --store %s --quiet --speed max --no-read-ahead", test_demo_graph(), bad), 1);
  char ta[1024];
  snprintf(ta, sizeof ta, "%s", test_last_line(a)); /* test_last_line's buffer is static */
  ASSERT_STREQ(ta, test_last_line(b));
  ASSERT_CONTAINS(ta, "crc mismatch");
  free(a);
  free(b);
  /* Skipped as a gap: the same readings, and the warning once reached. */
  rsim_store_opts so = {.skip_corrupt = true};
  rsim_errbuf eb = {0};
  ASSERT_OK(rsim_store_open_opts(bad, &so, &plain, &eb));
  trace skip = read_all(plain, INT64_MIN, INT64_MAX, NULL, 0, false);
  ASSERT_EQ(rsim_store_n_gaps(plain), 1u);
  rsim_store_close(plain);
  ASSERT_EQ(skip.end, RSIM_EEOF);
  ASSERT_OK(rsim_store_open_opts(bad, &so, &plain, &eb));
  rsim_store *st = ahead(plain, 0, 0);
  trace got = read_all(st, INT64_MIN, INT64_MAX, NULL, 0, false);
  same_trace(&got, &skip);
  ASSERT_EQ(rsim_store_n_gaps(st), 1u);
  ASSERT(rsim_store_n_warnings(st) >= 1);
  ASSERT_CONTAINS(rsim_store_warning(st, rsim_store_n_warnings(st) - 1), "gap");
  rsim_store_close(st);
}
