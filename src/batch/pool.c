/*
** pool.c -- jobs run in forked worker processes, N at once.
**
** A worker is a fork of this process that runs one job (rsim_batch_run_job)
** and writes its result as one JSON text into a pipe.  The parent reads
** the pipes and reaps the workers: a worker that dies (a signal, an abort
** in a component's host call), exits without a result, or outlives the job
** timeout (then it is killed) gives a failed result naming why, and the
** batch goes on.  A failed job is tried once more by a new worker.
** Workers ignore SIGINT: Ctrl-C reaches the parent, which kills them and
** keeps only finished results (a stopped job is not a failed one).
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch_int.h"

static void out_path(const char *dir, const rsim_batch_job *j, char *out, size_t n) {
  char name[200];
  snprintf(name, sizeof name, "%s", j->name);
  for (char *p = name; *p; p++)
    if (*p == '/' || *p == '#' || *p == ' ') *p = '_';
  snprintf(out, n, "%s/%04zu-%s.db", dir, j->seq, name);
}

int rsim__batch_spawn(rsim__batch_slot *s, const rsim_batch_job *j, const rsim_batch_opts *o, rsim_errbuf *eb) {
  int fds[2];
  if (pipe(fds)) return rsim_errbuf_set(eb, RSIM_EIO, "batch: pipe: %s", strerror(errno));
  char out[1200] = "";
  if (o->runs_dir) {
    mkdir(o->runs_dir, 0777); /* exists already, or the job says it cannot record */
    out_path(o->runs_dir, j, out, sizeof out);
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return rsim_errbuf_set(eb, RSIM_EIO, "batch: cannot start a worker: %s", strerror(errno));
  }
  if (pid == 0) {
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    close(fds[0]);
    /* Test hook: a worker that dies mid-job (tests/integration/test_batch.c). */
    const char *crash = getenv("RSIM_BATCH_TEST_CRASH");
    if (crash && strstr(j->name, crash)) raise(SIGKILL);
    rsim_batch_result r;
    rsim_batch_run_job(j, out[0] ? out : NULL, !o->no_eval, NULL, &r, NULL);
    char *text = rsim_batch_result_to_json(&r);
    size_t len = strlen(text), off = 0;
    while (off < len) {
      ssize_t w = write(fds[1], text + off, len - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) _exit(3);
      off += (size_t)w;
    }
    _exit(0);
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  *s = (rsim__batch_slot){.pid = pid, .fd = fds[0], .job = j, .started_ns = rsim_monotonic_ns()};
  if (o->job_timeout_ns > 0) s->deadline_ns = s->started_ns + o->job_timeout_ns;
  return RSIM_OK;
}

/* Reaps a worker whose pipe ended and makes its result. */
static void finish(rsim__batch_slot *s, rsim_batch_result *r) {
  int status = 0;
  while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {
  }
  rsim_buf_putc(&s->buf, 0);
  rsim_errbuf jeb = {0};
  char why[256] = "";
  if (s->timed_out)
    snprintf(why, sizeof why, "timed out after %.1fs (--job-timeout); worker killed",
             (double)(s->deadline_ns - s->started_ns) / 1e9);
  else if (WIFSIGNALED(status))
    snprintf(why, sizeof why, "worker died: signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
  else if (!WIFEXITED(status) || WEXITSTATUS(status))
    snprintf(why, sizeof why, "worker exited with status %d", WEXITSTATUS(status));
  else if (rsim_batch_result_from_json((const char *)s->buf.data, r, &jeb))
    snprintf(why, sizeof why, "worker gave no result (%.200s)", jeb.msg);
  if (why[0]) {
    *r = (rsim_batch_result){.key = rsim_xstrdup(s->job->key), .reason = rsim_xstrdup(why), .out = rsim_xstrdup(""),
                             .wall_s = (double)(rsim_monotonic_ns() - s->started_ns) / 1e9};
  }
  char w[64];
  snprintf(w, sizeof w, "pid %d", (int)s->pid);
  free(r->worker);
  r->worker = rsim_xstrdup(w);
  close(s->fd);
  rsim_buf_free(&s->buf);
  s->pid = 0;
}

int rsim__batch_poll(rsim__batch_slot *slots, size_t n, int timeout_ms, size_t *which, rsim_batch_result *r) {
  struct pollfd pf[64];
  size_t idx[64], m = 0;
  int64_t now = rsim_monotonic_ns();
  for (size_t i = 0; i < n && m < 64; i++) {
    if (!slots[i].pid) continue;
    if (slots[i].deadline_ns && now >= slots[i].deadline_ns && !slots[i].timed_out) {
      slots[i].timed_out = true;
      kill(slots[i].pid, SIGKILL);
    }
    if (slots[i].deadline_ns && !slots[i].timed_out) {
      int64_t left = (slots[i].deadline_ns - now) / RSIM_NS_PER_MS + 1;
      if (left < timeout_ms) timeout_ms = (int)left;
    }
    pf[m] = (struct pollfd){.fd = slots[i].fd, .events = POLLIN};
    idx[m++] = i;
  }
  if (!m) return 0;
  if (poll(pf, m, timeout_ms) <= 0) return 0;
  for (size_t k = 0; k < m; k++) {
    if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    rsim__batch_slot *s = &slots[idx[k]];
    char chunk[65536];
    ssize_t got = read(s->fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got > 0) {
      rsim_buf_append(&s->buf, chunk, (size_t)got);
      continue;
    }
    finish(s, r);
    *which = idx[k];
    return 1;
  }
  return 0;
}

void rsim__batch_kill_all(rsim__batch_slot *slots, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!slots[i].pid) continue;
    kill(slots[i].pid, SIGKILL);
    while (waitpid(slots[i].pid, NULL, 0) < 0 && errno == EINTR) {
    }
    close(slots[i].fd);
    rsim_buf_free(&slots[i].buf);
    slots[i].pid = 0;
  }
}

