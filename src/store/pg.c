/*
** pg.c -- the PostgreSQL backend of the sensor store: one drive of a
** database laid out by pg_db.c, opened by a URI with ?drive=NAME.
**
** Reading: a cursor is a server-side cursor (DECLARE ... ORDER BY t, sid,
** seq over the primary key) fetched in binary, in batches sized by bytes
** rather than rows: a batch of camera frames and one of CAN frames weigh
** the same, so memory stays bounded whatever the sensors.  Payloads are
** lent straight from the batch.  Open cursors share one read-only
** transaction, begun with the first and committed with the last.
**
** Writing (import, generate): the whole store is one transaction up to
** rsim_store_commit; readings and truth go in with binary COPY.  Sensors
** get their sid (bytewise id order) at the first reading, so sensors are
** added before readings.  A reading on a day without a partition ends the
** COPY, attaches one (ATTACH takes a lock readers do not wait on, unlike
** CREATE ... PARTITION OF) and goes on.  Closing before the commit rolls
** everything back: a failed import leaves nothing behind.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

#define DAY_NS INT64_C(86400000000000)
/* Bytes a fetch aims at; measured in docs/benchmarks.md ("PostgreSQL"). */
#define FETCH_BYTES_DEFAULT (1 << 20)
#define COPY_FLUSH (1 << 20)      /* COPY data sent in pieces of this size */
#define TRUTH_FLUSH (4 << 20)     /* truth rows held back at most this much */

enum { MODE_NONE, MODE_READINGS, MODE_TRUTH };

typedef struct sensor_stat {
  int64_t n;
  rsim_time first, last;
} sensor_stat;

typedef struct pgstore {
  PGconn *conn;
  rsim__pg_uri uri;
  char *drive_name;
  int drive;              /* drives.id */
  bool hypertable;
  size_t n_sid;           /* sensors numbered: a sid is an index in st->sensors */
  /* reading */
  int open_cursors;       /* they share one read transaction */
  unsigned serial;
  size_t fetch_bytes;
  /* writing */
  bool in_tx, frozen;
  int mode;
  rsim_buf copy, truth, meta;
  int64_t seq, n, bytes;
  rsim_time first, last;
  sensor_stat *stats;     /* by sid */
  int64_t *days;          /* days known to have a partition */
  size_t n_days;
  int last_rc;            /* the code of the last failure (run0) */
  struct pg_cursor *inflight; /* the cursor whose next FETCH is on the wire */
} pgstore;

#define P(st) ((pgstore *)(st)->impl)

/* ---- helpers --------------------------------------------------------------- */

static int fail(rsim_store *st, const PGresult *r, const char *what) {
  char msg[400];
  rsim__pg_msg(P(st)->conn, r, msg, sizeof msg);
  if (rsim__pg_lost(P(st)->conn, r))
    return P(st)->last_rc = rsim__store_err(st, RSIM_EIO, "%s: connection to the server lost while %s: %s", st->path,
                                            what, msg);
  return P(st)->last_rc = rsim__store_err(st, RSIM_EBACKEND, "%s: %s: %s", st->path, what, msg);
}

static void settle(rsim_store *st);

/* Runs sql with text parameters; results in binary when bin.  Returns the
** result (the caller PQclears it) or NULL with the store's message set. */
static PGresult *run(rsim_store *st, const char *what, bool bin, const char *sql, int np, const char *const *params) {
  settle(st);
  PGresult *r = PQexecParams(P(st)->conn, sql, np, NULL, params, NULL, NULL, bin ? 1 : 0);
  ExecStatusType s = PQresultStatus(r);
  if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) return r;
  fail(st, r, what);
  PQclear(r);
  return NULL;
}

static int run0(rsim_store *st, const char *what, const char *sql, int np, const char *const *params) {
  PGresult *r = run(st, what, false, sql, np, params);
  PQclear(r);
  return r ? RSIM_OK : P(st)->last_rc;
}

