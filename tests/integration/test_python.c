/*
** test_python.c -- a component in Python (issue 18): the Python planner
** (components/templates/planner.py, built by componentize-py with replaysim's
** deterministic WASI adapter plugged in) in the demo graph gives the same
** digest twice, after seeks and after a resume from checkpoint files; its
** WASI random is the graph's (another seed, another run); without
** `wasi: deterministic` it is refused, and so is the component as
** componentize-py made it; `replaysim new --lang python` builds and runs in
** a folder outside the repository, and a raise in Python stops the run
** naming the component, with the Python traceback in the log.
**
** The Python component is 18 MB and compiling it is most of each test's
** time, so each test loads it as few times as it can.
*/
#include <stdlib.h>
#include <string.h>

#include "rsim/engine.h"
#include "test.h"

/* examples/python/graph.yaml with `from` replaced by `to`, in the test's
** folder (its components are found in the build's components folder). */
static const char *python_graph(const char *name, const char *from, const char *to) {
  return test_edit_source(name, "examples/python/graph.yaml", &from, &to, 1);
}

TEST(python_planner_in_the_demo_graph_is_deterministic_twice_after_seeks_and_resume) {
  const char *drive = test_make_drive("drive.db", "3s", 5);
  const char *graph = test_source_path("examples/python/graph.yaml");
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(drive, &st, &eb));

  /* A straight run: the digest after every instant. */
  rsim_graph *g;
  rsim_engine *e = test_engine(graph, st, 500000000, 0, &g);
  size_t n = 0, cap = 1024;
  rsim_time *t = malloc(cap * sizeof *t);
  char(*hex)[65] = malloc(cap * sizeof *hex);
  char start[65];
  rsim_engine_digest(e, start);
  int rc;
  while ((rc = rsim_engine_step(e)) == RSIM_OK) {
    ASSERT(n < cap);
    t[n] = rsim_engine_time(e);
    rsim_engine_digest(e, hex[n++]);
  }
  ASSERT_EQ(rc, RSIM_EEOF);
  ASSERT(n > 100);
  rsim_engine_free(e);
  rsim_graph_free(g);

  /* The same run again, then seeks back and forth: every digest is the
  ** straight run's at that instant (the planner's state is restored from
  ** checkpoints; its random draws are recomputed from the sim time). */
  e = test_engine(graph, st, 500000000, 0, &g);
  while (rsim_engine_step(e) == RSIM_OK) {
  }
  char d[65];
  rsim_engine_digest(e, d);
  ASSERT_STREQ(d, hex[n - 1]);
  const size_t at[] = {n / 2, n / 5, n - 3, 7, n / 3 + 1};
  for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
    if (rsim_engine_seek(e, t[at[k]])) test_fail(__FILE__, __LINE__, "seek: %s", rsim_engine_errmsg(e));
    rsim_engine_digest(e, d);
    if (strcmp(d, hex[at[k]])) test_fail(__FILE__, __LINE__, "after seek %zu: %.16s, a straight run has %.16s", k, d, hex[at[k]]);
    for (size_t s = 1; s <= 3 && at[k] + s < n; s++) {
      ASSERT_OK(rsim_engine_step(e));
      rsim_engine_digest(e, d);
      ASSERT_STREQ(d, hex[at[k] + s]);
    }
  }
  rsim_engine_ckpt_stats cs;
  rsim_engine_ckpt_stats_get(e, &cs);
  ASSERT(cs.stateless == NULL); /* the Python planner saves its state */
  ASSERT(cs.restores > 0);
  rsim_engine_free(e);
  rsim_graph_free(g);
  rsim_store_close(st);

  /* Cut short at 1.7 s with checkpoint files, then resumed: the whole
  ** run's digest (the command prints the engine's digest). */
  char dir[1024], extra[2048], resumed[65], *out = NULL;
  snprintf(dir, sizeof dir, "%s", test_tmpfile("ckpts"));
  snprintf(extra, sizeof extra, "--speed max --to 1.7s --checkpoint-every 500ms --checkpoint-dir %s --log-level info",
           dir);
  ASSERT_EQ(test_replay(graph, drive, extra, &out, NULL), 0);
  /* print() reached the run log, with the sim time that time.time() read. */
  ASSERT_CONTAINS(out, "[    0.100s] info planner: braking at 1700000000.100: ");
  free(out);
  snprintf(extra, sizeof extra, "--speed max --checkpoint-every 500ms --resume %s --log-level info", dir);
  ASSERT_EQ(test_replay(graph, drive, extra, &out, resumed), 0);
  ASSERT_CONTAINS(out, "resumed from");
  ASSERT_STREQ(resumed, hex[n - 1]);
  free(out);
  free(t);
  free(hex);
}

