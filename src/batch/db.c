/*
** db.c -- the results database of a batch (schema in rsim/batch.h), a
** SQLite file or a PostgreSQL database; sql.c speaks to either.  Only the
** process that deals the jobs writes it: workers and ranks send their
** results to it, so no shared file system is needed for results.  Each
** result is committed as it arrives, so a batch that is stopped or killed
** keeps every result it had (what --resume goes by).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_int.h"

#define SCHEMA_VERSION "2"

/* Standard SQL that both speak: BIGINT and DOUBLE PRECISION are 64-bit in
** PostgreSQL (its INTEGER and REAL are not) and mean the same affinities
** in SQLite. */
static const char kTables[] =
    "CREATE TABLE IF NOT EXISTS batch(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS jobs(key TEXT PRIMARY KEY, seq BIGINT, name TEXT, graph TEXT, store TEXT,"
    " t_from BIGINT, t_to BIGINT, warmup BIGINT, status TEXT, reason TEXT, digest TEXT, partial INTEGER,"
    " wall_s DOUBLE PRECISION, readings BIGINT, faults BIGINT, timing_violations BIGINT, out TEXT,"
    " attempts INTEGER, worker TEXT);"
    "CREATE TABLE IF NOT EXISTS components(job TEXT, pos INTEGER, name TEXT, digest TEXT, calls BIGINT,"
    " outputs BIGINT, errors BIGINT, limit_hits BIGINT, timing_violations BIGINT, mean_us DOUBLE PRECISION,"
    " max_us DOUBLE PRECISION, PRIMARY KEY(job, name));"
    "CREATE TABLE IF NOT EXISTS metrics(job TEXT NOT NULL, seq BIGINT NOT NULL, component TEXT, kind TEXT,"
    " scope TEXT, t0 BIGINT, t1 BIGINT, class TEXT, metric TEXT, value DOUBLE PRECISION, PRIMARY KEY(job, seq));"
    "INSERT INTO batch VALUES('schema', '" SCHEMA_VERSION "') ON CONFLICT DO NOTHING;";

/* Several shards may open one PostgreSQL results database at once: the
** lock makes one of them create the tables while the others wait. */
static const char kPgHead[] =
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(7236193718365091);"
    "CREATE SCHEMA IF NOT EXISTS replaysim_batch;";

static int check_version(rsim_batch_db *db, rsim_errbuf *eb) {
  rsim__bstmt *st = rsim__bsql_prepare(db, "reading its schema version", "SELECT value FROM batch WHERE key='schema'");
  int s = st ? rsim__bsql_step(st) : RSIM_EBACKEND;
  int rc = RSIM_OK;
  if (s < 0)
    rc = rsim_errbuf_set(eb, RSIM_ENOTFOUND, "batch: %s is not a results database (%s)", db->shown, db->err);
  else if (s == 0 || strcmp(rsim__bsql_col_text(st, 0), SCHEMA_VERSION))
    rc = rsim_errbuf_set(eb, RSIM_ECORRUPT,
                         "batch: results database %s has schema version %s; this replaysim reads version %s",
                         db->shown, s ? rsim__bsql_col_text(st, 0) : "(none)", SCHEMA_VERSION);
  rsim__bsql_finalize(st);
  return rc;
}

static int open_db(const char *target, bool create, rsim_batch_db **out, rsim_errbuf *eb) {
  *out = NULL;
  rsim_batch_db *db = rsim_xcalloc(1, sizeof *db);
  int rc = rsim__bsql_connect(db, target, create, eb);
  /* search_path names a schema that may not exist yet: harmless, the
  ** creation below is then the first to use it. */
  /* A result commits when it arrives, so that a stopped batch keeps it,
  ** but need not wait for the disk: a crash of the machine or server may
  ** lose the last moment's commits (never corrupt the rest), and --resume
  ** runs those jobs again.  Waiting for the disk would cost a flush a job
  ** (bench_batchdb: about 2 ms in a file, 13 ms in PostgreSQL here), and
  ** one process records for every worker of a batch. */
  if (!rc && db->pg &&
      rsim__bsql_exec(db, "setting up the session", "SET search_path TO replaysim_batch; SET synchronous_commit TO off"))
    rc = rsim_errbuf_set(eb, RSIM_EIO, "%s", db->err);
  if (!rc && db->lite && rsim__bsql_exec(db, "setting up", "PRAGMA synchronous=NORMAL"))
    rc = rsim_errbuf_set(eb, RSIM_EIO, "%s", db->err);
  if (!rc && create) {
    if (db->lite) rc = rsim__bsql_exec(db, "creating the tables", "PRAGMA journal_mode=WAL;");
    else if (!(rc = rsim__bsql_exec(db, "creating the tables", kPgHead)))
      rc = rsim__bsql_end(db, rsim__bsql_exec(db, "creating the tables", kTables));
    if (!rc && db->lite) rc = rsim__bsql_exec(db, "creating the tables", kTables);
    if (rc) rc = rsim_errbuf_set(eb, rc, "%s", db->err);
  }
  if (!rc) rc = check_version(db, eb);
  if (rc) {
    rsim_batch_db_close(db);
    return rc;
  }
  *out = db;
  return RSIM_OK;
}

