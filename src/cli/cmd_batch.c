/*
** cmd_batch.c -- `replaysim batch`: many runs of a graph, over stores or
** scenes of them, N at once (--jobs N, or mpirun -n N), into one results
** database, with each job's scores when the graph has an eval: block;
** `batch report` prints it, `batch --merge` joins result files, and
** `--gate` (on a batch or its report) checks the scores job by job.
** The work is src/batch (rsim/batch.h); this file parses options, shows
** progress on stderr and prints the report.
*/
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rsim/batch.h"
#include "rsim/store.h"

static volatile sig_atomic_t g_stop;
static void on_sigint(int sig) { g_stop = 1; }

static int usage(void) {
  fprintf(stderr,
          "usage: replaysim batch GRAPH --stores PATTERN|URI [--stores ...] [--scenes 20s [--warmup 2s]]\n"
          "                       [--out RESULTS | --resume RESULTS] [--runs DIR | --no-runs]\n"
          "                       [--jobs N] [--job-timeout 10m] [--shard I/N] [--quiet]\n"
          "                       [--no-eval] [--gate gates.yaml [--baseline old_results.db]]\n"
          "       replaysim batch --jobs-file jobs.yaml [same options]\n"
          "       replaysim batch --merge --out RESULTS a.db b.db ...\n"
          "       replaysim batch report RESULTS [--json] [--gate gates.yaml [--baseline OLD_RESULTS]]\n"
          "RESULTS is a SQLite file (results.db by default) or a postgresql:// URI that\n"
          "every node writes to.  Under `mpirun -n N` rank 0 deals the jobs to the other\n"
          "ranks (docs/fleet.md).  Jobs of a graph with an eval: block over drives with\n"
          "ground truth are scored (docs/evaluation.md); a failed gate fails the command.\n");
  return CLI_USAGE;
}

typedef struct batch_args {
  const char *graph, *jobs_file, *out, *runs, *gate, *baseline;
  const char *stores[64];
  size_t n_stores;
  const char *merge[256];
  size_t n_merge;
  bool merging, resume, no_runs, quiet, no_eval;
  int64_t scene_ns, warmup_ns, timeout_ns;
  size_t jobs, shard_i, shard_n;
} batch_args;

