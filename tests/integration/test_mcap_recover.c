/*
** test_mcap_recover.c -- crashed recordings and damaged chunks, end to end
** on drives the generator writes: a file cut off anywhere (in the header,
** mid-chunk, right after a chunk, before the summary) replays exactly the
** readings before the cut, with a warning on every command that opens it;
** a chunk whose CRC byte is flipped stops a run naming the chunk, or, with
** --on-corrupt skip, is reported as a gap and replayed around with a digest
** that is the same on every run and after any seek.
*/
#include <stdarg.h>
#include <stdint.h>

#include "rsim/engine.h"
#include "rsim/mcap.h"
#include "rsim/store.h"
#include "test.h"


/* One reading, by what identifies it: sensor, time, a hash of its bytes. */
typedef struct rd_id {
  char sensor[32];
  rsim_time t;
  uint8_t h[32];
} rd_id;

typedef struct rd_list {
  rd_id *v;
  size_t n, cap;
} rd_list;

static void readings_of(rsim_store *st, rd_list *out) {
  rsim_cursor *c;
  const rsim_reading *r;
  out->n = 0;
  if (rsim_store_cursor_open(st, INT64_MIN, INT64_MAX, NULL, 0, &c))
    test_fail(__FILE__, __LINE__, "%s", rsim_store_errmsg(st));
  int rc;
  while ((rc = rsim_cursor_next(c, &r)) == RSIM_OK) {
    if (out->n == out->cap) out->v = realloc(out->v, (out->cap = out->cap ? 2 * out->cap : 1024) * sizeof *out->v);
    rd_id *x = &out->v[out->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->sensor, sizeof x->sensor, "%s", r->sensor_id);
    x->t = r->t;
    rsim_sha256 s;
    rsim_sha256_init(&s);
    for (size_t i = 0; i < r->n_meta; i++) {
      rsim_sha256_update(&s, r->meta[i].key, strlen(r->meta[i].key) + 1);
      rsim_sha256_update(&s, r->meta[i].value, strlen(r->meta[i].value) + 1);
    }
    rsim_sha256_update(&s, r->payload, r->payload_len);
    rsim_sha256_final(&s, x->h);
  }
  if (rc != RSIM_EEOF) test_fail(__FILE__, __LINE__, "%s", rsim_store_errmsg(st));
  rsim_cursor_close(c);
}

static bool same(const rd_id *a, const rd_id *b) {
  return !strcmp(a->sensor, b->sensor) && a->t == b->t && !memcmp(a->h, b->h, 32);
}

/* The sensor messages of the intact file in file order (the generator
** writes them in time order), with the extent of the chunk holding each. */
typedef struct msg_at {
  char sensor[32];
  uint64_t t, chunk_start, chunk_end;
} msg_at;

typedef struct layout {
  msg_at *m;
  size_t n;
  uint64_t chunks[64], chunk_ends[64], index_ends[64]; /* a chunk, its record's end, the end of its message indexes */
  size_t n_chunks;
  uint64_t data_end, size;
} layout;