static uint32_t be32(const char *p) {
  const uint8_t *u = (const uint8_t *)p;
  return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static int64_t be64(const char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

static double bef64(const char *p) {
  uint64_t u = (uint64_t)be64(p);
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

static void put16(rsim_buf *b, uint16_t v) {
  uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  rsim_buf_append(b, x, 2);
}

static void put32(rsim_buf *b, uint32_t v) {
  uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
  rsim_buf_append(b, x, 4);
}

static void put64(rsim_buf *b, uint64_t v) {
  put32(b, (uint32_t)(v >> 32));
  put32(b, (uint32_t)v);
}

/* COPY binary fields: a length, then the bytes. */
static void field_i32(rsim_buf *b, int32_t v) {
  put32(b, 4);
  put32(b, (uint32_t)v);
}

static void field_i64(rsim_buf *b, int64_t v) {
  put32(b, 8);
  put64(b, (uint64_t)v);
}

static void field_f64(rsim_buf *b, double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  put32(b, 8);
  put64(b, u);
}

static void field_bytes(rsim_buf *b, const void *p, size_t n) {
  put32(b, (uint32_t)n);
  rsim_buf_append(b, p, n);
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b < 0); }

/* ---- open / close / sensors ------------------------------------------------- */

static void be_close(rsim_store *st) {
  pgstore *p = P(st);
  if (!p) return;
  settle(st);
  if (p->conn && p->mode != MODE_NONE && PQputCopyEnd(p->conn, "the store was closed before its commit") == 1)
    for (PGresult *r; (r = PQgetResult(p->conn));) PQclear(r);
  if (p->conn && (p->in_tx || p->open_cursors)) PQclear(PQexec(p->conn, "ROLLBACK"));
  PQfinish(p->conn);
  rsim__pg_uri_free(&p->uri);
  free(p->drive_name);
  rsim_buf_free(&p->copy);
  rsim_buf_free(&p->truth);
  rsim_buf_free(&p->meta);
  free(p->stats);
  free(p->days);
  free(p);
  st->impl = NULL;
}

/* Finds the drive (read) or makes it (write; replacing an old one when
** overwrite) inside the writer's transaction. */
static int find_drive(rsim_store *st, bool create, bool overwrite) {
  pgstore *p = P(st);
  const char *name[1] = {p->drive_name};
  PGresult *r = run(st, "looking the drive up", false,
                    create ? "SELECT id FROM replaysim.drives WHERE name = $1 FOR UPDATE"
                           : "SELECT id FROM replaysim.drives WHERE name = $1",
                    1, name);
  if (!r) return RSIM_EBACKEND;
  int found = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
  PQclear(r);
  if (!create) {
    if (!found)
      return rsim__store_err(st, RSIM_ENOTFOUND, "%s: the database has no drive '%s' (replaysim db ls URI lists them)",
                             st->path, p->drive_name);
    p->drive = found;
    return RSIM_OK;
  }
  if (found && !overwrite)
    return rsim__store_err(st, RSIM_EIO, "%s: drive '%s' exists; pass --overwrite to replace it", st->path,
                           p->drive_name);
  if (found) {
    char id[16];
    snprintf(id, sizeof id, "%d", found);
    const char *v[1] = {id};
    int rc = run0(st, "removing the old drive", "DELETE FROM replaysim.readings WHERE drive = $1", 1, v);
    if (!rc) rc = run0(st, "removing the old drive", "DELETE FROM replaysim.drives WHERE id = $1", 1, v);
    if (rc) return rc;
  }
  r = run(st, "adding the drive", false, "INSERT INTO replaysim.drives(name) VALUES ($1) RETURNING id", 1, name);
  if (!r) return RSIM_EBACKEND;
  p->drive = atoi(PQgetvalue(r, 0, 0));
  PQclear(r);
  return RSIM_OK;
}

int rsim__pg_open(rsim_store *st, bool create, bool overwrite, const rsim_store_opts *o, rsim_errbuf *eb) {
  st->be = &rsim__store_pg;
  pgstore *p = rsim_xcalloc(1, sizeof *p);
  st->impl = p;
  int rc = rsim__pg_uri_parse(st->path, &p->uri, eb);
  if (rc) return rc;
  const char *drive = p->uri.drive ? p->uri.drive : o ? o->drive : NULL;
  if (o && o->drive && p->uri.drive && strcmp(o->drive, p->uri.drive))
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s: names drive '%s', and --drive '%s'", st->path, p->uri.drive, o->drive);
  if (!drive || !*drive)
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s: which drive? add ?drive=NAME to the URI%s", st->path,
                           create ? " or pass --drive NAME" : "");
  p->drive_name = rsim_xstrdup(drive);
  const char *fb = getenv("RSIM_PG_FETCH_BYTES");
  p->fetch_bytes = fb && atol(fb) > 0 ? (size_t)atol(fb) : FETCH_BYTES_DEFAULT;
  rc = rsim__pg_connect(st->path, &p->uri, true, &p->conn, NULL, &p->hypertable, eb);
  if (rc) return rc;
  if (create) {
    rc = run0(st, "beginning the import", "BEGIN", 0, NULL);
    p->in_tx = !rc;
  }
  if (!rc) rc = find_drive(st, create, overwrite);
  if (rc) return rsim_errbuf_set(eb, rc, "%s", st->errmsg);
  return RSIM_OK;
}

static int be_load_sensors(rsim_store *st) {
  pgstore *p = P(st);
  if (st->writable) return RSIM_OK; /* write mode keeps st->sensors as they are added */
  char d[16];
  snprintf(d, sizeof d, "%d", p->drive);
  const char *v[1] = {d};
  PGresult *s = run(st, "reading sensors", false,
                    "SELECT sid, id, kind, rate_hz::text FROM replaysim.sensors WHERE drive = $1 ORDER BY sid", 1, v);
  if (!s) return RSIM_EBACKEND;
  PGresult *m = run(st, "reading sensor metadata", false,
                    "SELECT sid, key, value FROM replaysim.sensor_meta WHERE drive = $1 ORDER BY sid, key COLLATE \"C\"",
                    1, v);
  if (!m) {
    PQclear(s);
    return RSIM_EBACKEND;
  }
  int rc = RSIM_OK, n = PQntuples(s), nm = PQntuples(m), k = 0;
  st->sensors = rsim_xcalloc(n ? (size_t)n : 1, sizeof *st->sensors);
  for (int i = 0; i < n && !rc; i++) {
    rsim_sensor_info *info = &st->sensors[st->n_sensors++];
    int sid = atoi(PQgetvalue(s, i, 0));
    info->id = rsim_xstrdup(PQgetvalue(s, i, 1));
    info->rate_hz = strtod(PQgetvalue(s, i, 3), NULL);
    if (sid != i || rsim_sensor_kind_parse(PQgetvalue(s, i, 2), &info->kind))
      rc = rsim__store_err(st, RSIM_ECORRUPT, "%s: sensor '%s' has kind '%s' and number %d", st->path, info->id,
                           PQgetvalue(s, i, 2), sid);
    for (; k < nm && atoi(PQgetvalue(m, k, 0)) == sid; k++) {
      info->meta = rsim_xrealloc(info->meta, (info->n_meta + 1) * sizeof *info->meta);
      info->meta[info->n_meta].key = rsim_xstrdup(PQgetvalue(m, k, 1));
      info->meta[info->n_meta++].value = rsim_xstrdup(PQgetvalue(m, k, 2));
    }
  }
  PQclear(s);
  PQclear(m);
  /* sids were given in bytewise id order (freeze): the rows come sorted. */
  for (size_t i = 1; i < st->n_sensors && !rc; i++)
    if (strcmp(st->sensors[i - 1].id, st->sensors[i].id) >= 0)
      rc = rsim__store_err(st, RSIM_ECORRUPT, "%s: sensors '%s' and '%s' are numbered out of order", st->path,
                           st->sensors[i - 1].id, st->sensors[i].id);
  p->n_sid = st->n_sensors;
  return rc;
}

/* One row, one bigint column, from a query on the drive. */
static int drive_int(rsim_store *st, const char *sql, const char *sensor_sid, bool *has, int64_t *v) {
  char d[16];
  snprintf(d, sizeof d, "%d", P(st)->drive);
  const char *params[2] = {d, sensor_sid};
  PGresult *r = run(st, "reading the drive", false, sql, sensor_sid ? 2 : 1, params);
  if (!r) return RSIM_EBACKEND;
  *has = PQntuples(r) == 1 && !PQgetisnull(r, 0, 0);
  *v = *has ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
  PQclear(r);
  return RSIM_OK;
}

static int be_time_range(rsim_store *st, rsim_time *first, rsim_time *last) {
  bool has;
  int64_t a, b;
  int rc = drive_int(st, "SELECT t_first FROM replaysim.drives WHERE id = $1", NULL, &has, &a);
  if (!rc && has) rc = drive_int(st, "SELECT t_last FROM replaysim.drives WHERE id = $1", NULL, &has, &b);
  if (rc) return rc;
  if (!has) return rsim__store_err(st, RSIM_ENOTFOUND, "%s: the drive holds no readings", st->path);
  *first = a;
  *last = b;
  return RSIM_OK;
}

static int sid_of_id(rsim_store *st, const char *id) {
  const rsim_sensor_info *info = rsim_store_sensor(st, id);
  return info ? (int)(info - st->sensors) : -1;
}

static int be_count(rsim_store *st, const char *id, int64_t *n) {
  bool has;
  if (!id) return drive_int(st, "SELECT n_readings FROM replaysim.drives WHERE id = $1", NULL, &has, n);
  int sid = sid_of_id(st, id);
  if (sid < 0) return rsim__store_err(st, RSIM_ENOTFOUND, "%s: no sensor '%s'", st->path, id);
  char s[16];
  snprintf(s, sizeof s, "%d", sid);
  return drive_int(st, "SELECT n_readings FROM replaysim.sensors WHERE drive = $1 AND sid = $2", s, &has, n);
}

/* ---- cursor -------------------------------------------------------------------- */

typedef struct pg_cursor {
  rsim_store *st; /* first, see store.c */
  char name[24];
  PGresult *res;  /* the current batch */
  PGresult *next; /* the batch after it, when prefetched */
  int next_err;   /* or the failure of the prefetch, with its message: */
  char next_msg[512];
  int row, nrows;
  int want;       /* rows to ask for next */
  bool last;      /* the server has no more */
  rsim_reading cur; /* payload lent from res */
  int err;
} pg_cursor;

static int read_begin(rsim_store *st) {
  pgstore *p = P(st);
  if (p->open_cursors++ || p->in_tx) return RSIM_OK;
  int rc = run0(st, "beginning a read", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL);
  if (rc) p->open_cursors--;
  return rc;
}

static void read_end(rsim_store *st) {
  pgstore *p = P(st);
  if (--p->open_cursors || p->in_tx || rsim__pg_lost(p->conn, NULL)) return;
  settle(st);
  PQclear(PQexec(p->conn, "COMMIT"));
}

/* Collects the FETCH on the wire (if any) into its cursor, so that the
** connection can take another command.  Its failure is the cursor's,
** reported when the cursor gets there. */
static void settle(rsim_store *st) {
  pgstore *p = P(st);
  pg_cursor *c = p->inflight;
  if (!c) return;
  p->inflight = NULL;
  PGresult *r = PQgetResult(p->conn);
  if (PQresultStatus(r) == PGRES_TUPLES_OK) {
    c->next = r;
  } else {
    char keep[sizeof st->errmsg];
    memcpy(keep, st->errmsg, sizeof keep);
    c->next_err = fail(st, r, "reading readings");
    snprintf(c->next_msg, sizeof c->next_msg, "%s", st->errmsg);
    memcpy(st->errmsg, keep, sizeof keep);
    PQclear(r);
  }
  while ((r = PQgetResult(p->conn))) PQclear(r);
}

static void be_cursor_close(rsim_cursor *cc) {
  pg_cursor *c = (pg_cursor *)cc;
  rsim_store *st = c->st;
  settle(st); /* CLOSE waits for any FETCH on the wire, this cursor's or another's */
  PQclear(c->res);
  PQclear(c->next);
  if (!rsim__pg_lost(P(st)->conn, NULL)) {
    char sql[48];
    snprintf(sql, sizeof sql, "CLOSE %s", c->name);
    PQclear(PQexec(P(st)->conn, sql));
  }
  read_end(st);
  c->cur.sensor_id = NULL; /* borrowed */
  c->cur.payload = NULL;   /* lent from res */
  rsim_reading_clear(&c->cur);
  free(c);
}

/* Fetches the next batch: as many rows as the last batch's average size
** says fit in fetch_bytes, starting small (a lookahead cursor wants one
** reading) and at most doubling.  The batch after it is asked for at once
** (one FETCH on the wire), so the server reads it while the caller works
** through this one; any other command on the connection collects it first. */
static int fetch(pg_cursor *c) {
  rsim_store *st = c->st;
  pgstore *p = P(st);
  PQclear(c->res);
  c->res = NULL;
  c->row = c->nrows = 0;
  if (p->inflight == c) settle(st);
  PGresult *r = c->next;
  c->next = NULL;
  char sql[64];
  if (c->next_err) {
    int rc = rsim__store_err(st, c->next_err, "%s", c->next_msg);
    c->next_err = 0;
    return rc;
  }
  if (!r) {
    settle(st);
    snprintf(sql, sizeof sql, "FETCH FORWARD %d FROM %s", c->want, c->name);
    r = PQexecParams(p->conn, sql, 0, NULL, NULL, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      int rc = fail(st, r, "reading readings");
      PQclear(r);
      return rc;
    }
  }
  c->res = r;
  c->nrows = PQntuples(r);
  c->last = c->nrows < c->want;
  size_t bytes = 0;
  for (int i = 0; i < c->nrows; i++) bytes += (size_t)PQgetlength(r, i, 2) + (size_t)PQgetlength(r, i, 3) + 32;
  if (c->nrows) {
    size_t fit = p->fetch_bytes / (bytes / (size_t)c->nrows + 1);
    size_t next = (size_t)c->want * 2 < fit ? (size_t)c->want * 2 : fit;
    c->want = next < 1 ? 1 : next > 100000 ? 100000 : (int)next;
  }
  if (!c->last && !p->inflight) {
    snprintf(sql, sizeof sql, "FETCH FORWARD %d FROM %s", c->want, c->name);
    if (PQsendQueryParams(p->conn, sql, 0, NULL, NULL, NULL, NULL, 1)) p->inflight = c;
  }
  return RSIM_OK;
}

/* Makes sure a row is at c->row; RSIM_EEOF at the end. */
static int ensure_row(pg_cursor *c) {
  if (c->err) return c->err;
  if (c->row < c->nrows) return RSIM_OK;
  if (c->last) return RSIM_EEOF;
  int rc = fetch(c);
  if (rc) return c->err = rc;
  return c->nrows ? RSIM_OK : RSIM_EEOF;
}

static int be_cursor_open(rsim_store *st, rsim_time t0, rsim_time t1, const char *const *ids, size_t n,
                          rsim_cursor **out) {
  pgstore *p = P(st);
  pg_cursor *c = rsim_xcalloc(1, sizeof *c);
  c->st = st;
  c->want = 2;
  snprintf(c->name, sizeof c->name, "rsim_c%u", ++p->serial);
  rsim_buf sql = {0};
  rsim_buf_printf(&sql,
                  "DECLARE %s BINARY NO SCROLL CURSOR FOR SELECT sid, t, payload, meta FROM replaysim.readings"
                  " WHERE drive = %d AND t >= %lld AND t <= %lld",
                  c->name, p->drive, (long long)t0, (long long)t1);
  /* Every sensor: no filter.  A subset: sid IN (...). */
  bool all = n >= st->n_sensors;
  if (all) {
    bool *seen = rsim_xcalloc(st->n_sensors ? st->n_sensors : 1, 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
      int sid = sid_of_id(st, ids[i]);
      if (sid >= 0 && !seen[sid]) seen[sid] = true, k++;
    }
    all = k == st->n_sensors;
    free(seen);
  }
  if (!all) {
    rsim_buf_puts(&sql, " AND sid IN (");
    for (size_t i = 0; i < n; i++) rsim_buf_printf(&sql, "%s%d", i ? "," : "", sid_of_id(st, ids[i]));
    rsim_buf_puts(&sql, n ? ")" : "-1)");
  }
  rsim_buf_puts(&sql, " ORDER BY t, sid, seq");
  rsim_buf_putc(&sql, 0);
  int rc = read_begin(st);
  if (!rc) {
    rc = run0(st, "opening a cursor", (const char *)sql.data, 0, NULL);
    if (rc) read_end(st);
  }
  rsim_buf_free(&sql);
  if (rc) {
    free(c);
    return rc;
  }
  *out = (rsim_cursor *)c;
  return RSIM_OK;
}

static int be_cursor_peek_time(rsim_cursor *cc, rsim_time *out) {
  pg_cursor *c = (pg_cursor *)cc;
  int rc = ensure_row(c);
  if (rc) return rc;
  *out = be64(PQgetvalue(c->res, c->row, 1));
  return RSIM_OK;
}

static int be_cursor_next(rsim_cursor *cc, const rsim_reading **out) {
  pg_cursor *c = (pg_cursor *)cc;
  rsim_store *st = c->st;
  pgstore *p = P(st);
  c->cur.sensor_id = NULL;
  c->cur.payload = NULL;
  rsim_reading_clear(&c->cur);
  int rc = ensure_row(c);
  if (rc) return rc;
  PGresult *r = c->res;
  int row = c->row++;
  int sid = (int)be32(PQgetvalue(r, row, 0));
  if (sid < 0 || (size_t)sid >= p->n_sid)
    return c->err = rsim__store_err(st, RSIM_ECORRUPT, "%s: a reading of unknown sensor number %d", st->path, sid);
  const rsim_sensor_info *info = &st->sensors[sid];
  c->cur.sensor_id = info->id;
  c->cur.kind = info->kind;
  c->cur.t = be64(PQgetvalue(r, row, 1));
  c->cur.payload = (uint8_t *)PQgetvalue(r, row, 2);
  c->cur.payload_len = (size_t)PQgetlength(r, row, 2);
  rc = rsim__meta_decode(st, info->id, (const uint8_t *)PQgetvalue(r, row, 3), (size_t)PQgetlength(r, row, 3),
                         &c->cur);
  if (rc) return c->err = rc;
  *out = &c->cur;
  return RSIM_OK;
}

static int be_reading_at(rsim_store *st, const char *id, rsim_time t, rsim_reading *out) {
  memset(out, 0, sizeof *out);
  int sid = sid_of_id(st, id);
  if (sid < 0) return rsim__store_err(st, RSIM_ENOTFOUND, "%s: no sensor '%s'", st->path, id);
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT t, payload, meta FROM replaysim.readings WHERE drive = %d AND sid = %d AND t <= %lld"
           " ORDER BY t DESC, seq DESC LIMIT 1",
           P(st)->drive, sid, (long long)t);
  PGresult *r = run(st, "reading", true, sql, 0, NULL);
  if (!r) return RSIM_EBACKEND;
  int rc = RSIM_ENOTFOUND;
  if (PQntuples(r)) {
    const rsim_sensor_info *info = rsim_store_sensor(st, id);
    out->sensor_id = rsim_xstrdup(info->id);
    out->kind = info->kind;
    out->t = be64(PQgetvalue(r, 0, 0));
    out->payload_len = (size_t)PQgetlength(r, 0, 1);
    out->payload = rsim_xmalloc(out->payload_len);
    if (out->payload_len) memcpy(out->payload, PQgetvalue(r, 0, 1), out->payload_len);
    rc = rsim__meta_decode(st, info->id, (const uint8_t *)PQgetvalue(r, 0, 2), (size_t)PQgetlength(r, 0, 2), out);
    if (rc) rsim_reading_clear(out);
  }
  PQclear(r);
  return rc;
}

