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
#include "rsim/util.h"

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

/* Takes the oldest queued run and executes it on this thread (the lock
** held on entry and on return, not during the call). */
static void run_oldest(rsim__pool *p) {
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

static void *worker(void *arg) {
  rsim__pool *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->stop && !p->qn) pthread_cond_wait(&p->work, &p->mu);
    if (p->stop) break;
    run_oldest(p);
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

/* Queues every run of the window whose inputs are final and, with `open`,
** opens the instants behind it while the window allows (and the clock is
** before deadline, when one is given), the lock held; with `keep`, the run
** the commits wait for is not queued but returned, for the calling thread
** to execute. */
static run_job *fill(rsim_engine *e, rsim__pool *p, bool keep, bool open, int64_t deadline, bool *acted) {
  run_job *mine = NULL;
  for (;;) {
    for (uint64_t s = e->fr[e->n_fr - 1].run_lo; s < e->n_seq; s++) {
      run_job *j = rsim__run_at(e, s);
      if (j->state != RUN_NEW || j->need > e->committed) continue;
      pthread_mutex_unlock(&p->mu);
      rsim__run_prepare(e, j);
      pthread_mutex_lock(&p->mu);
      if (keep && s == e->committed) {
        mine = j;
        j->state = RUN_QUEUED; /* executing, for rsim__frame_can_open */
        continue;
      }
      if (j->t > e->now) e->overlapped++;
      queue(p, j);
      *acted = true;
    }
    if (!open || !rsim__frame_can_open(e) || (deadline && rsim_monotonic_ns() >= deadline)) break;
    pthread_mutex_unlock(&p->mu);
    int orc = rsim__frame_open(e);
    pthread_mutex_lock(&p->mu);
    *acted = true;
    if (orc) {
      e->ahead_stop = true; /* the end, or an error said when stepped to */
      break;
    }
  }
  return mine;
}

void rsim__pool_ahead(rsim_engine *e, int64_t deadline) {
  rsim__pool *p = e->pool;
  bool acted = false;
  pthread_mutex_lock(&p->mu);
  fill(e, p, false, true, deadline, &acted);
  pthread_mutex_unlock(&p->mu);
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
    ** holds the bridge -- unless the caller paces the replay: then opening
    ** (reading the store, copying payloads) is done while it waits
    ** (rsim_engine_work_ahead), not in the step it times.  The next run
    ** to commit is kept for this thread: the one the commits wait for is
    ** not handed to another thread. */
    run_job *mine = fill(e, p, true, !e->paced, 0, &acted);
    if (mine) {
      pthread_mutex_unlock(&p->mu);
      rsim__run_execute(e, mine);
      pthread_mutex_lock(&p->mu);
      mine->state = RUN_DONE;
      continue;
    }
    if (acted || rsim__run_at(e, e->committed)->state == RUN_DONE) continue;
    /* Nothing to commit, prepare or open: rather than wait, this thread
    ** takes the oldest queued run (four detectors of one instant on two
    ** threads: two each, not one here and three on the worker; a chain of
    ** calls, as the demo's detector, stays on this thread instead of
    ** going back and forth).  When the caller paces the replay
    ** (rsim_engine_set_paced), only a run of the instant being stepped: a
    ** later one's would keep this instant from closing on time. */
    if (p->qn && (!e->paced || p->q[p->qh]->seq < e->fr[0].run_hi)) {
      run_oldest(p);
      continue;
    }
    pthread_cond_wait(&p->done, &p->mu);
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}
