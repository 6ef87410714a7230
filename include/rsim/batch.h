/*
** batch.h -- many runs at once (`replaysim batch`, docs/fleet.md).
**
** A job is one run: a graph over a store, optionally over a range of it.
** A batch is a list of jobs, made from store paths and URIs (one job a
** store, or one a scene when drives are cut into windows) or read from a
** jobs file.  Each job runs in a process of its own (a forked worker), so
** that a job that crashes, traps or hangs is recorded as failed and the
** batch goes on.  Results go into one SQLite database (schema below),
** with each job's scores when its graph says how to score it (score.c).
**
** This module is a user of the engine, never part of it: a job runs
** through the public API (rsim_graph_load, rsim_engine_new, ...).  It
** never prints; progress is reported through a callback.
**
** Results database (schema version 1):
**   batch(key TEXT PRIMARY KEY, value TEXT)
**   jobs(key TEXT PRIMARY KEY, seq, name, graph, store, t_from, t_to, warmup,
**        status TEXT ('ok'|'failed'), reason, digest, partial, wall_s,
**        readings, faults, timing_violations, out, attempts, worker)
**   components(job TEXT, name TEXT, digest, calls, outputs, errors,
**        limit_hits, timing_violations, mean_us, max_us, PRIMARY KEY(job, name))
**   metrics(job TEXT, seq BIGINT, component TEXT, kind TEXT, scope TEXT
**        ('run'|'window'), t0 BIGINT, t1 BIGINT, class TEXT, metric TEXT,
**        value DOUBLE PRECISION, PRIMARY KEY(job, seq))
**        -- a job's scores (seq: their order), as `replaysim eval` keeps them
**        in a run's eval table (NULL undefined; infinite where the metric
**        is, e.g. a min_ttc that never closed on a lead)
** A job's key is "GRAPH|STORE|FROM|TO": the same job has the same key in
** every batch, which is what --resume and --merge go by.
*/
#ifndef RSIM_BATCH_H
#define RSIM_BATCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsim/eval.h"
#include "rsim/util.h"

/* One job.  from/to 0 = the store's first/last reading.  A scene's run
** starts warmup before from (clamped to the log's start) so that its
** components are warm at from; the digest covers the whole run, warm-up
** included (it is part of the job). */
typedef struct rsim_batch_job {
  char *key;     /* "GRAPH|STORE|FROM|TO" (set by rsim_batch_jobs_add) */
  char *name;    /* short: the store's base name, "#N" for scene N */
  char *graph, *store;
  rsim_time from, to;
  int64_t warmup_ns;
  size_t seq;    /* its place in the batch (shards and reports go by it) */
} rsim_batch_job;

typedef struct rsim_batch_jobs {
  rsim_batch_job *v;
  size_t n, cap;
} rsim_batch_jobs;

/* Appends a job (strings copied). */
void rsim_batch_jobs_add(rsim_batch_jobs *js, const char *graph, const char *store, rsim_time from,
                         rsim_time to, int64_t warmup_ns, const char *name);
void rsim_batch_jobs_free(rsim_batch_jobs *js);
/* Jobs for graph over each store matched by pattern (a glob of files,
** sorted, or a PostgreSQL URI taken as is): one a store, or with
** scene_ns > 0 one a window of scene_ns of each store (the last one
** shorter).  A pattern that matches nothing is an error naming it. */
int rsim_batch_plan(rsim_batch_jobs *js, const char *graph, const char *pattern, int64_t scene_ns,
                    int64_t warmup_ns, rsim_errbuf *eb);
/* A jobs file (YAML):
**   graph: GRAPH            # default for the jobs below
**   warmup: 2s              # optional
**   jobs:
**     - store: drive.db     # graph:, from:, to: (times as --from/--to) optional
** Relative paths are taken from the file's folder. */
int rsim_batch_jobs_load(rsim_batch_jobs *js, const char *path, rsim_errbuf *eb);
/* Keeps only the jobs with seq % n == i (renumbering nothing). */
void rsim_batch_jobs_shard(rsim_batch_jobs *js, size_t i, size_t n);

/* A job's result. */
typedef struct rsim_batch_comp {
  char *name;
  char digest[65];
  uint64_t calls, outputs, errors, limit_hits, timing_violations;
  double mean_us, max_us;
} rsim_batch_comp;

