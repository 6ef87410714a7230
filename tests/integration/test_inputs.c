/*
** test_inputs.c -- every input checked, through the real replaysim command:
** malformed numbers, durations, times, speeds and ports are refused by
** each verb with the option named in the last line (atoi/atof made
** `--speed abc` max speed and `--port x` any port), components are loaded
** only when their sha256 matches the graph's pin (and only pinned ones with
** --require-hashes), and a component importing WASI is refused at load.
*/
#include "rsim/mcap.h"
#include "rsim/store.h"
#include "rsim/util.h"
#include "test.h"

/* Runs `replaysim ARGS` (under a timeout: before the fix, some of these
** started a server or a replay) and checks that it failed with want as its
** last line. */
static void refused(const char *args, const char *want) {
  char cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd, "timeout 60 %s %s", test_replaysim_path(), args);
  int rc = test_run(cmd, &out);
  if (rc == 0 || rc == 124) test_fail(__FILE__, __LINE__, "%s: exit %d, not refused: %s", args, rc, out);
  if (strcmp(test_last_line(out), want))
    test_fail(__FILE__, __LINE__, "%s: last line\n  \"%s\"\nwanted\n  \"%s\"", args, test_last_line(out), want);
  free(out);
}

TEST(cli_bad_numbers_are_refused_naming_the_option_in_every_verb) {
  char g[1024], d[1024], a[4096];
  snprintf(g, sizeof g, "%s", test_source_path("examples/demo/graph.yaml"));
  snprintf(d, sizeof d, "%s", test_make_drive("drive.db", "1s", 5));
  const char *speed = "is not a number (expected 0.01..100 or max)";
  const char *when = "is not a time (expected ns since the epoch, or a duration into the log such as 12.5s or +2m)";
  const struct {
    const char *verb, *opt, *value, *msg;
  } cases[] = {
      {"serve", "--speed", "abc", speed},
      {"serve", "--speed", "nan", speed},
      {"serve", "--port", "x", "is not a port (expected 0..65535; 0 picks a free one)"},
      {"serve", "--port", "70000", "is not a port (expected 0..65535; 0 picks a free one)"},
      {"serve", "--from", "5x", when},
      {"serve", "--control-limit", "many", "is not N/DURATION (e.g. 20/1s: 20 control requests a second)"},
      {"run", "--speed", "abc", speed},
      {"run", "--speed", "2x", speed},
      {"run", "--speed", "0", "is out of range (expected 0.01..100 or max)"},
      {"run", "--delay", "-1s", "is not a duration (expected e.g. 2s, 500ms, 1.5m, 1h; at most 290 years)"},
      {"run", "--offset", "1e400s", "is not a duration (expected e.g. 2s, 500ms, 1.5m, 1h; at most 290 years)"},
      {"run", "--checkpoint-every", "0s", "is not a positive duration (expected e.g. 2s, 500ms)"},
      {"run", "--from", "soon", when},
      {"run", "--to", "+-1s", when},
      {"render", "--scale", "abc", "is not a number (expected 0.1..1000)"},
      {"render", "--every", "0", "is not a positive duration (expected e.g. 2s, 500ms)"},
      {"render", "--at", "soon", when},
      {"generate", "--seed", "-1", "is not a number (expected an integer 0..18446744073709551615, or 0x and hex digits)"},
      {"generate", "--seed", "12abc", "is not a number (expected an integer 0..18446744073709551615, or 0x and hex digits)"},
      {"generate", "--duration", "0", "is not a positive duration (expected e.g. 2s, 500ms)"},
      {"generate", "--start", "yesterday", when},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char args[3000], want[512];
    const char *v = cases[i].verb, *opt = cases[i].opt, *val = cases[i].value;
    /* Valid options first, so that only the bad one can stop the command. */
    if (!strcmp(v, "generate"))
      snprintf(args, sizeof args, "generate --quiet --out %s %s '%s'", test_tmpfile("gen.db"), opt, val);
    else if (!strcmp(v, "render"))
      snprintf(args, sizeof args, "render %s --store %s --out %s %s %s '%s'", g, d, test_tmpfile("frames"),
               strcmp(opt, "--at") && strcmp(opt, "--every") ? "--at 0.5s" : "", opt, val);
    else if (!strcmp(v, "run"))
      snprintf(args, sizeof args, "run %s --store %s --quiet --speed max %s '%s'", g, d, opt, val);
    else
      snprintf(args, sizeof args, "serve %s --store %s --port 0 %s '%s'", g, d, opt, val);
    snprintf(want, sizeof want, "replaysim %s: %s: '%s' %s", v, opt, val, cases[i].msg);
    refused(args, want);
  }
  /* An empty value is named too, and an empty token would let anyone in. */
  snprintf(a, sizeof a, "serve %s --store %s --port ''", g, d);
  refused(a, "replaysim serve: --port: '' is not a port (expected 0..65535; 0 picks a free one)");
  snprintf(a, sizeof a, "serve %s --store %s --port 0 --token ''", g, d);
  refused(a, "replaysim serve: --token: an empty token would let anyone in");
}

