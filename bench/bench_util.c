/*
** bench_util.c -- see bench_util.h.
*/
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rsim/engine.h"
#include "rsim/util.h"

const char *bench_name = "bench";

double bench_now_s(void) {
  static int cpu = -1;
  if (cpu < 0) cpu = getenv("RSIM_BENCH_CLOCK") && !strcmp(getenv("RSIM_BENCH_CLOCK"), "cpu");
  if (!cpu) return (double)rsim_monotonic_ns() / 1e9;
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

_Noreturn void bench_die(const char *what, const char *msg) {
  fprintf(stderr, "%s: %s: %s\n", bench_name, what, msg);
  exit(1);
}

rsim_instance *bench_instance(rsim_wasm_engine *we, const char *dir, const char *name, const rsim_host_def *defs,
                              size_t ndefs, rsim_component **c) {
  char path[1024];
  rsim_errbuf eb = {0};
  snprintf(path, sizeof path, "%s/%s.wasm", dir, name);
  if (rsim_component_load(we, path, c, &eb)) bench_die(path, eb.msg);
  rsim_instance *in;
  if (rsim_instance_new(*c, name, defs, ndefs, NULL, NULL, &in, &eb)) bench_die(path, eb.msg);
  return in;
}

double bench_calls_us(rsim_instance *in, size_t fn, const rsim_val *args, size_t nargs, int n, int warm) {
  rsim_val res;
  double t0 = 0;
  for (int i = -warm; i < n; i++) {
    if (!i) t0 = bench_now_s();
    if (rsim_instance_call(in, fn, args, nargs, &res)) bench_die("call", rsim_instance_errmsg(in));
    rsim_val_clear(&res);
  }
  return (bench_now_s() - t0) / n * 1e6;
}

rsim_engine *bench_engine_run(rsim_store *st, const rsim_graph *g, int threads, double *wall_s, double *sim_s) {
  rsim_engine_opts o = {.store = st, .log_level = RSIM_LOG_ERROR, .threads = threads};
  rsim_errbuf eb = {0};
  rsim_engine *e;
  if (rsim_engine_new(g, &o, &e, &eb)) bench_die("engine", eb.msg);
  double t0 = bench_now_s();
  int rc;
  while ((rc = rsim_engine_step(e)) == RSIM_OK) {
  }
  *wall_s = bench_now_s() - t0;
  if (rc != RSIM_EEOF) bench_die("run", rsim_engine_errmsg(e));
  rsim_time from, to;
  rsim_engine_range(e, &from, &to);
  *sim_s = (double)(to - from) / 1e9;
  return e;
}

int64_t bench_arg_int(int argc, char **argv, int i, const char *name, int64_t def, int64_t lo, int64_t hi) {
  if (argc <= i) return def;
  int64_t v;
  rsim_errbuf eb = {0};
  if (rsim_parse_int(argv[i], lo, hi, &v, &eb)) bench_die(name, eb.msg);
  return v;
}

double bench_arg_real(int argc, char **argv, int i, const char *name, double def, double lo, double hi) {
  if (argc <= i) return def;
  double v;
  rsim_errbuf eb = {0};
  if (rsim_parse_real(argv[i], lo, hi, &v, &eb)) bench_die(name, eb.msg);
  return v;
}
