/*
** sqlite.c -- the SQLite backend of the sensor store.
**
** Schema (version 1):
**   meta(key TEXT PRIMARY KEY, value TEXT)          -- schema_version = 1, generator, seed ...
**   sensors(id TEXT PRIMARY KEY, kind TEXT, rate_hz REAL)
**   sensor_meta(sensor TEXT, key TEXT, value TEXT, PRIMARY KEY(sensor, key))
**   readings(seq INTEGER PRIMARY KEY, sensor TEXT, t INTEGER, payload BLOB, meta BLOB)
**       index readings_by_sensor(sensor, t, seq)
**   truth(t, object_id, cls, x, y, z, vx, vy, length, width, height, heading)
**       index truth_by_t(t, object_id)
**
** seq is the insertion order, which orders readings of one sensor with
** equal timestamps.  A reading's meta is a BLOB of (u32 length, bytes) pairs,
** key then value, so any byte string survives; it is UTF-8-checked on read.
**
** The cursor merges one index-ordered statement per sensor with a binary
** heap keyed (t, sensor id, seq): memory does not grow with the range.
** Input stores are opened with SQLITE_OPEN_READONLY and never written.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define DB(st) ((sqlite3 *)(st)->impl)

static const char kSchema[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE sensors(id TEXT PRIMARY KEY, kind TEXT NOT NULL, rate_hz REAL);"
    "CREATE TABLE sensor_meta(sensor TEXT NOT NULL, key TEXT NOT NULL, value TEXT,"
    " PRIMARY KEY(sensor, key));"
    "CREATE TABLE readings(seq INTEGER PRIMARY KEY, sensor TEXT NOT NULL, t INTEGER NOT NULL,"
    " payload BLOB NOT NULL, meta BLOB);"
    "CREATE INDEX readings_by_sensor ON readings(sensor, t, seq);"
    "CREATE TABLE truth(t INTEGER NOT NULL, object_id INTEGER NOT NULL, cls TEXT, x REAL, y REAL,"
    " z REAL, vx REAL, vy REAL, length REAL, width REAL, height REAL, heading REAL);"
    "CREATE INDEX truth_by_t ON truth(t, object_id);"
    "INSERT INTO meta VALUES('schema_version', '1');";

/* Maps a SQLite failure to a code and a message naming the file. */
static int sql_fail(rsim_store *st, const char *what) {
  int e = sqlite3_errcode(DB(st));
  int code = (e == SQLITE_CORRUPT || e == SQLITE_NOTADB) ? RSIM_ECORRUPT
             : e == SQLITE_CANTOPEN || e == SQLITE_IOERR ? RSIM_EIO
                                                          : RSIM_EBACKEND;
  return rsim__store_err(st, code, "%s: %s: %s", st->path, what, sqlite3_errmsg(DB(st)));
}

static int prepare(rsim_store *st, const char *sql, sqlite3_stmt **out) {
  if (sqlite3_prepare_v2(DB(st), sql, -1, out, NULL) != SQLITE_OK) return sql_fail(st, "query");
  return RSIM_OK;
}

/* Copies a text column, checking it is UTF-8 (it may come from any file). */
static int text_col(rsim_store *st, sqlite3_stmt *s, int col, const char *what, char **out) {
  const char *p = (const char *)sqlite3_column_text(s, col);
  int n = sqlite3_column_bytes(s, col);
  if (!p) p = "";
  if (!rsim_utf8_valid(p, (size_t)n) || memchr(p, 0, (size_t)n))
    return rsim__store_err(st, RSIM_ECORRUPT, "%s: %s is not valid UTF-8", st->path, what);
  *out = rsim_xstrndup(p, (size_t)n);
  return RSIM_OK;
}

/* ---- reading metadata blob (shared with pg.c, see store_int.h) ---------------- */

void rsim__meta_encode(const rsim_kv *kv, size_t n, rsim_buf *out) {
  for (size_t i = 0; i < n; i++) {
    rsim_buf_put_u32le(out, (uint32_t)strlen(kv[i].key));
    rsim_buf_puts(out, kv[i].key);
    rsim_buf_put_u32le(out, (uint32_t)strlen(kv[i].value));
    rsim_buf_puts(out, kv[i].value);
  }
}

