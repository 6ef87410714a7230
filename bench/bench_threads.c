/*
** bench_threads.c -- one drive replayed on 1 and on N threads, as
** WebAssembly components through the engine and as the same C cores
** called natively, side by side in one process (docs/benchmarks.md,
** section 13b).
**
**   bench_threads DRIVE GRAPH.yaml [THREADS] [REPEATS]   (defaults 2, 2)
**
** The native pipeline is the obvious threaded one for a rig of this shape
** (the demo's or the surround rig's): one detector per camera, one tracker
** per radar, fusion at 20 Hz and the planner at 10 Hz.  Between two fusion
** ticks each sensor's readings form one chain (its core's state makes the
** calls of one sensor sequential); the chains of a period are shared out
** to the threads, the caller's among them, and fusion and the planner run
** after the last chain of the period finished.  Reading the store is on
** a read-ahead thread for both, as `replaysim run` does.  The native
** checksum must be the same for every thread count, like the engine's
** digest: otherwise the figure would be of a different computation.
**
** Runs alternate (engine 1, engine N, native 1, native N, then the drive
** read with nothing done with it: the floor under all four) REPEATS times,
** so a change in the machine's load shows in all four.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "rsim/engine.h"
#include "rsim/store.h"
#include "rsim_detector.h"
#include "rsim_fusion.h"
#include "rsim_planner.h"
#include "rsim_tracker.h"

/* ---- the native pipeline ---------------------------------------------------------- */

typedef struct chain {
  const rsim_sensor_info *s;
  det_ctx det;
  det_params dp;
  trk_state *trk;
  rsim_reading *in; /* this period's readings, payloads owned */
  size_t n_in, cap_in;
  fus_cam cams[64];
  int n_cams;
  fus_radar radar[64];
  int n_radar;
  uint64_t sum;
} chain;

typedef struct npipe {
  chain *ch;
  size_t n_ch;
  int threads;
  pthread_barrier_t start, done;
  atomic_size_t next; /* the next chain of the period to take */
  bool stop;
} npipe;

static void chain_run(chain *c) {
  for (size_t i = 0; i < c->n_in; i++) {
    const rsim_reading *r = &c->in[i];
    if (r->kind == RSIM_SENSOR_CAMERA) {
      det_box boxes[64];
      int k = r->payload_len == 640 * 360 * 3 ? det_process(&c->det, &c->dp, r->payload, 640, 360, 3, boxes, 64) : 0;
      c->n_cams = k < 0 ? 0 : k > 64 ? 64 : k;
      for (int j = 0; j < c->n_cams; j++) {
        c->cams[j] = (fus_cam){boxes[j].x, boxes[j].y, boxes[j].w, boxes[j].h, boxes[j].confidence, "", ""};
        snprintf(c->cams[j].cls, sizeof c->cams[j].cls, "%s", det_class_name(boxes[j].cls));
        snprintf(c->cams[j].id, sizeof c->cams[j].id, "det-%d", j);
      }
      c->sum = c->sum * 31 + (uint64_t)c->n_cams;
    } else {
      trk_detection d[TRK_MAX_DET];
      int k = trk_decode(r->payload, r->payload_len, d, TRK_MAX_DET);
      if (k > TRK_MAX_DET) k = TRK_MAX_DET;
      if (k >= 0) trk_update(c->trk, r->t, d, k);
      c->n_radar = 0;
      for (int j = 0; j < c->trk->n && c->n_radar < 64; j++) {
        const trk_track *t = &c->trk->tracks[j];
        if (t->confirmed) c->radar[c->n_radar++] = (fus_radar){t->id, t->x, t->y, t->vx, t->vy, trk_confidence(t)};
      }
      c->sum = c->sum * 31 + (uint64_t)c->n_radar;
    }
    free(c->in[i].payload);
  }
  c->n_in = 0;
}

/* Takes chains of the period until none is left. */
static void take_chains(npipe *p) {
  size_t i;
  while ((i = atomic_fetch_add(&p->next, 1)) < p->n_ch) chain_run(&p->ch[i]);
}

static void *pipe_worker(void *arg) {
  npipe *p = arg;
  for (;;) {
    pthread_barrier_wait(&p->start);
    if (p->stop) return NULL;
    take_chains(p);
    pthread_barrier_wait(&p->done);
  }
}

static void period(npipe *p) {
  atomic_store(&p->next, 0);
  if (p->threads > 1) pthread_barrier_wait(&p->start);
  take_chains(p);
  if (p->threads > 1) pthread_barrier_wait(&p->done);
}

