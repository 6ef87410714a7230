/*
** test_mcap_store.c -- MCAP as a store: replay in place through the same
** interface as SQLite (same readings, same run digest), import and export
** byte for byte, files an independent reader accepts, and clear errors for
** MCAP files replaysim cannot replay.
*/
#include "rsim/store.h"
#include "test.h"

#define SUITE RSIM_SOURCE_DIR "/../shared/data/mcap-conformance"

static int sh(const char *fmt, const char *a, const char *b, char **out) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, fmt, test_replaysim_path(), a, b);
  return test_run(cmd, out);
}

/* SHA-256 over every reading (id, time, kind, metadata, payload) in store order. */
static void readings_digest(const char *path, char hex[65]) {
  rsim_errbuf eb = {0};
  rsim_store *st;
  if (rsim_store_open(path, &st, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_cursor *c;
  const rsim_reading *r;
  ASSERT_OK(rsim_store_cursor_open(st, INT64_MIN, INT64_MAX, NULL, 0, &c));
  rsim_sha256 s;
  rsim_sha256_init(&s);
  int n = 0;
  while (rsim_cursor_next(c, &r) == RSIM_OK) {
    rsim_sha256_update(&s, r->sensor_id, strlen(r->sensor_id) + 1);
    rsim_sha256_update(&s, &r->t, sizeof r->t);
    rsim_sha256_update(&s, &r->kind, sizeof r->kind);
    for (size_t i = 0; i < r->n_meta; i++) {
      rsim_sha256_update(&s, r->meta[i].key, strlen(r->meta[i].key) + 1);
      rsim_sha256_update(&s, r->meta[i].value, strlen(r->meta[i].value) + 1);
    }
    rsim_sha256_update(&s, r->payload, r->payload_len);
    n++;
  }
  ASSERT(n > 100);
  uint8_t d[32];
  rsim_sha256_final(&s, d);
  rsim_sha256_hex(d, hex);
  rsim_cursor_close(c);
  rsim_store_close(st);
}

static void run_digest(const char *store, char hex[65]) {
  char *out = NULL;
  ASSERT_EQ(sh("%s run %s --store %s --quiet", test_source_path("examples/demo/graph.yaml"), store, &out), 0);
  const char *d = strstr(out, "digest: ");
  ASSERT(d != NULL);
  memcpy(hex, d + 8, 64);
  hex[64] = 0;
  free(out);
}

TEST(mcap_store_roundtrip_and_replay_in_place_give_same_digests) {
  char db[1024], mcap[1024], back[1024], direct[1024], *out = NULL;
  snprintf(db, sizeof db, "%s", test_tmpfile("drive.db"));
  snprintf(mcap, sizeof mcap, "%s", test_tmpfile("drive.mcap"));
  snprintf(back, sizeof back, "%s", test_tmpfile("back.db"));
  snprintf(direct, sizeof direct, "%s", test_tmpfile("direct.mcap"));
  ASSERT_EQ(sh("%s generate --quiet --out %s --duration 2s --seed %s", db, "8", &out), 0);
  free(out);
  ASSERT_EQ(sh("%s export %s --out %s", db, mcap, &out), 0);
  free(out);
  ASSERT_EQ(sh("%s import %s --out %s", mcap, back, &out), 0);
  free(out);
  ASSERT_EQ(sh("%s generate --quiet --out %s --duration 2s --seed %s", direct, "8", &out), 0);
  free(out);
  char h_db[65], h_mcap[65], h_back[65], h_direct[65];
  readings_digest(db, h_db);
  readings_digest(mcap, h_mcap);
  readings_digest(back, h_back);
  readings_digest(direct, h_direct);
  ASSERT_STREQ(h_mcap, h_db);
  ASSERT_STREQ(h_back, h_db);
  ASSERT_STREQ(h_direct, h_db);
  char r_db[65], r_mcap[65];
  run_digest(db, r_db);
  run_digest(mcap, r_mcap);
  ASSERT_STREQ(r_mcap, r_db);
  /* Ground truth and the generator's metadata travel too. */
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(back, &st, &eb));
  rsim_truth *truth;
  size_t nt;
  ASSERT_OK(rsim_store_truth(st, INT64_MIN, INT64_MAX, &truth, &nt));
  ASSERT(nt > 100);
  free(truth);
  char *seed;
  ASSERT_OK(rsim_store_get_meta(st, "seed", &seed));
  ASSERT_STREQ(seed, "8");
  free(seed);
  rsim_store_close(st);
}

TEST(mcap_store_files_pass_the_independent_reader) {
  char mcap[1024], *out = NULL;
  snprintf(mcap, sizeof mcap, "%s", test_tmpfile("drive.mcap"));
  ASSERT_EQ(sh("%s generate --quiet --out %s --duration 1s --seed %s", mcap, "3", &out), 0);
  free(out);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "python3 %s %s", test_source_path("tests/mcap/validate.py"), mcap);
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "independent reader (pip mcap) rejected the file: %s", out);
  ASSERT_CONTAINS(out, "/camera_front 31");
  ASSERT_CONTAINS(out, "/gps 10");
  ASSERT_CONTAINS(out, "imu 100");
  free(out);
}

