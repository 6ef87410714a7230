/*
** test_bridge.c -- the sensor bridge inside a real engine run: what
** get-sensor-data answers between readings (exact, interpolated, held,
** none when stale, with the metadata saying which and how old), derived
** sensors transformed once and served from the cache, and duplicate
** timestamps in the log run their trigger once each, in store order.
*/
#include "engine/engine_int.h"
#include "rsim/engine.h"
#include "test.h"

#define T0 1700000000000000000LL
#define MS 1000000LL

static void put(rsim_store *st, const char *id, rsim_sensor_kind k, rsim_time t, const uint8_t *p, size_t n,
                const rsim_kv *meta, size_t n_meta) {
  rsim_reading r = {.sensor_id = (char *)id, .t = t, .kind = k, .payload = (uint8_t *)p, .payload_len = n,
                    .meta = (rsim_kv *)meta, .n_meta = n_meta};
  ASSERT_OK(rsim_store_put(st, &r));
}

static void imu_payload(uint8_t p[24], float ax) {
  memset(p, 0, 24);
  memcpy(p, &ax, 4);
}

/* radar scans (empty) every 50 ms to 1 s, twice at 200 ms; IMU at 0, 100 ms
** and 1 s; one 2x1 camera frame at 0. */
static const char *make_log(void) {
  const char *path = test_tmpfile("bridge.db");
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_create(path, false, &st, &eb));
  rsim_sensor_info radar = {.id = (char *)"radar", .kind = RSIM_SENSOR_RADAR, .rate_hz = 20};
  rsim_sensor_info imu = {.id = (char *)"imu", .kind = RSIM_SENSOR_IMU, .rate_hz = 10};
  rsim_sensor_info cam = {.id = (char *)"cam", .kind = RSIM_SENSOR_CAMERA, .rate_hz = 1};
  ASSERT_OK(rsim_store_add_sensor(st, &radar));
  ASSERT_OK(rsim_store_add_sensor(st, &imu));
  ASSERT_OK(rsim_store_add_sensor(st, &cam));
  uint8_t empty[4] = {0}, p[24];
  for (int i = 0; i <= 20; i++) put(st, "radar", RSIM_SENSOR_RADAR, T0 + i * 50 * MS, empty, 4, NULL, 0);
  put(st, "radar", RSIM_SENSOR_RADAR, T0 + 200 * MS, empty, 4, NULL, 0);
  imu_payload(p, 1.0f);
  put(st, "imu", RSIM_SENSOR_IMU, T0, p, 24, NULL, 0);
  imu_payload(p, 3.0f);
  put(st, "imu", RSIM_SENSOR_IMU, T0 + 100 * MS, p, 24, NULL, 0);
  imu_payload(p, 9.0f);
  put(st, "imu", RSIM_SENSOR_IMU, T0 + 1000 * MS, p, 24, NULL, 0);
  uint8_t px[6] = {255, 0, 0, 0, 0, 255};
  rsim_kv meta[3] = {{(char *)"width", (char *)"2"}, {(char *)"height", (char *)"1"}, {(char *)"encoding", (char *)"rgb8"}};
  put(st, "cam", RSIM_SENSOR_CAMERA, T0, px, 6, meta, 3);
  rsim_store_close(st);
  return path;
}

typedef struct fixture {
  rsim_store *st;
  rsim_graph *g;
  rsim_engine *e;
} fixture;

