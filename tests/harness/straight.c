/*
** straight.c -- the digests of a straight run, for tests of exactness.
**
** Seeks, steps back, read-ahead and skipped chunks all promise the same
** thing: whatever path led to sim time t, the run digest is the one a
** straight run from the start had after its last instant <= t.  The tests
** that check it record that straight run once here and ask it at each t.
*/
#include "test.h"

const char *test_demo_graph(void) { return test_source_path("examples/demo/graph.yaml"); }

rsim_engine *test_engine(const char *graph, rsim_store *st, int64_t checkpoint_every_ns, size_t checkpoint_max,
                         rsim_graph **g) {
  rsim_errbuf eb = {0};
  if (rsim_graph_load(graph, g, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_engine_opts o = {.store = st,
                        .checkpoint_every_ns = checkpoint_every_ns,
                        .checkpoint_max = checkpoint_max,
                        .log_level = RSIM_LOG_ERROR};
  rsim_engine *e;
  if (rsim_engine_new(*g, &o, &e, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  return e;
}

void test_straight_record(test_straight *s, rsim_engine *e) {
  s->n = 0;
  rsim_engine_digest(e, s->start);
  int rc;
  while ((rc = rsim_engine_step(e)) == RSIM_OK) {
    if (s->n == s->cap) {
      size_t cap = s->cap ? 2 * s->cap : 256;
      rsim_time *t = realloc(s->t, cap * sizeof *t);
      if (!t) test_fail(__FILE__, __LINE__, "out of memory");
      s->t = t;
      char(*hex)[65] = realloc(s->hex, cap * sizeof *hex);
      if (!hex) test_fail(__FILE__, __LINE__, "out of memory");
      s->hex = hex;
      s->cap = cap;
    }
    s->t[s->n] = rsim_engine_time(e);
    rsim_engine_digest(e, s->hex[s->n++]);
  }
  if (rc != RSIM_EEOF) test_fail(__FILE__, __LINE__, "straight run: %s", rsim_engine_errmsg(e));
}

const char *test_straight_at(const test_straight *s, rsim_time t) {
  const char *d = s->start;
  for (size_t i = 0; i < s->n && s->t[i] <= t; i++) d = s->hex[i];
  return d;
}

void test_straight_expect(const test_straight *s, rsim_engine *e, const char *file, int line) {
  char hex[65];
  rsim_engine_digest(e, hex);
  rsim_time t = rsim_engine_time(e);
  const char *want = test_straight_at(s, t);
  if (strcmp(hex, want))
    test_fail(file, line, "at t=%lld: digest %.16s..., a straight run has %.16s...", (long long)t, hex, want);
}

void test_straight_free(test_straight *s) {
  free(s->t);
  free(s->hex);
  memset(s, 0, sizeof *s);
}
