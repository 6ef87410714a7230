/*
** pg_db.c -- PostgreSQL databases of drives: store URIs, connecting, the
** schema replaysim creates and versions (`replaysim db init`) and the list
** of drives (`replaysim db ls`).  The store backend itself is pg.c.
**
** Schema "replaysim", version 1:
**   meta(key, value)                       -- schema_version, layout
**   drives(id, name UNIQUE, imported, t_first, t_last, n_readings, bytes)
**   drive_meta(drive, key, value)          -- generator, seed, ...
**   sensors(drive, sid, id, kind, rate_hz, n_readings, t_first, t_last)
**   sensor_meta(drive, sid, key, value)
**   readings(drive, t, sid, seq, payload, meta)
**       PRIMARY KEY (drive, t, sid, seq); index (drive, sid, t, seq)
**       partitioned by range of t, one partition a UTC day, created as
**       drives are imported (pg.c); a TimescaleDB hypertable instead when
**       the extension is installed in the database at `db init`.
**   truth(drive, t, object_id, cls, x, y, z, vx, vy, length, width, height, heading)
**
** sid numbers a drive's sensors in bytewise id order, so ORDER BY t, sid,
** seq is the store order of store.h (seq is the import order).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

static const char kSchemaHead[] =
    "CREATE SCHEMA replaysim;"
    "CREATE TABLE replaysim.meta(key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE replaysim.drives(id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " name text NOT NULL UNIQUE, imported timestamptz NOT NULL DEFAULT now(),"
    " t_first bigint, t_last bigint, n_readings bigint NOT NULL DEFAULT 0, bytes bigint NOT NULL DEFAULT 0);"
    "CREATE TABLE replaysim.drive_meta(drive integer NOT NULL REFERENCES replaysim.drives ON DELETE CASCADE,"
    " key text NOT NULL, value text NOT NULL, PRIMARY KEY(drive, key));"
    "CREATE TABLE replaysim.sensors(drive integer NOT NULL REFERENCES replaysim.drives ON DELETE CASCADE,"
    " sid integer NOT NULL, id text NOT NULL, kind text NOT NULL, rate_hz double precision NOT NULL,"
    " n_readings bigint NOT NULL DEFAULT 0, t_first bigint, t_last bigint,"
    " PRIMARY KEY(drive, sid), UNIQUE(drive, id));"
    "CREATE TABLE replaysim.sensor_meta(drive integer NOT NULL, sid integer NOT NULL, key text NOT NULL,"
    " value text NOT NULL, PRIMARY KEY(drive, sid, key),"
    " FOREIGN KEY(drive, sid) REFERENCES replaysim.sensors ON DELETE CASCADE);"
    "CREATE TABLE replaysim.truth(drive integer NOT NULL REFERENCES replaysim.drives ON DELETE CASCADE,"
    " t bigint NOT NULL, object_id bigint NOT NULL, cls text NOT NULL, x double precision, y double precision,"
    " z double precision, vx double precision, vy double precision, length double precision,"
    " width double precision, height double precision, heading double precision);"
    "CREATE INDEX truth_by_t ON replaysim.truth(drive, t, object_id);";

/* Payloads are noisy sensor data: compressing them costs import time for
** little; EXTERNAL keeps them out of line, uncompressed. */
static const char kReadings[] =
    "CREATE TABLE replaysim.readings(drive integer NOT NULL, t bigint NOT NULL, sid integer NOT NULL,"
    " seq bigint NOT NULL, payload bytea NOT NULL, meta bytea NOT NULL, PRIMARY KEY(drive, t, sid, seq))%s;"
    "ALTER TABLE replaysim.readings ALTER payload SET STORAGE EXTERNAL;"
    "CREATE INDEX readings_by_sensor ON replaysim.readings(drive, sid, t, seq);";