static void file_layout(const char *path, layout *l) {
  memset(l, 0, sizeof *l);
  rsim_errbuf eb = {0};
  rsim_mcap_reader *rd;
  ASSERT_OK(rsim_mcap_reader_open(path, &rd, &eb));
  char topics[64][32] = {{0}};
  const rsim_mcap_record *r;
  size_t cap = 0;
  int rc;
  while ((rc = rsim_mcap_reader_next(rd, &r)) == RSIM_OK) {
    if (r->op == RSIM_MCAP_CHANNEL && r->r.channel.id < 64) {
      const rsim_mcap_str *t = &r->r.channel.topic;
      int skip = t->n && t->p[0] == '/';
      snprintf(topics[r->r.channel.id], 32, "%.*s", (int)t->n - skip, t->p + skip);
    } else if (r->op == RSIM_MCAP_CHUNK) {
      ASSERT(l->n_chunks < 64);
      l->chunks[l->n_chunks] = r->offset;
      l->chunk_ends[l->n_chunks] = l->index_ends[l->n_chunks] =
          r->offset + 9 + 8 + 8 + 8 + 4 + 4 + r->r.chunk.compression.n + 8 + r->r.chunk.records.n;
      l->n_chunks++;
    } else if (r->op == RSIM_MCAP_MESSAGE_INDEX) {
      l->index_ends[l->n_chunks - 1] = r->offset + 9 + 2 + 4 + 16 * r->r.message_index.n_records;
    } else if (r->op == RSIM_MCAP_MESSAGE && r->r.message.channel_id < 64 &&
               strcmp(topics[r->r.message.channel_id], "rsim/truth")) {
      if (l->n == cap) l->m = realloc(l->m, (cap = cap ? 2 * cap : 1024) * sizeof *l->m);
      msg_at *x = &l->m[l->n++];
      snprintf(x->sensor, sizeof x->sensor, "%s", topics[r->r.message.channel_id]);
      x->t = r->r.message.log_time;
      x->chunk_start = l->chunks[l->n_chunks - 1];
      x->chunk_end = l->chunk_ends[l->n_chunks - 1];
      if (l->n > 1) ASSERT(x->t >= l->m[l->n - 2].t); /* time order: "before the cut" is a time */
    } else if (r->op == RSIM_MCAP_DATA_END) {
      l->data_end = r->offset;
    }
  }
  ASSERT_EQ(rc, RSIM_EEOF);
  rsim_mcap_reader_close(rd);
  uint8_t *b;
  size_t n;
  ASSERT_OK(rsim_read_file(path, 1ull << 31, &b, &n, &eb));
  free(b);
  l->size = n;
  ASSERT(l->n_chunks >= 8);
}

/* The first cut bytes of src into a new file. */
static const char *cut_copy(const char *src, uint64_t cut, const char *name) {
  static char path[1024];
  snprintf(path, sizeof path, "%s", test_tmpfile(name));
  uint8_t *b;
  size_t n;
  rsim_errbuf eb = {0};
  ASSERT_OK(rsim_read_file(src, 1ull << 31, &b, &n, &eb));
  ASSERT(cut <= n);
  FILE *f = fopen(path, "wb");
  ASSERT(f != NULL);
  ASSERT_EQ(fwrite(b, 1, (size_t)cut, f), (size_t)cut);
  fclose(f);
  free(b);
  return path;
}

/*
** The cut file gives exactly the readings before the cut: the first k
** sensor messages in file order for some k at least all those of whole
** chunks; with T the time of the first one missing, that is every intact
** reading before T, identical, and some of those at T.
*/
static void check_cut(const layout *l, const rd_list *intact, const char *drive, uint64_t cut, bool mid_chunk) {
  const char *path = cut_copy(drive, cut, "cut.mcap");
  rsim_errbuf eb = {0};
  rsim_store *st;
  if (rsim_store_open(path, &st, &eb)) test_fail(__FILE__, __LINE__, "cut at %llu: %s", (unsigned long long)cut, eb.msg);
  ASSERT(rsim_store_n_warnings(st) >= 1);
  ASSERT_CONTAINS(rsim_store_warning(st, 0), "cut.mcap");
  ASSERT_CONTAINS(rsim_store_warning(st, 0), "replayed unindexed");
  ASSERT_CONTAINS(rsim_store_warning(st, 0), "the scan stopped at");
  rd_list got = {0};
  readings_of(st, &got);
  size_t k = got.n, whole = 0;
  for (size_t i = 0; i < l->n; i++) whole += l->m[i].chunk_end <= cut;
  if (k < whole || k > l->n)
    test_fail(__FILE__, __LINE__, "cut at %llu: %zu readings, %zu in whole chunks", (unsigned long long)cut, k, whole);
  if (mid_chunk && k == whole)
    test_fail(__FILE__, __LINE__, "cut at %llu (mid-chunk): nothing read from the chunk's whole part", (unsigned long long)cut);
  rsim_time T = k < l->n ? (rsim_time)l->m[k].t : INT64_MAX;
  size_t before = 0, at_T = 0, want_at_T = 0;
  for (size_t i = 0; i < intact->n && intact->v[i].t < T; i++) before++;
  for (size_t i = 0; i < k; i++) want_at_T += (rsim_time)l->m[i].t == T;
  for (size_t i = 0; i < got.n; i++) {
    if (got.v[i].t < T) {
      if (i >= before || !same(&got.v[i], &intact->v[i]))
        test_fail(__FILE__, __LINE__, "cut at %llu: reading %zu (%s at %lld) is not the intact file's",
                  (unsigned long long)cut, i, got.v[i].sensor, (long long)got.v[i].t);
    } else {
      ASSERT_EQ(got.v[i].t, T);
      bool found = false;
      for (size_t j = before; j < intact->n && intact->v[j].t == T; j++) found |= same(&got.v[i], &intact->v[j]);
      ASSERT(found);
      at_T++;
    }
  }
  ASSERT_EQ(got.n - at_T, before);
  ASSERT_EQ(at_T, want_at_T);
  rsim_time first, last;
  if (k) {
    ASSERT_OK(rsim_store_time_range(st, &first, &last));
    ASSERT_EQ(last, got.v[got.n - 1].t);
    int64_t count;
    ASSERT_OK(rsim_store_count(st, NULL, &count));
    ASSERT_EQ(count, (int64_t)k);
  }
  free(got.v);
  rsim_store_close(st);
}

