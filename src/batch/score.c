/*
** score.c -- scores in a batch: a job is scored as `replaysim run --eval`
** scores a run (src/eval, over the job's own range), its scores travel with
** its result into the results database's metrics table, and gates
** (src/eval/gate.c) are checked job by job, with the baseline's numbers of
** the same job -- same store and range -- from another results database.
*/
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch_int.h"

void rsim__batch_metric_clear(rsim_batch_metric *m) {
  free(m->component);
  free(m->kind);
  free(m->cls);
  free(m->metric);
  *m = (rsim_batch_metric){0};
}

bool rsim__batch_scorable(const rsim_graph *g, rsim_store *st) {
  size_t n = 0;
  rsim_graph_eval(g, &n);
  if (!n) return false;
  rsim_truth *t = NULL;
  size_t nt = 0;
  bool yes = !rsim_store_truth(st, INT64_MIN, INT64_MAX, &t, &nt) && nt > 0;
  free(t);
  return yes;
}

int rsim__batch_tmp_run(char *path, size_t n, rsim_errbuf *eb) {
  const char *dir = getenv("TMPDIR");
  snprintf(path, n, "%.1000s/rsim-job-XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) {
    int e = errno;
    path[0] = 0;
    return rsim_errbuf_set(eb, RSIM_EIO, "cannot make a temporary run database to score the job: %s", strerror(e));
  }
  close(fd);
  return RSIM_OK;
}

void rsim__batch_tmp_remove(const char *path) {
  static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
  char p[1200];
  for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
    snprintf(p, sizeof p, "%s%s", path, ext[i]);
    unlink(p);
  }
}

int rsim__batch_score(const rsim_batch_job *job, const char *run_db, rsim_store *st, rsim_batch_result *r,
                      rsim_errbuf *eb) {
  rsim_eval_opts o = {.graph = job->graph, .from = job->from, .to = job->to};
  rsim_eval_result *e = NULL;
  rsim_errbuf eeb = {0};
  if (rsim_eval_run(run_db, st, &o, &e, &eeb)) return rsim_errbuf_set(eb, eeb.code, "eval: %s", eeb.msg);
  r->n_metrics = rsim_eval_n_rows(e);
  r->metrics = rsim_xcalloc(r->n_metrics ? r->n_metrics : 1, sizeof *r->metrics);
  for (size_t i = 0; i < r->n_metrics; i++) {
    const rsim_eval_row *x = rsim_eval_row_at(e, i);
    r->metrics[i] = (rsim_batch_metric){rsim_xstrdup(x->component), rsim_xstrdup(x->kind), rsim_xstrdup(x->cls),
                                        rsim_xstrdup(x->metric), x->window, x->t0, x->t1, x->value};
  }
  rsim_eval_free(e);
  return RSIM_OK;
}

static rsim_eval_row as_row(const rsim_batch_metric *m) {
  return (rsim_eval_row){.component = m->component, .kind = m->kind, .window = m->window, .t0 = m->t0, .t1 = m->t1,
                         .cls = m->cls, .metric = m->metric, .value = m->value};
}

rsim_eval_result *rsim_batch_scores(const rsim_batch_result *r) {
  rsim_eval_result *e = rsim_eval_result_new();
  for (size_t i = 0; i < r->n_metrics; i++) {
    rsim_eval_row x = as_row(&r->metrics[i]);
    rsim_eval_result_add(e, &x);
  }
  return e;
}

/* ---- jobs and their scores, read from a results database ------------------------ */
typedef struct job_row {
  rsim_batch_job job;
  bool ok;
  char *reason;
  rsim_batch_result scores; /* only key, metrics */
} job_row;

typedef struct job_list {
  job_row *v;
  size_t n;
} job_list;

static void add_job(void *ud, const rsim_batch_job *j, const rsim_batch_result *r) {
  job_list *l = ud;
  l->v = rsim_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
  job_row *x = &l->v[l->n++];
  *x = (job_row){.job = {.key = rsim_xstrdup(j->key), .name = rsim_xstrdup(j->name), .graph = rsim_xstrdup(j->graph),
                         .store = rsim_xstrdup(j->store), .from = j->from, .to = j->to, .warmup_ns = j->warmup_ns,
                         .seq = j->seq},
                 .ok = r->ok, .reason = rsim_xstrdup(r->reason ? r->reason : "")};
  x->scores.key = rsim_xstrdup(j->key);
}

static void add_metric(void *ud, const char *key, const rsim_batch_metric *m) {
  rsim_batch_result *r = ud;
  if (!(r->n_metrics & (r->n_metrics + 1))) /* full at 0, 1, 3, 7, ...: double */
    r->metrics = rsim_xrealloc(r->metrics, (2 * r->n_metrics + 2) * sizeof *r->metrics);
  r->metrics[r->n_metrics++] = (rsim_batch_metric){rsim_xstrdup(m->component), rsim_xstrdup(m->kind),
                                                   rsim_xstrdup(m->cls), rsim_xstrdup(m->metric), m->window, m->t0,
                                                   m->t1, m->value};
  (void)key;
}

static void jobs_free(job_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    rsim_batch_job_clear(&l->v[i].job);
    free(l->v[i].reason);
    rsim_batch_result_free(&l->v[i].scores);
  }
  free(l->v);
  *l = (job_list){0};
}

