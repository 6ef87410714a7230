/*
** test_seek.c -- checkpoints and exact seeking: after seek(t), forward or
** backward, and after stepping back, the run digest is the digest a run
** from the start has at t, and every later output is the same too.  With a
** component that has no state interface (the composed perception), seeks
** re-simulate from the start and are just as exact.
*/
#include "rsim/engine.h"
#include "test.h"

/* Checkpoints every 0.5 s, as many as the default allows, unless set. */
static int64_t g_every = 500000000;
static size_t g_cap;

static void expect_state(const test_straight *r, rsim_engine *e, rsim_time t) {
  char hex[65];
  rsim_engine_digest(e, hex);
  const char *want = test_straight_at(r, t);
  if (strcmp(hex, want))
    test_fail(__FILE__, __LINE__, "after seek(%lld): digest %.16s..., a straight run has %.16s...", (long long)t,
              hex, want);
}

static void seeks_are_exact(const char *graph, int n_seeks) {
  const char *drive = test_make_drive("drive.db", "3s", 5);
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(drive, &st, &eb));
  test_straight r = {0};
  rsim_graph *g;
  rsim_engine *e = test_engine(graph, st, g_every, g_cap, &g);
  test_straight_record(&r, e);
  ASSERT(r.n > 100);
  rsim_engine_free(e);
  rsim_graph_free(g);
  e = test_engine(graph, st, g_every, g_cap, &g);
  char first[65]; /* a new engine starts as the straight run did */
  rsim_engine_digest(e, first);
  ASSERT_STREQ(first, r.start);
  rsim_time from, to;
  rsim_engine_range(e, &from, &to);
  /* Play to the end, then jump around: backward, forward, to instants and
  ** between them, before the start and past the end. */
  while (rsim_engine_step(e) == RSIM_OK) {
  }
  uint64_t x = 12345;
  for (int k = 0; k < n_seeks; k++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    rsim_time t = from + (rsim_time)((x >> 11) % (uint64_t)(to - from + 1));
    if (k % 3 == 0) t = r.t[(x >> 7) % r.n]; /* exactly on an instant */
    if (k == 5) t = from - 1000;
    if (k == 6) t = to + 1000000000;
    int rc = rsim_engine_seek(e, t);
    if (rc) test_fail(__FILE__, __LINE__, "seek(%lld): %s", (long long)t, rsim_engine_errmsg(e));
    expect_state(&r, e, t < to ? t : to);
    /* And the run goes on exactly: the next few instants match too. */
    for (int s = 0; s < 3 && rsim_engine_step(e) == RSIM_OK; s++) expect_state(&r, e, rsim_engine_time(e));
  }
  /* Step back from the end, one instant at a time. */
  ASSERT_OK(rsim_engine_seek(e, to));
  for (size_t i = r.n - 1; i > r.n - 6; i--) {
    ASSERT_OK(rsim_engine_step_back(e));
    ASSERT_EQ(rsim_engine_time(e), r.t[i - 1]);
    expect_state(&r, e, r.t[i - 1]);
  }
  /* Back to the start and through the whole run again: same final digest. */
  ASSERT_OK(rsim_engine_seek(e, from - 1));
  ASSERT_EQ(rsim_engine_step_back(e), RSIM_EEOF);
  while (rsim_engine_step(e) == RSIM_OK) {
  }
  char end[65];
  rsim_engine_digest(e, end);
  ASSERT_STREQ(end, r.hex[r.n - 1]);
  rsim_engine_ckpt_stats cs;
  rsim_engine_ckpt_stats_get(e, &cs);
  ASSERT(cs.seeks >= (uint64_t)n_seeks);
  if (!cs.stateless) {
    ASSERT(cs.taken >= 6); /* every 0.5 s of a 3 s drive, or more often */
    ASSERT(cs.restores > 0);
  }
  if (g_cap) {
    /* 30 buckets of 0.1 s into a memory of 4: thinned to 0, 0.8, 1.6 and 2.4 s. */
    ASSERT_EQ(cs.held, 4);
    ASSERT_EQ(cs.interval_ns, 800000000);
  }
  rsim_engine_free(e);
  rsim_graph_free(g);
  rsim_store_close(st);
  test_straight_free(&r);
}

