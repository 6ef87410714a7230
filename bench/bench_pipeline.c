/*
** bench_pipeline.c -- wasm against native, side by side in one process.
**
**   bench_pipeline DRIVE.db GRAPH.yaml
**   bench_pipeline --fusion-64 COMPONENT_DIR CALLS   (3.'s fusion call only, for perf)
**
** 1. The demo graph through the engine (WebAssembly components, Wasmtime).
** 2. The same four algorithm cores compiled natively and called directly,
**    in the same order on the same readings (detector per camera frame,
**    tracker per radar scan, fusion at 20 Hz and planner at 10 Hz from the
**    log's first reading): the limit for this work.
** 3. Boundary costs: one fusion call with 64 detected objects, and passing
**    0 B to 1 MiB into a component packed (list<u64>, as readings do) and
**    byte by byte (list<u8>).
** Prints a Markdown table for docs/benchmarks.md.
*/
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "rsim/engine.h"
#include "rsim/store.h"
#include "rsim/wasm.h"
#include "rsim_detector.h"
#include "rsim_fusion.h"
#include "rsim_planner.h"
#include "rsim_tracker.h"

typedef struct acc {
  uint64_t calls;
  double total_s;
} acc;

static void tick(acc *a, double t0) {
  a->calls++;
  a->total_s += bench_now_s() - t0;
}

/* ---- native pipeline ------------------------------------------------------------ */

typedef struct native {
  det_ctx det;
  det_params dp;
  trk_state *trk;
  fus_params fp;
  pln_params pp;
  fus_cam cams[256];
  int n_cams;
  fus_radar radar[64];
  int n_radar;
  fus_obj fused[320];
  int n_fused;
  bool have_det, have_trk, have_fus;
  pln_ego ego;
  bool have_ego;
  acc a[4];
  uint64_t checksum; /* keeps the work observable */
} native;

static void run_detector(native *n, const rsim_reading *r) {
  det_box boxes[256];
  double t0 = bench_now_s();
  int k = det_process(&n->det, &n->dp, r->payload, 640, 360, 3, boxes, 256);
  if (k > 256) k = 256;
  n->n_cams = k < 0 ? 0 : k;
  for (int i = 0; i < n->n_cams; i++) {
    n->cams[i] = (fus_cam){boxes[i].x, boxes[i].y, boxes[i].w, boxes[i].h, boxes[i].confidence, "", ""};
    snprintf(n->cams[i].cls, sizeof n->cams[i].cls, "%s", det_class_name(boxes[i].cls));
    snprintf(n->cams[i].id, sizeof n->cams[i].id, "det-%d", i);
  }
  tick(&n->a[0], t0);
  n->have_det = true;
}

static void run_tracker(native *n, const rsim_reading *r) {
  trk_detection d[TRK_MAX_DET];
  double t0 = bench_now_s();
  int k = trk_decode(r->payload, r->payload_len, d, TRK_MAX_DET);
  if (k > TRK_MAX_DET) k = TRK_MAX_DET;
  if (k >= 0) trk_update(n->trk, r->t, d, k);
  n->n_radar = 0;
  for (int i = 0; i < n->trk->n; i++) {
    const trk_track *t = &n->trk->tracks[i];
    if (t->confirmed) n->radar[n->n_radar++] = (fus_radar){t->id, t->x, t->y, t->vx, t->vy, trk_confidence(t)};
  }
  tick(&n->a[1], t0);
  n->have_trk = true;
}

static void run_fusion(native *n) {
  if (!n->have_det || !n->have_trk) return;
  double t0 = bench_now_s();
  n->n_fused = fus_fuse(&n->fp, n->cams, n->n_cams, n->radar, n->n_radar, n->fused, 320);
  tick(&n->a[2], t0);
  n->have_fus = true;
}