/* ---- sha256 pins ------------------------------------------------------------------ */

static void file_sha256(const char *path, char hex[65]) {
  uint8_t *bytes, digest[32];
  size_t len;
  rsim_errbuf eb = {0};
  if (rsim_read_file(path, 1u << 30, &bytes, &len, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_sha256 h;
  rsim_sha256_init(&h);
  rsim_sha256_update(&h, bytes, len);
  rsim_sha256_final(&h, digest);
  rsim_sha256_hex(digest, hex);
  free(bytes);
}

/* A graph of the demo's detector alone, pinned with pin ("" for no pin). */
static const char *detector_graph(const char *name, const char *pin) {
  char text[2048];
  snprintf(text, sizeof text,
           "components:\n"
           "  detector:\n"
           "    wasm: %s\n"
           "%s%s%s"
           "    trigger: camera_front\n"
           "    inputs: { reading: sensor:camera_front }\n",
           test_component_path("camera_detector"), *pin ? "    sha256: " : "", pin, *pin ? "\n" : "");
  return test_write_text(name, text);
}

TEST(graph_sha256_pins_are_checked_and_required_with_require_hashes) {
  char drive[1024], good[1024], bad[1024], none[1024], hex[65], wrong[65], cmd[4096], *out = NULL, d1[65], d2[65];
  snprintf(drive, sizeof drive, "%s", test_make_drive("drive.db", "1s", 7));
  file_sha256(test_component_path("camera_detector"), hex);
  snprintf(wrong, sizeof wrong, "%s", hex);
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  snprintf(good, sizeof good, "%s", detector_graph("good.yaml", hex));
  snprintf(bad, sizeof bad, "%s", detector_graph("bad.yaml", wrong));
  snprintf(none, sizeof none, "%s", detector_graph("none.yaml", ""));

  /* Pinned right: runs, with or without --require-hashes, to the same digest. */
  ASSERT_EQ(test_replay(good, drive, "--speed max --require-hashes", &out, d1), 0);
  free(out);
  ASSERT_EQ(test_replay(none, drive, "--speed max", &out, d2), 0);
  free(out);
  ASSERT_EQ(strlen(d1), 64);
  ASSERT_STREQ(d1, d2);
  snprintf(cmd, sizeof cmd, "%s check %s --require-hashes", test_replaysim_path(), good);
  ASSERT_EQ(test_run(cmd, &out), 0);
  free(out);

  /* A pin that does not match is refused even without --require-hashes, by
  ** check and run alike, naming the component, the pin and the actual hash. */
  char want[400];
  snprintf(want, sizeof want, "sha256 mismatch: the graph pins %s, the file is %s", wrong, hex);
  snprintf(cmd, sizeof cmd, "%s check %s", test_replaysim_path(), bad);
  ASSERT_NE(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(out, "component 'detector'");
  ASSERT_CONTAINS(out, want);
  free(out);
  ASSERT_NE(test_replay(bad, drive, "--speed max", &out, d1), 0);
  ASSERT_CONTAINS(test_last_line(out), want);
  ASSERT_CONTAINS(test_last_line(out), "component 'detector'");
  ASSERT_STREQ(d1, "");
  free(out);

  /* No pin with --require-hashes: refused by run, check, render and serve. */
  snprintf(want, sizeof want, "component 'detector' (%s) has no sha256 pin and hashes are required: expected a pin, the file is %s",
           test_component_path("camera_detector"), hex);
  ASSERT_NE(test_replay(none, drive, "--speed max --require-hashes", &out, d1), 0);
  ASSERT_CONTAINS(test_last_line(out), want);
  free(out);
  const char *verbs[] = {"check %s --require-hashes", "render %s --store %s --at 0.5s --out %s --require-hashes",
                         "serve %s --store %s --port 0 --require-hashes"};
  for (int i = 0; i < 3; i++) {
    char args[3000];
    snprintf(args, sizeof args, verbs[i], none, drive, test_tmpfile("f.png"));
    snprintf(cmd, sizeof cmd, "timeout 60 %s %s", test_replaysim_path(), args);
    int rc = test_run(cmd, &out);
    if (rc == 0 || rc == 124) test_fail(__FILE__, __LINE__, "%s: exit %d: %s", args, rc, out);
    ASSERT_CONTAINS(out, want);
    ASSERT(strstr(out, "serving") == NULL);
    free(out);
  }

  /* A pin that is not a digest is a graph error with its line. */
  const char *g = test_write_text("typo.yaml", "components:\n  d:\n    wasm: x.wasm\n    sha256: abc\n    rate_hz: 1\n");
  snprintf(cmd, sizeof cmd, "%s check %s", test_replaysim_path(), g);
  ASSERT_NE(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(out, "typo.yaml:4: component 'd': sha256 'abc' is not 64 hex digits");
  free(out);
}

/* ---- imports the host does not provide ---------------------------------------------- */

TEST(component_importing_wasi_is_refused_at_load_naming_the_import) {
  char graph[1024], drive[1024], cmd[4096], *out = NULL;
  snprintf(drive, sizeof drive, "%s", test_make_drive("drive.db", "1s", 3));
  char text[2048];
  snprintf(text, sizeof text,
           "components:\n  envy:\n    wasm: %s\n    world: camera-detector\n    trigger: camera_front\n"
           "    inputs: { reading: sensor:camera_front }\n",
           test_component_path("wasi_env"));
  snprintf(graph, sizeof graph, "%s", test_write_text("wasi.yaml", text));
  /* It is a real component that imports WASI (inspect shows it)... */
  snprintf(cmd, sizeof cmd, "%s inspect %s", test_replaysim_path(), test_component_path("wasi_env"));
  ASSERT_EQ(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(out, "wasi:cli/environment@0.2.0");
  free(out);
  /* ...and check and run refuse it, naming the component and the import. */
  const char *want = "component 'envy'";
  snprintf(cmd, sizeof cmd, "%s check %s --store %s", test_replaysim_path(), graph, drive);
  ASSERT_NE(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(out, want);
  ASSERT_CONTAINS(out, "imports wasi:cli/environment@0.2.0#get-environment, which the host does not provide");
  free(out);
  char d[65];
  ASSERT_NE(test_replay(graph, drive, "--speed max", &out, d), 0);
  ASSERT_CONTAINS(test_last_line(out), "imports wasi:cli/environment@0.2.0#get-environment, which the host does not provide");
  ASSERT_STREQ(d, "");
  free(out);
}

/* ---- allocations ------------------------------------------------------------------- */

/* Every allocation in the library and the CLI goes through the checked
** allocators of core/buf.c (rsim_xmalloc and friends, which stop with a
** message), so that none can hand NULL to a memcpy: a raw call anywhere
** else is listed. */
TEST(src_allocations_all_go_through_the_checked_allocators) {
  char cmd[2048], *out = NULL;
  snprintf(cmd, sizeof cmd,
           "cd %s && grep -rnE '(^|[^_a-zA-Z0-9])(malloc|calloc|realloc|strdup|strndup)\\(' src "
           "--include=*.c --include=*.h | grep -v '^src/core/buf.c:' || true",
           test_source_path("."));
  ASSERT_EQ(test_run(cmd, &out), 0);
  if (out && *out) test_fail(__FILE__, __LINE__, "unchecked allocations:\n%s", out);
  free(out);
}

/* ---- numbers inside files ------------------------------------------------------------- */

/* An MCAP channel's rsim.rate_hz is parsed like an option: "fast" is an
** error naming the file and the topic, where atof made it a rate of 0. */
TEST(mcap_store_refuses_a_malformed_rate_naming_the_topic) {
  const char *path = test_tmpfile("rate.mcap");
  rsim_mcap_writer *w;
  rsim_errbuf eb = {0};
  uint16_t schema, chan;
  rsim_mcap_writer_opts o = {.compression = ""};
  ASSERT_OK(rsim_mcap_writer_open(path, &o, &w, &eb));
  ASSERT_OK(rsim_mcap_writer_add_schema(w, "rsim.SensorReading", "rsim", (const uint8_t *)"x", 1, &schema));
  rsim_mcap_kv meta[] = {{(char *)"rsim.kind", (char *)"imu"}, {(char *)"rsim.rate_hz", (char *)"fast"}};
  ASSERT_OK(rsim_mcap_writer_add_channel(w, schema, "/imu", "rsim", meta, 2, &chan));
  const uint8_t msg[4] = {0};
  ASSERT_OK(rsim_mcap_writer_write(w, chan, 0, 1000, 1000, msg, sizeof msg));
  ASSERT_OK(rsim_mcap_writer_close(w, &eb));
  rsim_store *st = NULL;
  ASSERT_EQ(rsim_store_open(path, &st, &eb), RSIM_ECORRUPT);
  ASSERT(st == NULL);
  ASSERT_CONTAINS(eb.msg, "rate.mcap: topic '/imu': metadata rsim.rate_hz: 'fast' is not a number (expected 0..1e+09)");
}
