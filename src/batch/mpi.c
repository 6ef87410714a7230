/*
** mpi.c -- a batch over MPI ranks (built when CMake finds MPI; otherwise
** the functions say MPI is not built in).
**
** Rank 0 deals, the others work.  A worker sends READY, then gets JOB
** (the job as JSON) or STOP; it runs the job in a forked worker process
** (pool.c: a crash or a hang kills that process, not the rank) and sends
** RESULT (the result as JSON), which also asks for the next job.  Dealing
** is dynamic: a rank gets a job when it finished its last one.  A failed
** job goes back into the queue once, to be dealt to another rank when one
** is free.  Rank 0 writes every result into the database as it arrives.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch_int.h"

bool rsim_batch_mpi_launched(void) {
#ifdef RSIM_HAVE_MPI
  return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
#else
  return false;
#endif
}

#ifndef RSIM_HAVE_MPI
int rsim_batch_mpi_init(int *rank, int *size, rsim_errbuf *eb) {
  *rank = 0, *size = 1;
  return rsim_errbuf_set(eb, RSIM_ENOTSUP, "batch: replaysim was built without MPI (install libopenmpi-dev and rebuild)");
}
int rsim_batch_run_mpi(const rsim_batch_jobs *js, rsim_batch_db *db, const rsim_batch_opts *o, rsim_errbuf *eb) {
  return rsim_errbuf_set(eb, RSIM_ENOTSUP, "batch: replaysim was built without MPI");
}
void rsim_batch_mpi_finalize(void) {}
#else
#include <mpi.h>

enum { TAG_READY = 1, TAG_RESULT, TAG_JOB, TAG_STOP };

static int g_rank, g_size;

int rsim_batch_mpi_init(int *rank, int *size, rsim_errbuf *eb) {
  if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return rsim_errbuf_set(eb, RSIM_EBACKEND, "batch: MPI_Init failed");
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  *rank = g_rank, *size = g_size;
  return RSIM_OK;
}

void rsim_batch_mpi_finalize(void) { MPI_Finalize(); }

static void nap(void) { nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL); }

/* Receives the next message (any source), polling so that a stop flag is seen. */
static bool recv_any(volatile sig_atomic_t *stop, int src, char **text, MPI_Status *st) {
  int flag = 0;
  for (;;) {
    MPI_Iprobe(src, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, st);
    if (flag) break;
    if (stop && *stop) return false;
    nap();
  }
  int n = 0;
  MPI_Get_count(st, MPI_CHAR, &n);
  *text = rsim_xmalloc((size_t)n + 1);
  MPI_Recv(*text, n, MPI_CHAR, st->MPI_SOURCE, st->MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  (*text)[n] = 0;
  return true;
}

static void send_text(int dest, int tag, const char *text) {
  MPI_Send(text, (int)strlen(text), MPI_CHAR, dest, tag, MPI_COMM_WORLD);
}

static int work(const rsim_batch_opts *o, rsim_errbuf *eb) {
  send_text(0, TAG_READY, "");
  for (;;) {
    char *text;
    MPI_Status st;
    recv_any(NULL, 0, &text, &st);
    if (st.MPI_TAG == TAG_STOP) {
      free(text);
      return RSIM_OK;
    }
    rsim_batch_job j;
    int rc = rsim_batch_job_from_json(text, &j, eb);
    free(text);
    if (rc) return rc;
    rsim__batch_slot slot = {0};
    rsim_batch_result r;
    size_t which;
    if ((rc = rsim__batch_spawn(&slot, &j, o, eb))) {
      rsim_batch_job_clear(&j);
      return rc;
    }
    while (!rsim__batch_poll(&slot, 1, 200, &which, &r)) {
    }
    char w[96];
    snprintf(w, sizeof w, "rank %d %s", g_rank, r.worker);
    free(r.worker);
    r.worker = rsim_xstrdup(w);
    char *out = rsim_batch_result_to_json(&r);
    send_text(0, TAG_RESULT, out);
    free(out);
    rsim_batch_result_free(&r);
    rsim_batch_job_clear(&j);
  }
}

static int deal(const rsim_batch_jobs *js, rsim_batch_db *db, const rsim_batch_opts *o, rsim_errbuf *eb) {
  int nw = g_size - 1;
  size_t *queue = rsim_xmalloc((2 * js->n + 1) * sizeof *queue);
  int *attempts = rsim_xcalloc(js->n + 1, sizeof *attempts), *avoid = rsim_xcalloc(js->n + 1, sizeof *avoid);
  long *busy = rsim_xmalloc((size_t)g_size * sizeof *busy); /* job index a rank runs, -1 idle, -2 stopped */
  size_t qh = 0, qt = 0;
  rsim__batch_count c = {.total = js->n, .t0_ns = rsim_monotonic_ns()};
  for (size_t i = 0; i < js->n; i++) {
    avoid[i] = -1;
    if (rsim_batch_db_done(db, js->v[i].key)) c.skipped++;
    else queue[qt++] = i;
  }
  for (int r = 0; r < g_size; r++) busy[r] = -1;
  rsim__batch_report(o, &c, NULL, NULL);
  int rc = RSIM_OK, live = nw;
  bool stopping = false;
  while (live > 0) {
    char *text = NULL;
    MPI_Status st;
    if (!recv_any(stopping ? NULL : o->stop, MPI_ANY_SOURCE, &text, &st)) {
      stopping = true; /* Ctrl-C: deal no more; collect the running jobs */
      rsim_errbuf_set(eb, RSIM_EHALTED, "batch: stopped");
      continue;
    }
    int src = st.MPI_SOURCE;
    if (st.MPI_TAG == TAG_RESULT && busy[src] >= 0) {
      size_t ji = (size_t)busy[src];
      const rsim_batch_job *j = &js->v[ji];
      rsim_batch_result r;
      busy[src] = -1;
      c.running--;
      if (rsim_batch_result_from_json(text, &r, eb)) {
        rc = eb->code;
      } else {
        r.attempts = ++attempts[ji];
        if (!r.ok && attempts[ji] < 2) {
          avoid[ji] = src;
          queue[qt++] = ji;
        } else {
          if (r.ok) c.done++;
          else c.failed++;
          if (rsim_batch_db_put_metrics(db, &r) || rsim_batch_db_put(db, j, &r)) rc = rsim_errbuf_set(eb, RSIM_EBACKEND, "%s", rsim_batch_db_errmsg(db));
          rsim__batch_report(o, &c, j, &r);
        }
        rsim_batch_result_free(&r);
      }
    }
    free(text);
    if (rc) stopping = true;
    if (o->stop && *o->stop) stopping = true;
    /* Deal queued jobs to idle ranks, a retry to another rank than its last when one is idle. */
    while (!stopping && qh < qt) {
      size_t ji = queue[qh];
      int pick = -1;
      for (int r = 1; r < g_size; r++)
        if (busy[r] == -1 && (pick < 0 || pick == avoid[ji])) pick = r;
      if (pick < 0) break;
      qh++;
      char *jt = rsim_batch_job_to_json(&js->v[ji]);
      send_text(pick, TAG_JOB, jt);
      free(jt);
      busy[pick] = (long)ji;
      c.running++;
    }
    /* Nothing left to deal and nothing running that could come back: stop the idle ranks. */
    bool any_running = c.running > 0;
    for (int r = 1; r < g_size; r++)
      if (busy[r] == -1 && (stopping || (qh == qt && !any_running))) {
        send_text(r, TAG_STOP, "");
        busy[r] = -2;
        live--;
      }
  }
  free(queue);
  free(attempts);
  free(avoid);
  free(busy);
  if (!rc && o->stop && *o->stop) rc = RSIM_EHALTED;
  return rc;
}

int rsim_batch_run_mpi(const rsim_batch_jobs *js, rsim_batch_db *db, const rsim_batch_opts *o, rsim_errbuf *eb) {
  if (g_size <= 1) return rsim_batch_run_local(js, db, o, eb);
  return g_rank == 0 ? deal(js, db, o, eb) : work(o, eb);
}
#endif
