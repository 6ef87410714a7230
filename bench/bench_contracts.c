/*
** bench_contracts.c -- what a camera frame costs to hand to a component
** under each contract version: rsim:sim@0.2.0's reading (payload packed as
** list<u64> + payload-len) and 0.3.0's (payload as list<u8>), plus the
** bytes alone as a list<u8> argument (the state interface's restore).  The
** components do nothing with the frame (trap_nth, trap_nth_0_3), so a call
** costs the crossing.  Build against stock or patched Wasmtime to compare
** the two (docs/benchmarks.md, section 2a).
**
**   bench_contracts [COMPONENT_DIR]   (default: this build's components)
**   RSIM_BENCH_CLOCK=cpu              process CPU time instead of wall time
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "rsim/engine.h"
#include "rsim/wasm.h"

static int h_none(void *ctx, const rsim_func_sig *sig, const rsim_val *a, size_t n, rsim_val *r) {
  rsim_val_set_case(r, RSIM_OPTION, 0, false);
  return 0;
}
static int h_time(void *ctx, const rsim_func_sig *sig, const rsim_val *a, size_t n, rsim_val *r) {
  r->kind = RSIM_S64;
  r->of.s = 0;
  return 0;
}
static int h_log(void *ctx, const rsim_func_sig *sig, const rsim_val *a, size_t n, rsim_val *r) { return 0; }
/* trap_nth traps on its trap_at-th call: never, here. */
static int h_config(void *ctx, const rsim_func_sig *sig, const rsim_val *a, size_t n, rsim_val *r) {
  bool trap_at = !strcmp(a[0].of.str.ptr, "trap_at");
  rsim_val_set_case(r, RSIM_OPTION, trap_at, trap_at);
  if (trap_at) rsim_val_set_string(r->of.var.payload, "2000000000", 10);
  return 0;
}

/* Mean microseconds of one call handing `bytes` to the component: as a
** reading (how the contract carries payloads) or as restore's list<u8>. */
static double bench(rsim_wasm_engine *we, const char *dir, const char *name, const char *iface, size_t bytes,
                    bool as_restore) {
  rsim_host_def defs[] = {{iface, "get-sensor-data", h_none}, {iface, "sim-time", h_time},
                          {iface, "log", h_log}, {iface, "get-config", h_config}};
  rsim_component *c;
  rsim_instance *in = bench_instance(we, dir, name, defs, 4, &c);
  uint8_t *p = calloc(bytes, 1);
  for (size_t i = 0; i < bytes; i++) p[i] = (uint8_t)(i * 131);
  rsim_val arg;
  int fn;
  if (as_restore) {
    rsim_val_set_bytes(&arg, p, bytes);
    fn = rsim_component_find_export(c, "restore");
  } else {
    rsim_reading r = {.sensor_id = (char *)"cam", .t = 1, .kind = RSIM_SENSOR_CAMERA, .payload = p, .payload_len = bytes};
    rsim_engine_reading_to_val(&r, &arg);
    fn = rsim_component_find_export(c, "process-frame");
  }
  if (fn < 0) bench_die(name, "no such export");
  double us = bench_calls_us(in, (size_t)fn, &arg, 1, bytes > (1u << 20) ? 20 : 100, 1);
  rsim_val_clear(&arg);
  free(p);
  rsim_instance_free(in);
  rsim_component_free(c);
  return us;
}

int main(int argc, char **argv) {
  bench_name = "bench_contracts";
  const char *dir = argc > 1 ? argv[1] : RSIM_BENCH_COMPONENTS;
  rsim_errbuf eb = {0};
  rsim_wasm_engine *we;
  if (rsim_wasm_engine_new(&we, &eb)) bench_die("wasm", eb.msg);
  static const struct {
    const char *what;
    size_t bytes;
  } sizes[] = {{"640x360 RGB (691,200 B)", 640 * 360 * 3}, {"1920x1080 RGB (6,220,800 B)", 1920 * 1080 * 3}};
  printf("| frame | 0.2.0 reading, list<u64> us | 0.3.0 reading, list<u8> us | list<u8> alone (restore) us | 0.3.0 GB/s |\n"
         "|---|---|---|---|---|\n");
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    double v2 = bench(we, dir, "trap_nth", "rsim:sim/sensor-data@0.2.0", sizes[i].bytes, false);
    double v3 = bench(we, dir, "trap_nth_0_3", "rsim:sim/sensor-data@0.3.0", sizes[i].bytes, false);
    double u8 = bench(we, dir, "trap_nth_0_3", "rsim:sim/sensor-data@0.3.0", sizes[i].bytes, true);
    printf("| %s | %.1f | %.1f | %.1f | %.2f |\n", sizes[i].what, v2, v3, u8, (double)sizes[i].bytes / v3 / 1e3);
  }
  rsim_wasm_engine_free(we);
  return 0;
}
