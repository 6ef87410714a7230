/*
** test_mcap_recover.c -- the MCAP reader on crashed recordings and damaged
** chunks: a file cut off anywhere is indexed by a scan and gives every
** whole message before the cut (for zstd, lz4 and uncompressed chunks,
** also from the whole part of a cut chunk); a chunk whose CRC fails is an
** error naming it, or, with skip_corrupt, a gap reported once and skipped
** the same way by every iteration, latest() and reopened readers.
*/
#include "rsim/mcap.h"
#include "test.h"

/* 2 channels, n messages alternating, log_time = 1000 + 7*i, sequence i. */
static const char *write_file(const char *name, const char *compression, int n, uint64_t chunk_size) {
  static char path[1024];
  snprintf(path, sizeof path, "%s", test_tmpfile(name));
  rsim_errbuf eb = {0};
  rsim_mcap_writer *w;
  rsim_mcap_writer_opts o = {.compression = compression, .chunk_size = chunk_size};
  ASSERT_OK(rsim_mcap_writer_open(path, &o, &w, &eb));
  uint16_t s, ch[2];
  ASSERT_OK(rsim_mcap_writer_add_schema(w, "rsim.Test", "jsonschema", (const uint8_t *)"{}", 2, &s));
  ASSERT_OK(rsim_mcap_writer_add_channel(w, s, "/a", "json", NULL, 0, &ch[0]));
  ASSERT_OK(rsim_mcap_writer_add_channel(w, s, "/b", "json", NULL, 0, &ch[1]));
  for (int i = 0; i < n; i++) {
    char data[96];
    /* Varied bytes so that compressed chunks are not tiny. */
    int len = snprintf(data, sizeof data, "{\"i\":%d,\"x\":%u}", i, (unsigned)(i * 2654435761u));
    ASSERT_OK(rsim_mcap_writer_write(w, ch[i % 2], (uint32_t)i, 1000 + 7 * (uint64_t)i, 1000 + 7 * (uint64_t)i,
                                     (const uint8_t *)data, (size_t)len));
  }
  ASSERT_OK(rsim_mcap_writer_close(w, &eb));
  return path;
}

/* Where each message's chunk starts and ends in the file, in file order
** (our writer writes messages in time order, sequence = index). */
typedef struct layout {
  uint64_t chunk_start[20000], chunk_end[20000];
  size_t n;
  uint64_t data_end;
} layout;

static void file_layout(const char *path, layout *l) {
  rsim_errbuf eb = {0};
  rsim_mcap_reader *rd;
  ASSERT_OK(rsim_mcap_reader_open(path, &rd, &eb));
  const rsim_mcap_record *r;
  uint64_t cs = 0, ce = 0;
  l->n = 0;
  while (rsim_mcap_reader_next(rd, &r) == RSIM_OK) {
    if (r->op == RSIM_MCAP_CHUNK) {
      cs = r->offset;
      ce = r->offset + 9 + 8 + 8 + 8 + 4 + 4 + r->r.chunk.compression.n + 8 + r->r.chunk.records.n;
    } else if (r->op == RSIM_MCAP_MESSAGE && r->in_chunk) {
      ASSERT_EQ(r->r.message.sequence, (uint32_t)l->n);
      l->chunk_start[l->n] = cs;
      l->chunk_end[l->n++] = ce;
    } else if (r->op == RSIM_MCAP_DATA_END) {
      l->data_end = r->offset;
    }
  }
  rsim_mcap_reader_close(rd);
}

/* Messages of the scan's indexed iteration; each must be the next one in
** file order.  Returns how many. */
static size_t scanned_prefix(rsim_mcap_reader *rd) {
  const rsim_mcap_message *m;
  size_t k = 0;
  ASSERT_OK(rsim_mcap_reader_messages(rd, 0, UINT64_MAX, NULL, 0));
  int rc;
  while ((rc = rsim_mcap_reader_next_message(rd, &m)) == RSIM_OK) {
    if (m->sequence != k || m->log_time != 1000 + 7 * (uint64_t)k)
      test_fail(__FILE__, __LINE__, "message %zu of the scan is sequence %u", k, m->sequence);
    k++;
  }
  if (rc != RSIM_EEOF) test_fail(__FILE__, __LINE__, "%s", rsim_mcap_reader_errmsg(rd));
  return k;
}