static void open_fixture(fixture *f) {
  char log[1024], graph[2048];
  snprintf(log, sizeof log, "%s", make_log());
  snprintf(graph, sizeof graph,
           "sensors:\n"
           "  imu: { max_staleness: 200ms }\n"
           "  cam: { max_staleness: 300ms }\n"
           "  cam_gray: { from: cam, transform: [grayscale] }\n"
           "components:\n"
           "  tracker:\n"
           "    wasm: %s\n"
           "    trigger: radar\n"
           "    inputs: { reading: sensor:radar }\n",
           test_component_path("radar_tracker"));
  const char *gp = test_write_text("bridge.yaml", graph);
  rsim_errbuf eb = {0};
  if (rsim_store_open(log, &f->st, &eb) || rsim_graph_load(gp, &f->g, &eb))
    test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_engine_opts o = {.store = f->st, .log_level = RSIM_LOG_ERROR};
  if (rsim_engine_new(f->g, &o, &f->e, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
}

static void close_fixture(fixture *f) {
  rsim_engine_free(f->e);
  rsim_graph_free(f->g);
  rsim_store_close(f->st);
}

static void step_to(rsim_engine *e, rsim_time t) {
  while (rsim_engine_time(e) < t) ASSERT_OK(rsim_engine_step(e));
  ASSERT_EQ(rsim_engine_time(e), t);
}

static const char *meta(const rsim_val *v, const char *key) {
  const rsim_val *m = &v->of.agg.items[RSIM_READING_METADATA];
  for (size_t i = 0; i < m->of.agg.n; i++)
    if (!strcmp(m->of.agg.items[i].of.agg.items[0].of.str.ptr, key)) return m->of.agg.items[i].of.agg.items[1].of.str.ptr;
  return NULL;
}

static float ax_of(const rsim_val *v) {
  float f;
  ASSERT(v->of.agg.items[RSIM_READING_PAYLOAD].of.bytes.len == 24);
  memcpy(&f, v->of.agg.items[RSIM_READING_PAYLOAD].of.bytes.ptr, 4);
  return f;
}

TEST(bridge_interpolates_holds_and_goes_stale) {
  fixture f;
  open_fixture(&f);
  rsim_val v = {0};
  step_to(f.e, T0 + 50 * MS);
  ASSERT_OK(rsim__engine_sensor_val(f.e, 0, "imu", &v));
  ASSERT(ax_of(&v) == 2.0f); /* half way from 1 to 3 */
  ASSERT_STREQ(meta(&v, "rsim.sample"), "interpolated");
  ASSERT_STREQ(meta(&v, "rsim.age_ns"), "50000000");
  ASSERT_EQ(v.of.agg.items[1].of.s, T0 + 50 * MS);
  rsim_val_clear(&v);
  step_to(f.e, T0 + 100 * MS);
  ASSERT_OK(rsim__engine_sensor_val(f.e, 0, "imu", &v));
  ASSERT(ax_of(&v) == 3.0f);
  ASSERT_STREQ(meta(&v, "rsim.sample"), "exact");
  rsim_val_clear(&v);
  /* The next reading is 900 ms away, beyond 200 ms: held, not interpolated. */
  step_to(f.e, T0 + 150 * MS);
  ASSERT_OK(rsim__engine_sensor_val(f.e, 0, "imu", &v));
  ASSERT(ax_of(&v) == 3.0f);
  ASSERT_STREQ(meta(&v, "rsim.sample"), "held");
  ASSERT_STREQ(meta(&v, "rsim.age_ns"), "50000000");
  ASSERT_EQ(v.of.agg.items[1].of.s, T0 + 100 * MS);
  rsim_val_clear(&v);
  /* 250 ms old is past the 200 ms limit: none. */
  step_to(f.e, T0 + 350 * MS);
  ASSERT_EQ(rsim__engine_sensor_val(f.e, 0, "imu", &v), RSIM_ENOTFOUND);
  step_to(f.e, T0 + 1000 * MS);
  ASSERT_OK(rsim__engine_sensor_val(f.e, 0, "imu", &v));
  ASSERT(ax_of(&v) == 9.0f);
  rsim_val_clear(&v);
  rsim_engine_bridge_stats b;
  rsim_engine_bridge_stats_get(f.e, &b);
  ASSERT_EQ(b.interpolated, 1);
  ASSERT_EQ(b.stale, 1);
  close_fixture(&f);
}

TEST(bridge_derived_sensor_is_transformed_once_and_cached) {
  fixture f;
  open_fixture(&f);
  rsim_val v = {0};
  step_to(f.e, T0);
  for (int i = 0; i < 3; i++) {
    ASSERT_OK(rsim__engine_sensor_val(f.e, 0, "cam_gray", &v));
    ASSERT_STREQ(v.of.agg.items[0].of.str.ptr, "cam_gray");
    ASSERT_EQ(v.of.agg.items[RSIM_READING_PAYLOAD].of.bytes.len, 2);
    ASSERT_EQ(v.of.agg.items[RSIM_READING_PAYLOAD].of.bytes.ptr[0], 76); /* red */
    ASSERT_EQ(v.of.agg.items[RSIM_READING_PAYLOAD].of.bytes.ptr[1], 29); /* blue */
    ASSERT_STREQ(meta(&v, "encoding"), "mono8");
    rsim_val_clear(&v);
  }
  /* Later instants hold the same frame: still no new transform. */
  step_to(f.e, T0 + 250 * MS);
  ASSERT_OK(rsim__engine_sensor_val(f.e, 0, "cam_gray", &v));
  ASSERT_STREQ(meta(&v, "rsim.sample"), "held");
  ASSERT_STREQ(meta(&v, "rsim.age_ns"), "250000000");
  rsim_val_clear(&v);
  rsim_engine_bridge_stats b;
  rsim_engine_bridge_stats_get(f.e, &b);
  ASSERT_EQ(b.transforms, 1);
  ASSERT_EQ(b.transform_hits, 3);
  /* The source goes stale after 300 ms, and so does what derives from it. */
  step_to(f.e, T0 + 350 * MS);
  ASSERT_EQ(rsim__engine_sensor_val(f.e, 0, "cam_gray", &v), RSIM_ENOTFOUND);
  ASSERT_EQ(rsim__engine_sensor_val(f.e, 0, "cam", &v), RSIM_ENOTFOUND);
  close_fixture(&f);
}

TEST(bridge_duplicate_timestamps_trigger_once_each) {
  fixture f;
  open_fixture(&f);
  while (rsim_engine_step(f.e) == RSIM_OK) {
  }
  rsim_component_stats s;
  rsim_engine_stats(f.e, 0, &s);
  /* 21 scans plus the duplicate at 200 ms. */
  ASSERT_EQ(s.calls, 22);
  ASSERT_EQ(s.outputs, 22);
  close_fixture(&f);
}
