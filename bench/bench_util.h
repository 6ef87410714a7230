/*
** bench_util.h -- what the boundary benchmarks share: one clock (wall, or
** the process's CPU time with RSIM_BENCH_CLOCK=cpu, for figures that hold
** on a machine busy with other work), a component instance with given
** host functions, and the mean time of repeated calls of one export.
** Benchmarks exit on the first error: a figure from a run that failed
** half-way would be worse than none.
*/
#ifndef RSIM_BENCH_UTIL_H
#define RSIM_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsim/engine.h"
#include "rsim/wasm.h"

/* Set by each benchmark's main; names it in error lines. */
extern const char *bench_name;

double bench_now_s(void);
/* Prints "NAME: what: msg" and exits 1. */
_Noreturn void bench_die(const char *what, const char *msg);
/* dir/name.wasm loaded and instantiated with defs; *c receives the
** component, which the caller frees after the instance. */
rsim_instance *bench_instance(rsim_wasm_engine *we, const char *dir, const char *name, const rsim_host_def *defs,
                              size_t ndefs, rsim_component **c);
/* Mean microseconds of one call of export fn over n calls, after `warm`
** untimed ones (the argument slots are built at the first call, as in a
** replay). */
double bench_calls_us(rsim_instance *in, size_t fn, const rsim_val *args, size_t nargs, int n, int warm);

/* A new engine on st and g with `threads` (0: one a core) stepped to the
** end at max speed: *wall_s the time stepping took, *sim_s the sim time
** replayed.  The caller reads what it needs (digest, stats) and frees it. */
rsim_engine *bench_engine_run(rsim_store *st, const rsim_graph *g, int threads, double *wall_s, double *sim_s);

/* argv[i] read strictly (rsim_parse_int / rsim_parse_real) in lo .. hi, or
** def when there is no argv[i]; a malformed one exits with its name, so a
** typo never runs a benchmark with 0 repeats or threads. */
int64_t bench_arg_int(int argc, char **argv, int i, const char *name, int64_t def, int64_t lo, int64_t hi);
double bench_arg_real(int argc, char **argv, int i, const char *name, double def, double lo, double hi);

#endif