static void run_planner(native *n) {
  if (!n->have_fus || !n->have_ego) return;
  pln_obj objs[320];
  pln_out out;
  double t0 = bench_now_s();
  for (int i = 0; i < n->n_fused; i++) objs[i] = (pln_obj){n->fused[i].x, n->fused[i].y, n->fused[i].vx, n->fused[i].vy};
  pln_plan(&n->pp, &n->ego, objs, n->n_fused, &out);
  tick(&n->a[3], t0);
  n->checksum += (uint64_t)out.maneuver + (uint64_t)(out.accel * 1000);
}

static double run_native(rsim_store *st, native *n, double *sim_s) {
  memset(n, 0, sizeof *n);
  det_params_default(&n->dp);
  n->trk = malloc(sizeof *n->trk);
  trk_params tp;
  trk_params_default(&tp);
  trk_init(n->trk, &tp);
  fus_params_default(&n->fp);
  pln_params_default(&n->pp);
  rsim_time first, last;
  rsim_store_time_range(st, &first, &last);
  const char *ids[] = {"camera_front", "radar_front", "can_vehicle"};
  rsim_cursor *c;
  if (rsim_store_cursor_open(st, first, last, ids, 3, &c)) bench_die("cursor", rsim_store_errmsg(st));
  const int64_t fus_p = 50000000, pln_p = 100000000;
  rsim_time next_fus = first, next_pln = first;
  double t0 = bench_now_s();
  const rsim_reading *r;
  rsim_time t;
  for (;;) {
    int more = rsim_cursor_peek_time(c, &t) == RSIM_OK;
    rsim_time due = next_fus < next_pln ? next_fus : next_pln;
    if (!more && due > last) break;
    if (!more || due < t) t = due;
    /* Same order as the engine: readings at t, then components by topology. */
    rsim_time pt;
    while (rsim_cursor_peek_time(c, &pt) == RSIM_OK && pt == t) {
      rsim_cursor_next(c, &r);
      if (r->kind == RSIM_SENSOR_CAMERA) run_detector(n, r);
      else if (r->kind == RSIM_SENSOR_RADAR) run_tracker(n, r);
      else n->have_ego = pln_decode_can(r->payload, r->payload_len, &n->ego) == 0;
    }
    if (next_fus == t && t <= last) run_fusion(n), next_fus += fus_p;
    if (next_pln == t && t <= last) run_planner(n), next_pln += pln_p;
  }
  double wall = bench_now_s() - t0;
  rsim_cursor_close(c);
  det_ctx_free(&n->det);
  free(n->trk);
  *sim_s = (double)(last - first) / 1e9;
  return wall;
}

/* ---- boundary micro-benchmarks --------------------------------------------------- */

static int h_none(void *ctx, const rsim_func_sig *s, const rsim_val *a, size_t n, rsim_val *r) {
  if (s->result && s->result->kind == RSIM_OPTION) rsim_val_set_case(r, RSIM_OPTION, 0, false);
  else if (s->result) r->kind = RSIM_S64;
  return 0;
}

static int h_config_never_trap(void *ctx, const rsim_func_sig *s, const rsim_val *a, size_t n, rsim_val *r) {
  rsim_val_set_case(r, RSIM_OPTION, 1, true);
  rsim_val_set_string(r->of.var.payload, "1000000000", 10);
  return 0;
}

static rsim_instance *instance(rsim_wasm_engine *we, const char *dir, const char *name, rsim_component **c) {
  static const char *iface = "rsim:sim/sensor-data@0.2.0";
  rsim_host_def defs[4] = {{iface, "get-sensor-data", h_none}, {iface, "sim-time", h_none},
                           {iface, "log", h_none}, {iface, "get-config", h_config_never_trap}};
  return bench_instance(we, dir, name, defs, 4, c);
}