static bool meta_str(const uint8_t **p, const uint8_t *end, char **out) {
  if (end - *p < 4) return false;
  uint32_t n = (uint32_t)(*p)[0] | (uint32_t)(*p)[1] << 8 | (uint32_t)(*p)[2] << 16 | (uint32_t)(*p)[3] << 24;
  *p += 4;
  if ((uint64_t)(end - *p) < n || !rsim_utf8_valid((const char *)*p, n) || memchr(*p, 0, n)) return false;
  *out = rsim_xstrndup((const char *)*p, n);
  *p += n;
  return true;
}

int rsim__meta_decode(rsim_store *st, const char *sensor, const uint8_t *p, size_t len, rsim_reading *r) {
  const uint8_t *end = p + len;
  while (p < end) {
    r->meta = rsim_xrealloc(r->meta, (r->n_meta + 1) * sizeof *r->meta);
    rsim_kv *kv = &r->meta[r->n_meta];
    kv->key = kv->value = NULL;
    if (!meta_str(&p, end, &kv->key) || !meta_str(&p, end, &kv->value)) {
      free(kv->key);
      return rsim__store_err(st, RSIM_ECORRUPT, "%s: sensor '%s': corrupt reading metadata", st->path, sensor);
    }
    r->n_meta++;
  }
  return RSIM_OK;
}

/* Fills r from a row (t, seq, payload, meta); sensor fields set by caller. */
static int row_to_reading(rsim_store *st, sqlite3_stmt *s, rsim_reading *r) {
  r->t = sqlite3_column_int64(s, 0);
  const void *p = sqlite3_column_blob(s, 2);
  size_t n = (size_t)sqlite3_column_bytes(s, 2);
  r->payload = rsim_xmalloc(n);
  if (n) memcpy(r->payload, p, n);
  r->payload_len = n;
  return rsim__meta_decode(st, r->sensor_id, sqlite3_column_blob(s, 3), (size_t)sqlite3_column_bytes(s, 3), r);
}

/* ---- open / close / sensors ---------------------------------------------------- */

static void be_close(rsim_store *st) {
  if (st->impl) sqlite3_close_v2(DB(st));
  st->impl = NULL;
}

static int check_schema(rsim_store *st) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(DB(st), "SELECT value FROM meta WHERE key='schema_version'", -1, &s, NULL) != SQLITE_OK) {
    int e = sqlite3_errcode(DB(st));
    if (e == SQLITE_ERROR)
      return rsim__store_err(st, RSIM_ECORRUPT, "%s: not a replaysim store (%s)", st->path, sqlite3_errmsg(DB(st)));
    return sql_fail(st, "reading the schema");
  }
  int rc = sqlite3_step(s);
  const char *v = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
  int out = RSIM_OK;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) out = sql_fail(st, "reading the schema");
  else if (!v || strcmp(v, "1"))
    out = rsim__store_err(st, RSIM_ECORRUPT, "%s: unsupported store schema version '%s' (expected 1)",
                          st->path, v ? v : "none");
  sqlite3_finalize(s);
  return out;
}

int rsim__sqlite_open(rsim_store *st, bool create, rsim_errbuf *eb) {
  sqlite3 *db = NULL;
  int flags = create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
  st->be = &rsim__store_sqlite;
  int e = sqlite3_open_v2(st->path, &db, flags, NULL);
  st->impl = db;
  if (e != SQLITE_OK) {
    sql_fail(st, "cannot open");
    return rsim_errbuf_set(eb, RSIM_EIO, "%s", st->errmsg);
  }
  sqlite3_extended_result_codes(db, 0);
  int rc;
  if (create) {
    char *err = NULL;
    rc = sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;", NULL, NULL, NULL) ||
                 sqlite3_exec(db, kSchema, NULL, NULL, &err)
             ? rsim__store_err(st, RSIM_EBACKEND, "%s: creating the schema: %s", st->path, err ? err : "?")
             : RSIM_OK;
    sqlite3_free(err);
  } else {
    rc = check_schema(st);
  }
  if (rc) return rsim_errbuf_set(eb, rc, "%s", st->errmsg);
  return RSIM_OK;
}

