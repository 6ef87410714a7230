/*
** test_reliability.c -- faults a run must survive (docs/reliability.md):
** `kill -9` at seeded random moments leaves an output database that opens,
** holds a prefix of the run and says it is incomplete, and --resume from
** the checkpoints ends with the uninterrupted digest; a full disk under the
** output or the checkpoints ends the run with a clear error and nothing
** half-written; the input store is never written, which the tests check
** by checksum and by the access mode of every descriptor the running
** process holds on it.
**
** The runs are real `replaysim` processes over the demo graph.  The tests
** wait on what can be seen (a checkpoint file appearing, the output
** growing, a line on stdout), never on the clock.
*/
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rsim/util.h"
#include "test.h"

/* ---- helpers ------------------------------------------------------------------------ */


static void file_sha256(const char *path, char hex[65]) {
  FILE *f = fopen(path, "rb");
  if (!f) test_fail(__FILE__, __LINE__, "cannot read %s", path);
  rsim_sha256 s;
  rsim_sha256_init(&s);
  uint8_t buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) rsim_sha256_update(&s, buf, n);
  fclose(f);
  uint8_t d[32];
  rsim_sha256_final(&s, d);
  rsim_sha256_hex(d, hex);
}

static void pause_ms(int ms) {
  struct timespec ts = {0, (long)ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* A replaysim child: stdout and stderr into log, or into a pipe whose read
** end goes to *pipe_out when log is NULL; fsize > 0 limits the size of
** every file it writes (RLIMIT_FSIZE, with SIGXFSZ ignored so that a write
** fails with EFBIG instead of killing it). */
static pid_t spawn(const char *const *argv, const char *log, rlim_t fsize, int *pipe_out) {
  int p[2] = {-1, -1};
  if (!log && pipe(p)) test_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
  pid_t pid = fork();
  if (pid < 0) test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
  if (pid == 0) {
    int fd = log ? open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644) : p[1];
    if (fd < 0) _exit(126);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    if (!log) close(p[0]);
    if (fsize) {
      signal(SIGXFSZ, SIG_IGN);
      struct rlimit rl;
      getrlimit(RLIMIT_FSIZE, &rl);
      rl.rlim_cur = fsize;
      if (setrlimit(RLIMIT_FSIZE, &rl)) _exit(126);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  if (!log) {
    close(p[1]);
    *pipe_out = p[0];
  }
  return pid;
}

/* Waits for pid; returns its exit code, or -1 when it did not exit. */
static int wait_exit(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A whole file as text ("" when unreadable); reads to EOF, as /proc files need. */
static char *slurp(const char *path) {
  rsim_buf b = {0};
  FILE *f = fopen(path, "rb");
  char chunk[4096];
  size_t n;
  while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0) rsim_buf_append(&b, chunk, n);
  if (f) fclose(f);
  rsim_buf_putc(&b, 0);
  return (char *)b.data;
}

static int64_t file_size(const char *path) {
  struct stat st;
  return stat(path, &st) ? -1 : (int64_t)st.st_size;
}

/* How many files in dir end in suffix. */
static int count_files(const char *dir, const char *suffix) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0;
  size_t sl = strlen(suffix);
  for (struct dirent *e; (e = readdir(d));) {
    size_t l = strlen(e->d_name);
    n += l > sl && !strcmp(e->d_name + l - sl, suffix);
  }
  closedir(d);
  return n;
}

/* Every descriptor process pid holds on path is open read-only; returns
** how many it holds. */
static int assert_fds_read_only(pid_t pid, const char *path) {
  char real[PATH_MAX], dir[64];
  if (!realpath(path, real)) test_fail(__FILE__, __LINE__, "realpath %s", path);
  snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
  DIR *d = opendir(dir);
  if (!d) return 0;
  int held = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char link[512], target[PATH_MAX], info[512];
    snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = 0;
    if (strcmp(target, real)) continue;
    snprintf(info, sizeof info, "/proc/%d/fdinfo/%s", (int)pid, e->d_name);
    char *text = slurp(info), *flags = strstr(text, "flags:");
    if (!flags) {
      free(text);
      continue; /* closed meanwhile */
    }
    unsigned long fl = strtoul(flags + 6, NULL, 8);
    if ((fl & O_ACCMODE) != O_RDONLY)
      test_fail(__FILE__, __LINE__, "fd %s of pid %d on the input %s has flags 0%lo: not read-only", e->d_name,
                (int)pid, path, fl);
    free(text);
    held++;
  }
  closedir(d);
  return held;
}

static sqlite3 *open_ro(const char *path) {
  sqlite3 *h;
  if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    test_fail(__FILE__, __LINE__, "cannot open %s: %s", path, sqlite3_errmsg(h));
  return h;
}

static int64_t q_int(sqlite3 *h, const char *sql) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
    test_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(h));
  int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : INT64_MIN;
  sqlite3_finalize(st);
  return v;
}

