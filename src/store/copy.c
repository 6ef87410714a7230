/*
** copy.c -- one store into another through the public store interface:
** what `replaysim import` and `replaysim export` do, whatever the backends.
*/
#include <stdlib.h>

#include "store/store_int.h"

static int fail(rsim_errbuf *eb, rsim_store *st, int rc) { return rsim_errbuf_set(eb, rc, "%s", st->errmsg); }

int rsim_store_copy(rsim_store *src, rsim_store *dst, void (*progress)(void *, double), void *ud,
                    rsim_errbuf *eb) {
  const rsim_sensor_info *s;
  size_t n;
  rsim_time t0, t1;
  int rc = rsim_store_sensors(src, &s, &n);
  if (!rc) rc = rsim_store_time_range(src, &t0, &t1);
  if (rc) return fail(eb, src, rc);
  /* Copy the list first: adding to dst may not touch src's array, but be safe. */
  for (size_t i = 0; i < n; i++)
    if ((rc = rsim_store_add_sensor(dst, &s[i]))) return fail(eb, dst, rc);
  static const char *const keys[] = {"generator", "seed", "duration_ns"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    char *v;
    if (rsim_store_get_meta(src, keys[i], &v) == RSIM_OK) {
      rc = rsim_store_set_meta(dst, keys[i], v);
      free(v);
      if (rc) return fail(eb, dst, rc);
    }
  }
  rsim_cursor *c;
  if ((rc = rsim_store_cursor_open(src, t0, t1, NULL, 0, &c))) return fail(eb, src, rc);
  if ((rc = rsim_store_begin(dst))) {
    rsim_cursor_close(c);
    return fail(eb, dst, rc);
  }
  const rsim_reading *r;
  uint64_t count = 0;
  while ((rc = rsim_cursor_next(c, &r)) == RSIM_OK) {
    if ((rc = rsim_store_put(dst, r))) break;
    if (progress && ++count % 1000 == 0 && t1 > t0) progress(ud, (double)(r->t - t0) / (double)(t1 - t0));
  }
  rsim_cursor_close(c);
  if (rc != RSIM_EEOF) return rsim_errbuf_set(eb, rc, "%s", rc == RSIM_OK ? "" : (dst->errmsg[0] ? dst->errmsg : src->errmsg));
  rsim_truth *truth;
  size_t nt;
  if ((rc = rsim_store_truth(src, t0, t1, &truth, &nt))) return fail(eb, src, rc);
  for (size_t i = 0; i < nt && !rc; i++) rc = rsim_store_put_truth(dst, &truth[i]);
  free(truth);
  if (rc) return fail(eb, dst, rc);
  if ((rc = rsim_store_commit(dst))) return fail(eb, dst, rc);
  if (progress) progress(ud, 1.0);
  return RSIM_OK;
}