static int be_get_meta(rsim_store *st, const char *key, char **out) {
  char d[16];
  snprintf(d, sizeof d, "%d", P(st)->drive);
  const char *v[2] = {d, key};
  PGresult *r = run(st, "reading metadata", false, "SELECT value FROM replaysim.drive_meta WHERE drive = $1 AND key = $2",
                    2, v);
  if (!r) return RSIM_EBACKEND;
  int rc = PQntuples(r) ? RSIM_OK : RSIM_ENOTFOUND;
  if (!rc) *out = rsim_xstrdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  return rc;
}

static int be_truth(rsim_store *st, rsim_time t0, rsim_time t1, rsim_truth **out, size_t *n) {
  *out = NULL;
  *n = 0;
  char sql[320];
  snprintf(sql, sizeof sql,
           "SELECT t, object_id, cls, x, y, z, vx, vy, length, width, height, heading FROM replaysim.truth"
           " WHERE drive = %d AND t >= %lld AND t <= %lld ORDER BY t, object_id",
           P(st)->drive, (long long)t0, (long long)t1);
  PGresult *r = run(st, "reading ground truth", true, sql, 0, NULL);
  if (!r) return RSIM_EBACKEND;
  size_t rows = (size_t)PQntuples(r);
  if (rows) *out = rsim_xcalloc(rows, sizeof **out);
  for (size_t i = 0; i < rows; i++) {
    rsim_truth *g = &(*out)[i];
    int k = (int)i;
    g->t = be64(PQgetvalue(r, k, 0));
    g->object_id = (uint32_t)be64(PQgetvalue(r, k, 1));
    snprintf(g->cls, sizeof g->cls, "%.*s", PQgetlength(r, k, 2), PQgetvalue(r, k, 2));
    double *f[] = {&g->x, &g->y, &g->z, &g->vx, &g->vy, &g->length, &g->width, &g->height, &g->heading};
    for (int j = 0; j < 9; j++) *f[j] = PQgetisnull(r, k, 3 + j) ? 0 : bef64(PQgetvalue(r, k, 3 + j));
  }
  *n = rows;
  PQclear(r);
  return RSIM_OK;
}