bool rsim__pg_lost(PGconn *c, const PGresult *r) {
  if (PQstatus(c) == CONNECTION_BAD) return true;
  /* SQLSTATE class 08, connection exception; 57P01-57P03, the server ends
  ** the session (admin or crash shutdown, pg_terminate_backend). */
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  return state && (!strncmp(state, "08", 2) || !strcmp(state, "57P01") || !strcmp(state, "57P02") ||
                   !strcmp(state, "57P03"));
}

void rsim__pg_msg(PGconn *c, const PGresult *r, char *out, size_t n) {
  const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  if (!m || !*m || PQstatus(c) == CONNECTION_BAD) m = PQerrorMessage(c);
  if (!m || !*m) m = r ? PQresultErrorMessage(r) : "unknown error";
  /* libpq's messages run over lines with tabs: one line, spaces collapsed. */
  size_t k = 0;
  bool space = false;
  for (const char *p = m; *p && k + 1 < n; p++) {
    bool ws = *p == '\n' || *p == '\t' || *p == ' ' || *p == '\r';
    if (ws) {
      space = k > 0;
      continue;
    }
    if (space && k + 2 < n) out[k++] = ' ';
    space = false;
    out[k++] = *p;
  }
  out[k] = 0;
}

static int hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes s[0..n) (a URI query value); NULL when malformed. */
static char *pct_decode(const char *s, size_t n) {
  char *out = rsim_xmalloc(n + 1);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      int a = i + 2 < n ? hexval(s[i + 1]) : -1, b = i + 2 < n ? hexval(s[i + 2]) : -1;
      if (a < 0 || b < 0 || (a == 0 && b == 0)) {
        free(out);
        return NULL;
      }
      out[k++] = (char)(a * 16 + b);
      i += 2;
    } else {
      out[k++] = s[i] == '+' ? ' ' : s[i];
    }
  }
  out[k] = 0;
  return out;
}

void rsim__pg_uri_free(rsim__pg_uri *u) {
  free(u->conninfo);
  free(u->drive);
  memset(u, 0, sizeof *u);
}

int rsim__pg_uri_parse(const char *uri, rsim__pg_uri *u, rsim_errbuf *eb) {
  memset(u, 0, sizeof *u);
  size_t skip = !strncmp(uri, "postgresql://", 13) ? 13 : !strncmp(uri, "postgres://", 11) ? 11 : 0;
  if (!skip) return rsim_errbuf_set(eb, RSIM_EINVAL, "%s: not a postgresql:// URI", uri);
  const char *auth = uri + skip, *auth_end = auth + strcspn(auth, "/?");
  const char *at = NULL;
  for (const char *p = auth; p < auth_end; p++)
    if (*p == '@') at = p;
  bool password = at && memchr(auth, ':', (size_t)(at - auth));
  const char *q = strchr(uri, '?');
  rsim_buf conn = {0};
  rsim_buf_append(&conn, uri, q ? (size_t)(q - uri) : strlen(uri));
  int rc = RSIM_OK;
  char sep = '?';
  for (const char *p = q ? q + 1 : NULL; p && *p && !rc;) {
    size_t n = strcspn(p, "&");
    const char *eq = memchr(p, '=', n);
    size_t klen = eq ? (size_t)(eq - p) : n;
    if (klen == 5 && !strncmp(p, "drive", 5)) {
      free(u->drive);
      u->drive = eq ? pct_decode(eq + 1, n - klen - 1) : NULL;
      if (!u->drive || !*u->drive || !rsim_utf8_valid(u->drive, strlen(u->drive)))
        rc = rsim_errbuf_set(eb, RSIM_EINVAL, "%s: drive= needs a name (UTF-8, percent-encoded)", uri);
    } else {
      if (klen == 8 && !strncmp(p, "password", 8)) password = true;
      rsim_buf_putc(&conn, sep);
      rsim_buf_append(&conn, p, n);
      sep = '&';
    }
    p += n + (p[n] == '&');
  }
  if (!rc && password)
    rc = rsim_errbuf_set(eb, RSIM_EINVAL,
                         "a PostgreSQL URI must not hold a password: set PGPASSWORD or use ~/.pgpass (or "
                         "PGPASSFILE); the URI was refused, not shown");
  u->conninfo = rsim_buf_take_str(&conn);
  if (rc) rsim__pg_uri_free(u);
  return rc;
}