TEST(mcap_store_unreplayable_files_are_named_errors) {
  rsim_errbuf eb = {0};
  rsim_store *st = NULL;
  ASSERT_EQ(rsim_store_open(SUITE "/OneMessage/OneMessage-ch-chx-mx-pad-rch-rsh-st-sum.mcap", &st, &eb), RSIM_ENOTSUP);
  ASSERT_CONTAINS(eb.msg, "OneMessage-ch-chx-mx-pad-rch-rsh-st-sum.mcap");
  ASSERT_CONTAINS(eb.msg, "example (Example)");
  rsim_errbuf_clear(&eb);
  /* Without a summary the file is indexed by a scan: its channel is found,
  ** and refused for its schema as above. */
  ASSERT_EQ(rsim_store_open(SUITE "/OneMessage/OneMessage.mcap", &st, &eb), RSIM_ENOTSUP);
  ASSERT_CONTAINS(eb.msg, "OneMessage.mcap");
  ASSERT_CONTAINS(eb.msg, "example (Example)");
  ASSERT(st == NULL);
}

TEST(run_recorded_as_mcap_opens_with_foxglove_schemas) {
  char db[1024], run[1024], *out = NULL;
  snprintf(db, sizeof db, "%s", test_tmpfile("drive.db"));
  snprintf(run, sizeof run, "%s", test_tmpfile("run.mcap"));
  ASSERT_EQ(sh("%s generate --quiet --out %s --duration 2s --seed %s", db, "4", &out), 0);
  free(out);
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s run %s --store %s --quiet --out %s", test_replaysim_path(),
           test_source_path("examples/demo/graph.yaml"), db, run);
  ASSERT_EQ(test_run(cmd, &out), 0);
  free(out);
  snprintf(cmd, sizeof cmd, "python3 %s %s", test_source_path("tests/mcap/check_run.py"), run);
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "the run's MCAP does not read as Foxglove expects: %s", out);
  ASSERT_CONTAINS(out, "/camera_front foxglove.CompressedImage 61");
  ASSERT_CONTAINS(out, "/rsim/detector rsim.ComponentOutput 61");
  ASSERT_CONTAINS(out, "/rsim/detector/annotations foxglove.ImageAnnotations 61");
  ASSERT_CONTAINS(out, "/rsim/fusion/scene foxglove.SceneUpdate");
  ASSERT_CONTAINS(out, "/rsim/planner/scene foxglove.SceneUpdate");
  free(out);
}

/* The latest reading at or before t, through the chunk indexes (what a
** seek's restore asks for every sensor): at random times, sensors in turn,
** forward and back, the same reading as the SQLite twin of the drive. */
TEST(mcap_store_latest_reading_matches_sqlite_at_random_times) {
  char db[1024], mcap[1024], *out = NULL;
  snprintf(db, sizeof db, "%s", test_tmpfile("drive.db"));
  snprintf(mcap, sizeof mcap, "%s", test_tmpfile("drive.mcap"));
  ASSERT_EQ(sh("%s generate --quiet --out %s --duration 3s --seed %s", db, "5", &out), 0);
  free(out);
  ASSERT_EQ(sh("%s generate --quiet --out %s --duration 3s --seed %s", mcap, "5", &out), 0);
  free(out);
  rsim_errbuf eb = {0};
  rsim_store *a, *b;
  ASSERT_OK(rsim_store_open(db, &a, &eb));
  ASSERT_OK(rsim_store_open(mcap, &b, &eb));
  const rsim_sensor_info *si;
  size_t n;
  ASSERT_OK(rsim_store_sensors(a, &si, &n));
  ASSERT(n >= 7);
  rsim_time from, to;
  ASSERT_OK(rsim_store_time_range(a, &from, &to));
  uint64_t x = 99;
  int compared = 0;
  for (int k = 0; k < 150; k++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    rsim_time t = from - 1000 + (rsim_time)((x >> 11) % (uint64_t)(to - from + 2000));
    for (size_t j = 0; j < n; j++) {
      const char *id = si[(j + (size_t)k) % n].id;
      rsim_reading ra, rb;
      int rca = rsim_store_reading_at(a, id, t, &ra), rcb = rsim_store_reading_at(b, id, t, &rb);
      ASSERT_EQ(rcb, rca);
      if (rca != RSIM_OK) continue;
      ASSERT_EQ(rb.t, ra.t);
      ASSERT_EQ(rb.payload_len, ra.payload_len);
      ASSERT(ra.payload_len == 0 || memcmp(ra.payload, rb.payload, ra.payload_len) == 0);
      compared++;
      rsim_reading_clear(&ra);
      rsim_reading_clear(&rb);
    }
  }
  ASSERT(compared > 500);
  rsim_store_close(a);
  rsim_store_close(b);
}
