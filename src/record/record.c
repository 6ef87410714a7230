/*
** record.c -- writes a run's outputs, events and statistics into a SQLite
** file (schema in include/rsim/record.h).
**
** Writes go into an open transaction that is committed every BATCH rows
** and on close, so a long run costs few fsyncs and a crash loses at most
** one batch.  The file is written under its final name only after the
** schema is in place; an existing file is replaced only on request.
*/
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record/record_int.h"

#define BATCH 512

struct rsim_record {
  rsim__mcap_rec *mcap; /* set for ".mcap" outputs; then db is NULL */
  sqlite3 *db;
  char *path;
  sqlite3_stmt *put_output, *put_event;
  int pending;
  char errmsg[512];
};

static const char kSchema[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE run(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE components(name TEXT PRIMARY KEY, wasm TEXT, export TEXT, result_type TEXT);"
    "CREATE TABLE outputs(seq INTEGER PRIMARY KEY, t INTEGER NOT NULL, component TEXT NOT NULL,"
    " value BLOB NOT NULL, json TEXT);"
    "CREATE INDEX outputs_by_component ON outputs(component, t);"
    "CREATE TABLE events(id INTEGER PRIMARY KEY, t INTEGER, component TEXT, level TEXT,"
    " message TEXT);"
    "CREATE TABLE stats(component TEXT PRIMARY KEY, calls INTEGER, errors INTEGER,"
    " not_ready INTEGER, outputs INTEGER, mean_us REAL, max_us REAL, limit_hits INTEGER,"
    " restarts INTEGER, retries INTEGER, skipped INTEGER, timing_violations INTEGER, max_fuel INTEGER);"
    "INSERT INTO run(key, value) VALUES('schema_version', '2');";

static int fail(rsim_record *r, int code, const char *what) {
  snprintf(r->errmsg, sizeof r->errmsg, "%s: %s: %s", r->path, what, sqlite3_errmsg(r->db));
  return code;
}

static int exec(rsim_record *r, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(r->db, sql, NULL, NULL, &err) == SQLITE_OK) return RSIM_OK;
  snprintf(r->errmsg, sizeof r->errmsg, "%s: %s", r->path, err ? err : "sqlite error");
  sqlite3_free(err);
  return RSIM_EBACKEND;
}

static int tick(rsim_record *r) {
  if (++r->pending < BATCH) return RSIM_OK;
  r->pending = 0;
  int rc = exec(r, "COMMIT; BEGIN;");
  return rc;
}

static bool is_mcap(const char *path) {
  size_t n = strlen(path);
  return n > 5 && !strcmp(path + n - 5, ".mcap");
}

int rsim_record_open(const char *path, bool overwrite, rsim_record **out, rsim_errbuf *eb) {
  *out = NULL;
  if (access(path, F_OK) == 0) {
    if (!overwrite)
      return rsim_errbuf_set(eb, RSIM_EIO,
                             "%s: output database exists; remove it or pass --overwrite", path);
    char side[4200];
    if (unlink(path) != 0)
      return rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot replace: %s", path, strerror(errno));
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
  }
  rsim_record *r = rsim_xcalloc(1, sizeof *r);
  r->path = rsim_xstrdup(path);
  int rc = RSIM_OK;
  if (is_mcap(path)) {
    rc = rsim__mcap_rec_open(path, &r->mcap, eb);
    if (rc) {
      free(r->path);
      free(r);
      return rc;
    }
    *out = r;
    return RSIM_OK;
  }
  if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
    rc = fail(r, RSIM_EIO, "cannot create");
    goto out;
  }
  if ((rc = exec(r, kSchema)) || (rc = exec(r, "BEGIN;"))) goto out;
  if (sqlite3_prepare_v2(r->db, "INSERT INTO outputs(t, component, value, json) VALUES(?,?,?,?)",
                         -1, &r->put_output, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(r->db,
                         "INSERT INTO events(t, component, level, message) VALUES(?,?,?,?)", -1,
                         &r->put_event, NULL) != SQLITE_OK)
    rc = fail(r, RSIM_EBACKEND, "prepare");
out:
  if (rc) {
    rsim_errbuf_set(eb, rc, "%s", r->errmsg);
    rsim_record_close(r);
    return rc;
  }
  *out = r;
  return RSIM_OK;
}

int rsim_record_close(rsim_record *r) {
  if (!r) return RSIM_OK;
  int rc = RSIM_OK;
  if (r->mcap) {
    char err[512];
    rc = rsim__mcap_rec_close(r->mcap, err, sizeof err);
    if (rc) fprintf(stderr, "replaysim: %s\n", err);
    free(r->path);
    free(r);
    return rc;
  }
  sqlite3_finalize(r->put_output);
  sqlite3_finalize(r->put_event);
  if (r->db && sqlite3_get_autocommit(r->db) == 0) rc = exec(r, "COMMIT;");
  if (r->db) sqlite3_close(r->db);
  free(r->path);
  free(r);
  return rc;
}

const char *rsim_record_errmsg(const rsim_record *r) {
  return r->mcap ? rsim__mcap_rec_errmsg(r->mcap) : r->errmsg;
}

int rsim_record_set(rsim_record *r, const char *key, const char *value) {
  if (r->mcap) return rsim__mcap_rec_set(r->mcap, key, value);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(r->db, "INSERT OR REPLACE INTO run(key, value) VALUES(?, ?)", -1, &st,
                         NULL) != SQLITE_OK)
    return fail(r, RSIM_EBACKEND, "run");
  sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
  int ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_finalize(st);
  return ok ? RSIM_OK : fail(r, RSIM_EBACKEND, "run");
}

