/*
** test_store_view.c -- filtered and renamed views of a store, as
** `--sensors`, `--exclude` and `--remap` give them.
*/
#include "rsim/store.h"
#include "test.h"

static const char *make(void) {
  const char *path = test_tmpfile("v.db");
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_create(path, false, &st, &eb));
  const char *ids[] = {"cam_left", "cam_right", "radar"};
  for (int i = 0; i < 3; i++) {
    rsim_sensor_info info = {.id = (char *)ids[i], .kind = i < 2 ? RSIM_SENSOR_CAMERA : RSIM_SENSOR_RADAR};
    ASSERT_OK(rsim_store_add_sensor(st, &info));
  }
  for (int t = 0; t < 10; t++)
    for (int i = 0; i < 3; i++) {
      uint8_t b = (uint8_t)(10 * i + t);
      rsim_reading r = {.sensor_id = (char *)ids[i], .t = 100 + t + (i == 2 ? 50 : 0), .kind = i < 2 ? RSIM_SENSOR_CAMERA : RSIM_SENSOR_RADAR,
                        .payload = &b, .payload_len = 1};
      ASSERT_OK(rsim_store_put(st, &r));
    }
  rsim_store_close(st);
  return path;
}

TEST(store_view_includes_excludes_and_remaps) {
  rsim_errbuf eb = {0};
  rsim_store *base, *v;
  ASSERT_OK(rsim_store_open(make(), &base, &eb));
  const char *inc[] = {"cam_*"}, *exc[] = {"*right"}, *rm[] = {"cam_left=camera"};
  rsim_store_filter f = {inc, 1, exc, 1, rm, 1};
  ASSERT_OK(rsim_store_view(base, &f, &v, &eb));
  const rsim_sensor_info *s;
  size_t n;
  ASSERT_OK(rsim_store_sensors(v, &s, &n));
  ASSERT_EQ(n, 1);
  ASSERT_STREQ(s[0].id, "camera");
  ASSERT(rsim_store_sensor(v, "cam_left") == NULL);
  rsim_time t0, t1;
  ASSERT_OK(rsim_store_time_range(v, &t0, &t1));
  ASSERT_EQ(t0, 100);
  ASSERT_EQ(t1, 109); /* the radar's later readings are filtered out */
  rsim_cursor *c;
  const rsim_reading *r;
  ASSERT_OK(rsim_store_cursor_open(v, 0, 1000, NULL, 0, &c));
  int count = 0;
  while (rsim_cursor_next(c, &r) == RSIM_OK) {
    ASSERT_STREQ(r->sensor_id, "camera");
    ASSERT_EQ(r->payload[0], count);
    count++;
  }
  ASSERT_EQ(count, 10);
  rsim_cursor_close(c);
  rsim_reading one = {0};
  ASSERT_OK(rsim_store_reading_at(v, "camera", 104, &one));
  ASSERT_STREQ(one.sensor_id, "camera");
  ASSERT_EQ(one.payload[0], 4);
  rsim_reading_clear(&one);
  int64_t k;
  ASSERT_OK(rsim_store_count(v, NULL, &k));
  ASSERT_EQ(k, 10);
  rsim_store_close(v);
  rsim_store_close(base);
}

TEST(store_view_rejects_bad_filters) {
  rsim_errbuf eb = {0};
  rsim_store *base, *v = NULL;
  ASSERT_OK(rsim_store_open(make(), &base, &eb));
  const char *none[] = {"lidar*"};
  rsim_store_filter f1 = {none, 1, NULL, 0, NULL, 0};
  ASSERT_EQ(rsim_store_view(base, &f1, &v, &eb), RSIM_ENOTFOUND);
  ASSERT_CONTAINS(eb.msg, "leave no sensor");
  const char *clash[] = {"cam_left=x", "cam_right=x"};
  rsim_store_filter f2 = {NULL, 0, NULL, 0, clash, 2};
  rsim_errbuf_clear(&eb);
  ASSERT_EQ(rsim_store_view(base, &f2, &v, &eb), RSIM_EINVAL);
  ASSERT_CONTAINS(eb.msg, "two sensors would be called 'x'");
  const char *reorder[] = {"cam_left=zz"};
  rsim_store_filter f3 = {NULL, 0, NULL, 0, reorder, 1};
  rsim_errbuf_clear(&eb);
  ASSERT_EQ(rsim_store_view(base, &f3, &v, &eb), RSIM_ENOTSUP);
  ASSERT_CONTAINS(eb.msg, "change their order");
  const char *malformed[] = {"nothing"};
  rsim_store_filter f4 = {NULL, 0, NULL, 0, malformed, 1};
  rsim_errbuf_clear(&eb);
  ASSERT_EQ(rsim_store_view(base, &f4, &v, &eb), RSIM_EINVAL);
  ASSERT(v == NULL);
  rsim_store_close(base);
}