static int parse_args(int argc, char **argv, batch_args *a) {
  const char *v;
  rsim_errbuf eb = {0};
  *a = (batch_args){.jobs = 1, .warmup_ns = 2 * RSIM_NS_PER_S};
  for (int i = 1; i < argc; i++) {
    if (cli_opt(argc, argv, &i, "--stores", &v)) {
      if (a->n_stores == 64) return usage();
      a->stores[a->n_stores++] = v;
    } else if (cli_opt(argc, argv, &i, "--jobs-file", &v)) a->jobs_file = v;
    else if (cli_opt(argc, argv, &i, "--out", &v)) a->out = v;
    else if (cli_opt(argc, argv, &i, "--resume", &v)) a->out = v, a->resume = true;
    else if (cli_opt(argc, argv, &i, "--runs", &v)) a->runs = v;
    else if (!strcmp(argv[i], "--no-runs")) a->no_runs = true;
    else if (!strcmp(argv[i], "--no-eval")) a->no_eval = true;
    else if (cli_opt(argc, argv, &i, "--gate", &v)) a->gate = v;
    else if (cli_opt(argc, argv, &i, "--baseline", &v)) a->baseline = v;
    else if (!strcmp(argv[i], "--quiet")) a->quiet = true;
    else if (!strcmp(argv[i], "--merge")) a->merging = true;
    else if (cli_opt(argc, argv, &i, "--scenes", &v)) {
      if (rsim_parse_duration_arg(v, true, &a->scene_ns, &eb)) return cli_bad_value("batch", "--scenes", &eb);
    } else if (cli_opt(argc, argv, &i, "--warmup", &v)) {
      if (rsim_parse_duration_arg(v, false, &a->warmup_ns, &eb)) return cli_bad_value("batch", "--warmup", &eb);
    } else if (cli_opt(argc, argv, &i, "--job-timeout", &v)) {
      if (rsim_parse_duration_arg(v, true, &a->timeout_ns, &eb)) return cli_bad_value("batch", "--job-timeout", &eb);
    } else if (cli_opt(argc, argv, &i, "--jobs", &v)) {
      int64_t n;
      if (rsim_parse_int(v, 1, 64, &n, &eb)) return cli_bad_value("batch", "--jobs", &eb);
      a->jobs = (size_t)n;
    } else if (cli_opt(argc, argv, &i, "--shard", &v)) {
      unsigned si, sn;
      char tail;
      if (sscanf(v, "%u/%u%c", &si, &sn, &tail) != 2 || sn == 0 || si >= sn) {
        fprintf(stderr, "replaysim batch: --shard: '%s' is not I/N with 0 <= I < N\n", v);
        return CLI_USAGE;
      }
      a->shard_i = si, a->shard_n = sn;
    } else if (argv[i][0] != '-' && a->merging) {
      if (a->n_merge == 256) return usage();
      a->merge[a->n_merge++] = argv[i];
    } else if (argv[i][0] != '-' && !a->graph) a->graph = argv[i];
    else return usage();
  }
  if (a->merging) return a->out && a->n_merge ? CLI_OK : usage();
  if (a->baseline && !a->gate) return usage();
  if (!a->jobs_file && (!a->graph || !a->n_stores)) return usage();
  if (!a->out) a->out = "results.db";
  return CLI_OK;
}

/* ---- progress ------------------------------------------------------------- */
static void fmt_eta(double s, char *out, size_t n) {
  if (s < 0) snprintf(out, n, "?");
  else if (s < 120) snprintf(out, n, "%.0fs", s);
  else snprintf(out, n, "%.0fm%02.0fs", s / 60 - 0.5 < 0 ? 0 : (double)(long)(s / 60), s - 60 * (double)(long)(s / 60));
}

static void on_progress(void *ud, const rsim_batch_progress *p) {
  const batch_args *a = ud;
  if (a->quiet) return;
  if (p->result && !p->result->ok)
    fprintf(stderr, "batch: job %s failed (%d attempts): %s\n", p->job->name, p->result->attempts, p->result->reason);
  char eta[32];
  fmt_eta(p->eta_s, eta, sizeof eta);
  size_t todo = p->total - p->skipped;
  fprintf(stderr, "batch: %zu/%zu done, %zu failed, %zu running%s%.0zu%s, %.1fs elapsed, ETA %s\n", p->done, todo,
          p->failed, p->running, p->skipped ? " (" : "", p->skipped, p->skipped ? " done before, skipped)" : "",
          p->elapsed_s, eta);
}

/* ---- report ---------------------------------------------------------------
** The job table, then each job's headline scores (whole job, class all)
** and the same over all jobs: counts summed, min_* and max_* the least and
** greatest of the jobs', the others the mean of the jobs' defined values. */
typedef struct score {
  char *key, *component, *kind, *cls, *metric;
  double value;
} score;

typedef struct report_state {
  bool json;
  size_t n, ok, failed;
  double wall;
  uint64_t readings, faults, tv;
  bool first;
  score *sc; /* whole-job scores of every job, by job */
  size_t n_sc;
  size_t *group; /* where each job's scores start in sc (they come job by job) */
  size_t n_group;
  char **names, **keys; /* jobs in batch order */
} report_state;

static void json_str(const char *s) {
  rsim_buf b = {0};
  rsim_buf_put_json_str(&b, s, strlen(s));
  fwrite(b.data, 1, b.len, stdout);
  rsim_buf_free(&b);
}

static void json_num(double v) {
  if (isfinite(v)) printf("%.17g", v);
  else printf("null");
}

