/*
** store.c -- the public store API: picks a backend by the file's content
** (or a PostgreSQL URI) and dispatches through its vtable; keeps the sensor
** cache and messages.
*/
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static const char *const kKindNames[RSIM_SENSOR_KIND_COUNT] = {
    "camera", "radar", "lidar", "ultrasonic", "imu", "gps", "can"};

const char *rsim_sensor_kind_name(rsim_sensor_kind k) {
  return (unsigned)k < RSIM_SENSOR_KIND_COUNT ? kKindNames[k] : NULL;
}

int rsim_sensor_kind_parse(const char *name, rsim_sensor_kind *out) {
  for (int i = 0; i < RSIM_SENSOR_KIND_COUNT; i++)
    if (!strcmp(kKindNames[i], name)) {
      *out = (rsim_sensor_kind)i;
      return RSIM_OK;
    }
  return RSIM_EINVAL;
}

static void free_kvs(rsim_kv *kv, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(kv[i].key);
    free(kv[i].value);
  }
  free(kv);
}

const char *rsim_kv_get(const rsim_kv *kv, size_t n, const char *key) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(kv[i].key, key)) return kv[i].value;
  return NULL;
}

bool rsim_reading_frame(const rsim_reading *r, int *w, int *h, int *bpp) {
  const char *ws = rsim_kv_get(r->meta, r->n_meta, "width"), *hs = rsim_kv_get(r->meta, r->n_meta, "height");
  const char *enc = rsim_kv_get(r->meta, r->n_meta, "encoding");
  /* Strict: "640x" or "1e9" is no width (atoi made them 640 and 1). */
  int64_t wv = 0, hv = 0;
  if (!ws || rsim_parse_int(ws, 1, 1 << 16, &wv, NULL)) wv = 0;
  if (!hs || rsim_parse_int(hs, 1, 1 << 16, &hv, NULL)) hv = 0;
  *w = (int)wv;
  *h = (int)hv;
  *bpp = enc && !strcmp(enc, "mono8") ? 1 : enc && !strcmp(enc, "rgb8") ? 3 : 0;
  return *w > 0 && *h > 0 && *bpp && (size_t)*w * (size_t)*h * (size_t)*bpp == r->payload_len;
}

void rsim_reading_clear(rsim_reading *r) {
  if (!r) return;
  free(r->sensor_id);
  free(r->payload);
  free_kvs(r->meta, r->n_meta);
  memset(r, 0, sizeof *r);
}

void rsim_reading_copy(rsim_reading *dst, const rsim_reading *src) {
  *dst = *src;
  dst->sensor_id = rsim_xstrdup(src->sensor_id);
  dst->payload = rsim_xmalloc(src->payload_len);
  if (src->payload_len) memcpy(dst->payload, src->payload, src->payload_len);
  dst->meta = src->n_meta ? rsim_xcalloc(src->n_meta, sizeof *dst->meta) : NULL;
  for (size_t i = 0; i < src->n_meta; i++) {
    dst->meta[i].key = rsim_xstrdup(src->meta[i].key);
    dst->meta[i].value = rsim_xstrdup(src->meta[i].value);
  }
}

void rsim_sensor_info_clear(rsim_sensor_info *s) {
  free(s->id);
  free_kvs(s->meta, s->n_meta);
  memset(s, 0, sizeof *s);
}

int rsim__store_err(rsim_store *st, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->errmsg, sizeof st->errmsg, fmt, ap);
  va_end(ap);
  return code;
}

