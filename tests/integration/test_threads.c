/*
** test_threads.c -- deterministic parallel execution (`--threads N`): the
** same run on 1, 2, 4 and 8 threads gives the same digest, per-component
** digests, recorded outputs and events (in the same order) and the same
** checkpoint files; seeks, step back, stepping by run, a halt in the middle
** of an instant, retried traps and resuming from checkpoint files are as
** exact as on one thread.  The graphs put several components at one
** instant (two detectors and a faulty one on the same camera), so their
** calls really overlap.
*/
#include <sqlite3.h>

#include "rsim/engine.h"
#include "rsim/record.h"
#include "test.h"

/* Budgets far above any call: a timing violation (wall time) must not
** enter the checkpoint files or events compared below. */
#define BUDGET "    budget: 60s\n"

/* Two detectors on one camera, a tracker, two fusions and a planner. */
static const char *wide_graph(void) {
  char text[4096];
  const char *det = test_component_path("camera_detector");
  char det_s[1100];
  snprintf(det_s, sizeof det_s, "%s", det);
  const char *trk = test_component_path("radar_tracker");
  const char *fus = test_component_path("fusion");
  const char *pln = test_component_path("planner");
  snprintf(text, sizeof text,
           "components:\n"
           "  det_a:\n    wasm: %s\n    trigger: camera_front\n    inputs: { reading: sensor:camera_front }\n" BUDGET
           "  det_b:\n    wasm: %s\n    trigger: camera_front\n    inputs: { reading: sensor:camera_front }\n" BUDGET
           "  tracker:\n    wasm: %s\n    trigger: radar_front\n    inputs: { reading: sensor:radar_front }\n" BUDGET
           "  fusion:\n    wasm: %s\n    rate_hz: 20\n"
           "    inputs: { camera-objects: det_a, radar-tracks: tracker }\n"
           "    config: { camera.fx: \"500\", camera.cx: \"320\" }\n" BUDGET
           "  fusion_b:\n    wasm: %s\n    rate_hz: 20\n"
           "    inputs: { camera-objects: det_b, radar-tracks: tracker }\n" BUDGET
           "  planner:\n    wasm: %s\n    rate_hz: 10\n"
           "    inputs: { objects: fusion, vehicle: sensor:can_vehicle }\n" BUDGET,
           det_s, det_s, trk, fus, fus, pln);
  return test_write_text("wide.yaml", text);
}

/* Faulty components beside good ones at the same instants: one traps on
** every 3rd call and is retried, one loops from its 4th call and is stopped
** by fuel and skipped; their error and restart lines interleave. */
static const char *fault_graph(const char *bad_policy) {
  char text[4096], det[1100], trap[1100];
  snprintf(det, sizeof det, "%s", test_component_path("camera_detector"));
  snprintf(trap, sizeof trap, "%s", test_component_path("trap_nth"));
  snprintf(text, sizeof text,
           "components:\n"
           "  trapper:\n    wasm: %s\n    trigger: camera_front\n    inputs: { reading: sensor:camera_front }\n"
           "    config: { trap_at: \"3\" }\n    on_fault: retry\n" BUDGET
           "  looper:\n    wasm: %s\n    trigger: camera_front\n    inputs: { reading: sensor:camera_front }\n"
           "    config: { fault: loop, at: \"4\" }\n    limits: { fuel: 20M }\n    on_fault: %s\n" BUDGET
           "  det:\n    wasm: %s\n    trigger: camera_front\n    inputs: { reading: sensor:camera_front }\n" BUDGET
           "  tracker:\n    wasm: %s\n    trigger: radar_front\n    inputs: { reading: sensor:radar_front }\n" BUDGET,
           trap, test_component_path("misbehave"), bad_policy, det, test_component_path("radar_tracker"));
  return test_write_text(bad_policy[0] == 'h' ? "fault-halt.yaml" : "fault.yaml", text);
}

