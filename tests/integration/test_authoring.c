/*
** test_authoring.c -- writing a component outside this tree: `replaysim
** new` for every world of the contract and for a user's own WIT world,
** built with the generated Makefile (which finds the toolchain through
** `replaysim config --toolchain`) and run in the demo graph, in folders of
** the test's own under /tmp; `replaysim config`, `install-sdk` and
** `test-component`.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

/* A shell command in dir with the build's bin/ first on PATH, as a user who
** installed replaysim has it.  Returns the exit status; *out the output. */
static int in_dir_with(const char *bin, const char *dir, const char *cmd, char **out) {
  char full[8192];
  snprintf(full, sizeof full, "export PATH='%s':\"$PATH\"; cd '%s' && { %s; } 2>&1", bin, dir, cmd);
  return test_run(full, out);
}

static int in_dir(const char *dir, const char *cmd, char **out) { return in_dir_with(RSIM_BUILD_DIR "/bin", dir, cmd, out); }

/* `replaysim new WORLD DIR` in the test's folder, then make there (the
** drive linked in, so make does not generate one); returns DIR (static). */
static const char *new_and_make(const char *world, const char *name, const char *drive) {
  static char dir[1024];
  char cmd[2048], *out = NULL;
  snprintf(dir, sizeof dir, "%s", test_tmpfile(name));
  snprintf(cmd, sizeof cmd, "replaysim new %s %s", world, name);
  int rc = in_dir(test_tmpdir(), cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "new %s: %d: %s", world, rc, out);
  free(out);
  snprintf(cmd, sizeof cmd, "ln -sf '%s' drive.db && make", drive);
  rc = in_dir(dir, cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "make in %s: %d: %s", dir, rc, out);
  free(out);
  return dir;
}

TEST(config_toolchain_names_existing_tools) {
  char *out = NULL, cmd[1024];
  snprintf(cmd, sizeof cmd, "%s config --toolchain --make", test_replaysim_path());
  ASSERT_EQ(test_run(cmd, &out), 0);
  const char *keys[] = {"RSIM_CC := ", "RSIM_WIT_BINDGEN := ", "RSIM_WASM_TOOLS := "};
  for (size_t i = 0; i < 3; i++) {
    const char *p = strstr(out, keys[i]);
    ASSERT(p != NULL);
    char path[1024];
    p += strlen(keys[i]);
    snprintf(path, sizeof path, "%.*s", (int)strcspn(p, "\n"), p);
    ASSERT(access(path, X_OK) == 0);
  }
  ASSERT_CONTAINS(out, "RSIM_WIT := ");
  free(out);
  /* An SDK that is not there is said, naming it. */
  snprintf(cmd, sizeof cmd, "RSIM_SDK=/nonexistent/sdk %s config --toolchain", test_replaysim_path());
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(out, "/nonexistent/sdk");
  free(out);
}

/* Every world of the contract: new, make, run in its example graph; the
** digest is not the example graph's, so the new component is the one run. */
TEST(new_every_contract_world_builds_and_runs) {
  const char *drive = test_make_drive("drive.db", "3s", 7);
  static const struct {
    const char *world, *example_graph;
  } worlds[] = {
      {"camera-detector", "examples/demo/graph.yaml"}, {"radar-tracker", "examples/demo/graph.yaml"},
      {"fusion", "examples/demo/graph.yaml"},          {"planner", "examples/demo/graph.yaml"},
      {"perception", "examples/composed/composed.yaml"},
  };
  for (size_t i = 0; i < sizeof worlds / sizeof worlds[0]; i++) {
    char name[64], *out = NULL, mine[65], example[65];
    snprintf(name, sizeof name, "my-%s", worlds[i].world);
    const char *dir = new_and_make(worlds[i].world, name, drive);
    ASSERT_EQ(in_dir(dir, "replaysim run graph.yaml --store drive.db", &out), 0);
    test_find_digest(out, "digest: ", mine);
    ASSERT_EQ(strlen(mine), 64);
    free(out);
    ASSERT_EQ(test_replay(test_source_path(worlds[i].example_graph), drive, "", &out, example), 0);
    free(out);
    ASSERT(strcmp(mine, example) != 0);
  }
}