static void q_text(sqlite3 *h, const char *sql, char *out, size_t n) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
    test_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(h));
  const unsigned char *v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
  snprintf(out, n, "%s", v ? (const char *)v : "");
  sqlite3_finalize(st);
}

/*
** The output database of a run cut short: it opens, passes the integrity
** check, says status 'incomplete', and its outputs are exactly those of
** the full run (full_db) up to its recorded_to, seq for seq and byte for
** byte.  Returns how many outputs it holds.  With may_be_complete, a file
** that says 'complete' (the run had finished recording when it was cut)
** must hold every output of the full run; then -1 is returned.
*/
static int64_t check_prefix_of(const char *db, const char *full_db, bool may_be_complete) {
  sqlite3 *h = open_ro(db);
  char text[600];
  q_text(h, "PRAGMA integrity_check", text, sizeof text);
  if (strcmp(text, "ok")) test_fail(__FILE__, __LINE__, "%s: integrity_check: %s", db, text);
  q_text(h, "SELECT value FROM run WHERE key='status'", text, sizeof text);
  bool complete = may_be_complete && !strcmp(text, "complete");
  if (!complete && strcmp(text, "incomplete"))
    test_fail(__FILE__, __LINE__, "%s: status '%s', not 'incomplete'", db, text);
  char att[1200];
  snprintf(att, sizeof att, "ATTACH '%s' AS f", full_db);
  ASSERT_EQ(sqlite3_exec(h, att, NULL, NULL, NULL), SQLITE_OK);
  int64_t n = q_int(h, "SELECT count(*) FROM outputs");
  if (complete) ASSERT_EQ(n, q_int(h, "SELECT count(*) FROM f.outputs"));
  int64_t to = q_int(h, "SELECT CAST(value AS INTEGER) FROM run WHERE key='recorded_to'");
  if (to == INT64_MIN) { /* killed before its first instant ended */
    ASSERT_EQ(n, 0);
  } else {
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM f.outputs WHERE t <= %lld", (long long)to);
    if (q_int(h, sql) != n)
      test_fail(__FILE__, __LINE__, "%s: %lld outputs, the full run has %lld up to recorded_to %lld", db,
                (long long)n, (long long)q_int(h, sql), (long long)to);
  }
  ASSERT_EQ(q_int(h, "SELECT count(*) FROM outputs k JOIN f.outputs o USING(seq) "
                     "WHERE k.t = o.t AND k.component = o.component AND k.value = o.value"),
            n);
  sqlite3_close(h);
  return complete ? -1 : n;
}

static int64_t assert_prefix_of(const char *db, const char *full_db) { return check_prefix_of(db, full_db, false); }

/* `replaysim run` of the demo graph over drive with extra options (a
** NULL-terminated list); returns the exit code, the output in *out. */
static int run_cli(const char *drive, const char *const *extra, rlim_t fsize, char **out) {
  const char *argv[40] = {test_replaysim_path(), "run", test_demo_graph(), "--store", drive, "--quiet", "--speed", "max"};
  size_t n = 8;
  for (size_t i = 0; extra[i] && n < 38; i++) argv[n++] = extra[i];
  argv[n] = NULL;
  int fd;
  pid_t pid = spawn(argv, NULL, fsize, &fd);
  /* Through a pipe, which no file size limit applies to. */
  rsim_buf b = {0};
  char chunk[4096];
  ssize_t got;
  while ((got = read(fd, chunk, sizeof chunk)) != 0)
    if (got > 0) rsim_buf_append(&b, chunk, (size_t)got);
    else if (errno != EINTR) break;
  close(fd);
  rsim_buf_putc(&b, 0);
  *out = (char *)b.data;
  return wait_exit(pid);
}

