/*
** test_server.c -- `replaysim serve` over real HTTP and a real WebSocket
** (tests/server/api_test.py): the JSON control API, clamped seeks, 4xx
** answers with messages, the token off loopback or given (never printed),
** control requests rate-limited per client, the state stream.
*/
#include "test.h"

TEST(server_api_and_stream_work_over_http) {
  const char *drive = test_make_drive("drive.db", "3s", 2);
  char cmd[4096], script[1024], graph[1024], *out = NULL;
  snprintf(script, sizeof script, "%s", test_source_path("tests/server/api_test.py")); /* static buffers */
  snprintf(graph, sizeof graph, "%s", test_source_path("examples/demo/graph.yaml"));
  snprintf(cmd, sizeof cmd, "python3 %s %s %s %s", script, test_replaysim_path(), graph, drive);
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "api_test.py failed (%d): %s", rc, out);
  ASSERT_CONTAINS(out, "api ok");
  ASSERT_CONTAINS(out, "token ok");
  ASSERT_CONTAINS(out, "limit ok");
  free(out);
}

/* tests/server/eval_test.py: GET /api/eval after playing at max speed
** equals `replaysim eval` on the recorded run (every instant scored once,
** not only the last of each poll), tracks included; --gate markers fall
** where `eval --gate` fails; a seek back played again changes nothing. */
TEST(server_eval_at_max_speed_equals_eval_and_marks_gates) {
  const char *drive = test_make_drive("drive.db", "3s", 2);
  char cmd[6000], script[1024], graph[1024], work[1024], *out = NULL;
  snprintf(script, sizeof script, "%s", test_source_path("tests/server/eval_test.py")); /* static buffers */
  snprintf(graph, sizeof graph, "%s", test_source_path("examples/demo/graph.yaml"));
  snprintf(work, sizeof work, "%s", test_tmpfile("evalwork"));
  snprintf(cmd, sizeof cmd, "mkdir -p %s && python3 %s %s %s %s %s", work, script, test_replaysim_path(), graph, drive,
           work);
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "eval_test.py failed (%d): %s", rc, out);
  ASSERT_CONTAINS(out, "as replaysim eval");
  ASSERT_CONTAINS(out, "gate markers");
  ASSERT_CONTAINS(out, "the same scores and markers");
  ASSERT_CONTAINS(out, "eval api ok");
  free(out);
}
