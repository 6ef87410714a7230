/*
** test_faults.c -- components that misbehave (components/testing/
** misbehave.c: loop forever, allocate without end, return a string that is
** not UTF-8; trap_nth.c: trap on the n-th call) are stopped by their
** limits or caught, reported with the component, the limit and the sim
** time, handled by their on_fault policy, and the rest of the graph goes on.
*/
#include "test.h"

/* A graph of the bad detector (fault, limits, policy as given) beside a
** radar tracker that must not notice. */
static const char *fault_graph(const char *name, const char *fault, const char *limits, const char *extra) {
  char text[2048];
  snprintf(text, sizeof text,
           "components:\n"
           "  bad:\n    wasm: %s\n    trigger: camera_front\n"
           "    inputs: { reading: sensor:camera_front }\n"
           "    config: { fault: %s, at: \"3\" }\n"
           "    limits: %s\n%s"
           "  tracker:\n    wasm: %s\n    trigger: radar_front\n"
           "    inputs: { reading: sensor:radar_front }\n",
           test_component_path("misbehave"), fault, limits, extra, test_component_path("radar_tracker"));
  return test_write_text(name, text);
}

/* Runs graph over a 1 s drive recording to run.db; returns the exit code.
** Checkpoints every 1 s, so that the only one is at the first instant: a
** restart puts back the state after the first call, which the counts below
** are worked out from. */
static int run(const char *graph, char **out) {
  static char drive[1024]; /* one drive per test (each test is its own process) */
  if (!drive[0]) snprintf(drive, sizeof drive, "%s", test_make_drive("drive.db", "1s", 1));
  char extra[1200];
  snprintf(extra, sizeof extra, "--speed max --checkpoint-every 1s --out %s --overwrite", test_tmpfile("run.db"));
  return test_replay(graph, drive, extra, out, NULL);
}

/* The tracker saw every radar scan and had no fault. */
static void tracker_undisturbed(void) {
  const char *db = test_tmpfile("run.db");
  ASSERT_EQ(test_query_int(db, "SELECT errors FROM stats WHERE component='tracker'"), 0);
  ASSERT_EQ(test_query_int(db, "SELECT outputs FROM stats WHERE component='tracker'"), 20);
}

static int64_t stat(const char *column) {
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT %s FROM stats WHERE component='bad'", column);
  return test_query_int(test_tmpfile("run.db"), sql);
}

TEST(fault_endless_loop_stopped_by_fuel_deterministically) {
  char *out = NULL;
  const char *g = fault_graph("fuel.yaml", "loop", "{ fuel: 20M }", "    on_fault: skip\n");
  ASSERT_EQ(run(g, &out), 0);
  ASSERT_CONTAINS(out, "component 'bad' failed at sim time 0.066s");
  ASSERT_CONTAINS(out, "fuel limit of 20000000 per call used up");
  /* Calls 1-2 answer, 3 loops.  A restart puts back its state of the latest
  ** checkpoint (the first instant, after its first call), so from then on
  ** every second frame faults: frames 3, 5, ..., 31. */
  ASSERT_EQ(stat("calls"), 31);
  ASSERT_EQ(stat("limit_hits"), 15);
  ASSERT_EQ(stat("restarts"), 15);
  ASSERT_EQ(stat("skipped"), 15);
  ASSERT_EQ(stat("outputs"), 16);
  ASSERT_CONTAINS(out, "restarted from its state at the latest checkpoint");
  ASSERT_EQ(test_query_int(test_tmpfile("run.db"), "SELECT count(*) FROM events WHERE component='bad' AND level='error'"), 15);
  tracker_undisturbed();
  /* Fuel is counted in instructions, not time: two runs give one digest. */
  char d1[65], d2[65];
  test_find_digest(out, "digest: ", d1);
  free(out);
  ASSERT_EQ(run(g, &out), 0);
  test_find_digest(out, "digest: ", d2);
  ASSERT_STREQ(d1, d2);
  free(out);
}

/* The deadline is wall-clock time: it must be long enough that the calls
** that do not loop (a few microseconds of work) never pass it while a busy
** machine keeps the process off a core; 30 ms was not, once, at a load of 20. */
TEST(fault_endless_loop_stopped_by_deadline) {
  char *out = NULL;
  ASSERT_EQ(run(fault_graph("deadline.yaml", "loop", "{ deadline: 250ms }", "    on_fault: skip\n"), &out), 0);
  ASSERT_CONTAINS(out, "deadline of 250.000 ms per call passed");
  ASSERT_EQ(stat("limit_hits"), 15);
  tracker_undisturbed();
  free(out);
}

