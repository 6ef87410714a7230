/*
** test_sample.c -- the bridge's arithmetic (src/engine/sample.c) against
** values worked out by hand: interpolation of IMU, GPS (course the short
** way round) and CAN signals (rounded, clamped), refusals for kinds that
** are not numeric, and every transform.
*/
#include <math.h>

#include "engine/engine_int.h"
#include "test.h"

static void put_f32(uint8_t *p, float f) { memcpy(p, &f, 4); }
static float get_f32(const uint8_t *p) {
  float f;
  memcpy(&f, p, 4);
  return f;
}

static rsim_reading reading(rsim_sensor_kind k, rsim_time t, uint8_t *payload, size_t n) {
  rsim_reading r = {.sensor_id = (char *)"s", .t = t, .kind = k, .payload = payload, .payload_len = n};
  return r;
}

TEST(sample_imu_is_interpolated_field_by_field) {
  uint8_t a[24], b[24];
  for (int i = 0; i < 6; i++) {
    put_f32(a + 4 * i, (float)i);
    put_f32(b + 4 * i, (float)(10 + 3 * i));
  }
  rsim_reading p = reading(RSIM_SENSOR_IMU, 1000, a, 24), n = reading(RSIM_SENSOR_IMU, 2000, b, 24), o = {0};
  ASSERT_OK(rsim__interpolate(&p, &n, 1250, NULL, 0, &o));
  ASSERT_EQ(o.t, 1250);
  /* field i: i + 0.25 * ((10 + 3i) - i) */
  for (int i = 0; i < 6; i++) ASSERT(fabs(get_f32(o.payload + 4 * i) - (i + 0.25 * (10 + 2 * i))) < 1e-6);
  rsim_reading_clear(&o);
}

TEST(sample_gps_course_goes_the_short_way_round) {
  uint8_t a[40] = {0}, b[40] = {0};
  double lat0 = 48.0, lat1 = 48.001;
  memcpy(a, &lat0, 8);
  memcpy(b, &lat1, 8);
  put_f32(a + 32, 6.2f);  /* just west of north */
  put_f32(b + 32, 0.2f);  /* just east of north */
  rsim_reading p = reading(RSIM_SENSOR_GPS, 0, a, 40), n = reading(RSIM_SENSOR_GPS, 100, b, 40), o = {0};
  ASSERT_OK(rsim__interpolate(&p, &n, 50, NULL, 0, &o));
  double lat;
  memcpy(&lat, o.payload, 8);
  ASSERT(fabs(lat - 48.0005) < 1e-12);
  /* Half way from 6.2 to 0.2 through north: (6.2 + 0.2 + 2pi)/2 - 2pi. */
  double want = 6.2 + 0.5 * (0.2 - 6.2 + 6.283185307179586);
  if (want >= 6.283185307179586) want -= 6.283185307179586;
  ASSERT(fabs(get_f32(o.payload + 32) - want) < 1e-5);
  rsim_reading_clear(&o);
}