bool rsim_batch_db_is_results(const char *path) {
  if (rsim_store_is_uri(path)) return true; /* opening it says what it lacks */
  sqlite3 *h = NULL;
  bool yes = false;
  if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'", -1, &st, NULL) ==
        SQLITE_OK) {
      yes = sqlite3_step(st) == SQLITE_ROW;
      sqlite3_finalize(st);
    }
  }
  sqlite3_close(h);
  return yes;
}

int rsim_batch_db_open(const char *target, rsim_batch_db **out, rsim_errbuf *eb) {
  return open_db(target, true, out, eb);
}

int rsim_batch_db_open_existing(const char *target, rsim_batch_db **out, rsim_errbuf *eb) {
  return open_db(target, false, out, eb);
}

void rsim_batch_db_close(rsim_batch_db *db) {
  if (!db) return;
  rsim__bsql_disconnect(db);
  free(db);
}

const char *rsim_batch_db_errmsg(const rsim_batch_db *db) { return db->err; }

int rsim_batch_db_count(rsim_batch_db *db, size_t *n) {
  *n = 0;
  rsim__bstmt *st = rsim__bsql_prepare(db, "counting jobs", "SELECT count(*) FROM jobs");
  if (!st) return RSIM_EBACKEND;
  int s = rsim__bsql_step(st);
  if (s > 0) *n = (size_t)rsim__bsql_col_i64(st, 0);
  rsim__bsql_finalize(st);
  return s < 0 ? s : RSIM_OK;
}

bool rsim_batch_db_done(rsim_batch_db *db, const char *key) {
  rsim__bstmt *st = rsim__bsql_prepare(db, "reading a job", "SELECT 1 FROM jobs WHERE key=? AND status='ok'");
  if (!st) return false;
  rsim__bsql_text(st, 1, key);
  bool done = rsim__bsql_step(st) == 1;
  rsim__bsql_finalize(st);
  return done;
}

/* Runs a statement that returns no rows; its values are bound already. */
static int run(rsim__bstmt *st) {
  int s = st ? rsim__bsql_step(st) : RSIM_EBACKEND;
  return s < 0 ? s : RSIM_OK;
}

int rsim_batch_db_set(rsim_batch_db *db, const char *key, const char *value) {
  rsim__bstmt *st = rsim__bsql_prepare(
      db, "setting a value", "INSERT INTO batch VALUES(?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value");
  if (st) {
    rsim__bsql_text(st, 1, key);
    rsim__bsql_text(st, 2, value);
  }
  int rc = run(st);
  rsim__bsql_finalize(st);
  return rc;
}

