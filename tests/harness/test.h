/*
** test.h -- the replaysim test harness.
**
** A test is a function declared with TEST(name); it registers itself at
** start-up.  The runner (runner.c) forks one process a test, with a timeout,
** so that a crash or a hang fails that test alone.  Assertions print both
** operands and stop the test.
**
**   TEST(store_cursor_orders_equal_times) {
**     ASSERT_OK(rsim_store_open(path, &st, &eb));
**     ASSERT_EQ(n, 3);
**   }
**
** Helpers give each test a private scratch directory (test_tmpdir) and the
** paths of built artefacts (test_component_path, test_replaysim_path).
*/
#ifndef RSIM_TEST_H
#define RSIM_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsim/engine.h"

typedef void (*test_fn)(void);
void test_register(const char *name, const char *file, test_fn fn);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
/* Marks the running test as skipped (a missing optional tool) and ends it. */
void test_skip(const char *why) __attribute__((noreturn));

#define TEST(name)                                                          \
  static void test_##name(void);                                            \
  __attribute__((constructor)) static void test_register_##name(void) {     \
    test_register(#name, __FILE__, test_##name);                            \
  }                                                                         \
  static void test_##name(void)

#define ASSERT(cond)                                                        \
  do {                                                                      \
    if (!(cond)) test_fail(__FILE__, __LINE__, "assertion failed: %s", #cond); \
  } while (0)

#define ASSERT_EQ(a, b)                                                     \
  do {                                                                      \
    long long a_ = (long long)(a), b_ = (long long)(b);                     \
    if (a_ != b_)                                                           \
      test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); \
  } while (0)

#define ASSERT_NE(a, b)                                                     \
  do {                                                                      \
    long long a_ = (long long)(a), b_ = (long long)(b);                     \
    if (a_ == b_)                                                           \
      test_fail(__FILE__, __LINE__, "%s != %s: both %lld", #a, #b, a_);     \
  } while (0)

#define ASSERT_NEAR(a, b, eps)                                              \
  do {                                                                      \
    double a_ = (double)(a), b_ = (double)(b);                              \
    if (!(a_ - b_ <= (eps) && b_ - a_ <= (eps)))                            \
      test_fail(__FILE__, __LINE__, "%s ~ %s: %.9g vs %.9g (eps %g)", #a, #b, \
                a_, b_, (double)(eps));                                     \
  } while (0)

#define ASSERT_STREQ(a, b)                                                  \
  do {                                                                      \
    const char *a_ = (a), *b_ = (b);                                        \
    if (!a_ || !b_ || strcmp(a_, b_) != 0)                                  \
      test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,   \
                a_ ? a_ : "(null)", b_ ? b_ : "(null)");                    \
  } while (0)

/* Substring check: the message must mention needle. */
#define ASSERT_CONTAINS(hay, needle)                                        \
  do {                                                                      \
    const char *h_ = (hay), *n_ = (needle);                                 \
    if (!h_ || !strstr(h_, n_))                                             \
      test_fail(__FILE__, __LINE__, "%s does not contain \"%s\": \"%s\"", #hay, \
                n_, h_ ? h_ : "(null)");                                    \
  } while (0)