TEST(mcap_crashed_recording_replays_every_reading_before_the_cut) {
  const char *drive = test_make_drive("drive.mcap", "3s", 21);
  static layout l;
  file_layout(drive, &l);
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(drive, &st, &eb));
  ASSERT_EQ(rsim_store_n_warnings(st), 0u);
  rd_list intact = {0};
  readings_of(st, &intact);
  rsim_store_close(st);
  ASSERT_EQ(intact.n, l.n);
  /* Inside the header region: the Header record itself is cut, so there
  ** is nothing to replay, and the error says where the scan stopped. */
  const char *path = cut_copy(drive, 8 + 9 + 3, "head.mcap");
  ASSERT_NE(rsim_store_open(path, &st, &eb), RSIM_OK);
  ASSERT_CONTAINS(eb.msg, "head.mcap");
  ASSERT_CONTAINS(eb.msg, "Header record cut off at offset 8");
  /* In the first chunk (its schemas and channels come first in it). */
  check_cut(&l, &intact, drive, l.chunks[0] + (l.chunk_ends[0] - l.chunks[0]) / 2, true);
  /* Mid-chunk further on, right after a chunk record (its message indexes
  ** cut off), right after its message indexes. */
  check_cut(&l, &intact, drive, l.chunks[5] + (l.chunk_ends[5] - l.chunks[5]) / 3, true);
  check_cut(&l, &intact, drive, l.chunk_ends[5], false);
  check_cut(&l, &intact, drive, l.index_ends[5], false);
  check_cut(&l, &intact, drive, l.chunks[6] + 30, false); /* inside the next chunk's header */
  /* Before the summary: at Data End, after it, and all but the last byte. */
  check_cut(&l, &intact, drive, l.data_end, false);
  check_cut(&l, &intact, drive, l.data_end + 9 + 4, false);
  check_cut(&l, &intact, drive, l.size - 1, false);
  free(intact.v);
  free(l.m);
}

/* Runs replaysim with "%s" for the tool; returns the exit code and output. */
static int sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(char **out, const char *fmt, ...) {
  char args[4096], cmd[5000];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  snprintf(cmd, sizeof cmd, "%s %s", test_replaysim_path(), args);
  return test_run(cmd, out);
}