static int be_load_sensors(rsim_store *st) {
  sqlite3_stmt *s, *m;
  int rc = prepare(st, "SELECT id, kind, rate_hz FROM sensors ORDER BY id", &s);
  if (rc) return rc;
  if ((rc = prepare(st, "SELECT key, value FROM sensor_meta WHERE sensor=? ORDER BY key", &m))) {
    sqlite3_finalize(s);
    return rc;
  }
  int e;
  while (!rc && (e = sqlite3_step(s)) == SQLITE_ROW) {
    st->sensors = rsim_xrealloc(st->sensors, (st->n_sensors + 1) * sizeof *st->sensors);
    rsim_sensor_info *info = &st->sensors[st->n_sensors];
    memset(info, 0, sizeof *info);
    char *kind = NULL;
    if ((rc = text_col(st, s, 0, "a sensor id", &info->id))) break;
    st->n_sensors++;
    if ((rc = text_col(st, s, 1, "a sensor kind", &kind))) break;
    if (rsim_sensor_kind_parse(kind, &info->kind))
      rc = rsim__store_err(st, RSIM_ECORRUPT, "%s: sensor '%s' has unknown kind '%s'", st->path, info->id, kind);
    free(kind);
    info->rate_hz = sqlite3_column_double(s, 2);
    sqlite3_reset(m);
    sqlite3_bind_text(m, 1, info->id, -1, SQLITE_STATIC);
    while (!rc && sqlite3_step(m) == SQLITE_ROW) {
      info->meta = rsim_xrealloc(info->meta, (info->n_meta + 1) * sizeof *info->meta);
      rsim_kv *kv = &info->meta[info->n_meta];
      kv->key = kv->value = NULL;
      info->n_meta++;
      if (!(rc = text_col(st, m, 0, "sensor metadata", &kv->key)))
        rc = text_col(st, m, 1, "sensor metadata", &kv->value);
    }
  }
  if (!rc && e != SQLITE_DONE) rc = sql_fail(st, "reading sensors");
  sqlite3_finalize(s);
  sqlite3_finalize(m);
  if (!rc) rsim__store_sort_sensors(st);
  return rc;
}

/* One-value query on a sensor: min(t), max(t), count(*). */
static int sensor_int(rsim_store *st, const char *sql, const char *id, bool *has, int64_t *v) {
  sqlite3_stmt *s;
  int rc = prepare(st, sql, &s);
  if (rc) return rc;
  if (id) sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
  int e = sqlite3_step(s);
  if (e == SQLITE_ROW) {
    *has = sqlite3_column_type(s, 0) != SQLITE_NULL;
    *v = sqlite3_column_int64(s, 0);
  } else {
    rc = sql_fail(st, "query");
  }
  sqlite3_finalize(s);
  return rc;
}

static int be_time_range(rsim_store *st, rsim_time *first, rsim_time *last) {
  bool any = false;
  for (size_t i = 0; i < st->n_sensors; i++) {
    bool has;
    int64_t a, b;
    int rc = sensor_int(st, "SELECT min(t) FROM readings WHERE sensor=?", st->sensors[i].id, &has, &a);
    if (!rc && has) rc = sensor_int(st, "SELECT max(t) FROM readings WHERE sensor=?", st->sensors[i].id, &has, &b);
    if (rc) return rc;
    if (!has) continue;
    if (!any || a < *first) *first = a;
    if (!any || b > *last) *last = b;
    any = true;
  }
  return any ? RSIM_OK : rsim__store_err(st, RSIM_ENOTFOUND, "%s: the store holds no readings", st->path);
}

static int be_count(rsim_store *st, const char *id, int64_t *n) {
  bool has;
  return id ? sensor_int(st, "SELECT count(*) FROM readings WHERE sensor=?", id, &has, n)
            : sensor_int(st, "SELECT count(*) FROM readings", NULL, &has, n);
}

/* ---- cursor ------------------------------------------------------------------------ */

typedef struct stream {
  sqlite3_stmt *s;
  const char *id;   /* borrowed from the store's sensor cache */
  rsim_sensor_kind kind;
  rsim_time t;
  int64_t seq;
  bool live;
} stream;

typedef struct sql_cursor {
  rsim_store *st;   /* first, see store.c */
  stream *streams;  /* sorted by sensor id */
  size_t n;
  size_t *heap;     /* indexes into streams, min-heap on (t, index, seq) */
  size_t heap_n;
  rsim_reading cur;
  int err;
} sql_cursor;

static bool before(const sql_cursor *c, size_t a, size_t b) {
  const stream *x = &c->streams[a], *y = &c->streams[b];
  if (x->t != y->t) return x->t < y->t;
  return a < b; /* streams are sorted by id; one stream never ties itself */
}

