/*
** parallel.c -- component runs on worker threads, within an instant and
** across the instants of a window (docs/design.md, "Parallel schedule").
**
** Runs are numbered in serial order (engine.c, rsim__frame_open); run s
** may start once runs [0, need) are committed: its own component's earlier
** run and every earlier run of each component it reads from, at its
** instant or before.  The engine's thread prepares ready runs (their
** arguments) and queues them; workers execute them, each call on its
** component's own Wasmtime store, which only the thread running that
** component's run touches; the engine's thread commits the finished runs
** strictly in serial order.  So the bus, digests, record and log lines see
** the serial order whatever the thread count.  The engine's thread is one
** of the N: it executes the run the commits wait for itself (no hand-over
** on the critical path) and N - 1 workers take the others.
**
** While the first instant of the window waits for a run, the next instant
** is opened once every run of the window is prepared and none that asks
** the bridge during its call is still to execute (rsim__frame_can_open):
** a detector of the next camera frame then runs beside the planner of
** this one.  Runs still executing when a step returns go on in the
** background; anything that needs the components quiet waits for them
** (rsim__pool_idle, rsim__pool_wait_run).
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
  run_job **q;             /* FIFO ring */
  size_t qh, qn, qcap;
  size_t inflight;         /* queued or executing */
  bool stop;
};

static void *worker(void *arg) {
  rsim__pool *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->stop && !p->qn) pthread_cond_wait(&p->work, &p->mu);
    if (p->stop) break;
    run_job *j = p->q[p->qh];
    p->qh = (p->qh + 1) % p->qcap;
    p->qn--;
    pthread_mutex_unlock(&p->mu);
    rsim__run_execute(p->e, j);
    pthread_mutex_lock(&p->mu);
    j->state = RUN_DONE;
    p->inflight--;
    pthread_cond_broadcast(&p->done);
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

void rsim__pool_wait_run(rsim__pool *p, run_job *j) {
  pthread_mutex_lock(&p->mu);
  while (j->state != RUN_DONE) pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

void rsim__pool_idle(rsim__pool *p) {
  pthread_mutex_lock(&p->mu);
  while (p->inflight) pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

/* Queues run j (the lock held). */
static void queue(rsim__pool *p, run_job *j) {
  if (p->qn == p->qcap) {
    size_t cap = p->qcap ? 2 * p->qcap : 32;
    run_job **q = rsim_xcalloc(cap, sizeof *q);
    for (size_t i = 0; i < p->qn; i++) q[i] = p->q[(p->qh + i) % p->qcap];
    free(p->q);
    p->q = q;
    p->qh = 0;
    p->qcap = cap;
  }
  p->q[(p->qh + p->qn++) % p->qcap] = j;
  j->state = RUN_QUEUED;
  p->inflight++;
  pthread_cond_signal(&p->work);
}

int rsim__pool_step(rsim_engine *e) {
  rsim__pool *p = e->pool;
  int rc = RSIM_OK;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    bool acted = false;
    /* Commit what is done, in order; the instant closes after its last. */
    if (e->committed == e->fr[0].run_hi) {
      pthread_mutex_unlock(&p->mu);
      rc = rsim__frame_close(e);
      pthread_mutex_lock(&p->mu);
      break;
    }
    if (rsim__run_at(e, e->committed)->state == RUN_DONE) {
      pthread_mutex_unlock(&p->mu);
      rc = rsim__run_commit_next(e);
      pthread_mutex_lock(&p->mu);
      if (rc) break;
      continue;
    }
    /* Queue every run whose inputs are final (only the last frame has
    ** runs not prepared: a frame opens after all before it are), and open
    ** the next instant behind this one whenever nothing of the window
    ** holds the bridge.  The next run to commit is kept for this thread:
    ** the one the commits wait for is not handed to another thread. */
    run_job *mine = NULL;
    for (;;) {
      for (uint64_t s = e->fr[e->n_fr - 1].run_lo; s < e->n_seq; s++) {
        run_job *j = rsim__run_at(e, s);
        if (j->state != RUN_NEW || j->need > e->committed) continue;
        pthread_mutex_unlock(&p->mu);
        rsim__run_prepare(e, j);
        pthread_mutex_lock(&p->mu);
        if (s == e->committed) {
          mine = j;
          j->state = RUN_QUEUED; /* executing, for rsim__frame_can_open */
          continue;
        }
        if (j->t > e->now) e->overlapped++;
        queue(p, j);
        acted = true;
      }
      if (!rsim__frame_can_open(e)) break;
      pthread_mutex_unlock(&p->mu);
      int orc = rsim__frame_open(e);
      pthread_mutex_lock(&p->mu);
      acted = true;
      if (orc) {
        e->ahead_stop = true; /* the end, or an error said when stepped to */
        break;
      }
    }
    if (mine) {
      pthread_mutex_unlock(&p->mu);
      rsim__run_execute(e, mine);
      pthread_mutex_lock(&p->mu);
      mine->state = RUN_DONE;
      continue;
    }
    if (!acted && rsim__run_at(e, e->committed)->state != RUN_DONE) pthread_cond_wait(&p->done, &p->mu);
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}
