/*
** batch_int.h -- inside the batch module: the worker slots shared by the
** local scheduler (pool.c) and the MPI ranks (mpi.c).
*/
#ifndef RSIM_BATCH_INT_H
#define RSIM_BATCH_INT_H

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