static void sift_down(sql_cursor *c, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < c->heap_n && before(c, c->heap[l], c->heap[m])) m = l;
    if (r < c->heap_n && before(c, c->heap[r], c->heap[m])) m = r;
    if (m == i) return;
    size_t tmp = c->heap[i];
    c->heap[i] = c->heap[m];
    c->heap[m] = tmp;
    i = m;
  }
}

/* Steps stream i; returns an error code or OK (live says whether a row came). */
static int advance(sql_cursor *c, size_t i) {
  stream *s = &c->streams[i];
  int e = sqlite3_step(s->s);
  if (e == SQLITE_ROW) {
    s->t = sqlite3_column_int64(s->s, 0);
    s->seq = sqlite3_column_int64(s->s, 1);
    s->live = true;
    return RSIM_OK;
  }
  s->live = false;
  return e == SQLITE_DONE ? RSIM_OK : sql_fail(c->st, "reading readings");
}

static int cmp_ids(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void be_cursor_close(rsim_cursor *cc) {
  sql_cursor *c = (sql_cursor *)cc;
  for (size_t i = 0; i < c->n; i++) sqlite3_finalize(c->streams[i].s);
  free(c->streams);
  free(c->heap);
  c->cur.sensor_id = NULL; /* borrowed */
  rsim_reading_clear(&c->cur);
  free(c);
}

static int be_cursor_open(rsim_store *st, rsim_time t0, rsim_time t1, const char *const *ids,
                          size_t n, rsim_cursor **out) {
  const char **sorted = rsim_xcalloc(n ? n : 1, sizeof *sorted);
  memcpy(sorted, ids, n * sizeof *ids);
  qsort(sorted, n, sizeof *sorted, cmp_ids);
  sql_cursor *c = rsim_xcalloc(1, sizeof *c);
  c->st = st;
  c->streams = rsim_xcalloc(n ? n : 1, sizeof *c->streams);
  c->heap = rsim_xcalloc(n ? n : 1, sizeof *c->heap);
  int rc = RSIM_OK;
  for (size_t i = 0; i < n && !rc; i++) {
    if (i && !strcmp(sorted[i], sorted[i - 1])) continue; /* a sensor asked for twice */
    const rsim_sensor_info *info = rsim_store_sensor(st, sorted[i]);
    stream *s = &c->streams[c->n++];
    s->id = info->id;
    s->kind = info->kind;
    rc = prepare(st, "SELECT t, seq, payload, meta FROM readings WHERE sensor=? AND t>=? AND t<=?"
                     " ORDER BY t, seq", &s->s);
    if (rc) break;
    sqlite3_bind_text(s->s, 1, s->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->s, 2, t0);
    sqlite3_bind_int64(s->s, 3, t1);
    rc = advance(c, c->n - 1);
    if (!rc && s->live) c->heap[c->heap_n++] = c->n - 1;
  }
  free(sorted);
  if (rc) {
    be_cursor_close((rsim_cursor *)c);
    return rc;
  }
  for (size_t i = c->heap_n / 2; i-- > 0;) sift_down(c, i);
  *out = (rsim_cursor *)c;
  return RSIM_OK;
}

static int be_cursor_peek_time(rsim_cursor *cc, rsim_time *out) {
  sql_cursor *c = (sql_cursor *)cc;
  if (c->err) return c->err;
  if (!c->heap_n) return RSIM_EEOF;
  *out = c->streams[c->heap[0]].t;
  return RSIM_OK;
}

static int be_cursor_next(rsim_cursor *cc, const rsim_reading **out) {
  sql_cursor *c = (sql_cursor *)cc;
  if (c->err) return c->err;
  if (!c->heap_n) return RSIM_EEOF;
  size_t i = c->heap[0];
  stream *s = &c->streams[i];
  c->cur.sensor_id = NULL;
  rsim_reading_clear(&c->cur);
  c->cur.sensor_id = (char *)s->id;
  c->cur.kind = s->kind;
  int rc = row_to_reading(c->st, s->s, &c->cur);
  if (!rc) rc = advance(c, i);
  if (rc) return c->err = rc;
  if (!s->live) c->heap[0] = c->heap[--c->heap_n];
  sift_down(c, 0);
  *out = &c->cur;
  return RSIM_OK;
}

static int be_reading_at(rsim_store *st, const char *id, rsim_time t, rsim_reading *out) {
  const rsim_sensor_info *info = rsim_store_sensor(st, id);
  if (!info) return rsim__store_err(st, RSIM_ENOTFOUND, "%s: no sensor '%s'", st->path, id);
  sqlite3_stmt *s;
  int rc = prepare(st, "SELECT t, seq, payload, meta FROM readings WHERE sensor=? AND t<=?"
                       " ORDER BY t DESC, seq DESC LIMIT 1", &s);
  if (rc) return rc;
  sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, t);
  int e = sqlite3_step(s);
  memset(out, 0, sizeof *out);
  if (e == SQLITE_ROW) {
    out->sensor_id = rsim_xstrdup(info->id);
    out->kind = info->kind;
    rc = row_to_reading(st, s, out);
    if (rc) rsim_reading_clear(out);
  } else if (e == SQLITE_DONE) {
    rc = RSIM_ENOTFOUND;
  } else {
    rc = sql_fail(st, "reading");
  }
  sqlite3_finalize(s);
  return rc;
}