/* The library never prints: the server's notices are dropped. */
static void quiet(void *ud, const char *msg) {}

int rsim__pg_connect(const char *shown, const rsim__pg_uri *u, bool need_schema, PGconn **out, bool *has_schema,
                     bool *hypertable, rsim_errbuf *eb) {
  *out = NULL;
  const char *const keys[] = {"dbname", "fallback_application_name", NULL};
  const char *const vals[] = {u->conninfo, "replaysim", NULL};
  PGconn *c = PQconnectdbParams(keys, vals, 1);
  char msg[400];
  if (!c) return rsim_errbuf_set(eb, RSIM_ENOMEM, "%s: cannot connect: out of memory", shown);
  if (PQstatus(c) != CONNECTION_OK) {
    rsim__pg_msg(c, NULL, msg, sizeof msg);
    PQfinish(c);
    return rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot connect: %s", shown, msg);
  }
  PQsetNoticeProcessor(c, quiet, NULL);
  PGresult *r = PQexec(c, "SELECT key, value FROM replaysim.meta WHERE key IN ('schema_version', 'layout')");
  int rc = RSIM_OK;
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    bool absent = state && (!strcmp(state, "42P01") || !strcmp(state, "3F000"));
    rsim__pg_msg(c, r, msg, sizeof msg);
    if (absent && !need_schema) *has_schema = false;
    else if (absent)
      rc = rsim_errbuf_set(eb, RSIM_ENOTFOUND, "%s: the database has no replaysim schema (replaysim db init URI creates it)",
                           shown);
    else rc = rsim_errbuf_set(eb, rsim__pg_lost(c, r) ? RSIM_EIO : RSIM_EBACKEND, "%s: reading the schema: %s", shown, msg);
  } else {
    const char *version = NULL;
    *hypertable = false;
    for (int i = 0; i < PQntuples(r); i++) {
      if (!strcmp(PQgetvalue(r, i, 0), "schema_version")) version = PQgetvalue(r, i, 1);
      else *hypertable = !strcmp(PQgetvalue(r, i, 1), "hypertable");
    }
    if (!version || strcmp(version, RSIM_PG_SCHEMA_VERSION))
      rc = rsim_errbuf_set(eb, RSIM_ECORRUPT,
                           "%s: the replaysim schema in this database is version %s; this replaysim reads version %s",
                           shown, version ? version : "(none)", RSIM_PG_SCHEMA_VERSION);
    if (has_schema) *has_schema = true;
  }
  PQclear(r);
  if (rc) {
    PQfinish(c);
    return rc;
  }
  *out = c;
  return RSIM_OK;
}

/* Runs one command (or several, without parameters); RSIM_OK or a message. */
static int exec_cmd(PGconn *c, const char *shown, const char *what, const char *sql, rsim_errbuf *eb) {
  PGresult *r = PQexec(c, sql);
  int rc = RSIM_OK;
  ExecStatusType s = PQresultStatus(r);
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
    char msg[400];
    rsim__pg_msg(c, r, msg, sizeof msg);
    rc = rsim_errbuf_set(eb, rsim__pg_lost(c, r) ? RSIM_EIO : RSIM_EBACKEND, "%s: %s: %s", shown, what, msg);
  }
  PQclear(r);
  return rc;
}