TEST(new_refuses_unknown_world_and_existing_project) {
  char *out = NULL;
  ASSERT_EQ(in_dir(test_tmpdir(), "replaysim new lidar-thing x", &out), 2);
  ASSERT_CONTAINS(out, "'lidar-thing' is not a world of the contract");
  free(out);
  ASSERT_EQ(in_dir(test_tmpdir(), "replaysim new planner p", &out), 0);
  free(out);
  ASSERT_EQ(in_dir(test_tmpdir(), "replaysim new planner p", &out), 1);
  ASSERT_CONTAINS(out, "p.c exists");
  free(out);
}

/* A user's own world: one that exports a contract role runs in the demo
** graph in that role's place; one of unrelated exports builds. */
TEST(new_from_a_users_wit_world) {
  const char *drive = test_make_drive("drive.db", "2s", 3);
  test_write_text("mine.wit",
                  "package me:mine;\n"
                  "world my-planner {\n"
                  "  import rsim:sim/sensor-data@0.2.0;\n"
                  "  export rsim:sim/planning@0.2.0;\n"
                  "  export rsim:sim/state@0.2.0;\n"
                  "}\n");
  test_write_text("calc.wit",
                  "package me:calc;\n"
                  "interface ops { record pt { x: f32, name: string } scale: func(p: pt, k: f32) -> pt; }\n"
                  "world adder { export add: func(a: u32, b: u32) -> u32; export ops; }\n");
  char *out = NULL, cmd[2048], digest[65];
  ASSERT_EQ(in_dir(test_tmpdir(), "replaysim new --wit mine.wit --world my-planner up", &out), 0);
  free(out);
  snprintf(cmd, sizeof cmd, "ln -sf '%s' drive.db && make && replaysim run graph.yaml --store drive.db", drive);
  ASSERT_EQ(in_dir(test_tmpfile("up"), cmd, &out), 0);
  test_find_digest(out, "digest: ", digest);
  ASSERT_EQ(strlen(digest), 64);
  free(out);
  ASSERT_EQ(in_dir(test_tmpdir(), "replaysim new --wit calc.wit --world adder calc", &out), 0);
  free(out);
  ASSERT_EQ(in_dir(test_tmpfile("calc"), "make calc.wasm && replaysim inspect calc.wasm", &out), 0);
  ASSERT_CONTAINS(out, "add");
  ASSERT_CONTAINS(out, "scale");
  free(out);
  /* A world the file does not have: wit-bindgen's reason, not a backtrace. */
  ASSERT_EQ(in_dir(test_tmpdir(), "replaysim new --wit calc.wit --world nope other", &out), 1);
  ASSERT_CONTAINS(out, "World `nope` not found");
  free(out);
}

/* An installed SDK: a project built and run with PREFIX/bin/replaysim
** alone names nothing of this checkout or its build, and replays like the
** same project built in the build tree. */
TEST(install_sdk_builds_projects_without_the_checkout) {
  const char *drive = test_make_drive("drive.db", "2s", 5);
  char sdk[1024], bin[1100], *out = NULL, cmd[2048], d_sdk[65], d_tree[65];
  snprintf(sdk, sizeof sdk, "%s", test_tmpfile("sdk"));
  snprintf(bin, sizeof bin, "%s/bin", sdk);
  snprintf(cmd, sizeof cmd, "%s install-sdk %s", test_replaysim_path(), sdk);
  ASSERT_EQ(test_run(cmd, &out), 0);
  free(out);
  /* Both contracts, for projects that build against either. */
  snprintf(cmd, sizeof cmd, "grep -q '^package rsim:sim@0.2.0;' %.900s/wit/sim.wit && "
           "grep -q '^package rsim:sim@0.3.0;' %.900s/wit/0.3.0/sim.wit", sdk, sdk);
  ASSERT_EQ(test_run(cmd, NULL), 0);
  /* Only the SDK's bin/ and the system's on PATH (clang-19 is Debian's). */
  snprintf(cmd, sizeof cmd, "PATH='%s':/usr/bin:/bin; replaysim new planner inst && cd inst && ln -sf '%s' drive.db "
           "&& make && replaysim run graph.yaml --store drive.db && cat toolchain.mk", bin, drive);
  ASSERT_EQ(in_dir_with(bin, test_tmpdir(), cmd, &out), 0);
  test_find_digest(out, "digest: ", d_sdk);
  ASSERT_EQ(strlen(d_sdk), 64);
  ASSERT_CONTAINS(out, "(installed SDK)");
  ASSERT(strstr(out, RSIM_SOURCE_DIR) == NULL);
  ASSERT(strstr(out, RSIM_BUILD_DIR) == NULL);
  free(out);
  new_and_make("planner", "tree", drive);
  ASSERT_EQ(in_dir(test_tmpfile("tree"), "replaysim run graph.yaml --store drive.db", &out), 0);
  test_find_digest(out, "digest: ", d_tree);
  free(out);
  ASSERT_STREQ(d_sdk, d_tree);
}