/* The rows of one job, inside the caller's transaction: an earlier row of
** its key goes first, with its components. */
static int put_rows(rsim_batch_db *db, const rsim_batch_job *j, const rsim_batch_result *r) {
  rsim__bstmt *st = rsim__bsql_prepare(db, "replacing a job", "DELETE FROM jobs WHERE key=?");
  if (st) rsim__bsql_text(st, 1, j->key);
  int rc = run(st);
  rsim__bsql_finalize(st);
  if (rc) return rc;
  for (int t = 0; t < 2 && !rc; t++) {
    st = rsim__bsql_prepare(db, "replacing a job", t ? "DELETE FROM metrics WHERE job=?" : "DELETE FROM components WHERE job=?");
    if (st) rsim__bsql_text(st, 1, j->key);
    rc = run(st);
    rsim__bsql_finalize(st);
  }
  if (rc) return rc;
  st = rsim__bsql_prepare(db, "recording a job", "INSERT INTO jobs VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (st) {
    int k = 1;
    rsim__bsql_text(st, k++, j->key);
    rsim__bsql_i64(st, k++, (int64_t)j->seq);
    rsim__bsql_text(st, k++, j->name);
    rsim__bsql_text(st, k++, j->graph);
    rsim__bsql_text(st, k++, j->store);
    rsim__bsql_i64(st, k++, j->from);
    rsim__bsql_i64(st, k++, j->to);
    rsim__bsql_i64(st, k++, j->warmup_ns);
    rsim__bsql_text(st, k++, r->ok ? "ok" : "failed");
    rsim__bsql_text(st, k++, r->reason ? r->reason : "");
    rsim__bsql_text(st, k++, r->digest);
    rsim__bsql_i64(st, k++, r->partial);
    rsim__bsql_double(st, k++, r->wall_s);
    rsim__bsql_i64(st, k++, (int64_t)r->readings);
    rsim__bsql_i64(st, k++, (int64_t)r->faults);
    rsim__bsql_i64(st, k++, (int64_t)r->timing_violations);
    rsim__bsql_text(st, k++, r->out ? r->out : "");
    rsim__bsql_i64(st, k++, r->attempts);
    rsim__bsql_text(st, k++, r->worker ? r->worker : "");
  }
  rc = run(st);
  rsim__bsql_finalize(st);
  if (rc) return rc;
  st = rsim__bsql_prepare(db, "recording a job's components", "INSERT INTO components VALUES(?,?,?,?,?,?,?,?,?,?,?)");
  if (!st) return RSIM_EBACKEND;
  for (size_t i = 0; i < r->n_comps && !rc; i++) {
    const rsim_batch_comp *c = &r->comps[i];
    rsim__bsql_reset(st);
    rsim__bsql_text(st, 1, j->key);
    rsim__bsql_i64(st, 2, (int64_t)i);
    rsim__bsql_text(st, 3, c->name);
    rsim__bsql_text(st, 4, c->digest);
    rsim__bsql_i64(st, 5, (int64_t)c->calls);
    rsim__bsql_i64(st, 6, (int64_t)c->outputs);
    rsim__bsql_i64(st, 7, (int64_t)c->errors);
    rsim__bsql_i64(st, 8, (int64_t)c->limit_hits);
    rsim__bsql_i64(st, 9, (int64_t)c->timing_violations);
    rsim__bsql_double(st, 10, c->mean_us);
    rsim__bsql_double(st, 11, c->max_us);
    rc = run(st);
  }
  rsim__bsql_finalize(st);
  if (rc || !r->n_metrics) return rc;
  /* A score's place among its job's (seq) is the order they are read in.
  ** A 20 s scene has some 2,400 scores (every metric of every 1 s window):
  ** they go in rows of SCORE_ROWS a statement, for a statement a row would
  ** be a round trip a row to PostgreSQL (1,000 parameters a statement is
  ** within both backends' limits). */
  enum { SCORE_ROWS = 100, SCORE_COLS = 10 };
  rsim_buf sql = {0};
  rsim__bstmt *full = NULL;
  for (size_t at = 0; at < r->n_metrics && !rc; at += SCORE_ROWS) {
    size_t n = r->n_metrics - at < SCORE_ROWS ? r->n_metrics - at : SCORE_ROWS;
    if (n == SCORE_ROWS && full) st = full;
    else {
      sql.len = 0;
      rsim_buf_append(&sql, "INSERT INTO metrics VALUES", 26);
      for (size_t k = 0; k < n; k++) rsim_buf_append(&sql, k ? ",(?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?)", k ? 22 : 21);
      rsim_buf_putc(&sql, 0);
      if (!(st = rsim__bsql_prepare(db, "recording a job's scores", (const char *)sql.data))) {
        rc = RSIM_EBACKEND;
        break;
      }
      if (n == SCORE_ROWS) full = st;
    }
    rsim__bsql_reset(st);
    for (size_t k = 0; k < n; k++) {
      const rsim_batch_metric *m = &r->metrics[at + k];
      int c = (int)(k * SCORE_COLS);
      rsim__bsql_text(st, c + 1, j->key);
      rsim__bsql_i64(st, c + 2, (int64_t)(at + k));
      rsim__bsql_text(st, c + 3, m->component);
      rsim__bsql_text(st, c + 4, m->kind);
      rsim__bsql_text(st, c + 5, m->window ? "window" : "run");
      rsim__bsql_i64(st, c + 6, m->t0);
      rsim__bsql_i64(st, c + 7, m->t1);
      rsim__bsql_text(st, c + 8, m->cls);
      rsim__bsql_text(st, c + 9, m->metric);
      /* NaN (undefined) is NULL; infinities are kept (a min_ttc that never closed) */
      if (isnan(m->value)) rsim__bsql_null(st, c + 10);
      else rsim__bsql_double(st, c + 10, m->value);
    }
    rc = run(st);
    if (st != full) rsim__bsql_finalize(st);
  }
  rsim__bsql_finalize(full);
  rsim_buf_free(&sql);
  return rc;
}

