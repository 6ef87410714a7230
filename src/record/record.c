/*
** record.c -- writes a run's outputs, events and statistics into a SQLite
** file (schema in include/rsim/record.h).
**
** Writes go into an open transaction that is committed at the end of an
** instant once BATCH rows are pending or a second of sim time has passed
** since the last commit, and on close: a long run costs few commits, a run
** killed loses at most about a second of its outputs, and the file always
** holds whole instants.  WAL with synchronous=NORMAL: a commit survives
** the process being killed (not a power cut, which loses the last few but
** never the file), without an fsync each.  So a run cut short
** (killed, out of disk) leaves a database that opens, holds a prefix of
** the run, and says how far it got (run.recorded_to) and that it is
** incomplete (run.status, 'incomplete' from the start until the run says
** it ended).  An existing file is replaced only on request.
**
** The first failure is kept (sticky): from then on every call returns it
** and writes nothing, so the engine can stop the run with it and close
** can still report it after a COMMIT that failed.
*/
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record/record_int.h"

#define BATCH 512
/* An instant with more rows than this is committed in the middle. */
#define BATCH_MAX (8 * BATCH)

struct rsim_record {
  rsim__mcap_rec *mcap; /* set for ".mcap" outputs; then db is NULL */
  sqlite3 *db;
  char *path;
  sqlite3_stmt *put_output, *put_event, *put_run;
  int pending;
  bool any_done;      /* an instant has ended: done_to holds its time */
  rsim_time done_to;  /* the last instant whose rows have all been given */
  rsim_time committed_to; /* the instant of the last commit (or the first instant) */
  int err;            /* the first failure (sticky), RSIM_OK while none */
  char errmsg[512];
};

static const char kSchema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "BEGIN;"
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
    "INSERT INTO run(key, value) VALUES('schema_version', '2');"
    "INSERT INTO run(key, value) VALUES('status', 'incomplete');"
    "COMMIT;";

/* Keeps the first failure: "PATH: what: sqlite's message (errno text)".
** Called right after the failing call, so errno is still the system's
** reason when SQLite did not keep one (it keeps none for a full disk). */
static int fail(rsim_record *r, const char *what) {
  int os = errno;
  if (r->err) return r->err;
  int code = sqlite3_errcode(r->db), sys = sqlite3_system_errno(r->db);
  bool io = code == SQLITE_FULL || code == SQLITE_IOERR || code == SQLITE_CANTOPEN;
  if (!sys && io) sys = os;
  r->err = io ? RSIM_EIO : RSIM_EBACKEND;
  snprintf(r->errmsg, sizeof r->errmsg, "%s: %s: %s%s%s%s", r->path, what, sqlite3_errmsg(r->db),
           sys ? " (" : "", sys ? strerror(sys) : "", sys ? ")" : "");
  return r->err;
}

static int exec(rsim_record *r, const char *sql, const char *what) {
  if (r->err) return r->err;
  return sqlite3_exec(r->db, sql, NULL, NULL, NULL) == SQLITE_OK ? RSIM_OK : fail(r, what);
}

/* Keeps the first failure of the MCAP output, with its message. */
static int mcap_rc(rsim_record *r, int rc) {
  if (rc && !r->err) {
    r->err = rc;
    snprintf(r->errmsg, sizeof r->errmsg, "%s", rsim__mcap_rec_errmsg(r->mcap));
  }
  return rc;
}

static int put_run(rsim_record *r, const char *key, const char *value) {
  sqlite3_stmt *st = r->put_run;
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
  return sqlite3_step(st) == SQLITE_DONE ? RSIM_OK : fail(r, "writing the run table");
}

/* Commits what is pending, with how far the run got, in one transaction. */
static int commit(rsim_record *r, bool reopen) {
  if (r->any_done) {
    char t[24];
    snprintf(t, sizeof t, "%" PRId64, r->done_to);
    int rc = put_run(r, "recorded_to", t);
    if (rc) return rc;
    r->committed_to = r->done_to;
  }
  r->pending = 0;
  return exec(r, reopen ? "COMMIT; BEGIN;" : "COMMIT;", "committing");
}

