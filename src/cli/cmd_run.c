/*
** cmd_run.c -- `replaysim run`: replays a store through a graph, prints
** per-component statistics and, as its last line, the run digest (with
** --eval, the scores against the store's truth just before it).  A run
** that stops on an error prints the same, with the digest marked partial
** ("digest (partial, up to SECONDS.NANOS): HEX"), and then the error as its
** last line.
**
** Pacing: at --speed s the engine waits until (t - from) / s of wall time
** has passed before the instant at t; it never skips an instant to catch
** up (determinism first) and reports how far behind it is instead.
** --speed max runs as fast as the components allow.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"
#include "rsim/engine.h"
#include "rsim/eval.h"
#include "rsim/player.h"
#include "rsim/record.h"
#include "rsim/store.h"

typedef struct run_args {
  const char *graph, *store, *out;
  const char *from, *to;
  double speed; /* 0 = max */
  bool overwrite, quiet, component_digests, require_hashes, eval;
  rsim_on_error on_error;
  int log_level;
  int64_t checkpoint_every;
  bool loop;
  int64_t delay, offset;
  int threads; /* 0: one a core */
  const char *checkpoint_dir, *resume;
  cli_filters filters;
  cli_variant variant; /* --variant: an A/B run (variant.c) */
} run_args;

static int usage(void) {
  fprintf(stderr,
          "usage: replaysim run GRAPH --store drive.db|drive.mcap [--from T] [--to T] [--speed X|max]\n"
          "                     [--out run.db [--overwrite]] [--on-error stop|continue]\n"
          "                     [--log-level debug|info|warn|error] [--quiet] [--component-digests]\n"
          "                     [--require-hashes]   (every component pinned by sha256 in the graph)\n"
          "                     [--eval]   (with --out: score the outputs against the store's truth, as\n"
          "                                 replaysim eval, and print the headline numbers)\n"
          "                     [--sensors P[,P]] [--exclude P] [--remap OLD=NEW]\n"
          "                     [--topics MAP.yaml] [--topic TOPIC=ID[:KIND]]   (MCAP input)\n"
          "                     [--on-corrupt stop|skip]   (skip: a damaged chunk is a gap, not an error)\n"
          "                     [--no-read-ahead]   (read the store on the replay's thread)\n"
          "                     [--checkpoint-every 500ms] [--checkpoint-dir DIR] [--resume DIR]\n"
          "                     [--loop] [--delay D] [--offset D]   (start D into the range)\n"
          "                     [--threads N]   (component calls whose inputs are final run at once; default: one a core)\n"
          "                     [--variant COMPONENT[=FILE.wasm] [--variant-config KEY=VALUE] [--out-variant B.db]]\n"
          "                       (A/B: the graph and the graph with COMPONENT replaced, side by side)\n"
          "T: ns since the epoch, or a duration from the log's start (12.5s, +2m)\n");
  return CLI_USAGE;
}