int rsim_batch_db_put(rsim_batch_db *db, const rsim_batch_job *j, const rsim_batch_result *r) {
  int rc = rsim__bsql_begin(db);
  return rc ? rc : rsim__bsql_end(db, put_rows(db, j, r));
}

typedef struct merge_ctx {
  rsim_batch_db *db, *other;
  int rc;
} merge_ctx;

static void take_metric(void *ud, const char *key, const rsim_batch_metric *m) {
  rsim_batch_result *r = ud;
  (void)key;
  if (!(r->n_metrics & (r->n_metrics + 1))) /* full at 0, 1, 3, 7, ...: double */
    r->metrics = rsim_xrealloc(r->metrics, (2 * r->n_metrics + 2) * sizeof *r->metrics);
  r->metrics[r->n_metrics++] = (rsim_batch_metric){rsim_xstrdup(m->component), rsim_xstrdup(m->kind),
                                                   rsim_xstrdup(m->cls), rsim_xstrdup(m->metric), m->window, m->t0,
                                                   m->t1, m->value};
}

static void merge_row(void *ud, const rsim_batch_job *j, const rsim_batch_result *r) {
  merge_ctx *m = ud;
  if (m->rc || (!r->ok && rsim_batch_db_done(m->db, j->key))) return;
  rsim_batch_result scored = *r; /* r's own fields are borrowed; only the scores are ours to free */
  scored.metrics = NULL, scored.n_metrics = 0;
  if ((m->rc = rsim_batch_db_each_metric(m->other, j->key, take_metric, &scored)))
    snprintf(m->db->err, sizeof m->db->err, "batch: merge: %.480s", m->other->err);
  else m->rc = put_rows(m->db, j, &scored);
  for (size_t i = 0; i < scored.n_metrics; i++) rsim__batch_metric_clear(&scored.metrics[i]);
  free(scored.metrics);
}

int rsim_batch_db_merge(rsim_batch_db *db, const char *other) {
  rsim_batch_db *o;
  rsim_errbuf eb = {0};
  if (rsim_batch_db_open_existing(other, &o, &eb)) {
    snprintf(db->err, sizeof db->err, "batch: merge: %.480s", eb.msg);
    return eb.code;
  }
  /* One transaction: a merge that fails half way leaves ours as it was. */
  int rc = rsim__bsql_begin(db);
  if (!rc) {
    merge_ctx m = {.db = db, .other = o};
    if ((rc = rsim_batch_db_each(o, merge_row, &m))) snprintf(db->err, sizeof db->err, "batch: merge: %.480s", o->err);
    else rc = m.rc;
    rc = rsim__bsql_end(db, rc);
  }
  rsim_batch_db_close(o);
  return rc;
}