void rsim__store_warn(rsim_store *st, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *w = rsim_xmalloc(n > 0 ? (size_t)n + 1 : 1);
  w[0] = 0;
  if (n > 0) vsnprintf(w, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  st->warnings = rsim_xrealloc(st->warnings, (st->n_warnings + 1) * sizeof *st->warnings);
  st->warnings[st->n_warnings++] = w;
}

size_t rsim_store_n_warnings(const rsim_store *st) {
  return st->warn_base ? rsim_store_n_warnings(st->warn_base) : st->n_warnings;
}

const char *rsim_store_warning(const rsim_store *st, size_t i) {
  if (st->warn_base) return rsim_store_warning(st->warn_base, i);
  return i < st->n_warnings ? st->warnings[i] : NULL;
}

size_t rsim_store_n_gaps(const rsim_store *st) {
  return st->warn_base ? rsim_store_n_gaps(st->warn_base) : st->n_gaps;
}

static int cmp_sensor(const void *a, const void *b) {
  return strcmp(((const rsim_sensor_info *)a)->id, ((const rsim_sensor_info *)b)->id);
}

void rsim__store_sort_sensors(rsim_store *st) {
  if (st->n_sensors < 2) return; /* qsort wants a real pointer even for 0 items */
  qsort(st->sensors, st->n_sensors, sizeof *st->sensors, cmp_sensor);
}

enum { KIND_SQLITE, KIND_MCAP, KIND_PG };

/* Reads the first bytes to tell SQLite from MCAP from anything else. */
static int sniff(const char *path, int *kind, rsim_errbuf *eb) {
  FILE *f = fopen(path, "rb");
  if (!f) return rsim_errbuf_set(eb, RSIM_EIO, "%s: %s", path, strerror(errno));
  char head[16] = {0};
  size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  *kind = n >= 8 && !memcmp(head, "\x89MCAP0\r\n", 8) ? KIND_MCAP : KIND_SQLITE;
  if (*kind == KIND_MCAP || (n == 16 && !memcmp(head, "SQLite format 3", 16))) return RSIM_OK;
  return rsim_errbuf_set(eb, RSIM_ECORRUPT, "%s: not a replaysim store (neither SQLite nor MCAP)", path);
}

static rsim_store *store_new(const char *path) {
  rsim_store *st = rsim_xcalloc(1, sizeof *st);
  st->path = rsim_xstrdup(path);
  return st;
}

int rsim_store_open(const char *path, rsim_store **out, rsim_errbuf *eb) {
  return rsim_store_open_opts(path, NULL, out, eb);
}

bool rsim_store_is_uri(const char *path) {
  return !strncmp(path, "postgresql://", 13) || !strncmp(path, "postgres://", 11);
}

int rsim_store_open_opts(const char *path, const rsim_store_opts *o, rsim_store **out, rsim_errbuf *eb) {
  *out = NULL;
  int kind = KIND_PG;
  int rc = rsim_store_is_uri(path) ? RSIM_OK : sniff(path, &kind, eb);
  if (rc) return rc;
  rsim_store *st = store_new(path);
  if (o && o->n_topics && kind != KIND_MCAP) {
    rsim_store_close(st);
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s: a topic map applies to MCAP files only", path);
  }
  rc = kind == KIND_MCAP ? rsim__mcap_store_open(st, false, o, eb)
       : kind == KIND_PG ? rsim__pg_open(st, false, false, o, eb)
                         : rsim__sqlite_open(st, false, eb);
  if (!rc && (rc = rsim_store_sensors(st, &(const rsim_sensor_info *){0}, &(size_t){0})))
    rsim_errbuf_set(eb, rc, "%s", st->errmsg);
  if (rc) {
    rsim_store_close(st);
    return rc;
  }
  *out = st;
  return RSIM_OK;
}

int rsim_store_create(const char *path, bool overwrite, rsim_store **out, rsim_errbuf *eb) {
  return rsim_store_create_opts(path, overwrite, NULL, out, eb);
}

int rsim_store_create_opts(const char *path, bool overwrite, const rsim_store_opts *o, rsim_store **out,
                           rsim_errbuf *eb) {
  *out = NULL;
  if (rsim_store_is_uri(path)) { /* the drive's existence is checked inside its transaction */
    rsim_store *st = store_new(path);
    st->writable = true;
    int rc = rsim__pg_open(st, true, overwrite, o, eb);
    if (rc) rsim_store_close(st);
    *out = rc ? NULL : st;
    return rc;
  }
  FILE *f = fopen(path, "rb");
  if (f) {
    fclose(f);
    if (!overwrite) return rsim_errbuf_set(eb, RSIM_EIO, "%s: exists; pass --overwrite to replace it", path);
    if (remove(path) != 0) return rsim_errbuf_set(eb, RSIM_EIO, "%s: %s", path, strerror(errno));
  }
  rsim_store *st = store_new(path);
  st->writable = true;
  size_t n = strlen(path);
  bool mcap = n > 5 && !strcmp(path + n - 5, ".mcap");
  int rc = mcap ? rsim__mcap_store_open(st, true, o, eb) : rsim__sqlite_open(st, true, eb);
  if (rc) {
    rsim_store_close(st);
    return rc;
  }
  *out = st;
  return RSIM_OK;
}

int rsim_store_finish(rsim_store *st) {
  if (!st->writable || !st->be->finish) return RSIM_OK;
  if (!st->finished) {
    st->finished = true;
    st->finish_rc = st->be->finish(st);
  }
  return st->finish_rc;
}

void rsim_store_close(rsim_store *st) {
  if (!st) return;
  rsim_store_finish(st); /* its result is the caller's to ask for first */
  if (st->be) st->be->close(st);
  for (size_t i = 0; i < st->n_sensors; i++) rsim_sensor_info_clear(&st->sensors[i]);
  free(st->sensors);
  for (size_t i = 0; i < st->n_warnings; i++) free(st->warnings[i]);
  free(st->warnings);
  free(st->path);
  free(st);
}

const char *rsim_store_errmsg(const rsim_store *st) { return st->errmsg; }
const char *rsim_store_path(const rsim_store *st) { return st->path; }

int rsim_store_sensors(rsim_store *st, const rsim_sensor_info **out, size_t *out_n) {
  if (!st->sensors_loaded) {
    int rc = st->be->load_sensors(st);
    if (rc) return rc;
    st->sensors_loaded = true;
  }
  *out = st->sensors;
  *out_n = st->n_sensors;
  return RSIM_OK;
}

const rsim_sensor_info *rsim_store_sensor(rsim_store *st, const char *id) {
  const rsim_sensor_info *s;
  size_t n;
  if (rsim_store_sensors(st, &s, &n)) return NULL;
  rsim_sensor_info key = {.id = (char *)id};
  return bsearch(&key, s, n, sizeof *s, cmp_sensor);
}

const rsim_sensor_info *rsim_store_first_of_kind(rsim_store *st, rsim_sensor_kind kind) {
  const rsim_sensor_info *s;
  size_t n;
  if (rsim_store_sensors(st, &s, &n)) return NULL;
  for (size_t i = 0; i < n; i++)
    if (s[i].kind == kind) return &s[i];
  return NULL;
}

int rsim_store_time_range(rsim_store *st, rsim_time *first, rsim_time *last) {
  return st->be->time_range(st, first, last);
}

int rsim_store_count(rsim_store *st, const char *sensor_id, int64_t *n) {
  return st->be->count(st, sensor_id, n);
}

int rsim_store_cursor_open(rsim_store *st, rsim_time t0, rsim_time t1, const char *const *sensors,
                           size_t n_sensors, rsim_cursor **out) {
  *out = NULL;
  for (size_t i = 0; i < n_sensors; i++)
    if (!rsim_store_sensor(st, sensors[i]))
      return rsim__store_err(st, RSIM_ENOTFOUND, "%s: no sensor '%s'", st->path, sensors[i]);
  if (n_sensors) return st->be->cursor_open(st, t0, t1, sensors, n_sensors, out);
  const rsim_sensor_info *all;
  size_t n;
  int rc = rsim_store_sensors(st, &all, &n);
  if (rc) return rc;
  const char **ids = rsim_xcalloc(n ? n : 1, sizeof *ids);
  for (size_t i = 0; i < n; i++) ids[i] = all[i].id;
  rc = st->be->cursor_open(st, t0, t1, ids, n, out);
  free(ids);
  return rc;
}

/* The cursor's first member is its store; see sqlite.c. */
typedef struct cursor_head {
  rsim_store *st;
} cursor_head;

int rsim_cursor_next(rsim_cursor *c, const rsim_reading **out) {
  return ((cursor_head *)c)->st->be->cursor_next(c, out);
}

int rsim_cursor_peek_time(rsim_cursor *c, rsim_time *out) {
  return ((cursor_head *)c)->st->be->cursor_peek_time(c, out);
}

void rsim_cursor_close(rsim_cursor *c) {
  if (c) ((cursor_head *)c)->st->be->cursor_close(c);
}

int rsim_store_reading_at(rsim_store *st, const char *sensor_id, rsim_time t, rsim_reading *out) {
  return st->be->reading_at(st, sensor_id, t, out);
}

static int need_write(rsim_store *st, void *fn) {
  if (!st->writable || !fn)
    return rsim__store_err(st, RSIM_EREADONLY, "%s: opened read-only", st->path);
  if (st->finished)
    return rsim__store_err(st, RSIM_EINVAL, "%s: written after rsim_store_finish", st->path);
  return RSIM_OK;
}

int rsim_store_add_sensor(rsim_store *st, const rsim_sensor_info *info) {
  int rc = need_write(st, (void *)st->be->add_sensor);
  if (rc) return rc;
  if (!info->id || !rsim_utf8_valid(info->id, strlen(info->id)) || !*info->id)
    return rsim__store_err(st, RSIM_EINVAL, "%s: a sensor id must be non-empty UTF-8", st->path);
  if (st->be == &rsim__store_mcap || st->be == &rsim__store_pg)
    return st->be->add_sensor(st, info); /* keeps its own list */
  st->sensors_loaded = false;
  for (size_t i = 0; i < st->n_sensors; i++) rsim_sensor_info_clear(&st->sensors[i]);
  st->n_sensors = 0;
  return st->be->add_sensor(st, info);
}

int rsim_store_put(rsim_store *st, const rsim_reading *r) {
  int rc = need_write(st, (void *)st->be->put);
  return rc ? rc : st->be->put(st, r);
}

int rsim_store_set_meta(rsim_store *st, const char *key, const char *value) {
  int rc = need_write(st, (void *)st->be->set_meta);
  return rc ? rc : st->be->set_meta(st, key, value);
}

int rsim_store_get_meta(rsim_store *st, const char *key, char **out) {
  return st->be->get_meta(st, key, out);
}

int rsim_store_put_truth(rsim_store *st, const rsim_truth *g) {
  int rc = need_write(st, (void *)st->be->put_truth);
  return rc ? rc : st->be->put_truth(st, g);
}

int rsim_store_truth(rsim_store *st, rsim_time t0, rsim_time t1, rsim_truth **out, size_t *n) {
  return st->be->truth(st, t0, t1, out, n);
}

int rsim_store_begin(rsim_store *st) {
  int rc = need_write(st, (void *)st->be->begin);
  return rc ? rc : st->be->begin(st);
}

int rsim_store_commit(rsim_store *st) {
  int rc = need_write(st, (void *)st->be->commit);
  return rc ? rc : st->be->commit(st);
}
