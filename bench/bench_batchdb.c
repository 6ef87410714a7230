/*
** bench_batchdb.c -- what rank 0 spends on one job's result, for the paper
** scaling of a batch to many nodes: decoding the result message a worker
** sends (JSON), and recording it in the results database, one transaction
** a job as a batch does, in a SQLite file or in PostgreSQL.
**
**   bench_batchdb FROM.db INTO N     (INTO: a new file or a postgresql:// URI)
**
** The results of FROM (a real batch's) are recorded N times over under
** fresh keys.  Prints per-job microseconds and the message size.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "rsim/batch.h"

typedef struct rows {
  rsim_batch_db *from;
  rsim_batch_job *j;
  char **msg; /* each result as the worker sends it */
  size_t n;
} rows;

static void take_metric(void *ud, const char *key, const rsim_batch_metric *m) {
  rsim_batch_result *r = ud;
  (void)key;
  r->metrics = realloc(r->metrics, (r->n_metrics + 1) * sizeof *r->metrics);
  if (!r->metrics) abort();
  r->metrics[r->n_metrics++] = (rsim_batch_metric){strdup(m->component), strdup(m->kind), strdup(m->cls),
                                                   strdup(m->metric), m->window, m->t0, m->t1, m->value};
}

static void take(void *ud, const rsim_batch_job *j, const rsim_batch_result *r) {
  rows *s = ud;
  s->j = realloc(s->j, (s->n + 1) * sizeof *s->j);
  s->msg = realloc(s->msg, (s->n + 1) * sizeof *s->msg);
  if (!s->j || !s->msg) abort();
  s->j[s->n] = (rsim_batch_job){.key = strdup(j->key), .name = strdup(j->name), .graph = strdup(j->graph),
                                .store = strdup(j->store), .from = j->from, .to = j->to, .warmup_ns = j->warmup_ns,
                                .seq = j->seq};
  /* The result as the worker sent it: with its scores, which rsim_batch_db_each leaves out. */
  rsim_batch_result scored = *r;
  scored.metrics = NULL, scored.n_metrics = 0;
  if (rsim_batch_db_each_metric(s->from, j->key, take_metric, &scored)) abort();
  s->msg[s->n++] = rsim_batch_result_to_json(&scored);
  for (size_t i = 0; i < scored.n_metrics; i++) {
    free(scored.metrics[i].component);
    free(scored.metrics[i].kind);
    free(scored.metrics[i].cls);
    free(scored.metrics[i].metric);
  }
  free(scored.metrics);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: bench_batchdb FROM.db INTO N\n");
    return 2;
  }
  bench_name = "bench_batchdb";
  int n = (int)bench_arg_int(argc, argv, 3, "N", 0, 1, 100000000);
  rsim_errbuf eb = {0};
  rsim_batch_db *from, *into;
  rows s = {0};
  if (rsim_batch_db_open_existing(argv[1], &from, &eb) || (s.from = from, rsim_batch_db_each(from, take, &s)) || !s.n) {
    fprintf(stderr, "bench_batchdb: %s\n", eb.msg[0] ? eb.msg : "no jobs");
    return 1;
  }
  rsim_batch_db_close(from);
  if (rsim_batch_db_open(argv[2], &into, &eb)) {
    fprintf(stderr, "bench_batchdb: %s\n", eb.msg);
    return 1;
  }
  size_t bytes = 0;
  for (size_t i = 0; i < s.n; i++) bytes += strlen(s.msg[i]);
  double decode = 0, put = 0;
  char key[2048];
  for (int k = 0; k < n; k++) {
    for (size_t i = 0; i < s.n; i++) {
      rsim_batch_result r;
      double t0 = now_s();
      if (rsim_batch_result_from_json(s.msg[i], &r, &eb)) {
        fprintf(stderr, "bench_batchdb: %s\n", eb.msg);
        return 1;
      }
      double t1 = now_s();
      rsim_batch_job j = s.j[i];
      snprintf(key, sizeof key, "%s#%d", s.j[i].key, k);
      j.key = key;
      if (rsim_batch_db_put(into, &j, &r)) {
        fprintf(stderr, "bench_batchdb: %s\n", rsim_batch_db_errmsg(into));
        return 1;
      }
      put += now_s() - t1, decode += t1 - t0;
      rsim_batch_result_free(&r);
    }
  }
  double jobs = (double)n * (double)s.n;
  printf("%.0f jobs: message %zu bytes (scores included), decoding %.1f us a job, recording %.1f us a job (%.0f jobs/s)\n", jobs,
         bytes / s.n, decode * 1e6 / jobs, put * 1e6 / jobs, jobs / put);
  rsim_batch_db_close(into);
  for (size_t i = 0; i < s.n; i++) {
    rsim_batch_job_clear(&s.j[i]);
    free(s.msg[i]);
  }
  free(s.j);
  free(s.msg);
  return 0;
}