/* The recorded events, but timing violations: a call's duration is wall
** time, and the demo graph's fusion has its 50 ms period as its budget,
** which a loaded machine can exceed on any thread count. */
static const char kEventsSql[] =
    "SELECT t, component, level, message FROM events WHERE message NOT LIKE 'call took %' ORDER BY id";

/* Every row of a query, one line each, as a malloc'd string. */
static char *dump(const char *db, const char *sql) {
  sqlite3 *h;
  sqlite3_stmt *st;
  if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) test_fail(__FILE__, __LINE__, "open %s", db);
  if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
    test_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(h));
  size_t len = 0, cap = 1 << 16;
  char *out = malloc(cap);
  out[0] = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(st); c++) {
      const void *b = sqlite3_column_blob(st, c);
      size_t n = (size_t)sqlite3_column_bytes(st, c);
      while (len + 2 * n + 4 >= cap) out = realloc(out, cap *= 2);
      for (size_t i = 0; i < n; i++) len += (size_t)sprintf(out + len, "%02x", ((const unsigned char *)b)[i]);
      out[len++] = c + 1 < sqlite3_column_count(st) ? '|' : '\n';
      out[len] = 0;
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

/* The bytes of a file (malloc'd; *n its size), or NULL. */
static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)sz + 1);
  *n = fread(b, 1, (size_t)sz, f);
  b[*n] = 0;
  fclose(f);
  return b;
}

/* Checkpoint files 0..99 of dir are those of ref_dir, byte for byte, and
** the same ones exist; returns how many. */
static int same_checkpoint_files(const char *ref_dir, const char *dir, int threads) {
  int files = 0;
  for (int b = 0; b < 100; b++) {
    char pa[1200], pb[1200];
    snprintf(pa, sizeof pa, "%s/ckpt-%012d.rsck", ref_dir, b);
    snprintf(pb, sizeof pb, "%s/ckpt-%012d.rsck", dir, b);
    size_t na = 0, nb = 0;
    char *a = slurp(pa, &na), *bb = slurp(pb, &nb);
    ASSERT_EQ(a == NULL, bb == NULL);
    if (a) {
      files++;
      if (na != nb || memcmp(a, bb, na)) test_fail(__FILE__, __LINE__, "%s differs on %d threads", pb, threads);
    }
    free(a);
    free(bb);
  }
  return files;
}

/* The lines of out that start with "digest" (run and per-component digests). */
static void digest_lines(const char *out, char *dst, size_t cap) {
  dst[0] = 0;
  for (const char *l = out; l && *l;) {
    const char *end = strchr(l, '\n');
    size_t n = end ? (size_t)(end - l) : strlen(l);
    if (!strncmp(l, "digest", 6) && strlen(dst) + n + 2 < cap) strncat(strncat(dst, l, n), "\n", 2);
    l = end ? end + 1 : NULL;
  }
}