/* Every job of db, with its scores. */
static int load_jobs(rsim_batch_db *db, const char *path, job_list *l, rsim_errbuf *eb) {
  int rc = rsim_batch_db_each(db, add_job, l);
  for (size_t i = 0; !rc && i < l->n; i++) rc = rsim_batch_db_each_metric(db, l->v[i].job.key, add_metric, &l->v[i].scores);
  if (rc) return rsim_errbuf_set(eb, rc, "%s: %s", path, rsim_batch_db_errmsg(db));
  return RSIM_OK;
}

/* ---- baselines ----------------------------------------------------------------- */
struct rsim_batch_baseline {
  rsim_batch_result scores;
};

double rsim_batch_baseline_value(void *baseline, const rsim_eval_row *x) {
  const rsim_batch_baseline *b = baseline;
  for (size_t i = 0; i < b->scores.n_metrics; i++) {
    const rsim_batch_metric *m = &b->scores.metrics[i];
    if (m->window == x->window && (!x->window || m->t0 == x->t0) && !strcmp(m->component, x->component) &&
        !strcmp(m->cls, x->cls) && !strcmp(m->metric, x->metric))
      return m->value;
  }
  return NAN;
}

void rsim_batch_baseline_free(rsim_batch_baseline *b) {
  if (!b) return;
  rsim_batch_result_free(&b->scores);
  free(b);
}

static int open_results(const char *path, rsim_batch_db **db, rsim_errbuf *eb) {
  if (!rsim_batch_db_is_results(path))
    return rsim_errbuf_set(eb, RSIM_ENOTFOUND, "%s: not a results database of replaysim batch", path);
  return rsim_batch_db_open_existing(path, db, eb);
}

int rsim_batch_baseline_open(const char *results_db, const char *store, rsim_time from, rsim_time to,
                             rsim_batch_baseline **out, rsim_errbuf *eb) {
  *out = NULL;
  rsim_batch_db *db;
  int rc = open_results(results_db, &db, eb);
  if (rc) return rc;
  job_list l = {0};
  rc = load_jobs(db, results_db, &l, eb);
  rsim_batch_db_close(db);
  for (size_t i = 0; !rc && i < l.n && !*out; i++) {
    job_row *x = &l.v[i];
    if (strcmp(x->job.store, store) || x->job.from != from || x->job.to != to) continue;
    *out = rsim_xcalloc(1, sizeof **out);
    (*out)->scores = x->scores;
    x->scores = (rsim_batch_result){0};
  }
  if (!rc && !*out)
    rc = rsim_errbuf_set(eb, RSIM_ENOTFOUND, "%s: no job over %s%s to compare with", results_db, store,
                         from || to ? " with that range" : " as a whole");
  jobs_free(&l);
  return rc;
}

/* ---- gates over a batch --------------------------------------------------------- */
static const job_row *counterpart(const job_list *base, const rsim_batch_job *j) {
  for (size_t i = 0; base && i < base->n; i++) {
    const rsim_batch_job *b = &base->v[i].job;
    if (!strcmp(b->store, j->store) && b->from == j->from && b->to == j->to) return &base->v[i];
  }
  return NULL;
}

int rsim_batch_gates(rsim_batch_db *db, const char *gates_yaml, const char *baseline, rsim_buf *report,
                     size_t *failed, rsim_errbuf *eb) {
  *failed = 0;
  job_list l = {0}, bl = {0};
  int rc = load_jobs(db, "results database", &l, eb);
  if (!rc && baseline) {
    rsim_batch_db *bdb;
    rc = open_results(baseline, &bdb, eb);
    if (!rc) {
      rc = load_jobs(bdb, baseline, &bl, eb);
      rsim_batch_db_close(bdb);
    }
  }
  if (!rc && !l.n) rc = rsim_errbuf_set(eb, RSIM_ENOTFOUND, "no job in the results database to gate");
  for (size_t i = 0; !rc && i < l.n; i++) {
    const job_row *x = &l.v[i];
    char drive[1200];
    snprintf(drive, sizeof drive, "%s (job %s)", x->job.store, x->job.name);
    if (!x->ok) {
      rsim_buf_printf(report, "FAIL job %s: drive %s: the job failed, nothing to gate: %s\n", x->job.name,
                      x->job.store, x->reason);
      (*failed)++;
      continue;
    }
    const job_row *b = counterpart(baseline ? &bl : NULL, &x->job);
    if (baseline && !b) rsim_buf_printf(report, "note: job %s has no counterpart in %s\n", x->job.name, baseline);
    rsim_batch_baseline base = {.scores = b ? b->scores : (rsim_batch_result){0}};
    rsim_eval_result *e = rsim_batch_scores(&x->scores);
    rsim_buf one = {0};
    size_t f = 0;
    rc = rsim_eval_gates_with(e, gates_yaml, baseline ? rsim_batch_baseline_value : NULL, &base, drive, &one, &f, eb);
    rsim_eval_free(e);
    /* A PASS line says which job passed. */
    for (char *p = (char *)one.data, *end = p + one.len; p && p < end;) {
      char *nl = memchr(p, '\n', (size_t)(end - p));
      size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
      if (!strncmp(p, "PASS ", 5)) {
        rsim_buf_printf(report, "PASS job %s: ", x->job.name);
        rsim_buf_append(report, p + 5, len - 5);
      } else rsim_buf_append(report, p, len);
      p = nl ? nl + 1 : NULL;
    }
    rsim_buf_free(&one);
    *failed += f;
  }
  jobs_free(&l);
  jobs_free(&bl);
  return rc;
}