static int be_get_meta(rsim_store *st, const char *key, char **out) {
  sqlite3_stmt *s;
  int rc = prepare(st, "SELECT value FROM meta WHERE key=?", &s);
  if (rc) return rc;
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  int e = sqlite3_step(s);
  if (e == SQLITE_ROW) rc = text_col(st, s, 0, "a meta value", out);
  else rc = e == SQLITE_DONE ? RSIM_ENOTFOUND : sql_fail(st, "meta");
  sqlite3_finalize(s);
  return rc;
}

static int be_truth(rsim_store *st, rsim_time t0, rsim_time t1, rsim_truth **out, size_t *n) {
  sqlite3_stmt *s;
  *out = NULL;
  *n = 0;
  int rc = prepare(st, "SELECT t, object_id, cls, x, y, z, vx, vy, length, width, height, heading"
                       " FROM truth WHERE t>=? AND t<=? ORDER BY t, object_id", &s);
  if (rc) return rc;
  sqlite3_bind_int64(s, 1, t0);
  sqlite3_bind_int64(s, 2, t1);
  int e;
  size_t cap = 0;
  while ((e = sqlite3_step(s)) == SQLITE_ROW) {
    if (*n == cap) *out = rsim_xrealloc(*out, (cap = cap ? 2 * cap : 64) * sizeof **out);
    rsim_truth *g = &(*out)[(*n)++];
    memset(g, 0, sizeof *g);
    g->t = sqlite3_column_int64(s, 0);
    g->object_id = (uint32_t)sqlite3_column_int64(s, 1);
    const char *cls = (const char *)sqlite3_column_text(s, 2);
    snprintf(g->cls, sizeof g->cls, "%s", cls ? cls : "");
    double *f[] = {&g->x, &g->y, &g->z, &g->vx, &g->vy, &g->length, &g->width, &g->height, &g->heading};
    for (int k = 0; k < 9; k++) *f[k] = sqlite3_column_double(s, 3 + k);
  }
  if (e != SQLITE_DONE) rc = sql_fail(st, "truth");
  sqlite3_finalize(s);
  return rc;
}

/* ---- writing ------------------------------------------------------------------------- */

static int exec1(rsim_store *st, const char *sql) {
  return sqlite3_exec(DB(st), sql, NULL, NULL, NULL) == SQLITE_OK ? RSIM_OK : sql_fail(st, sql);
}

static int be_add_sensor(rsim_store *st, const rsim_sensor_info *info) {
  sqlite3_stmt *s;
  int rc = prepare(st, "INSERT INTO sensors(id, kind, rate_hz) VALUES(?,?,?)", &s);
  if (rc) return rc;
  sqlite3_bind_text(s, 1, info->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, rsim_sensor_kind_name(info->kind), -1, SQLITE_STATIC);
  sqlite3_bind_double(s, 3, info->rate_hz);
  if (sqlite3_step(s) != SQLITE_DONE)
    rc = rsim__store_err(st, RSIM_EINVAL, "%s: cannot add sensor '%s': %s", st->path, info->id, sqlite3_errmsg(DB(st)));
  sqlite3_finalize(s);
  for (size_t i = 0; !rc && i < info->n_meta; i++) {
    if ((rc = prepare(st, "INSERT OR REPLACE INTO sensor_meta VALUES(?,?,?)", &s))) break;
    sqlite3_bind_text(s, 1, info->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, info->meta[i].key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, info->meta[i].value, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) rc = sql_fail(st, "sensor metadata");
    sqlite3_finalize(s);
  }
  return rc;
}

