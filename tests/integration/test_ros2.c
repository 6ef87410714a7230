/*
** test_ros2.c -- a rosbag2-style MCAP (written by PyPI's mcap-ros2-support,
** an independent CDR encoder) replays in place: each sensor_msgs topic is a
** sensor of the right kind, and its payload has the layout and the values
** of docs/sensors.md.
*/
#include "rsim/store.h"
#include "test.h"

static const char *make_bag(void) {
  char jpath[1024];
  snprintf(jpath, sizeof jpath, "%s", test_write_jpeg("red.jpg", 16, 8, 200, 30, 30));
  static char bag[1024];
  snprintf(bag, sizeof bag, "%s", test_tmpfile("ros2.mcap"));
  char cmd[3000], *out = NULL;
  snprintf(cmd, sizeof cmd, "python3 %s %s %s", test_source_path("tests/mcap/make_ros2.py"), bag, jpath);
  if (test_run(cmd, &out)) test_fail(__FILE__, __LINE__, "mcap-ros2-support: %s", out);
  free(out);
  return bag;
}

static float f32_at(const uint8_t *p) {
  float f;
  memcpy(&f, p, 4);
  return f;
}

TEST(ros2_topics_replay_as_sensors) {
  const char *bag = make_bag();
  rsim_errbuf eb = {0};
  rsim_store *st;
  if (rsim_store_open(bag, &st, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  const rsim_sensor_info *s;
  size_t n;
  ASSERT_OK(rsim_store_sensors(st, &s, &n));
  ASSERT_EQ(n, 9);
  ASSERT_EQ(rsim_store_sensor(st, "sonar_front")->kind, RSIM_SENSOR_ULTRASONIC);
  ASSERT_EQ(rsim_store_sensor(st, "radar_scan")->kind, RSIM_SENSOR_RADAR);
  ASSERT_EQ(rsim_store_sensor(st, "can_rx")->kind, RSIM_SENSOR_CAN);
  ASSERT_EQ(rsim_store_sensor(st, "camera_rgb")->kind, RSIM_SENSOR_CAMERA);
  ASSERT_EQ(rsim_store_sensor(st, "lidar_points")->kind, RSIM_SENSOR_LIDAR);
  ASSERT_EQ(rsim_store_sensor(st, "imu")->kind, RSIM_SENSOR_IMU);
  ASSERT_EQ(rsim_store_sensor(st, "gps_fix")->kind, RSIM_SENSOR_GPS);
  ASSERT_NEAR(rsim_store_sensor(st, "imu")->rate_hz, 10 * 1e9 / 900000000.0, 0.01);
  rsim_time t0, t1;
  ASSERT_OK(rsim_store_time_range(st, &t0, &t1));
  rsim_reading r = {0}, b = {0};
  /* rgb8 as is; bgr8 swapped and unpadded: the same bytes. */
  ASSERT_OK(rsim_store_reading_at(st, "camera_rgb", t0 + 300000000, &r));
  ASSERT_OK(rsim_store_reading_at(st, "camera_bgr", t0 + 300000000, &b));
  ASSERT_EQ(r.payload_len, 18);
  ASSERT_EQ(b.payload_len, 18);
  ASSERT(memcmp(r.payload, b.payload, 18) == 0);
  ASSERT_EQ(r.payload[3 * 2 + 0], 20 + 3); /* pixel (2,0) red = 10*2 + i, i = 3 */
  ASSERT_EQ(r.payload[3 * 4 + 1], 20);     /* pixel (1,1) green */
  ASSERT_STREQ(r.meta[0].value, "rgb8");
  ASSERT_STREQ(r.meta[1].value, "3");
  rsim_reading_clear(&r);
  rsim_reading_clear(&b);
  ASSERT_OK(rsim_store_reading_at(st, "camera_jpeg", t1, &r));
  ASSERT_EQ(r.payload_len, 16 * 8 * 3);
  ASSERT_NEAR(r.payload[0], 200, 6);
  ASSERT_NEAR(r.payload[1], 30, 6);
  rsim_reading_clear(&r);
  ASSERT_OK(rsim_store_reading_at(st, "lidar_points", t0 + 500000000, &r));
  ASSERT_EQ(r.payload_len, 4 + 16 * 4);
  ASSERT_NEAR(f32_at(r.payload + 4 + 16 * 2), 2.0, 0);     /* x of point 2 */
  ASSERT_NEAR(f32_at(r.payload + 4 + 16 * 2 + 4), 5.0, 0); /* y = i = 5 */
  ASSERT_NEAR(f32_at(r.payload + 4 + 16 * 2 + 12), 0.5, 0);
  rsim_reading_clear(&r);
  ASSERT_OK(rsim_store_reading_at(st, "imu", t0 + 200000000, &r));
  ASSERT_EQ(r.payload_len, 24);
  ASSERT_NEAR(f32_at(r.payload + 8), 9.81, 1e-5); /* az */
  ASSERT_NEAR(f32_at(r.payload + 20), 2.3, 1e-5); /* gz = 0.3 + i */
  rsim_reading_clear(&r);
  ASSERT_OK(rsim_store_reading_at(st, "gps_fix", t1, &r));
  double lat;
  memcpy(&lat, r.payload, 8);
  ASSERT_NEAR(lat, 48.1 + 9e-5, 1e-9);
  ASSERT_NEAR(f32_at(r.payload + 24), 2.0, 1e-6); /* sqrt of covariance 4 */
  rsim_reading_clear(&r);
  ASSERT_OK(rsim_store_reading_at(st, "radar_scan", t0 + 400000000, &r));
  ASSERT_EQ(r.payload_len, 4 + 20 * 2);
  ASSERT_NEAR(f32_at(r.payload + 4), 14.0, 0);        /* range = 10 + i */
  ASSERT_NEAR(f32_at(r.payload + 4 + 8), -3.0, 0);    /* doppler as range rate */
  ASSERT_NEAR(f32_at(r.payload + 4 + 12), 12.0, 0);   /* amplitude as rcs */
  ASSERT_NEAR(f32_at(r.payload + 4 + 16), 0.02, 1e-7); /* elevation last */
  ASSERT_NEAR(f32_at(r.payload + 24), 50.0, 0);
  rsim_reading_clear(&r);
  ASSERT_OK(rsim_store_reading_at(st, "can_rx", t0 + 700000000, &r));
  ASSERT_EQ(r.payload_len, 16);
  uint32_t id;
  memcpy(&id, r.payload, 4);
  ASSERT_EQ(id, 0x100);
  ASSERT_EQ(r.payload[4], 3);
  ASSERT_EQ(r.payload[5 + 2], 7); /* data[2] = i */
  ASSERT_EQ(r.payload[5 + 3], 0); /* beyond dlc: zero */
  rsim_reading_clear(&r);
  ASSERT_OK(rsim_store_reading_at(st, "sonar_front", t1, &r));
  ASSERT_EQ(r.payload_len, 8);
  ASSERT_NEAR(f32_at(r.payload), 3.25, 0); /* 1 + 0.25 i */
  ASSERT_NEAR(f32_at(r.payload + 4), 5.0, 0);
  rsim_reading_clear(&r);
  /* All 90 messages stream in time order, ties by sensor id. */
  rsim_cursor *c;
  const rsim_reading *x;
  ASSERT_OK(rsim_store_cursor_open(st, t0, t1, NULL, 0, &c));
  int count = 0;
  rsim_time last = 0;
  char last_id[64] = "";
  while (rsim_cursor_next(c, &x) == RSIM_OK) {
    ASSERT(x->t >= last);
    if (x->t == last) ASSERT(strcmp(x->sensor_id, last_id) > 0);
    last = x->t;
    snprintf(last_id, sizeof last_id, "%s", x->sensor_id);
    count++;
  }
  ASSERT_EQ(count, 90);
  rsim_cursor_close(c);
  rsim_store_close(st);
}