TEST(sample_can_signals_round_and_stay_in_range) {
  /* id 0x100, dlc 8; speed u16 at 0, yaw s16 at 2 */
  uint8_t a[16] = {0x00, 0x01, 0, 0, 8}, b[16] = {0x00, 0x01, 0, 0, 8};
  a[5] = 100, a[6] = 0;                 /* speed 100 */
  b[5] = 103, b[6] = 0;                 /* speed 103 */
  a[7] = 0xF6, a[8] = 0xFF;             /* yaw -10 */
  b[7] = 0x0A, b[8] = 0x00;             /* yaw 10 */
  rsim__can_signal sig[2] = {{0, 2, false}, {2, 2, true}};
  rsim_reading p = reading(RSIM_SENSOR_CAN, 0, a, 16), n = reading(RSIM_SENSOR_CAN, 10, b, 16), o = {0};
  ASSERT_OK(rsim__interpolate(&p, &n, 5, sig, 2, &o));
  ASSERT_EQ(o.payload[5] | o.payload[6] << 8, 102);            /* 101.5 rounds away from zero */
  ASSERT_EQ((int16_t)(o.payload[7] | o.payload[8] << 8), 0);   /* -10 + 0.5 * 20 */
  rsim_reading_clear(&o);
  ASSERT_OK(rsim__interpolate(&p, &n, 3, sig, 2, &o));
  ASSERT_EQ(o.payload[5] | o.payload[6] << 8, 101);            /* 100.9 */
  ASSERT_EQ((int16_t)(o.payload[7] | o.payload[8] << 8), -4);  /* -10 + 6 */
  rsim_reading_clear(&o);
  /* Another id is another signal: no interpolation. */
  b[0] = 0x01;
  ASSERT_EQ(rsim__interpolate(&p, &n, 5, sig, 2, &o), RSIM_ENOTSUP);
  /* Without signals a CAN frame is opaque. */
  b[0] = 0x00;
  ASSERT_EQ(rsim__interpolate(&p, &n, 5, NULL, 0, &o), RSIM_ENOTSUP);
}

TEST(sample_frames_and_bad_sizes_are_not_interpolated) {
  uint8_t a[24] = {0}, b[24] = {0};
  rsim_reading p = reading(RSIM_SENSOR_CAMERA, 0, a, 24), n = reading(RSIM_SENSOR_CAMERA, 10, b, 24), o = {0};
  ASSERT_EQ(rsim__interpolate(&p, &n, 5, NULL, 0, &o), RSIM_ENOTSUP);
  p.kind = n.kind = RSIM_SENSOR_IMU;
  p.payload_len = n.payload_len = 20;
  ASSERT_EQ(rsim__interpolate(&p, &n, 5, NULL, 0, &o), RSIM_ENOTSUP);
  p.payload_len = n.payload_len = 24;
  ASSERT_EQ(rsim__interpolate(&p, &n, 10, NULL, 0, &o), RSIM_ENOTSUP); /* not strictly between */
}

static rsim_reading camera(uint8_t *px, int w, int h, const char *enc) {
  static char wb[8], hb[8];
  static rsim_kv meta[3];
  snprintf(wb, sizeof wb, "%d", w);
  snprintf(hb, sizeof hb, "%d", h);
  meta[0] = (rsim_kv){(char *)"width", wb};
  meta[1] = (rsim_kv){(char *)"height", hb};
  meta[2] = (rsim_kv){(char *)"encoding", (char *)enc};
  rsim_reading r = reading(RSIM_SENSOR_CAMERA, 5, px, (size_t)w * (size_t)h * (enc[0] == 'r' ? 3 : 1));
  r.meta = meta;
  r.n_meta = 3;
  return r;
}

static const char *meta_of(const rsim_reading *r, const char *k) {
  for (size_t i = 0; i < r->n_meta; i++)
    if (!strcmp(r->meta[i].key, k)) return r->meta[i].value;
  return NULL;
}

TEST(sample_grayscale_then_downscale) {
  /* 2x2 rgb: red, green, blue, white */
  uint8_t px[12] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
  rsim_reading in = camera(px, 2, 2, "rgb8"), out = {0};
  rsim__xform ops[2];
  char msg[200];
  ASSERT_OK(rsim__xform_parse("grayscale", &ops[0], msg, sizeof msg));
  ASSERT_OK(rsim__xform_parse("downscale 2", &ops[1], msg, sizeof msg));
  ASSERT_OK(rsim__transform(ops, 1, &in, &out, msg, sizeof msg));
  ASSERT_EQ(out.payload_len, 4);
  ASSERT_EQ(out.payload[0], 76);  /* (299*255 + 500) / 1000 */
  ASSERT_EQ(out.payload[1], 150); /* 587*255 */
  ASSERT_EQ(out.payload[2], 29);  /* 114*255 */
  ASSERT_EQ(out.payload[3], 255);
  ASSERT_STREQ(meta_of(&out, "encoding"), "mono8");
  rsim_reading_clear(&out);
  ASSERT_OK(rsim__transform(ops, 2, &in, &out, msg, sizeof msg));
  ASSERT_EQ(out.payload_len, 1);
  ASSERT_EQ(out.payload[0], (76 + 150 + 29 + 255 + 2) / 4);
  ASSERT_STREQ(meta_of(&out, "width"), "1");
  ASSERT_STREQ(meta_of(&out, "height"), "1");
  rsim_reading_clear(&out);
  /* The input is never touched. */
  ASSERT_EQ(px[0], 255);
  ASSERT_EQ(in.payload_len, 12);
}

