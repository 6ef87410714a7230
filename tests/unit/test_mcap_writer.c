/*
** test_mcap_writer.c -- files our writer makes: read back streamed and
** indexed by our reader, and by an independent reader (PyPI mcap); and bad
** files (truncated, damaged, lying lengths) give errors, never crashes.
*/
#include "rsim/mcap.h"
#include "test.h"

/* 3 channels, 2 schemas, n messages round-robin, log_time = 1000 + 7*i. */
static const char *write_file(const char *name, const char *compression, int n, uint64_t chunk_size) {
  static char path[1024];
  snprintf(path, sizeof path, "%s", test_tmpfile(name));
  rsim_errbuf eb = {0};
  rsim_mcap_writer *w;
  rsim_mcap_writer_opts o = {.compression = compression, .chunk_size = chunk_size, .profile = "replaysim"};
  ASSERT_OK(rsim_mcap_writer_open(path, &o, &w, &eb));
  uint16_t s1, s2, ch[3];
  ASSERT_OK(rsim_mcap_writer_add_schema(w, "rsim.Camera", "jsonschema", (const uint8_t *)"{}", 2, &s1));
  ASSERT_OK(rsim_mcap_writer_add_schema(w, "rsim.Radar", "jsonschema", (const uint8_t *)"{}", 2, &s2));
  rsim_mcap_kv meta[1] = {{(char *)"frame", (char *)"base_link"}};
  ASSERT_OK(rsim_mcap_writer_add_channel(w, s1, "/camera", "json", meta, 1, &ch[0]));
  ASSERT_OK(rsim_mcap_writer_add_channel(w, s2, "/radar", "json", NULL, 0, &ch[1]));
  ASSERT_OK(rsim_mcap_writer_add_channel(w, s2, "/radar_rear", "json", NULL, 0, &ch[2]));
  for (int i = 0; i < n; i++) {
    char data[64];
    int len = snprintf(data, sizeof data, "{\"i\":%d,\"pad\":\"%0*d\"}", i, i % 20, 0);
    ASSERT_OK(rsim_mcap_writer_write(w, ch[i % 3], (uint32_t)i, 1000 + 7 * (uint64_t)i, 1000 + 7 * (uint64_t)i,
                                     (const uint8_t *)data, (size_t)len));
  }
  rsim_mcap_kv kv[2] = {{(char *)"seed", (char *)"42"}, {(char *)"vehicle", (char *)"sim"}};
  ASSERT_OK(rsim_mcap_writer_add_metadata(w, "drive", kv, 2));
  ASSERT_OK(rsim_mcap_writer_close(w, &eb));
  return path;
}

static int count_streamed(const char *path, int *messages) {
  rsim_errbuf eb = {0};
  rsim_mcap_reader *rd;
  int rc = rsim_mcap_reader_open(path, &rd, &eb);
  if (rc) return rc;
  const rsim_mcap_record *r;
  *messages = 0;
  while ((rc = rsim_mcap_reader_next(rd, &r)) == RSIM_OK) *messages += r->op == RSIM_MCAP_MESSAGE;
  rsim_mcap_reader_close(rd);
  return rc == RSIM_EEOF ? RSIM_OK : rc;
}

static void check_roundtrip(const char *compression) {
  const char *path = write_file("w.mcap", compression, 1000, 4096);
  int n;
  ASSERT_OK(count_streamed(path, &n)); /* chunk, data and summary CRCs checked on the way */
  ASSERT_EQ(n, 1000);
  rsim_errbuf eb = {0};
  rsim_mcap_reader *rd;
  ASSERT_OK(rsim_mcap_reader_open(path, &rd, &eb));
  ASSERT_OK(rsim_mcap_reader_summary(rd));
  ASSERT(rsim_mcap_chunk_count(rd) > 5);
  const rsim_mcap_record *st = rsim_mcap_statistics(rd);
  ASSERT(st != NULL);
  ASSERT_EQ(st->r.statistics.message_count, 1000);
  ASSERT_EQ(st->r.statistics.message_start_time, 1000);
  ASSERT_EQ(st->r.statistics.message_end_time, 1000 + 7 * 999);
  size_t nc;
  const rsim_mcap_channel *ch = rsim_mcap_channels(rd, &nc);
  ASSERT_EQ(nc, 3);
  ASSERT_STREQ(ch[0].topic, "/camera");
  ASSERT_STREQ(ch[0].metadata[0].value, "base_link");
  /* Indexed: one channel, a time window in the middle. */
  uint16_t radar = 2;
  ASSERT_OK(rsim_mcap_reader_messages(rd, 2000, 4000, &radar, 1));
  const rsim_mcap_message *m;
  int got = 0, want = 0;
  uint64_t last = 0;
  for (int i = 0; i < 1000; i++) want += i % 3 == 1 && 1000 + 7 * i >= 2000 && 1000 + 7 * i <= 4000;
  while (rsim_mcap_reader_next_message(rd, &m) == RSIM_OK) {
    ASSERT_EQ(m->channel_id, 2);
    ASSERT(m->log_time >= last && m->log_time >= 2000 && m->log_time <= 4000);
    ASSERT_EQ(m->log_time, 1000 + 7 * (uint64_t)m->sequence);
    last = m->log_time;
    got++;
  }
  ASSERT_EQ(got, want);
  rsim_mcap_reader_close(rd);
}