/* ---- kill -9 ------------------------------------------------------------------------ */

static uint64_t rnd_state = 0x5eed2026u;
static uint32_t rnd(void) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return (uint32_t)(rnd_state >> 11);
}

TEST(fault_kill9_leaves_a_prefix_and_resume_ends_with_the_same_digest) {
  const char *drive = test_make_drive("drive.db", "3s", 5);
  char sum0[65], sum1[65];
  file_sha256(drive, sum0);
  char full[1024], *out = NULL, digest[65];
  snprintf(full, sizeof full, "%s", test_tmpfile("full.db"));
  const char *full_args[] = {"--out", full, "--checkpoint-every", "250ms", NULL};
  ASSERT_EQ(run_cli(drive, full_args, 0, &out), 0);
  test_find_digest(out, "digest: ", digest);
  ASSERT_EQ(strlen(digest), 64);
  free(out);
  int64_t full_size = file_size(full);
  ASSERT(full_size > 0);
  int killed = 0, fds_seen = 0, at_ckpt = 0, at_bytes = 0, empty = 0, late = 0;
  int64_t most = 0;
  for (int i = 0; killed < 20; i++) {
    if (i >= 40) test_fail(__FILE__, __LINE__, "only %d of %d runs were killed mid-run", killed, i);
    char db[1024], wal[1100], dir[1024], log[1024];
    snprintf(db, sizeof db, "%s/kill-%d.db", test_tmpdir(), i);
    snprintf(wal, sizeof wal, "%s-wal", db);
    snprintf(dir, sizeof dir, "%s/ck-%d", test_tmpdir(), i);
    snprintf(log, sizeof log, "%s/kill-%d.log", test_tmpdir(), i);
    const char *argv[] = {test_replaysim_path(), "run", test_demo_graph(), "--store", drive, "--quiet", "--speed", "max",
                          "--out", db, "--checkpoint-dir", dir, "--checkpoint-every", "250ms", NULL};
    /* The moment: the k-th checkpoint file, or the output grown past a
    ** size; either way after a first checkpoint, so there is one to
    ** resume from. */
    bool by_ckpt = rnd() % 2;
    int want_ckpts = 1 + (int)(rnd() % 11);
    int64_t want_bytes = (int64_t)(rnd() % (uint32_t)full_size);
    pid_t pid = spawn(argv, log, 0, NULL);
    bool exited = false;
    int64_t deadline = rsim_monotonic_ns() + 120 * (int64_t)RSIM_NS_PER_S;
    for (;;) {
      int st;
      if (waitpid(pid, &st, WNOHANG) == pid) {
        exited = true;
        break;
      }
      int ck = count_files(dir, ".rsck");
      int64_t grown = file_size(db) + (file_size(wal) > 0 ? file_size(wal) : 0);
      if (ck >= 1 && (by_ckpt ? ck >= want_ckpts : grown >= want_bytes)) break;
      if (rsim_monotonic_ns() > deadline) test_fail(__FILE__, __LINE__, "run %d never reached its moment", i);
      pause_ms(1);
    }
    if (exited) continue; /* it ended first: that try does not count */
    fds_seen += assert_fds_read_only(pid, drive);
    kill(pid, SIGKILL);
    wait_exit(pid);
    int64_t held = check_prefix_of(db, full, true);
    if (held < 0) { /* cut after it had recorded everything: whole, not a kill mid-run */
      late++;
      continue;
    }
    killed++;
    *(by_ckpt ? &at_ckpt : &at_bytes) += 1;
    if (held == 0) empty++;
    else if (held > most) most = held;
    /* Resume into a fresh database: the digest of the uninterrupted run. */
    char resumed[1024], rdigest[65];
    snprintf(resumed, sizeof resumed, "%s/resumed-%d.db", test_tmpdir(), i);
    const char *rargs[] = {"--out", resumed, "--checkpoint-every", "250ms", "--resume", dir, NULL};
    snprintf(log, sizeof log, "%s/resume-%d.log", test_tmpdir(), i);
    int rc = run_cli(drive, rargs, 0, &out);
    if (rc) test_fail(__FILE__, __LINE__, "resume %d failed (%d): %s", i, rc, out);
    test_find_digest(out, "digest: ", rdigest);
    ASSERT_STREQ(rdigest, digest);
    free(out);
    ASSERT_EQ(test_query_int(resumed, "SELECT value = 'complete' FROM run WHERE key='status'"), 1);
  }
  int64_t all = test_query_int(full, "SELECT count(*) FROM outputs");
  fprintf(stderr,
          "    %d runs killed mid-run (%d at a checkpoint file, %d at an output size; %d before a first commit, "
          "the longest prefix %lld of %lld outputs); %d cut after recording everything\n",
          killed, at_ckpt, at_bytes, empty, (long long)most, (long long)all, late);
  ASSERT(most > 0); /* some kills landed after commits: the prefixes were not all empty */
  ASSERT(at_ckpt > 0 && at_bytes > 0);
  ASSERT(fds_seen > 0); /* the check above looked at real descriptors */
  file_sha256(drive, sum1);
  ASSERT_STREQ(sum1, sum0);
}