/* ---- writing ---------------------------------------------------------------------- */

static int send_copy(rsim_store *st) {
  pgstore *p = P(st);
  if (!p->copy.len) return RSIM_OK;
  int ok = PQputCopyData(p->conn, (const char *)p->copy.data, (int)p->copy.len);
  p->copy.len = 0;
  return ok == 1 ? RSIM_OK : fail(st, NULL, "sending readings");
}

/* Ends the COPY in progress (if any) and starts the one mode asks for. */
static int set_mode(rsim_store *st, int mode) {
  pgstore *p = P(st);
  if (p->mode == mode) return RSIM_OK;
  settle(st);
  int rc = RSIM_OK;
  if (p->mode != MODE_NONE) {
    put16(&p->copy, 0xffff); /* the trailer */
    rc = send_copy(st);
    p->mode = MODE_NONE;
    if (!rc && PQputCopyEnd(p->conn, NULL) != 1) rc = fail(st, NULL, "ending a COPY");
    PGresult *r;
    while ((r = PQgetResult(p->conn))) {
      if (!rc && PQresultStatus(r) != PGRES_COMMAND_OK) rc = fail(st, r, "writing readings");
      PQclear(r);
    }
    if (rc) return rc;
  }
  if (mode == MODE_NONE) return RSIM_OK;
  PGresult *r = PQexec(p->conn, mode == MODE_READINGS
                                    ? "COPY replaysim.readings(drive, t, sid, seq, payload, meta) FROM STDIN (FORMAT binary)"
                                    : "COPY replaysim.truth(drive, t, object_id, cls, x, y, z, vx, vy, length, width,"
                                      " height, heading) FROM STDIN (FORMAT binary)");
  if (PQresultStatus(r) != PGRES_COPY_IN) rc = fail(st, r, "starting a COPY");
  PQclear(r);
  if (rc) return rc;
  p->mode = mode;
  rsim_buf_append(&p->copy, "PGCOPY\n\377\r\n\0", 11);
  put32(&p->copy, 0); /* flags */
  put32(&p->copy, 0); /* header extension */
  return RSIM_OK;
}