/* The planner's dither draws WASI random bytes: another `wasi.seed` in the
** graph is another run, the same seed the same run. */
TEST(python_planner_random_is_seeded_by_the_graph) {
  const char *drive = test_make_drive("drive.db", "1s", 5);
  char a[65], b[65], *out = NULL;
  ASSERT_EQ(test_replay(test_source_path("examples/python/graph.yaml"), drive, "--speed max", &out, a), 0);
  free(out);
  const char *other = python_graph("seed43.yaml", "wasi.seed: \"42\"", "wasi.seed: \"43\"");
  ASSERT_EQ(test_replay(other, drive, "--speed max", &out, b), 0);
  free(out);
  ASSERT(a[0] && b[0]);
  ASSERT(strcmp(a, b) != 0);
  /* A seed that is not a number is refused when the graph loads (it was
  ** read as 0), and by test-component, naming it. */
  const char *bad = python_graph("seedbad.yaml", "wasi.seed: \"42\"", "wasi.seed: \"4x2\"");
  ASSERT_EQ(test_replaysim(&out, "check %s --store %s", bad, drive), 1);
  ASSERT_CONTAINS(test_last_line(out), "component 'planner': config wasi.seed: ");
  ASSERT_CONTAINS(test_last_line(out), "4x2");
  free(out);
  ASSERT_EQ(test_replaysim(&out, "test-component %s --store %s --sensor can --config wasi.seed=-1",
                           test_component_path("planner_py"), drive),
            1);
  ASSERT_CONTAINS(test_last_line(out), "test-component: --config wasi.seed: ");
  free(out);
}

TEST(python_component_needs_wasi_deterministic_and_the_adapter) {
  const char *drive = test_make_drive("drive.db", "1s", 3);
  char *out = NULL;
  /* Without the key: refused, naming the component, the import and the key. */
  const char *g = python_graph("nokey.yaml", "    wasi: deterministic", "    # (no wasi: key)");
  ASSERT_NE(test_replaysim(&out, "check %s --store %s", g, drive), 0);
  ASSERT_CONTAINS(test_last_line(out), "component 'planner'");
  ASSERT_CONTAINS(out, "imports rsim:wasi/deterministic@0.1.0#seed: it carries replaysim's deterministic WASI adapter");
  ASSERT_CONTAINS(out, "`wasi: deterministic`");
  free(out);
  /* As componentize-py made it (no adapter), even with the key: refused,
  ** naming a WASI import. */
  char unplugged[1200];
  snprintf(unplugged, sizeof unplugged, "wasm: %s", test_component_path("planner_py_unplugged"));
  g = python_graph("unplugged.yaml", "wasm: planner_py.wasm", unplugged);
  char d[65];
  ASSERT_NE(test_replay(g, drive, "--speed max", &out, d), 0);
  ASSERT_CONTAINS(test_last_line(out), "component 'planner'");
  ASSERT_CONTAINS(test_last_line(out), "imports wasi:");
  ASSERT_CONTAINS(test_last_line(out), "which the host does not provide");
  ASSERT_CONTAINS(test_last_line(out), "deterministic WASI adapter");
  ASSERT_STREQ(d, "");
  free(out);
}

/* The ten-minute path in Python, outside the repository: new, make (which
** runs componentize-py and wac from `replaysim config --toolchain`), run;
** then a raise in Python stops the run naming the component. */
TEST(new_lang_python_builds_runs_and_a_raise_names_the_component) {
  char cmd[4096], *out = NULL;
  const char *dir = test_tmpdir();
  snprintf(cmd, sizeof cmd,
           "cd %s && export PATH=\"$(dirname %s):$PATH\" && env -u RSIM_SDK replaysim new --lang python planner my_planner"
           " && cd my_planner && make DRIVE_LENGTH=2s 2>&1 && replaysim run graph.yaml --store drive.db --quiet",
           dir, test_replaysim_path());
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "new/make/run exited %d:\n%s", rc, out);
  ASSERT_CONTAINS(out, "my_planner.py (world planner)");
  char digest[65];
  test_find_digest(out, "digest: ", digest);
  ASSERT(digest[0]);
  free(out);
  snprintf(cmd, sizeof cmd,
           "cd %s/my_planner && export PATH=\"$(dirname %s):$PATH\" && "
           "sed -i 's/      planner.set_speed: \"27.8\"/&\\n      planner.fail_after: \"5\"/' graph.yaml && "
           "replaysim run graph.yaml --store drive.db",
           dir, test_replaysim_path());
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "run: component 'planner' failed at sim time");
  ASSERT_CONTAINS(test_last_line(out), "trap in plan");
  ASSERT_CONTAINS(out, "warn planner: RuntimeError: a deliberate bug after 5 calls");
  ASSERT_CONTAINS(out, "my_planner.py\", line ");
  free(out);
}