/* Wall seconds of the native pipeline over st on `threads` threads; *sum
** is a checksum of every core's output. */
static double native_run(rsim_store *st, int threads, uint64_t *sum) {
  const rsim_sensor_info *sens;
  size_t n_sens;
  if (rsim_store_sensors(st, &sens, &n_sens)) bench_die("sensors", rsim_store_errmsg(st));
  npipe p = {.threads = threads};
  p.ch = calloc(n_sens, sizeof *p.ch);
  const char *ids[64];
  size_t n_ids = 0, front = 0;
  for (size_t i = 0; i < n_sens && n_ids < 64; i++) {
    const rsim_sensor_info *s = &sens[i];
    if (s->kind == RSIM_SENSOR_CAN) ids[n_ids++] = s->id;
    if (s->kind != RSIM_SENSOR_CAMERA && s->kind != RSIM_SENSOR_RADAR) continue;
    chain *c = &p.ch[p.n_ch++];
    c->s = s;
    det_params_default(&c->dp);
    trk_params tp;
    trk_params_default(&tp);
    c->trk = malloc(sizeof *c->trk);
    trk_init(c->trk, &tp);
    if (!strcmp(s->id, "camera_front")) front = p.n_ch - 1;
    ids[n_ids++] = s->id;
  }
  pthread_t th[64];
  pthread_barrier_init(&p.start, NULL, (unsigned)threads);
  pthread_barrier_init(&p.done, NULL, (unsigned)threads);
  for (int i = 1; i < threads; i++) pthread_create(&th[i], NULL, pipe_worker, &p);

  fus_params fp;
  fus_params_default(&fp);
  pln_params pp;
  pln_params_default(&pp);
  pln_ego ego = {0};
  bool have_ego = false;
  rsim_time first, last;
  rsim_store_time_range(st, &first, &last);
  rsim_cursor *cur;
  if (rsim_store_cursor_open(st, first, last, ids, n_ids, &cur)) bench_die("cursor", rsim_store_errmsg(st));
  const int64_t fus_p = 50000000, pln_p = 100000000;
  *sum = 0;
  double t0 = bench_now_s();
  for (rsim_time tick = first; tick <= last; tick += fus_p) {
    /* The period's readings (t <= tick) to their chains, as the engine
    ** hands a component the readings up to its instant. */
    rsim_time t;
    const rsim_reading *r;
    while (rsim_cursor_peek_time(cur, &t) == RSIM_OK && t <= tick) {
      if (rsim_cursor_next(cur, &r)) bench_die("read", rsim_store_errmsg(st));
      if (r->kind == RSIM_SENSOR_CAN) {
        have_ego = pln_decode_can(r->payload, r->payload_len, &ego) == 0;
        continue;
      }
      for (size_t i = 0; i < p.n_ch; i++) {
        chain *c = &p.ch[i];
        if (strcmp(c->s->id, r->sensor_id)) continue;
        if (c->n_in == c->cap_in) {
          c->cap_in = c->cap_in ? 2 * c->cap_in : 8;
          c->in = realloc(c->in, c->cap_in * sizeof *c->in);
        }
        rsim_reading *o = &c->in[c->n_in++];
        *o = *r;
        o->payload = malloc(r->payload_len ? r->payload_len : 1);
        memcpy(o->payload, r->payload, r->payload_len);
        break;
      }
    }
    period(&p);
    /* Fusion: the front camera's objects and every radar's tracks. */
    fus_radar radar[256];
    int n_radar = 0;
    for (size_t i = 0; i < p.n_ch; i++)
      for (int j = 0; j < p.ch[i].n_radar && n_radar < 256; j++) radar[n_radar++] = p.ch[i].radar[j];
    fus_obj fused[320];
    int n_fused = fus_fuse(&fp, p.ch[front].cams, p.ch[front].n_cams, radar, n_radar, fused, 320);
    *sum = *sum * 31 + (uint64_t)n_fused;
    if ((tick - first) % pln_p == 0 && have_ego) {
      pln_obj objs[320];
      for (int i = 0; i < n_fused; i++) objs[i] = (pln_obj){fused[i].x, fused[i].y, fused[i].vx, fused[i].vy};
      pln_out out;
      pln_plan(&pp, &ego, objs, n_fused, &out);
      *sum = *sum * 31 + (uint64_t)out.maneuver + (uint64_t)(int64_t)(out.accel * 1000);
    }
  }
  double wall = bench_now_s() - t0;
  rsim_cursor_close(cur);
  if (threads > 1) {
    p.stop = true;
    pthread_barrier_wait(&p.start);
    for (int i = 1; i < threads; i++) pthread_join(th[i], NULL);
  }
  pthread_barrier_destroy(&p.start);
  pthread_barrier_destroy(&p.done);
  for (size_t i = 0; i < p.n_ch; i++) {
    *sum = *sum * 31 + p.ch[i].sum;
    det_ctx_free(&p.ch[i].det);
    free(p.ch[i].trk);
    free(p.ch[i].in);
  }
  free(p.ch);
  return wall;
}

