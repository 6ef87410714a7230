/*
** bench_player.c -- pacing at 1x: how late instants start against their
** schedule (tick jitter), with the demo graph doing its work.
**
**   bench_player DRIVE GRAPH.yaml [SECONDS] [SPEED] [THREADS] [ahead|no-ahead] [inspect]
**
** Plays SECONDS of the drive at SPEED (default 10 s at 1x) through the tape
** deck on the real monotonic clock.  Each time the player asks to wait, the
** bench sleeps and measures how late it woke (the oversleep: what the host
** adds to every tick), and for each instant how far behind its due time it
** started (the player's lag) and how late its outputs were there (its
** step's end).  no-ahead turns off the work done while the player waits
** (rsim_engine_work_ahead), for a side-by-side comparison; inspect keeps
** every call's inputs as `replaysim serve` does (rsim_engine_keep_inputs).
** Prints a Markdown table.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "rsim/player.h"

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(int64_t *v, size_t n, double q) {
  if (!n) return 0;
  size_t i = (size_t)(q * (double)(n - 1));
  return (double)v[i] / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench_player DRIVE GRAPH.yaml [SECONDS] [SPEED] [THREADS] [ahead|no-ahead] [inspect]\n");
    return 2;
  }
  bench_name = "bench_player";
  double secs = bench_arg_real(argc, argv, 3, "SECONDS", 10, 0.001, 1e6);
  double speed = 1;
  rsim_errbuf aeb = {0};
  if (argc > 4 && rsim_parse_speed(argv[4], &speed, &aeb)) bench_die("SPEED", aeb.msg);
  int threads = (int)bench_arg_int(argc, argv, 5, "THREADS", 0, 0, 64); /* 0: one a core, as the CLI */
  rsim_errbuf eb = {0};
  rsim_store *st;
  rsim_graph *g;
  rsim_engine *e;
  rsim_player *p;
  if (rsim_store_open(argv[1], &st, &eb) || rsim_graph_load(argv[2], &g, &eb)) {
    fprintf(stderr, "bench_player: %s\n", eb.msg);
    return 1;
  }
  rsim_time first, last;
  rsim_store_time_range(st, &first, &last);
  rsim_engine_opts eo = {.store = st, .to = first + (int64_t)(secs * 1e9), .log_level = RSIM_LOG_ERROR,
                         .threads = threads};
  if (argc > 6 && strcmp(argv[6], "ahead") && strcmp(argv[6], "no-ahead")) bench_die(argv[6], "expected ahead or no-ahead");
  bool ahead = argc <= 6 || strcmp(argv[6], "no-ahead");
  if (argc > 7 && strcmp(argv[7], "inspect")) bench_die(argv[7], "expected inspect");
  bool inspect = argc > 7;
  rsim_player_opts po = {.speed = speed, .no_work_ahead = !ahead};
  if (rsim_engine_new(g, &eo, &e, &eb) || rsim_player_new(e, &po, &p, &eb)) {
    fprintf(stderr, "bench_player: %s\n", eb.msg);
    return 1;
  }
  rsim_engine_keep_inputs(e, inspect);
  size_t cap = 1 << 16, n_over = 0, n_lag = 0;
  int64_t *over = malloc(cap * sizeof *over), *lag = malloc(cap * sizeof *lag), *late = malloc(cap * sizeof *late);
  int64_t wait, t_start = rsim_monotonic_ns();
  uint64_t done = 0;
  while (rsim_player_poll(p, &wait) == RSIM_OK && wait >= 0) {
    rsim_player_state s;
    rsim_player_state_get(p, &s);
    for (; done < s.instants && n_lag < cap; done++) late[n_lag] = s.done_late_ns, lag[n_lag++] = s.lag_ns;
    if (wait > 0 && n_over < cap) {
      int64_t t0 = rsim_monotonic_ns();
      struct timespec ts = {(time_t)(wait / 1000000000), (long)(wait % 1000000000)};
      nanosleep(&ts, NULL);
      over[n_over++] = rsim_monotonic_ns() - t0 - wait;
    }
  }
  double wall = (double)(rsim_monotonic_ns() - t_start) / 1e9;
  rsim_player_state s;
  rsim_player_state_get(p, &s);
  qsort(over, n_over, sizeof *over, cmp);
  qsort(lag, n_lag, sizeof *lag, cmp);
  qsort(late, n_lag, sizeof *late, cmp);
  printf("| %.0f s of the drive at %gx | |\n|---|---|\n", secs, speed);
  printf("| wall time | %.3f s (%.4fx of the sim time) |\n", wall, wall * speed / secs);
  printf("| instants | %llu |\n", (unsigned long long)s.instants);
  printf("| inputs kept for inspection (as `replaysim serve`) | %s |\n", inspect ? "yes" : "no");
  printf("| threads; work ahead while waiting; runs started ahead | %d; %s; %llu |\n", rsim_engine_threads(e),
         ahead ? "on" : "off",
         (unsigned long long)rsim_engine_runs_ahead(e));
  printf("| oversleep per wait (%zu) | p50 %.3f ms, p99 %.3f ms, max %.3f ms |\n", n_over, pct(over, n_over, 0.5),
         pct(over, n_over, 0.99), pct(over, n_over, 1));
  printf("| lag of an instant behind its due time (%zu) | p50 %.3f ms, p99 %.3f ms, max %.3f ms |\n", n_lag,
         pct(lag, n_lag, 0.5), pct(lag, n_lag, 0.99), pct(lag, n_lag, 1));
  printf("| outputs of an instant late against its due time (%zu) | p50 %.3f ms, p99 %.3f ms, max %.3f ms |\n", n_lag,
         pct(late, n_lag, 0.5), pct(late, n_lag, 0.99), pct(late, n_lag, 1));
  free(late);
  free(over);
  free(lag);
  rsim_player_free(p);
  rsim_engine_free(e);
  rsim_graph_free(g);
  rsim_store_close(st);
  return 0;
}