static int parse_args(int argc, char **argv, run_args *a) {
  const char *v;
  rsim_errbuf eb = {0};
  int bad = 0;
  *a = (run_args){.speed = 0, .log_level = RSIM_LOG_WARN};
  for (int i = 1; i < argc; i++) {
    if (cli_opt(argc, argv, &i, "--store", &v)) a->store = v;
    else if (cli_filter_opt(argc, argv, &i, &a->filters)) continue;
    else if (cli_variant_opt(argc, argv, &i, &a->variant, &bad)) {
      if (bad) return bad;
    }
    else if (cli_opt(argc, argv, &i, "--out", &v)) a->out = v;
    else if (cli_time_opt(argc, argv, &i, "run", &a->from, &a->to, &bad)) {
      if (bad) return bad;
    }
    else if (cli_threads_opt(argc, argv, &i, "run", &a->threads, &bad)) {
      if (bad) return bad;
    }
    else if (cli_opt(argc, argv, &i, "--checkpoint-dir", &v)) a->checkpoint_dir = v;
    else if (!strcmp(argv[i], "--loop")) a->loop = true;
    else if (cli_opt(argc, argv, &i, "--delay", &v)) {
      if (rsim_parse_duration_arg(v, false, &a->delay, &eb)) return cli_bad_value("run", "--delay", &eb);
    } else if (cli_opt(argc, argv, &i, "--offset", &v)) {
      if (rsim_parse_duration_arg(v, false, &a->offset, &eb)) return cli_bad_value("run", "--offset", &eb);
    }
    else if (cli_opt(argc, argv, &i, "--resume", &v)) a->resume = v;
    else if (cli_opt(argc, argv, &i, "--checkpoint-every", &v)) {
      if (rsim_parse_duration_arg(v, true, &a->checkpoint_every, &eb))
        return cli_bad_value("run", "--checkpoint-every", &eb);
    }
    else if (cli_opt(argc, argv, &i, "--speed", &v)) {
      if (rsim_parse_speed(v, &a->speed, &eb)) return cli_bad_value("run", "--speed", &eb);
    } else if (cli_opt(argc, argv, &i, "--on-error", &v)) {
      if (!strcmp(v, "stop")) a->on_error = RSIM_ON_ERROR_STOP;
      else if (!strcmp(v, "continue")) a->on_error = RSIM_ON_ERROR_CONTINUE;
      else {
        fprintf(stderr, "run: --on-error must be stop or continue\n");
        return CLI_USAGE;
      }
    } else if (cli_opt(argc, argv, &i, "--log-level", &v)) {
      static const char *const names[] = {"debug", "info", "warn", "error"};
      a->log_level = -1;
      for (int k = 0; k < 4; k++)
        if (!strcmp(v, names[k])) a->log_level = k;
      if (a->log_level < 0) return usage();
    } else if (!strcmp(argv[i], "--overwrite")) a->overwrite = true;
    else if (!strcmp(argv[i], "--quiet")) a->quiet = true;
    else if (!strcmp(argv[i], "--component-digests")) a->component_digests = true;
    else if (!strcmp(argv[i], "--require-hashes")) a->require_hashes = true;
    else if (!strcmp(argv[i], "--eval")) a->eval = true;
    else if (argv[i][0] != '-' && !a->graph) a->graph = argv[i];
    else return usage();
  }
  if (!a->graph || !a->store) return usage();
  if ((a->variant.n_config || a->variant.out) && !a->variant.component) {
    fprintf(stderr, "replaysim run: --variant-config and --out-variant need --variant COMPONENT[=FILE.wasm]\n");
    return CLI_USAGE;
  }
  if (a->variant.out && a->out && !strcmp(a->variant.out, a->out)) {
    fprintf(stderr, "replaysim run: --out-variant must name another file than --out (%s)\n", a->out);
    return CLI_USAGE;
  }
  if (a->variant.component && (a->speed > 0 || a->loop || a->resume || a->delay || a->offset)) {
    fprintf(stderr, "replaysim run: --variant runs at --speed max from the start, without --loop, --resume, "
                    "--delay or --offset\n");
    return CLI_USAGE;
  }
  size_t n = a->out ? strlen(a->out) : 0;
  if (a->eval && (!a->out || (n > 5 && !strcmp(a->out + n - 5, ".mcap")))) {
    fprintf(stderr, "run: --eval scores the recorded outputs: it needs --out run.db (a run database, not MCAP)\n");
    return CLI_USAGE;
  }
  return CLI_OK;
}

static void sleep_ns(int64_t ns) {
  if (ns <= 0) return;
  struct timespec ts = {.tv_sec = ns / RSIM_NS_PER_S, .tv_nsec = ns % RSIM_NS_PER_S};
  nanosleep(&ts, NULL);
}