TEST(mcap_crashed_recording_warning_reaches_every_command) {
  const char *drive = test_make_drive("drive.mcap", "3s", 22);
  static layout l;
  file_layout(drive, &l);
  char cut[1024], db[1024], again[1024];
  snprintf(cut, sizeof cut, "%s", cut_copy(drive, l.chunks[4] + (l.chunk_ends[4] - l.chunks[4]) / 2, "cut.mcap"));
  snprintf(db, sizeof db, "%s", test_tmpfile("cut.db"));
  snprintf(again, sizeof again, "%s", test_tmpfile("again.mcap"));
  char *out = NULL;
  ASSERT_EQ(sh(&out, "info %s", cut), 0);
  ASSERT_CONTAINS(out, "warning: ");
  ASSERT_CONTAINS(out, "replayed unindexed");
  free(out);
  ASSERT_EQ(sh(&out, "mcap info %s", cut), 0);
  ASSERT_CONTAINS(out, "warning:   unindexed");
  ASSERT_CONTAINS(out, "Chunk record cut off");
  free(out);
  ASSERT_EQ(sh(&out, "run %s --store %s --quiet", test_demo_graph(), cut), 0);
  ASSERT_CONTAINS(out, "warning: ");
  ASSERT_CONTAINS(out, "replayed unindexed");
  ASSERT_CONTAINS(out, "digest: ");
  free(out);
  ASSERT_EQ(sh(&out, "import %s --out %s", cut, db), 0);
  ASSERT_CONTAINS(out, "replayed unindexed");
  free(out);
  ASSERT_EQ(sh(&out, "export %s --out %s", cut, again), 0);
  ASSERT_CONTAINS(out, "replayed unindexed");
  free(out);
  /* What was imported is every reading the cut file replays. */
  rsim_errbuf eb = {0};
  rsim_store *a, *b;
  ASSERT_OK(rsim_store_open(cut, &a, &eb));
  ASSERT_OK(rsim_store_open(db, &b, &eb));
  rd_list ra = {0}, rb = {0};
  readings_of(a, &ra);
  readings_of(b, &rb);
  ASSERT(ra.n > 100);
  ASSERT_EQ(ra.n, rb.n);
  for (size_t i = 0; i < ra.n; i++) ASSERT(same(&ra.v[i], &rb.v[i]));
  free(ra.v);
  free(rb.v);
  rsim_store_close(a);
  rsim_store_close(b);
  free(l.m);
}

/* A copy of the drive with the first byte of chunk k's CRC flipped. */
static const char *flip_crc(const char *drive, const layout *l, size_t k, const char *name) {
  const char *path = cut_copy(drive, l->size, name);
  FILE *f = fopen(path, "r+b");
  ASSERT(f != NULL);
  ASSERT_EQ(fseek(f, (long)(l->chunks[k] + 9 + 24), SEEK_SET), 0);
  int c = fgetc(f);
  ASSERT_EQ(fseek(f, (long)(l->chunks[k] + 9 + 24), SEEK_SET), 0);
  fputc(c ^ 0x01, f);
  fclose(f);
  return path;
}

TEST(mcap_damaged_chunk_stops_naming_it_or_is_skipped_as_a_gap) {
  const char *drive = test_make_drive("drive.mcap", "3s", 23);
  static layout l;
  file_layout(drive, &l);
  char bad[1024];
  snprintf(bad, sizeof bad, "%s", flip_crc(drive, &l, 3, "bad.mcap"));
  char off[64];
  snprintf(off, sizeof off, "offset %llu: Chunk: crc mismatch", (unsigned long long)l.chunks[3]);
  /* Stop (the default): the run fails with an error naming file and chunk. */
  char *out = NULL, name_off[1200];
  ASSERT_EQ(sh(&out, "run %s --store %s --quiet", test_demo_graph(), bad), 1);
  snprintf(name_off, sizeof name_off, "%s: %s", bad, off);
  ASSERT_CONTAINS(out, name_off);
  ASSERT_CONTAINS(out, "--on-corrupt skip");
  free(out);
  /* Skip: the gap is reported (file, time range, sensors), the run goes on. */
  char d1[65], d2[65];
  ASSERT_EQ(test_replay(test_demo_graph(), bad, "--on-corrupt skip", &out, d1), 0);
  ASSERT_CONTAINS(out, "warning: gap: ");
  ASSERT_CONTAINS(out, off);
  ASSERT_CONTAINS(out, "are missing for camera_front");
  ASSERT_CONTAINS(out, "gaps: 1 damaged chunks");
  free(out);
  ASSERT_EQ(test_replay(test_demo_graph(), bad, "--on-corrupt skip", &out, d2), 0);
  free(out);
  ASSERT_EQ(strlen(d1), 64u);
  ASSERT_STREQ(d1, d2);
  ASSERT_EQ(sh(&out, "run %s --store %s --quiet --on-corrupt sometimes", test_demo_graph(), bad), 1);
  ASSERT_CONTAINS(out, "--on-corrupt 'sometimes': must be stop or skip");
  free(out);
  /* The readings: the intact file's, less exactly those of the chunk. */
  rsim_errbuf eb = {0};
  rsim_store *st;
  ASSERT_OK(rsim_store_open(drive, &st, &eb));
  rd_list intact = {0}, got = {0};
  readings_of(st, &intact);
  rsim_store_close(st);
  rsim_store_opts o = {.skip_corrupt = true};
  ASSERT_OK(rsim_store_open_opts(bad, &o, &st, &eb));
  readings_of(st, &got);
  ASSERT_EQ(rsim_store_n_gaps(st), 1u);
  ASSERT_CONTAINS(rsim_store_warning(st, 0), off);
  size_t j = 0, lost = 0;
  for (size_t i = 0; i < intact.n; i++) {
    bool in_bad = false;
    for (size_t m = 0; m < l.n && !in_bad; m++)
      in_bad = l.m[m].chunk_start == l.chunks[3] && (rsim_time)l.m[m].t == intact.v[i].t &&
               !strcmp(l.m[m].sensor, intact.v[i].sensor);
    if (in_bad) {
      lost++;
      continue;
    }
    ASSERT(j < got.n && same(&got.v[j], &intact.v[i]));
    j++;
  }
  ASSERT_EQ(j, got.n);
  ASSERT(lost > 10);
  rsim_store_close(st);
  free(intact.v);
  free(got.v);
  free(l.m);
}

