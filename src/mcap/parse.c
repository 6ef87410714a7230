/*
** parse.c -- MCAP record contents, field by field, through a bounds-checked
** cursor: every read checks the bytes that remain, every length prefix is
** checked before the bytes it announces are touched.  Maps and arrays go
** into reusable scratch arrays sized by what the bytes can hold.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcap/mcap_int.h"

typedef struct cur {
  const uint8_t *p, *end;
  const char *what; /* the field being read, for messages */
} cur;

static const char *const kNames[] = {
    [RSIM_MCAP_HEADER] = "Header",         [RSIM_MCAP_FOOTER] = "Footer",
    [RSIM_MCAP_SCHEMA] = "Schema",         [RSIM_MCAP_CHANNEL] = "Channel",
    [RSIM_MCAP_MESSAGE] = "Message",       [RSIM_MCAP_CHUNK] = "Chunk",
    [RSIM_MCAP_MESSAGE_INDEX] = "MessageIndex", [RSIM_MCAP_CHUNK_INDEX] = "ChunkIndex",
    [RSIM_MCAP_ATTACHMENT] = "Attachment", [RSIM_MCAP_ATTACHMENT_INDEX] = "AttachmentIndex",
    [RSIM_MCAP_STATISTICS] = "Statistics", [RSIM_MCAP_METADATA] = "Metadata",
    [RSIM_MCAP_METADATA_INDEX] = "MetadataIndex", [RSIM_MCAP_SUMMARY_OFFSET] = "SummaryOffset",
    [RSIM_MCAP_DATA_END] = "DataEnd"};

const char *rsim_mcap_op_name(int op) {
  return op > 0 && op <= RSIM_MCAP_DATA_END ? kNames[op] : "Unknown";
}

static bool has(cur *c, uint64_t n) { return (uint64_t)(c->end - c->p) >= n; }

static bool u8(cur *c, uint8_t *v) {
  if (!has(c, 1)) return false;
  *v = *c->p++;
  return true;
}

static bool u16(cur *c, uint16_t *v) {
  if (!has(c, 2)) return false;
  *v = (uint16_t)(c->p[0] | c->p[1] << 8);
  c->p += 2;
  return true;
}

static bool u32(cur *c, uint32_t *v) {
  if (!has(c, 4)) return false;
  *v = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[3] << 24;
  c->p += 4;
  return true;
}

static bool u64(cur *c, uint64_t *v) {
  uint32_t lo, hi;
  if (!u32(c, &lo) || !u32(c, &hi)) return false;
  *v = (uint64_t)hi << 32 | lo;
  return true;
}

static bool str(cur *c, rsim_mcap_str *s) {
  uint32_t n;
  if (!u32(c, &n) || !has(c, n)) return false;
  s->p = (const char *)c->p;
  s->n = n;
  c->p += n;
  return true;
}

static bool bytes32(cur *c, rsim_mcap_bytes *b) {
  uint32_t n;
  if (!u32(c, &n) || !has(c, n)) return false;
  b->p = c->p;
  b->n = n;
  c->p += n;
  return true;
}

static bool bytes64(cur *c, rsim_mcap_bytes *b) {
  uint64_t n;
  if (!u64(c, &n) || !has(c, n)) return false;
  b->p = c->p;
  b->n = n;
  c->p += n;
  return true;
}

/* A uint32 byte length, then the bytes of a map or array: a sub-cursor. */
static bool sub(cur *c, cur *inner) {
  uint32_t n;
  if (!u32(c, &n) || !has(c, n)) return false;
  inner->p = c->p;
  inner->end = c->p + n;
  c->p += n;
  return true;
}

static void *grow(void *arr, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return arr;
  size_t cap2 = *cap ? *cap : 8;
  while (cap2 < need) cap2 *= 2;
  *cap = cap2;
  return rsim_xrealloc(arr, cap2 * size);
}

static bool strmap(cur *c, rsim__mcap_scratch *s, rsim_mcap_strpair **out, size_t *n) {
  cur m;
  if (!sub(c, &m)) return false;
  /* Each entry takes at least 8 bytes, which bounds the allocation. */
  s->strpairs = grow(s->strpairs, &s->cap_strpairs, (size_t)(m.end - m.p) / 8 + 1, sizeof *s->strpairs);
  *n = 0;
  while (m.p < m.end) {
    if (!str(&m, &s->strpairs[*n].key) || !str(&m, &s->strpairs[*n].value)) return false;
    (*n)++;
  }
  *out = s->strpairs;
  return true;
}

