/*
** json.c -- MCAP files as text: the conformance suite's JSON document (what
** `replaysim mcap cat --json` prints) and a human summary (`mcap info`).
**
** JSON format (the suite's README): {"records":[{"type":T,"fields":[[name,
** value],...]}]}, fields sorted by name, integers as decimal strings, byte
** fields as arrays of decimal strings, string maps as objects, id maps as
** objects with decimal keys and values.  Keys come in sorted order ("fields"
** before "type") and there are no spaces: the canonical form.  MessageIndex records are left out
** and a Chunk is replaced by the records inside it.  Object keys are sorted,
** no spaces, so two documents compare as strings once both are in this form.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcap/mcap_int.h"

static void key(rsim_buf *b, bool *first, const char *name) {
  rsim_buf_puts(b, *first ? "[\"" : ",[\"");
  rsim_buf_puts(b, name);
  rsim_buf_puts(b, "\",");
  *first = false;
}

static void f_uint(rsim_buf *b, bool *first, const char *name, uint64_t v) {
  key(b, first, name);
  rsim_buf_printf(b, "\"%llu\"]", (unsigned long long)v);
}

static void f_str(rsim_buf *b, bool *first, const char *name, rsim_mcap_str s) {
  key(b, first, name);
  rsim_buf_put_json_str(b, s.p ? s.p : "", s.n);
  rsim_buf_putc(b, ']');
}

static void f_bytes(rsim_buf *b, bool *first, const char *name, rsim_mcap_bytes d) {
  key(b, first, name);
  rsim_buf_putc(b, '[');
  for (uint64_t i = 0; i < d.n; i++) rsim_buf_printf(b, "%s\"%u\"", i ? "," : "", d.p[i]);
  rsim_buf_puts(b, "]]");
}

static int cmp_strpair(const void *a, const void *b) {
  const rsim_mcap_strpair *x = a, *y = b;
  size_t n = x->key.n < y->key.n ? x->key.n : y->key.n;
  int c = memcmp(x->key.p, y->key.p, n);
  return c ? c : (x->key.n > y->key.n) - (x->key.n < y->key.n);
}

static void f_strmap(rsim_buf *b, bool *first, const char *name, rsim_mcap_strpair *m, size_t n) {
  key(b, first, name);
  qsort(m, n, sizeof *m, cmp_strpair);
  rsim_buf_putc(b, '{');
  for (size_t i = 0; i < n; i++) {
    if (i) rsim_buf_putc(b, ',');
    rsim_buf_put_json_str(b, m[i].key.p, m[i].key.n);
    rsim_buf_putc(b, ':');
    rsim_buf_put_json_str(b, m[i].value.p, m[i].value.n);
  }
  rsim_buf_puts(b, "}]");
}

/* JSON object keys sort as strings: "10" before "2". */
static int cmp_idpair(const void *a, const void *b) {
  char x[8], y[8];
  snprintf(x, sizeof x, "%u", ((const rsim_mcap_idpair *)a)->key);
  snprintf(y, sizeof y, "%u", ((const rsim_mcap_idpair *)b)->key);
  return strcmp(x, y);
}

static void f_idmap(rsim_buf *b, bool *first, const char *name, rsim_mcap_idpair *m, size_t n) {
  key(b, first, name);
  qsort(m, n, sizeof *m, cmp_idpair);
  rsim_buf_putc(b, '{');
  for (size_t i = 0; i < n; i++)
    rsim_buf_printf(b, "%s\"%u\":\"%llu\"", i ? "," : "", m[i].key, (unsigned long long)m[i].value);
  rsim_buf_puts(b, "}]");
}

