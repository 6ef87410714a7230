/*
** test_store_shared.c -- rsim_store_shared: cursors of the same read share
** it (each sees every reading, in order, the base is read once); a cursor
** that comes after readings were dropped, or asks for another range, reads
** on its own; lent readings stay valid until their cursor's next call; a
** cursor that lags too far leaves the shared read and goes on on its own.
*/
#include "rsim/store.h"
#include "test.h"

static const char *make(void) {
  const char *path = test_tmpfile("s.db");
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_create(path, false, &st, &eb));
  const char *ids[] = {"cam", "radar"};
  for (int i = 0; i < 2; i++) {
    rsim_sensor_info info = {.id = (char *)ids[i], .kind = i ? RSIM_SENSOR_RADAR : RSIM_SENSOR_CAMERA};
    ASSERT_OK(rsim_store_add_sensor(st, &info));
  }
  for (int t = 0; t < 50; t++)
    for (int i = 0; i < 2; i++) {
      uint8_t b = (uint8_t)(2 * t + i);
      rsim_reading r = {.sensor_id = (char *)ids[i], .t = 1000 + 10 * t, .kind = i ? RSIM_SENSOR_RADAR : RSIM_SENSOR_CAMERA,
                        .payload = &b, .payload_len = 1};
      ASSERT_OK(rsim_store_put(st, &r));
    }
  rsim_store_close(st);
  return path;
}

TEST(store_shared_cursors_of_one_read_read_the_base_once) {
  rsim_errbuf eb = {0};
  rsim_store *base, *sh;
  ASSERT_OK(rsim_store_open(make(), &base, &eb));
  ASSERT_OK(rsim_store_shared(base, 0, &sh));
  const char *ids[] = {"cam", "radar"};
  rsim_cursor *a, *b;
  ASSERT_OK(rsim_store_cursor_open(sh, 0, 100000, ids, 2, &a));
  ASSERT_OK(rsim_store_cursor_open(sh, 0, 100000, ids, 2, &b));
  /* b lags a by a few readings; a reading lent to b stays valid while a
  ** goes on, until b's next call. */
  const rsim_reading *ra, *rb;
  int na = 0, nb = 0;
  for (int k = 0; k < 3; k++, na++) ASSERT_OK(rsim_cursor_next(a, &ra));
  while (nb < 100) {
    ASSERT_OK(rsim_cursor_next(b, &rb));
    ASSERT_EQ(rb->payload[0], nb);
    if (na < 100) {
      ASSERT_OK(rsim_cursor_next(a, &ra));
      ASSERT_EQ(ra->payload[0], na);
      na++;
    }
    ASSERT_EQ(rb->payload[0], nb); /* still b's */
    ASSERT_EQ(rb->t, 1000 + 10 * (nb / 2));
    nb++;
    rsim_time t;
    if (nb < 100) {
      ASSERT_OK(rsim_cursor_peek_time(b, &t));
      ASSERT_EQ(t, 1000 + 10 * (nb / 2));
    }
  }
  ASSERT_EQ(rsim_cursor_next(a, &ra), RSIM_EEOF);
  ASSERT_EQ(rsim_cursor_next(b, &rb), RSIM_EEOF);
  ASSERT_EQ(rsim_store_shared_reads(sh), 100); /* not 200 */
  rsim_cursor_close(a);
  rsim_cursor_close(b);
  /* Once readings were dropped, a newcomer reads on its own, from the start. */
  ASSERT_OK(rsim_store_cursor_open(sh, 0, 100000, ids, 2, &a));
  for (int k = 0; k < 10; k++) ASSERT_OK(rsim_cursor_next(a, &ra));
  ASSERT_OK(rsim_store_cursor_open(sh, 0, 100000, ids, 2, &b));
  ASSERT_OK(rsim_cursor_next(b, &rb));
  ASSERT_EQ(rb->payload[0], 0);
  ASSERT_EQ(rsim_store_shared_reads(sh), 111);
  /* Another range is another read. */
  rsim_cursor *c;
  ASSERT_OK(rsim_store_cursor_open(sh, 1200, 100000, ids, 1, &c));
  ASSERT_OK(rsim_cursor_next(c, &ra));
  ASSERT_EQ(ra->t, 1200);
  ASSERT_STREQ(ra->sensor_id, "cam");
  rsim_cursor_close(c);
  rsim_cursor_close(b);
  rsim_cursor_close(a);
  /* The rest is the base's. */
  const rsim_sensor_info *s;
  size_t n;
  ASSERT_OK(rsim_store_sensors(sh, &s, &n));
  ASSERT_EQ(n, 2);
  rsim_time t0, t1;
  ASSERT_OK(rsim_store_time_range(sh, &t0, &t1));
  ASSERT_EQ(t0, 1000);
  ASSERT_EQ(t1, 1490);
  rsim_store_close(sh);
  rsim_store_close(base);
}

TEST(store_shared_cursor_that_lags_too_far_leaves_and_reads_on_its_own) {
  rsim_errbuf eb = {0};
  rsim_store *base, *sh;
  ASSERT_OK(rsim_store_open(make(), &base, &eb));
  ASSERT_OK(rsim_store_shared(base, 10, &sh)); /* at most 10 payload bytes kept */
  const char *ids[] = {"cam", "radar"};
  rsim_cursor *a, *b;
  const rsim_reading *ra, *rb;
  ASSERT_OK(rsim_store_cursor_open(sh, 0, 100000, ids, 2, &a));
  ASSERT_OK(rsim_store_cursor_open(sh, 0, 100000, ids, 2, &b));
  ASSERT_OK(rsim_cursor_next(b, &rb));
  ASSERT_EQ(rb->payload[0], 0);
  /* b stops; a reads the whole drive, which is not kept for b. */
  for (int k = 0; k < 100; k++) {
    ASSERT_OK(rsim_cursor_next(a, &ra));
    ASSERT_EQ(ra->payload[0], k);
  }
  ASSERT_EQ(rsim_cursor_next(a, &ra), RSIM_EEOF);
  ASSERT_EQ(rsim_store_shared_reads(sh), 100);
  /* b goes on where it was, on a read of its own (its first reading again
  ** to get there, then the rest). */
  rsim_time t;
  ASSERT_OK(rsim_cursor_peek_time(b, &t));
  ASSERT_EQ(t, 1000);
  for (int k = 1; k < 100; k++) {
    ASSERT_OK(rsim_cursor_next(b, &rb));
    ASSERT_EQ(rb->payload[0], k);
  }
  ASSERT_EQ(rsim_cursor_next(b, &rb), RSIM_EEOF);
  ASSERT_EQ(rsim_store_shared_reads(sh), 200);
  rsim_cursor_close(a);
  rsim_cursor_close(b);
  rsim_store_close(sh);
  rsim_store_close(base);
}