static void keep_score(void *ud, const char *key, const rsim_batch_metric *m) {
  report_state *s = ud;
  if (m->window) return;
  if (!s->n_sc || strcmp(s->sc[s->n_sc - 1].key, key)) {
    s->group = rsim_xrealloc(s->group, (s->n_group + 1) * sizeof *s->group);
    s->group[s->n_group++] = s->n_sc;
  }
  s->sc = rsim_xrealloc(s->sc, (s->n_sc + 1) * sizeof *s->sc);
  s->sc[s->n_sc++] = (score){rsim_xstrdup(key), rsim_xstrdup(m->component), rsim_xstrdup(m->kind),
                             rsim_xstrdup(m->cls), rsim_xstrdup(m->metric), m->value};
}

/* The scores of job key: sc[*a .. *b). */
static void job_scores(const report_state *s, const char *key, size_t *a, size_t *b) {
  *a = *b = 0;
  for (size_t g = 0; g < s->n_group; g++)
    if (!strcmp(s->sc[s->group[g]].key, key)) {
      *a = s->group[g];
      *b = g + 1 < s->n_group ? s->group[g + 1] : s->n_sc;
      return;
    }
}

static void report_row(void *ud, const rsim_batch_job *j, const rsim_batch_result *r) {
  report_state *s = ud;
  s->names = rsim_xrealloc(s->names, (s->n + 1) * sizeof *s->names);
  s->keys = rsim_xrealloc(s->keys, (s->n + 1) * sizeof *s->keys);
  s->names[s->n] = rsim_xstrdup(j->name);
  s->keys[s->n] = rsim_xstrdup(j->key);
  s->n++;
  if (r->ok) s->ok++;
  else s->failed++;
  s->wall += r->wall_s;
  s->readings += r->readings, s->faults += r->faults, s->tv += r->timing_violations;
  if (!s->json) {
    printf("%-24s %-6s %9.3f %9llu %6llu %6llu %3d  %.16s%s%s\n", j->name, r->ok ? "ok" : "FAILED", r->wall_s,
           (unsigned long long)r->readings, (unsigned long long)r->faults, (unsigned long long)r->timing_violations,
           r->attempts, r->digest[0] ? r->digest : "-", r->ok ? "" : "  ", r->ok ? "" : r->reason);
    return;
  }
  printf("%s\n    {\"name\": ", s->first ? "" : ",");
  s->first = false;
  json_str(j->name);
  printf(", \"graph\": ");
  json_str(j->graph);
  printf(", \"store\": ");
  json_str(j->store);
  printf(", \"from\": %lld, \"to\": %lld, \"warmup_ns\": %lld, \"status\": \"%s\", \"reason\": ", (long long)j->from,
         (long long)j->to, (long long)j->warmup_ns, r->ok ? "ok" : "failed");
  json_str(r->reason);
  printf(", \"digest\": \"%s\", \"partial\": %s, \"wall_s\": %.6f, \"readings\": %llu, \"faults\": %llu, "
         "\"timing_violations\": %llu, \"attempts\": %d, \"worker\": ",
         r->digest, r->partial ? "true" : "false", r->wall_s, (unsigned long long)r->readings,
         (unsigned long long)r->faults, (unsigned long long)r->timing_violations, r->attempts);
  json_str(r->worker);
  printf(", \"out\": ");
  json_str(r->out);
  printf(", \"components\": [");
  for (size_t i = 0; i < r->n_comps; i++) {
    const rsim_batch_comp *c = &r->comps[i];
    printf("%s{\"name\": ", i ? ", " : "");
    json_str(c->name);
    printf(", \"digest\": \"%s\", \"calls\": %llu, \"outputs\": %llu, \"errors\": %llu, \"limit_hits\": %llu, "
           "\"timing_violations\": %llu, \"mean_us\": %.3f, \"max_us\": %.3f}",
           c->digest, (unsigned long long)c->calls, (unsigned long long)c->outputs, (unsigned long long)c->errors,
           (unsigned long long)c->limit_hits, (unsigned long long)c->timing_violations, c->mean_us, c->max_us);
  }
  /* Every whole-job score (class by class): what a script compares. */
  printf("], \"scores\": [");
  bool first = true;
  size_t a, b;
  job_scores(s, j->key, &a, &b);
  for (size_t i = a; i < b; i++) {
    const score *x = &s->sc[i];
    printf("%s{\"component\": ", first ? "" : ", ");
    first = false;
    json_str(x->component);
    printf(", \"kind\": \"%s\", \"class\": ", x->kind);
    json_str(x->cls);
    printf(", \"metric\": \"%s\", \"value\": ", x->metric);
    json_num(x->value);
    printf("}");
  }
  printf("]}");
}

