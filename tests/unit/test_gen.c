/*
** test_gen.c -- the synthetic drive: rates, payload layouts, determinism,
** and agreement between what the camera shows and the ground truth.
*/
#include <math.h>

#include "rsim/gen.h"
#include "rsim/store.h"
#include "test.h"

static const char *generate(const char *name, int64_t duration_ns, uint64_t seed) {
  static char path[1024];
  snprintf(path, sizeof path, "%s", test_tmpfile(name));
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_create(path, true, &st, &eb));
  rsim_gen_opts o = {.duration_ns = duration_ns, .seed = seed};
  if (rsim_generate(st, &o, &eb)) test_fail(__FILE__, __LINE__, "generate: %s", eb.msg);
  rsim_store_close(st);
  return path;
}

/* SHA-256 over every reading (id, time, payload) in store order. */
static void readings_digest(const char *path, char hex[65]) {
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(path, &st, &eb));
  rsim_cursor *c;
  const rsim_reading *r;
  ASSERT_OK(rsim_store_cursor_open(st, INT64_MIN, INT64_MAX, NULL, 0, &c));
  rsim_sha256 s;
  rsim_sha256_init(&s);
  while (rsim_cursor_next(c, &r) == RSIM_OK) {
    rsim_sha256_update(&s, r->sensor_id, strlen(r->sensor_id) + 1);
    rsim_sha256_update(&s, &r->t, sizeof r->t);
    rsim_sha256_update(&s, r->payload, r->payload_len);
  }
  uint8_t d[32];
  rsim_sha256_final(&s, d);
  rsim_sha256_hex(d, hex);
  rsim_cursor_close(c);
  rsim_store_close(st);
}

static float f32_at(const uint8_t *p) {
  float f;
  memcpy(&f, p, 4);
  return f;
}

TEST(gen_rates_layouts_and_monotonic_times) {
  const char *path = generate("d.db", 2 * RSIM_NS_PER_S, 5);
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(path, &st, &eb));
  const struct { const char *id; int64_t n; size_t fixed; } want[] = {
      {"camera_front", 61, 640 * 360 * 3}, {"radar_front", 40, 0}, {"lidar_top", 20, 0},
      {"ultrasonic_front", 40, 8},        {"imu", 200, 24},       {"gps", 20, 40},
      {"can_vehicle", 200, 16}};
  for (size_t i = 0; i < 7; i++) {
    int64_t n;
    ASSERT_OK(rsim_store_count(st, want[i].id, &n));
    if (n < want[i].n - 1 || n > want[i].n) test_fail(__FILE__, __LINE__, "%s: %lld readings", want[i].id, (long long)n);
    rsim_cursor *c;
    const rsim_reading *r;
    const char *ids[1] = {want[i].id};
    ASSERT_OK(rsim_store_cursor_open(st, INT64_MIN, INT64_MAX, ids, 1, &c));
    rsim_time last = INT64_MIN;
    while (rsim_cursor_next(c, &r) == RSIM_OK) {
      ASSERT(r->t > last);
      last = r->t;
      if (want[i].fixed) ASSERT_EQ(r->payload_len, want[i].fixed);
      if (!strcmp(want[i].id, "radar_front")) {
        uint32_t count;
        memcpy(&count, r->payload, 4);
        ASSERT_EQ(r->payload_len, 4 + 20 * (size_t)count);
      }
      if (!strcmp(want[i].id, "lidar_top")) {
        uint32_t count;
        memcpy(&count, r->payload, 4);
        ASSERT_EQ(r->payload_len, 4 + 16 * (size_t)count);
        ASSERT(count > 1000); /* the ground alone returns thousands of points */
      }
    }
    rsim_cursor_close(c);
  }
  rsim_store_close(st);
}

TEST(gen_same_seed_same_bytes_other_seed_other_bytes) {
  char a[65], b[65], c[65];
  readings_digest(generate("a.db", RSIM_NS_PER_S, 9), a);
  readings_digest(generate("b.db", RSIM_NS_PER_S, 9), b);
  readings_digest(generate("c.db", RSIM_NS_PER_S, 10), c);
  ASSERT_STREQ(a, b);
  ASSERT(strcmp(a, c) != 0);
}