/* One score of a job (rsim/eval.h: a row of `replaysim eval`). */
typedef struct rsim_batch_metric {
  char *component, *kind, *cls, *metric;
  bool window;      /* false: the whole job */
  rsim_time t0, t1; /* [t0, t1) */
  double value;     /* NaN: undefined */
} rsim_batch_metric;

typedef struct rsim_batch_result {
  char *key;
  bool ok;
  char *reason;         /* why it failed ("" when ok) */
  char digest[65];      /* "" when the job never started */
  bool partial;         /* the digest covers the run up to where it stopped */
  double wall_s;
  uint64_t readings, faults, timing_violations;
  char *out;            /* the recorded run ("" when not recorded) */
  int attempts;
  char *worker;         /* "host:pid" or "rank N" */
  rsim_batch_comp *comps;
  size_t n_comps;
  rsim_batch_metric *metrics; /* scores against the store's truth (none when not scored) */
  size_t n_metrics;
} rsim_batch_result;

void rsim_batch_result_free(rsim_batch_result *r);

/* Runs one job in this process through the engine API, recording its
** outputs to out (NULL: not recorded).  A job that fails still fills r
** (ok false, reason, partial digest); the return is RSIM_OK when r was
** filled.  stop (may be NULL) is polled between instants.
** With score, a job whose graph has an `eval:` block and whose store holds
** ground truth is scored as `replaysim run --eval` scores a run (over the
** job's range, not its warm-up; into r->metrics), from its recording or,
** when out is NULL, from a temporary one; a job that cannot be scored
** fails, naming why. */
int rsim_batch_run_job(const rsim_batch_job *job, const char *out, bool score, volatile sig_atomic_t *stop,
                       rsim_batch_result *r, rsim_errbuf *eb);

/* Jobs and results as JSON text (what workers and MPI ranks exchange). */
char *rsim_batch_job_to_json(const rsim_batch_job *j);
int rsim_batch_job_from_json(const char *text, rsim_batch_job *j, rsim_errbuf *eb);
void rsim_batch_job_clear(rsim_batch_job *j);
char *rsim_batch_result_to_json(const rsim_batch_result *r);
int rsim_batch_result_from_json(const char *text, rsim_batch_result *r, rsim_errbuf *eb);

/* ---- the results database ----------------------------------------------- */
typedef struct rsim_batch_db rsim_batch_db;

/* Opens (creating when missing) a results database. */
int rsim_batch_db_open(const char *path, rsim_batch_db **out, rsim_errbuf *eb);
void rsim_batch_db_close(rsim_batch_db *db);
const char *rsim_batch_db_errmsg(const rsim_batch_db *db);
/* Whether a job (by key) is recorded as done ("ok"). */
bool rsim_batch_db_done(rsim_batch_db *db, const char *key);
/* Records a job and its result (replacing an earlier row of that key). */
int rsim_batch_db_put(rsim_batch_db *db, const rsim_batch_job *job, const rsim_batch_result *r);
int rsim_batch_db_set(rsim_batch_db *db, const char *key, const char *value);
/* Copies every job of another results file in (its rows replace ours of
** the same key unless ours is ok and theirs failed). */
int rsim_batch_db_merge(rsim_batch_db *db, const char *other);
/* Calls fn on every recorded job, in batch order (job and result are
** borrowed for the call; r->metrics is not read: see below). */
typedef void (*rsim_batch_row_fn)(void *ud, const rsim_batch_job *job, const rsim_batch_result *r);
int rsim_batch_db_each(rsim_batch_db *db, rsim_batch_row_fn fn, void *ud);
/* A job's scores: replaces those kept under r->key by r->metrics.  Called
** before rsim_batch_db_put, so that a job recorded as done has its scores. */
int rsim_batch_db_put_metrics(rsim_batch_db *db, const rsim_batch_result *r);
/* Calls fn on every score of the job key (all jobs when key is NULL), by
** job, then as the job gave them (m borrowed for the call). */
typedef void (*rsim_batch_metric_fn)(void *ud, const char *key, const rsim_batch_metric *m);
int rsim_batch_db_each_metric(rsim_batch_db *db, const char *key, rsim_batch_metric_fn fn, void *ud);
/* The scores of another results file, for the jobs rsim_batch_db_merge
** will take from it (call it first). */
int rsim_batch_db_merge_metrics(rsim_batch_db *db, const char *other);

