/*
** runner.c -- runs the registered tests, one forked process each.
**
** Usage: rsim_tests [--list] [--filter SUBSTR] [--timeout SECONDS]
** A test passes when its process exits 0; a failed assertion exits 1, a
** skip exits 77, a crash or a timeout is a failure.  The last line printed
** is "N passed, N failed, N skipped", which CI reads.
*/
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define MAX_TESTS 1024

typedef struct test_case {
  const char *name;
  const char *file;
  test_fn fn;
} test_case;

static test_case g_tests[MAX_TESTS];
static int g_ntests;
static const char *g_current;
static char g_tmpdir[512];

void test_register(const char *name, const char *file, test_fn fn) {
  if (g_ntests >= MAX_TESTS) {
    fprintf(stderr, "too many tests\n");
    exit(2);
  }
  g_tests[g_ntests++] = (test_case){name, file, fn};
}

void test_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "    %s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

void test_skip(const char *why) {
  fprintf(stderr, "    skipped: %s\n", why);
  exit(77);
}

static int cmp_tests(const void *a, const void *b) {
  const test_case *x = a, *y = b;
  int c = strcmp(x->file, y->file);
  return c ? c : strcmp(x->name, y->name);
}

const char *test_tmpdir(void) {
  if (!g_tmpdir[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(g_tmpdir, sizeof g_tmpdir, "%s/rsim-test-%s-XXXXXX", base ? base : "/tmp",
             g_current ? g_current : "x");
    if (!mkdtemp(g_tmpdir)) test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
  }
  return g_tmpdir;
}

const char *test_tmpfile(const char *name) {
  static char buf[1024];
  snprintf(buf, sizeof buf, "%s/%s", test_tmpdir(), name);
  return buf;
}

const char *test_component_path(const char *name) {
  /* A few buffers in turn, so that two paths can be used in one call. */
  static char bufs[4][1024];
  static int next;
  char *buf = bufs[next++ % 4];
  snprintf(buf, sizeof bufs[0], "%s/components/%s.wasm", RSIM_BUILD_DIR, name);
  if (access(buf, R_OK) != 0) test_fail(__FILE__, __LINE__, "component %s not built", buf);
  return buf;
}

const char *test_replaysim_path(void) { return RSIM_BUILD_DIR "/bin/replaysim"; }

const char *test_source_path(const char *rel) {
  static char buf[1024];
  snprintf(buf, sizeof buf, "%s/%s", RSIM_SOURCE_DIR, rel);
  return buf;
}

int test_run(const char *cmd, char **out) {
  char full[8192];
  snprintf(full, sizeof full, "%s 2>&1", cmd);
  FILE *p = popen(full, "r");
  if (!p) return -1;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while (buf && (n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
    len += n;
    if (cap - len < 1024) {
      cap *= 2;
      buf = realloc(buf, cap);
    }
  }
  if (buf) buf[len] = 0;
  int st = pclose(p);
  if (out) *out = buf;
  else free(buf);
  if (getenv("RSIM_TEST_VERBOSE")) fprintf(stderr, "$ %s\n%s\n", cmd, buf ? buf : "");
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void remove_tree(const char *path) {
  DIR *d = opendir(path);
  if (!d) {
    unlink(path);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char sub[2048];
    snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
    struct stat st;
    if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(sub);
    else unlink(sub);
  }
  closedir(d);
  rmdir(path);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs one test in a child; returns 0 pass, 1 fail, 2 skip. */
static int run_one(const test_case *t, int timeout_s) {
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    setpgid(0, 0);
    g_current = t->name;
    alarm((unsigned)timeout_s);
    t->fn();
    if (g_tmpdir[0] && !getenv("RSIM_TEST_KEEP")) remove_tree(g_tmpdir);
    fflush(NULL);
    _exit(0);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  kill(-pid, SIGKILL); /* stray grandchildren (servers) of the test */
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 77) return 2;
  if (WIFSIGNALED(st))
    fprintf(stderr, "    killed by signal %d%s\n", WTERMSIG(st),
            WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
  return 1;
}

int main(int argc, char **argv) {
  const char *filter = NULL;
  int timeout_s = 300, list = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout_s = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--list")) list = 1;
    else if (argv[i][0] != '-') filter = argv[i];
    else {
      fprintf(stderr, "usage: %s [--list] [--filter SUBSTR] [--timeout S]\n", argv[0]);
      return 2;
    }
  }
  const char *mult = getenv("RSIM_TEST_TIMEOUT_MULTIPLIER");
  if (mult) timeout_s *= atoi(mult) > 0 ? atoi(mult) : 1;
  qsort(g_tests, (size_t)g_ntests, sizeof g_tests[0], cmp_tests);
  int passed = 0, failed = 0, skipped = 0;
  for (int i = 0; i < g_ntests; i++) {
    const test_case *t = &g_tests[i];
    if (filter && !strstr(t->name, filter) && !strstr(t->file, filter)) continue;
    if (list) {
      printf("%s\n", t->name);
      continue;
    }
    double t0 = now_s();
    fflush(stdout);
    int r = run_one(t, timeout_s);
    const char *base = strrchr(t->file, '/');
    printf("%-5s %-52s %6.2fs  (%s)\n", r == 0 ? "ok" : r == 2 ? "skip" : "FAIL", t->name,
           now_s() - t0, base ? base + 1 : t->file);
    fflush(stdout);
    if (r == 0) passed++;
    else if (r == 2) skipped++;
    else failed++;
  }
  if (!list) printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed ? 1 : 0;
}
