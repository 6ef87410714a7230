/*
** test_surround.c -- the surround rig: `generate --rig surround` writes
** four cameras and four radars facing four ways (and the rest as the
** default rig) with ground truth, examples/surround/graph.yaml type-checks
** against it, replays to one stable digest (read ahead or not) and is
** scored by `run --eval`.
*/

#include "rsim/store.h"
#include "test.h"

static uint32_t u32le(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

TEST(surround_rig_generates_four_way_cameras_and_radars_with_truth) {
  char drive[1024], *out = NULL;
  snprintf(drive, sizeof drive, "%s", test_tmpfile("surround.db"));
  ASSERT_EQ(test_replaysim(&out, "generate --out %s --duration 2s --seed 3 --rig surround --quiet", drive), 0);
  free(out);
  ASSERT_EQ(test_replaysim(&out, "generate --out %s --duration 2s --rig round --quiet", test_tmpfile("x.db")), 2);
  ASSERT_CONTAINS(out, "--rig 'round': must be default or surround");
  free(out);
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(drive, &st, &eb));
  const rsim_sensor_info *s;
  size_t n;
  ASSERT_OK(rsim_store_sensors(st, &s, &n));
  ASSERT_EQ(n, 13u);
  const char *sides[4] = {"front", "rear", "left", "right"};
  const char *yaw[4] = {NULL, "3.141593", "1.570796", "4.712389"};
  rsim_reading front = {0};
  for (int k = 0; k < 4; k++) {
    char cam[32], radar[32];
    snprintf(cam, sizeof cam, "camera_%s", sides[k]);
    snprintf(radar, sizeof radar, "radar_%s", sides[k]);
    const rsim_sensor_info *c = rsim_store_sensor(st, cam), *r = rsim_store_sensor(st, radar);
    ASSERT(c && r);
    ASSERT_EQ(c->kind, RSIM_SENSOR_CAMERA);
    ASSERT_EQ(r->kind, RSIM_SENSOR_RADAR);
    ASSERT_NEAR(c->rate_hz, 30, 1e-9);
    if (yaw[k]) {
      ASSERT_STREQ(rsim_kv_get(c->meta, c->n_meta, "yaw_rad"), yaw[k]);
      ASSERT_STREQ(rsim_kv_get(r->meta, r->n_meta, "yaw_rad"), yaw[k]);
    } else {
      ASSERT(!rsim_kv_get(c->meta, c->n_meta, "yaw_rad"));
    }
    int64_t cnt;
    ASSERT_OK(rsim_store_count(st, cam, &cnt));
    ASSERT_EQ(cnt, 61);
    /* Each camera sees its own picture, taken at the front camera's time. */
    rsim_reading f = {0};
    ASSERT_OK(rsim_store_reading_at(st, cam, INT64_MAX, &f));
    int w, h, bpp;
    ASSERT(rsim_reading_frame(&f, &w, &h, &bpp));
    if (!k) front = f;
    else {
      ASSERT_EQ(f.t, front.t);
      ASSERT(memcmp(f.payload, front.payload, f.payload_len) != 0);
      rsim_reading_clear(&f);
    }
    /* Every radar sees something over the drive (clutter at least). */
    rsim_cursor *cur;
    const char *ids[1] = {radar};
    ASSERT_OK(rsim_store_cursor_open(st, INT64_MIN, INT64_MAX, ids, 1, &cur));
    const rsim_reading *rd;
    uint32_t seen = 0;
    int scans = 0;
    while (rsim_cursor_next(cur, &rd) == RSIM_OK) {
      ASSERT(rd->payload_len >= 4);
      seen += u32le(rd->payload);
      scans++;
    }
    rsim_cursor_close(cur);
    ASSERT_EQ(scans, 40);
    ASSERT(seen > 0);
  }
  rsim_reading_clear(&front);
  rsim_truth *g = NULL;
  size_t ng = 0;
  ASSERT_OK(rsim_store_truth(st, INT64_MIN, INT64_MAX, &g, &ng));
  ASSERT(ng > 0);
  /* Truth once a frame (with the front camera), not once per camera. */
  for (size_t i = 1; i < ng; i++) ASSERT(g[i].t > g[i - 1].t || g[i].object_id != g[i - 1].object_id);
  free(g);
  char *meta = NULL;
  ASSERT_OK(rsim_store_get_meta(st, "rig", &meta));
  ASSERT_STREQ(meta, "surround");
  free(meta);
  rsim_store_close(st);
}

TEST(surround_graph_checks_runs_to_a_stable_digest_and_scores) {
  char drive[1024], graph[1024], rec[1024], *out = NULL;
  snprintf(drive, sizeof drive, "%s", test_tmpfile("surround.mcap"));
  snprintf(graph, sizeof graph, "%s", test_source_path("examples/surround/graph.yaml"));
  snprintf(rec, sizeof rec, "%s", test_tmpfile("run.db"));
  ASSERT_EQ(test_replaysim(&out, "generate --out %s --duration 2s --seed 4 --rig surround --quiet", drive), 0);
  free(out);
  /* Every link type-checked against the components and the sensors. */
  if (test_replaysim(&out, "check %s --store %s", graph, drive)) test_fail(__FILE__, __LINE__, "check: %s", out);
  ASSERT_CONTAINS(out, "ok, 10 components");
  free(out);
  char d1[65], d2[65], d3[65];
  ASSERT_EQ(test_replay(graph, drive, "--speed max --component-digests", &out, d1), 0);
  ASSERT_CONTAINS(out, "digest of tracker_right: ");
  free(out);
  ASSERT_EQ(test_replay(graph, drive, "--speed max --no-read-ahead", &out, d2), 0);
  free(out);
  char extra[2200];
  snprintf(extra, sizeof extra, "--speed max --out %s --eval", rec);
  ASSERT_EQ(test_replay(graph, drive, extra, &out, d3), 0);
  ASSERT_EQ(strlen(d1), 64u);
  ASSERT_STREQ(d1, d2);
  ASSERT_STREQ(d1, d3);
  ASSERT_CONTAINS(out, "detector_front detection");
  ASSERT_CONTAINS(out, "tracker_front tracking");
  ASSERT_CONTAINS(out, "fusion       tracking");
  ASSERT_CONTAINS(out, "planner      planning");
  free(out);
  /* Every component produced; the rear tracker's tracks are behind the car
  ** (its mount and facing applied) and reach fusion with their own ids. */
  ASSERT_EQ(test_query_int(rec, "SELECT count(DISTINCT component) FROM outputs"), 10);
  ASSERT(test_query_int(rec, "SELECT count(*) FROM outputs WHERE component = 'tracker_rear' AND json LIKE '%\"x\":-%'") > 0);
  ASSERT_EQ(test_query_int(rec, "SELECT count(*) FROM outputs WHERE component = 'tracker_rear' AND json LIKE '%\"id\":1%'"),
            test_query_int(rec, "SELECT count(*) FROM outputs WHERE component = 'tracker_rear' AND json != '[]'"));
  ASSERT(test_query_int(rec, "SELECT count(*) FROM outputs WHERE component = 'fusion' AND json LIKE '%\"f-10%'") > 0);
}
