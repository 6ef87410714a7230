/*
** test_server_faults.c -- `replaysim serve` against bad clients and under
** load, over real sockets (tests/server/abuse_test.py, load_test.py):
** malformed HTTP, oversized bodies, bad JSON, wrong tokens and clients gone
** mid-frame each leave it serving; 50 WebSocket clients with a stream of
** control requests keep its memory bounded, and clients that stop reading
** are closed, not queued for.  The 60 s soak with its figures is
** bench/server_soak.sh (docs/reliability.md); this is the short version,
** which asserts nothing about time.
*/
#include "test.h"

static int run_script(const char *script, const char *drive, const char *extra, char **out) {
  char cmd[4096], path[1024], graph[1024];
  snprintf(path, sizeof path, "%s", test_source_path(script)); /* static buffers */
  snprintf(graph, sizeof graph, "%s", test_source_path("examples/demo/graph.yaml"));
  snprintf(cmd, sizeof cmd, "python3 %s %s %s %s %s", path, test_replaysim_path(), graph, drive, extra);
  return test_run(cmd, out);
}

TEST(server_survives_malformed_and_abusive_clients) {
  const char *drive = test_make_drive("drive.db", "2s", 4);
  char *out = NULL;
  int rc = run_script("tests/server/abuse_test.py", drive, "", &out);
  if (rc) test_fail(__FILE__, __LINE__, "abuse_test.py failed (%d): %s", rc, out);
  ASSERT_CONTAINS(out, "abuse ok");
  ASSERT_CONTAINS(out, "wrong token ok");
  free(out);
}

TEST(server_under_load_stays_bounded_and_closes_stalled_clients) {
  const char *drive = test_make_drive("drive.db", "3s", 6);
  char *out = NULL;
  int rc = run_script("tests/server/load_test.py", drive, "--seconds 4 --clients 50 --stalled 4", &out);
  if (rc) test_fail(__FILE__, __LINE__, "load_test.py failed (%d): %s", rc, out);
  ASSERT_CONTAINS(out, "load ok");
  fprintf(stderr, "%s", out);
  free(out);
}