static int tick(rsim_record *r) {
  if (++r->pending < BATCH_MAX) return RSIM_OK;
  return commit(r, true);
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
    rc = fail(r, "cannot create");
    goto out;
  }
  /* The schema and status 'incomplete' are committed, in one transaction,
  ** before any row. */
  if ((rc = exec(r, kSchema, "creating the schema")) || (rc = exec(r, "BEGIN;", "starting a transaction"))) goto out;
  if (sqlite3_prepare_v2(r->db, "INSERT INTO outputs(t, component, value, json) VALUES(?,?,?,?)",
                         -1, &r->put_output, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(r->db,
                         "INSERT INTO events(t, component, level, message) VALUES(?,?,?,?)", -1,
                         &r->put_event, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(r->db, "INSERT OR REPLACE INTO run(key, value) VALUES(?, ?)", -1, &r->put_run, NULL) !=
          SQLITE_OK)
    rc = fail(r, "prepare");
out:
  if (rc) {
    rsim_errbuf_set(eb, rc, "%s", r->errmsg);
    rsim_record_close(r, NULL);
    return rc;
  }
  *out = r;
  return RSIM_OK;
}

int rsim_record_close(rsim_record *r, rsim_errbuf *eb) {
  if (!r) return RSIM_OK;
  if (r->mcap) {
    char err[512];
    /* After a failure the file is not finished: it is removed instead. */
    if (rsim__mcap_rec_close(r->mcap, r->err == RSIM_OK, err, sizeof err) && !r->err) {
      r->err = RSIM_EIO;
      snprintf(r->errmsg, sizeof r->errmsg, "%s", err);
    }
  } else {
    sqlite3_finalize(r->put_output);
    sqlite3_finalize(r->put_event);
    if (r->db && !r->err && sqlite3_get_autocommit(r->db) == 0) commit(r, false);
    sqlite3_finalize(r->put_run);
    /* After a failure what was not committed goes; the file keeps whole instants. */
    if (r->db && sqlite3_get_autocommit(r->db) == 0) sqlite3_exec(r->db, "ROLLBACK;", NULL, NULL, NULL);
    if (r->db) sqlite3_close(r->db);
  }
  int rc = r->err;
  if (rc) rsim_errbuf_set(eb, rc, "%s", r->errmsg);
  free(r->path);
  free(r);
  return rc;
}

const char *rsim_record_errmsg(const rsim_record *r) { return r->errmsg; }

int rsim_record_error(const rsim_record *r) { return r->err; }

int rsim_record_set(rsim_record *r, const char *key, const char *value) {
  if (r->err) return r->err;
  if (r->mcap) return mcap_rc(r, rsim__mcap_rec_set(r->mcap, key, value));
  return put_run(r, key, value);
}

int rsim_record_instant_done(rsim_record *r, rsim_time t) {
  if (r->err) return r->err;
  if (!r->any_done) r->committed_to = t; /* the first second counts from the first instant */
  r->done_to = t;
  r->any_done = true;
  if (r->mcap || !r->pending) return RSIM_OK;
  if (r->pending < BATCH && t - r->committed_to < RSIM_NS_PER_S && t >= r->committed_to) return RSIM_OK;
  return commit(r, true);
}

int rsim_record_finish(rsim_record *r, const char *error) {
  if (r->err) return r->err;
  int rc = error ? rsim_record_set(r, "error", error) : RSIM_OK;
  if (!rc) rc = rsim_record_set(r, "status", error ? "incomplete" : "complete");
  return rc;
}

int rsim_record_component(rsim_record *r, const char *name, const char *wasm,
                          const char *export_name, const rsim_type *result) {
  if (r->err) return r->err;
  if (r->mcap) return RSIM_OK; /* channels are made as outputs arrive */
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(r->db, "INSERT OR REPLACE INTO components VALUES(?, ?, ?, ?)", -1, &st,
                         NULL) != SQLITE_OK)
    return fail(r, "components");
  char *type = result ? rsim_type_str(result) : NULL;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, wasm, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, export_name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, type, -1, SQLITE_TRANSIENT);
  int ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_finalize(st);
  free(type);
  return ok ? RSIM_OK : fail(r, "components");
}

int rsim_record_output(rsim_record *r, rsim_time t, const char *component, const rsim_val *v,
                       const rsim_type *type, const uint8_t *enc, size_t enc_len, const char *json) {
  if (r->err) return r->err;
  if (r->mcap) return mcap_rc(r, rsim__mcap_rec_output(r->mcap, t, component, v, type, json ? json : "null"));
  sqlite3_stmt *st = r->put_output;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, t);
  sqlite3_bind_text(st, 2, component, -1, SQLITE_STATIC);
  sqlite3_bind_blob64(st, 3, enc_len ? enc : (const void *)"", enc_len, SQLITE_STATIC);
  if (json) sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, 4);
  if (sqlite3_step(st) != SQLITE_DONE) return fail(r, "outputs");
  return tick(r);
}

int rsim_record_event(rsim_record *r, rsim_time t, const char *component, int level,
                      const char *message) {
  if (r->err) return r->err;
  if (r->mcap) return mcap_rc(r, rsim__mcap_rec_event(r->mcap, t, component, level, message));
  static const char *const names[] = {"debug", "info", "warn", "error"};
  sqlite3_stmt *st = r->put_event;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, t);
  sqlite3_bind_text(st, 2, component, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, names[level & 3], -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, message, -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_DONE) return fail(r, "events");
  return tick(r);
}

int rsim_record_stats(rsim_record *r, const rsim_component_stats *s) {
  if (r->err) return r->err;
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
    return mcap_rc(r, rsim__mcap_rec_set(r->mcap, key, v));
  }
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(r->db, "INSERT OR REPLACE INTO stats VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1,
                         &st, NULL) != SQLITE_OK)
    return fail(r, "stats");
  sqlite3_bind_text(st, 1, s->name, -1, SQLITE_TRANSIENT);
  for (int i = 0; i < 4; i++) sqlite3_bind_int64(st, 2 + i, (sqlite3_int64)counts[i]);
  sqlite3_bind_double(st, 6, mean_us);
  sqlite3_bind_double(st, 7, max_us);
  for (int i = 4; i < 10; i++) sqlite3_bind_int64(st, 4 + i, (sqlite3_int64)counts[i]);
  int ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_finalize(st);
  return ok ? RSIM_OK : fail(r, "stats");
}

int rsim_record_reading(rsim_record *r, const rsim_reading *reading) {
  if (r->err) return r->err;
  return r->mcap ? mcap_rc(r, rsim__mcap_rec_reading(r->mcap, reading)) : RSIM_OK;
}