/* The overall value of (component, metric) over the jobs, class all; NaN when no job has it defined. */
static double overall(const report_state *s, const char *component, const char *metric, size_t *jobs) {
  bool count = rsim_eval_metric_is_count(metric), lo = !strncmp(metric, "min_", 4), hi = !strncmp(metric, "max_", 4);
  double acc = lo ? INFINITY : hi ? -INFINITY : 0;
  *jobs = 0;
  for (size_t i = 0; i < s->n_sc; i++) {
    const score *x = &s->sc[i];
    if (strcmp(x->component, component) || strcmp(x->metric, metric) || strcmp(x->cls, "all") || isnan(x->value))
      continue;
    (*jobs)++;
    if (lo) acc = fmin(acc, x->value);
    else if (hi) acc = fmax(acc, x->value);
    else acc += x->value;
  }
  if (!*jobs) return NAN;
  return lo || hi || count ? acc : acc / (double)*jobs;
}

static void print_num(const char *metric, double v) {
  if (isnan(v)) printf(" -");
  else if (isinf(v)) printf(" %sinf", v < 0 ? "-" : "");
  else if (rsim_eval_metric_is_count(metric)) printf(" %.0f", v);
  else printf(" %.4f", v);
}

/* (component, kind) pairs in order of first sight. */
static size_t components(const report_state *s, const char **comp, const char **kind, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < s->n_sc; i++) {
    bool seen = false;
    for (size_t k = 0; k < n && !seen; k++) seen = !strcmp(comp[k], s->sc[i].component);
    if (!seen && n < max) comp[n] = s->sc[i].component, kind[n++] = s->sc[i].kind;
  }
  return n;
}

static void print_scores(const report_state *s) {
  const char *comp[32], *kind[32], *h[8];
  size_t nc = components(s, comp, kind, 32);
  if (!nc) return;
  if (!s->json) printf("\nscores (whole job, class all; docs/evaluation.md):\n");
  for (size_t i = 0; i < s->n && !s->json; i++) {
    bool any = false;
    size_t a, b;
    job_scores(s, s->keys[i], &a, &b);
    for (size_t c = 0; c < nc; c++) {
      size_t nh = rsim_eval_headline(kind[c], h, 3);
      for (size_t k = 0; k < nh; k++)
        for (size_t x = a; x < b; x++) {
          const score *y = &s->sc[x];
          if (strcmp(y->component, comp[c]) || strcmp(y->cls, "all") || strcmp(y->metric, h[k])) continue;
          if (!any) printf("%-24s", s->names[i]);
          if (!k) printf("%s %s", any ? " |" : "", comp[c]);
          printf(" %s", h[k]);
          print_num(h[k], y->value);
          any = true;
        }
    }
    if (any) printf("\n");
  }
  if (s->json) printf(",\n  \"scores\": [");
  else printf("%-24s", "overall");
  bool first = true;
  for (size_t c = 0; c < nc; c++) {
    size_t nh = rsim_eval_headline(kind[c], h, s->json ? 8 : 3);
    for (size_t k = 0; k < nh; k++) {
      size_t jobs;
      double v = overall(s, comp[c], h[k], &jobs);
      if (!jobs) continue;
      if (s->json) {
        printf("%s\n    {\"component\": ", first ? "" : ",");
        json_str(comp[c]);
        printf(", \"metric\": \"%s\", \"value\": ", h[k]);
        json_num(v);
        printf(", \"jobs\": %zu}", jobs);
      } else {
        if (!k) printf("%s %s", first ? "" : " |", comp[c]);
        printf(" %s", h[k]);
        print_num(h[k], v);
      }
      first = false;
    }
  }
  if (s->json) printf("\n  ]");
  else printf("\n  (overall: counts summed, min_/max_ the least/greatest of the jobs', the rest the mean of the jobs')\n");
}