void rsim__batch_report(const rsim_batch_opts *o, rsim__batch_count *c, const rsim_batch_job *j,
                        const rsim_batch_result *r) {
  if (!o->progress) return;
  rsim_batch_progress p = {.total = c->total, .done = c->done, .failed = c->failed, .running = c->running,
                           .skipped = c->skipped, .job = j, .result = r};
  p.elapsed_s = (double)(rsim_monotonic_ns() - c->t0_ns) / 1e9;
  size_t ended = c->done + c->failed, left = c->total - c->skipped - ended;
  p.eta_s = ended ? p.elapsed_s / (double)ended * (double)left : -1;
  o->progress(o->progress_ud, &p);
}

int rsim_batch_run_local(const rsim_batch_jobs *js, rsim_batch_db *db, const rsim_batch_opts *o, rsim_errbuf *eb) {
  size_t nslots = o->jobs ? o->jobs : 1;
  if (nslots > 64) nslots = 64;
  rsim__batch_slot slots[64] = {{0}};
  /* The queue: job indices with their attempts so far. */
  size_t *queue = rsim_xmalloc((2 * js->n + 1) * sizeof *queue);
  int *attempts = rsim_xcalloc(js->n + 1, sizeof *attempts);
  size_t qh = 0, qt = 0;
  rsim__batch_count c = {.total = js->n, .t0_ns = rsim_monotonic_ns()};
  for (size_t i = 0; i < js->n; i++) {
    if (rsim_batch_db_done(db, js->v[i].key)) c.skipped++;
    else queue[qt++] = i;
  }
  rsim__batch_report(o, &c, NULL, NULL);
  int rc = RSIM_OK;
  while (qh < qt || c.running) {
    if (o->stop && *o->stop) {
      rc = rsim_errbuf_set(eb, RSIM_EHALTED, "batch: stopped with %zu jobs done, %zu failed, %zu not run",
                           c.done, c.failed, c.total - c.skipped - c.done - c.failed);
      break;
    }
    for (size_t s = 0; s < nslots && qh < qt; s++) {
      if (slots[s].pid) continue;
      if ((rc = rsim__batch_spawn(&slots[s], &js->v[queue[qh]], o, eb))) goto out;
      qh++;
      c.running++;
    }
    size_t which;
    rsim_batch_result r;
    if (!rsim__batch_poll(slots, nslots, 200, &which, &r)) continue;
    c.running--;
    const rsim_batch_job *j = slots[which].job;
    size_t ji = (size_t)(j - js->v);
    r.attempts = ++attempts[ji];
    if (!r.ok && attempts[ji] < 2) { /* once more, in a new worker */
      queue[qt++] = ji;
      rsim_batch_result_free(&r);
      continue;
    }
    if (r.ok) c.done++;
    else c.failed++;
    if ((rc = rsim_batch_db_put(db, j, &r))) {
      rsim_errbuf_set(eb, rc, "%s", rsim_batch_db_errmsg(db));
      rsim_batch_result_free(&r);
      break;
    }
    rsim__batch_report(o, &c, j, &r);
    rsim_batch_result_free(&r);
  }
out:
  rsim__batch_kill_all(slots, nslots);
  free(queue);
  free(attempts);
  return rc;
}