/* Wall seconds of only reading what the pipelines read: the floor under both. */
static double read_run(rsim_store *st) {
  rsim_time first, last;
  rsim_store_time_range(st, &first, &last);
  rsim_cursor *cur;
  if (rsim_store_cursor_open(st, first, last, NULL, 0, &cur)) bench_die("cursor", rsim_store_errmsg(st));
  double t0 = bench_now_s();
  const rsim_reading *r;
  int rc;
  while ((rc = rsim_cursor_next(cur, &r)) == RSIM_OK) {
  }
  if (rc != RSIM_EEOF) bench_die("read", rsim_store_errmsg(st));
  double wall = bench_now_s() - t0;
  rsim_cursor_close(cur);
  return wall;
}

/* ---- the engine ------------------------------------------------------------------- */

static double engine_run(rsim_store *st, const rsim_graph *g, int threads, char digest[65], double *sim_s) {
  double wall;
  rsim_engine *e = bench_engine_run(st, g, threads, &wall, sim_s);
  rsim_engine_digest(e, digest);
  rsim_engine_free(e);
  return wall;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
  bench_name = "bench_threads";
  if (argc < 3 || argc > 5) {
    fprintf(stderr, "usage: bench_threads DRIVE GRAPH.yaml [THREADS] [REPEATS]\n");
    return 2;
  }
  int nt = (int)bench_arg_int(argc, argv, 3, "THREADS", 2, 2, 64);
  int reps = (int)bench_arg_int(argc, argv, 4, "REPEATS", 2, 1, 1000);
  if (nt < 2 || nt > 64 || reps < 1 || reps > 50) bench_die("arguments", "THREADS must be 2..64 and REPEATS 1..50");
  rsim_errbuf eb = {0};
  rsim_store *raw, *st;
  rsim_graph *g;
  if (rsim_store_open(argv[1], &raw, &eb) || rsim_graph_load(argv[2], &g, &eb)) bench_die("open", eb.msg);
  rsim_readahead_opts ra = {.own_base = true};
  if (rsim_store_readahead(raw, &ra, &st)) bench_die("read-ahead", rsim_store_errmsg(raw));

  enum { E1, EN, N1, NN, RD };
  double wall[5][50];
  char dig[2][65], first_dig[65] = "";
  uint64_t sum[2], first_sum = 0;
  double sim = 0;
  for (int r = 0; r < reps; r++) {
    wall[E1][r] = engine_run(st, g, 1, dig[0], &sim);
    wall[EN][r] = engine_run(st, g, nt, dig[1], &sim);
    wall[N1][r] = native_run(st, 1, &sum[0]);
    wall[NN][r] = native_run(st, nt, &sum[1]);
    wall[RD][r] = read_run(st);
    if (!r) {
      memcpy(first_dig, dig[0], 65);
      first_sum = sum[0];
    }
    if (strcmp(dig[0], first_dig) || strcmp(dig[1], first_dig))
      bench_die("engine", "the digest changed with the thread count or between runs");
    if (sum[0] != first_sum || sum[1] != first_sum)
      bench_die("native", "the checksum changed with the thread count or between runs");
    fprintf(stderr, "bench_threads: round %d of %d: %.2f %.2f %.2f %.2f %.2f s\n", r + 1, reps, wall[E1][r],
            wall[EN][r], wall[N1][r], wall[NN][r], wall[RD][r]);
  }
  double m[5];
  for (int k = 0; k < 5; k++) m[k] = median(wall[k], reps);
  printf("## Threads: %s through %s, %.1f s of sim time, median of %d\n\n", argv[1], argv[2], sim, reps);
  printf("| | 1 thread s | %d threads s | speedup |\n|---|---|---|---|\n", nt);
  printf("| WebAssembly components (engine, --speed max) | %.2f | %.2f | %.2fx |\n", m[E1], m[EN], m[E1] / m[EN]);
  printf("| the same cores, native, threaded pipeline | %.2f | %.2f | %.2fx |\n", m[N1], m[NN], m[N1] / m[NN]);
  printf("| wasm / native | %.2f | %.2f | |\n", m[E1] / m[N1], m[EN] / m[NN]);
  printf("| reading the drive alone (read-ahead, no component) | %.2f | | |\n\n", m[RD]);
  printf("engine digest %.16s... (all runs), native checksum %llu (all runs)\n", first_dig,
         (unsigned long long)first_sum);
  rsim_graph_free(g);
  rsim_store_close(st);
  return 0;
}