static void print_stats(rsim_engine *e, rsim_record *rec) {
  printf("%-14s %8s %8s %9s %7s %10s %10s\n", "component", "calls", "outputs", "not-ready",
         "errors", "mean us", "max us");
  for (size_t i = 0; i < rsim_engine_n_components(e); i++) {
    rsim_component_stats s;
    rsim_engine_stats(e, i, &s);
    double mean = s.calls ? (double)s.total_ns / (double)s.calls / 1e3 : 0;
    double max = (double)s.max_ns / 1e3;
    printf("%-14s %8llu %8llu %9llu %7llu %10.1f %10.1f\n", s.name, (unsigned long long)s.calls,
           (unsigned long long)s.outputs, (unsigned long long)s.not_ready,
           (unsigned long long)s.errors, mean, max);
    if (rec) rsim_record_stats(rec, &s);
  }
  /* Faults and limits: what happened to whom, in numbers. */
  for (size_t i = 0; i < rsim_engine_n_components(e); i++) {
    rsim_component_stats s;
    rsim_engine_stats(e, i, &s);
    if (s.errors)
      printf("%s: %llu faults (%llu stopped by a limit), %llu restarts, %llu retries, %llu calls without output\n",
             s.name, (unsigned long long)s.errors, (unsigned long long)s.limit_hits, (unsigned long long)s.restarts,
             (unsigned long long)s.retries, (unsigned long long)s.skipped);
    if (s.timing_violations)
      printf("%s: %llu calls over their time budget\n", s.name, (unsigned long long)s.timing_violations);
    if (s.max_fuel) printf("%s: at most %llu fuel in one call\n", s.name, (unsigned long long)s.max_fuel);
  }
  /* Nothing is dropped without being said: outputs a component never saw. */
  for (size_t i = 0; i < rsim_engine_n_components(e); i++) {
    rsim_component_stats s;
    rsim_engine_stats(e, i, &s);
    if (s.superseded)
      printf("%s: %llu outputs of its sources were superseded before it ran (policy latest; "
             "policy: queue hands over all)\n", s.name, (unsigned long long)s.superseded);
    if (s.dropped)
      printf("%s: %llu outputs dropped by full input queues\n", s.name, (unsigned long long)s.dropped);
  }
  rsim_engine_bridge_stats b;
  rsim_engine_bridge_stats_get(e, &b);
  if (b.interpolated || b.stale || b.transforms)
    printf("bridge: %llu interpolated, %llu stale (answered none), %llu transformed, %llu served from cache\n",
           (unsigned long long)b.interpolated, (unsigned long long)b.stale, (unsigned long long)b.transforms,
           (unsigned long long)b.transform_hits);
}

/* Scores the finished recording against the store's truth (src/eval; the
** graph's eval: block applies), keeps the numbers in its eval table and
** prints the headline of each scored component. */
static int print_scores(const run_args *a, rsim_store *truth, rsim_errbuf *eb) {
  rsim_eval_result *r = NULL;
  rsim_eval_opts o = {0};
  rsim_errbuf eeb = {0};
  if (rsim_eval_run(a->out, truth, &o, &r, &eeb) || rsim_eval_save(r, a->out, &eeb)) {
    rsim_eval_free(r);
    return rsim_errbuf_set(eb, eeb.code, "run: --eval: %s", eeb.msg);
  }
  rsim_buf b = {0};
  rsim_eval_summary(r, &b);
  printf("scores against the truth of %s (every number: replaysim eval %s --truth %s):\n", a->store, a->out,
         a->store);
  fwrite(b.data, 1, b.len, stdout);
  rsim_buf_free(&b);
  rsim_eval_free(r);
  return RSIM_OK;
}

/* Steps to the end of the range with pacing and progress; returns the
** engine's code (RSIM_EEOF at a normal end). */
/* The player's events the user should see: lag, loops, errors. */
static void on_event(void *ud, const rsim_player_event *ev) {
  const run_args *a = ud;
  if (a->quiet) return;
  if (ev->kind == RSIM_PLAYER_EV_LAG && ev->message) fprintf(stderr, "\nrun: %s\n", ev->message);
  else if (ev->kind == RSIM_PLAYER_EV_LOOP) fprintf(stderr, "\nrun: end of the range; looping to the start\n");
}