int rsim_db_init(const char *uri, bool *created, rsim_errbuf *eb) {
  *created = false;
  rsim__pg_uri u;
  int rc = rsim__pg_uri_parse(uri, &u, eb);
  if (rc) return rc;
  PGconn *c;
  bool has = false, hyper = false;
  rc = rsim__pg_connect(uri, &u, false, &c, &has, &hyper, eb);
  rsim__pg_uri_free(&u);
  if (rc || has) {
    PQfinish(c);
    return rc;
  }
  rc = exec_cmd(c, uri, "creating the schema", "BEGIN", eb);
  bool timescale = false;
  if (!rc) {
    PGresult *r = PQexec(c, "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'");
    timescale = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    PQclear(r);
  }
  if (!rc) rc = exec_cmd(c, uri, "creating the schema", kSchemaHead, eb);
  if (!rc) {
    char sql[sizeof kReadings + 64];
    snprintf(sql, sizeof sql, kReadings, timescale ? "" : " PARTITION BY RANGE (t)");
    rc = exec_cmd(c, uri, "creating the readings table", sql, eb);
  }
  /* One chunk a day, as the partitions are otherwise. */
  if (!rc && timescale)
    rc = exec_cmd(c, uri, "making readings a hypertable",
                  "SELECT create_hypertable('replaysim.readings', 't', chunk_time_interval => 86400000000000::bigint)",
                  eb);
  if (!rc)
    rc = exec_cmd(c, uri, "creating the schema",
                  timescale ? "INSERT INTO replaysim.meta VALUES ('schema_version', '" RSIM_PG_SCHEMA_VERSION
                              "'), ('layout', 'hypertable')"
                            : "INSERT INTO replaysim.meta VALUES ('schema_version', '" RSIM_PG_SCHEMA_VERSION
                              "'), ('layout', 'partitioned')",
                  eb);
  if (!rc) rc = exec_cmd(c, uri, "creating the schema", "COMMIT", eb);
  *created = !rc;
  PQfinish(c);
  return rc;
}

void rsim_db_drives_free(rsim_db_drive *d, size_t n) {
  for (size_t i = 0; i < n; i++) free(d[i].name);
  free(d);
}

int rsim_db_list(const char *uri, rsim_db_drive **out, size_t *out_n, rsim_errbuf *eb) {
  *out = NULL;
  *out_n = 0;
  rsim__pg_uri u;
  int rc = rsim__pg_uri_parse(uri, &u, eb);
  if (rc) return rc;
  PGconn *c;
  bool hyper;
  rc = rsim__pg_connect(uri, &u, true, &c, NULL, &hyper, eb);
  rsim__pg_uri_free(&u);
  if (rc) return rc;
  PGresult *r = PQexec(c, "SELECT d.name, coalesce(d.t_first, 0), coalesce(d.t_last, 0), d.n_readings, d.bytes,"
                          " (SELECT count(*) FROM replaysim.sensors s WHERE s.drive = d.id)"
                          " FROM replaysim.drives d ORDER BY d.name COLLATE \"C\"");
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    char msg[400];
    rsim__pg_msg(c, r, msg, sizeof msg);
    rc = rsim_errbuf_set(eb, RSIM_EBACKEND, "%s: listing drives: %s", uri, msg);
  } else {
    size_t n = (size_t)PQntuples(r);
    *out = rsim_xcalloc(n ? n : 1, sizeof **out);
    for (size_t i = 0; i < n; i++) {
      rsim_db_drive *d = &(*out)[i];
      d->name = rsim_xstrdup(PQgetvalue(r, (int)i, 0));
      d->first = strtoll(PQgetvalue(r, (int)i, 1), NULL, 10);
      d->last = strtoll(PQgetvalue(r, (int)i, 2), NULL, 10);
      d->readings = strtoll(PQgetvalue(r, (int)i, 3), NULL, 10);
      d->bytes = strtoll(PQgetvalue(r, (int)i, 4), NULL, 10);
      d->sensors = strtoll(PQgetvalue(r, (int)i, 5), NULL, 10);
    }
    *out_n = n;
  }
  PQclear(r);
  PQfinish(c);
  return rc;
}
