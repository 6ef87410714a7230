/*
** test_mcap_conformance.c -- the official MCAP conformance suite
** (../shared/data/mcap-conformance): every file read streamed must give
** exactly the expected records; every file whose variant supports indexed
** reading (ch, chx, mx, rch, rsh) must give, through the summary and the
** indexes, the same schemas and channels and the messages in log-time
** order (ties in file order).  Every file, and every file with its last
** byte cut off (as a crash leaves it: no trailing magic), must give the
** same through an index made by a scan of its records.
*/
#include <dirent.h>

#include "rsim/mcap.h"
#include "test.h"

#define SUITE RSIM_SOURCE_DIR "/../shared/data/mcap-conformance"

typedef struct msg {
  uint16_t channel;
  uint32_t sequence;
  uint64_t log_time, publish_time;
  uint8_t data[64];
  size_t len;
} msg;

static int cmp_time_stable(const void *a, const void *b) {
  const msg *x = a, *y = b;
  if (x->log_time != y->log_time) return x->log_time < y->log_time ? -1 : 1;
  return x < y ? -1 : x > y; /* the array is in file order: keep it */
}

static bool indexable(const char *name) {
  return strstr(name, "-ch-") && strstr(name, "chx") && strstr(name, "-mx") && strstr(name, "rch") &&
         strstr(name, "rsh");
}

static char *read_text(const char *path) {
  uint8_t *p;
  size_t n;
  rsim_errbuf eb = {0};
  if (rsim_read_file(path, 1 << 26, &p, &n, &eb)) return NULL;
  return (char *)p;
}

/* Streamed messages (file order) for comparison with the indexed reader. */
static size_t streamed_messages(const char *path, msg *out, size_t max) {
  rsim_errbuf eb = {0};
  rsim_mcap_reader *rd;
  ASSERT_OK(rsim_mcap_reader_open(path, &rd, &eb));
  const rsim_mcap_record *r;
  size_t n = 0;
  while (rsim_mcap_reader_next(rd, &r) == RSIM_OK)
    if (r->op == RSIM_MCAP_MESSAGE && n < max) {
      msg *m = &out[n++];
      m->channel = r->r.message.channel_id;
      m->sequence = r->r.message.sequence;
      m->log_time = r->r.message.log_time;
      m->publish_time = r->r.message.publish_time;
      m->len = r->r.message.data.n < 64 ? (size_t)r->r.message.data.n : 64;
      memcpy(m->data, r->r.message.data.p, m->len);
    }
  rsim_mcap_reader_close(rd);
  return n;
}

enum { BY_SUMMARY, BY_SCAN, BY_SCAN_CUT };

static bool indexed_matches(const char *path, int how, char *why, size_t why_len) {
  msg want[64], got[64];
  size_t nw = streamed_messages(path, want, 64), ng = 0;
  qsort(want, nw, sizeof *want, cmp_time_stable);
  rsim_errbuf eb = {0};
  rsim_mcap_reader *rd;
  uint8_t *bytes = NULL;
  size_t len;
  if (how == BY_SCAN_CUT && rsim_read_file(path, 1 << 26, &bytes, &len, &eb))
    return snprintf(why, why_len, "%s", eb.msg), false;
  if (bytes ? rsim_mcap_reader_open_memory(path, bytes, len - 1, &rd, &eb) : rsim_mcap_reader_open(path, &rd, &eb)) {
    free(bytes);
    return snprintf(why, why_len, "%s", eb.msg), false;
  }
  bool ok = true;
  const rsim_mcap_message *m;
  int rc = how == BY_SUMMARY ? RSIM_OK : rsim_mcap_reader_scan(rd);
  if (!rc) rc = rsim_mcap_reader_messages(rd, 0, UINT64_MAX, NULL, 0);
  while (!rc && (rc = rsim_mcap_reader_next_message(rd, &m)) == RSIM_OK && ng < 64) {
    got[ng] = (msg){m->channel_id, m->sequence, m->log_time, m->publish_time, {0}, m->len < 64 ? m->len : 64};
    memcpy(got[ng].data, m->data, got[ng].len);
    ng++;
  }
  if (rc != RSIM_EEOF) {
    snprintf(why, why_len, "indexed: %s", rsim_mcap_reader_errmsg(rd));
    ok = false;
  } else if (ng != nw) {
    snprintf(why, why_len, "indexed: %zu messages, streamed %zu", ng, nw);
    ok = false;
  }
  for (size_t i = 0; ok && i < ng; i++)
    if (got[i].channel != want[i].channel || got[i].sequence != want[i].sequence ||
        got[i].log_time != want[i].log_time || got[i].publish_time != want[i].publish_time ||
        got[i].len != want[i].len || memcmp(got[i].data, want[i].data, got[i].len)) {
      snprintf(why, why_len, "indexed: message %zu differs", i);
      ok = false;
    }
  /* Schemas and channels: the summary must hold every one the messages use. */
  size_t nc, ns;
  const rsim_mcap_channel *ch = rsim_mcap_channels(rd, &nc);
  rsim_mcap_schemas(rd, &ns);
  for (size_t i = 0; ok && i < nw; i++) {
    bool found = false;
    for (size_t k = 0; k < nc; k++) found |= ch[k].id == want[i].channel;
    if (!found) snprintf(why, why_len, "indexed: channel %u missing from the summary", want[i].channel), ok = false;
  }
  bool schemaless = true; /* a channel's schema_id 0: no schema to hold */
  for (size_t k = 0; k < nc; k++) schemaless &= ch[k].schema_id == 0;
  if (ok && nw && !ns && !schemaless) snprintf(why, why_len, "indexed: no schemas in the summary"), ok = false;
  rsim_mcap_reader_close(rd);
  free(bytes);
  return ok;
}

