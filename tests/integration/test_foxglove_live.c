/*
** test_foxglove_live.c -- `replaysim serve --foxglove` driven by a client from
** the Foxglove ecosystem (npm's @foxglove/ws-protocol, protobufjs;
** tests/browser/foxglove_test.mjs): serverInfo and channels, every channel
** subscribed and decoded with its advertised schema, play, pause, seeks
** forward and back and speed from PlaybackControlRequest with PlaybackState
** and Time following, the camera frame and annotation boxes of a paused
** instant equal to the web UI's frame, the detector's output and what
** `replaysim render` draws there, the truth and tracks scenes equal to
** /api/truth and the tracker's output, the tracker's budget warnings on
** /rsim/log, and a client without the token refused.
*/
#include "test.h"

TEST(foxglove_client_watches_and_drives_the_replay) {
  const char *drive = test_make_drive("drive.db", "3s", 2);
  char script[1024], graph[1024], dir[1024], cmd[5200], *out = NULL;
  snprintf(script, sizeof script, "%s", test_source_path("tests/browser/foxglove_test.mjs")); /* static buffers */
  /* Tracker warnings for /rsim/log. */
  snprintf(graph, sizeof graph, "%s", test_demo_graph_warning());
  snprintf(dir, sizeof dir, "%s", drive);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  snprintf(cmd, sizeof cmd, "node %s %s %s %s %s", script, test_replaysim_path(), graph, drive, dir);
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "foxglove_test.mjs failed (%d): %s", rc, out);
  ASSERT_CONTAINS(out, "serverInfo: time, playbackControl");
  ASSERT_CONTAINS(out, "paused: t = ");
  ASSERT_CONTAINS(out, "every channel decoded");
  ASSERT_CONTAINS(out, "log: WARNING tracker");
  ASSERT_CONTAINS(out, "tracks in the scene");
  ASSERT_CONTAINS(out, "seek-forward: t = +2.2 s");
  ASSERT_CONTAINS(out, "seek-back: t = +0.7 s");
  ASSERT_CONTAINS(out, "a client without the token is refused");
  ASSERT_CONTAINS(out, "subscriptions capped: subscribe: at most 1024");
  ASSERT_CONTAINS(out, "foxglove ok");
  free(out);
}
