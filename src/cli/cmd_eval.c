/*
** cmd_eval.c -- `replaysim eval RUN.db --truth STORE [--json]`: scores a
** run's recorded outputs (detections, tracks, plans) against the ground
** truth of a store (src/eval), prints a table (or JSON) and keeps every
** number in the run database's `eval` table, per whole run and per time
** window.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rsim/batch.h"
#include "rsim/eval.h"

static int usage(void) {
  fprintf(stderr, "usage: replaysim eval RUN.db --truth drive.db [--json] [--graph GRAPH] [--camera ID]\n"
                  "                      [--iou X] [--max-dist M] [--point centre|near] [--window D|none]\n"
                  "                      [--min-px N] [--min-visible F] [--dump FRAMES.json] [--no-save]\n"
                  "                      [--from T] [--to T]   (score only outputs in that range, as a batch scene)\n"
                  "                      [--gate GATES.yaml [--baseline BASE_RUN.db|results.db]]   (exit 1 when a gate fails)\n"
                  "  scores detections (P/R/F1, COCO AP), tracks (CLEAR MOT, IDF1, HOTA, errors) and\n"
                  "  plans (TTC, headway, hard brakes, nuPlan comfort, manoeuvres);\n"
                  "  docs/evaluation.md defines every number\n");
  return CLI_USAGE;
}

static bool number(const char *s, double *out) {
  char *end;
  *out = strtod(s, &end);
  return end != s && !*end && *out > 0;
}

/* Gates (docs/evaluation.md, "Gates"): their report on stdout (after
** --json's document, on stderr, so that stdout stays one JSON value), and a
** failed gate fails the command, for CI. */
static int check_gates(const rsim_eval_result *r, const char *gate, const char *baseline, const char *drive,
                       const rsim_eval_opts *o, bool json) {
  rsim_errbuf eb = {0};
  rsim_buf rep = {0};
  size_t failed = 0;
  int rc;
  if (baseline && rsim_batch_db_is_results(baseline)) {
    /* A batch's results: the baseline is its job over the same drive and range. */
    rsim_batch_baseline *b = NULL;
    rc = rsim_batch_baseline_open(baseline, drive, o->from, o->to, &b, &eb);
    if (!rc) rc = rsim_eval_gates_with(r, gate, rsim_batch_baseline_value, b, drive, &rep, &failed, &eb);
    rsim_batch_baseline_free(b);
  } else rc = rsim_eval_gates(r, gate, baseline, drive, &rep, &failed, &eb);
  fflush(stdout);
  if (rep.len) fwrite(rep.data, 1, rep.len, json ? stderr : stdout);
  rsim_buf_free(&rep);
  if (rc) return cli_fail("eval: %s", eb.msg);
  if (failed) return cli_fail("eval: %zu gate%s of %s failed", failed, failed == 1 ? "" : "s", gate);
  return CLI_OK;
}

int cli_eval(int argc, char **argv) {
  const char *run = NULL, *truth = NULL, *v, *gate = NULL, *baseline = NULL, *from = NULL, *to = NULL;
  int bad = 0;
  bool json = false, save = true;
  rsim_eval_opts o = {0};
  for (int i = 1; i < argc; i++) {
    if (cli_opt(argc, argv, &i, "--truth", &v)) truth = v;
    else if (!strcmp(argv[i], "--json")) json = true;
    else if (!strcmp(argv[i], "--no-save")) save = false;
    else if (cli_opt(argc, argv, &i, "--graph", &v)) o.graph = v;
    else if (cli_opt(argc, argv, &i, "--gate", &v)) gate = v;
    else if (cli_opt(argc, argv, &i, "--baseline", &v)) baseline = v;
    else if (cli_opt(argc, argv, &i, "--camera", &v)) o.camera = v;
    else if (cli_time_opt(argc, argv, &i, "eval", &from, &to, &bad)) {
      if (bad) return bad;
    }
    else if (cli_opt(argc, argv, &i, "--dump", &v)) o.dump = v;
    else if (cli_opt(argc, argv, &i, "--point", &v) && (!strcmp(v, "centre") || !strcmp(v, "near")))
      o.point = !strcmp(v, "near") ? RSIM_EVAL_NEAR : RSIM_EVAL_CENTRE;
    else if (cli_opt(argc, argv, &i, "--iou", &v) && number(v, &o.iou) && o.iou <= 1) continue;
    else if (cli_opt(argc, argv, &i, "--max-dist", &v) && number(v, &o.max_dist)) continue;
    else if (cli_opt(argc, argv, &i, "--min-px", &v) && number(v, &o.min_px)) continue;
    else if (cli_opt(argc, argv, &i, "--min-visible", &v) && number(v, &o.min_visible) && o.min_visible <= 1) continue;
    else if (cli_opt(argc, argv, &i, "--window", &v)) {
      if (!strcmp(v, "none")) o.window_ns = -1;
      else if (rsim_parse_duration(v, &o.window_ns) || o.window_ns <= 0) {
        fprintf(stderr, "eval: --window '%s' is not a duration (1s, 500ms) or none\n", v);
        return CLI_USAGE;
      }
    } else if (argv[i][0] != '-' && !run) run = argv[i];
    else {
      fprintf(stderr, "eval: bad option or value '%s'\n", argv[i]);
      return usage();
    }
  }
  if (!run || !truth) return usage();
  rsim_errbuf eb = {0};
  rsim_store *st = NULL;
  rsim_eval_result *r = NULL;
  if (rsim_store_open(truth, &st, &eb) || ((from || to) && cli_range("eval", st, from, to, &o.from, &o.to, &eb)) ||
      rsim_eval_run(run, st, &o, &r, &eb) || (save && rsim_eval_save(r, run, &eb))) {
    fprintf(stderr, "eval: %s\n", eb.msg);
    rsim_eval_free(r);
    rsim_store_close(st);
    return CLI_FAIL;
  }
  rsim_buf b = {0};
  if (json) rsim_eval_json(r, &b);
  else rsim_eval_table(r, &b);
  fwrite(b.data, 1, b.len, stdout);
  rsim_buf_free(&b);
  int rc = gate ? check_gates(r, gate, baseline, truth, &o, json) : CLI_OK;
  rsim_eval_free(r);
  rsim_store_close(st);
  return rc;
}