TEST(mcap_writer_roundtrip_zstd) { check_roundtrip("zstd"); }
TEST(mcap_writer_roundtrip_lz4) { check_roundtrip("lz4"); }
TEST(mcap_writer_roundtrip_uncompressed) { check_roundtrip(""); }

TEST(mcap_writer_output_passes_independent_reader) {
  const char *path = write_file("indep.mcap", "zstd", 999, 8192);
  char cmd[2048], *out = NULL;
  snprintf(cmd, sizeof cmd, "python3 %s %s", test_source_path("tests/mcap/validate.py"), path);
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "independent reader (pip mcap) rejected the file: %s", out);
  ASSERT_CONTAINS(out, "messages 999 channels 3");
  ASSERT_CONTAINS(out, "/radar_rear 333");
  free(out);
}

TEST(mcap_reader_names_file_and_offset_for_bad_input) {
  const char *path = write_file("good.mcap", "zstd", 300, 2048);
  uint8_t *bytes;
  size_t len;
  rsim_errbuf eb = {0};
  ASSERT_OK(rsim_read_file(path, 1 << 24, &bytes, &len, &eb));
  uint8_t *copy = malloc(len);
  /* Truncated anywhere: an error (or, at most, a clean end before the cut
  ** is impossible: the footer is last), never a crash. */
  for (size_t cut = 0; cut < len; cut += 37) {
    rsim_errbuf e2 = {0};
    rsim_mcap_reader *rd;
    if (rsim_mcap_reader_open_memory("cut.mcap", bytes, cut, &rd, &e2)) {
      ASSERT_CONTAINS(e2.msg, "cut.mcap");
      continue;
    }
    const rsim_mcap_record *r;
    int rc;
    while ((rc = rsim_mcap_reader_next(rd, &r)) == RSIM_OK) {
    }
    ASSERT_NE(rc, RSIM_EEOF);
    ASSERT_CONTAINS(rsim_mcap_reader_errmsg(rd), "cut.mcap: offset");
    ASSERT_NE(rsim_mcap_reader_summary(rd), RSIM_OK);
    rsim_mcap_reader_close(rd);
  }
  /* Every byte flipped in turn (a stride of them): never a crash; data
  ** damage inside a chunk is caught by the chunk CRC or decompression. */
  for (size_t at = 8; at < len; at += 13) {
    memcpy(copy, bytes, len);
    copy[at] ^= 0x5A;
    rsim_errbuf e2 = {0};
    rsim_mcap_reader *rd;
    if (rsim_mcap_reader_open_memory("flip.mcap", copy, len, &rd, &e2)) continue;
    const rsim_mcap_record *r;
    while (rsim_mcap_reader_next(rd, &r) == RSIM_OK) {
    }
    const rsim_mcap_message *m;
    if (rsim_mcap_reader_messages(rd, 0, UINT64_MAX, NULL, 0) == RSIM_OK)
      while (rsim_mcap_reader_next_message(rd, &m) == RSIM_OK) {
      }
    rsim_mcap_reader_close(rd);
  }
  /* Wrong magic. */
  memcpy(copy, bytes, len);
  copy[1] = 'X';
  rsim_mcap_reader *rd = NULL;
  rsim_errbuf e3 = {0};
  ASSERT_EQ(rsim_mcap_reader_open_memory("magic.mcap", copy, len, &rd, &e3), RSIM_ECORRUPT);
  ASSERT_CONTAINS(e3.msg, "magic.mcap: not an MCAP file");
  /* A header record whose length points far past the end. */
  memcpy(copy, bytes, len);
  copy[8 + 1 + 7] = 0x7f;
  ASSERT_OK(rsim_mcap_reader_open_memory("len.mcap", copy, len, &rd, &e3));
  const rsim_mcap_record *r;
  ASSERT_EQ(rsim_mcap_reader_next(rd, &r), RSIM_ECORRUPT);
  ASSERT_CONTAINS(rsim_mcap_reader_errmsg(rd), "len.mcap: offset 8: Header record: length");
  rsim_mcap_reader_close(rd);
  free(copy);
  free(bytes);
}

TEST(mcap_reader_detects_crc_damage_in_a_chunk) {
  const char *path = write_file("crc.mcap", "", 50, 1 << 20); /* one uncompressed chunk */
  uint8_t *bytes;
  size_t len;
  rsim_errbuf eb = {0};
  ASSERT_OK(rsim_read_file(path, 1 << 24, &bytes, &len, &eb));
  /* Find a message payload ("{\"i\":7") inside the chunk and alter it. */
  uint8_t *hit = NULL;
  for (size_t i = 0; i + 6 < len && !hit; i++)
    if (!memcmp(bytes + i, "{\"i\":7", 6)) hit = bytes + i;
  ASSERT(hit != NULL);
  hit[5] = '8';
  rsim_mcap_reader *rd;
  ASSERT_OK(rsim_mcap_reader_open_memory("crc.mcap", bytes, len, &rd, &eb));
  const rsim_mcap_record *r;
  int rc;
  while ((rc = rsim_mcap_reader_next(rd, &r)) == RSIM_OK) {
  }
  ASSERT_EQ(rc, RSIM_ECORRUPT);
  ASSERT_CONTAINS(rsim_mcap_reader_errmsg(rd), "Chunk: crc mismatch");
  rsim_mcap_reader_close(rd);
  free(bytes);
}