/* Plays the run through the tape deck (src/player), paced at --speed.  A
** player that cannot start leaves its message in eb. */
static int play(rsim_engine *e, const run_args *a, int64_t *lag_max, rsim_errbuf *eb) {
  rsim_time from, to;
  rsim_engine_range(e, &from, &to);
  rsim_player_opts po = {.speed = a->speed, .loop = a->loop, .delay_ns = a->delay, .start_offset_ns = a->offset,
                         .listener = on_event, .listener_ud = (void *)a};
  rsim_player *p;
  rsim_errbuf peb = {0};
  if (rsim_player_new(e, &po, &p, &peb)) return rsim_errbuf_set(eb, peb.code, "run: %s", peb.msg);
  cli_progress pr;
  cli_progress_init(&pr, "replaying");
  int64_t wall0 = rsim_monotonic_ns();
  rsim_time t0 = rsim_engine_time(e); /* the start, or where a resume or offset put the run */
  int rc;
  int64_t wait;
  while ((rc = rsim_player_poll(p, &wait)) == RSIM_OK && wait >= 0) {
    if (!a->quiet) {
      rsim_time now = rsim_engine_time(e);
      double wall = (double)(rsim_monotonic_ns() - wall0) / 1e9;
      double sim = (double)(now - from) / 1e9, played = (double)(now - t0) / 1e9;
      char detail[96];
      snprintf(detail, sizeof detail, "sim %.1fs / %.1fs, %.2fx real time", sim, (double)(to - from) / 1e9,
               wall > 0 && played > 0 ? played / wall : 0.0);
      cli_progress_update(&pr, to > from ? (double)(now - from) / (double)(to - from) : 1, detail);
    }
    sleep_ns(wait);
  }
  rsim_player_state ps;
  rsim_player_state_get(p, &ps);
  *lag_max = ps.max_lag_ns;
  rsim_player_free(p);
  if (rc == RSIM_OK) rc = RSIM_EEOF; /* played to the end */
  if (!a->quiet && rc == RSIM_EEOF) cli_progress_done(&pr, NULL);
  else if (!a->quiet && pr.tty) fputc('\n', stderr);
  return rc;
}

