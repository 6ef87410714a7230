/*
** test_errors.c -- no error vanishes: a write that fails when a store is
** finished, a server that cannot bind, a run that stops on a fault, output
** that cannot be written -- each reaches the caller with a message, the
** library says nothing on stderr itself, and the replaysim command exits
** non-zero with the error as its last line.
**
** Disk-full is made real with RLIMIT_FSIZE (SIGXFSZ ignored, so a write
** past the limit fails with EFBIG instead of killing the process): limits
** and ignored signals are inherited by the commands the test starts.
*/
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rsim/engine.h"
#include "rsim/player.h"
#include "rsim/server.h"
#include "rsim/store.h"
#include "test.h"

static int64_t file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) ? -1 : (int64_t)sb.st_size;
}

static void set_fsize(rlim_t n) {
  struct rlimit rl;
  ASSERT_OK(getrlimit(RLIMIT_FSIZE, &rl));
  rl.rlim_cur = n;
  ASSERT_OK(setrlimit(RLIMIT_FSIZE, &rl));
}

/* Sends this process's stderr to a file until stderr_restore; returns it. */
static int g_saved_stderr = -1;
static const char *stderr_to_file(const char *name) {
  static char path[1024];
  snprintf(path, sizeof path, "%s", test_tmpfile(name));
  fflush(stderr);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT(fd >= 0);
  g_saved_stderr = dup(2);
  ASSERT(dup2(fd, 2) == 2);
  close(fd);
  return path;
}

static void stderr_restore(void) {
  fflush(stderr);
  dup2(g_saved_stderr, 2);
  close(g_saved_stderr);
}

/* ---- stores that cannot be finished ------------------------------------------------ */

/* The MCAP writer completes the file in rsim_store_finish: a failed write
** there is an error with the file's name, and the library prints nothing. */
TEST(store_finish_reports_a_failed_write_and_prints_nothing) {
  char path[1024];
  snprintf(path, sizeof path, "%s", test_tmpfile("out.mcap"));
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_create(path, false, &st, &eb));
  rsim_sensor_info info = {.id = (char *)"imu", .kind = RSIM_SENSOR_IMU, .rate_hz = 100};
  ASSERT_OK(rsim_store_add_sensor(st, &info));
  uint8_t payload[64] = {1, 2, 3};
  for (int i = 0; i < 10; i++) {
    rsim_reading r = {.sensor_id = (char *)"imu", .t = 1000 + i, .kind = RSIM_SENSOR_IMU, .payload = payload,
                      .payload_len = sizeof payload};
    ASSERT_OK(rsim_store_put(st, &r));
  }
  signal(SIGXFSZ, SIG_IGN);
  set_fsize(0); /* nothing more reaches the disk: the readings are still in the chunk */
  const char *err = stderr_to_file("stderr.txt");
  int rc = rsim_store_finish(st), again = rsim_store_finish(st);
  char msg[600];
  snprintf(msg, sizeof msg, "%s", rsim_store_errmsg(st));
  rsim_reading late = {.sensor_id = (char *)"imu", .t = 5000, .kind = RSIM_SENSOR_IMU, .payload = payload, .payload_len = 8};
  int late_rc = rsim_store_put(st, &late);
  rsim_store_close(st);
  set_fsize(RLIM_INFINITY);
  stderr_restore();
  ASSERT_EQ(file_size(err), 0); /* the library said nothing itself */
  ASSERT_EQ(rc, RSIM_EIO);
  ASSERT_CONTAINS(msg, path);
  ASSERT_CONTAINS(msg, "File too large");
  ASSERT_EQ(again, RSIM_EIO); /* asked again, the same answer */
  ASSERT(late_rc != RSIM_OK); /* and no more writes */
  ASSERT_EQ(file_size(path), -1); /* an incomplete MCAP file is not left behind */
}