TEST(fault_endless_allocation_capped_by_memory_limit) {
  char *out = NULL;
  ASSERT_EQ(run(fault_graph("memory.yaml", "alloc", "{ memory: 8MiB }", "    on_fault: skip\n"), &out), 0);
  ASSERT_CONTAINS(out, "component 'bad' failed at sim time 0.066s");
  ASSERT_CONTAINS(out, "its memory is capped");
  ASSERT_EQ(stat("errors"), 15);
  ASSERT_EQ(stat("restarts"), 15);
  tracker_undisturbed();
  free(out);
}

TEST(fault_malformed_result_is_refused_not_passed_on) {
  char *out = NULL;
  ASSERT_EQ(run(fault_graph("badvalue.yaml", "badvalue", "{ }", "    on_fault: skip\n"), &out), 0);
  ASSERT_CONTAINS(out, "invalid utf-8");
  ASSERT_EQ(stat("errors"), 15);
  ASSERT_EQ(stat("outputs"), 16);
  tracker_undisturbed();
  free(out);
}

TEST(fault_policy_halt_stops_the_run_with_the_reason) {
  char *out = NULL;
  ASSERT_EQ(run(fault_graph("halt.yaml", "loop", "{ fuel: 10M }", "    on_fault: halt\n"), &out), 1);
  ASSERT_CONTAINS(out, "run: component 'bad' failed at sim time 0.066s");
  ASSERT_CONTAINS(out, "fuel limit of 10000000");
  ASSERT_EQ(test_query_int(test_tmpfile("run.db"), "SELECT count(*) FROM events WHERE component='bad' AND level='error'"), 1);
  free(out);
}

TEST(fault_policy_retry_calls_again_after_a_restart) {
  /* trap_nth traps on its 3rd call since (re)start: a retry is its 1st. */
  char text[2048], *out = NULL;
  snprintf(text, sizeof text,
           "components:\n"
           "  bad:\n    wasm: %s\n    trigger: camera_front\n"
           "    inputs: { reading: sensor:camera_front }\n    config: { trap_at: \"3\" }\n"
           "    on_fault: retry\n"
           "  tracker:\n    wasm: %s\n    trigger: radar_front\n"
           "    inputs: { reading: sensor:radar_front }\n",
           test_component_path("trap_nth"), test_component_path("radar_tracker"));
  ASSERT_EQ(run(test_write_text("retry.yaml", text), &out), 0);
  /* Restored to its checkpoint state (one call made), the retry is its 2nd
  ** call and answers; the next frame is its 3rd again: frames 3..31 each
  ** fault once and are retried. */
  ASSERT_EQ(stat("retries"), 29);
  ASSERT_EQ(stat("retries"), stat("errors"));
  ASSERT_EQ(stat("skipped"), 0);
  ASSERT_EQ(stat("outputs"), 31);
  ASSERT_CONTAINS(out, "calling it again with the same inputs");
  tracker_undisturbed();
  free(out);
}

TEST(fault_timing_budget_violations_counted_or_halting) {
  char *out = NULL;
  ASSERT_EQ(run(fault_graph("budget.yaml", "none", "{ }", "    budget: 1us\n"), &out), 0);
  ASSERT_EQ(stat("timing_violations"), 31);
  ASSERT_CONTAINS(out, "over its budget of 0.001 ms");
  ASSERT_CONTAINS(out, "bad: 31 calls over their time budget");
  free(out);
  ASSERT_EQ(run(fault_graph("budget-halt.yaml", "none", "{ }", "    budget: 1us\n    on_timing: halt\n"), &out), 1);
  ASSERT_CONTAINS(out, "component 'bad' at sim time 0.000s");
  ASSERT_CONTAINS(out, "(on_timing: halt)");
  free(out);
}

TEST(fault_limits_that_cannot_hold_are_named_at_load) {
  char *out = NULL;
  ASSERT_EQ(run(fault_graph("table.yaml", "none", "{ table: 1 }", ""), &out), 1);
  ASSERT_CONTAINS(out, "component bad");
  ASSERT_CONTAINS(out, "exceeds table limits");
  free(out);
  ASSERT_EQ(run(fault_graph("typo.yaml", "none", "{ fuel: lots }", ""), &out), 1);
  ASSERT_CONTAINS(out, "typo.yaml:");
  ASSERT_CONTAINS(out, "limit 'lots' is not a positive amount");
  free(out);
  ASSERT_EQ(run(fault_graph("unknown.yaml", "none", "{ cpu: 3 }", ""), &out), 1);
  ASSERT_CONTAINS(out, "unknown limit 'cpu'");
  free(out);
}
