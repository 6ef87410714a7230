/*
** bench_seek.c -- what checkpoints cost and what seeking takes.
**
**   bench_seek DRIVE GRAPH.yaml [K_SECONDS] [SEEKS] [CHECKPOINT_MAX] [on|off|READINGS[:MB]]
**
** The last argument is reading ahead (rsim_store_readahead): on (the
** default, with the default window, as the CLI does), off, or a window of
** READINGS readings and MB megabytes of payload.
**
** 1. The whole drive played twice at max speed, without checkpoints (only
**    the start) and with one every K seconds of sim time: the overhead,
**    also as the time the engine spent taking them (the difference of two
**    runs is within their noise on a shared machine).
** 2. On the second engine, SEEKS seeks to random times (fixed seed) in the
**    range, each from wherever the previous one left it (half of them go
**    backward), and as many steps back: latency p50, p95, max.
** Prints a Markdown table for docs/benchmarks.md.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "rsim/engine.h"
#include "rsim/store.h"

static size_t g_cap; /* checkpoint_max; 0 = the engine's default */
static double g_thread_cpu, g_proc_cpu; /* of the last run(): the engine's thread, the whole process */

static double cpu_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run(rsim_graph *g, rsim_store *st, int64_t every, rsim_engine **keep) {
  rsim_errbuf eb = {0};
  rsim_engine_opts o = {.store = st, .checkpoint_every_ns = every, .checkpoint_max = g_cap, .log_level = RSIM_LOG_ERROR};
  rsim_engine *e;
  if (rsim_engine_new(g, &o, &e, &eb)) bench_die("engine", eb.msg);
  int64_t t0 = rsim_monotonic_ns();
  double th0 = cpu_s(CLOCK_THREAD_CPUTIME_ID), pr0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
  int rc;
  while ((rc = rsim_engine_step(e)) == RSIM_OK) {
  }
  double s = (double)(rsim_monotonic_ns() - t0) / 1e9;
  g_thread_cpu = cpu_s(CLOCK_THREAD_CPUTIME_ID) - th0;
  g_proc_cpu = cpu_s(CLOCK_PROCESS_CPUTIME_ID) - pr0;
  if (rc != RSIM_EEOF) bench_die("run", rsim_engine_errmsg(e));
  if (keep) *keep = e;
  else rsim_engine_free(e);
  return s;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void pct(double *v, int n, double *p50, double *p95, double *max) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  *p50 = v[n / 2];
  *p95 = v[(n * 95) / 100 < n ? (n * 95) / 100 : n - 1];
  *max = v[n - 1];
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench_seek DRIVE GRAPH.yaml [K_SECONDS] [SEEKS] [CHECKPOINT_MAX] [on|off|READINGS[:MB]]\n");
    return 2;
  }
  bench_name = "bench_seek";
  double k_s = bench_arg_real(argc, argv, 3, "K_SECONDS", 1.0, 0.001, 1e6);
  int n = (int)bench_arg_int(argc, argv, 4, "SEEKS", 100, 1, 1000000);
  g_cap = (size_t)bench_arg_int(argc, argv, 5, "CHECKPOINT_MAX", 0, 0, 1000000000);
  rsim_errbuf eb = {0};
  rsim_store *st;
  rsim_graph *g;
  if (rsim_store_open(argv[1], &st, &eb)) bench_die(argv[1], eb.msg);
  const char *ahead = argc > 6 ? argv[6] : "on";
  if (strcmp(ahead, "off")) {
    rsim_readahead_opts ro = {.own_base = true};
    if (strcmp(ahead, "on")) {
      /* READINGS[:MB], each part read strictly */
      char readings[32];
      const char *colon = strchr(ahead, ':');
      size_t len = colon ? (size_t)(colon - ahead) : strlen(ahead);
      if (len >= sizeof readings) bench_die(ahead, "expected on, off or READINGS[:MB]");
      snprintf(readings, sizeof readings, "%.*s", (int)len, ahead);
      char *av[] = {readings, colon ? (char *)colon + 1 : NULL};
      ro.max_readings = (size_t)bench_arg_int(1, av, 0, "READINGS", 0, 1, 100000000);
      ro.max_bytes = (size_t)(bench_arg_real(colon ? 2 : 1, av, 1, "MB", 0, 0, 1e6) * 1048576.0);
    }
    rsim_store *base = st;
    rsim_store_readahead(base, &ro, &st);
  }
  if (rsim_graph_load(argv[2], &g, &eb)) bench_die(argv[2], eb.msg);
  int64_t every = (int64_t)(k_s * 1e9);
  double plain = run(g, st, -1, NULL);
  double plain_thread = g_thread_cpu, plain_proc = g_proc_cpu;
  rsim_engine *e;
  double with = run(g, st, every, &e);
  rsim_time from, to;
  rsim_engine_range(e, &from, &to);
  double *lat = calloc((size_t)n, sizeof *lat), *back = calloc((size_t)n, sizeof *back);
  uint64_t x = 42;
  for (int i = 0; i < n; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    rsim_time t = from + (rsim_time)((x >> 11) % (uint64_t)(to - from));
    int64_t t0 = rsim_monotonic_ns();
    if (rsim_engine_seek(e, t)) bench_die("seek", rsim_engine_errmsg(e));
    lat[i] = (double)(rsim_monotonic_ns() - t0) / 1e6;
    t0 = rsim_monotonic_ns();
    int rc = rsim_engine_step_back(e);
    if (rc && rc != RSIM_EEOF) bench_die("step back", rsim_engine_errmsg(e));
    back[i] = (double)(rsim_monotonic_ns() - t0) / 1e6;
  }
  rsim_engine_ckpt_stats cs;
  rsim_engine_ckpt_stats_get(e, &cs);
  double p50, p95, max, b50, b95, bmax;
  pct(lat, n, &p50, &p95, &max);
  pct(back, n, &b50, &b95, &bmax);
  double sim = (double)(to - from) / 1e9;
  size_t peak_n, peak_b;
  rsim_store_readahead_peak(st, &peak_n, &peak_b);
  printf("| %.0f s drive, K = %.2f s, read-ahead %s | |\n|---|---|\n", sim, k_s, ahead);
  if (strcmp(ahead, "off"))
    printf("| read ahead at most | %zu readings, %.1f MB |\n", peak_n, (double)peak_b / 1048576.0);
  printf("| run without checkpoints | %.2f s |\n", plain);
  printf("| its CPU time: the engine's thread, the whole process | %.2f s, %.2f s |\n", plain_thread, plain_proc);
  printf("| run with checkpoints | %.2f s (%+.1f%%), %llu taken, %zu held (every %.2f s), %.1f MB |\n", with,
         100.0 * (with - plain) / plain, (unsigned long long)cs.taken, cs.held, (double)cs.interval_ns / 1e9,
         (double)cs.bytes / 1e6);
  printf("| time spent taking checkpoints (timed inside the engine) | %.3f s = %.2f%% of the run, %.0f us each |\n",
         (double)cs.take_ns / 1e9, 100.0 * (double)cs.take_ns / 1e9 / with,
         cs.taken ? (double)cs.take_ns / 1e3 / (double)cs.taken : 0.0);
  printf("| seek to a random time (%d) | p50 %.1f ms, p95 %.1f ms, max %.1f ms |\n", n, p50, p95, max);
  printf("| step back one instant (%d) | p50 %.1f ms, p95 %.1f ms, max %.1f ms |\n", n, b50, b95, bmax);
  printf("| instants re-simulated by all seeks | %llu |\n", (unsigned long long)cs.resimulated);
  free(lat);
  free(back);
  rsim_engine_free(e);
  rsim_graph_free(g);
  rsim_store_close(st);
  return 0;
}
