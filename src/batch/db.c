/*
** db.c -- the results database of a batch (SQLite; schema in rsim/batch.h).
** Only the process that deals the jobs writes it: workers and ranks send
** their results to it, so no shared file system is needed for results.
** Each result is committed as it arrives, so a batch that is stopped or
** killed keeps every result it had (what --resume goes by).
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsim/batch.h"

struct rsim_batch_db {
  sqlite3 *h;
  char err[512];
};

static const char kSchema[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS batch(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS jobs(key TEXT PRIMARY KEY, seq INTEGER, name TEXT, graph TEXT, store TEXT,"
    " t_from INTEGER, t_to INTEGER, warmup INTEGER, status TEXT, reason TEXT, digest TEXT, partial INTEGER,"
    " wall_s REAL, readings INTEGER, faults INTEGER, timing_violations INTEGER, out TEXT, attempts INTEGER,"
    " worker TEXT);"
    "CREATE TABLE IF NOT EXISTS components(job TEXT, name TEXT, digest TEXT, calls INTEGER, outputs INTEGER,"
    " errors INTEGER, limit_hits INTEGER, timing_violations INTEGER, mean_us REAL, max_us REAL,"
    " PRIMARY KEY(job, name));"
    "INSERT OR IGNORE INTO batch VALUES('schema', '1');";

static int db_fail(rsim_batch_db *db, const char *what) {
  snprintf(db->err, sizeof db->err, "batch: results database: %s: %s", what, sqlite3_errmsg(db->h));
  return RSIM_EBACKEND;
}

int rsim_batch_db_open(const char *path, rsim_batch_db **out, rsim_errbuf *eb) {
  *out = NULL;
  rsim_batch_db *db = rsim_xcalloc(1, sizeof *db);
  if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
      sqlite3_exec(db->h, kSchema, NULL, NULL, NULL) != SQLITE_OK) {
    rsim_errbuf_set(eb, RSIM_EIO, "batch: cannot open results database %s: %s", path, sqlite3_errmsg(db->h));
    sqlite3_close(db->h);
    free(db);
    return RSIM_EIO;
  }
  sqlite3_busy_timeout(db->h, 10000);
  *out = db;
  return RSIM_OK;
}

void rsim_batch_db_close(rsim_batch_db *db) {
  if (!db) return;
  sqlite3_close(db->h);
  free(db);
}

const char *rsim_batch_db_errmsg(const rsim_batch_db *db) { return db->err; }

bool rsim_batch_db_done(rsim_batch_db *db, const char *key) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->h, "SELECT 1 FROM jobs WHERE key=? AND status='ok'", -1, &st, NULL) != SQLITE_OK)
    return false;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  bool done = sqlite3_step(st) == SQLITE_ROW;
  sqlite3_finalize(st);
  return done;
}

int rsim_batch_db_set(rsim_batch_db *db, const char *key, const char *value) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db->h, "INSERT OR REPLACE INTO batch VALUES(?,?)", -1, &st, NULL) != SQLITE_OK)
    return db_fail(db, "set");
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st) == SQLITE_DONE ? RSIM_OK : db_fail(db, "set");
  sqlite3_finalize(st);
  return rc;
}

int rsim_batch_db_put(rsim_batch_db *db, const rsim_batch_job *j, const rsim_batch_result *r) {
  sqlite3_stmt *st = NULL;
  int rc = RSIM_OK;
  if (sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return db_fail(db, "begin");
  if (sqlite3_prepare_v2(db->h, "INSERT OR REPLACE INTO jobs VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st,
                         NULL) != SQLITE_OK) {
    rc = db_fail(db, "insert");
    goto out;
  }
  int k = 1;
  sqlite3_bind_text(st, k++, j->key, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, k++, (sqlite3_int64)j->seq);
  sqlite3_bind_text(st, k++, j->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, k++, j->graph, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, k++, j->store, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, k++, j->from);
  sqlite3_bind_int64(st, k++, j->to);
  sqlite3_bind_int64(st, k++, j->warmup_ns);
  sqlite3_bind_text(st, k++, r->ok ? "ok" : "failed", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, k++, r->reason ? r->reason : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, k++, r->digest, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, k++, r->partial);
  sqlite3_bind_double(st, k++, r->wall_s);
  sqlite3_bind_int64(st, k++, (sqlite3_int64)r->readings);
  sqlite3_bind_int64(st, k++, (sqlite3_int64)r->faults);
  sqlite3_bind_int64(st, k++, (sqlite3_int64)r->timing_violations);
  sqlite3_bind_text(st, k++, r->out ? r->out : "", -1, SQLITE_STATIC);
  sqlite3_bind_int(st, k++, r->attempts);
  sqlite3_bind_text(st, k++, r->worker ? r->worker : "", -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_DONE) {
    rc = db_fail(db, "insert");
    goto out;
  }
  sqlite3_finalize(st);
  st = NULL;
  if (sqlite3_prepare_v2(db->h, "DELETE FROM components WHERE job=?", -1, &st, NULL) != SQLITE_OK) {
    rc = db_fail(db, "delete");
    goto out;
  }
  sqlite3_bind_text(st, 1, j->key, -1, SQLITE_STATIC);
  sqlite3_step(st);
  sqlite3_finalize(st);
  st = NULL;
  if (sqlite3_prepare_v2(db->h, "INSERT INTO components VALUES(?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) {
    rc = db_fail(db, "insert");
    goto out;
  }
  for (size_t i = 0; i < r->n_comps; i++) {
    const rsim_batch_comp *c = &r->comps[i];
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, j->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->digest, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->calls);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)c->outputs);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)c->errors);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)c->limit_hits);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)c->timing_violations);
    sqlite3_bind_double(st, 9, c->mean_us);
    sqlite3_bind_double(st, 10, c->max_us);
    if (sqlite3_step(st) != SQLITE_DONE) {
      rc = db_fail(db, "insert");
      goto out;
    }
  }
out:
  sqlite3_finalize(st);
  if (sqlite3_exec(db->h, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK && !rc) rc = db_fail(db, "commit");
  return rc;
}

int rsim_batch_db_merge(rsim_batch_db *db, const char *other) {
  char *sql = sqlite3_mprintf(
      "ATTACH %Q AS o;"
      "BEGIN IMMEDIATE;"
      "CREATE TEMP TABLE take AS SELECT key FROM o.jobs WHERE NOT EXISTS"
      " (SELECT 1 FROM main.jobs m WHERE m.key=o.jobs.key AND m.status='ok' AND o.jobs.status!='ok');"
      "DELETE FROM main.components WHERE job IN (SELECT key FROM take);"
      "INSERT OR REPLACE INTO main.jobs SELECT * FROM o.jobs WHERE key IN (SELECT key FROM take);"
      "INSERT INTO main.components SELECT * FROM o.components WHERE job IN (SELECT key FROM take);"
      "DROP TABLE take;"
      "COMMIT;",
      other);
  char *msg = NULL;
  int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
  sqlite3_free(sql);
  if (rc != SQLITE_OK) {
    snprintf(db->err, sizeof db->err, "batch: merge %s: %s", other, msg ? msg : sqlite3_errmsg(db->h));
    sqlite3_free(msg);
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
  }
  sqlite3_exec(db->h, "DETACH o", NULL, NULL, NULL);
  return rc == SQLITE_OK ? RSIM_OK : RSIM_EBACKEND;
}

static char *col_dup(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return rsim_xstrdup(t ? (const char *)t : "");
}

int rsim_batch_db_each(rsim_batch_db *db, rsim_batch_row_fn fn, void *ud) {
  sqlite3_stmt *st = NULL, *cs = NULL;
  if (sqlite3_prepare_v2(db->h,
                         "SELECT key, seq, name, graph, store, t_from, t_to, warmup, status, reason, digest, partial,"
                         " wall_s, readings, faults, timing_violations, out, attempts, worker FROM jobs ORDER BY seq, key",
                         -1, &st, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db->h,
                         "SELECT name, digest, calls, outputs, errors, limit_hits, timing_violations, mean_us, max_us"
                         " FROM components WHERE job=? ORDER BY rowid",
                         -1, &cs, NULL) != SQLITE_OK) {
    sqlite3_finalize(st);
    return db_fail(db, "read");
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    rsim_batch_job j = {.key = col_dup(st, 0), .seq = (size_t)sqlite3_column_int64(st, 1), .name = col_dup(st, 2),
                        .graph = col_dup(st, 3), .store = col_dup(st, 4), .from = sqlite3_column_int64(st, 5),
                        .to = sqlite3_column_int64(st, 6), .warmup_ns = sqlite3_column_int64(st, 7)};
    rsim_batch_result r = {.key = col_dup(st, 0), .ok = !strcmp((const char *)sqlite3_column_text(st, 8), "ok"),
                           .reason = col_dup(st, 9), .partial = sqlite3_column_int(st, 11),
                           .wall_s = sqlite3_column_double(st, 12),
                           .readings = (uint64_t)sqlite3_column_int64(st, 13),
                           .faults = (uint64_t)sqlite3_column_int64(st, 14),
                           .timing_violations = (uint64_t)sqlite3_column_int64(st, 15), .out = col_dup(st, 16),
                           .attempts = sqlite3_column_int(st, 17), .worker = col_dup(st, 18)};
    const unsigned char *d = sqlite3_column_text(st, 10);
    snprintf(r.digest, sizeof r.digest, "%s", d ? (const char *)d : "");
    sqlite3_reset(cs);
    sqlite3_bind_text(cs, 1, j.key, -1, SQLITE_STATIC);
    size_t cap = 0;
    while (sqlite3_step(cs) == SQLITE_ROW) {
      if (r.n_comps == cap) {
        cap = cap ? cap * 2 : 8;
        r.comps = rsim_xrealloc(r.comps, cap * sizeof *r.comps);
      }
      rsim_batch_comp *c = &r.comps[r.n_comps++];
      *c = (rsim_batch_comp){.name = col_dup(cs, 0), .calls = (uint64_t)sqlite3_column_int64(cs, 2),
                             .outputs = (uint64_t)sqlite3_column_int64(cs, 3),
                             .errors = (uint64_t)sqlite3_column_int64(cs, 4),
                             .limit_hits = (uint64_t)sqlite3_column_int64(cs, 5),
                             .timing_violations = (uint64_t)sqlite3_column_int64(cs, 6),
                             .mean_us = sqlite3_column_double(cs, 7), .max_us = sqlite3_column_double(cs, 8)};
      const unsigned char *cd = sqlite3_column_text(cs, 1);
      snprintf(c->digest, sizeof c->digest, "%s", cd ? (const char *)cd : "");
    }
    fn(ud, &j, &r);
    rsim_batch_job_clear(&j);
    rsim_batch_result_free(&r);
  }
  sqlite3_finalize(st);
  sqlite3_finalize(cs);
  return rc == SQLITE_DONE ? RSIM_OK : db_fail(db, "read");
}