TEST(gen_camera_shows_truth_objects_in_their_class_colour) {
  const char *path = generate("d.db", RSIM_NS_PER_S / 2, 3);
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(path, &st, &eb));
  rsim_time t0, t1;
  ASSERT_OK(rsim_store_time_range(st, &t0, &t1));
  rsim_reading frame = {0};
  ASSERT_OK(rsim_store_reading_at(st, "camera_front", t0, &frame));
  rsim_truth *truth;
  size_t n;
  ASSERT_OK(rsim_store_truth(st, frame.t, frame.t, &truth, &n));
  ASSERT(n >= 5);
  int checked = 0;
  for (size_t i = 0; i < n; i++) {
    const rsim_truth *g = &truth[i];
    /* The near face's centre, projected with the documented camera model. */
    double X = g->x - g->length / 2 - 1.5, Y = g->y, Z = g->height / 2 - 1.4;
    if (X < 5 || X > 60) continue;
    int u = (int)lround(320 - 500 * Y / X), v = (int)lround(180 - 500 * Z / X);
    if (u < 0 || u >= 640 || v < 0 || v >= 360) continue;
    /* Skip objects hidden behind a nearer one at that pixel: a nearer box
    ** covers the columns between its near and far corners. */
    bool hidden = false;
    for (size_t j = 0; j < n; j++) {
      const rsim_truth *o = &truth[j];
      double xn = o->x - o->length / 2 - 1.5, xf = o->x + o->length / 2 - 1.5;
      if (j == i || xn >= X || xn < 1) continue;
      double us[4] = {320 - 500 * (o->y + o->width / 2) / xn, 320 - 500 * (o->y - o->width / 2) / xn,
                      320 - 500 * (o->y + o->width / 2) / xf, 320 - 500 * (o->y - o->width / 2) / xf};
      double lo = us[0], hi = us[0];
      for (int k = 1; k < 4; k++) lo = fmin(lo, us[k]), hi = fmax(hi, us[k]);
      double top = 180 - 500 * (o->height - 1.4) / xn, bottom = 180 + 500 * 1.4 / xn;
      if (u >= lo - 1 && u <= hi + 1 && v >= top - 1 && v <= bottom + 1) hidden = true;
    }
    if (hidden) continue;
    const uint8_t *p = frame.payload + 3 * ((size_t)v * 640 + (size_t)u);
    int want[3];
    if (!strcmp(g->cls, "car")) want[0] = 200, want[1] = 30, want[2] = 30;
    else if (!strcmp(g->cls, "truck")) want[0] = 40, want[1] = 60, want[2] = 170;
    else if (!strcmp(g->cls, "pedestrian")) want[0] = 230, want[1] = 180, want[2] = 30;
    else want[0] = 170, want[1] = 40, want[2] = 170;
    for (int k = 0; k < 3; k++)
      if (abs(p[k] - want[k]) > 20)
        test_fail(__FILE__, __LINE__, "%s %u at (%d,%d): pixel (%d,%d,%d), want (%d,%d,%d)", g->cls,
                  g->object_id, u, v, p[0], p[1], p[2], want[0], want[1], want[2]);
    checked++;
  }
  ASSERT(checked >= 2);
  free(truth);
  rsim_reading_clear(&frame);
  rsim_store_close(st);
}

TEST(gen_radar_sees_truth_and_can_matches_gps_speed) {
  const char *path = generate("d.db", RSIM_NS_PER_S, 4);
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(path, &st, &eb));
  rsim_time t0, t1;
  ASSERT_OK(rsim_store_time_range(st, &t0, &t1));
  rsim_reading radar = {0}, can = {0}, gps = {0};
  ASSERT_OK(rsim_store_reading_at(st, "radar_front", t0 + RSIM_NS_PER_S / 2, &radar));
  rsim_truth *truth;
  size_t n;
  ASSERT_OK(rsim_store_truth(st, radar.t - 40000000, radar.t, &truth, &n));
  uint32_t count;
  memcpy(&count, radar.payload, 4);
  int matched = 0;
  for (uint32_t k = 0; k < count; k++) {
    float range = f32_at(radar.payload + 4 + 20 * k), az = f32_at(radar.payload + 8 + 20 * k);
    for (size_t i = 0; i < n; i++) {
      double dx = truth[i].x - truth[i].length / 2 - 3.6, dy = truth[i].y;
      if (fabs(sqrt(dx * dx + dy * dy) - range) < 2.0 && fabs(atan2(dy, dx) - az) < 0.05) {
        matched++;
        break;
      }
    }
  }
  ASSERT(matched >= 2);
  ASSERT_OK(rsim_store_reading_at(st, "can_vehicle", t1, &can));
  ASSERT_OK(rsim_store_reading_at(st, "gps", t1, &gps));
  uint32_t id;
  memcpy(&id, can.payload, 4);
  ASSERT_EQ(id, 0x100);
  double speed = (can.payload[5] | can.payload[6] << 8) * 0.01;
  ASSERT(speed > 15 && speed < 35);
  ASSERT_NEAR(speed, f32_at(gps.payload + 28), 1.0);
  double lat;
  memcpy(&lat, gps.payload, 8);
  ASSERT_NEAR(lat, 48.137, 0.001);
  free(truth);
  rsim_reading_clear(&radar);
  rsim_reading_clear(&can);
  rsim_reading_clear(&gps);
  rsim_store_close(st);
}