static int write_begin(rsim_store *st) {
  pgstore *p = P(st);
  if (p->in_tx) return RSIM_OK;
  int rc = run0(st, "beginning a transaction", "BEGIN", 0, NULL);
  p->in_tx = !rc;
  return rc;
}

static int be_add_sensor(rsim_store *st, const rsim_sensor_info *info) {
  pgstore *p = P(st);
  if (p->frozen)
    return rsim__store_err(st, RSIM_EINVAL, "%s: sensor '%s' added after the first reading (add sensors first)",
                           st->path, info->id);
  for (size_t i = 0; i < st->n_sensors; i++)
    if (!strcmp(st->sensors[i].id, info->id))
      return rsim__store_err(st, RSIM_EINVAL, "%s: sensor '%s' added twice", st->path, info->id);
  st->sensors = rsim_xrealloc(st->sensors, (st->n_sensors + 1) * sizeof *st->sensors);
  rsim_sensor_info *s = &st->sensors[st->n_sensors++];
  *s = *info;
  s->id = rsim_xstrdup(info->id);
  s->meta = info->n_meta ? rsim_xcalloc(info->n_meta, sizeof *s->meta) : NULL;
  for (size_t i = 0; i < info->n_meta; i++) {
    s->meta[i].key = rsim_xstrdup(info->meta[i].key);
    s->meta[i].value = rsim_xstrdup(info->meta[i].value);
  }
  rsim__store_sort_sensors(st);
  st->sensors_loaded = true;
  return RSIM_OK;
}