int cli_run(int argc, char **argv) {
  run_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc) {
    cli_variant_free(&a.variant);
    cli_filters_free(&a.filters);
    return rc;
  }
  rsim_errbuf eb = {0};
  rsim_graph *g = NULL;
  rsim_store *st = NULL, *base = NULL;
  rsim_record *rec = NULL;
  rsim_engine *e = NULL;
  int exit_code = CLI_FAIL;
  rsim_time log_from = 0; /* log lines count seconds from the start of the range */
  if (rsim_graph_load(a.graph, &g, &eb)) goto out;
  rsim_graph_require_hashes(g, a.require_hashes);
  if (cli_store_open(a.store, &a.filters, &base, &st, &eb)) goto out;
  rsim_engine_opts o = {.store = st, .on_error = a.on_error, .log_level = a.log_level,
                        .log = cli_engine_log, .log_ud = &log_from,
                        .checkpoint_every_ns = a.checkpoint_every, .threads = a.threads,
                        .checkpoint_dir = a.checkpoint_dir ? a.checkpoint_dir : a.resume};
  int rrc = cli_range("run", st, a.from, a.to, &o.from, &o.to, &eb);
  if (rrc) {
    if (rrc == RSIM_EINVAL) exit_code = CLI_USAGE;
    goto out;
  }
  log_from = o.from;
  if (!log_from) rsim_store_time_range(st, &log_from, &(rsim_time){0});
  if (a.out) {
    if (rsim_record_open(a.out, a.overwrite, &rec, &eb)) goto out;
    if (rsim_record_set(rec, "graph", a.graph) || rsim_record_set(rec, "store", a.store)) {
      rsim_errbuf_set(&eb, rsim_record_error(rec), "run: %s", rsim_record_errmsg(rec));
      goto out;
    }
    o.record = rec;
  }
  if (a.variant.component) o.store = cli_variant_store(&a.variant, st);
  if (rsim_engine_new(g, &o, &e, &eb)) goto out;
  if (a.variant.component && cli_variant_start(&a.variant, g, &o, a.graph, a.store, a.overwrite, &eb)) goto out;
  rsim_engine_range(e, &log_from, &(rsim_time){0});
  /* Resuming goes on writing checkpoints into the same folder. */
  if (a.resume && rsim_engine_resume(e, a.resume)) {
    rsim_errbuf_set(&eb, RSIM_ENOTFOUND, "run: %s", rsim_engine_errmsg(e));
    goto out;
  }
  int64_t lag_max = 0, wall0 = rsim_monotonic_ns();
  rc = a.variant.component ? cli_variant_play(&a.variant, e) : play(e, &a, &lag_max, &eb);
  double wall = (double)(rsim_monotonic_ns() - wall0) / 1e9;
  rsim_time from, to;
  rsim_engine_range(e, &from, &to);
  exit_code = rc == RSIM_EEOF ? CLI_OK : CLI_FAIL;
  /* A run cut short says so on its digests: they cover the outputs up to
  ** the instant it stopped in (which may itself be incomplete). */
  char partial[64] = "";
  if (exit_code != CLI_OK) {
    rsim_time now = rsim_engine_time(e);
    lldiv_t s = lldiv((long long)now, RSIM_NS_PER_S);
    if (s.rem < 0) s.quot--, s.rem += RSIM_NS_PER_S;
    snprintf(partial, sizeof partial, " (partial, up to %lld.%09lld)", s.quot, s.rem);
    const char *why = rsim_engine_errmsg(e);
    rsim_errbuf_set(&eb, rc, "run: %s", why[0] ? why : rsim_strerror(rc));
  }
  double sim = (double)(rsim_engine_time(e) - from) / 1e9;
  printf("replayed %.3fs of %s through %s: %llu readings in %.3fs wall, %.2fx real time\n", sim,
         a.store, a.graph, (unsigned long long)rsim_engine_readings(e), wall, wall > 0 ? sim / wall : 0);
  if (a.speed > 0 && lag_max > 0) printf("pacing: fell behind by up to %.1f ms\n", (double)lag_max / 1e6);
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0) printf("peak memory: %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
  print_stats(e, rec);
  /* Damaged chunks met during the run (--on-corrupt skip): each on stderr, their number here. */
  cli_store_warnings(base, &a.filters);
  if (rsim_store_n_gaps(base))
    printf("gaps: %zu damaged chunks of %s skipped (--on-corrupt skip); their readings are missing\n",
           rsim_store_n_gaps(base), a.store);
  char hex[65];
  rsim_engine_digest(e, hex);
  if (rec) {
    /* The status says 'complete' only now, and only when the run played
    ** to its end; close reports the first recording error of the run. */
    rsim_record_set(rec, "digest", hex);
    rsim_record_finish(rec, exit_code == CLI_OK ? NULL : rsim_engine_errmsg(e));
    int crc = rsim_record_close(rec, &eb);
    rec = NULL;
    if (crc) exit_code = CLI_FAIL;
    else printf("outputs recorded in %s\n", a.out);
  }
  /* The scores read the recording, committed above; they come before the
  ** digests, which stay the last lines. */
  if (a.eval && exit_code == CLI_OK) {
    print_scores(&a, base, &eb);
    if (eb.msg[0]) exit_code = CLI_FAIL;
  }
  for (size_t i = 0; a.component_digests && i < rsim_engine_n_components(e); i++) {
    char chex[65];
    rsim_engine_component_digest(e, i, chex);
    printf("digest of %s%s: %s\n", rsim_graph_component_name(g, i), partial, chex);
  }
  if (a.variant.e && cli_variant_report(&a.variant, a.component_digests, &eb)) exit_code = CLI_FAIL;
  printf("digest%s: %s\n", partial, hex);
out:
  if (eb.msg[0]) cli_fail("%s", eb.msg); /* the error is the last line */
  rsim_engine_free(e);
  cli_variant_free(&a.variant);
  if (rec && rsim_record_close(rec, NULL)) exit_code = CLI_FAIL; /* an earlier error is said already */
  if (st != base) rsim_store_close(st);
  rsim_store_close(base);
  rsim_graph_free(g);
  cli_filters_free(&a.filters);
  return exit_code;
}