/* test-component on the example detector: outputs as JSON with fuel, the
** same again under --expect, and a changed config named at its first
** differing call. */
TEST(test_component_prints_and_compares_outputs) {
  const char *drive = test_make_drive("drive.db", "2s", 11);
  char cmd[4096], *out = NULL, expect[1024];
  snprintf(expect, sizeof expect, "%s", test_tmpfile("expect.json"));
  snprintf(cmd, sizeof cmd, "(%s test-component %s --store %s --sensor camera_front --to 0.5s > %s)",
           test_replaysim_path(), test_component_path("camera_detector"), drive, expect);
  ASSERT_EQ(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(out, "16 calls of process-frame on camera_front");
  free(out);
  snprintf(cmd, sizeof cmd, "cat %s", expect);
  ASSERT_EQ(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(out, "\"class\":\"car\"");
  ASSERT_CONTAINS(out, "\"fuel\":");
  ASSERT_CONTAINS(out, "\"mean_fuel\":");
  free(out);
  snprintf(cmd, sizeof cmd, "%s test-component %s --store %s --sensor camera_front --to 0.5s --expect %s",
           test_replaysim_path(), test_component_path("camera_detector"), drive, expect);
  ASSERT_EQ(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(out, "as expected: 16 calls agree");
  free(out);
  /* min_area so large that nothing is detected: the first call differs. */
  snprintf(cmd, sizeof cmd,
           "%s test-component %s --store %s --sensor camera_front --to 0.5s --config min_area=1000000 --expect %s",
           test_replaysim_path(), test_component_path("camera_detector"), drive, expect);
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(out, "test-component: call 0 differs, at t=");
  ASSERT_CONTAINS(out, "(0.000 s into the log)");
  ASSERT_CONTAINS(out, "got []");
  free(out);
  /* Without --sensor: the store's sensors are listed. */
  snprintf(cmd, sizeof cmd, "%s test-component %s --store %s", test_replaysim_path(),
           test_component_path("camera_detector"), drive);
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(out, "--sensor ID is needed");
  ASSERT_CONTAINS(out, "camera_front (camera)");
  free(out);
}

/* A component from `new` that traps: the run's error shows the guest's
** backtrace with function names from its name section and offsets. */
TEST(trap_shows_the_guests_backtrace_by_name) {
  const char *drive = test_make_drive("drive.db", "1s", 2);
  char *out = NULL;
  ASSERT_EQ(in_dir(test_tmpdir(), "replaysim new camera-detector trapper", &out), 0);
  free(out);
  /* The deliberate bug: a trap in a helper the export calls. */
  ASSERT_EQ(in_dir(test_tmpfile("trapper"),
                   "sed -i 's|^static int find_red_boxes(\\(.*\\)) {$|__attribute__((noinline)) "
                   "static int find_red_boxes(\\1) {\\n  if (w > 0) __builtin_trap();|' trapper.c && "
                   "grep -c __builtin_trap trapper.c",
                   &out),
            0);
  ASSERT_CONTAINS(out, "1");
  free(out);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "ln -sf '%s' drive.db && make && replaysim run graph.yaml --store drive.db", drive);
  ASSERT_EQ(in_dir(test_tmpfile("trapper"), cmd, &out), 1);
  ASSERT_CONTAINS(out, "trap in process-frame: wasm trap: wasm `unreachable` instruction executed; backtrace: "
                       "#0 find_red_boxes+0x");
  ASSERT_CONTAINS(out, ", #1 exports_rsim_sim_camera_processing_process_frame+0x");
  free(out);
  /* test-component says the same, with the call and its time. */
  snprintf(cmd, sizeof cmd, "replaysim test-component trapper.wasm --store drive.db --sensor camera_front");
  ASSERT_EQ(in_dir(test_tmpfile("trapper"), cmd, &out), 1);
  ASSERT_CONTAINS(out, "test-component: call 0 at t=");
  ASSERT_CONTAINS(out, "#0 find_red_boxes+0x");
  free(out);
}