TEST(seek_and_step_back_are_digest_exact) { seeks_are_exact(test_source_path("examples/demo/graph.yaml"), 40); }

/* When checkpoint_max are held, every other one goes and the interval
** doubles, so they still cover the whole run; seeks stay exact. */
TEST(full_checkpoint_memory_thins_evenly_and_seeks_stay_exact) {
  g_every = 100000000;
  g_cap = 4;
  seeks_are_exact(test_source_path("examples/demo/graph.yaml"), 30);
}

TEST(seek_without_state_interface_resimulates_from_the_start) {
  seeks_are_exact(test_source_path("examples/composed/composed.yaml"), 10);
  /* It says so. */
  const char *drive = test_make_drive("drive2.db", "1s", 5);
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(drive, &st, &eb));
  rsim_graph *g;
  rsim_engine *e = test_engine(test_source_path("examples/composed/composed.yaml"), st, g_every, g_cap, &g);
  rsim_engine_ckpt_stats cs;
  rsim_engine_ckpt_stats_get(e, &cs);
  ASSERT(cs.stateless != NULL);
  ASSERT_STREQ(cs.stateless, "perception");
  rsim_engine_free(e);
  rsim_graph_free(g);
  rsim_store_close(st);
}

/* A run cut short, resumed from its checkpoint files, ends with the digest
** of an uninterrupted run; a damaged newest file is skipped (and named),
** and files of another graph are refused. */
TEST(resume_from_checkpoint_files_gives_the_same_run) {
  const char *drive = test_make_drive("drive.db", "3s", 5);
  const char *graph = test_source_path("examples/demo/graph.yaml");
  char dir[1024], extra[2048], whole[65], resumed[65], *out = NULL;
  snprintf(dir, sizeof dir, "%s", test_tmpfile("ckpts"));
  ASSERT_EQ(test_replay(graph, drive, "--speed max", &out, whole), 0);
  free(out);
  snprintf(extra, sizeof extra, "--speed max --to 1.7s --checkpoint-every 500ms --checkpoint-dir %s", dir);
  ASSERT_EQ(test_replay(graph, drive, extra, &out, NULL), 0);
  free(out);
  /* Damage the newest checkpoint (bucket 3: the first instant after 1.5 s). */
  char newest[1200];
  snprintf(newest, sizeof newest, "%s/ckpt-000000000003.rsck", dir);
  FILE *f = fopen(newest, "r+b");
  ASSERT(f != NULL);
  fseek(f, 40, SEEK_SET);
  int c = fgetc(f);
  fseek(f, 40, SEEK_SET);
  fputc(c ^ 0x5a, f);
  fclose(f);
  snprintf(extra, sizeof extra, "--speed max --checkpoint-every 500ms --resume %s --log-level info", dir);
  ASSERT_EQ(test_replay(graph, drive, extra, &out, resumed), 0);
  ASSERT_CONTAINS(out, "ckpt-000000000003.rsck: skipped: checksum mismatch");
  ASSERT_CONTAINS(out, "resumed from");
  ASSERT_CONTAINS(out, "ckpt-000000000002.rsck");
  ASSERT_STREQ(resumed, whole);
  free(out);
  /* Another graph's run cannot use them. */
  snprintf(extra, sizeof extra, "--speed max --checkpoint-every 500ms --resume %s", dir);
  ASSERT_EQ(test_replay(test_source_path("examples/composed/composed.yaml"), drive, extra, &out, NULL), 1);
  ASSERT_CONTAINS(out, "no usable checkpoint");
  ASSERT_CONTAINS(out, "made by another graph");
  free(out);
}