/*
** graph on 1, 2, 4 and 8 threads through `replaysim run`: the digest lines, the
** outputs and events tables and (ckpts) every checkpoint file are equal.
*/
static void same_on_all_thread_counts(const char *graph, const char *drive, bool ckpts, int want_exit) {
  static const int kThreads[] = {1, 2, 4, 8};
  char ref_digests[8192] = "", *ref_out = NULL, *ref_ev = NULL;
  char ref_dir[1100] = "";
  for (int k = 0; k < (int)(sizeof kThreads / sizeof *kThreads); k++) {
    char name[64], db[1100], dir[1100], extra[3000], *out = NULL, digests[8192];
    snprintf(name, sizeof name, "run%d.db", kThreads[k]);
    snprintf(db, sizeof db, "%s", test_tmpfile(name));
    snprintf(name, sizeof name, "ck%d", kThreads[k]);
    snprintf(dir, sizeof dir, "%s", test_tmpfile(name));
    snprintf(extra, sizeof extra,
             "--speed max --threads %d --out %s --overwrite --component-digests --on-error continue "
             "--checkpoint-every 200ms --checkpoint-dir %s --log-level info",
             kThreads[k], db, dir);
    ASSERT_EQ(test_replay(graph, drive, extra, &out, NULL), want_exit);
    digest_lines(out, digests, sizeof digests);
    ASSERT(strstr(digests, "digest") != NULL);
    char *outs = dump(db, "SELECT seq, t, component, value FROM outputs ORDER BY seq");
    char *evs = dump(db, kEventsSql);
    ASSERT(strlen(outs) > 100);
    if (k == 0) {
      snprintf(ref_digests, sizeof ref_digests, "%s", digests);
      ref_out = outs;
      ref_ev = evs;
      snprintf(ref_dir, sizeof ref_dir, "%s", dir);
      free(out);
      continue;
    }
    if (strcmp(digests, ref_digests))
      test_fail(__FILE__, __LINE__, "%s on %d threads:\n%s\non 1 thread:\n%s", graph, kThreads[k], digests, ref_digests);
    if (strcmp(outs, ref_out)) test_fail(__FILE__, __LINE__, "%s: recorded outputs differ on %d threads", graph, kThreads[k]);
    if (strcmp(evs, ref_ev))
      test_fail(__FILE__, __LINE__, "%s: events differ on %d threads:\n%.2000s\non 1 thread:\n%.2000s", graph,
                kThreads[k], evs, ref_ev);
    free(outs);
    free(evs);
    free(out);
    if (!ckpts) continue;
    int files = same_checkpoint_files(ref_dir, dir, kThreads[k]);
    ASSERT(files >= 5);
  }
  free(ref_out);
  free(ref_ev);
}

TEST(threads_demo_and_composed_graphs_give_one_run) {
  const char *drive = test_make_drive("drive.db", "2s", 7);
  same_on_all_thread_counts(test_source_path("examples/demo/graph.yaml"), drive, false, 0);
  same_on_all_thread_counts(test_source_path("examples/composed/composed.yaml"), drive, false, 0);
}

TEST(threads_wide_graph_gives_one_run_and_one_set_of_checkpoints) {
  const char *drive = test_make_drive("drive.db", "2s", 7);
  same_on_all_thread_counts(wide_graph(), drive, true, 0);
}

TEST(threads_faults_retries_and_skips_give_one_run) {
  const char *drive = test_make_drive("drive.db", "2s", 7);
  const char *g = fault_graph("skip");
  same_on_all_thread_counts(g, drive, true, 0);
  /* The faults really happened, at the same places. */
  const char *db = test_tmpfile("run4.db");
  ASSERT(test_query_int(db, "SELECT retries FROM stats WHERE component='trapper'") > 10);
  ASSERT(test_query_int(db, "SELECT limit_hits FROM stats WHERE component='looper'") > 5);
  ASSERT_EQ(test_query_int(db, "SELECT errors FROM stats WHERE component='det'"), 0);
  ASSERT_EQ(test_query_int(db, "SELECT outputs FROM stats WHERE component='det'"), 61); /* every frame of 2 s */
  ASSERT(test_query_int(db, "SELECT count(*) FROM events WHERE component='trapper' AND level='error'") > 10);
}

/* ---- through the API: seeks, step back, steps by run, a halt mid-instant ---------- */