static void report_free(report_state *s) {
  for (size_t i = 0; i < s->n_sc; i++) {
    free(s->sc[i].key);
    free(s->sc[i].component);
    free(s->sc[i].kind);
    free(s->sc[i].cls);
    free(s->sc[i].metric);
  }
  free(s->sc);
  free(s->group);
  for (size_t i = 0; i < s->n; i++) {
    free(s->names[i]);
    free(s->keys[i]);
  }
  free(s->names);
  free(s->keys);
}

/* Gates over a results database: the lines on stdout (on stderr after
** --json, so that stdout stays one JSON value); a failed gate fails the
** command, its error the last line. */
static int check_gates(rsim_batch_db *db, const char *what, const char *gate, const char *baseline, bool to_stderr) {
  rsim_buf rep = {0};
  rsim_errbuf eb = {0};
  size_t failed = 0;
  int rc = rsim_batch_gates(db, gate, baseline, &rep, &failed, &eb);
  fflush(stdout);
  if (rep.len) fwrite(rep.data, 1, rep.len, to_stderr ? stderr : stdout);
  rsim_buf_free(&rep);
  if (rc) return cli_fail("%s: %s", what, eb.msg);
  if (failed)
    return cli_fail("%s: %zu gate%s of %s failed (job, window, metric and values above)", what, failed,
                    failed == 1 ? "" : "s", gate);
  return CLI_OK;
}

static int cmd_report(int argc, char **argv) {
  const char *path = NULL, *gate = NULL, *baseline = NULL, *v;
  report_state s = {.first = true};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json")) s.json = true;
    else if (cli_opt(argc, argv, &i, "--gate", &v)) gate = v;
    else if (cli_opt(argc, argv, &i, "--baseline", &v)) baseline = v;
    else if (argv[i][0] != '-' && !path) path = argv[i];
    else return usage();
  }
  if (!path || (baseline && !gate)) return usage();
  if (baseline && !rsim_batch_db_is_results(baseline))
    return cli_fail("batch report: the baseline %s is not a results database of replaysim batch", baseline);
  rsim_batch_db *db;
  rsim_errbuf eb = {0};
  if (rsim_batch_db_open_existing(path, &db, &eb)) return cli_fail("%s", eb.msg);
  if (rsim_batch_db_each_metric(db, NULL, keep_score, &s)) {
    cli_fail("batch report: %s", rsim_batch_db_errmsg(db));
    rsim_batch_db_close(db);
    report_free(&s);
    return CLI_FAIL;
  }
  if (s.json) printf("{\n  \"jobs\": [");
  else
    printf("%-24s %-6s %9s %9s %6s %6s %3s  %s\n", "job", "status", "wall s", "readings", "faults", "late", "try",
           "digest");
  int rc = rsim_batch_db_each(db, report_row, &s);
  if (rc) {
    cli_fail("batch report: %s", rsim_batch_db_errmsg(db));
    rsim_batch_db_close(db);
    report_free(&s);
    return CLI_FAIL;
  }
  if (s.json) {
    printf("\n  ],\n  \"totals\": {\"jobs\": %zu, \"ok\": %zu, \"failed\": %zu, \"wall_s\": %.6f, \"readings\": %llu, "
           "\"faults\": %llu, \"timing_violations\": %llu}",
           s.n, s.ok, s.failed, s.wall, (unsigned long long)s.readings, (unsigned long long)s.faults,
           (unsigned long long)s.tv);
    print_scores(&s);
    printf("\n}\n");
  } else {
    printf("total: %zu jobs, %zu ok, %zu failed; %.3fs of job wall time, %llu readings, %llu faults, %llu timing "
           "violations\n",
           s.n, s.ok, s.failed, s.wall, (unsigned long long)s.readings, (unsigned long long)s.faults,
           (unsigned long long)s.tv);
    print_scores(&s);
  }
  report_free(&s);
  int exit_code = gate ? check_gates(db, "batch report", gate, baseline, s.json) : CLI_OK;
  rsim_batch_db_close(db);
  return exit_code;
}