static void cuts_give_whole_prefix(const char *compression, uint64_t chunk_size, size_t stride, bool want_partial) {
  static layout l;
  const char *path = write_file("cut.mcap", compression, 3000, chunk_size);
  file_layout(path, &l);
  ASSERT_EQ(l.n, 3000u);
  uint8_t *bytes;
  size_t len;
  rsim_errbuf eb = {0};
  ASSERT_OK(rsim_read_file(path, 1 << 26, &bytes, &len, &eb));
  size_t from_part = 0;
  for (size_t cut = 8; cut <= len; cut += stride) {
    rsim_mcap_reader *rd;
    ASSERT_OK(rsim_mcap_reader_open_memory("cut.mcap", bytes, cut, &rd, &eb));
    if (cut < len) ASSERT_EQ(rsim_mcap_reader_summary(rd), RSIM_ENOTFOUND);
    ASSERT_OK(rsim_mcap_reader_scan(rd));
    const rsim_mcap_scan_info *si = rsim_mcap_reader_scan_info(rd);
    ASSERT(si != NULL);
    ASSERT(si->scanned <= cut && si->stop[0]);
    size_t k = scanned_prefix(rd);
    /* Every message of a chunk that ends before the cut; none of a chunk
    ** that starts after it. */
    size_t whole = 0, started = 0;
    for (size_t i = 0; i < l.n; i++) {
      whole += l.chunk_end[i] <= cut;
      started += l.chunk_start[i] < cut;
    }
    if (k < whole || k > started)
      test_fail(__FILE__, __LINE__, "%s cut at %zu: %zu messages, %zu in whole chunks, %zu in chunks begun", compression,
                cut, k, whole, started);
    if (cut >= l.data_end) ASSERT_EQ(k, l.n);
    ASSERT_EQ(si->messages, (uint64_t)k);
    ASSERT_EQ(rsim_mcap_statistics(rd)->r.statistics.message_count, (uint64_t)k);
    from_part += k - whole;
    ASSERT_EQ(si->cut_messages, (uint64_t)(k - whole));
    if (k) {
      /* latest() through the scan's index: the last message of a channel. */
      const rsim_mcap_message *m;
      uint64_t t_last = 1000 + 7 * (uint64_t)(k - 1);
      ASSERT_OK(rsim_mcap_reader_latest(rd, (uint16_t)(1 + (k - 1) % 2), UINT64_MAX, &m));
      ASSERT_EQ(m->log_time, t_last);
      ASSERT_EQ(si->t_last, t_last);
      /* A reopened reader shares the index: the same messages. */
      rsim_mcap_reader *rd2;
      ASSERT_OK(rsim_mcap_reader_reopen(rd, &rd2, &eb));
      ASSERT_EQ(scanned_prefix(rd2), k);
      rsim_mcap_reader_close(rd2);
    }
    rsim_mcap_reader_close(rd);
  }
  /* Cut chunks gave messages from their whole part. */
  if (want_partial) ASSERT(from_part > 0);
  free(bytes);
}

TEST(mcap_scan_of_a_cut_file_gives_every_whole_message_before_the_cut) {
  cuts_give_whole_prefix("", 4096, 61, true);
  cuts_give_whole_prefix("lz4", 4096, 61, false);
  cuts_give_whole_prefix("zstd", 4096, 61, false);
  /* Chunks over zstd's 128 KiB block: a cut chunk's whole blocks decode. */
  cuts_give_whole_prefix("zstd", 400000, 997, true);
}

TEST(mcap_scan_of_a_finished_file_equals_its_summary) {
  const char *path = write_file("whole.mcap", "zstd", 2000, 8192);
  rsim_errbuf eb = {0};
  rsim_mcap_reader *a, *b;
  ASSERT_OK(rsim_mcap_reader_open(path, &a, &eb));
  ASSERT_OK(rsim_mcap_reader_open(path, &b, &eb));
  ASSERT_OK(rsim_mcap_reader_summary(a));
  ASSERT_OK(rsim_mcap_reader_scan(b));
  ASSERT(rsim_mcap_reader_scan_info(a) == NULL);
  ASSERT_CONTAINS(rsim_mcap_reader_scan_info(b)->stop, "end of the data section");
  const rsim_mcap_record *sa = rsim_mcap_statistics(a), *sb = rsim_mcap_statistics(b);
  ASSERT_EQ(sa->r.statistics.message_count, sb->r.statistics.message_count);
  ASSERT_EQ(sa->r.statistics.message_start_time, sb->r.statistics.message_start_time);
  ASSERT_EQ(sa->r.statistics.message_end_time, sb->r.statistics.message_end_time);
  ASSERT_EQ(sa->r.statistics.chunk_count, sb->r.statistics.chunk_count);
  size_t na, nb;
  rsim_mcap_channels(a, &na);
  rsim_mcap_channels(b, &nb);
  ASSERT_EQ(na, nb);
  rsim_mcap_schemas(a, &na);
  rsim_mcap_schemas(b, &nb);
  ASSERT_EQ(na, nb);
  ASSERT_EQ(scanned_prefix(b), 2000u);
  rsim_mcap_reader_close(a);
  rsim_mcap_reader_close(b);
}

typedef struct gaps {
  int n;
  uint64_t offset, start, end;
  size_t n_channels;
  char why[512];
} gaps;

static void on_gap(void *ud, const rsim_mcap_gap *g) {
  gaps *x = ud;
  x->n++;
  x->offset = g->offset;
  x->start = g->start;
  x->end = g->end;
  x->n_channels = g->n_channels;
  snprintf(x->why, sizeof x->why, "%s", g->why);
}

