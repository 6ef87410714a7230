/*
** cmd_report.c -- `replaysim report RUN.db [RUN2.db ...] --out report.html`:
** one self-contained HTML page over the scores of runs (rsim/report.h).
** The input is a list of run databases, each scored by `replaysim eval`
** (or here, with --truth, those not scored yet), or results databases of
** `replaysim batch` (a job a run); runs of the same drive get A/B deltas,
** or with --baseline, each against the baseline's run of its drive.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rsim/batch.h"
#include "rsim/eval.h"
#include "rsim/report.h"

static int usage(void) {
  fprintf(stderr, "usage: replaysim report RUN.db|results.db [...] --out report.html [--truth drive.db] [--title T]\n"
                  "                        [--worst N] [--baseline BASE_RUN.db|old_results.db]\n"
                  "  one HTML page (no network needed to view it): a summary row a run (or batch job), each\n"
                  "  run's metrics, worst windows and metrics over time, and A/B deltas between runs of the\n"
                  "  same drive, or against the baseline's run of the same drive (and range).\n"
                  "  Runs must be scored (replaysim eval); --truth scores those that are not.\n");
  return CLI_USAGE;
}

int cli_report(int argc, char **argv) {
  const char *out = NULL, *truth = NULL, *v;
  rsim_report_opts o = {0};
  const char **runs = rsim_xcalloc((size_t)argc, sizeof *runs);
  size_t n = 0;
  for (int i = 1; i < argc; i++) {
    if (cli_opt(argc, argv, &i, "--out", &v)) out = v;
    else if (cli_opt(argc, argv, &i, "--truth", &v)) truth = v;
    else if (cli_opt(argc, argv, &i, "--title", &v)) o.title = v;
    else if (cli_opt(argc, argv, &i, "--baseline", &v)) o.baseline = v;
    else if (cli_opt(argc, argv, &i, "--worst", &v)) {
      int64_t k;
      rsim_errbuf why = {0};
      if (rsim_parse_int(v, 1, 64, &k, &why)) {
        free(runs);
        return cli_bad_value("report", "--worst", &why);
      }
      o.worst = (int)k;
    }
    else if (argv[i][0] != '-') runs[n++] = argv[i];
    else {
      fprintf(stderr, "report: bad option or value '%s'\n", argv[i]);
      free(runs);
      return usage();
    }
  }
  if (!n || !out) {
    free(runs);
    return usage();
  }
  /* A results database is opened for writing (it may be PostgreSQL): a
  ** missing file must not be created as an empty one. */
  for (size_t i = 0; i <= n; i++) {
    const char *p = i < n ? runs[i] : o.baseline;
    if (p && !strstr(p, "://") && access(p, R_OK)) {
      free(runs);
      return cli_fail("report: %s: cannot open the run database: %s", p, strerror(errno));
    }
  }
  rsim_errbuf eb = {0};
  int rc = RSIM_OK;
  if (truth) {
    rsim_store *st = NULL;
    rc = rsim_store_open(truth, &st, &eb);
    for (size_t i = 0; !rc && i < n; i++) {
      if (rsim_report_has_eval(runs[i]) || rsim_batch_db_is_results(runs[i])) continue;
      rsim_eval_result *r = NULL;
      rsim_eval_opts eo = {0};
      rc = rsim_eval_run(runs[i], st, &eo, &r, &eb);
      if (!rc) rc = rsim_eval_save(r, runs[i], &eb);
      rsim_eval_free(r);
      if (!rc) fprintf(stderr, "report: scored %s against %s\n", runs[i], truth);
    }
    rsim_store_close(st);
  }
  rsim_buf b = {0};
  if (!rc) rc = rsim_report_html(runs, n, &o, &b, &eb);
  free(runs);
  if (rc) {
    rsim_buf_free(&b);
    return cli_fail("report: %s", eb.msg);
  }
  FILE *f = fopen(out, "wb");
  if (!f) {
    rsim_buf_free(&b);
    return cli_fail("report: %s: cannot create: %s", out, strerror(errno));
  }
  size_t wrote = fwrite(b.data, 1, b.len, f);
  int closed = fclose(f);
  size_t len = b.len;
  rsim_buf_free(&b);
  if (wrote != len || closed) return cli_fail("report: %s: cannot write: %s", out, strerror(errno));
  printf("report: %s (%zu database%s, %zu bytes)\n", out, n, n == 1 ? "" : "s", len);
  return CLI_OK;
}