/* ---- running a batch ------------------------------------------------------ */
typedef struct rsim_batch_progress {
  size_t total, done, failed, running, skipped;
  double elapsed_s, eta_s; /* eta < 0: not known yet */
  const rsim_batch_job *job;      /* the job that just ended (or NULL) */
  const rsim_batch_result *result;
} rsim_batch_progress;

typedef void (*rsim_batch_progress_fn)(void *ud, const rsim_batch_progress *p);

typedef struct rsim_batch_opts {
  size_t jobs;              /* jobs at once (processes); 0 = 1 */
  int64_t job_timeout_ns;   /* 0 = none */
  const char *runs_dir;     /* each job records into runs_dir/NAME.db; NULL = not recorded */
  volatile sig_atomic_t *stop; /* set (by a signal handler) to stop: running jobs are killed, not recorded */
  bool no_eval;             /* do not score jobs (rsim_batch_run_job's score) */
  rsim_batch_progress_fn progress;
  void *progress_ud;
} rsim_batch_opts;

/* Runs the jobs not yet done in db, each in a forked worker process, at
** most o->jobs at once; a failed job is tried once more; every result goes
** into db as it arrives.  RSIM_OK when the batch ran to its end (some jobs
** may have failed: see the progress counts), RSIM_HALTED when stopped. */
int rsim_batch_run_local(const rsim_batch_jobs *js, rsim_batch_db *db, const rsim_batch_opts *o,
                         rsim_errbuf *eb);

/* ---- under MPI ---------------------------------------------------------------
** Built with MPI (CMake found it), `mpirun -n N replaysim batch ...` runs
** the batch over N ranks: rank 0 deals jobs one at a time to the other
** ranks as they finish theirs (each runs its job in a forked worker, as
** above) and gathers their results as messages; only rank 0 opens the
** results database, so no shared file system is needed for results. */
/* Whether this process was started by mpirun or srun (and MPI is built in). */
bool rsim_batch_mpi_launched(void);
/* MPI_Init; *rank and *size of MPI_COMM_WORLD. */
int rsim_batch_mpi_init(int *rank, int *size, rsim_errbuf *eb);
/* Every rank calls it: rank 0 with the jobs and db, the others with NULLs.
** With one rank, rank 0 runs the jobs itself (rsim_batch_run_local). */
int rsim_batch_run_mpi(const rsim_batch_jobs *js, rsim_batch_db *db, const rsim_batch_opts *o, rsim_errbuf *eb);
void rsim_batch_mpi_finalize(void);

/* ---- scores and gates (score.c; docs/fleet.md, "Scores") -------------------- */
/* A job's scores in r as a rsim_eval_result (rsim/eval.h), for tables and gates. */
rsim_eval_result *rsim_batch_scores(const rsim_batch_result *r);
/*
** Checks every job of db against the gates of gates_yaml (src/eval/gate.c:
** a threshold, or an allowed regression against the same job -- same
** store and range -- in baseline, another results database; may be NULL).
** Appends a line a gate and job to report, each failure naming the job and
** its drive, window, metric and values; *failed gets the number of failed
** (job, gate) pairs.  A failed job fails its gates (it has no scores).
*/
int rsim_batch_gates(rsim_batch_db *db, const char *gates_yaml, const char *baseline, rsim_buf *report,
                     size_t *failed, rsim_errbuf *eb);
/* The baseline numbers of one drive in a results database (for
** `replaysim eval --gate --baseline results.db`): the job over store with
** range from..to (0: whole); rsim_batch_baseline_value is a
** rsim_eval_baseline_fn. */
typedef struct rsim_batch_baseline rsim_batch_baseline;
int rsim_batch_baseline_open(const char *results_db, const char *store, rsim_time from, rsim_time to,
                             rsim_batch_baseline **out, rsim_errbuf *eb);
double rsim_batch_baseline_value(void *baseline, const rsim_eval_row *x);
void rsim_batch_baseline_free(rsim_batch_baseline *b);
/* Whether path is a batch's results database (it has a jobs table). */
bool rsim_batch_db_is_results(const char *path);

#endif /* RSIM_BATCH_H */
