/*
** test_browser.c -- the web UI in a real headless browser (Debian's
** chromium driven by playwright-core, tests/browser/ui_test.mjs): play and
** see sim time advance and boxes appear, pause, seek with the scrubber and
** check the time shown, change speed, use the arrow keys.  The screenshot is
** kept as a CI artifact: <build>/artifacts/ui-screenshot.png.
*/
#include "test.h"

TEST(browser_ui_plays_seeks_and_draws_boxes) {
  const char *drive = test_make_drive("drive.db", "3s", 2);
  char script[1024], graph[1024], shot[1024], cmd[5000], *out = NULL;
  snprintf(script, sizeof script, "%s", test_source_path("tests/browser/ui_test.mjs")); /* static buffers */
  snprintf(graph, sizeof graph, "%s", test_source_path("examples/demo/graph.yaml"));
  /* <build>/bin/replaysim -> <build>/artifacts */
  snprintf(shot, sizeof shot, "%s", test_replaysim_path());
  char *slash = strrchr(shot, '/');
  if (slash) *slash = 0;
  slash = strrchr(shot, '/');
  if (slash) *slash = 0;
  snprintf(shot + strlen(shot), sizeof shot - strlen(shot), "/artifacts");
  snprintf(cmd, sizeof cmd, "mkdir -p %s && node %s %s %s %s %s/ui-screenshot.png", shot, script, test_replaysim_path(),
           graph, drive, shot);
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "ui_test.mjs failed (%d): %s", rc, out);
  ASSERT_CONTAINS(out, "boxes drawn");
  ASSERT_CONTAINS(out, "ui ok");
  free(out);
}