static bool idmap(cur *c, rsim__mcap_scratch *s, rsim_mcap_idpair **out, size_t *n) {
  cur m;
  if (!sub(c, &m)) return false;
  s->idpairs = grow(s->idpairs, &s->cap_idpairs, (size_t)(m.end - m.p) / 10 + 1, sizeof *s->idpairs);
  *n = 0;
  while (m.p < m.end) {
    if (!u16(&m, &s->idpairs[*n].key) || !u64(&m, &s->idpairs[*n].value)) return false;
    (*n)++;
  }
  *out = s->idpairs;
  return true;
}

static bool entries(cur *c, rsim__mcap_scratch *s, rsim_mcap_index_entry **out, size_t *n) {
  cur m;
  if (!sub(c, &m)) return false;
  s->entries = grow(s->entries, &s->cap_entries, (size_t)(m.end - m.p) / 16 + 1, sizeof *s->entries);
  *n = 0;
  while (m.p < m.end) {
    if (!u64(&m, &s->entries[*n].log_time) || !u64(&m, &s->entries[*n].offset)) return false;
    (*n)++;
  }
  *out = s->entries;
  return true;
}

void rsim__mcap_scratch_free(rsim__mcap_scratch *s) {
  free(s->strpairs);
  free(s->idpairs);
  free(s->entries);
  memset(s, 0, sizeof *s);
}

#define F(expr, field)  \
  do {                  \
    c.what = field;     \
    if (!(expr)) goto short_read; \
  } while (0)