/* Mean seconds of one call of a fusion component with 64 camera objects. */
static void bench_64_objects(rsim_wasm_engine *we, const char *dir, int N, double *wasm_us, double *native_us) {
  rsim_component *c;
  rsim_instance *in = instance(we, dir, "fusion", &c);
  rsim_val args[2];
  rsim_val_set_agg(&args[0], RSIM_LIST, 64);
  rsim_val_set_agg(&args[1], RSIM_LIST, 0);
  fus_cam cams[64];
  for (int i = 0; i < 64; i++) {
    rsim_val *o = &args[0].of.agg.items[i];
    rsim_val_set_agg(o, RSIM_RECORD, 4);
    char id[16];
    snprintf(id, sizeof id, "det-%d", i);
    rsim_val_set_string(&o->of.agg.items[0], id, strlen(id));
    rsim_val_set_string(&o->of.agg.items[1], "car", 3);
    o->of.agg.items[2].kind = RSIM_F32;
    o->of.agg.items[2].of.f32 = 0.9f;
    rsim_val_set_agg(&o->of.agg.items[3], RSIM_RECORD, 4);
    float box[4] = {(float)(i * 10 % 600), 200.0f, 20.0f, 15.0f};
    for (int k = 0; k < 4; k++) {
      o->of.agg.items[3].of.agg.items[k].kind = RSIM_F32;
      o->of.agg.items[3].of.agg.items[k].of.f32 = box[k];
    }
    cams[i] = (fus_cam){box[0], box[1], box[2], box[3], 0.9f, "car", ""};
    snprintf(cams[i].id, sizeof cams[i].id, "%s", id);
  }
  *wasm_us = bench_calls_us(in, 0, args, 2, N, 0);
  fus_params p;
  fus_params_default(&p);
  fus_obj out[128];
  volatile int sink = 0;
  double t0 = bench_now_s();
  for (int i = 0; i < N; i++) sink += fus_fuse(&p, cams, 64, NULL, 0, out, 128);
  *native_us = (bench_now_s() - t0) / N * 1e6;
  rsim_val_clear(&args[0]);
  rsim_val_clear(&args[1]);
  rsim_instance_free(in);
  rsim_component_free(c);
}

/* Mean microseconds of one call handing n bytes to trap_nth: as a reading
** (packed list<u64>, how payloads cross) or, for comparison, as the
** list<u8> of its state interface's restore (which refuses the bytes after
** they crossed, so the call costs only the crossing). */
static double bench_payload(rsim_wasm_engine *we, const char *dir, size_t bytes, bool as_u8) {
  rsim_component *c;
  rsim_instance *in = instance(we, dir, "trap_nth", &c);
  uint8_t *p = calloc(bytes ? bytes : 1, 1);
  rsim_reading r = {.sensor_id = (char *)"cam", .t = 1, .kind = RSIM_SENSOR_CAMERA, .payload = p, .payload_len = bytes};
  rsim_val arg;
  int fn = 0;
  if (as_u8) {
    rsim_val_set_bytes(&arg, p, bytes);
    fn = rsim_component_find_export(c, "rsim:sim/state@0.2.0#restore");
    if (fn < 0) bench_die("payload", "trap_nth has no state restore");
  } else {
    rsim_engine_reading_to_val(&r, &arg);
  }
  double us = bench_calls_us(in, (size_t)fn, &arg, 1, bytes >= (1u << 20) ? 50 : 500, 0);
  rsim_val_clear(&arg);
  free(p);
  rsim_instance_free(in);
  rsim_component_free(c);
  return us;
}

