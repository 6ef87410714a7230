/*
** test_player.c -- the tape deck, on a fake clock so that pacing is checked
** exactly and without waiting: instants run when the clock says they are
** due, none is skipped when the components fall behind (the lag is
** reported instead), every control emits its event, seeks outside the log
** are clamped and said so, long seeks go on in slices with the controls
** live, and no control changes what the run computes.
*/
#include "rsim/player.h"
#include "test.h"

static int64_t g_clock, g_tick; /* g_tick: how far each reading moves it */
static int64_t fake_clock(void *ud) {
  (void)ud;
  return g_clock += g_tick;
}

typedef struct log {
  int count[RSIM_PLAYER_EV_SEEKING + 1];
  char last_msg[RSIM_PLAYER_EV_SEEKING + 1][300];
} evlog;

static void listen(void *ud, const rsim_player_event *ev) {
  evlog *l = ud;
  l->count[ev->kind]++;
  snprintf(l->last_msg[ev->kind], sizeof l->last_msg[ev->kind], "%s", ev->message ? ev->message : "");
}

typedef struct fixture {
  rsim_store *st;
  rsim_graph *g;
  rsim_engine *e;
  rsim_player *p;
  evlog log;
} fixture;

static int g_threads; /* the engine's: 0 = one a core */

static void setup(fixture *f, rsim_player_opts o) {
  static char drive[1024]; /* one drive per test (each test is its own process) */
  if (!drive[0]) snprintf(drive, sizeof drive, "%s", test_make_drive("drive.db", "2s", 3));
  rsim_errbuf eb = {0};
  memset(f, 0, sizeof *f);
  ASSERT_OK(rsim_store_open(drive, &f->st, &eb));
  if (rsim_graph_load(test_source_path("examples/demo/graph.yaml"), &f->g, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_engine_opts eo = {.store = f->st, .log_level = RSIM_LOG_ERROR, .threads = g_threads};
  if (rsim_engine_new(f->g, &eo, &f->e, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  g_clock = 1000000000;
  o.clock = fake_clock;
  o.listener = listen;
  o.listener_ud = &f->log;
  if (rsim_player_new(f->e, &o, &f->p, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
}

static void teardown(fixture *f) {
  rsim_player_free(f->p);
  rsim_engine_free(f->e);
  rsim_graph_free(f->g);
  rsim_store_close(f->st);
}

/* The digest and instant count of a plain run of the same drive. */
static void plain_run(char hex[65], uint64_t *instants) {
  fixture f;
  setup(&f, (rsim_player_opts){.speed = 0, .start_paused = true});
  *instants = 0;
  while (rsim_engine_step(f.e) == RSIM_OK) (*instants)++;
  rsim_engine_digest(f.e, hex);
  teardown(&f);
}

TEST(player_paces_by_the_clock_and_never_skips_an_instant) {
  char want[65], got[65];
  uint64_t n_plain;
  plain_run(want, &n_plain);
  fixture f;
  setup(&f, (rsim_player_opts){.speed = 1});
  rsim_time from, to, next;
  rsim_engine_range(f.e, &from, &to);
  int64_t wait;
  /* At the start only the instants stamped `from` are due. */
  ASSERT_OK(rsim_player_poll(f.p, &wait));
  ASSERT_OK(rsim_engine_next_time(f.e, &next));
  ASSERT_EQ(wait, next - from); /* 1x: one sim ns per clock ns */
  rsim_player_state s;
  rsim_player_state_get(f.p, &s);
  ASSERT_EQ(s.sim_time, from);
  /* A millisecond at a time for half a second: exactly the instants up to
  ** from + 0.5 s have run, each on time. */
  for (int ms = 0; ms < 500; ms++) {
    g_clock += 1000000;
    do ASSERT_OK(rsim_player_poll(f.p, &wait));
    while (wait == 0);
  }
  rsim_player_state_get(f.p, &s);
  ASSERT(s.sim_time <= from + 500000000);
  ASSERT_OK(rsim_engine_next_time(f.e, &next));
  ASSERT(next > from + 500000000);
  ASSERT_EQ(wait, next - (from + 500000000));
  ASSERT_EQ(f.log.count[RSIM_PLAYER_EV_LAG], 0);
  /* The clock jumps 10 s: every remaining instant still runs, late, and
  ** the lag is reported. */
  g_clock += 10000000000LL;
  do ASSERT_OK(rsim_player_poll(f.p, &wait));
  while (wait >= 0);
  rsim_player_state_get(f.p, &s);
  ASSERT_EQ(s.mode, RSIM_PLAYER_ENDED);
  ASSERT_EQ(s.instants, n_plain);
  ASSERT(f.log.count[RSIM_PLAYER_EV_LAG] >= 1);
  ASSERT_CONTAINS(f.log.last_msg[RSIM_PLAYER_EV_LAG], "behind by");
  ASSERT(s.max_lag_ns >= 8000000000LL);
  ASSERT_EQ(f.log.count[RSIM_PLAYER_EV_END], 1);
  rsim_engine_digest(f.e, got);
  ASSERT_STREQ(got, want);
  teardown(&f);
}

TEST(player_controls_emit_events_and_clamp_seeks) {
  fixture f;
  setup(&f, (rsim_player_opts){.speed = 1, .start_paused = true});
  rsim_time from, to;
  rsim_engine_range(f.e, &from, &to);
  int64_t wait;
  ASSERT_OK(rsim_player_poll(f.p, &wait));
  ASSERT_EQ(wait, -1); /* paused: nothing due */
  ASSERT_OK(rsim_player_step(f.p));
  ASSERT_EQ(f.log.count[RSIM_PLAYER_EV_STEP], 1);
  ASSERT_EQ(rsim_engine_time(f.e), from);
  ASSERT_EQ(rsim_player_set_speed(f.p, 1000), RSIM_EINVAL);
  ASSERT_CONTAINS(f.log.last_msg[RSIM_PLAYER_EV_ERROR], "outside 0.01 to 100");
  ASSERT_OK(rsim_player_set_speed(f.p, 2));
  ASSERT_EQ(f.log.count[RSIM_PLAYER_EV_SPEED], 1);
  ASSERT_OK(rsim_player_seek(f.p, to + 5000000000LL));
  ASSERT_CONTAINS(f.log.last_msg[RSIM_PLAYER_EV_SEEK], "clamped to the end");
  ASSERT_EQ(rsim_engine_time(f.e), to);
  ASSERT_OK(rsim_player_seek(f.p, from + 1000000000));
  ASSERT_STREQ(f.log.last_msg[RSIM_PLAYER_EV_SEEK], "");
  ASSERT_OK(rsim_player_step_back(f.p));
  ASSERT(rsim_engine_time(f.e) < from + 1000000000);
  rsim_player_play(f.p);
  ASSERT_EQ(f.log.count[RSIM_PLAYER_EV_PLAY], 1);
  /* At 2x, 0.25 s of clock is 0.5 s of sim. */
  rsim_time t0 = rsim_engine_time(f.e);
  g_clock += 250000000;
  do ASSERT_OK(rsim_player_poll(f.p, &wait));
  while (wait == 0);
  ASSERT(rsim_engine_time(f.e) <= t0 + 500000000 && rsim_engine_time(f.e) > t0 + 400000000);
  rsim_player_pause(f.p);
  ASSERT_EQ(f.log.count[RSIM_PLAYER_EV_PAUSE], 1);
  rsim_time held = rsim_engine_time(f.e);
  g_clock += 5000000000LL;
  ASSERT_OK(rsim_player_poll(f.p, &wait));
  ASSERT_EQ(rsim_engine_time(f.e), held); /* paused means paused */
  ASSERT_EQ(wait, -1);
  teardown(&f);
}

TEST(player_loops_waits_and_starts_at_an_offset) {
  fixture f;
  setup(&f, (rsim_player_opts){.speed = 0, .loop = true, .delay_ns = 1000000000, .start_offset_ns = 1500000000});
  rsim_time from, to;
  rsim_engine_range(f.e, &from, &to);
  ASSERT(rsim_engine_time(f.e) <= from + 1500000000 && rsim_engine_time(f.e) > from + 1400000000);
  int64_t wait;
  ASSERT_OK(rsim_player_poll(f.p, &wait));
  ASSERT_EQ(wait, 1000000000); /* the delay */
  g_clock += 1000000000;
  /* Max speed: poll works until the end, then loops to the start. */
  for (int i = 0; i < 100000 && !f.log.count[RSIM_PLAYER_EV_LOOP]; i++) {
    ASSERT_OK(rsim_player_poll(f.p, &wait));
    g_clock += 30000000; /* past the poll budget, so each poll returns */
  }
  ASSERT_EQ(f.log.count[RSIM_PLAYER_EV_LOOP], 1);
  ASSERT_EQ(f.log.count[RSIM_PLAYER_EV_END], 0);
  ASSERT_EQ(f.log.count[RSIM_PLAYER_EV_PLAY], 1);
  teardown(&f);
}

TEST(player_speed_pauses_and_seeks_do_not_change_outputs) {
  char want[65], got[65];
  uint64_t n_plain;
  plain_run(want, &n_plain);
  fixture f;
  setup(&f, (rsim_player_opts){.speed = 3});
  rsim_time from, to;
  rsim_engine_range(f.e, &from, &to);
  int64_t wait;
  for (int k = 0; k < 200; k++) {
    if (k == 20) rsim_player_pause(f.p);
    if (k == 30) rsim_player_play(f.p);
    if (k == 40) ASSERT_OK(rsim_player_seek(f.p, from + 300000000));
    if (k == 60) ASSERT_OK(rsim_player_set_speed(f.p, 0.5));
    if (k == 80) ASSERT_OK(rsim_player_set_speed(f.p, 0));
    ASSERT_OK(rsim_player_poll(f.p, &wait));
    g_clock += 40000000;
  }
  while (rsim_player_poll(f.p, &wait) == RSIM_OK && wait >= 0) g_clock += 40000000;
  rsim_engine_digest(f.e, got);
  ASSERT_STREQ(got, want);
  teardown(&f);
}

/* While the player waits for the next instant, the engine works ahead on
** it (rsim_engine_work_ahead): on one thread the instant's first run
** executes then, with threads its ready runs go to the workers.  The clock
** jumps to each due time exactly, at 0.01x, so every wait is long enough
** for any call and the work ahead happens at every wait, whatever the
** machine's speed.  Pauses, steps by run, seeks and a step back land on
** work done ahead and must not change an output. */
TEST(player_works_ahead_while_waiting_without_changing_outputs) {
  char want[65], got[65];
  uint64_t n_plain;
  plain_run(want, &n_plain);
  for (int threads = 1; threads <= 2; threads++) {
    g_threads = threads;
    fixture f;
    setup(&f, (rsim_player_opts){.speed = 0.01});
    rsim_time from, to;
    rsim_engine_range(f.e, &from, &to);
    int64_t wait;
    size_t c;
    for (int k = 0;; k++) {
      if (k == 50) {
        rsim_player_pause(f.p);
        ASSERT_OK(rsim_player_step_run(f.p, &c));
        ASSERT_OK(rsim_player_step_run(f.p, &c));
        ASSERT_OK(rsim_player_step(f.p));
        rsim_player_play(f.p);
      }
      if (k == 100) ASSERT_OK(rsim_player_seek(f.p, from + 300000000));
      if (k == 150) {
        rsim_player_pause(f.p);
        ASSERT_OK(rsim_player_step_back(f.p));
        rsim_player_play(f.p);
      }
      if (rsim_player_poll(f.p, &wait) != RSIM_OK || wait < 0) break;
      g_clock += wait;
    }
    rsim_player_state s;
    rsim_player_state_get(f.p, &s);
    ASSERT_EQ(s.mode, RSIM_PLAYER_ENDED);
    ASSERT_EQ(f.log.count[RSIM_PLAYER_EV_LAG], 0);
    rsim_engine_digest(f.e, got);
    ASSERT_STREQ(got, want);
    /* 389 instants, some 140 with runs (the others only bring CAN
    ** readings); one thread runs ahead the first run of each, except
    ** where its component has no mean call yet. */
    uint64_t ahead = rsim_engine_runs_ahead(f.e);
    if (ahead < 100) test_fail(__FILE__, __LINE__, "%d thread(s): only %llu runs ahead", threads, (unsigned long long)ahead);
    teardown(&f);
  }
  g_threads = 0;
}

/* Every component's kept inputs (rsim_engine_keep_inputs), one a line. */
static char *all_inputs(rsim_engine *e) {
  rsim_buf b = {0};
  for (size_t i = 0; i < rsim_engine_n_components(e); i++) {
    if (!rsim_engine_inputs_json(e, i, &b)) rsim_buf_puts(&b, "none");
    rsim_buf_putc(&b, '\n');
  }
  rsim_buf_putc(&b, 0);
  return (char *)b.data;
}

/* The server's inspector keeps inputs; the window and the work done ahead
** stay on, and what is shown after each instant is what one thread shows
** stepping instant by instant: never a later instant's inputs. */
TEST(player_shows_inputs_of_committed_calls_while_working_ahead) {
  g_threads = 1;
  fixture f;
  setup(&f, (rsim_player_opts){.speed = 0, .start_paused = true});
  rsim_engine_keep_inputs(f.e, true);
  size_t n = 0;
  rsim_time ts[1024];
  char *ref[1024];
  while (n < 1024 && rsim_engine_step(f.e) == RSIM_OK) {
    ts[n] = rsim_engine_time(f.e);
    ref[n++] = all_inputs(f.e);
  }
  teardown(&f);
  ASSERT(n > 300 && n < 1024);
  for (int threads = 1; threads <= 2; threads++) {
    g_threads = threads;
    setup(&f, (rsim_player_opts){.speed = 0.01});
    rsim_engine_keep_inputs(f.e, true);
    size_t k = 0, checked = 0;
    int64_t wait;
    while (rsim_player_poll(f.p, &wait) == RSIM_OK && wait >= 0) {
      rsim_time now = rsim_engine_time(f.e);
      while (k < n && ts[k] < now) k++;
      if (k < n && ts[k] == now) {
        char *got = all_inputs(f.e);
        if (strcmp(got, ref[k]))
          test_fail(__FILE__, __LINE__, "%d thread(s), at %lld ns:\n%.1500s\none thread, instant by instant:\n%.1500s",
                    threads, (long long)now, got, ref[k]);
        free(got);
        checked++;
      }
      g_clock += wait;
    }
    if (checked < n / 2) test_fail(__FILE__, __LINE__, "only %zu of %zu instants checked", checked, n);
    uint64_t ahead = rsim_engine_runs_ahead(f.e);
    if (ahead < 100) test_fail(__FILE__, __LINE__, "%d thread(s): only %llu runs ahead", threads, (unsigned long long)ahead);
    teardown(&f);
  }
  for (size_t i = 0; i < n; i++) free(ref[i]);
  g_threads = 0;
}

TEST(player_steps_one_component_run_at_a_time) {
  char want[65], got[65];
  uint64_t n_plain;
  plain_run(want, &n_plain);
  fixture f;
  setup(&f, (rsim_player_opts){.speed = 1, .start_paused = true});
  /* The first instant of the demo drive: the camera frame at the start
  ** triggers the detector, which runs before anything downstream. */
  size_t c;
  ASSERT_OK(rsim_player_step_run(f.p, &c));
  ASSERT_STREQ(rsim_graph_component_name(f.g, c), "detector");
  ASSERT(rsim_engine_output(f.e, c, NULL, NULL) != NULL);
  ASSERT_CONTAINS(f.log.last_msg[RSIM_PLAYER_EV_STEP], "one component run");
  /* Run by run to the end: the same outputs as instant by instant. */
  uint64_t runs = 1;
  while (rsim_player_step_run(f.p, &c) == RSIM_OK) runs++;
  rsim_engine_digest(f.e, got);
  ASSERT_STREQ(got, want);
  uint64_t calls = 0;
  for (size_t i = 0; i < rsim_engine_n_components(f.e); i++) {
    rsim_component_stats cs;
    rsim_engine_stats(f.e, i, &cs);
    calls += cs.calls + cs.not_ready;
  }
  ASSERT_EQ(runs, calls);
  teardown(&f);
}

/* A seek to the end from the start needs many polls' work when the clock
** moves: it comes back at once, seeking; pause still works; polls finish
** it, and it arrives at exactly the state of a plain run. */
TEST(player_long_seek_goes_on_in_slices_with_controls_live) {
  char want[65], got[65];
  uint64_t n_plain;
  plain_run(want, &n_plain);
  fixture f;
  setup(&f, (rsim_player_opts){.speed = 1});
  rsim_time from, to;
  rsim_engine_range(f.e, &from, &to);
  g_tick = 5000000; /* each look at the clock: 5 ms later */
  ASSERT_OK(rsim_player_seek(f.p, to));
  rsim_player_state ps;
  rsim_player_state_get(f.p, &ps);
  ASSERT(ps.seeking);
  ASSERT_EQ(ps.seek_target, to);
  ASSERT(ps.sim_time < to);
  ASSERT_EQ(f.log.count[RSIM_PLAYER_EV_SEEKING], 1);
  ASSERT_EQ(f.log.count[RSIM_PLAYER_EV_SEEK], 0);
  rsim_player_pause(f.p);
  ASSERT_EQ(f.log.count[RSIM_PLAYER_EV_PAUSE], 1);
  int64_t wait;
  int polls = 0;
  do {
    ASSERT_OK(rsim_player_poll(f.p, &wait));
    polls++;
  } while (wait == 0 && polls < 100000);
  rsim_player_state_get(f.p, &ps);
  ASSERT(!ps.seeking);
  ASSERT(polls > 1);
  ASSERT_EQ(ps.mode, RSIM_PLAYER_PAUSED);
  ASSERT_EQ(f.log.count[RSIM_PLAYER_EV_SEEK], 1);
  ASSERT_EQ(rsim_engine_time(f.e), to);
  ASSERT_EQ(ps.instants, 0); /* the seek's instants are not the player's */
  rsim_engine_digest(f.e, got);
  ASSERT_STREQ(got, want);
  g_tick = 0;
  teardown(&f);
}