/* Numbers the sensors (their index in st->sensors, which is bytewise id
** order) and writes them: at the first reading. */
static int freeze(rsim_store *st) {
  pgstore *p = P(st);
  if (p->frozen) return RSIM_OK;
  p->n_sid = st->n_sensors;
  p->stats = rsim_xcalloc(st->n_sensors ? st->n_sensors : 1, sizeof *p->stats);
  int rc = set_mode(st, MODE_NONE);
  char d[16], sid[32], rate[40];
  snprintf(d, sizeof d, "%d", p->drive);
  for (size_t i = 0; i < st->n_sensors && !rc; i++) {
    const rsim_sensor_info *s = &st->sensors[i];
    snprintf(sid, sizeof sid, "%zu", i);
    snprintf(rate, sizeof rate, "%.17g", s->rate_hz);
    const char *v[5] = {d, sid, s->id, rsim_sensor_kind_name(s->kind), rate};
    rc = run0(st, "adding a sensor",
              "INSERT INTO replaysim.sensors(drive, sid, id, kind, rate_hz) VALUES ($1, $2, $3, $4, $5)", 5, v);
    for (size_t k = 0; k < s->n_meta && !rc; k++) {
      const char *mv[4] = {d, sid, s->meta[k].key, s->meta[k].value};
      rc = run0(st, "adding sensor metadata",
                "INSERT INTO replaysim.sensor_meta VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (drive, sid, key) DO UPDATE SET value = excluded.value",
                4, mv);
    }
  }
  p->frozen = !rc;
  return rc;
}