int main(int argc, char **argv) {
  bench_name = "bench_pipeline";
  /* Only the fusion call with 64 objects, many times: for a profiler. */
  if (argc == 4 && !strcmp(argv[1], "--fusion-64")) {
    rsim_errbuf eb = {0};
    rsim_wasm_engine *we;
    if (rsim_wasm_engine_new(&we, &eb)) bench_die("wasm", eb.msg);
    double w64, n64;
    bench_64_objects(we, argv[2], (int)bench_arg_int(argc, argv, 3, "N", 2000, 1, 100000000), &w64, &n64);
    printf("fusion with 64 detected objects: %.1f us a call (native %.1f us)\n", w64, n64);
    rsim_wasm_engine_free(we);
    return 0;
  }
  if (argc != 3) {
    fprintf(stderr, "usage: bench_pipeline DRIVE.db GRAPH.yaml\n"
                    "       bench_pipeline --fusion-64 COMPONENT_DIR CALLS   (that call only, for a profiler)\n");
    return 2;
  }
  rsim_errbuf eb = {0};
  rsim_store *st;
  rsim_graph *g;
  if (rsim_store_open(argv[1], &st, &eb) || rsim_graph_load(argv[2], &g, &eb)) bench_die("open", eb.msg);
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", rsim_graph_component_wasm(g, 0));
  *strrchr(dir, '/') = 0;

  /* 1. wasm through the engine */
  double wasm_wall, sim;
  rsim_engine *e = bench_engine_run(st, g, 0, &wasm_wall, &sim);

  /* 2. native, same order, same data */
  native *n = calloc(1, sizeof *n);
  double native_sim;
  double native_wall = run_native(st, n, &native_sim);

  printf("## Pipeline: %s, %.1f s of sim time\n\n", argv[1], sim);
  printf("| | wall s | x real time |\n|---|---|---|\n");
  printf("| demo graph, WebAssembly components (engine, --speed max) | %.2f | %.2f |\n", wasm_wall, sim / wasm_wall);
  printf("| same cores, native, called directly | %.2f | %.2f |\n", native_wall, native_sim / native_wall);
  printf("| ratio wasm / native | %.2f | |\n\n", wasm_wall / native_wall);
  printf("| component | calls | wasm mean us (incl. boundary) | native mean us | wasm / native |\n|---|---|---|---|---|\n");
  const char *names[4] = {"detector", "tracker", "fusion", "planner"};
  for (size_t i = 0; i < rsim_engine_n_components(e); i++) {
    rsim_component_stats s;
    rsim_engine_stats(e, i, &s);
    int k = -1;
    for (int j = 0; j < 4; j++)
      if (!strcmp(s.name, names[j])) k = j;
    if (k < 0) continue;
    double wm = s.calls ? (double)s.total_ns / (double)s.calls / 1e3 : 0;
    double nm = n->a[k].calls ? n->a[k].total_s / (double)n->a[k].calls * 1e6 : 0;
    printf("| %s | %llu | %.1f | %.1f | %.1f |\n", s.name, (unsigned long long)s.calls, wm, nm, nm > 0 ? wm / nm : 0);
  }
  rsim_engine_free(e);

  /* 3. boundary costs */
  rsim_wasm_engine *we;
  if (rsim_wasm_engine_new(&we, &eb)) bench_die("wasm", eb.msg);
  double w64, n64;
  bench_64_objects(we, dir, 2000, &w64, &n64);
  printf("\n## Boundary\n\n| call | wasm us | native us |\n|---|---|---|\n");
  printf("| fusion with 64 detected objects | %.1f | %.1f |\n", w64, n64);
  static const struct {
    const char *what;
    size_t bytes;
  } sizes[] = {{"0 B", 0}, {"64 KiB", 64 << 10}, {"640x360 RGB frame (691,200 B)", 640 * 360 * 3}, {"1 MiB", 1 << 20}};
  double packed[4], bytewise[4];
  printf("\n| n bytes into a component | as list<u64> (readings) us | as list<u8> us | ratio |\n|---|---|---|---|\n");
  for (int i = 0; i < 4; i++) {
    packed[i] = bench_payload(we, dir, sizes[i].bytes, false);
    bytewise[i] = bench_payload(we, dir, sizes[i].bytes, true);
    printf("| %s | %.1f | %.1f | %.1f |\n", sizes[i].what, packed[i], bytewise[i], packed[i] > 0 ? bytewise[i] / packed[i] : 0);
  }
  printf("\nper payload byte: %.2f ns as list<u64>, %.2f ns as list<u8>\n",
         (packed[3] - packed[0]) * 1e3 / (double)(1 << 20), (bytewise[3] - bytewise[0]) * 1e3 / (double)(1 << 20));
  printf("checksum %llu\n", (unsigned long long)n->checksum);
  rsim_wasm_engine_free(we);
  free(n);
  rsim_graph_free(g);
  rsim_store_close(st);
  return 0;
}
