/*
** db.c -- the results database of a batch (SQLite; schema in rsim/batch.h).
** Only the process that deals the jobs writes it: workers and ranks send
** their results to it, so no shared file system is needed for results.
** Each result is committed as it arrives, so a batch that is stopped or
** killed keeps every result it had (what --resume goes by).
*/
#include <math.h>
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

/* ---- scores (metrics table) ----------------------------------------------------
** Kept apart from the rest of the file, in SQL that PostgreSQL takes as it
** is (no INSERT OR REPLACE, no rowid): a score's place among its job's is
** its seq, which is also how they are read back in order. */
static const char kMetricsSchema[] =
    "CREATE TABLE IF NOT EXISTS metrics(job TEXT NOT NULL, seq BIGINT NOT NULL, component TEXT, kind TEXT,"
    " scope TEXT, t0 BIGINT, t1 BIGINT, class TEXT, metric TEXT, value DOUBLE PRECISION, PRIMARY KEY(job, seq))";

static int metrics_table(rsim_batch_db *db) {
  return sqlite3_exec(db->h, kMetricsSchema, NULL, NULL, NULL) == SQLITE_OK ? RSIM_OK : db_fail(db, "metrics table");
}

int rsim_batch_db_put_metrics(rsim_batch_db *db, const rsim_batch_result *r) {
  sqlite3_stmt *st = NULL;
  int rc = metrics_table(db);
  if (rc) return rc;
  if (sqlite3_exec(db->h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) return db_fail(db, "begin");
  if (sqlite3_prepare_v2(db->h, "DELETE FROM metrics WHERE job = ?", -1, &st, NULL) != SQLITE_OK) {
    rc = db_fail(db, "metrics");
    goto out;
  }
  sqlite3_bind_text(st, 1, r->key, -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_DONE) {
    rc = db_fail(db, "metrics");
    goto out;
  }
  sqlite3_finalize(st);
  st = NULL;
  if (sqlite3_prepare_v2(db->h,
                         "INSERT INTO metrics(job, seq, component, kind, scope, t0, t1, class, metric, value)"
                         " VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT(job, seq) DO UPDATE SET component = excluded.component,"
                         " kind = excluded.kind, scope = excluded.scope, t0 = excluded.t0, t1 = excluded.t1,"
                         " class = excluded.class, metric = excluded.metric, value = excluded.value",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = db_fail(db, "metrics");
    goto out;
  }
  for (size_t i = 0; i < r->n_metrics; i++) {
    const rsim_batch_metric *m = &r->metrics[i];
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, r->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
    sqlite3_bind_text(st, 3, m->component, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, m->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, m->window ? "window" : "run", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, m->t0);
    sqlite3_bind_int64(st, 7, m->t1);
    sqlite3_bind_text(st, 8, m->cls, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, m->metric, -1, SQLITE_STATIC);
    if (isnan(m->value)) sqlite3_bind_null(st, 10); /* NaN: undefined */
    else sqlite3_bind_double(st, 10, m->value);          /* infinities are kept (min_ttc never closing) */
    if (sqlite3_step(st) != SQLITE_DONE) {
      rc = db_fail(db, "metrics");
      goto out;
    }
  }
out:
  sqlite3_finalize(st);
  if (sqlite3_exec(db->h, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK && !rc) rc = db_fail(db, "commit");
  return rc;
}

int rsim_batch_db_each_metric(rsim_batch_db *db, const char *key, rsim_batch_metric_fn fn, void *ud) {
  sqlite3_stmt *st = NULL;
  int rc = metrics_table(db);
  if (rc) return rc;
  if (sqlite3_prepare_v2(db->h,
                         key ? "SELECT job, component, kind, scope, t0, t1, class, metric, value FROM metrics"
                               " WHERE job = ? ORDER BY job, seq"
                             : "SELECT job, component, kind, scope, t0, t1, class, metric, value FROM metrics"
                               " ORDER BY job, seq",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(db, "metrics");
  if (key) sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    const char *scope = (const char *)sqlite3_column_text(st, 3);
    rsim_batch_metric m = {.component = col_dup(st, 1), .kind = col_dup(st, 2),
                           .window = scope && !strcmp(scope, "window"), .t0 = sqlite3_column_int64(st, 4),
                           .t1 = sqlite3_column_int64(st, 5), .cls = col_dup(st, 6), .metric = col_dup(st, 7)};
    m.value = sqlite3_column_type(st, 8) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 8);
    char *job = col_dup(st, 0);
    fn(ud, job, &m);
    free(job);
    free(m.component);
    free(m.kind);
    free(m.cls);
    free(m.metric);
  }
  sqlite3_finalize(st);
  return step == SQLITE_DONE ? RSIM_OK : db_fail(db, "metrics");
}

/* Merging scores goes through the functions above, so that it works for
** whatever database another results file is. */
typedef struct merge_take {
  rsim_batch_db *db;
  char **keys;
  size_t n;
} merge_take;

static void take_row(void *ud, const rsim_batch_job *j, const rsim_batch_result *r) {
  merge_take *t = ud;
  /* rsim_batch_db_merge's rule: theirs replaces ours unless ours is ok and theirs failed */
  if (!r->ok && rsim_batch_db_done(t->db, j->key)) return;
  t->keys = rsim_xrealloc(t->keys, (t->n + 1) * sizeof *t->keys);
  t->keys[t->n++] = rsim_xstrdup(j->key);
}

static void take_metric(void *ud, const char *key, const rsim_batch_metric *m) {
  rsim_batch_result *r = ud;
  if (!(r->n_metrics & (r->n_metrics + 1))) /* full at 0, 1, 3, 7, ...: double */
    r->metrics = rsim_xrealloc(r->metrics, (2 * r->n_metrics + 2) * sizeof *r->metrics);
  r->metrics[r->n_metrics++] = (rsim_batch_metric){rsim_xstrdup(m->component), rsim_xstrdup(m->kind),
                                                   rsim_xstrdup(m->cls), rsim_xstrdup(m->metric), m->window, m->t0,
                                                   m->t1, m->value};
  (void)key;
}

int rsim_batch_db_merge_metrics(rsim_batch_db *db, const char *other) {
  rsim_batch_db *o;
  rsim_errbuf eb = {0};
  if (rsim_batch_db_open(other, &o, &eb)) {
    snprintf(db->err, sizeof db->err, "%s", eb.msg);
    return RSIM_EIO;
  }
  merge_take t = {.db = db};
  int rc = rsim_batch_db_each(o, take_row, &t);
  if (rc) snprintf(db->err, sizeof db->err, "batch: merge %.200s: %.280s", other, o->err);
  for (size_t i = 0; i < t.n; i++) {
    rsim_batch_result r = {.key = t.keys[i]};
    if (!rc && (rc = rsim_batch_db_each_metric(o, t.keys[i], take_metric, &r)))
      snprintf(db->err, sizeof db->err, "batch: merge %.200s: %.280s", other, o->err);
    if (!rc) rc = rsim_batch_db_put_metrics(db, &r);
    rsim_batch_result_free(&r); /* frees the key too */
  }
  free(t.keys);
  rsim_batch_db_close(o);
  return rc;
}