TEST(mcap_skip_run_digest_is_the_same_across_runs_and_seeks) {
  const char *drive = test_make_drive("drive.mcap", "3s", 24);
  static layout l;
  file_layout(drive, &l);
  const char *bad = flip_crc(drive, &l, 4, "bad.mcap");
  rsim_errbuf eb = {0};
  rsim_store_opts o = {.skip_corrupt = true};
  test_straight r = {0};
  char end1[65], end2[65];
  /* Two straight runs, each on a store of its own. */
  for (int run = 0; run < 2; run++) {
    rsim_store *st;
    ASSERT_OK(rsim_store_open_opts(bad, &o, &st, &eb));
    rsim_graph *g;
    rsim_engine *e = test_engine(test_demo_graph(), st, 500000000, 0, &g);
    test_straight_record(&r, e);
    ASSERT_EQ(rsim_store_n_gaps(st), 1u);
    rsim_engine_digest(e, run ? end2 : end1);
    rsim_engine_free(e);
    rsim_graph_free(g);
    rsim_store_close(st);
  }
  ASSERT_STREQ(end1, end2);
  ASSERT(r.n > 100);
  /* Seeks across the gap, backward and forward, land on the straight
  ** run's digest, and the run goes on exactly from there. */
  rsim_store *st;
  ASSERT_OK(rsim_store_open_opts(bad, &o, &st, &eb));
  rsim_graph *g;
  rsim_engine *e = test_engine(test_demo_graph(), st, 500000000, 0, &g);
  while (rsim_engine_step(e) == RSIM_OK) {
  }
  rsim_time from, to;
  rsim_engine_range(e, &from, &to);
  rsim_time g0 = INT64_MAX, g1 = 0; /* the gap's readings' times */
  for (size_t i = 0; i < l.n; i++)
    if (l.m[i].chunk_start == l.chunks[4]) {
      g0 = (rsim_time)l.m[i].t < g0 ? (rsim_time)l.m[i].t : g0;
      g1 = (rsim_time)l.m[i].t > g1 ? (rsim_time)l.m[i].t : g1;
    }
  ASSERT(g0 < g1);
  const rsim_time ts[] = {from + (to - from) / 2, (g0 + g1) / 2, from + (to - from) / 5, to, g1 + 1,
                          r.t[r.n / 3],           from,          g0 - 1,                 (g0 + g1) / 2};
  for (size_t k = 0; k < sizeof ts / sizeof *ts; k++) {
    if (rsim_engine_seek(e, ts[k])) test_fail(__FILE__, __LINE__, "seek: %s", rsim_engine_errmsg(e));
    char hex[65];
    rsim_engine_digest(e, hex);
    ASSERT_STREQ(hex, test_straight_at(&r, ts[k]));
    for (int s = 0; s < 5 && rsim_engine_step(e) == RSIM_OK; s++) EXPECT_STRAIGHT(&r, e);
  }
  while (rsim_engine_step(e) == RSIM_OK) {
  }
  char hex[65];
  rsim_engine_digest(e, hex);
  ASSERT_STREQ(hex, end1);
  ASSERT_EQ(rsim_store_n_gaps(st), 1u); /* one gap, however often it was read */
  rsim_engine_free(e);
  rsim_graph_free(g);
  rsim_store_close(st);
  test_straight_free(&r);
  free(l.m);
}