int rsim_batch_db_each(rsim_batch_db *db, rsim_batch_row_fn fn, void *ud) {
  rsim__bstmt *st = rsim__bsql_prepare(db, "reading the jobs",
                                       "SELECT key, seq, name, graph, store, t_from, t_to, warmup, status, reason, digest,"
                                       " partial, wall_s, readings, faults, timing_violations, out, attempts, worker"
                                       " FROM jobs ORDER BY seq, key");
  rsim__bstmt *cs = st ? rsim__bsql_prepare(db, "reading the components",
                                            "SELECT name, digest, calls, outputs, errors, limit_hits, timing_violations,"
                                            " mean_us, max_us FROM components WHERE job=? ORDER BY pos")
                       : NULL;
  if (!cs) {
    rsim__bsql_finalize(st);
    return RSIM_EBACKEND;
  }
  int s, cr = 1;
  while ((s = rsim__bsql_step(st)) == 1) {
    rsim_batch_job j = {.key = rsim_xstrdup(rsim__bsql_col_text(st, 0)), .seq = (size_t)rsim__bsql_col_i64(st, 1),
                        .name = rsim_xstrdup(rsim__bsql_col_text(st, 2)),
                        .graph = rsim_xstrdup(rsim__bsql_col_text(st, 3)),
                        .store = rsim_xstrdup(rsim__bsql_col_text(st, 4)), .from = rsim__bsql_col_i64(st, 5),
                        .to = rsim__bsql_col_i64(st, 6), .warmup_ns = rsim__bsql_col_i64(st, 7)};
    rsim_batch_result r = {.key = rsim_xstrdup(j.key), .ok = !strcmp(rsim__bsql_col_text(st, 8), "ok"),
                           .reason = rsim_xstrdup(rsim__bsql_col_text(st, 9)),
                           .partial = (int)rsim__bsql_col_i64(st, 11), .wall_s = rsim__bsql_col_double(st, 12),
                           .readings = (uint64_t)rsim__bsql_col_i64(st, 13),
                           .faults = (uint64_t)rsim__bsql_col_i64(st, 14),
                           .timing_violations = (uint64_t)rsim__bsql_col_i64(st, 15),
                           .out = rsim_xstrdup(rsim__bsql_col_text(st, 16)),
                           .attempts = (int)rsim__bsql_col_i64(st, 17),
                           .worker = rsim_xstrdup(rsim__bsql_col_text(st, 18))};
    snprintf(r.digest, sizeof r.digest, "%s", rsim__bsql_col_text(st, 10));
    rsim__bsql_reset(cs);
    rsim__bsql_text(cs, 1, j.key);
    size_t cap = 0;
    while ((cr = rsim__bsql_step(cs)) == 1) {
      if (r.n_comps == cap) {
        cap = cap ? cap * 2 : 8;
        r.comps = rsim_xrealloc(r.comps, cap * sizeof *r.comps);
      }
      rsim_batch_comp *c = &r.comps[r.n_comps++];
      *c = (rsim_batch_comp){.name = rsim_xstrdup(rsim__bsql_col_text(cs, 0)),
                             .calls = (uint64_t)rsim__bsql_col_i64(cs, 2),
                             .outputs = (uint64_t)rsim__bsql_col_i64(cs, 3),
                             .errors = (uint64_t)rsim__bsql_col_i64(cs, 4),
                             .limit_hits = (uint64_t)rsim__bsql_col_i64(cs, 5),
                             .timing_violations = (uint64_t)rsim__bsql_col_i64(cs, 6),
                             .mean_us = rsim__bsql_col_double(cs, 7), .max_us = rsim__bsql_col_double(cs, 8)};
      snprintf(c->digest, sizeof c->digest, "%s", rsim__bsql_col_text(cs, 1));
    }
    if (cr == 0) fn(ud, &j, &r);
    rsim_batch_job_clear(&j);
    rsim_batch_result_free(&r);
    if (cr < 0) break;
  }
  rsim__bsql_finalize(st);
  rsim__bsql_finalize(cs);
  return s < 0 ? s : cr < 0 ? cr : RSIM_OK;
}

int rsim_batch_db_each_metric(rsim_batch_db *db, const char *key, rsim_batch_metric_fn fn, void *ud) {
  rsim__bstmt *st = rsim__bsql_prepare(
      db, "reading the scores",
      key ? "SELECT job, component, kind, scope, t0, t1, class, metric, value FROM metrics WHERE job=? ORDER BY job, seq"
          : "SELECT job, component, kind, scope, t0, t1, class, metric, value FROM metrics ORDER BY job, seq");
  if (!st) return RSIM_EBACKEND;
  if (key) rsim__bsql_text(st, 1, key);
  int s;
  while ((s = rsim__bsql_step(st)) == 1) {
    /* null first: SQLite tells a column's type only before it is converted */
    double value = rsim__bsql_col_null(st, 8) ? NAN : rsim__bsql_col_double(st, 8);
    rsim_batch_metric m = {.component = (char *)rsim__bsql_col_text(st, 1), .kind = (char *)rsim__bsql_col_text(st, 2),
                           .window = !strcmp(rsim__bsql_col_text(st, 3), "window"), .t0 = rsim__bsql_col_i64(st, 4),
                           .t1 = rsim__bsql_col_i64(st, 5), .cls = (char *)rsim__bsql_col_text(st, 6),
                           .metric = (char *)rsim__bsql_col_text(st, 7), .value = value};
    fn(ud, rsim__bsql_col_text(st, 0), &m);
  }
  rsim__bsql_finalize(st);
  return s < 0 ? s : RSIM_OK;
}