/* The file offset of the k-th chunk and the sequences it holds. */
static uint64_t chunk_k(const char *path, int k, uint32_t *first, uint32_t *last) {
  rsim_errbuf eb = {0};
  rsim_mcap_reader *rd;
  ASSERT_OK(rsim_mcap_reader_open(path, &rd, &eb));
  const rsim_mcap_record *r;
  int seen = -1;
  uint64_t off = 0;
  bool any = false;
  while (rsim_mcap_reader_next(rd, &r) == RSIM_OK) {
    if (r->op == RSIM_MCAP_CHUNK && ++seen == k) off = r->offset;
    if (r->op == RSIM_MCAP_MESSAGE && seen == k) {
      if (!any) *first = r->r.message.sequence;
      *last = r->r.message.sequence;
      any = true;
    }
  }
  rsim_mcap_reader_close(rd);
  ASSERT(any);
  return off;
}

/* Iterates all messages: the sequences not in [skip0, skip1] in order. */
static void expect_all_but(rsim_mcap_reader *rd, int n, uint32_t skip0, uint32_t skip1) {
  ASSERT_OK(rsim_mcap_reader_messages(rd, 0, UINT64_MAX, NULL, 0));
  const rsim_mcap_message *m;
  uint32_t want = 0;
  int rc;
  while ((rc = rsim_mcap_reader_next_message(rd, &m)) == RSIM_OK) {
    if (want == skip0) want = skip1 + 1;
    ASSERT_EQ(m->sequence, want);
    want++;
  }
  ASSERT_EQ(rc, RSIM_EEOF);
  ASSERT_EQ(want, (uint32_t)n);
}

static void damaged_chunk(bool cut) {
  const char *path = write_file("crc.mcap", "zstd", 1200, 4096);
  uint32_t s0 = 0, s1 = 0;
  uint64_t off = chunk_k(path, 2, &s0, &s1);
  uint8_t *bytes;
  size_t len;
  rsim_errbuf eb = {0};
  ASSERT_OK(rsim_read_file(path, 1 << 26, &bytes, &len, &eb));
  bytes[off + 9 + 24] ^= 0x01; /* the first byte of its uncompressed_crc */
  if (cut) len = (size_t)off + (len - (size_t)off) / 2; /* and the file cut off after it, no footer */
  /* Stop (the default): the error names the file and the chunk. */
  rsim_mcap_reader *rd;
  ASSERT_OK(rsim_mcap_reader_open_memory("crc.mcap", bytes, len, &rd, &eb));
  int rc = cut ? rsim_mcap_reader_scan(rd) : rsim_mcap_reader_messages(rd, 0, UINT64_MAX, NULL, 0);
  const rsim_mcap_message *m;
  while (!rc && (rc = rsim_mcap_reader_next_message(rd, &m)) == RSIM_OK) {
  }
  ASSERT_EQ(rc, RSIM_ECORRUPT);
  char want[128];
  snprintf(want, sizeof want, "crc.mcap: offset %llu: Chunk: crc mismatch", (unsigned long long)off);
  ASSERT_CONTAINS(rsim_mcap_reader_errmsg(rd), want);
  rsim_mcap_reader_close(rd);
  /* Skip: told once, with the chunk's time range and channels, and the
  ** same messages missing in every iteration. */
  gaps g = {0};
  ASSERT_OK(rsim_mcap_reader_open_memory("crc.mcap", bytes, len, &rd, &eb));
  rsim_mcap_reader_skip_corrupt(rd, on_gap, &g);
  if (cut) ASSERT_OK(rsim_mcap_reader_scan(rd));
  int n = cut ? (int)rsim_mcap_reader_scan_info(rd)->messages + (int)(s1 - s0 + 1) : 1200;
  expect_all_but(rd, n, s0, s1);
  ASSERT_EQ(g.n, 1);
  ASSERT_EQ(g.offset, off);
  ASSERT_EQ(g.start, 1000 + 7 * (uint64_t)s0);
  ASSERT_EQ(g.end, 1000 + 7 * (uint64_t)s1);
  ASSERT_EQ(g.n_channels, 2u);
  ASSERT_CONTAINS(g.why, want);
  expect_all_but(rd, n, s0, s1);
  /* latest() at a time inside the gap: the message before it. */
  ASSERT_OK(rsim_mcap_reader_latest(rd, (uint16_t)(1 + (s0 - 1) % 2), 1000 + 7 * (uint64_t)s1, &m));
  ASSERT_EQ(m->sequence, s0 - 1);
  rsim_mcap_reader *rd2;
  ASSERT_OK(rsim_mcap_reader_reopen(rd, &rd2, &eb));
  expect_all_but(rd2, n, s0, s1);
  ASSERT_OK(rsim_mcap_reader_latest(rd2, (uint16_t)(1 + (s0 - 1) % 2), 1000 + 7 * (uint64_t)s1, &m));
  ASSERT_EQ(m->sequence, s0 - 1);
  rsim_mcap_reader_close(rd2);
  ASSERT_EQ(g.n, 1); /* the reopened reader knows it is damaged */
  rsim_mcap_reader_close(rd);
  free(bytes);
}

TEST(mcap_damaged_chunk_stops_with_its_offset_or_is_skipped_as_a_gap) {
  damaged_chunk(false);
  damaged_chunk(true);
}