static int be_put(rsim_store *st, const rsim_reading *r) {
  const rsim_sensor_info *info = rsim_store_sensor(st, r->sensor_id);
  if (!info) return rsim__store_err(st, RSIM_ENOTFOUND, "%s: no sensor '%s' (add it first)", st->path, r->sensor_id);
  if (info->kind != r->kind)
    return rsim__store_err(st, RSIM_EINVAL, "%s: reading of sensor '%s' has kind %s, the sensor is %s", st->path,
                           r->sensor_id, rsim_sensor_kind_name(r->kind), rsim_sensor_kind_name(info->kind));
  for (size_t i = 0; i < r->n_meta; i++)
    if (!rsim_utf8_valid(r->meta[i].key, strlen(r->meta[i].key)) ||
        !rsim_utf8_valid(r->meta[i].value, strlen(r->meta[i].value)))
      return rsim__store_err(st, RSIM_EINVAL, "%s: sensor '%s': metadata is not UTF-8", st->path, r->sensor_id);
  sqlite3_stmt *s;
  int rc = prepare(st, "INSERT INTO readings(sensor, t, payload, meta) VALUES(?,?,?,?)", &s);
  if (rc) return rc;
  rsim_buf meta = {0};
  rsim__meta_encode(r->meta, r->n_meta, &meta);
  sqlite3_bind_text(s, 1, r->sensor_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, r->t);
  sqlite3_bind_blob64(s, 3, r->payload_len ? r->payload : (const void *)"", r->payload_len, SQLITE_STATIC);
  sqlite3_bind_blob64(s, 4, meta.len ? meta.data : (const void *)"", meta.len, SQLITE_STATIC);
  if (sqlite3_step(s) != SQLITE_DONE) rc = sql_fail(st, "writing a reading");
  sqlite3_finalize(s);
  rsim_buf_free(&meta);
  return rc;
}

static int be_set_meta(rsim_store *st, const char *key, const char *value) {
  sqlite3_stmt *s;
  int rc = prepare(st, "INSERT OR REPLACE INTO meta VALUES(?,?)", &s);
  if (rc) return rc;
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
  if (sqlite3_step(s) != SQLITE_DONE) rc = sql_fail(st, "meta");
  sqlite3_finalize(s);
  return rc;
}

static int be_put_truth(rsim_store *st, const rsim_truth *g) {
  sqlite3_stmt *s;
  int rc = prepare(st, "INSERT INTO truth VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", &s);
  if (rc) return rc;
  sqlite3_bind_int64(s, 1, g->t);
  sqlite3_bind_int64(s, 2, g->object_id);
  sqlite3_bind_text(s, 3, g->cls, -1, SQLITE_STATIC);
  const double f[] = {g->x, g->y, g->z, g->vx, g->vy, g->length, g->width, g->height, g->heading};
  for (int k = 0; k < 9; k++) sqlite3_bind_double(s, 4 + k, f[k]);
  if (sqlite3_step(s) != SQLITE_DONE) rc = sql_fail(st, "truth");
  sqlite3_finalize(s);
  return rc;
}

static int be_begin(rsim_store *st) { return exec1(st, "BEGIN"); }
static int be_commit(rsim_store *st) { return exec1(st, "COMMIT"); }
/* Rows are written as they are put; what can still fail is a transaction
** left open. */
static int be_finish(rsim_store *st) {
  return !st->impl || sqlite3_get_autocommit(DB(st)) ? RSIM_OK : be_commit(st);
}

const rsim__store_backend rsim__store_sqlite = {
    .name = "sqlite",
    .close = be_close,
    .load_sensors = be_load_sensors,
    .time_range = be_time_range,
    .count = be_count,
    .cursor_open = be_cursor_open,
    .cursor_next = be_cursor_next,
    .cursor_peek_time = be_cursor_peek_time,
    .cursor_close = be_cursor_close,
    .reading_at = be_reading_at,
    .get_meta = be_get_meta,
    .truth = be_truth,
    .add_sensor = be_add_sensor,
    .put = be_put,
    .set_meta = be_set_meta,
    .put_truth = be_put_truth,
    .begin = be_begin,
    .commit = be_commit,
    .finish = be_finish,
};