int rsim_record_component(rsim_record *r, const char *name, const char *wasm,
                          const char *export_name, const rsim_type *result) {
  if (r->mcap) return RSIM_OK; /* channels are made as outputs arrive */
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(r->db, "INSERT OR REPLACE INTO components VALUES(?, ?, ?, ?)", -1, &st,
                         NULL) != SQLITE_OK)
    return fail(r, RSIM_EBACKEND, "components");
  char *type = result ? rsim_type_str(result) : NULL;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, wasm, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, export_name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, type, -1, SQLITE_TRANSIENT);
  int ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_finalize(st);
  free(type);
  return ok ? RSIM_OK : fail(r, RSIM_EBACKEND, "components");
}

int rsim_record_output(rsim_record *r, rsim_time t, const char *component, const rsim_val *v,
                       const rsim_type *type, const uint8_t *enc, size_t enc_len, const char *json) {
  if (r->mcap) return rsim__mcap_rec_output(r->mcap, t, component, v, type, json ? json : "null");
  sqlite3_stmt *st = r->put_output;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, t);
  sqlite3_bind_text(st, 2, component, -1, SQLITE_STATIC);
  sqlite3_bind_blob64(st, 3, enc_len ? enc : (const void *)"", enc_len, SQLITE_STATIC);
  if (json) sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, 4);
  if (sqlite3_step(st) != SQLITE_DONE) return fail(r, RSIM_EBACKEND, "outputs");
  return tick(r);
}

int rsim_record_event(rsim_record *r, rsim_time t, const char *component, int level,
                      const char *message) {
  if (r->mcap) return rsim__mcap_rec_event(r->mcap, t, component, level, message);
  static const char *const names[] = {"debug", "info", "warn", "error"};
  sqlite3_stmt *st = r->put_event;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, t);
  sqlite3_bind_text(st, 2, component, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, names[level & 3], -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, message, -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_DONE) return fail(r, RSIM_EBACKEND, "events");
  return tick(r);
}

int rsim_record_stats(rsim_record *r, const rsim_component_stats *s) {
  double mean_us = s->calls ? (double)s->total_ns / (double)s->calls / 1e3 : 0, max_us = (double)s->max_ns / 1e3;
  const uint64_t counts[] = {s->calls,    s->errors,  s->not_ready, s->outputs,           s->limit_hits,
                             s->restarts, s->retries, s->skipped,   s->timing_violations, s->max_fuel};
  if (r->mcap) {
    char v[400];
    snprintf(v, sizeof v,
             "calls %llu errors %llu not_ready %llu outputs %llu mean_us %.1f max_us %.1f limit_hits %llu "
             "restarts %llu retries %llu skipped %llu timing_violations %llu max_fuel %llu",
             (unsigned long long)counts[0], (unsigned long long)counts[1], (unsigned long long)counts[2],
             (unsigned long long)counts[3], mean_us, max_us, (unsigned long long)counts[4],
             (unsigned long long)counts[5], (unsigned long long)counts[6], (unsigned long long)counts[7],
             (unsigned long long)counts[8], (unsigned long long)counts[9]);
    char key[300];
    snprintf(key, sizeof key, "stats.%s", s->name);
    return rsim__mcap_rec_set(r->mcap, key, v);
  }
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(r->db, "INSERT OR REPLACE INTO stats VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1,
                         &st, NULL) != SQLITE_OK)
    return fail(r, RSIM_EBACKEND, "stats");
  sqlite3_bind_text(st, 1, s->name, -1, SQLITE_TRANSIENT);
  for (int i = 0; i < 4; i++) sqlite3_bind_int64(st, 2 + i, (sqlite3_int64)counts[i]);
  sqlite3_bind_double(st, 6, mean_us);
  sqlite3_bind_double(st, 7, max_us);
  for (int i = 4; i < 10; i++) sqlite3_bind_int64(st, 4 + i, (sqlite3_int64)counts[i]);
  int ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_finalize(st);
  return ok ? RSIM_OK : fail(r, RSIM_EBACKEND, "stats");
}

int rsim_record_reading(rsim_record *r, const rsim_reading *reading) {
  return r->mcap ? rsim__mcap_rec_reading(r->mcap, reading) : RSIM_OK;
}