TEST(store_finish_completes_a_file_that_then_opens) {
  const char *path = test_tmpfile("ok.mcap");
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_create(path, false, &st, &eb));
  rsim_sensor_info info = {.id = (char *)"imu", .kind = RSIM_SENSOR_IMU, .rate_hz = 100};
  ASSERT_OK(rsim_store_add_sensor(st, &info));
  uint8_t payload[8] = {7};
  rsim_reading r = {.sensor_id = (char *)"imu", .t = 1000, .kind = RSIM_SENSOR_IMU, .payload = payload, .payload_len = 8};
  ASSERT_OK(rsim_store_put(st, &r));
  ASSERT_OK(rsim_store_finish(st));
  ASSERT(file_size(path) > 0); /* in place before the handle is closed */
  rsim_store_close(st);
  ASSERT_OK(rsim_store_open(path, &st, &eb));
  int64_t n = 0;
  ASSERT_OK(rsim_store_count(st, "imu", &n));
  ASSERT_EQ(n, 1);
  ASSERT_OK(rsim_store_finish(st)); /* read-only: nothing to finish */
  rsim_store_close(st);
}

/* `export` and `generate --out x.mcap` write the summary last.  A limit just
** below the finished size lets every chunk through and fails the end of the
** file: the command must say so last and exit 1, not print "wrote". */
TEST(cli_export_and_generate_fail_when_the_mcap_cannot_be_finished) {
  const char *drive = test_make_drive("drive.db", "1s", 5);
  char cmd[4096], ok[1024], bad[1024], *out = NULL;
  snprintf(ok, sizeof ok, "%s", test_tmpfile("whole.mcap"));
  snprintf(bad, sizeof bad, "%s", test_tmpfile("cut.mcap"));
  snprintf(cmd, sizeof cmd, "%s export %s --out %s", test_replaysim_path(), drive, ok);
  ASSERT_EQ(test_run(cmd, &out), 0);
  free(out);
  int64_t size = file_size(ok);
  ASSERT(size > 1000);
  signal(SIGXFSZ, SIG_IGN);
  set_fsize((rlim_t)size - 16);
  snprintf(cmd, sizeof cmd, "%s export %s --out %s", test_replaysim_path(), drive, bad);
  int rc = test_run(cmd, &out);
  set_fsize(RLIM_INFINITY);
  ASSERT_EQ(rc, 1);
  ASSERT(strstr(out, "wrote") == NULL);
  ASSERT_CONTAINS(test_last_line(out), "export: ");
  ASSERT_CONTAINS(test_last_line(out), bad);
  ASSERT_CONTAINS(test_last_line(out), "File too large");
  ASSERT_EQ(file_size(bad), -1);
  free(out);

  snprintf(cmd, sizeof cmd, "%s generate --quiet --out %s --overwrite --duration 1s --seed 5", test_replaysim_path(), ok);
  ASSERT_EQ(test_run(cmd, &out), 0);
  free(out);
  size = file_size(ok);
  set_fsize((rlim_t)size - 16);
  snprintf(cmd, sizeof cmd, "%s generate --quiet --out %s --duration 1s --seed 5", test_replaysim_path(), bad);
  rc = test_run(cmd, &out);
  set_fsize(RLIM_INFINITY);
  ASSERT_EQ(rc, 1);
  ASSERT(strstr(out, "wrote") == NULL);
  ASSERT_CONTAINS(test_last_line(out), "generate: ");
  ASSERT_CONTAINS(test_last_line(out), "File too large");
  free(out);
}

/* ---- the server --------------------------------------------------------------------- */

typedef struct served {
  rsim_store *st;
  rsim_graph *g;
  rsim_engine *e;
  rsim_player *p;
} served;