TEST(sample_decimate_and_range_crop_points) {
  uint8_t cloud[4 + 4 * 16] = {4};
  for (int i = 0; i < 4; i++) put_f32(cloud + 4 + 16 * i, (float)(5 * (i + 1))); /* x = 5, 10, 15, 20 */
  rsim_reading in = reading(RSIM_SENSOR_LIDAR, 0, cloud, sizeof cloud), out = {0};
  rsim__xform op;
  char msg[200];
  ASSERT_OK(rsim__xform_parse("decimate 2", &op, msg, sizeof msg));
  ASSERT_OK(rsim__transform(&op, 1, &in, &out, msg, sizeof msg));
  ASSERT_EQ(out.payload[0], 2);
  ASSERT_EQ(out.payload_len, 4 + 2 * 16);
  ASSERT(get_f32(out.payload + 4) == 5.0f && get_f32(out.payload + 20) == 15.0f);
  rsim_reading_clear(&out);
  ASSERT_OK(rsim__xform_parse("range_crop 8 16", &op, msg, sizeof msg));
  ASSERT_OK(rsim__transform(&op, 1, &in, &out, msg, sizeof msg));
  ASSERT_EQ(out.payload[0], 2);
  ASSERT(get_f32(out.payload + 4) == 10.0f && get_f32(out.payload + 20) == 15.0f);
  rsim_reading_clear(&out);
  /* A count that disagrees with the length is refused, not read past. */
  cloud[0] = 9;
  ASSERT_EQ(rsim__transform(&op, 1, &in, &out, msg, sizeof msg), RSIM_EINVAL);
  ASSERT_CONTAINS(msg, "lidar");
}

TEST(sample_scale_converts_units_and_parse_rejects_nonsense) {
  uint8_t us[8];
  put_f32(us, 1.25f);
  put_f32(us + 4, 5.0f);
  rsim_reading in = reading(RSIM_SENSOR_ULTRASONIC, 0, us, 8), out = {0};
  rsim__xform op;
  char msg[200];
  ASSERT_OK(rsim__xform_parse("scale distance 100", &op, msg, sizeof msg));
  ASSERT_OK(rsim__transform(&op, 1, &in, &out, msg, sizeof msg));
  ASSERT(get_f32(out.payload) == 125.0f);
  ASSERT(get_f32(out.payload + 4) == 5.0f);
  rsim_reading_clear(&out);
  ASSERT_OK(rsim__xform_parse("scale az 2", &op, msg, sizeof msg));
  ASSERT_EQ(rsim__transform(&op, 1, &in, &out, msg, sizeof msg), RSIM_EINVAL); /* not an ultrasonic field */
  ASSERT_CONTAINS(msg, "az");
  ASSERT_EQ(rsim__xform_parse("downscale 0", &op, msg, sizeof msg), RSIM_EINVAL);
  ASSERT_EQ(rsim__xform_parse("range_crop 5 1", &op, msg, sizeof msg), RSIM_EINVAL);
  ASSERT_EQ(rsim__xform_parse("blur 3", &op, msg, sizeof msg), RSIM_EINVAL);
  ASSERT_CONTAINS(msg, "unknown transform 'blur'");
  ASSERT_EQ(rsim__xform_parse("grayscale please", &op, msg, sizeof msg), RSIM_EINVAL);
}
