/*
** batch_int.h -- inside the batch module: the worker slots shared by the
** local scheduler (pool.c) and the MPI ranks (mpi.c), and the SQL layer
** (sql.c) under the results database (db.c).
*/
#ifndef RSIM_BATCH_INT_H
#define RSIM_BATCH_INT_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/types.h>

#include "rsim/batch.h"
#include "rsim/engine.h"
#include "rsim/store.h"

typedef struct rsim__batch_slot {
  pid_t pid; /* 0: free */
  int fd;    /* the worker's result pipe */
  const rsim_batch_job *job;
  int64_t started_ns, deadline_ns; /* deadline 0: none */
  bool timed_out;
  rsim_buf buf;
} rsim__batch_slot;

typedef struct rsim__batch_count {
  size_t total, done, failed, running, skipped;
  int64_t t0_ns;
} rsim__batch_count;

/* Forks a worker for job j into the free slot s. */
int rsim__batch_spawn(rsim__batch_slot *s, const rsim_batch_job *j, const rsim_batch_opts *o, rsim_errbuf *eb);
/* Waits up to timeout_ms (less when a job's deadline comes first; a worker
** past it is killed) for a worker to end: 1 with its slot in *which and
** its result in *r (attempts not set), 0 when none ended. */
int rsim__batch_poll(rsim__batch_slot *slots, size_t n, int timeout_ms, size_t *which, rsim_batch_result *r);
void rsim__batch_kill_all(rsim__batch_slot *slots, size_t n);
void rsim__batch_report(const rsim_batch_opts *o, rsim__batch_count *c, const rsim_batch_job *j,
                        const rsim_batch_result *r);

/* ---- the results database's SQL, on SQLite or PostgreSQL (sql.c) ---- */
struct rsim_batch_db {
  sqlite3 *lite; /* exactly one of the two is open */
  PGconn *pg;
  char *shown; /* the path or URI, for messages (a URI holds no password) */
  char err[512];
};

typedef struct rsim__bstmt rsim__bstmt;

/* Opens db->lite or db->pg for a path or a postgresql:// URI; a file is
** created when create is true. */
int rsim__bsql_connect(rsim_batch_db *db, const char *target, bool create, rsim_errbuf *eb);
void rsim__bsql_disconnect(rsim_batch_db *db);
/* Runs statements without parameters.  Failures set db->err, naming the
** database and what was being done, and return the code. */
int rsim__bsql_exec(rsim_batch_db *db, const char *what, const char *sql);
int rsim__bsql_begin(rsim_batch_db *db);
/* Commits when rc is RSIM_OK, else rolls back; returns rc or the commit's. */
int rsim__bsql_end(rsim_batch_db *db, int rc);
/* NULL on failure (db->err says why).  '?' marks parameters, numbered
** from 1 as the binding functions take them. */
rsim__bstmt *rsim__bsql_prepare(rsim_batch_db *db, const char *what, const char *sql);
void rsim__bsql_text(rsim__bstmt *st, int i, const char *v);
void rsim__bsql_i64(rsim__bstmt *st, int i, int64_t v);
void rsim__bsql_double(rsim__bstmt *st, int i, double v);
void rsim__bsql_null(rsim__bstmt *st, int i);
/* 1: a row is there to read; 0: done; an error code (negative), db->err set. */
int rsim__bsql_step(rsim__bstmt *st);
/* Columns of the current row, from 0; a null reads as "" or 0. */
const char *rsim__bsql_col_text(rsim__bstmt *st, int i);
/* Whether a column is null: ask before reading it (SQLite converts). */
bool rsim__bsql_col_null(rsim__bstmt *st, int i);
int64_t rsim__bsql_col_i64(rsim__bstmt *st, int i);
double rsim__bsql_col_double(rsim__bstmt *st, int i);
/* Ready to step again from the start; bound values stay. */
void rsim__bsql_reset(rsim__bstmt *st);
void rsim__bsql_finalize(rsim__bstmt *st);

/* score.c: whether a job of graph g over st is scored (the graph has an
** `eval:` block and the store ground truth); a temporary run database's
** path (created empty) and its removal; a finished job's recording scored
** into r->metrics. */
bool rsim__batch_scorable(const rsim_graph *g, rsim_store *st);
int rsim__batch_tmp_run(char *path, size_t n, rsim_errbuf *eb);
void rsim__batch_tmp_remove(const char *path);
int rsim__batch_score(const rsim_batch_job *job, const char *run_db, rsim_store *st, rsim_batch_result *r,
                      rsim_errbuf *eb);
void rsim__batch_metric_clear(rsim_batch_metric *m);

#endif /* RSIM_BATCH_INT_H */