static rsim_engine *open_engine(const char *graph, rsim_store *st, int threads, rsim_graph **g) {
  rsim_errbuf eb = {0};
  if (rsim_graph_load(graph, g, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_engine_opts o = {.store = st, .checkpoint_every_ns = 300000000, .log_level = RSIM_LOG_ERROR,
                        .threads = threads, .on_error = RSIM_ON_ERROR_CONTINUE};
  rsim_engine *e;
  if (rsim_engine_new(*g, &o, &e, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  ASSERT_EQ(rsim_engine_threads(e), threads);
  return e;
}

typedef struct trace {
  rsim_time t[4096];
  char hex[4096][65];
  size_t n;
} trace;

static void all_digests(rsim_engine *e, char *out, size_t cap) {
  size_t len = 0;
  for (size_t i = 0; i < rsim_engine_n_components(e) && len + 70 < cap; i++) {
    rsim_engine_component_digest(e, i, out + len);
    len += 64;
    out[len++] = ' ';
  }
  rsim_engine_digest(e, out + len);
}

static const char *at(const trace *r, rsim_time t, const char *start) {
  const char *d = start;
  for (size_t i = 0; i < r->n && r->t[i] <= t; i++) d = r->hex[i];
  return d;
}

TEST(threads_seeks_step_back_and_steps_by_run_are_exact) {
  const char *drive = test_make_drive("drive.db", "2s", 7);
  const char *graph = wide_graph();
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(drive, &st, &eb));
  static trace r;
  rsim_graph *g;
  rsim_engine *e = open_engine(graph, st, 1, &g);
  char start[65], ref_end[2048], end[2048];
  rsim_engine_digest(e, start);
  int rc;
  while ((rc = rsim_engine_step(e)) == RSIM_OK && r.n < 4096) {
    r.t[r.n] = rsim_engine_time(e);
    rsim_engine_digest(e, r.hex[r.n++]);
  }
  ASSERT_EQ(rc, RSIM_EEOF);
  all_digests(e, ref_end, sizeof ref_end);
  rsim_engine_free(e);
  rsim_graph_free(g);
  for (int threads = 2; threads <= 4; threads += 2) {
    e = open_engine(graph, st, threads, &g);
    rsim_time from, to;
    rsim_engine_range(e, &from, &to);
    /* By runs for a while (each step_run one call), then by instants. */
    size_t comp;
    for (int s = 0; s < 40; s++) ASSERT_OK(rsim_engine_step_run(e, &comp));
    ASSERT_OK(rsim_engine_step(e)); /* finishes the instant on the workers */
    char hex[65];
    rsim_engine_digest(e, hex);
    ASSERT_STREQ(hex, at(&r, rsim_engine_time(e), start));
    uint64_t x = 99;
    for (int k = 0; k < 20; k++) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      rsim_time t = k % 2 ? r.t[(x >> 9) % r.n] : from + (rsim_time)((x >> 11) % (uint64_t)(to - from + 1));
      ASSERT_OK(rsim_engine_seek(e, t));
      rsim_engine_digest(e, hex);
      ASSERT_STREQ(hex, at(&r, t, start));
      for (int s = 0; s < 3 && rsim_engine_step(e) == RSIM_OK; s++) {
        rsim_engine_digest(e, hex);
        ASSERT_STREQ(hex, at(&r, rsim_engine_time(e), start));
      }
      if (k % 4 == 1) { /* half an instant, then a step back */
        ASSERT_OK(rsim_engine_step_run(e, &comp));
        rsim_time now = rsim_engine_time(e);
        ASSERT_OK(rsim_engine_step_back(e));
        rsim_engine_digest(e, hex);
        ASSERT_STREQ(hex, at(&r, now - 1, start));
      }
    }
    ASSERT_OK(rsim_engine_seek(e, from - 1));
    while (rsim_engine_step(e) == RSIM_OK) {
    }
    all_digests(e, end, sizeof end);
    ASSERT_STREQ(end, ref_end);
    rsim_engine_free(e);
    rsim_graph_free(g);
  }
  rsim_store_close(st);
}

/* A component that halts the run while its siblings of the same instant
** already ran on other threads: going on commits their calls, it does not
** make them again, so the run is the run of one thread. */
TEST(threads_halt_mid_instant_then_going_on_is_exact) {
  const char *drive = test_make_drive("drive.db", "1s", 7);
  const char *graph = fault_graph("halt");
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(drive, &st, &eb));
  char ref[8192] = "", got[8192];
  for (int threads = 1; threads <= 4; threads *= 2) {
    rsim_graph *g;
    rsim_engine *e = open_engine(graph, st, threads, &g);
    size_t len = 0;
    int rc, halts = 0;
    char line[2100];
    got[0] = 0;
    while ((rc = rsim_engine_step(e)) != RSIM_EEOF && len < sizeof got - 2200) {
      if (rc) {
        halts++;
        snprintf(line, sizeof line, "halt: %s\n", rsim_engine_errmsg(e));
      } else {
        char hex[65];
        rsim_engine_digest(e, hex);
        snprintf(line, sizeof line, "%lld %.16s\n", (long long)rsim_engine_time(e), hex);
      }
      len += (size_t)snprintf(got + len, sizeof got - len, "%s", line);
    }
    ASSERT(halts > 5);
    char all[2048];
    all_digests(e, all, sizeof all);
    len += (size_t)snprintf(got + len, sizeof got - len, "%s\n", all);
    rsim_component_stats cs;
    for (size_t i = 0; i < rsim_engine_n_components(e); i++) {
      rsim_engine_stats(e, i, &cs);
      len += (size_t)snprintf(got + len, sizeof got - len, "%s calls %llu errors %llu retries %llu outputs %llu\n",
                              cs.name, (unsigned long long)cs.calls, (unsigned long long)cs.errors,
                              (unsigned long long)cs.retries, (unsigned long long)cs.outputs);
    }
    if (threads == 1) snprintf(ref, sizeof ref, "%s", got);
    else if (strcmp(got, ref)) test_fail(__FILE__, __LINE__, "on %d threads:\n%s\non one:\n%s", threads, got, ref);
    rsim_engine_free(e);
    rsim_graph_free(g);
  }
  rsim_store_close(st);
}

/* Cut short on 2 threads, resumed from its files on 4: the run of 1 thread. */
TEST(threads_resume_from_checkpoint_files_on_another_thread_count) {
  const char *drive = test_make_drive("drive.db", "2s", 7);
  const char *graph = wide_graph();
  char dir[1100], extra[2400], whole[65], resumed[65], *out = NULL;
  snprintf(dir, sizeof dir, "%s", test_tmpfile("ckpts"));
  ASSERT_EQ(test_replay(graph, drive, "--speed max --threads 1", &out, whole), 0);
  free(out);
  snprintf(extra, sizeof extra, "--speed max --threads 2 --to 1.3s --checkpoint-every 500ms --checkpoint-dir %s", dir);
  ASSERT_EQ(test_replay(graph, drive, extra, &out, NULL), 0);
  free(out);
  snprintf(extra, sizeof extra, "--speed max --threads 4 --checkpoint-every 500ms --resume %s --log-level info", dir);
  ASSERT_EQ(test_replay(graph, drive, extra, &out, resumed), 0);
  ASSERT_CONTAINS(out, "resumed from");
  ASSERT_STREQ(resumed, whole);
  free(out);
  ASSERT_EQ(test_replay(graph, drive, "--threads 0", &out, NULL), 2);
  ASSERT_CONTAINS(out, "--threads");
  free(out);
}

/* ---- across instants: the window of instants opened ahead ---------------------------- */

/* path's graph with a component that traps on its 3rd call and is retried,
** on the front camera beside the others, in the temporary folder (its
** components found through RSIM_COMPONENT_PATH). */
static const char *with_trapper(const char *path, const char *name) {
  size_t n = 0;
  char *text = slurp(path, &n);
  ASSERT(text != NULL);
  const char *at_comp = strstr(text, "\ncomponents:\n");
  ASSERT(at_comp != NULL);
  size_t head = (size_t)(at_comp - text) + strlen("\ncomponents:\n");
  char add[1400];
  snprintf(add, sizeof add,
           "  trapper:\n    wasm: %s\n    trigger: camera_front\n    inputs: { reading: sensor:camera_front }\n"
           "    config: { trap_at: \"3\" }\n    on_fault: retry\n" BUDGET,
           test_component_path("trap_nth"));
  /* Budgets far above any call, as in the graphs above: the stats in the
  ** checkpoint files count timing violations, which are wall time. */
  char *out = malloc(2 * n + strlen(add) + 1), *w = out;
  memcpy(w, text, head);
  w += head;
  w += sprintf(w, "%s", add);
  for (const char *r = text + head; *r;) {
    if (!strncmp(r, "\n    wasm: ", 11)) w += sprintf(w, "\n" BUDGET);
    *w++ = *r++;
  }
  *w = 0;
  const char *p = test_write_text(name, out);
  free(text);
  free(out);
  return p;
}

typedef struct script_out {
  char log[16384];    /* time and digest after each operation */
  char final[4096];   /* every digest at the end */
  uint64_t ahead;     /* rsim_engine_runs_ahead */
  uint64_t retries;   /* of the trapper */
} script_out;

static void say(script_out *o, rsim_engine *e, const char *what) {
  char hex[65];
  rsim_engine_digest(e, hex);
  size_t len = strlen(o->log);
  snprintf(o->log + len, sizeof o->log - len, "%s %lld %.16s\n", what, (long long)rsim_engine_time(e), hex);
}

/* The graph on threads, recorded to db with checkpoint files in dir: 30
** instants, a seek back, 5 instants, three single runs and a step back,
** then to the end. */
static void scripted(const char *graph, rsim_store *st, int threads, const char *db, const char *dir, script_out *o) {
  rsim_errbuf eb = {0};
  rsim_graph *g;
  if (rsim_graph_load(graph, &g, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_record *rec;
  if (rsim_record_open(db, true, &rec, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_engine_opts opt = {.store = st, .record = rec, .checkpoint_every_ns = 200000000, .checkpoint_dir = dir,
                          .log_level = RSIM_LOG_ERROR, .threads = threads, .on_error = RSIM_ON_ERROR_CONTINUE};
  rsim_engine *e;
  if (rsim_engine_new(g, &opt, &e, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  memset(o, 0, sizeof *o);
  rsim_time t10 = 0;
  for (int s = 0; s < 30; s++) {
    ASSERT_OK(rsim_engine_step(e));
    if (s == 10) t10 = rsim_engine_time(e);
    say(o, e, "step");
  }
  ASSERT_OK(rsim_engine_seek(e, t10));
  say(o, e, "seek");
  for (int s = 0; s < 5; s++) {
    ASSERT_OK(rsim_engine_step(e));
    say(o, e, "step");
  }
  size_t comp;
  for (int s = 0; s < 3; s++) {
    ASSERT_OK(rsim_engine_step_run(e, &comp));
    say(o, e, "run");
  }
  ASSERT_OK(rsim_engine_step_back(e));
  say(o, e, "back");
  int rc;
  while ((rc = rsim_engine_step(e)) == RSIM_OK) say(o, e, "step");
  ASSERT_EQ(rc, RSIM_EEOF);
  all_digests(e, o->final, sizeof o->final);
  o->ahead = rsim_engine_runs_ahead(e);
  rsim_component_stats cs;
  for (size_t i = 0; i < rsim_engine_n_components(e); i++) {
    rsim_engine_stats(e, i, &cs);
    if (!strcmp(cs.name, "trapper")) o->retries = cs.retries;
  }
  rsim_record_finish(rec, NULL);
  rsim_engine_free(e);
  ASSERT_OK(rsim_record_close(rec, &eb));
  rsim_graph_free(g);
}

/* A fresh engine on threads resumed from dir, run to the end: its digests. */
static void resumed(const char *graph, rsim_store *st, int threads, const char *dir, char *final, size_t cap) {
  rsim_errbuf eb = {0};
  rsim_graph *g;
  if (rsim_graph_load(graph, &g, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_engine_opts opt = {.store = st, .checkpoint_every_ns = 200000000, .log_level = RSIM_LOG_ERROR,
                          .threads = threads, .on_error = RSIM_ON_ERROR_CONTINUE};
  rsim_engine *e;
  if (rsim_engine_new(g, &opt, &e, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  ASSERT_OK(rsim_engine_resume(e, dir));
  ASSERT(rsim_engine_time(e) > 0);
  int rc;
  while ((rc = rsim_engine_step(e)) == RSIM_OK) {
  }
  ASSERT_EQ(rc, RSIM_EEOF);
  all_digests(e, final, cap);
  rsim_engine_free(e);
  rsim_graph_free(g);
}

/* stateful: every component has the state interface, so checkpoints are
** taken (the composed graph's component has none: seeks re-simulate from
** the start, and no files are written). */
static void same_with_window(const char *graph, const char *drive, const char *tag, bool stateful) {
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(drive, &st, &eb));
  static const int kThreads[] = {1, 2, 4, 8};
  static script_out ref, got;
  char *ref_out = NULL, *ref_ev = NULL, ref_dir[1100] = "";
  for (int k = 0; k < (int)(sizeof kThreads / sizeof *kThreads); k++) {
    char name[96], db[1100], dir[1100];
    snprintf(name, sizeof name, "%s-w%d.db", tag, kThreads[k]);
    snprintf(db, sizeof db, "%s", test_tmpfile(name));
    snprintf(name, sizeof name, "%s-ck%d", tag, kThreads[k]);
    snprintf(dir, sizeof dir, "%s", test_tmpfile(name));
    script_out *o = k ? &got : &ref;
    scripted(graph, st, kThreads[k], db, dir, o);
    char *outs = dump(db, "SELECT seq, t, component, value, json FROM outputs ORDER BY seq");
    char *evs = dump(db, kEventsSql);
    ASSERT(strlen(outs) > 1000);
    ASSERT(o->retries > 3); /* the trapper trapped and was retried, again and again */
    if (k == 0) {
      /* One thread never runs ahead: the counter can tell. */
      ASSERT_EQ(o->ahead, 0);
      ref_out = outs;
      ref_ev = evs;
      snprintf(ref_dir, sizeof ref_dir, "%s", dir);
      continue;
    }
    /* The window really overlapped instants. */
    if (o->ahead < 20) test_fail(__FILE__, __LINE__, "%s on %d threads: only %llu runs ahead", tag, kThreads[k],
                                 (unsigned long long)o->ahead);
    if (strcmp(got.log, ref.log))
      test_fail(__FILE__, __LINE__, "%s on %d threads:\n%.3000s\non one:\n%.3000s", tag, kThreads[k], got.log, ref.log);
    ASSERT_STREQ(got.final, ref.final);
    if (strcmp(outs, ref_out)) test_fail(__FILE__, __LINE__, "%s: recorded outputs differ on %d threads", tag, kThreads[k]);
    if (strcmp(evs, ref_ev))
      test_fail(__FILE__, __LINE__, "%s: events differ on %d threads:\n%.2000s\non one:\n%.2000s", tag, kThreads[k], evs,
                ref_ev);
    free(outs);
    free(evs);
    int files = same_checkpoint_files(ref_dir, dir, kThreads[k]);
    if (!stateful) {
      ASSERT_EQ(files, 0);
      continue;
    }
    if (files < 5) test_fail(__FILE__, __LINE__, "%s: %d checkpoint files", tag, files);
    /* Resumed from these files on the other thread count: the same end. */
    char fin[4096];
    resumed(graph, st, kThreads[k] == 2 ? 4 : 2, dir, fin, sizeof fin);
    ASSERT_STREQ(fin, ref.final);
  }
  free(ref_out);
  free(ref_ev);
  rsim_store_close(st);
}

TEST(threads_window_of_instants_demo_surround_composed_are_exact) {
  setenv("RSIM_COMPONENT_PATH", RSIM_BUILD_DIR "/components", 1);
  const char *drive = test_make_drive("drive.db", "2s", 7);
  same_with_window(with_trapper(test_source_path("examples/demo/graph.yaml"), "demo-trap.yaml"), drive, "demo", true);
  same_with_window(with_trapper(test_source_path("examples/composed/composed.yaml"), "composed-trap.yaml"), drive,
                   "composed", false);
  char *out = NULL, sdrive[1100];
  snprintf(sdrive, sizeof sdrive, "%s", test_tmpfile("surround.db"));
  ASSERT_EQ(test_replaysim(&out, "generate --out %s --duration 2s --seed 3 --rig surround --quiet", sdrive), 0);
  free(out);
  same_with_window(with_trapper(test_source_path("examples/surround/graph.yaml"), "surround-trap.yaml"), sdrive,
                   "surround", true);
}
