/*
** writer.c -- the MCAP writer: chunked, indexed, compressed, summarised.
**
** Layout of a file it writes:
**   Magic Header
**   ( Chunk[Schema* Channel* Message*]  MessageIndex* )*   Metadata*
**   DataEnd
**   Schema* Channel* ChunkIndex* Statistics MetadataIndex*      (summary)
**   SummaryOffset*                                              (one per group)
**   Footer Magic
** Schemas and channels go into the chunk being filled when they are added,
** so streamed readers meet them before their messages; the summary repeats
** them for indexed readers.  Invariant: `off` is the number of bytes written.
*/
#include <errno.h>
#include <lz4frame.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "mcap/mcap_int.h"

typedef struct chan_idx {
  uint16_t channel;
  rsim_buf entries;       /* (log_time u64, offset u64) pairs */
} chan_idx;

typedef struct w_channel {
  uint16_t id, schema_id;
  uint64_t count;
  rsim_buf record;        /* its Channel record content, for the summary */
} w_channel;

struct rsim_mcap_writer {
  FILE *f;
  char *path, *tmp;
  uint64_t off;
  uint32_t data_crc;
  char compression[8];
  uint64_t chunk_size;
  /* current chunk */
  rsim_buf chunk;
  uint64_t chunk_start, chunk_end;
  bool chunk_has_msg;
  chan_idx *idx;
  size_t n_idx;
  /* summary material */
  rsim_buf schemas;       /* Schema records (opcode, length, content) */
  w_channel *channels;
  size_t n_channels;
  uint16_t n_schemas;
  rsim_buf chunk_indexes;
  rsim_buf metadata_indexes;
  uint32_t n_chunks, n_metadata;
  uint64_t n_messages, t_first, t_last;
  rsim_buf scratch;
  char errmsg[512];
};