static void serve_setup(served *f) {
  const char *drive = test_make_drive("drive.db", "1s", 3);
  rsim_errbuf eb = {0};
  memset(f, 0, sizeof *f);
  ASSERT_OK(rsim_store_open(drive, &f->st, &eb));
  if (rsim_graph_load(test_source_path("examples/demo/graph.yaml"), &f->g, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_engine_opts eo = {.store = f->st, .log_level = RSIM_LOG_ERROR};
  if (rsim_engine_new(f->g, &eo, &f->e, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_player_opts po = {.start_paused = true};
  if (rsim_player_new(f->e, &po, &f->p, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
}

static void serve_teardown(served *f) {
  rsim_player_free(f->p);
  rsim_engine_free(f->e);
  rsim_graph_free(f->g);
  rsim_store_close(f->st);
}

/* A listening socket on a free loopback port; returns the fd, *port the port. */
static int listen_somewhere(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT(fd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ASSERT_OK(bind(fd, (struct sockaddr *)&a, sizeof a));
  ASSERT_OK(listen(fd, 1));
  socklen_t n = sizeof a;
  ASSERT_OK(getsockname(fd, (struct sockaddr *)&a, &n));
  *port = ntohs(a.sin_port);
  return fd;
}

/* libwebsockets' own complaint goes into the message, not onto stderr. */
TEST(server_that_cannot_bind_says_why_and_prints_nothing) {
  served f;
  serve_setup(&f);
  int port, fd = listen_somewhere(&port);
  rsim_server_opts so = {.port = port};
  rsim_server *s = NULL;
  rsim_errbuf eb = {0};
  const char *err = stderr_to_file("stderr.txt");
  int rc = rsim_server_new(f.p, f.e, f.g, &so, &s, &eb);
  stderr_restore();
  ASSERT_EQ(rc, RSIM_EIO);
  ASSERT(s == NULL);
  char want[64];
  snprintf(want, sizeof want, "cannot serve on 127.0.0.1:%d", port);
  ASSERT_CONTAINS(eb.msg, want);
  ASSERT_CONTAINS(eb.msg, "bind");
  ASSERT_EQ(file_size(err), 0);
  close(fd);
  serve_teardown(&f);
}

TEST(cli_serve_on_a_busy_port_ends_with_its_error) {
  const char *drive = test_make_drive("drive.db", "1s", 3);
  int port, fd = listen_somewhere(&port);
  char cmd[4096], graph[1024], *out = NULL;
  snprintf(graph, sizeof graph, "%s", test_source_path("examples/demo/graph.yaml"));
  snprintf(cmd, sizeof cmd, "%s serve %s --store %s --port %d", test_replaysim_path(), graph, drive, port);
  ASSERT_EQ(test_run(cmd, &out), 1);
  char want[64];
  snprintf(want, sizeof want, "serve: cannot serve on 127.0.0.1:%d", port);
  ASSERT_CONTAINS(test_last_line(out), want);
  /* Every line is the command's: libwebsockets no longer prints its own. */
  for (const char *l = out; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
    if (*l != '\n' && strncmp(l, "serve: ", 7)) test_fail(__FILE__, __LINE__, "a line not from serve in: %s", out);
  close(fd);
  free(out);
}

/* ---- runs that stop ------------------------------------------------------------------ */

/* A component that traps on its third call stops the run (on_error stop):
** statistics, then the digest marked partial with the instant it stopped
** in, then the error as the last line. */
TEST(cli_failed_run_ends_with_its_error_after_a_partial_digest) {
  const char *drive = test_make_drive("drive.db", "1s", 1);
  char text[2048], *out = NULL;
  snprintf(text, sizeof text,
           "components:\n"
           "  bad:\n    wasm: %s\n    trigger: camera_front\n"
           "    inputs: { reading: sensor:camera_front }\n    config: { trap_at: \"3\" }\n"
           "  tracker:\n    wasm: %s\n    trigger: radar_front\n"
           "    inputs: { reading: sensor:radar_front }\n",
           test_component_path("trap_nth"), test_component_path("radar_tracker"));
  const char *graph = test_write_text("trap.yaml", text);
  ASSERT_EQ(test_replay(graph, drive, "--speed max --component-digests", &out, NULL), 1);
  int64_t t = test_query_int(drive, "SELECT t FROM readings WHERE sensor='camera_front' ORDER BY t LIMIT 1 OFFSET 2");
  char want[128];
  snprintf(want, sizeof want, "digest (partial, up to %lld.%09lld): ", (long long)(t / 1000000000),
           (long long)(t % 1000000000));
  ASSERT_CONTAINS(out, want);
  ASSERT(strstr(out, "digest: ") == NULL); /* no line that reads as a finished run */
  ASSERT_CONTAINS(out, "digest of tracker (partial, up to ");
  ASSERT_CONTAINS(out, "tracker");                       /* the statistics are there */
  ASSERT(strstr(out, want) < strstr(out, "run: "));      /* and come before the error */
  ASSERT_CONTAINS(test_last_line(out), "run: component 'bad'");
  ASSERT_CONTAINS(test_last_line(out), "trap");
  char hex[65];
  test_find_digest(out, want, hex);
  ASSERT_EQ(strlen(hex), 64);
  free(out);
}

/* The same for a data error: a chunk of an MCAP drive that fails its check
** half-way through the file stops the run where it lies. */
TEST(cli_run_over_a_corrupt_chunk_ends_with_its_error_after_a_partial_digest) {
  const char *drive = test_make_drive("drive.db", "1s", 4);
  char cmd[4096], mcap[1024], graph[1024], *out = NULL;
  snprintf(mcap, sizeof mcap, "%s", test_tmpfile("d.mcap"));
  snprintf(graph, sizeof graph, "%s", test_source_path("examples/demo/graph.yaml"));
  snprintf(cmd, sizeof cmd, "%s export %s --out %s --schemas rsim", test_replaysim_path(), drive, mcap);
  ASSERT_EQ(test_run(cmd, &out), 0);
  free(out);
  /* Camera frames fill the file: its middle byte lies in a chunk's records. */
  FILE *f = fopen(mcap, "r+b");
  ASSERT(f != NULL);
  long mid = (long)(file_size(mcap) / 2);
  ASSERT_OK(fseek(f, mid, SEEK_SET));
  int c = fgetc(f);
  ASSERT_OK(fseek(f, mid, SEEK_SET));
  fputc(c ^ 0xff, f);
  ASSERT_OK(fclose(f));
  ASSERT_EQ(test_replay(graph, mcap, "--speed max", &out, NULL), 1);
  ASSERT_CONTAINS(out, "digest (partial, up to ");
  ASSERT(strstr(out, "digest: ") == NULL);
  ASSERT(strncmp(test_last_line(out), "run: ", 5) == 0);
  ASSERT_CONTAINS(test_last_line(out), mcap);
  free(out);
}

/* ---- every verb: output first, the error last ---------------------------------------------- */

/* Lines already printed come before the error even when stdout and stderr
** share one pipe (stdout is block-buffered there). */
TEST(cli_mcap_cat_of_a_cut_file_ends_with_its_error) {
  const char *drive = test_make_drive("drive.db", "1s", 2);
  char cmd[4096], mcap[1024], *out = NULL;
  snprintf(mcap, sizeof mcap, "%s", test_tmpfile("d.mcap"));
  snprintf(cmd, sizeof cmd, "%s export %s --out %s --schemas rsim", test_replaysim_path(), drive, mcap);
  ASSERT_EQ(test_run(cmd, &out), 0);
  free(out);
  ASSERT_OK(truncate(mcap, file_size(mcap) * 2 / 3));
  snprintf(cmd, sizeof cmd, "%s mcap cat %s", test_replaysim_path(), mcap);
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(out, " channel "); /* messages before the cut were listed */
  ASSERT(strstr(test_last_line(out), " channel ") == NULL);
  ASSERT_CONTAINS(test_last_line(out), mcap);
  free(out);
}

/* Output that cannot be written is an error, said on stderr, exit 1. */
TEST(cli_output_that_cannot_be_written_fails_the_command) {
  const char *drive = test_make_drive("drive.db", "1s", 2);
  char cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd, "{ %s info %s >/dev/full; }", test_replaysim_path(), drive);
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "info: cannot write standard output: No space left on device");
  free(out);
}