/* rsim calls: 0 is success. */
#define ASSERT_OK(expr)                                                     \
  do {                                                                      \
    int rc_ = (expr);                                                       \
    if (rc_ != 0) test_fail(__FILE__, __LINE__, "%s returned %d", #expr, rc_); \
  } while (0)

/* A private scratch directory for the running test (created on first use,
** removed after the test unless RSIM_TEST_KEEP is set). */
const char *test_tmpdir(void);
/* test_tmpdir()/name, in a static buffer that the next call overwrites. */
const char *test_tmpfile(const char *name);
/* Path of a built component: RSIM_BUILD_DIR/components/<name>.wasm (one of
** four static buffers used in turn).
** Fails the test when it was not built: components are part of the build. */
const char *test_component_path(const char *name);
/* Path of the replaysim command in the build tree. */
const char *test_replaysim_path(void);
/* Path of a file in the source tree (static buffer). */
const char *test_source_path(const char *rel);

/* Runs a shell command, capturing stdout+stderr into a malloc'd string
** (*out, may be NULL).  Returns the exit status, or -1 if it did not exit. */
int test_run(const char *cmd, char **out);

/* ---- fixtures shared by integration tests (fixtures.c) ---------------- */

/* The last non-empty line of a command's output (a static buffer): where a
** failed command puts its error. */
const char *test_last_line(const char *out);
/* Runs `replaysim ARGS` (ARGS a printf format; the callers quote URIs and
** paths with spaces) like test_run: *out (may be NULL) gets stdout+stderr. */
int test_replaysim(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* `replaysim generate` of a drive into the test's folder; returns its path
** (static buffer). */
const char *test_make_drive(const char *name, const char *duration, int seed);
/* `replaysim run GRAPH --store STORE --quiet EXTRA`: returns the exit code,
** *out the output, and digest (when not NULL) the final digest ("" if none). */
int test_replay(const char *graph, const char *store, const char *extra, char **out, char digest[65]);
/* The 64 hex digits that follow label in out ("" when absent). */
void test_find_digest(const char *out, const char *label, char hex[65]);
/* Writes text to a file in the test's folder; returns its path (static). */
const char *test_write_text(const char *name, const char *text);
/* The file src of the source tree with every occurrence of each from[k]
** replaced by to[k], written as name in the test's folder; fails the test
** when some from[k] does not occur, so an example that changed cannot make
** a test silently run the unedited file.  Returns the path
** (test_write_text's static buffer). */
const char *test_edit_source(const char *name, const char *src, const char *const *from, const char *const *to,
                             size_t n);
/* The demo graph with its tracker given a budget of 1 us (on_timing: warn),
** so that every tracker call logs a warning: graph.yaml in the test's
** folder; returns its path (test_write_text's static buffer). */
const char *test_demo_graph_warning(void);
/* The first column of the first row of a query on a SQLite file. */
int64_t test_query_int(const char *db, const char *sql);
/* Writes a w x h JPEG of one colour (libjpeg-turbo, quality 95, 4:4:4) into
** the test's folder; returns its path (static). */
const char *test_write_jpeg(const char *name, int w, int h, uint8_t r, uint8_t g, uint8_t b);

/* ---- a real PostgreSQL server (pg.c) ----------------------------------- */

/* postgresql://rsim@127.0.0.1:PORT/DB[?drive=DRIVE] (static buffer): one
** server a run of rsim_tests, started on first use; DB is this test's own,
** fresh database.  PGPASSWORD is set for the test and its commands. */
const char *test_pg_uri(const char *drive);
/* The server's folder (its unix socket is there) and TCP port. */
const char *test_pg_dir(void);
int test_pg_port(void);
/* Runs sql as the superuser on the test's database; fails the test on an error. */
void test_pg_exec(const char *sql);
/* The first column of the first row of a query on the test's database. */
int64_t test_pg_query_int(const char *sql);


/* ---- a straight run's digests (straight.c) ---------------------------- */

/* examples/demo/graph.yaml in the source tree (static buffer). */
const char *test_demo_graph(void);
/* A new engine over st for graph (its graph in *g; the caller frees both),
** quiet, with the checkpoint options of rsim_engine_opts (0: the engine's
** defaults).  Fails the test on error. */
rsim_engine *test_engine(const char *graph, rsim_store *st, int64_t checkpoint_every_ns, size_t checkpoint_max,
                         rsim_graph **g);

/* The digest after every instant of a straight run from the start: what a
** replay must show at any time t, however it got there. */
typedef struct test_straight {
  char start[65];   /* before the first instant */
  rsim_time *t;     /* instant i's time, ascending */
  char (*hex)[65];  /* the digest after instant i */
  size_t n, cap;
} test_straight;

/* Steps e from where it stands to the end of its drive, recording (s may be
** reused: it starts over).  Fails the test unless the run ends with EOF. */
void test_straight_record(test_straight *s, rsim_engine *e);
/* The digest after the last instant <= t; s->start before the first. */
const char *test_straight_at(const test_straight *s, rsim_time t);
/* Fails the test (at file:line) unless e's digest is the straight run's at
** e's time. */
void test_straight_expect(const test_straight *s, rsim_engine *e, const char *file, int line);
#define EXPECT_STRAIGHT(s, e) test_straight_expect((s), (e), __FILE__, __LINE__)
void test_straight_free(test_straight *s);

#endif /* RSIM_TEST_H */