/* Day partition names read as dates: readings_20260101 (UTC). */
static void day_name(int64_t day, char *out, size_t n) {
  /* days since 1970-01-01 to a civil date (proleptic Gregorian) */
  int64_t z = day + 719468, era = floor_div(z, 146097);
  int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
  snprintf(out, n, "readings_%04lld%02lld%02lld", (long long)y, (long long)m, (long long)d);
}

/* Makes sure the day of t has its partition (not for hypertables). */
static int ensure_day(rsim_store *st, rsim_time t) {
  pgstore *p = P(st);
  int64_t day = floor_div(t, DAY_NS);
  for (size_t i = p->n_days; i-- > 0;)
    if (p->days[i] == day) return RSIM_OK;
  int mode = p->mode;
  char name[64], sql[512];
  settle(st);
  day_name(day, name, sizeof name);
  int rc = set_mode(st, MODE_NONE);
  /* Taken until the commit: another importer waits here, readers do not. */
  if (!rc) rc = run0(st, "adding a partition", "LOCK TABLE replaysim.readings IN SHARE UPDATE EXCLUSIVE MODE", 0, NULL);
  PGresult *r = NULL;
  if (!rc) {
    snprintf(sql, sizeof sql, "SELECT to_regclass('replaysim.%s') IS NOT NULL", name);
    r = run(st, "adding a partition", false, sql, 0, NULL);
    rc = r ? RSIM_OK : RSIM_EBACKEND;
  }
  bool exists = r && !strcmp(PQgetvalue(r, 0, 0), "t");
  PQclear(r);
  if (!rc && !exists) {
    char lo[32], hi[32];
    snprintf(lo, sizeof lo, "%lld", (long long)(day * DAY_NS));
    if (day >= INT64_MAX / DAY_NS) snprintf(hi, sizeof hi, "MAXVALUE");
    else snprintf(hi, sizeof hi, "%lld", (long long)((day + 1) * DAY_NS));
    if (day <= floor_div(INT64_MIN, DAY_NS)) snprintf(lo, sizeof lo, "MINVALUE");
    snprintf(sql, sizeof sql,
             "CREATE TABLE replaysim.%s (LIKE replaysim.readings INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
             " INCLUDING STORAGE)", name);
    rc = run0(st, "adding a partition", sql, 0, NULL);
    snprintf(sql, sizeof sql, "ALTER TABLE replaysim.readings ATTACH PARTITION replaysim.%s FOR VALUES FROM (%s) TO (%s)",
             name, lo, hi);
    if (!rc) rc = run0(st, "adding a partition", sql, 0, NULL);
  }
  if (!rc) rc = set_mode(st, mode);
  if (rc) return rc;
  p->days = rsim_xrealloc(p->days, (p->n_days + 1) * sizeof *p->days);
  p->days[p->n_days++] = day;
  return RSIM_OK;
}

static int be_put(rsim_store *st, const rsim_reading *r) {
  pgstore *p = P(st);
  const rsim_sensor_info *info = rsim_store_sensor(st, r->sensor_id);
  if (!info) return rsim__store_err(st, RSIM_ENOTFOUND, "%s: no sensor '%s' (add it first)", st->path, r->sensor_id);
  if (info->kind != r->kind)
    return rsim__store_err(st, RSIM_EINVAL, "%s: reading of sensor '%s' has kind %s, the sensor is %s", st->path,
                           r->sensor_id, rsim_sensor_kind_name(r->kind), rsim_sensor_kind_name(info->kind));
  for (size_t i = 0; i < r->n_meta; i++)
    if (!rsim_utf8_valid(r->meta[i].key, strlen(r->meta[i].key)) ||
        !rsim_utf8_valid(r->meta[i].value, strlen(r->meta[i].value)))
      return rsim__store_err(st, RSIM_EINVAL, "%s: sensor '%s': metadata is not UTF-8", st->path, r->sensor_id);
  int rc = write_begin(st);
  if (!rc) rc = freeze(st);
  if (!rc && !p->hypertable) rc = ensure_day(st, r->t);
  if (!rc) rc = set_mode(st, MODE_READINGS);
  if (rc) return rc;
  int sid = (int)(info - st->sensors);
  p->meta.len = 0;
  rsim__meta_encode(r->meta, r->n_meta, &p->meta);
  put16(&p->copy, 6);
  field_i32(&p->copy, p->drive);
  field_i64(&p->copy, r->t);
  field_i32(&p->copy, sid);
  field_i64(&p->copy, p->seq++);
  field_bytes(&p->copy, r->payload, r->payload_len);
  field_bytes(&p->copy, p->meta.data, p->meta.len);
  if (p->copy.len >= COPY_FLUSH && (rc = send_copy(st))) return rc;
  sensor_stat *s = &p->stats[sid];
  if (!s->n || r->t < s->first) s->first = r->t;
  if (!s->n || r->t > s->last) s->last = r->t;
  s->n++;
  if (!p->n || r->t < p->first) p->first = r->t;
  if (!p->n || r->t > p->last) p->last = r->t;
  p->n++;
  p->bytes += (int64_t)(r->payload_len + p->meta.len);
  return RSIM_OK;
}