TEST(mcap_conformance_streamed_and_indexed) {
  DIR *top = opendir(SUITE);
  if (!top) test_skip("the conformance suite is not beside the checkout (../shared/data/mcap-conformance)");
  closedir(top);
  char cmd[2048], *out = NULL;
  snprintf(cmd, sizeof cmd, "python3 %s %s %s", test_source_path("tests/mcap/canon.py"), SUITE, test_tmpdir());
  ASSERT_EQ(test_run(cmd, &out), 0);
  free(out);
  int files = 0, streamed_ok = 0, indexed = 0, indexed_ok = 0, scanned_ok = 0;
  const char *sets[] = {"NoData", "OneAttachment", "OneMessage", "OneMetadata", "OneSchemalessMessage", "TenMessages"};
  for (size_t s = 0; s < sizeof sets / sizeof *sets; s++) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", SUITE, sets[s]);
    DIR *d = opendir(dir);
    ASSERT(d != NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
      size_t len = strlen(e->d_name);
      if (len < 6 || strcmp(e->d_name + len - 5, ".mcap")) continue;
      files++;
      char path[2048], expected[2048];
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      snprintf(expected, sizeof expected, "%s/%.*s.json", test_tmpdir(), (int)(len - 5), e->d_name);
      rsim_buf got = {0};
      rsim_errbuf eb = {0};
      char *want = read_text(expected);
      if (rsim_mcap_cat_json(path, &got, &eb)) {
        fprintf(stderr, "    streamed FAIL %s: %s\n", e->d_name, eb.msg);
      } else {
        rsim_buf_putc(&got, 0);
        if (want && !strcmp(want, (char *)got.data)) streamed_ok++;
        else fprintf(stderr, "    streamed FAIL %s: output differs\n      got  %.300s\n      want %.300s\n",
                     e->d_name, (char *)got.data, want ? want : "(no expected file)");
      }
      free(want);
      rsim_buf_free(&got);
      if (indexable(e->d_name)) {
        char why[512] = "";
        indexed++;
        if (indexed_matches(path, BY_SUMMARY, why, sizeof why)) indexed_ok++;
        else fprintf(stderr, "    indexed FAIL %s: %s\n", e->d_name, why);
      }
      char why[512] = "";
      if (!indexed_matches(path, BY_SCAN, why, sizeof why)) fprintf(stderr, "    scanned FAIL %s: %s\n", e->d_name, why);
      else if (!indexed_matches(path, BY_SCAN_CUT, why, sizeof why))
        fprintf(stderr, "    scanned (last byte cut) FAIL %s: %s\n", e->d_name, why);
      else scanned_ok++;
    }
    closedir(d);
  }
  fprintf(stderr, "    %d files: %d streamed OK, %d of %d indexed OK, %d scanned OK\n", files, streamed_ok, indexed_ok,
          indexed, scanned_ok);
  ASSERT(files >= 400);
  ASSERT_EQ(streamed_ok, files);
  ASSERT_EQ(indexed_ok, indexed);
  ASSERT(indexed > 0);
  ASSERT_EQ(scanned_ok, files);
}