/* ---- a full disk -------------------------------------------------------------------- */

/*
** A small filesystem at dir: a tmpfs of `bytes` mounted in a mount
** namespace of the test's own (it goes when the test process ends), when
** mounting is allowed here (root); else none (returns false), and the
** caller limits the child's file size (RLIMIT_FSIZE) instead.
*/
static bool small_fs(const char *dir, size_t bytes) {
  if (mkdir(dir, 0755) && errno != EEXIST) test_fail(__FILE__, __LINE__, "mkdir %s", dir);
  if (getenv("RSIM_TEST_NO_MOUNT")) return false;
  static bool own_ns;
  if (!own_ns) {
    if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) return false;
    own_ns = true;
  }
  char opts[64];
  snprintf(opts, sizeof opts, "size=%zu,mode=0755", bytes);
  return mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) == 0;
}

/* Unmounts a small_fs so the runner can remove the test's folder. */
static void small_fs_done(const char *dir, bool mounted) {
  if (mounted) umount2(dir, MNT_DETACH);
}

/* The message a full disk gives, whichever way it was made full. */
static void assert_disk_full_message(const char *line) {
  if (!strstr(line, "No space left on device") && !strstr(line, "File too large") &&
      !strstr(line, "disk is full"))
    test_fail(__FILE__, __LINE__, "not a disk-full message: \"%s\"", line);
}

/* Nothing in dir is a temporary left over from a write that failed. */
static void assert_no_tmp(const char *dir) { ASSERT_EQ(count_files(dir, ".tmp"), 0); }

/* A run recording to a database on a full disk: it stops there with the
** error, and the database opens and holds a prefix of the run, marked
** incomplete.  The room is enough for the schema (and, on tmpfs, SQLite's
** 32 KiB shared-memory file) but not for the first commit, a second into
** the run; RLIMIT_FSIZE must leave Wasmtime the 8 KiB its memory images need. */
static void output_db_disk_full(bool allow_mount) {
  char sum0[65], sum1[65], full[1024], small[1024], db[1100], *out = NULL;
  snprintf(small, sizeof small, "%s", test_tmpfile("small"));
  bool mounted = allow_mount && small_fs(small, 128 * 1024);
  if (allow_mount && !mounted) test_skip("cannot mount a tmpfs here (fault_file_size_limit_on_the_output_database covers it)");
  if (!mounted) mkdir(small, 0755);
  const char *drive = test_make_drive("drive.db", "3s", 8);
  file_sha256(drive, sum0);
  snprintf(full, sizeof full, "%s", test_tmpfile("full.db"));
  const char *full_args[] = {"--out", full, NULL};
  ASSERT_EQ(run_cli(drive, full_args, 0, &out), 0);
  free(out);
  snprintf(db, sizeof db, "%s/run.db", small);
  const char *args[] = {"--out", db, NULL};
  int rc = run_cli(drive, args, mounted ? 0 : 128 * 1024, &out);
  fprintf(stderr, "    %s: %s\n", mounted ? "tmpfs of 128 KiB" : "RLIMIT_FSIZE of 128 KiB", test_last_line(out));
  ASSERT_NE(rc, 0);
  /* The run stopped where it met the full disk, and said so last. */
  ASSERT_CONTAINS(test_last_line(out), "run: cannot record the run: ");
  ASSERT_CONTAINS(test_last_line(out), db);
  assert_disk_full_message(test_last_line(out));
  const char *replayed = strstr(out, "replayed ");
  ASSERT(replayed != NULL);
  double sim = atof(replayed + 9);
  if (!(sim > 0.5 && sim < 2.5)) test_fail(__FILE__, __LINE__, "the run went on to %.3f s", sim);
  ASSERT(strstr(out, "outputs recorded in") == NULL);
  assert_prefix_of(db, full);
  assert_no_tmp(small);
  small_fs_done(small, mounted);
  file_sha256(drive, sum1);
  ASSERT_STREQ(sum1, sum0);
  free(out);
}