/* Truth rows wait in p->truth (a COPY body) until it is big or the commit. */
static int flush_truth(rsim_store *st) {
  pgstore *p = P(st);
  if (!p->truth.len) return RSIM_OK;
  int rc = set_mode(st, MODE_TRUTH);
  if (!rc) rsim_buf_append(&p->copy, p->truth.data, p->truth.len);
  p->truth.len = 0;
  return rc ? rc : send_copy(st);
}

static int be_put_truth(rsim_store *st, const rsim_truth *g) {
  pgstore *p = P(st);
  int rc = write_begin(st);
  if (rc) return rc;
  rsim_buf *b = &p->truth;
  put16(b, 13);
  field_i32(b, p->drive);
  field_i64(b, g->t);
  field_i64(b, g->object_id);
  field_bytes(b, g->cls, strnlen(g->cls, sizeof g->cls));
  const double f[] = {g->x, g->y, g->z, g->vx, g->vy, g->length, g->width, g->height, g->heading};
  for (int k = 0; k < 9; k++) field_f64(b, f[k]);
  return b->len >= TRUTH_FLUSH ? flush_truth(st) : RSIM_OK;
}

static int be_set_meta(rsim_store *st, const char *key, const char *value) {
  pgstore *p = P(st);
  int rc = write_begin(st);
  if (!rc) rc = set_mode(st, MODE_NONE);
  if (rc) return rc;
  char d[16];
  snprintf(d, sizeof d, "%d", p->drive);
  const char *v[3] = {d, key, value};
  return run0(st, "writing metadata",
              "INSERT INTO replaysim.drive_meta VALUES ($1, $2, $3)"
              " ON CONFLICT (drive, key) DO UPDATE SET value = excluded.value",
              3, v);
}

static int be_begin(rsim_store *st) { return write_begin(st); }

/* Sends what waits, writes the counts and ranges, commits. */
static int be_commit(rsim_store *st) {
  pgstore *p = P(st);
  int rc = write_begin(st);
  if (!rc) rc = freeze(st);
  if (!rc) rc = flush_truth(st);
  if (!rc) rc = set_mode(st, MODE_NONE);
  char d[16], a[32], b[32], n[32], bytes[32], sid[32];
  snprintf(d, sizeof d, "%d", p->drive);
  for (size_t i = 0; i < p->n_sid && !rc; i++) {
    const sensor_stat *s = &p->stats[i];
    if (!s->n) continue;
    snprintf(sid, sizeof sid, "%zu", i);
    snprintf(a, sizeof a, "%lld", (long long)s->first);
    snprintf(b, sizeof b, "%lld", (long long)s->last);
    snprintf(n, sizeof n, "%lld", (long long)s->n);
    const char *v[5] = {d, sid, n, a, b};
    rc = run0(st, "writing sensor counts",
              "UPDATE replaysim.sensors SET n_readings = $3, t_first = $4, t_last = $5 WHERE drive = $1 AND sid = $2", 5,
              v);
  }
  if (!rc) {
    snprintf(a, sizeof a, "%lld", (long long)p->first);
    snprintf(b, sizeof b, "%lld", (long long)p->last);
    snprintf(n, sizeof n, "%lld", (long long)p->n);
    snprintf(bytes, sizeof bytes, "%lld", (long long)p->bytes);
    const char *v[5] = {d, p->n ? a : NULL, p->n ? b : NULL, n, bytes};
    rc = run0(st, "writing drive counts",
              "UPDATE replaysim.drives SET t_first = $2, t_last = $3, n_readings = $4, bytes = $5 WHERE id = $1", 5, v);
  }
  if (!rc) rc = run0(st, "committing", "COMMIT", 0, NULL);
  if (!rc) p->in_tx = false;
  return rc;
}

/* Like SQLite's: a transaction the writer left open is committed, so that
** rsim_store_finish says whether the drive is complete. */
static int be_finish(rsim_store *st) { return st->impl && P(st)->in_tx ? be_commit(st) : RSIM_OK; }

const rsim__store_backend rsim__store_pg = {
    .name = "postgresql",
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
