/*
** test_browser.c -- the web UI in a real headless browser (Debian's
** chromium driven by playwright-core, tests/browser/ui_test.mjs): play and
** see sim time advance and boxes appear, pause, seek with the scrubber and
** check the time shown, change speed, use the arrow keys; see the scores so
** far, click a timeout mark on the plot under the timeline to go there, and
** find matched and false boxes drawn in their styles; with a gate set to
** fail (serve --gate), find its markers under the timeline and click one
** to go there, see the tracking scores, and the bird's-eye view drawing
** matched, missed and false objects in their styles.  The graph is the
** demo's with a tracker budget no call can keep (1 us, on_timing: warn), so
** the run has timeouts to mark.  The screenshot is kept as a CI artifact:
** <build>/artifacts/ui-screenshot.png.
*/
#include "test.h"

TEST(browser_ui_plays_seeks_and_draws_boxes) {
  const char *drive = test_make_drive("drive.db", "3s", 2);
  char script[1024], graph[1024], shot[1024], gates[1024], cmd[6200], *out = NULL;
  snprintf(script, sizeof script, "%s", test_source_path("tests/browser/ui_test.mjs")); /* static buffers */
  snprintf(graph, sizeof graph, "%s", test_demo_graph_warning());
  /* A gate the demo detector cannot keep in every window: markers to find. */
  snprintf(gates, sizeof gates, "%s",
           test_write_text("gates.yaml", "gates:\n  - {metric: f1, component: detector, scope: window, min: 0.99}\n"));
  /* <build>/bin/replaysim -> <build>/artifacts */
  snprintf(shot, sizeof shot, "%s", test_replaysim_path());
  char *slash = strrchr(shot, '/');
  if (slash) *slash = 0;
  slash = strrchr(shot, '/');
  if (slash) *slash = 0;
  snprintf(shot + strlen(shot), sizeof shot - strlen(shot), "/artifacts");
  snprintf(cmd, sizeof cmd, "mkdir -p %s && node %s %s %s %s %s/ui-screenshot.png %s", shot, script,
           test_replaysim_path(), graph, drive, shot, gates);
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "ui_test.mjs failed (%d): %s", rc, out);
  ASSERT_CONTAINS(out, "boxes drawn");
  ASSERT_CONTAINS(out, "scores so far shown");
  ASSERT_CONTAINS(out, "a mark clicked");
  ASSERT_CONTAINS(out, "false positives drawn");
  ASSERT_CONTAINS(out, "bird's-eye view by outcome");
  ASSERT_CONTAINS(out, "tracking scores shown");
  ASSERT_CONTAINS(out, "a gate marker clicked");
  ASSERT_CONTAINS(out, "gate markers the same after a seek back and play");
  ASSERT_CONTAINS(out, "ui ok");
  free(out);
}