TEST(fault_disk_full_under_the_output_database) { output_db_disk_full(true); }

/* The same with a file size limit, which works without root, so a full
** disk under the output is covered wherever the tests run. */
TEST(fault_file_size_limit_on_the_output_database) { output_db_disk_full(false); }

/* Checkpoints on a full disk: the run stops with the error, no temporary
** file is left, and the checkpoints written are whole (a resume from them
** ends with the uninterrupted digest, skipping none).  Only on a tmpfs: a
** file size limit cannot do it, since checkpoint files (2-5 KiB) are
** smaller than the memory images Wasmtime must write to start (8 KiB). */
TEST(fault_disk_full_under_the_checkpoints) {
  char sum0[65], sum1[65], small[1024], *out = NULL, digest[65], rdigest[65];
  snprintf(small, sizeof small, "%s", test_tmpfile("small"));
  if (!small_fs(small, 16384)) test_skip("cannot mount a tmpfs here");
  const char *drive = test_make_drive("drive.db", "2s", 9);
  file_sha256(drive, sum0);
  const char *plain[] = {"--checkpoint-every", "100ms", NULL};
  ASSERT_EQ(run_cli(drive, plain, 0, &out), 0);
  test_find_digest(out, "digest: ", digest);
  free(out);
  const char *args[] = {"--checkpoint-every", "100ms", "--checkpoint-dir", small, NULL};
  int rc = run_cli(drive, args, 0, &out);
  fprintf(stderr, "    tmpfs of 16 KiB: %s\n", test_last_line(out));
  ASSERT_NE(rc, 0);
  ASSERT_CONTAINS(test_last_line(out), "cannot write the checkpoint");
  ASSERT_CONTAINS(test_last_line(out), small);
  assert_disk_full_message(test_last_line(out));
  assert_no_tmp(small);
  ASSERT(count_files(small, ".rsck") >= 1);
  /* Resume from a copy (the small disk is still full). */
  char cmd[4096], copy[1100];
  snprintf(copy, sizeof copy, "%s", test_tmpfile("ck-copy"));
  snprintf(cmd, sizeof cmd, "cp -r %s %s", small, copy);
  ASSERT_EQ(test_run(cmd, NULL), 0);
  const char *rargs[] = {"--checkpoint-every", "100ms", "--resume", copy, "--log-level", "info", NULL};
  free(out);
  rc = run_cli(drive, rargs, 0, &out);
  if (rc) test_fail(__FILE__, __LINE__, "resume failed (%d): %s", rc, out);
  ASSERT(strstr(out, "skipped") == NULL);
  ASSERT_CONTAINS(out, "resumed from");
  test_find_digest(out, "digest: ", rdigest);
  ASSERT_STREQ(rdigest, digest);
  small_fs_done(small, true);
  file_sha256(drive, sum1);
  ASSERT_STREQ(sum1, sum0);
  free(out);
}

