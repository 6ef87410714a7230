/*
** test_components_native.c -- the components' algorithm cores, natively,
** on inputs the tests construct: boxes drawn on a background with noise,
** a target moving through radar clutter, a box and a track at one bearing,
** a slower car ahead.
*/
#include <math.h>

#include "rsim_detector.h"
#include "rsim_fusion.h"
#include "rsim_planner.h"
#include "rsim_tracker.h"
#include "test.h"

static uint32_t lcg(uint32_t *s) { return *s = *s * 1664525u + 1013904223u; }

static uint8_t noisy(uint32_t *s, int c) {
  int v = c + (int)(lcg(s) >> 28) - 8;
  return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static uint8_t *scene(int w, int h, uint32_t *seed) {
  uint8_t *img = malloc((size_t)w * h * 3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      uint8_t *p = img + 3 * ((size_t)y * w + x);
      int sky = y < h / 2;
      p[0] = noisy(seed, sky ? 170 : 70);
      p[1] = noisy(seed, sky ? 190 : 70);
      p[2] = noisy(seed, sky ? 215 : 75);
    }
  return img;
}

static void rect(uint8_t *img, int w, int x0, int y0, int rw, int rh, int r, int g, int b, uint32_t *s) {
  for (int y = y0; y < y0 + rh; y++)
    for (int x = x0; x < x0 + rw; x++) {
      uint8_t *p = img + 3 * ((size_t)y * w + x);
      p[0] = noisy(s, r);
      p[1] = noisy(s, g);
      p[2] = noisy(s, b);
    }
}

TEST(components_detector_finds_boxes_in_x_order_with_classes) {
  uint32_t seed = 7;
  int w = 200, h = 120;
  uint8_t *img = scene(w, h, &seed);
  rect(img, w, 120, 70, 30, 20, 40, 60, 170, &seed); /* truck, right */
  rect(img, w, 20, 60, 25, 15, 200, 30, 30, &seed);  /* car, left */
  rect(img, w, 80, 50, 6, 14, 230, 180, 30, &seed);  /* pedestrian */
  rect(img, w, 5, 5, 3, 3, 200, 30, 30, &seed);      /* too small to count */
  det_params p;
  det_params_default(&p);
  det_ctx ctx = {0};
  det_box out[8];
  int n = det_process(&ctx, &p, img, w, h, 3, out, 8);
  ASSERT_EQ(n, 3);
  ASSERT_STREQ(det_class_name(out[0].cls), "car");
  ASSERT_NEAR(out[0].x, 20, 1);
  ASSERT_NEAR(out[0].w, 25, 1);
  ASSERT_NEAR(out[0].h, 15, 1);
  ASSERT_STREQ(det_class_name(out[1].cls), "pedestrian");
  ASSERT_STREQ(det_class_name(out[2].cls), "truck");
  ASSERT_NEAR(out[2].y, 70, 1);
  ASSERT(out[2].confidence > 0.5f);
  ASSERT_EQ(det_process(&ctx, &p, img, w, h, 2, out, 8), -1);
  det_ctx_free(&ctx);
  free(img);
}

static void put_f32(uint8_t *p, float f) { memcpy(p, &f, 4); }

TEST(components_tracker_confirms_target_and_ignores_clutter) {
  trk_params p;
  trk_params_default(&p);
  p.mount_x = 0;
  trk_state *s = malloc(sizeof *s);
  trk_init(s, &p);
  uint32_t seed = 3;
  for (int k = 0; k < 20; k++) {
    double t = 0.05 * k, x = 30 - 2.0 * t, y = 1.0; /* closing at 2 m/s */
    uint8_t payload[4 + 20 * 3] = {0};
    payload[0] = 3;
    put_f32(payload + 4, (float)sqrt(x * x + y * y));
    put_f32(payload + 8, (float)atan2(y, x));
    put_f32(payload + 12, -2.0f);
    for (int c = 1; c < 3; c++) { /* clutter: somewhere else every scan */
      put_f32(payload + 4 + 20 * c, 10.0f + (float)(lcg(&seed) % 1000) / 10.0f);
      put_f32(payload + 8 + 20 * c, ((float)(lcg(&seed) % 1000) / 1000.0f - 0.5f));
    }
    trk_detection d[8];
    ASSERT_EQ(trk_decode(payload, sizeof payload, d, 8), 3);
    trk_update(s, (int64_t)k * 50000000, d, 3);
  }
  int confirmed = 0;
  const trk_track *found = NULL;
  for (int i = 0; i < s->n; i++)
    if (s->tracks[i].confirmed) confirmed++, found = &s->tracks[i];
  ASSERT_EQ(confirmed, 1);
  ASSERT_NEAR(found->x, 30 - 2.0 * 0.95, 0.5);
  ASSERT_NEAR(found->y, 1.0, 0.3);
  ASSERT_NEAR(found->vx, -2.0, 0.7);
  uint8_t bad[7] = {9, 0, 0, 0, 1, 2, 3};
  trk_detection d[1];
  ASSERT_EQ(trk_decode(bad, sizeof bad, d, 1), -1);
  free(s);
}

TEST(components_fusion_pairs_box_and_track_at_one_bearing) {
  fus_params p;
  fus_params_default(&p);
  /* A car 20 m ahead, 1 m left: where does the camera put it? */
  double X = 20 - p.cam_x, Y = 1.0;
  float u = (float)(p.cx - p.fx * Y / X);
  float bottom = (float)(p.cy + p.fy * p.cam_z / X);
  fus_cam cam = {u - 20, bottom - 30, 40, 30, 0.9f, "car", "det-0"};
  fus_radar radar[2] = {{7, 20, 1, -1.5f, 0, 0.8f}, {8, 40, -6, 0, 0, 0.8f}};
  fus_obj out[4];
  int n = fus_fuse(&p, &cam, 1, radar, 2, out, 4);
  ASSERT_EQ(n, 2);
  ASSERT_STREQ(out[0].id, "f-7");
  ASSERT_STREQ(out[0].cls, "car");
  ASSERT(out[0].from_camera && out[0].from_radar);
  ASSERT_NEAR(out[0].x, 20, 1e-4);
  ASSERT_NEAR(out[0].vx, -1.5, 1e-4);
  ASSERT_STREQ(out[1].cls, "unknown");
  ASSERT(!out[1].from_camera);
  /* Alone, the camera box gets a flat-road range near the truth. */
  n = fus_fuse(&p, &cam, 1, NULL, 0, out, 4);
  ASSERT_EQ(n, 1);
  ASSERT_STREQ(out[0].id, "c-det-0");
  ASSERT_NEAR(out[0].x, 20, 1.0);
  ASSERT_NEAR(out[0].y, 1.0, 0.3);
}

TEST(components_planner_follows_brakes_and_cruises) {
  pln_params p;
  pln_params_default(&p);
  uint8_t can[16] = {0x00, 0x01, 0, 0, 8};
  uint16_t speed = 2500; /* 25 m/s */
  can[5] = (uint8_t)speed;
  can[6] = (uint8_t)(speed >> 8);
  pln_ego ego;
  ASSERT_EQ(pln_decode_can(can, sizeof can, &ego), 0);
  ASSERT_NEAR(ego.speed, 25.0, 1e-3);
  pln_out out;
  pln_plan(&p, &ego, NULL, 0, &out);
  ASSERT_STREQ(pln_maneuver_name(out.maneuver), "cruise");
  ASSERT(out.accel > 0 && out.accel < p.a_max);
  ASSERT(out.points[PLN_POINTS - 1].speed > ego.speed);
  pln_obj lead[2] = {{60, -3.5f, 0, 0}, {20, 0.3f, -10, 0}}; /* other lane; closing fast */
  pln_plan(&p, &ego, lead, 2, &out);
  ASSERT_EQ(out.lead, 1);
  ASSERT_STREQ(pln_maneuver_name(out.maneuver), "brake");
  ASSERT(out.accel < -2.0f);
  ASSERT_NEAR(out.target_speed, 15.0, 1e-3);
  /* Distance along the trajectory never decreases; speed never negative. */
  for (int k = 1; k < PLN_POINTS; k++) {
    ASSERT(out.points[k].x >= out.points[k - 1].x);
    ASSERT(out.points[k].speed >= 0);
    ASSERT_EQ(out.points[k].dt, (int64_t)k * 500000000);
  }
  uint8_t other[16] = {0x01, 0x02};
  ASSERT_EQ(pln_decode_can(other, sizeof other, &ego), -1);
}