int rsim__mcap_parse(uint8_t op, const uint8_t *p, uint64_t n, rsim__mcap_scratch *s,
                     rsim_mcap_record *out, char *why, size_t why_len) {
  cur c = {p, p + n, "?"};
  out->op = op;
  switch (op) {
    case RSIM_MCAP_HEADER:
      F(str(&c, &out->r.header.profile), "profile");
      F(str(&c, &out->r.header.library), "library");
      break;
    case RSIM_MCAP_FOOTER:
      F(u64(&c, &out->r.footer.summary_start), "summary_start");
      F(u64(&c, &out->r.footer.summary_offset_start), "summary_offset_start");
      F(u32(&c, &out->r.footer.summary_crc), "summary_crc");
      break;
    case RSIM_MCAP_SCHEMA:
      F(u16(&c, &out->r.schema.id), "id");
      F(str(&c, &out->r.schema.name), "name");
      F(str(&c, &out->r.schema.encoding), "encoding");
      F(bytes32(&c, &out->r.schema.data), "data");
      break;
    case RSIM_MCAP_CHANNEL:
      F(u16(&c, &out->r.channel.id), "id");
      F(u16(&c, &out->r.channel.schema_id), "schema_id");
      F(str(&c, &out->r.channel.topic), "topic");
      F(str(&c, &out->r.channel.message_encoding), "message_encoding");
      F(strmap(&c, s, &out->r.channel.metadata, &out->r.channel.n_metadata), "metadata");
      break;
    case RSIM_MCAP_MESSAGE:
      F(u16(&c, &out->r.message.channel_id), "channel_id");
      F(u32(&c, &out->r.message.sequence), "sequence");
      F(u64(&c, &out->r.message.log_time), "log_time");
      F(u64(&c, &out->r.message.publish_time), "publish_time");
      out->r.message.data = (rsim_mcap_bytes){c.p, (uint64_t)(c.end - c.p)};
      break;
    case RSIM_MCAP_CHUNK:
      F(u64(&c, &out->r.chunk.message_start_time), "message_start_time");
      F(u64(&c, &out->r.chunk.message_end_time), "message_end_time");
      F(u64(&c, &out->r.chunk.uncompressed_size), "uncompressed_size");
      F(u32(&c, &out->r.chunk.uncompressed_crc), "uncompressed_crc");
      F(str(&c, &out->r.chunk.compression), "compression");
      F(bytes64(&c, &out->r.chunk.records), "records");
      break;
    case RSIM_MCAP_MESSAGE_INDEX:
      F(u16(&c, &out->r.message_index.channel_id), "channel_id");
      F(entries(&c, s, &out->r.message_index.records, &out->r.message_index.n_records), "records");
      break;
    case RSIM_MCAP_CHUNK_INDEX:
      F(u64(&c, &out->r.chunk_index.message_start_time), "message_start_time");
      F(u64(&c, &out->r.chunk_index.message_end_time), "message_end_time");
      F(u64(&c, &out->r.chunk_index.chunk_start_offset), "chunk_start_offset");
      F(u64(&c, &out->r.chunk_index.chunk_length), "chunk_length");
      F(idmap(&c, s, &out->r.chunk_index.message_index_offsets, &out->r.chunk_index.n_offsets),
        "message_index_offsets");
      F(u64(&c, &out->r.chunk_index.message_index_length), "message_index_length");
      F(str(&c, &out->r.chunk_index.compression), "compression");
      F(u64(&c, &out->r.chunk_index.compressed_size), "compressed_size");
      F(u64(&c, &out->r.chunk_index.uncompressed_size), "uncompressed_size");
      break;
    case RSIM_MCAP_ATTACHMENT:
      F(u64(&c, &out->r.attachment.log_time), "log_time");
      F(u64(&c, &out->r.attachment.create_time), "create_time");
      F(str(&c, &out->r.attachment.name), "name");
      F(str(&c, &out->r.attachment.media_type), "media_type");
      F(bytes64(&c, &out->r.attachment.data), "data");
      F(u32(&c, &out->r.attachment.crc), "crc");
      if (out->r.attachment.crc) {
        uint32_t got = rsim__mcap_crc32(0, p, (size_t)(c.p - p - 4));
        if (got != out->r.attachment.crc) {
          snprintf(why, why_len, "Attachment: crc mismatch (stored 0x%08x, computed 0x%08x)",
                   out->r.attachment.crc, got);
          return RSIM_ECORRUPT;
        }
      }
      break;
    case RSIM_MCAP_ATTACHMENT_INDEX:
      F(u64(&c, &out->r.attachment_index.offset), "offset");
      F(u64(&c, &out->r.attachment_index.length), "length");
      F(u64(&c, &out->r.attachment_index.log_time), "log_time");
      F(u64(&c, &out->r.attachment_index.create_time), "create_time");
      F(u64(&c, &out->r.attachment_index.data_size), "data_size");
      F(str(&c, &out->r.attachment_index.name), "name");
      F(str(&c, &out->r.attachment_index.media_type), "media_type");
      break;
    case RSIM_MCAP_STATISTICS:
      F(u64(&c, &out->r.statistics.message_count), "message_count");
      F(u16(&c, &out->r.statistics.schema_count), "schema_count");
      F(u32(&c, &out->r.statistics.channel_count), "channel_count");
      F(u32(&c, &out->r.statistics.attachment_count), "attachment_count");
      F(u32(&c, &out->r.statistics.metadata_count), "metadata_count");
      F(u32(&c, &out->r.statistics.chunk_count), "chunk_count");
      F(u64(&c, &out->r.statistics.message_start_time), "message_start_time");
      F(u64(&c, &out->r.statistics.message_end_time), "message_end_time");
      F(idmap(&c, s, &out->r.statistics.channel_message_counts, &out->r.statistics.n_counts),
        "channel_message_counts");
      break;
    case RSIM_MCAP_METADATA:
      F(str(&c, &out->r.metadata.name), "name");
      F(strmap(&c, s, &out->r.metadata.metadata, &out->r.metadata.n_metadata), "metadata");
      break;
    case RSIM_MCAP_METADATA_INDEX:
      F(u64(&c, &out->r.metadata_index.offset), "offset");
      F(u64(&c, &out->r.metadata_index.length), "length");
      F(str(&c, &out->r.metadata_index.name), "name");
      break;
    case RSIM_MCAP_SUMMARY_OFFSET:
      F(u8(&c, &out->r.summary_offset.group_opcode), "group_opcode");
      F(u64(&c, &out->r.summary_offset.group_start), "group_start");
      F(u64(&c, &out->r.summary_offset.group_length), "group_length");
      break;
    case RSIM_MCAP_DATA_END:
      F(u32(&c, &out->r.data_end.data_section_crc), "data_section_crc");
      break;
    default:
      break; /* unknown opcodes are skipped by the reader */
  }
  return RSIM_OK;
short_read:
  snprintf(why, why_len, "%s: field %s runs past the end of the record (%llu bytes)",
           rsim_mcap_op_name(op), c.what, (unsigned long long)n);
  return RSIM_ECORRUPT;
}