static int werr(rsim_mcap_writer *w, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int werr(rsim_mcap_writer *w, int code, const char *fmt, ...) {
  char what[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(w->errmsg, sizeof w->errmsg, "%s: %s", w->path, what);
  return code;
}

/* ---- serialisation helpers ---------------------------------------------------------- */

static void put_u16(rsim_buf *b, uint16_t v) {
  uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  rsim_buf_append(b, x, 2);
}

static void put_str(rsim_buf *b, const char *s) {
  size_t n = strlen(s);
  rsim_buf_put_u32le(b, (uint32_t)n);
  rsim_buf_append(b, s, n);
}

static void put_strmap(rsim_buf *b, const rsim_mcap_kv *kv, size_t n) {
  uint32_t len = 0;
  for (size_t i = 0; i < n; i++) len += 8 + (uint32_t)strlen(kv[i].key) + (uint32_t)strlen(kv[i].value);
  rsim_buf_put_u32le(b, len);
  for (size_t i = 0; i < n; i++) {
    put_str(b, kv[i].key);
    put_str(b, kv[i].value);
  }
}

/* Appends opcode, length and content as one record. */
static void put_record(rsim_buf *b, uint8_t op, const rsim_buf *content) {
  rsim_buf_append(b, &op, 1);
  rsim_buf_put_u64le(b, content->len);
  rsim_buf_append(b, content->data, content->len);
}

static int emit(rsim_mcap_writer *w, const void *p, size_t n, bool data_section) {
  if (n && fwrite(p, 1, n, w->f) != n) return werr(w, RSIM_EIO, "write failed: %s", strerror(errno));
  if (data_section) w->data_crc = rsim__mcap_crc32(w->data_crc, p, n);
  w->off += n;
  return RSIM_OK;
}

static int emit_record(rsim_mcap_writer *w, uint8_t op, const rsim_buf *content, bool data_section) {
  uint8_t head[9] = {op};
  for (int i = 0; i < 8; i++) head[1 + i] = (uint8_t)((uint64_t)content->len >> (8 * i));
  int rc = emit(w, head, 9, data_section);
  return rc ? rc : emit(w, content->data, content->len, data_section);
}

/* ---- chunks ----------------------------------------------------------------------------- */

static int compress_chunk(rsim_mcap_writer *w, rsim_buf *out) {
  const rsim_buf *in = &w->chunk;
  out->len = 0;
  if (!strcmp(w->compression, "zstd")) {
    size_t bound = ZSTD_compressBound(in->len);
    rsim_buf_reserve(out, bound);
    size_t n = ZSTD_compress(out->data, bound, in->data, in->len, 3);
    if (ZSTD_isError(n)) return werr(w, RSIM_EBACKEND, "zstd: %s", ZSTD_getErrorName(n));
    out->len = n;
  } else if (!strcmp(w->compression, "lz4")) {
    size_t bound = LZ4F_compressFrameBound(in->len, NULL);
    rsim_buf_reserve(out, bound);
    size_t n = LZ4F_compressFrame(out->data, bound, in->data, in->len, NULL);
    if (LZ4F_isError(n)) return werr(w, RSIM_EBACKEND, "lz4: %s", LZ4F_getErrorName(n));
    out->len = n;
  } else {
    rsim_buf_append(out, in->data, in->len);
  }
  return RSIM_OK;
}

static int cmp_idx(const void *a, const void *b) {
  return (int)((const chan_idx *)a)->channel - (int)((const chan_idx *)b)->channel;
}

static int flush_chunk(rsim_mcap_writer *w) {
  if (!w->chunk.len) return RSIM_OK;
  rsim_buf packed = {0}, content = {0};
  int rc = compress_chunk(w, &packed);
  if (rc) goto out;
  uint64_t start = w->chunk_has_msg ? w->chunk_start : 0, end = w->chunk_has_msg ? w->chunk_end : 0;
  rsim_buf_put_u64le(&content, start);
  rsim_buf_put_u64le(&content, end);
  rsim_buf_put_u64le(&content, w->chunk.len);
  rsim_buf_put_u32le(&content, rsim__mcap_crc32(0, w->chunk.data, w->chunk.len));
  put_str(&content, w->compression);
  rsim_buf_put_u64le(&content, packed.len);
  rsim_buf_append(&content, packed.data, packed.len);
  uint64_t chunk_off = w->off;
  if ((rc = emit_record(w, RSIM_MCAP_CHUNK, &content, true))) goto out;
  uint64_t chunk_len = w->off - chunk_off, mi_start = w->off;
  /* One Message Index per channel, in channel order; remember where. */
  qsort(w->idx, w->n_idx, sizeof *w->idx, cmp_idx);
  rsim_buf offsets = {0};
  for (size_t i = 0; i < w->n_idx && !rc; i++) {
    content.len = 0;
    put_u16(&content, w->idx[i].channel);
    rsim_buf_put_u32le(&content, (uint32_t)w->idx[i].entries.len);
    rsim_buf_append(&content, w->idx[i].entries.data, w->idx[i].entries.len);
    put_u16(&offsets, w->idx[i].channel);
    rsim_buf_put_u64le(&offsets, w->off);
    rc = emit_record(w, RSIM_MCAP_MESSAGE_INDEX, &content, true);
  }
  if (!rc) {
    content.len = 0;
    rsim_buf_put_u64le(&content, start);
    rsim_buf_put_u64le(&content, end);
    rsim_buf_put_u64le(&content, chunk_off);
    rsim_buf_put_u64le(&content, chunk_len);
    rsim_buf_put_u32le(&content, (uint32_t)offsets.len);
    rsim_buf_append(&content, offsets.data, offsets.len);
    rsim_buf_put_u64le(&content, w->off - mi_start);
    put_str(&content, w->compression);
    rsim_buf_put_u64le(&content, packed.len);
    rsim_buf_put_u64le(&content, w->chunk.len);
    put_record(&w->chunk_indexes, RSIM_MCAP_CHUNK_INDEX, &content);
    w->n_chunks++;
  }
  rsim_buf_free(&offsets);
  for (size_t i = 0; i < w->n_idx; i++) rsim_buf_free(&w->idx[i].entries);
  w->n_idx = 0;
  w->chunk.len = 0;
  w->chunk_has_msg = false;
out:
  rsim_buf_free(&packed);
  rsim_buf_free(&content);
  return rc;
}

/* ---- public ------------------------------------------------------------------------------- */

int rsim_mcap_writer_open(const char *path, const rsim_mcap_writer_opts *o, rsim_mcap_writer **out,
                          rsim_errbuf *eb) {
  *out = NULL;
  const char *z = o && o->compression ? o->compression : "zstd";
  if (strcmp(z, "zstd") && strcmp(z, "lz4") && strcmp(z, ""))
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s: unknown compression '%s' (zstd, lz4 or none)", path, z);
  rsim_mcap_writer *w = rsim_xcalloc(1, sizeof *w);
  w->path = rsim_xstrdup(path);
  size_t n = strlen(path) + 16;
  w->tmp = rsim_xmalloc(n);
  snprintf(w->tmp, n, "%s.tmp", path);
  snprintf(w->compression, sizeof w->compression, "%s", z);
  w->chunk_size = o && o->chunk_size ? o->chunk_size : 4u << 20;
  w->f = fopen(w->tmp, "wb");
  if (!w->f) {
    int rc = rsim_errbuf_set(eb, RSIM_EIO, "%s: %s", w->tmp, strerror(errno));
    free(w->tmp);
    free(w->path);
    free(w);
    return rc;
  }
  rsim_buf h = {0};
  put_str(&h, o && o->profile ? o->profile : "");
  put_str(&h, o && o->library ? o->library : "replaysim");
  int rc = emit(w, RSIM_MCAP_MAGIC, RSIM_MCAP_MAGIC_LEN, true);
  if (!rc) rc = emit_record(w, RSIM_MCAP_HEADER, &h, true);
  rsim_buf_free(&h);
  if (rc) {
    rsim_errbuf_set(eb, rc, "%s", w->errmsg);
    rsim_mcap_writer_abort(w);
    return rc;
  }
  *out = w;
  return RSIM_OK;
}

int rsim_mcap_writer_add_schema(rsim_mcap_writer *w, const char *name, const char *encoding,
                                const uint8_t *data, size_t len, uint16_t *out_id) {
  if (w->n_schemas == UINT16_MAX) return werr(w, RSIM_ETOOBIG, "too many schemas");
  rsim_buf c = {0};
  uint16_t id = ++w->n_schemas;
  put_u16(&c, id);
  put_str(&c, name);
  put_str(&c, encoding);
  rsim_buf_put_u32le(&c, (uint32_t)len);
  rsim_buf_append(&c, data, len);
  put_record(&w->chunk, RSIM_MCAP_SCHEMA, &c);
  put_record(&w->schemas, RSIM_MCAP_SCHEMA, &c);
  rsim_buf_free(&c);
  *out_id = id;
  return RSIM_OK;
}

int rsim_mcap_writer_add_channel(rsim_mcap_writer *w, uint16_t schema_id, const char *topic,
                                 const char *message_encoding, const rsim_mcap_kv *meta, size_t n_meta,
                                 uint16_t *out_id) {
  if (schema_id > w->n_schemas) return werr(w, RSIM_EINVAL, "channel '%s': unknown schema %u", topic, schema_id);
  if (w->n_channels >= UINT16_MAX) return werr(w, RSIM_ETOOBIG, "too many channels");
  w->channels = rsim_xrealloc(w->channels, (w->n_channels + 1) * sizeof *w->channels);
  w_channel *ch = &w->channels[w->n_channels++];
  memset(ch, 0, sizeof *ch);
  ch->id = (uint16_t)w->n_channels;
  ch->schema_id = schema_id;
  put_u16(&ch->record, ch->id);
  put_u16(&ch->record, schema_id);
  put_str(&ch->record, topic);
  put_str(&ch->record, message_encoding);
  put_strmap(&ch->record, meta, n_meta);
  put_record(&w->chunk, RSIM_MCAP_CHANNEL, &ch->record);
  *out_id = ch->id;
  return RSIM_OK;
}

static chan_idx *index_of(rsim_mcap_writer *w, uint16_t channel) {
  for (size_t i = 0; i < w->n_idx; i++)
    if (w->idx[i].channel == channel) return &w->idx[i];
  w->idx = rsim_xrealloc(w->idx, (w->n_idx + 1) * sizeof *w->idx);
  chan_idx *x = &w->idx[w->n_idx++];
  memset(x, 0, sizeof *x);
  x->channel = channel;
  return x;
}

int rsim_mcap_writer_write(rsim_mcap_writer *w, uint16_t channel_id, uint32_t sequence, uint64_t log_time,
                           uint64_t publish_time, const uint8_t *data, size_t len) {
  if (!channel_id || channel_id > w->n_channels) return werr(w, RSIM_EINVAL, "message on unknown channel %u", channel_id);
  chan_idx *x = index_of(w, channel_id);
  rsim_buf_put_u64le(&x->entries, log_time);
  rsim_buf_put_u64le(&x->entries, w->chunk.len);
  uint8_t head[9 + 22];
  uint64_t clen = 22 + (uint64_t)len;
  head[0] = RSIM_MCAP_MESSAGE;
  for (int i = 0; i < 8; i++) head[1 + i] = (uint8_t)(clen >> (8 * i));
  head[9] = (uint8_t)channel_id;
  head[10] = (uint8_t)(channel_id >> 8);
  for (int i = 0; i < 4; i++) head[11 + i] = (uint8_t)(sequence >> (8 * i));
  for (int i = 0; i < 8; i++) head[15 + i] = (uint8_t)(log_time >> (8 * i));
  for (int i = 0; i < 8; i++) head[23 + i] = (uint8_t)(publish_time >> (8 * i));
  rsim_buf_append(&w->chunk, head, sizeof head);
  rsim_buf_append(&w->chunk, data, len);
  if (!w->chunk_has_msg || log_time < w->chunk_start) w->chunk_start = log_time;
  if (!w->chunk_has_msg || log_time > w->chunk_end) w->chunk_end = log_time;
  if (!w->n_messages || log_time < w->t_first) w->t_first = log_time;
  if (!w->n_messages || log_time > w->t_last) w->t_last = log_time;
  w->chunk_has_msg = true;
  w->n_messages++;
  w->channels[channel_id - 1].count++;
  return w->chunk.len >= w->chunk_size ? flush_chunk(w) : RSIM_OK;
}

int rsim_mcap_writer_add_metadata(rsim_mcap_writer *w, const char *name, const rsim_mcap_kv *kv, size_t n) {
  int rc = flush_chunk(w); /* metadata lives outside chunks */
  if (rc) return rc;
  rsim_buf c = {0};
  put_str(&c, name);
  put_strmap(&c, kv, n);
  uint64_t at = w->off;
  rc = emit_record(w, RSIM_MCAP_METADATA, &c, true);
  if (!rc) {
    rsim_buf mi = {0};
    rsim_buf_put_u64le(&mi, at);
    rsim_buf_put_u64le(&mi, w->off - at);
    put_str(&mi, name);
    put_record(&w->metadata_indexes, RSIM_MCAP_METADATA_INDEX, &mi);
    rsim_buf_free(&mi);
    w->n_metadata++;
  }
  rsim_buf_free(&c);
  return rc;
}

/* One summary group: records, then where they are for the Summary Offset. */
static int emit_group(rsim_mcap_writer *w, uint8_t op, const rsim_buf *records, rsim_buf *offsets) {
  if (!records->len) return RSIM_OK;
  rsim_buf c = {0};
  uint8_t o = op;
  rsim_buf_append(&c, &o, 1);
  rsim_buf_put_u64le(&c, w->off);
  rsim_buf_put_u64le(&c, records->len);
  put_record(offsets, RSIM_MCAP_SUMMARY_OFFSET, &c);
  rsim_buf_free(&c);
  return emit(w, records->data, records->len, false);
}

static int finish(rsim_mcap_writer *w) {
  int rc = flush_chunk(w);
  if (rc) return rc;
  rsim_buf c = {0}, channels = {0}, stats = {0}, offsets = {0}, footer = {0};
  rsim_buf_put_u32le(&c, w->data_crc);
  rc = emit_record(w, RSIM_MCAP_DATA_END, &c, true);
  uint64_t summary_start = w->off;
  for (size_t i = 0; i < w->n_channels; i++) put_record(&channels, RSIM_MCAP_CHANNEL, &w->channels[i].record);
  c.len = 0;
  rsim_buf_put_u64le(&c, w->n_messages);
  put_u16(&c, w->n_schemas);
  rsim_buf_put_u32le(&c, (uint32_t)w->n_channels);
  rsim_buf_put_u32le(&c, 0); /* attachments */
  rsim_buf_put_u32le(&c, w->n_metadata);
  rsim_buf_put_u32le(&c, w->n_chunks);
  rsim_buf_put_u64le(&c, w->n_messages ? w->t_first : 0);
  rsim_buf_put_u64le(&c, w->n_messages ? w->t_last : 0);
  rsim_buf_put_u32le(&c, (uint32_t)(w->n_channels * 10));
  for (size_t i = 0; i < w->n_channels; i++) {
    put_u16(&c, w->channels[i].id);
    rsim_buf_put_u64le(&c, w->channels[i].count);
  }
  put_record(&stats, RSIM_MCAP_STATISTICS, &c);
  uint32_t crc = 0;
  long summary_pos = ftell(w->f);
  if (!rc) rc = emit_group(w, RSIM_MCAP_SCHEMA, &w->schemas, &offsets);
  if (!rc) rc = emit_group(w, RSIM_MCAP_CHANNEL, &channels, &offsets);
  if (!rc) rc = emit_group(w, RSIM_MCAP_CHUNK_INDEX, &w->chunk_indexes, &offsets);
  if (!rc) rc = emit_group(w, RSIM_MCAP_STATISTICS, &stats, &offsets);
  if (!rc) rc = emit_group(w, RSIM_MCAP_METADATA_INDEX, &w->metadata_indexes, &offsets);
  uint64_t summary_offset_start = w->off;
  if (!rc) rc = emit(w, offsets.data, offsets.len, false);
  /* Footer: its CRC covers the summary through summary_offset_start. */
  rsim_buf_put_u64le(&footer, summary_start);
  rsim_buf_put_u64le(&footer, offsets.len ? summary_offset_start : 0);
  uint8_t head[9] = {RSIM_MCAP_FOOTER, 20};
  if (!rc && fflush(w->f) == 0 && summary_pos >= 0) {
    /* Re-read what was just written rather than keep the summary twice. */
    FILE *r = fopen(w->tmp, "rb");
    if (!r || fseek(r, summary_pos, SEEK_SET)) rc = werr(w, RSIM_EIO, "cannot re-read the summary");
    uint8_t tmp[65536];
    size_t got;
    while (!rc && (got = fread(tmp, 1, sizeof tmp, r)) > 0) crc = rsim__mcap_crc32(crc, tmp, got);
    if (r) fclose(r);
    crc = rsim__mcap_crc32(crc, head, 9);
    crc = rsim__mcap_crc32(crc, footer.data, footer.len);
  }
  rsim_buf_put_u32le(&footer, crc);
  if (!rc) rc = emit(w, head, 9, false);
  if (!rc) rc = emit(w, footer.data, footer.len, false);
  if (!rc) rc = emit(w, RSIM_MCAP_MAGIC, RSIM_MCAP_MAGIC_LEN, false);
  rsim_buf_free(&c);
  rsim_buf_free(&channels);
  rsim_buf_free(&stats);
  rsim_buf_free(&offsets);
  rsim_buf_free(&footer);
  return rc;
}

static void writer_free(rsim_mcap_writer *w) {
  for (size_t i = 0; i < w->n_idx; i++) rsim_buf_free(&w->idx[i].entries);
  for (size_t i = 0; i < w->n_channels; i++) rsim_buf_free(&w->channels[i].record);
  free(w->idx);
  free(w->channels);
  rsim_buf_free(&w->chunk);
  rsim_buf_free(&w->schemas);
  rsim_buf_free(&w->chunk_indexes);
  rsim_buf_free(&w->metadata_indexes);
  rsim_buf_free(&w->scratch);
  free(w->path);
  free(w->tmp);
  free(w);
}

int rsim_mcap_writer_close(rsim_mcap_writer *w, rsim_errbuf *eb) {
  int rc = finish(w);
  if (fclose(w->f) != 0 && !rc) rc = werr(w, RSIM_EIO, "close failed: %s", strerror(errno));
  w->f = NULL;
  if (!rc && rename(w->tmp, w->path) != 0) rc = werr(w, RSIM_EIO, "rename failed: %s", strerror(errno));
  if (rc) {
    rsim_errbuf_set(eb, rc, "%s", w->errmsg);
    remove(w->tmp);
  }
  writer_free(w);
  return rc;
}

void rsim_mcap_writer_abort(rsim_mcap_writer *w) {
  if (!w) return;
  if (w->f) fclose(w->f);
  remove(w->tmp);
  writer_free(w);
}

const char *rsim_mcap_writer_errmsg(const rsim_mcap_writer *w) { return w->errmsg; }
