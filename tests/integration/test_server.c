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