static int cmd_merge(const batch_args *a) {
  rsim_batch_db *db;
  rsim_errbuf eb = {0};
  for (size_t i = 0; i < a->n_merge; i++)
    if (!rsim_store_is_uri(a->merge[i]) && access(a->merge[i], R_OK)) return cli_fail("batch --merge: cannot read %s", a->merge[i]);
  if (rsim_batch_db_open(a->out, &db, &eb)) return cli_fail("%s", eb.msg);
  /* Scores first: which jobs are taken is decided on the rows before the merge. */
  for (size_t i = 0; i < a->n_merge; i++)
    if (rsim_batch_db_merge(db, a->merge[i])) {
      cli_fail("%s", rsim_batch_db_errmsg(db));
      rsim_batch_db_close(db);
      return CLI_FAIL;
    }
  rsim_batch_db_close(db);
  printf("merged %zu result files into %s\n", a->n_merge, a->out);
  return CLI_OK;
}

/* ---- the batch ------------------------------------------------------------ */
typedef struct count_state {
  size_t ok, failed;
} count_state;

static void count_row(void *ud, const rsim_batch_job *j, const rsim_batch_result *r) {
  count_state *c = ud;
  if (r->ok) c->ok++;
  else c->failed++;
}

static int plan(const batch_args *a, rsim_batch_jobs *js, rsim_errbuf *eb) {
  if (a->jobs_file && rsim_batch_jobs_load(js, a->jobs_file, eb)) return eb->code;
  for (size_t i = 0; i < a->n_stores; i++)
    if (rsim_batch_plan(js, a->graph, a->stores[i], a->scene_ns, a->warmup_ns, eb)) return eb->code;
  if (a->shard_n) rsim_batch_jobs_shard(js, a->shard_i, a->shard_n);
  return RSIM_OK;
}