/* An MCAP output on a full disk: a clear error, and neither the file nor
** its temporary is left (MCAP is written whole and renamed, or not at all). */
TEST(fault_disk_full_under_an_mcap_output) {
  const char *drive = test_make_drive("drive.db", "2s", 10);
  char sum0[65], sum1[65], small[1024], mcap[1100], *out = NULL;
  file_sha256(drive, sum0);
  snprintf(small, sizeof small, "%s", test_tmpfile("small"));
  bool mounted = small_fs(small, 65536);
  if (!mounted) mkdir(small, 0755);
  snprintf(mcap, sizeof mcap, "%s/run.mcap", small);
  const char *args[] = {"--out", mcap, NULL};
  int rc = run_cli(drive, args, mounted ? 0 : 65536, &out);
  fprintf(stderr, "    %s: %s\n", mounted ? "tmpfs of 64 KiB" : "RLIMIT_FSIZE of 64 KiB", test_last_line(out));
  ASSERT_NE(rc, 0);
  ASSERT_CONTAINS(test_last_line(out), "run.mcap");
  assert_disk_full_message(test_last_line(out));
  ASSERT_EQ(count_files(small, ".mcap"), 0);
  assert_no_tmp(small);
  small_fs_done(small, mounted);
  file_sha256(drive, sum1);
  ASSERT_STREQ(sum1, sum0);
  free(out);
}

/* ---- the input is never written ----------------------------------------------------- */

/* Starts `replaysim serve` on store and, once it serves (it has opened the
** store), checks every descriptor it holds on the store is read-only. */
static void serve_holds_read_only(const char *store) {
  char log[1024]; /* one a store: an earlier log must not answer for this serve */
  snprintf(log, sizeof log, "%s.serve.log", store);
  const char *argv[] = {test_replaysim_path(), "serve", test_demo_graph(), "--store", store, "--port", "0", NULL};
  pid_t pid = spawn(argv, log, 0, NULL);
  int64_t deadline = rsim_monotonic_ns() + 120 * (int64_t)RSIM_NS_PER_S;
  for (;;) {
    char *text = slurp(log);
    bool up = strstr(text, "serving") != NULL;
    free(text);
    if (up) break;
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) test_fail(__FILE__, __LINE__, "serve exited: %s", slurp(log));
    if (rsim_monotonic_ns() > deadline) test_fail(__FILE__, __LINE__, "serve never served");
    pause_ms(5);
  }
  int held = assert_fds_read_only(pid, store);
  kill(pid, SIGKILL);
  wait_exit(pid);
  if (held == 0) test_fail(__FILE__, __LINE__, "serve holds no descriptor on %s to check", store);
}

TEST(fault_input_stores_are_opened_read_only_and_never_change) {
  const char *drive = test_make_drive("drive.db", "2s", 12);
  char db[1024], mcap[1024], sdb[65], smcap[65], s1[65], cmd[4096], *out = NULL;
  snprintf(db, sizeof db, "%s", drive);
  snprintf(mcap, sizeof mcap, "%s", test_tmpfile("drive.mcap"));
  snprintf(cmd, sizeof cmd, "%s export %s --out %s", test_replaysim_path(), db, mcap);
  if (test_run(cmd, &out)) test_fail(__FILE__, __LINE__, "export: %s", out);
  free(out);
  file_sha256(db, sdb);
  file_sha256(mcap, smcap);
  const char *stores[2] = {db, mcap};
  for (int i = 0; i < 2; i++) {
    serve_holds_read_only(stores[i]);
    char outdb[1024], ck[1024];
    snprintf(outdb, sizeof outdb, "%s", test_tmpfile(i ? "from-mcap.db" : "from-db.db"));
    snprintf(ck, sizeof ck, "%s", test_tmpfile(i ? "ck-mcap" : "ck-db"));
    const char *args[] = {"--out", outdb, "--checkpoint-dir", ck, NULL};
    ASSERT_EQ(run_cli(stores[i], args, 0, &out), 0);
    free(out);
    snprintf(cmd, sizeof cmd, "%s info %s && %s check %s --store %s", test_replaysim_path(), stores[i],
             test_replaysim_path(), test_demo_graph(), stores[i]);
    if (test_run(cmd, &out)) test_fail(__FILE__, __LINE__, "info/check: %s", out);
    free(out);
  }
  /* No side files either: a read-only SQLite open makes no journal. */
  ASSERT_EQ(access(test_tmpfile("drive.db-journal"), F_OK), -1);
  ASSERT_EQ(access(test_tmpfile("drive.db-wal"), F_OK), -1);
  file_sha256(db, s1);
  ASSERT_STREQ(s1, sdb);
  file_sha256(mcap, s1);
  ASSERT_STREQ(s1, smcap);
}