/* Fields in name order, as the suite lists them. */
static void record_json(rsim_mcap_record *r, rsim_buf *b) {
  bool f = true;
  rsim_buf_puts(b, "{\"fields\":[");
  switch (r->op) {
    case RSIM_MCAP_HEADER:
      f_str(b, &f, "library", r->r.header.library);
      f_str(b, &f, "profile", r->r.header.profile);
      break;
    case RSIM_MCAP_FOOTER:
      f_uint(b, &f, "summary_crc", r->r.footer.summary_crc);
      f_uint(b, &f, "summary_offset_start", r->r.footer.summary_offset_start);
      f_uint(b, &f, "summary_start", r->r.footer.summary_start);
      break;
    case RSIM_MCAP_SCHEMA:
      f_bytes(b, &f, "data", r->r.schema.data);
      f_str(b, &f, "encoding", r->r.schema.encoding);
      f_uint(b, &f, "id", r->r.schema.id);
      f_str(b, &f, "name", r->r.schema.name);
      break;
    case RSIM_MCAP_CHANNEL:
      f_uint(b, &f, "id", r->r.channel.id);
      f_str(b, &f, "message_encoding", r->r.channel.message_encoding);
      f_strmap(b, &f, "metadata", r->r.channel.metadata, r->r.channel.n_metadata);
      f_uint(b, &f, "schema_id", r->r.channel.schema_id);
      f_str(b, &f, "topic", r->r.channel.topic);
      break;
    case RSIM_MCAP_MESSAGE:
      f_uint(b, &f, "channel_id", r->r.message.channel_id);
      f_bytes(b, &f, "data", r->r.message.data);
      f_uint(b, &f, "log_time", r->r.message.log_time);
      f_uint(b, &f, "publish_time", r->r.message.publish_time);
      f_uint(b, &f, "sequence", r->r.message.sequence);
      break;
    case RSIM_MCAP_CHUNK_INDEX:
      f_uint(b, &f, "chunk_length", r->r.chunk_index.chunk_length);
      f_uint(b, &f, "chunk_start_offset", r->r.chunk_index.chunk_start_offset);
      f_uint(b, &f, "compressed_size", r->r.chunk_index.compressed_size);
      f_str(b, &f, "compression", r->r.chunk_index.compression);
      f_uint(b, &f, "message_end_time", r->r.chunk_index.message_end_time);
      f_uint(b, &f, "message_index_length", r->r.chunk_index.message_index_length);
      f_idmap(b, &f, "message_index_offsets", r->r.chunk_index.message_index_offsets, r->r.chunk_index.n_offsets);
      f_uint(b, &f, "message_start_time", r->r.chunk_index.message_start_time);
      f_uint(b, &f, "uncompressed_size", r->r.chunk_index.uncompressed_size);
      break;
    case RSIM_MCAP_ATTACHMENT:
      f_uint(b, &f, "create_time", r->r.attachment.create_time);
      f_bytes(b, &f, "data", r->r.attachment.data);
      f_uint(b, &f, "log_time", r->r.attachment.log_time);
      f_str(b, &f, "media_type", r->r.attachment.media_type);
      f_str(b, &f, "name", r->r.attachment.name);
      break;
    case RSIM_MCAP_ATTACHMENT_INDEX:
      f_uint(b, &f, "create_time", r->r.attachment_index.create_time);
      f_uint(b, &f, "data_size", r->r.attachment_index.data_size);
      f_uint(b, &f, "length", r->r.attachment_index.length);
      f_uint(b, &f, "log_time", r->r.attachment_index.log_time);
      f_str(b, &f, "media_type", r->r.attachment_index.media_type);
      f_str(b, &f, "name", r->r.attachment_index.name);
      f_uint(b, &f, "offset", r->r.attachment_index.offset);
      break;
    case RSIM_MCAP_STATISTICS:
      f_uint(b, &f, "attachment_count", r->r.statistics.attachment_count);
      f_uint(b, &f, "channel_count", r->r.statistics.channel_count);
      f_idmap(b, &f, "channel_message_counts", r->r.statistics.channel_message_counts, r->r.statistics.n_counts);
      f_uint(b, &f, "chunk_count", r->r.statistics.chunk_count);
      f_uint(b, &f, "message_count", r->r.statistics.message_count);
      f_uint(b, &f, "message_end_time", r->r.statistics.message_end_time);
      f_uint(b, &f, "message_start_time", r->r.statistics.message_start_time);
      f_uint(b, &f, "metadata_count", r->r.statistics.metadata_count);
      f_uint(b, &f, "schema_count", r->r.statistics.schema_count);
      break;
    case RSIM_MCAP_METADATA:
      f_strmap(b, &f, "metadata", r->r.metadata.metadata, r->r.metadata.n_metadata);
      f_str(b, &f, "name", r->r.metadata.name);
      break;
    case RSIM_MCAP_METADATA_INDEX:
      f_uint(b, &f, "length", r->r.metadata_index.length);
      f_str(b, &f, "name", r->r.metadata_index.name);
      f_uint(b, &f, "offset", r->r.metadata_index.offset);
      break;
    case RSIM_MCAP_SUMMARY_OFFSET:
      f_uint(b, &f, "group_length", r->r.summary_offset.group_length);
      f_uint(b, &f, "group_opcode", r->r.summary_offset.group_opcode);
      f_uint(b, &f, "group_start", r->r.summary_offset.group_start);
      break;
    case RSIM_MCAP_DATA_END:
      f_uint(b, &f, "data_section_crc", r->r.data_end.data_section_crc);
      break;
  }
  rsim_buf_printf(b, "],\"type\":\"%s\"}", rsim_mcap_op_name(r->op));
}

int rsim_mcap_cat_json(const char *path, rsim_buf *out, rsim_errbuf *eb) {
  rsim_mcap_reader *rd;
  int rc = rsim_mcap_reader_open(path, &rd, eb);
  if (rc) return rc;
  const rsim_mcap_record *r;
  bool first = true;
  rsim_buf_puts(out, "{\"records\":[");
  while ((rc = rsim_mcap_reader_next(rd, &r)) == RSIM_OK) {
    if (r->op == RSIM_MCAP_CHUNK || r->op == RSIM_MCAP_MESSAGE_INDEX) continue;
    if (!first) rsim_buf_putc(out, ',');
    first = false;
    record_json((rsim_mcap_record *)r, out);
  }
  rsim_buf_puts(out, "]}");
  if (rc == RSIM_EEOF) rc = RSIM_OK;
  else rsim_errbuf_set(eb, rc, "%s", rsim_mcap_reader_errmsg(rd));
  rsim_mcap_reader_close(rd);
  return rc;
}