int cli_batch(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "report")) return cmd_report(argc - 1, argv + 1);
  batch_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc) return rc;
  if (a.merging) return cmd_merge(&a);
  char runs[1100] = "";
  if (a.runs) snprintf(runs, sizeof runs, "%s", a.runs);
  else if (!a.no_runs && !rsim_store_is_uri(a.out)) { /* with a URI no place is shared: --runs says where */
    /* results.db -> results.runs/ */
    size_t n = strlen(a.out);
    if (n > 3 && !strcmp(a.out + n - 3, ".db")) n -= 3;
    snprintf(runs, sizeof runs, "%.*s.runs", (int)n, a.out);
  }
  if (runs[0] && runs[0] != '/') { /* the report names runs by absolute path */
    char cwd[512], rel[1100];
    if (getcwd(cwd, sizeof cwd)) {
      snprintf(rel, sizeof rel, "%s", runs);
      snprintf(runs, sizeof runs, "%.500s/%.590s", cwd, rel);
    }
  }
  rsim_batch_opts o = {.jobs = a.jobs, .job_timeout_ns = a.timeout_ns, .runs_dir = runs[0] ? runs : NULL,
                       .stop = &g_stop, .progress = on_progress, .progress_ud = &a, .no_eval = a.no_eval};
  struct sigaction sa = {.sa_handler = on_sigint};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  rsim_errbuf eb = {0};
  int rank = 0, size = 1;
  bool mpi = rsim_batch_mpi_launched();
  if (mpi && rsim_batch_mpi_init(&rank, &size, &eb)) return cli_fail("%s", eb.msg);
  rsim_batch_jobs js = {0};
  rsim_batch_db *db = NULL;
  int exit_code = CLI_FAIL;
  if (rank == 0) {
    /* A gate that cannot be checked is said before the batch, not after it. */
    if (a.gate && access(a.gate, R_OK)) {
      rsim_errbuf_set(&eb, RSIM_EIO, "batch: --gate: cannot read %s", a.gate);
      goto done;
    }
    if (a.baseline && !rsim_batch_db_is_results(a.baseline)) {
      rsim_errbuf_set(&eb, RSIM_EIO, "batch: --baseline %s is not a results database of replaysim batch", a.baseline);
      goto done;
    }
    if (!a.resume && !rsim_store_is_uri(a.out) && !access(a.out, F_OK)) {
      rsim_errbuf_set(&eb, RSIM_EINVAL, "batch: %s exists (--resume %s goes on with it; or remove it)", a.out, a.out);
      goto done;
    }
    if (plan(&a, &js, &eb)) goto done;
    if (rsim_batch_db_open(a.out, &db, &eb)) goto done;
    size_t had = 0;
    if (!a.resume && rsim_store_is_uri(a.out) && !rsim_batch_db_count(db, &had) && had) {
      rsim_errbuf_set(&eb, RSIM_EINVAL, "batch: %s holds the results of %zu jobs (--resume goes on with them)", a.out,
                      had);
      goto done;
    }
    if (!a.quiet && mpi && size > 1)
      fprintf(stderr, "batch: %zu jobs%s, dealt to %d MPI ranks\n", js.n, a.shard_n ? " in this shard" : "", size - 1);
    else if (!a.quiet)
      fprintf(stderr, "batch: %zu jobs%s, %zu at once\n", js.n, a.shard_n ? " in this shard" : "", a.jobs);
  } else {
    o.progress = NULL;
  }
  rc = mpi ? rsim_batch_run_mpi(&js, db, &o, &eb) : rsim_batch_run_local(&js, db, &o, &eb);
  if (rank != 0) {
    exit_code = rc ? CLI_FAIL : CLI_OK;
    if (rc) cli_fail("batch: rank %d: %s", rank, eb.msg);
    eb.msg[0] = 0;
    goto done;
  }
  if (rc && rc != RSIM_EHALTED) goto done;
  count_state c = {0};
  rsim_batch_db_each(db, count_row, &c);
  printf("batch: %zu jobs ok, %zu failed; results in %s", c.ok, c.failed, a.out);
  if (o.runs_dir) printf(", runs in %s/", o.runs_dir);
  printf("\n");
  if (rc == RSIM_EHALTED) goto done; /* the message says what was left */
  if (a.gate) {
    /* Gates decide the exit code; failed jobs fail their gates (and are named there). */
    exit_code = check_gates(db, "batch", a.gate, a.baseline, false);
    goto done;
  }
  if (c.failed) rsim_errbuf_set(&eb, RSIM_EHALTED, "batch: %zu jobs failed (replaysim batch report %s)", c.failed, a.out);
  else exit_code = CLI_OK;
done:
  if (eb.msg[0]) cli_fail("%s", eb.msg);
  rsim_batch_db_close(db);
  rsim_batch_jobs_free(&js);
  if (mpi) rsim_batch_mpi_finalize();
  return exit_code;
}
