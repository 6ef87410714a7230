/*
** parallel.c -- the runs of one instant on worker threads.
**
** An instant's runs are listed in serial order (engine.c, open_instant);
** run r may start once runs [0, need) are committed: its own earlier run
** and every run of each component it reads from.  The engine's thread
** prepares ready runs (their arguments) and queues them; workers execute
** them, each call on its component's own Wasmtime store, which only the
** thread running that component's run touches; the engine's thread
** commits the finished runs strictly in list order.  So the bus, digests,
** record and log lines see the serial order whatever the thread count.
**
** A run that stops the instant (a halt, a full disk) is committed with its
** error; runs already queued are allowed to finish and stay executed but
** uncommitted, so that going on (a step, a step by run, a seek's finishing
** of the instant) commits them without calling their components twice.
*/
#include <stdlib.h>

#include "engine/engine_rt.h"

struct rsim__pool {
  rsim_engine *e;
  pthread_t *th;
  int n;
  pthread_mutex_t mu;
  pthread_cond_t work;     /* a run was queued, or stop */
  pthread_cond_t done;     /* a run was executed */
  size_t *q;               /* indexes into e->runs, FIFO */
  size_t qh, qt, qcap;
  size_t inflight;         /* queued or executing */
  bool stop;
};

static void *worker(void *arg) {
  rsim__pool *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->stop && p->qh == p->qt) pthread_cond_wait(&p->work, &p->mu);
    if (p->stop) break;
    size_t r = p->q[p->qh++];
    run_job *j = &p->e->runs[r]; /* e->runs is not moved while runs are in flight */
    pthread_mutex_unlock(&p->mu);
    rsim__run_execute(p->e, j);
    pthread_mutex_lock(&p->mu);
    j->state = RUN_DONE;
    p->inflight--;
    pthread_cond_signal(&p->done);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int rsim__pool_new(rsim_engine *e, int threads) {
  rsim__pool *p = rsim_xcalloc(1, sizeof *p);
  p->e = e;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work, NULL);
  pthread_cond_init(&p->done, NULL);
  p->th = rsim_xcalloc((size_t)threads, sizeof *p->th);
  e->pool = p;
  for (; p->n < threads; p->n++)
    if (pthread_create(&p->th[p->n], NULL, worker, p))
      return rsim__engine_seterr(e, RSIM_EBACKEND, "engine: cannot start worker thread %d of %d", p->n + 1, threads);
  return RSIM_OK;
}

void rsim__pool_free(rsim__pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->stop = true;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->n; i++) pthread_join(p->th[i], NULL);
  pthread_cond_destroy(&p->work);
  pthread_cond_destroy(&p->done);
  pthread_mutex_destroy(&p->mu);
  free(p->th);
  free(p->q);
  free(p);
}

int rsim__pool_run_instant(rsim_engine *e) {
  rsim__pool *p = e->pool;
  if (p->qcap < e->n_runs) {
    p->qcap = e->n_runs;
    p->q = rsim_xrealloc(p->q, p->qcap * sizeof *p->q);
  }
  int rc = RSIM_OK;
  pthread_mutex_lock(&p->mu);
  p->qh = p->qt = 0;
  while (e->committed < e->n_runs) {
    /* Commit what is done, in order. */
    if (e->runs[e->committed].state == RUN_DONE) {
      pthread_mutex_unlock(&p->mu);
      rc = rsim__run_commit_next(e);
      pthread_mutex_lock(&p->mu);
      if (rc) break;
      continue;
    }
    /* Queue every run whose inputs are final. */
    for (size_t r = e->committed; r < e->n_runs; r++) {
      run_job *j = &e->runs[r];
      if (j->state != RUN_NEW || j->need > e->committed) continue;
      pthread_mutex_unlock(&p->mu);
      rsim__run_prepare(e, j);
      pthread_mutex_lock(&p->mu);
      j->state = RUN_QUEUED;
      p->q[p->qt++] = r;
      p->inflight++;
      pthread_cond_signal(&p->work);
    }
    if (e->runs[e->committed].state != RUN_DONE) pthread_cond_wait(&p->done, &p->mu);
  }
  /* Stopped early: what is in flight finishes (and stays uncommitted). */
  while (p->inflight) pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
  return rc;
}