/* ---- info ---------------------------------------------------------------------------- */

static void fmt_time(rsim_buf *b, uint64_t ns) {
  rsim_buf_printf(b, "%llu.%09llu", (unsigned long long)(ns / 1000000000u), (unsigned long long)(ns % 1000000000u));
}

static void info_gap(void *ud, const rsim_mcap_gap *g) {
  rsim_buf *b = ud;
  rsim_buf_printf(b, "warning:   damaged chunk skipped: %s (messages from ", g->why);
  fmt_time(b, g->start);
  rsim_buf_puts(b, " to ");
  fmt_time(b, g->end);
  rsim_buf_puts(b, ")\n");
}

int rsim_mcap_info(const char *path, rsim_buf *out, rsim_errbuf *eb) {
  rsim_mcap_reader *rd;
  int rc = rsim_mcap_reader_open(path, &rd, eb);
  if (rc) return rc;
  /* Header first (streamed), then the summary if there is one. */
  const rsim_mcap_record *r;
  if ((rc = rsim_mcap_reader_next(rd, &r))) {
    rsim_errbuf_set(eb, rc, "%s", rsim_mcap_reader_errmsg(rd));
    rsim_mcap_reader_close(rd);
    return rc;
  }
  rsim_buf_printf(out, "library:   %.*s\nprofile:   %.*s\n", (int)r->r.header.library.n, r->r.header.library.p,
                  (int)r->r.header.profile.n, r->r.header.profile.p);
  rc = rsim_mcap_reader_summary(rd);
  rsim_buf gaps = {0};
  if (rc == RSIM_ENOTFOUND) {
    /* No footer or no summary: a cut-off recording is described from a
    ** scan of its records, damaged chunks listed. */
    char why[512];
    snprintf(why, sizeof why, "%s", rsim_mcap_reader_errmsg(rd));
    rsim_mcap_reader_skip_corrupt(rd, info_gap, &gaps);
    if (!(rc = rsim_mcap_reader_scan(rd))) {
      const rsim_mcap_scan_info *si = rsim_mcap_reader_scan_info(rd);
      rsim_buf_printf(out, "warning:   unindexed (%s): described from a scan of its records: %llu of %llu bytes whole, "
                           "the scan stopped at %s\n",
                      why, (unsigned long long)si->scanned, (unsigned long long)si->size, si->stop);
      if (si->cut_messages)
        rsim_buf_printf(out, "warning:   %llu messages read from the whole part of the last chunk, cut off\n",
                        (unsigned long long)si->cut_messages);
      rsim_buf_append(out, gaps.data, gaps.len);
    }
    rsim_buf_free(&gaps);
  }
  if (rc) {
    rsim_errbuf_set(eb, rc, "%s", rsim_mcap_reader_errmsg(rd));
    rsim_mcap_reader_close(rd);
    return rc;
  }
  const rsim_mcap_record *st = rsim_mcap_statistics(rd);
  if (st) {
    uint64_t t0 = st->r.statistics.message_start_time, t1 = st->r.statistics.message_end_time;
    rsim_buf_printf(out, "messages:  %llu\nduration:  ", (unsigned long long)st->r.statistics.message_count);
    fmt_time(out, t1 - t0);
    rsim_buf_puts(out, "s\nstart:     ");
    fmt_time(out, t0);
    rsim_buf_puts(out, "\nend:       ");
    fmt_time(out, t1);
    rsim_buf_printf(out, "\nchunks:    %u\nattachments: %u\nmetadata:  %u\n", st->r.statistics.chunk_count,
                    st->r.statistics.attachment_count, st->r.statistics.metadata_count);
  } else {
    rsim_buf_printf(out, "chunks:    %zu (no statistics record)\n", rsim_mcap_chunk_count(rd));
  }
  size_t nc, ns;
  const rsim_mcap_channel *ch = rsim_mcap_channels(rd, &nc);
  const rsim_mcap_schema *sc = rsim_mcap_schemas(rd, &ns);
  rsim_buf_printf(out, "channels:  %zu\n", nc);
  for (size_t i = 0; i < nc; i++) {
    uint64_t count = 0;
    for (size_t k = 0; st && k < st->r.statistics.n_counts; k++)
      if (st->r.statistics.channel_message_counts[k].key == ch[i].id) count = st->r.statistics.channel_message_counts[k].value;
    const char *schema = "(none)", *enc = "";
    for (size_t k = 0; k < ns; k++)
      if (sc[k].id == ch[i].schema_id) schema = sc[k].name, enc = sc[k].encoding;
    rsim_buf_printf(out, "  (%u) %-28s %8llu msgs  %s [%s/%s]\n", ch[i].id, ch[i].topic, (unsigned long long)count,
                    schema, ch[i].message_encoding, enc);
  }
  rsim_mcap_reader_close(rd);
  return RSIM_OK;
}
