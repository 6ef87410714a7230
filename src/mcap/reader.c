/*
** reader.c -- the MCAP reader: streamed reading of every record, and
** indexed reading of messages through the summary's chunk indexes and the
** message indexes after each chunk.
**
** The file is read with pread into a record buffer; chunks are decompressed
** into a chunk buffer.  Invariants: pos is always the offset of the next
** record's opcode; no length from the file is used before it is checked
** against the bytes that remain; decompressed sizes are capped.
**
** Indexed reading keeps a heap of message positions from the chunks loaded
** so far and loads the next chunk (in start-time order) before yielding a
** message later than that chunk's start, so messages come out in log-time
** order even when chunks overlap, ties in file order.
**
** A file without a summary can be indexed by a scan (rsim_mcap_reader_scan):
** the same chunk references are made from the records themselves, plus
** references to runs of messages outside chunks ("raw") and to the whole
** part of a chunk cut off by the end of the file ("part"); the iteration
** above reads them all alike.
*/
#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "mcap/mcap_int.h"

#define MAX_RECORD (1ull << 31)      /* one record's content in memory */
#define MAX_CHUNK (1ull << 31)       /* one decompressed chunk */

typedef struct chunk_ref {
  uint64_t start, end, offset, length;
  rsim_mcap_idpair *mi;  /* message index offsets by channel (scanned: the channels, values unused) */
  size_t n_mi;
  bool scanned;          /* from a scan: read by walking its records */
  bool raw;              /* a run of records outside chunks: [offset, offset + length) of the file */
  bool bad;              /* damaged and skipped (rsim_mcap_reader_skip_corrupt) */
  uint64_t part;         /* cut off by the end of the file: the length of its whole records, decompressed */
} chunk_ref;

typedef struct loaded {
  uint8_t *data;         /* decompressed records */
  size_t cap;
  uint64_t len;
  uint64_t file_offset;  /* of the chunk record: the file-order key */
  size_t pending;        /* messages of it still in the heap */
} loaded;

typedef struct msg_pos {
  uint64_t log_time, file_offset, offset;
  size_t slot;
} msg_pos;

struct rsim_mcap_reader {
  char *name;
  int fd;
  const uint8_t *mem;
  uint64_t size;
  char errmsg[512];
  rsim__mcap_scratch scratch;
  rsim_mcap_record rec;
  /* streamed */
  uint64_t pos;
  bool done, seen_header;
  uint8_t *buf;
  size_t cap;
  uint8_t *chunk;
  size_t chunk_cap;
  uint64_t chunk_len, chunk_pos, chunk_file_offset;
  bool in_chunk;
  uint32_t data_crc;
  bool data_crc_live;
  /* summary */
  bool have_summary;
  rsim_mcap_schema *schemas;
  size_t n_schemas;
  rsim_mcap_channel *channels;
  size_t n_channels;
  chunk_ref *chunks;
  size_t n_chunks;
  rsim_mcap_record stats;
  rsim_mcap_idpair *stats_counts;
  bool has_stats;
  struct { uint64_t offset, length; char *name; } *meta_idx;
  size_t n_meta_idx;
  /* recovery */
  bool scanned;
  rsim_mcap_scan_info scan;
  rsim_mcap_gap_fn gap_fn;
  void *gap_ud;
  /* indexed iteration */
  chunk_ref **sel;
  size_t n_sel, next_sel;
  uint64_t t0, t1;
  uint16_t *want;
  size_t n_want;
  loaded *slots;
  size_t n_slots;
  msg_pos *heap;
  size_t heap_n, heap_cap;
  size_t release_slot; /* slot to free at the next call, or SIZE_MAX */
  uint8_t *spare;      /* a released chunk buffer, reused: fresh pages cost faults */
  size_t spare_cap;
  ZSTD_DCtx *zctx;
  rsim_mcap_message msg;
  /* Chunks decompressed by the last latest() calls: a seek asks for the
  ** latest message of every sensor at one time, and those mostly sit in
  ** the same one or two chunks, each megabytes to decompress and check. */
  loaded kept[2];
};

static int fail(rsim_mcap_reader *rd, int code, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(rsim_mcap_reader *rd, int code, uint64_t off, const char *fmt, ...) {
  char what[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(rd->errmsg, sizeof rd->errmsg, "%s: offset %llu: %s", rd->name, (unsigned long long)off, what);
  return code;
}

static int read_at(rsim_mcap_reader *rd, uint64_t off, void *dst, uint64_t n) {
  if (off > rd->size || n > rd->size - off)
    return fail(rd, RSIM_ECORRUPT, off, "%llu bytes needed, the file ends at %llu",
                (unsigned long long)n, (unsigned long long)rd->size);
  if (rd->mem) {
    memcpy(dst, rd->mem + off, (size_t)n);
    return RSIM_OK;
  }
  uint8_t *p = dst;
  while (n) {
    ssize_t got = pread(rd->fd, p, n > (1u << 30) ? (1u << 30) : (size_t)n, (off_t)off);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return fail(rd, RSIM_EIO, off, "read failed: %s", got ? strerror(errno) : "unexpected end");
    p += got;
    off += (uint64_t)got;
    n -= (uint64_t)got;
  }
  return RSIM_OK;
}

static uint64_t le64(const uint8_t *b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
  return v;
}

static uint8_t *reserve(uint8_t **buf, size_t *cap, uint64_t n) {
  if (n + 1 > *cap) {
    *buf = rsim_xrealloc(*buf, (size_t)n + 1);
    *cap = (size_t)n + 1;
  }
  return *buf;
}

/* ---- open / close ----------------------------------------------------------------- */

static rsim_mcap_reader *reader_new(const char *name) {
  rsim_mcap_reader *rd = rsim_xcalloc(1, sizeof *rd);
  rd->name = rsim_xstrdup(name);
  rd->fd = -1;
  rd->pos = RSIM_MCAP_MAGIC_LEN;
  rd->data_crc_live = true;
  rd->release_slot = SIZE_MAX;
  return rd;
}

static int check_magic(rsim_mcap_reader *rd, rsim_errbuf *eb) {
  uint8_t m[RSIM_MCAP_MAGIC_LEN];
  if (rd->size < RSIM_MCAP_MAGIC_LEN || read_at(rd, 0, m, RSIM_MCAP_MAGIC_LEN) ||
      memcmp(m, RSIM_MCAP_MAGIC, RSIM_MCAP_MAGIC_LEN))
    return rsim_errbuf_set(eb, RSIM_ECORRUPT, "%s: not an MCAP file (wrong magic at offset 0)", rd->name);
  rd->data_crc = rsim__mcap_crc32(0, m, RSIM_MCAP_MAGIC_LEN);
  return RSIM_OK;
}

int rsim_mcap_reader_open(const char *path, rsim_mcap_reader **out, rsim_errbuf *eb) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return rsim_errbuf_set(eb, RSIM_EIO, "%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
    close(fd);
    return rsim_errbuf_set(eb, RSIM_EIO, "%s: not a regular file", path);
  }
  rsim_mcap_reader *rd = reader_new(path);
  rd->fd = fd;
  rd->size = (uint64_t)st.st_size;
  int rc = check_magic(rd, eb);
  if (rc) {
    rsim_mcap_reader_close(rd);
    return rc;
  }
  *out = rd;
  return RSIM_OK;
}

int rsim_mcap_reader_open_memory(const char *name, const uint8_t *p, size_t n,
                                 rsim_mcap_reader **out, rsim_errbuf *eb) {
  *out = NULL;
  rsim_mcap_reader *rd = reader_new(name);
  rd->mem = p;
  rd->size = n;
  int rc = check_magic(rd, eb);
  if (rc) {
    rsim_mcap_reader_close(rd);
    return rc;
  }
  *out = rd;
  return RSIM_OK;
}

static void free_iteration(rsim_mcap_reader *rd) {
  for (size_t i = 0; i < rd->n_slots; i++) free(rd->slots[i].data);
  free(rd->slots);
  free(rd->heap);
  free(rd->sel);
  free(rd->want);
  rd->slots = NULL;
  rd->heap = NULL;
  rd->sel = NULL;
  rd->want = NULL;
  rd->n_slots = rd->heap_n = rd->heap_cap = rd->n_sel = rd->next_sel = rd->n_want = 0;
  rd->release_slot = SIZE_MAX;
}

/* Frees the summary's (or the scan's) index. */
static void free_index(rsim_mcap_reader *rd) {
  for (size_t i = 0; i < rd->n_schemas; i++) {
    free(rd->schemas[i].name);
    free(rd->schemas[i].encoding);
    free(rd->schemas[i].data);
  }
  for (size_t i = 0; i < rd->n_channels; i++) {
    free(rd->channels[i].topic);
    free(rd->channels[i].message_encoding);
    for (size_t k = 0; k < rd->channels[i].n_metadata; k++) {
      free(rd->channels[i].metadata[k].key);
      free(rd->channels[i].metadata[k].value);
    }
    free(rd->channels[i].metadata);
  }
  for (size_t i = 0; i < rd->n_chunks; i++) free(rd->chunks[i].mi);
  for (size_t i = 0; i < rd->n_meta_idx; i++) free(rd->meta_idx[i].name);
  free(rd->meta_idx);
  free(rd->schemas);
  free(rd->channels);
  free(rd->chunks);
  free(rd->stats_counts);
  rd->meta_idx = NULL;
  rd->schemas = NULL;
  rd->channels = NULL;
  rd->chunks = NULL;
  rd->stats_counts = NULL;
  rd->n_meta_idx = rd->n_schemas = rd->n_channels = rd->n_chunks = 0;
  rd->has_stats = false;
}

void rsim_mcap_reader_close(rsim_mcap_reader *rd) {
  if (!rd) return;
  if (rd->fd >= 0) close(rd->fd);
  free_iteration(rd);
  for (size_t i = 0; i < 2; i++) free(rd->kept[i].data);
  free_index(rd);
  rsim__mcap_scratch_free(&rd->scratch);
  free(rd->buf);
  free(rd->chunk);
  free(rd->spare);
  ZSTD_freeDCtx(rd->zctx);
  free(rd->name);
  free(rd);
}

const char *rsim_mcap_reader_errmsg(const rsim_mcap_reader *rd) { return rd->errmsg; }

/* ---- decompression ------------------------------------------------------------------ */

/*
** Decompresses a chunk's records into *dst.  With part NULL the whole
** chunk, its size and CRC checked.  With part set, c's records are the
** bytes left of a chunk cut off by the end of the file: as much as they
** decode to goes into *dst, its length into *part (no CRC: it covers the
** whole).
*/
static int decompress(rsim_mcap_reader *rd, uint64_t off, const rsim_mcap_record *c, uint8_t **dst,
                      size_t *cap, uint64_t *part) {
  const rsim_mcap_str *z = &c->r.chunk.compression;
  uint64_t usize = c->r.chunk.uncompressed_size;
  const rsim_mcap_bytes *src = &c->r.chunk.records;
  bool is_zstd = z->n == 4 && !memcmp(z->p, "zstd", 4), is_lz4 = z->n == 3 && !memcmp(z->p, "lz4", 3);
  if (z->n && !is_zstd && !is_lz4)
    return fail(rd, RSIM_ENOTSUP, off, "Chunk: unsupported compression '%.*s'", (int)(z->n > 32 ? 32 : z->n), z->p);
  if (usize > MAX_CHUNK) return fail(rd, RSIM_ETOOBIG, off, "Chunk: uncompressed size %llu is over the limit", (unsigned long long)usize);
  /* Check the claimed size against what the compressed bytes can hold
  ** before allocating it: a lying header must not cost gigabytes.  A cut
  ** chunk gets room for what its bytes left can hold. */
  if (part) {
    uint64_t most = z->n ? 1024 * src->n + 65536 : src->n;
    if (usize > most) usize = most;
  } else {
    if (z->n == 0 && src->n != usize)
      return fail(rd, RSIM_ECORRUPT, off, "Chunk: uncompressed chunk holds %llu bytes but says %llu",
                  (unsigned long long)src->n, (unsigned long long)usize);
    if (z->n && usize > 1024 * src->n + 65536)
      return fail(rd, RSIM_ECORRUPT, off, "Chunk: %llu compressed bytes cannot hold %llu", (unsigned long long)src->n,
                  (unsigned long long)usize);
  }
  if (is_zstd) {
    unsigned long long fcs = ZSTD_getFrameContentSize(src->p, (size_t)src->n);
    if (fcs == ZSTD_CONTENTSIZE_ERROR ||
        (!part && fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs != usize))
      return fail(rd, RSIM_ECORRUPT, off, "Chunk: zstd frame does not hold the %llu bytes the chunk says",
                  (unsigned long long)usize);
  }
  uint8_t *out = reserve(dst, cap, usize);
  if (z->n == 0) {
    memcpy(out, src->p, (size_t)usize);
    if (part) *part = usize;
  } else if (is_zstd) {
    if (!rd->zctx && !(rd->zctx = ZSTD_createDCtx())) return fail(rd, RSIM_ENOMEM, off, "Chunk: zstd context");
    if (part) {
      /* Streamed: every whole block of what is left decodes. */
      ZSTD_DCtx_reset(rd->zctx, ZSTD_reset_session_only);
      ZSTD_inBuffer in = {src->p, (size_t)src->n, 0};
      ZSTD_outBuffer o = {out, (size_t)usize, 0};
      for (;;) {
        size_t before_in = in.pos, before_out = o.pos;
        size_t r = ZSTD_decompressStream(rd->zctx, &o, &in);
        if (ZSTD_isError(r))
          return fail(rd, RSIM_ECORRUPT, off, "Chunk (cut off): zstd data does not decompress (%s)", ZSTD_getErrorName(r));
        if (r == 0 || o.pos == o.size || (in.pos == before_in && o.pos == before_out)) break;
      }
      *part = o.pos;
      return RSIM_OK;
    }
    size_t got = ZSTD_decompressDCtx(rd->zctx, out, (size_t)usize, src->p, (size_t)src->n);
    if (ZSTD_isError(got) || got != usize)
      return fail(rd, RSIM_ECORRUPT, off, "Chunk: zstd data does not decompress to %llu bytes (%s)",
                  (unsigned long long)usize, ZSTD_isError(got) ? ZSTD_getErrorName(got) : "size differs");
  } else {
    LZ4F_dctx *dctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
      return fail(rd, RSIM_ENOMEM, off, "Chunk: lz4 context");
    size_t in_left = (size_t)src->n, out_done = 0, ret = 1;
    const uint8_t *ip = src->p;
    while (in_left && ret) {
      size_t in_n = in_left, out_n = (size_t)usize - out_done;
      ret = LZ4F_decompress(dctx, out + out_done, &out_n, ip, &in_n, NULL);
      if (LZ4F_isError(ret)) break;
      ip += in_n;
      in_left -= in_n;
      out_done += out_n;
      if (!in_n && !out_n) break;
    }
    LZ4F_freeDecompressionContext(dctx);
    if (part && !LZ4F_isError(ret)) {
      *part = out_done;
      return RSIM_OK;
    }
    if (LZ4F_isError(ret) || out_done != usize)
      return fail(rd, RSIM_ECORRUPT, off, "Chunk: lz4 data does not decompress to %llu bytes (%s)",
                  (unsigned long long)usize, LZ4F_isError(ret) ? LZ4F_getErrorName(ret) : "size differs");
  }
  if (!part && c->r.chunk.uncompressed_crc) {
    uint32_t got = rsim__mcap_crc32(0, out, (size_t)usize);
    if (got != c->r.chunk.uncompressed_crc)
      return fail(rd, RSIM_ECORRUPT, off, "Chunk: crc mismatch (stored 0x%08x, computed 0x%08x)",
                  c->r.chunk.uncompressed_crc, got);
  }
  return RSIM_OK;
}

/* ---- streamed ------------------------------------------------------------------------ */

/* The next record inside the current chunk; false when it is exhausted. */
static int next_in_chunk(rsim_mcap_reader *rd, bool *got) {
  *got = false;
  while (rd->chunk_pos < rd->chunk_len) {
    uint64_t at = rd->chunk_pos, left = rd->chunk_len - at;
    if (left < 9)
      return fail(rd, RSIM_ECORRUPT, rd->chunk_file_offset, "Chunk: %llu stray bytes at its end", (unsigned long long)left);
    uint8_t op = rd->chunk[at];
    uint64_t len = le64(rd->chunk + at + 1);
    if (len > left - 9)
      return fail(rd, RSIM_ECORRUPT, rd->chunk_file_offset, "Chunk: %s record at %llu in the chunk runs past its end",
                  rsim_mcap_op_name(op), (unsigned long long)at);
    rd->chunk_pos = at + 9 + len;
    if (op == 0 || op > RSIM_MCAP_DATA_END) continue; /* unknown: skip */
    char why[300];
    if (rsim__mcap_parse(op, rd->chunk + at + 9, len, &rd->scratch, &rd->rec, why, sizeof why))
      return fail(rd, RSIM_ECORRUPT, rd->chunk_file_offset, "in chunk at %llu: %s", (unsigned long long)at, why);
    rd->rec.offset = at;
    rd->rec.in_chunk = true;
    *got = true;
    return RSIM_OK;
  }
  rd->in_chunk = false;
  return RSIM_OK;
}

static int check_footer_crc(rsim_mcap_reader *rd, uint64_t footer_off, const rsim_mcap_record *f) {
  if (!f->r.footer.summary_crc) return RSIM_OK;
  uint64_t start = f->r.footer.summary_start ? f->r.footer.summary_start : footer_off;
  uint64_t end = footer_off + 9 + 16;
  if (start > footer_off) return fail(rd, RSIM_ECORRUPT, footer_off, "Footer: summary_start %llu is past the footer", (unsigned long long)start);
  uint32_t crc = 0;
  uint8_t tmp[65536];
  for (uint64_t at = start; at < end;) {
    uint64_t n = end - at < sizeof tmp ? end - at : sizeof tmp;
    int rc = read_at(rd, at, tmp, n);
    if (rc) return rc;
    crc = rsim__mcap_crc32(crc, tmp, (size_t)n);
    at += n;
  }
  if (crc != f->r.footer.summary_crc)
    return fail(rd, RSIM_ECORRUPT, footer_off, "Footer: summary crc mismatch (stored 0x%08x, computed 0x%08x)",
                f->r.footer.summary_crc, crc);
  return RSIM_OK;
}

static int after_record(rsim_mcap_reader *rd, uint64_t off) {
  rsim_mcap_record *r = &rd->rec;
  switch (r->op) {
    case RSIM_MCAP_DATA_END:
      rd->data_crc_live = false;
      if (r->r.data_end.data_section_crc && r->r.data_end.data_section_crc != rd->data_crc)
        return fail(rd, RSIM_ECORRUPT, off, "DataEnd: data section crc mismatch (stored 0x%08x, computed 0x%08x)",
                    r->r.data_end.data_section_crc, rd->data_crc);
      return RSIM_OK;
    case RSIM_MCAP_CHUNK: {
      int rc = decompress(rd, off, r, &rd->chunk, &rd->chunk_cap, NULL);
      if (rc) return rc;
      rd->chunk_len = r->r.chunk.uncompressed_size;
      rd->chunk_pos = 0;
      rd->chunk_file_offset = off;
      rd->in_chunk = true;
      return RSIM_OK;
    }
    case RSIM_MCAP_FOOTER: {
      uint8_t m[RSIM_MCAP_MAGIC_LEN];
      int rc = read_at(rd, rd->pos, m, sizeof m);
      if (rc) return fail(rd, RSIM_ECORRUPT, rd->pos, "no trailing magic after the footer");
      if (memcmp(m, RSIM_MCAP_MAGIC, sizeof m)) return fail(rd, RSIM_ECORRUPT, rd->pos, "wrong trailing magic");
      if (rd->pos + sizeof m != rd->size)
        return fail(rd, RSIM_ECORRUPT, rd->pos + sizeof m, "%llu bytes after the trailing magic",
                    (unsigned long long)(rd->size - rd->pos - sizeof m));
      rd->done = true;
      return check_footer_crc(rd, off, r);
    }
    default: return RSIM_OK;
  }
}

int rsim_mcap_reader_next(rsim_mcap_reader *rd, const rsim_mcap_record **out) {
  for (;;) {
    if (rd->in_chunk) {
      bool got;
      int rc = next_in_chunk(rd, &got);
      if (rc) return rc;
      if (got) {
        *out = &rd->rec;
        return RSIM_OK;
      }
    }
    if (rd->done) return RSIM_EEOF;
    uint64_t off = rd->pos;
    uint8_t head[9];
    if (off + 9 > rd->size)
      return fail(rd, RSIM_ECORRUPT, off, "truncated: a record header needs 9 bytes, the file ends at %llu",
                  (unsigned long long)rd->size);
    int rc = read_at(rd, off, head, 9);
    if (rc) return rc;
    uint8_t op = head[0];
    uint64_t len = le64(head + 1);
    if (len > rd->size - off - 9)
      return fail(rd, RSIM_ECORRUPT, off, "%s record: length %llu runs past the end of the file",
                  rsim_mcap_op_name(op), (unsigned long long)len);
    if (len > MAX_RECORD)
      return fail(rd, RSIM_ETOOBIG, off, "%s record of %llu bytes is over the limit", rsim_mcap_op_name(op),
                  (unsigned long long)len);
    if (!rd->seen_header && op != RSIM_MCAP_HEADER)
      return fail(rd, RSIM_ECORRUPT, off, "the first record is %s, not Header", rsim_mcap_op_name(op));
    rd->seen_header = true;
    reserve(&rd->buf, &rd->cap, len);
    if ((rc = read_at(rd, off + 9, rd->buf, len))) return rc;
    if (rd->data_crc_live && op != RSIM_MCAP_DATA_END) {
      rd->data_crc = rsim__mcap_crc32(rd->data_crc, head, 9);
      rd->data_crc = rsim__mcap_crc32(rd->data_crc, rd->buf, (size_t)len);
    }
    rd->pos = off + 9 + len;
    if (op == 0 || op > RSIM_MCAP_DATA_END) continue; /* unknown opcode: skip */
    if (op == RSIM_MCAP_FOOTER && len != 20)
      return fail(rd, RSIM_ECORRUPT, off, "Footer: length %llu, expected 20", (unsigned long long)len);
    char why[300];
    if (rsim__mcap_parse(op, rd->buf, len, &rd->scratch, &rd->rec, why, sizeof why))
      return fail(rd, RSIM_ECORRUPT, off, "%s", why);
    rd->rec.offset = off;
    rd->rec.in_chunk = false;
    if ((rc = after_record(rd, off))) return rc;
    *out = &rd->rec;
    return RSIM_OK;
  }
}

/* ---- summary ----------------------------------------------------------------------------- */

static char *dup_str(rsim_mcap_str s) { return rsim_xstrndup(s.p ? s.p : "", s.n); }

static void keep_schema(rsim_mcap_reader *rd, const rsim_mcap_record *r) {
  for (size_t i = 0; i < rd->n_schemas; i++)
    if (rd->schemas[i].id == r->r.schema.id) return;
  rd->schemas = rsim_xrealloc(rd->schemas, (rd->n_schemas + 1) * sizeof *rd->schemas);
  rsim_mcap_schema *s = &rd->schemas[rd->n_schemas++];
  s->id = r->r.schema.id;
  s->name = dup_str(r->r.schema.name);
  s->encoding = dup_str(r->r.schema.encoding);
  s->data_len = (size_t)r->r.schema.data.n;
  s->data = rsim_xmalloc(s->data_len);
  if (s->data_len) memcpy(s->data, r->r.schema.data.p, s->data_len);
}

static void keep_channel(rsim_mcap_reader *rd, const rsim_mcap_record *r) {
  for (size_t i = 0; i < rd->n_channels; i++)
    if (rd->channels[i].id == r->r.channel.id) return;
  rd->channels = rsim_xrealloc(rd->channels, (rd->n_channels + 1) * sizeof *rd->channels);
  rsim_mcap_channel *c = &rd->channels[rd->n_channels++];
  c->id = r->r.channel.id;
  c->schema_id = r->r.channel.schema_id;
  c->topic = dup_str(r->r.channel.topic);
  c->message_encoding = dup_str(r->r.channel.message_encoding);
  c->n_metadata = r->r.channel.n_metadata;
  c->metadata = rsim_xcalloc(c->n_metadata ? c->n_metadata : 1, sizeof *c->metadata);
  for (size_t k = 0; k < c->n_metadata; k++) {
    c->metadata[k].key = dup_str(r->r.channel.metadata[k].key);
    c->metadata[k].value = dup_str(r->r.channel.metadata[k].value);
  }
}

static void keep_chunk_index(rsim_mcap_reader *rd, const rsim_mcap_record *r) {
  rd->chunks = rsim_xrealloc(rd->chunks, (rd->n_chunks + 1) * sizeof *rd->chunks);
  chunk_ref *c = &rd->chunks[rd->n_chunks++];
  memset(c, 0, sizeof *c);
  c->start = r->r.chunk_index.message_start_time;
  c->end = r->r.chunk_index.message_end_time;
  c->offset = r->r.chunk_index.chunk_start_offset;
  c->length = r->r.chunk_index.chunk_length;
  c->n_mi = r->r.chunk_index.n_offsets;
  c->mi = rsim_xmalloc((c->n_mi ? c->n_mi : 1) * sizeof *c->mi);
  memcpy(c->mi, r->r.chunk_index.message_index_offsets, c->n_mi * sizeof *c->mi);
}

int rsim_mcap_reader_summary(rsim_mcap_reader *rd) {
  if (rd->have_summary) return RSIM_OK;
  const uint64_t tail = 9 + 20 + RSIM_MCAP_MAGIC_LEN;
  /* No footer (too short, or no trailing magic): a file cut off, as a
  ** recorder killed mid-write leaves it.  RSIM_ENOTFOUND: it may be scanned. */
  if (rd->size < RSIM_MCAP_MAGIC_LEN + tail) return fail(rd, RSIM_ENOTFOUND, rd->size, "too short for a footer: truncated or not finished");
  uint64_t foff = rd->size - tail;
  uint8_t t[9 + 20 + RSIM_MCAP_MAGIC_LEN];
  int rc = read_at(rd, foff, t, sizeof t);
  if (rc) return rc;
  if (memcmp(t + 29, RSIM_MCAP_MAGIC, RSIM_MCAP_MAGIC_LEN))
    return fail(rd, RSIM_ENOTFOUND, foff + 29, "no trailing magic: truncated or not finished");
  if (t[0] != RSIM_MCAP_FOOTER || le64(t + 1) != 20) return fail(rd, RSIM_ECORRUPT, foff, "no Footer record before the trailing magic");
  rsim_mcap_record f;
  char why[300];
  if (rsim__mcap_parse(RSIM_MCAP_FOOTER, t + 9, 20, &rd->scratch, &f, why, sizeof why)) return fail(rd, RSIM_ECORRUPT, foff, "%s", why);
  if ((rc = check_footer_crc(rd, foff, &f))) return rc;
  uint64_t start = f.r.footer.summary_start;
  if (!start) return fail(rd, RSIM_ENOTFOUND, foff, "the file has no summary section; read it streamed");
  uint64_t end = f.r.footer.summary_offset_start ? f.r.footer.summary_offset_start : foff;
  if (start < RSIM_MCAP_MAGIC_LEN || start > end || end > foff)
    return fail(rd, RSIM_ECORRUPT, foff, "Footer: summary section [%llu, %llu) is not inside the file",
                (unsigned long long)start, (unsigned long long)end);
  uint64_t n = end - start;
  if (n > MAX_RECORD) return fail(rd, RSIM_ETOOBIG, start, "summary section of %llu bytes is over the limit", (unsigned long long)n);
  uint8_t *sum = rsim_xmalloc((size_t)n + 1);
  if ((rc = read_at(rd, start, sum, n))) {
    free(sum);
    return rc;
  }
  for (uint64_t at = 0; at < n && !rc;) {
    if (n - at < 9) {
      rc = fail(rd, RSIM_ECORRUPT, start + at, "summary: a record header is cut off");
      break;
    }
    uint8_t op = sum[at];
    uint64_t len = le64(sum + at + 1);
    if (len > n - at - 9) {
      rc = fail(rd, RSIM_ECORRUPT, start + at, "summary: %s record runs past the summary section", rsim_mcap_op_name(op));
      break;
    }
    rsim_mcap_record r;
    if (op >= 1 && op <= RSIM_MCAP_DATA_END && rsim__mcap_parse(op, sum + at + 9, len, &rd->scratch, &r, why, sizeof why)) {
      rc = fail(rd, RSIM_ECORRUPT, start + at, "summary: %s", why);
      break;
    }
    if (op == RSIM_MCAP_SCHEMA && r.r.schema.id) keep_schema(rd, &r);
    else if (op == RSIM_MCAP_CHANNEL) keep_channel(rd, &r);
    else if (op == RSIM_MCAP_CHUNK_INDEX) keep_chunk_index(rd, &r);
    else if (op == RSIM_MCAP_METADATA_INDEX) {
      rd->meta_idx = rsim_xrealloc(rd->meta_idx, (rd->n_meta_idx + 1) * sizeof *rd->meta_idx);
      rd->meta_idx[rd->n_meta_idx].offset = r.r.metadata_index.offset;
      rd->meta_idx[rd->n_meta_idx].length = r.r.metadata_index.length;
      rd->meta_idx[rd->n_meta_idx++].name = dup_str(r.r.metadata_index.name);
    }
    else if (op == RSIM_MCAP_STATISTICS) {
      rd->stats = r;
      rd->stats_counts = rsim_xrealloc(rd->stats_counts, (r.r.statistics.n_counts + 1) * sizeof *rd->stats_counts);
      memcpy(rd->stats_counts, r.r.statistics.channel_message_counts, r.r.statistics.n_counts * sizeof *rd->stats_counts);
      rd->stats.r.statistics.channel_message_counts = rd->stats_counts;
      rd->has_stats = true;
    }
    at += 9 + len;
  }
  free(sum);
  if (!rc) rd->have_summary = true;
  return rc;
}

const rsim_mcap_schema *rsim_mcap_schemas(const rsim_mcap_reader *rd, size_t *n) {
  *n = rd->n_schemas;
  return rd->schemas;
}

const rsim_mcap_channel *rsim_mcap_channels(const rsim_mcap_reader *rd, size_t *n) {
  *n = rd->n_channels;
  return rd->channels;
}

const rsim_mcap_record *rsim_mcap_statistics(const rsim_mcap_reader *rd) {
  return rd->has_stats ? &rd->stats : NULL;
}

size_t rsim_mcap_chunk_count(const rsim_mcap_reader *rd) { return rd->n_chunks; }

/* ---- scanning (recovery) ---------------------------------------------------------------- */

#define MAX_RUN (4u << 20) /* bytes of records outside chunks read as one */

static void report_gap(rsim_mcap_reader *rd, uint64_t offset, uint64_t start, uint64_t end, const uint16_t *ch,
                       size_t n);
static bool chunk_head(const uint8_t *p, uint64_t n, rsim_mcap_record *r);

typedef struct scan_state {
  rsim_mcap_idpair *counts; /* messages by channel */
  size_t n_counts;
  uint64_t messages, t0, t1;
  chunk_ref run;            /* messages outside chunks, not yet added */
  bool in_run;
} scan_state;

/* Adds one to key's value in a small (channel, value) set. */
static void bump(rsim_mcap_idpair **set, size_t *n, uint16_t key, uint64_t by) {
  for (size_t i = 0; i < *n; i++)
    if ((*set)[i].key == key) {
      (*set)[i].value += by;
      return;
    }
  *set = rsim_xrealloc(*set, (*n + 1) * sizeof **set);
  (*set)[(*n)++] = (rsim_mcap_idpair){key, by};
}

/* A message seen at time t on channel ch, in chunk (or run) c. */
static void saw(chunk_ref *c, uint16_t ch, uint64_t t) {
  if (!c->n_mi || t < c->start) c->start = t;
  if (!c->n_mi || t > c->end) c->end = t;
  bump(&c->mi, &c->n_mi, ch, 1);
}

/* Adds a chunk (or run) with messages to the index, counting them. */
static void add_ref(rsim_mcap_reader *rd, scan_state *ss, chunk_ref *c) {
  if (!c->n_mi) {
    free(c->mi);
    return;
  }
  if (!ss->messages || c->start < ss->t0) ss->t0 = c->start;
  if (!ss->messages || c->end > ss->t1) ss->t1 = c->end;
  for (size_t k = 0; k < c->n_mi; k++) {
    bump(&ss->counts, &ss->n_counts, c->mi[k].key, c->mi[k].value);
    ss->messages += c->mi[k].value;
  }
  c->scanned = true;
  rd->chunks = rsim_xrealloc(rd->chunks, (rd->n_chunks + 1) * sizeof *rd->chunks);
  rd->chunks[rd->n_chunks++] = *c;
}

static void end_run(rsim_mcap_reader *rd, scan_state *ss) {
  if (ss->in_run) add_ref(rd, ss, &ss->run);
  ss->in_run = false;
}

/*
** Walks the decompressed records of a chunk (p, n): schemas and channels
** are kept, messages noted in c.  For a cut chunk (whole set) a record cut
** off ends the walk and *whole is the length of the whole ones; otherwise
** it is an error.
*/
static int walk_chunk(rsim_mcap_reader *rd, uint64_t off, const uint8_t *p, uint64_t n, chunk_ref *c,
                      uint64_t *whole) {
  char why[300];
  uint64_t at = 0;
  for (; at < n; at += 9 + le64(p + at + 1)) {
    if (n - at < 9 || le64(p + at + 1) > n - at - 9) {
      if (whole) break;
      return fail(rd, RSIM_ECORRUPT, off, "Chunk: a record at %llu in the chunk runs past its end", (unsigned long long)at);
    }
    uint8_t op = p[at];
    if (op != RSIM_MCAP_SCHEMA && op != RSIM_MCAP_CHANNEL && op != RSIM_MCAP_MESSAGE) continue;
    rsim_mcap_record r;
    if (rsim__mcap_parse(op, p + at + 9, le64(p + at + 1), &rd->scratch, &r, why, sizeof why)) {
      if (whole) break;
      return fail(rd, RSIM_ECORRUPT, off, "in chunk at %llu: %s", (unsigned long long)at, why);
    }
    if (op == RSIM_MCAP_SCHEMA && r.r.schema.id) keep_schema(rd, &r);
    else if (op == RSIM_MCAP_CHANNEL) keep_channel(rd, &r);
    else if (op == RSIM_MCAP_MESSAGE) saw(c, r.r.message.channel_id, r.r.message.log_time);
  }
  if (whole) *whole = at;
  return RSIM_OK;
}

/* The channels of the Message Index records from off on (those after a
** chunk name what it held), for a gap report. */
static size_t index_channels(rsim_mcap_reader *rd, uint64_t off, uint16_t **out) {
  size_t n = 0;
  *out = NULL;
  uint8_t h[11];
  while (off <= rd->size && rd->size - off >= 11 && !read_at(rd, off, h, 11) && h[0] == RSIM_MCAP_MESSAGE_INDEX &&
         le64(h + 1) >= 2 && le64(h + 1) <= rd->size - off - 9 && n < 65536) {
    *out = rsim_xrealloc(*out, (n + 1) * sizeof **out);
    (*out)[n++] = (uint16_t)(h[9] | h[10] << 8);
    off += 9 + le64(h + 1);
  }
  return n;
}

/* One whole Chunk record at off (parsed in r): decompressed and walked. */
static int scan_chunk(rsim_mcap_reader *rd, scan_state *ss, uint64_t off, uint64_t len, const rsim_mcap_record *r) {
  chunk_ref c = {.offset = off, .length = 9 + len};
  int rc = decompress(rd, off, r, &rd->chunk, &rd->chunk_cap, NULL);
  if (!rc) rc = walk_chunk(rd, off, rd->chunk, r->r.chunk.uncompressed_size, &c, NULL);
  if (rc == RSIM_ECORRUPT && rd->gap_fn) {
    free(c.mi);
    uint16_t *ch;
    size_t n = index_channels(rd, off + 9 + len, &ch);
    report_gap(rd, off, r->r.chunk.message_start_time, r->r.chunk.message_end_time, ch, n);
    free(ch);
    return RSIM_OK;
  }
  if (rc) {
    free(c.mi);
    return rc;
  }
  rd->scan.chunks++;
  add_ref(rd, ss, &c);
  return RSIM_OK;
}

/* A Chunk record at off cut off by the end of the file: the messages of
** its whole part, as far as what is left decodes.  Never an error: the
** cut is where the scan ends anyway. */
static void scan_cut_chunk(rsim_mcap_reader *rd, scan_state *ss, uint64_t off) {
  uint64_t avail = rd->size - off;
  if (avail > MAX_RECORD) avail = MAX_RECORD;
  reserve(&rd->buf, &rd->cap, avail);
  rsim_mcap_record r;
  uint64_t got = 0, whole = 0;
  if (read_at(rd, off, rd->buf, avail) || !chunk_head(rd->buf + 9, avail - 9, &r) ||
      decompress(rd, off, &r, &rd->chunk, &rd->chunk_cap, &got))
    return;
  chunk_ref c = {.offset = off, .length = avail};
  walk_chunk(rd, off, rd->chunk, got, &c, &whole);
  if (!c.n_mi) {
    free(c.mi);
    return;
  }
  c.part = whole;
  for (size_t k = 0; k < c.n_mi; k++) rd->scan.cut_messages += c.mi[k].value;
  add_ref(rd, ss, &c);
}

int rsim_mcap_reader_scan(rsim_mcap_reader *rd) {
  if (rd->have_summary) return RSIM_OK;
  free_iteration(rd);
  free_index(rd); /* whatever a failed summary read left */
  rsim_mcap_scan_info *si = &rd->scan;
  memset(si, 0, sizeof *si);
  si->size = rd->size;
  scan_state ss = {0};
  uint64_t pos = RSIM_MCAP_MAGIC_LEN;
  si->scanned = pos;
  int rc = RSIM_OK;
  char why[300];
  for (;;) {
    if (pos == rd->size) {
      snprintf(si->stop, sizeof si->stop, "the end of the file (no Data End, no footer)");
      break;
    }
    uint8_t head[9];
    if (rd->size - pos < 9 || (rc = read_at(rd, pos, head, 9))) {
      snprintf(si->stop, sizeof si->stop, "a record header cut off at offset %llu", (unsigned long long)pos);
      break;
    }
    uint8_t op = head[0];
    uint64_t len = le64(head + 1);
    if (pos == RSIM_MCAP_MAGIC_LEN && op != RSIM_MCAP_HEADER) {
      rc = fail(rd, RSIM_ECORRUPT, pos, "the first record is %s, not Header", rsim_mcap_op_name(op));
      break;
    }
    if (len > rd->size - pos - 9) {
      end_run(rd, &ss);
      if (op == RSIM_MCAP_CHUNK) scan_cut_chunk(rd, &ss, pos);
      snprintf(si->stop, sizeof si->stop, "a %s record cut off at offset %llu (%llu of its %llu bytes are in the file)",
               rsim_mcap_op_name(op), (unsigned long long)pos, (unsigned long long)(rd->size - pos),
               (unsigned long long)(9 + len));
      break;
    }
    if (op == RSIM_MCAP_DATA_END || op == RSIM_MCAP_FOOTER) {
      snprintf(si->stop, sizeof si->stop, "the end of the data section at offset %llu", (unsigned long long)pos);
      break;
    }
    if (len > MAX_RECORD) {
      snprintf(si->stop, sizeof si->stop, "a %s record of %llu bytes at offset %llu, over the limit",
               rsim_mcap_op_name(op), (unsigned long long)len, (unsigned long long)pos);
      break;
    }
    if (op != RSIM_MCAP_MESSAGE && op != RSIM_MCAP_SCHEMA && op != RSIM_MCAP_CHANNEL) end_run(rd, &ss);
    reserve(&rd->buf, &rd->cap, len);
    if ((rc = read_at(rd, pos + 9, rd->buf, len))) break;
    rsim_mcap_record r;
    if (op >= 1 && op <= RSIM_MCAP_DATA_END && rsim__mcap_parse(op, rd->buf, len, &rd->scratch, &r, why, sizeof why)) {
      snprintf(si->stop, sizeof si->stop, "a malformed record at offset %llu (%s)", (unsigned long long)pos, why);
      break;
    }
    if (op == RSIM_MCAP_SCHEMA && r.r.schema.id) keep_schema(rd, &r);
    else if (op == RSIM_MCAP_CHANNEL) keep_channel(rd, &r);
    else if (op == RSIM_MCAP_CHUNK) {
      if ((rc = scan_chunk(rd, &ss, pos, len, &r))) break;
    } else if (op == RSIM_MCAP_METADATA) {
      rd->meta_idx = rsim_xrealloc(rd->meta_idx, (rd->n_meta_idx + 1) * sizeof *rd->meta_idx);
      rd->meta_idx[rd->n_meta_idx].offset = pos;
      rd->meta_idx[rd->n_meta_idx].length = 9 + len;
      rd->meta_idx[rd->n_meta_idx++].name = dup_str(r.r.metadata.name);
    } else if (op == RSIM_MCAP_MESSAGE) {
      if (ss.in_run && pos + 9 + len - ss.run.offset > MAX_RUN) end_run(rd, &ss);
      if (!ss.in_run) ss.run = (chunk_ref){.offset = pos, .raw = true}, ss.in_run = true;
      ss.run.length = pos + 9 + len - ss.run.offset;
      saw(&ss.run, r.r.message.channel_id, r.r.message.log_time);
    }
    pos += 9 + len;
    si->scanned = pos;
  }
  end_run(rd, &ss);
  if (rc) {
    free(ss.counts);
    free_index(rd);
    return rc;
  }
  /* A Statistics record as the summary would hold it. */
  si->messages = ss.messages;
  si->t_first = ss.messages ? ss.t0 : 0;
  si->t_last = ss.messages ? ss.t1 : 0;
  rsim_mcap_record *st = &rd->stats;
  memset(st, 0, sizeof *st);
  st->op = RSIM_MCAP_STATISTICS;
  st->r.statistics.message_count = ss.messages;
  st->r.statistics.schema_count = (uint16_t)rd->n_schemas;
  st->r.statistics.channel_count = (uint32_t)rd->n_channels;
  st->r.statistics.metadata_count = (uint32_t)rd->n_meta_idx;
  st->r.statistics.chunk_count = (uint32_t)si->chunks;
  st->r.statistics.message_start_time = si->t_first;
  st->r.statistics.message_end_time = si->t_last;
  rd->stats_counts = ss.counts;
  st->r.statistics.channel_message_counts = ss.counts;
  st->r.statistics.n_counts = ss.n_counts;
  rd->has_stats = true;
  rd->have_summary = rd->scanned = true;
  return RSIM_OK;
}

const rsim_mcap_scan_info *rsim_mcap_reader_scan_info(const rsim_mcap_reader *rd) {
  return rd->scanned ? &rd->scan : NULL;
}

void rsim_mcap_reader_skip_corrupt(rsim_mcap_reader *rd, rsim_mcap_gap_fn fn, void *ud) {
  rd->gap_fn = fn;
  rd->gap_ud = ud;
}

static void *dup_mem(const void *p, size_t n) {
  void *q = rsim_xmalloc(n ? n : 1);
  if (n) memcpy(q, p, n);
  return q;
}

int rsim_mcap_reader_reopen(const rsim_mcap_reader *src, rsim_mcap_reader **out, rsim_errbuf *eb) {
  int rc = src->mem ? rsim_mcap_reader_open_memory(src->name, src->mem, (size_t)src->size, out, eb)
                    : rsim_mcap_reader_open(src->name, out, eb);
  if (rc) return rc;
  rsim_mcap_reader *rd = *out;
  if (rd->size < src->size) {
    rsim_mcap_reader_close(rd);
    *out = NULL;
    return rsim_errbuf_set(eb, RSIM_EIO, "%s: shrank since it was opened (%llu bytes, was %llu)", src->name,
                           (unsigned long long)rd->size, (unsigned long long)src->size);
  }
  rd->size = src->size; /* what was indexed: bytes appended later are not */
  rd->gap_fn = src->gap_fn;
  rd->gap_ud = src->gap_ud;
  if (!src->have_summary) return RSIM_OK;
  rd->schemas = rsim_xcalloc(src->n_schemas ? src->n_schemas : 1, sizeof *rd->schemas);
  for (; rd->n_schemas < src->n_schemas; rd->n_schemas++) {
    const rsim_mcap_schema *a = &src->schemas[rd->n_schemas];
    rd->schemas[rd->n_schemas] = (rsim_mcap_schema){a->id, rsim_xstrdup(a->name), rsim_xstrdup(a->encoding),
                                                    dup_mem(a->data, a->data_len), a->data_len};
  }
  rd->channels = rsim_xcalloc(src->n_channels ? src->n_channels : 1, sizeof *rd->channels);
  for (; rd->n_channels < src->n_channels; rd->n_channels++) {
    const rsim_mcap_channel *a = &src->channels[rd->n_channels];
    rsim_mcap_channel *c = &rd->channels[rd->n_channels];
    *c = (rsim_mcap_channel){a->id, a->schema_id, rsim_xstrdup(a->topic), rsim_xstrdup(a->message_encoding), NULL,
                             a->n_metadata};
    c->metadata = rsim_xcalloc(a->n_metadata ? a->n_metadata : 1, sizeof *c->metadata);
    for (size_t k = 0; k < a->n_metadata; k++)
      c->metadata[k] = (rsim_mcap_kv){rsim_xstrdup(a->metadata[k].key), rsim_xstrdup(a->metadata[k].value)};
  }
  rd->chunks = dup_mem(src->chunks, src->n_chunks * sizeof *src->chunks);
  for (; rd->n_chunks < src->n_chunks; rd->n_chunks++)
    rd->chunks[rd->n_chunks].mi = dup_mem(src->chunks[rd->n_chunks].mi, src->chunks[rd->n_chunks].n_mi * sizeof(rsim_mcap_idpair));
  rd->meta_idx = dup_mem(src->meta_idx, src->n_meta_idx * sizeof *src->meta_idx);
  for (; rd->n_meta_idx < src->n_meta_idx; rd->n_meta_idx++)
    rd->meta_idx[rd->n_meta_idx].name = rsim_xstrdup(src->meta_idx[rd->n_meta_idx].name);
  if (src->has_stats) {
    rd->stats = src->stats;
    rd->stats_counts = dup_mem(src->stats_counts, src->stats.r.statistics.n_counts * sizeof *src->stats_counts);
    rd->stats.r.statistics.channel_message_counts = rd->stats_counts;
    rd->has_stats = true;
  }
  rd->scanned = src->scanned;
  rd->scan = src->scan;
  rd->have_summary = true;
  return RSIM_OK;
}

/* ---- indexed messages ----------------------------------------------------------------- */

static bool heap_less(const msg_pos *a, const msg_pos *b) {
  if (a->log_time != b->log_time) return a->log_time < b->log_time;
  if (a->file_offset != b->file_offset) return a->file_offset < b->file_offset;
  return a->offset < b->offset;
}

static void heap_push(rsim_mcap_reader *rd, msg_pos m) {
  if (rd->heap_n == rd->heap_cap) {
    rd->heap_cap = rd->heap_cap ? 2 * rd->heap_cap : 64;
    rd->heap = rsim_xrealloc(rd->heap, rd->heap_cap * sizeof *rd->heap);
  }
  size_t i = rd->heap_n++;
  rd->heap[i] = m;
  while (i && heap_less(&rd->heap[i], &rd->heap[(i - 1) / 2])) {
    msg_pos t = rd->heap[i];
    rd->heap[i] = rd->heap[(i - 1) / 2];
    rd->heap[(i - 1) / 2] = t;
    i = (i - 1) / 2;
  }
}

static msg_pos heap_pop(rsim_mcap_reader *rd) {
  msg_pos top = rd->heap[0];
  rd->heap[0] = rd->heap[--rd->heap_n];
  for (size_t i = 0;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < rd->heap_n && heap_less(&rd->heap[l], &rd->heap[m])) m = l;
    if (r < rd->heap_n && heap_less(&rd->heap[r], &rd->heap[m])) m = r;
    if (m == i) break;
    msg_pos t = rd->heap[i];
    rd->heap[i] = rd->heap[m];
    rd->heap[m] = t;
    i = m;
  }
  return top;
}

static bool wanted(const rsim_mcap_reader *rd, uint16_t ch) {
  if (!rd->n_want) return true;
  for (size_t i = 0; i < rd->n_want; i++)
    if (rd->want[i] == ch) return true;
  return false;
}

static int cmp_sel(const void *a, const void *b) {
  const chunk_ref *x = *(chunk_ref *const *)a, *y = *(chunk_ref *const *)b;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int rsim_mcap_reader_messages(rsim_mcap_reader *rd, uint64_t t0, uint64_t t1, const uint16_t *channels,
                              size_t n_channels) {
  int rc = rsim_mcap_reader_summary(rd);
  if (rc) return rc;
  free_iteration(rd);
  rd->t0 = t0;
  rd->t1 = t1;
  rd->n_want = n_channels;
  rd->want = rsim_xmalloc((n_channels ? n_channels : 1) * sizeof *rd->want);
  if (n_channels) memcpy(rd->want, channels, n_channels * sizeof *channels);
  rd->sel = rsim_xmalloc((rd->n_chunks ? rd->n_chunks : 1) * sizeof *rd->sel);
  for (size_t i = 0; i < rd->n_chunks; i++)
    if (!rd->chunks[i].bad && rd->chunks[i].end >= t0 && rd->chunks[i].start <= t1) rd->sel[rd->n_sel++] = &rd->chunks[i];
  qsort(rd->sel, rd->n_sel, sizeof *rd->sel, cmp_sel);
  return RSIM_OK;
}

/* Queues the wanted messages of a loaded chunk from the Message Index
** records after it: only the wanted channels' indexes are read. */
static int queue_from_indexes(rsim_mcap_reader *rd, const chunk_ref *c, size_t si) {
  loaded *slot = &rd->slots[si];
  for (size_t k = 0; k < c->n_mi; k++) {
    if (!wanted(rd, c->mi[k].key)) continue;
    uint64_t off = c->mi[k].value;
    uint8_t head[9];
    int rc = read_at(rd, off, head, 9);
    if (rc) return rc;
    uint64_t len = le64(head + 1);
    if (head[0] != RSIM_MCAP_MESSAGE_INDEX || len > rd->size - off - 9 || len > MAX_RECORD)
      return fail(rd, RSIM_ECORRUPT, off, "ChunkIndex points at a %s record, not a MessageIndex", rsim_mcap_op_name(head[0]));
    reserve(&rd->buf, &rd->cap, len);
    if ((rc = read_at(rd, off + 9, rd->buf, len))) return rc;
    rsim_mcap_record r;
    char why[300];
    if (rsim__mcap_parse(RSIM_MCAP_MESSAGE_INDEX, rd->buf, len, &rd->scratch, &r, why, sizeof why))
      return fail(rd, RSIM_ECORRUPT, off, "%s", why);
    for (size_t e = 0; e < r.r.message_index.n_records; e++) {
      const rsim_mcap_index_entry *x = &r.r.message_index.records[e];
      if (x->offset > slot->len || slot->len - x->offset < 9 + 22)
        return fail(rd, RSIM_ECORRUPT, off, "MessageIndex: offset %llu is outside its chunk", (unsigned long long)x->offset);
      if (x->log_time < rd->t0 || x->log_time > rd->t1) continue;
      heap_push(rd, (msg_pos){x->log_time, c->offset, x->offset, si});
      slot->pending++;
    }
  }
  return RSIM_OK;
}

static int queue_chunk(rsim_mcap_reader *rd, const chunk_ref *c, size_t si);

/* A chunk kept by latest(), moved into a new slot; false if not kept. */
static bool load_kept(rsim_mcap_reader *rd, const chunk_ref *c, size_t *si) {
  for (size_t i = 0; i < 2; i++) {
    if (!rd->kept[i].data || rd->kept[i].file_offset != c->offset) continue;
    rd->slots = rsim_xrealloc(rd->slots, (rd->n_slots + 1) * sizeof *rd->slots);
    rd->slots[rd->n_slots] = rd->kept[i];
    rd->slots[rd->n_slots].pending = 0;
    memset(&rd->kept[i], 0, sizeof rd->kept[i]);
    *si = rd->n_slots++;
    return true;
  }
  return false;
}

/* Tells the gap callback about a damaged chunk (rd->errmsg says why). */
static void report_gap(rsim_mcap_reader *rd, uint64_t offset, uint64_t start, uint64_t end, const uint16_t *ch,
                       size_t n) {
  rsim_mcap_gap g = {offset, start, end, ch, n, rd->errmsg};
  rd->gap_fn(rd->gap_ud, &g);
}

/* A damaged chunk of the index: skipped from now on, and said so once. */
static void skip_chunk(rsim_mcap_reader *rd, chunk_ref *c) {
  c->bad = true;
  uint16_t *ch = rsim_xmalloc((c->n_mi ? c->n_mi : 1) * sizeof *ch);
  for (size_t k = 0; k < c->n_mi; k++) ch[k] = c->mi[k].key;
  report_gap(rd, c->offset, c->start, c->end, ch, c->n_mi);
  free(ch);
}

/*
** The fields of a Chunk record whose content (p, n) may be cut off: the
** records are what is there of them.  False when even the fields before
** the records are not all there.
*/
static bool chunk_head(const uint8_t *p, uint64_t n, rsim_mcap_record *r) {
  if (n < 28 + 4) return false;
  r->op = RSIM_MCAP_CHUNK;
  r->r.chunk.message_start_time = le64(p);
  r->r.chunk.message_end_time = le64(p + 8);
  r->r.chunk.uncompressed_size = le64(p + 16);
  r->r.chunk.uncompressed_crc = (uint32_t)p[24] | (uint32_t)p[25] << 8 | (uint32_t)p[26] << 16 | (uint32_t)p[27] << 24;
  uint64_t zn = (uint32_t)p[28] | (uint32_t)p[29] << 8 | (uint32_t)p[30] << 16 | (uint32_t)p[31] << 24;
  if (n - 32 < zn + 8) return false;
  r->r.chunk.compression = (rsim_mcap_str){(const char *)p + 32, (uint32_t)zn};
  uint64_t claimed = le64(p + 32 + zn), left = n - 32 - zn - 8;
  r->r.chunk.records = (rsim_mcap_bytes){p + 40 + zn, claimed < left ? claimed : left};
  return true;
}

/* Reads and decompresses one chunk (or a run of records, or the whole part
** of a cut chunk) and queues its wanted messages.  A damaged chunk is
** skipped when the reader skips them. */
static int load_chunk(rsim_mcap_reader *rd, chunk_ref *c) {
  size_t si;
  if (c->bad) return RSIM_OK;
  if (load_kept(rd, c, &si)) return queue_chunk(rd, c, si);
  if (c->length < 9 || c->length > MAX_RECORD + 9 || c->offset > rd->size || c->length > rd->size - c->offset)
    return fail(rd, RSIM_ECORRUPT, c->offset, "ChunkIndex: a chunk of %llu bytes at %llu does not fit in the file",
                (unsigned long long)c->length, (unsigned long long)c->offset);
  rd->slots = rsim_xrealloc(rd->slots, (rd->n_slots + 1) * sizeof *rd->slots);
  loaded *slot = &rd->slots[rd->n_slots];
  memset(slot, 0, sizeof *slot);
  slot->file_offset = c->offset;
  int rc;
  if (c->raw) {
    slot->data = rsim_xmalloc((size_t)c->length);
    slot->cap = (size_t)c->length;
    if ((rc = read_at(rd, c->offset, slot->data, c->length))) {
      free(slot->data);
      return rc;
    }
    slot->len = c->length;
    return queue_chunk(rd, c, rd->n_slots++);
  }
  reserve(&rd->buf, &rd->cap, c->length);
  if ((rc = read_at(rd, c->offset, rd->buf, c->length))) return rc;
  if (rd->buf[0] != RSIM_MCAP_CHUNK || (!c->part && le64(rd->buf + 1) != c->length - 9))
    return fail(rd, RSIM_ECORRUPT, c->offset, "ChunkIndex points at a %s record, not the chunk it describes",
                rsim_mcap_op_name(rd->buf[0]));
  rsim_mcap_record r;
  char why[300];
  if (c->part ? !chunk_head(rd->buf + 9, c->length - 9, &r)
              : rsim__mcap_parse(RSIM_MCAP_CHUNK, rd->buf + 9, c->length - 9, &rd->scratch, &r, why, sizeof why))
    return fail(rd, RSIM_ECORRUPT, c->offset, "%s", c->part ? "Chunk: cut off before its records" : why);
  slot->data = rd->spare;
  size_t cap = rd->spare_cap;
  rd->spare = NULL;
  rd->spare_cap = 0;
  uint64_t got = 0;
  if ((rc = decompress(rd, c->offset, &r, &slot->data, &cap, c->part ? &got : NULL)) ||
      (c->part && got < c->part && (rc = fail(rd, RSIM_ECORRUPT, c->offset, "Chunk (cut off): decodes to less than before")))) {
    free(slot->data);
    if (rc == RSIM_ECORRUPT && rd->gap_fn) {
      skip_chunk(rd, c);
      return RSIM_OK;
    }
    return rc;
  }
  slot->cap = cap;
  slot->len = c->part ? c->part : r.r.chunk.uncompressed_size;
  return queue_chunk(rd, c, rd->n_slots++);
}

/* Queues the wanted messages of the chunk in slot si. */
static int queue_chunk(rsim_mcap_reader *rd, const chunk_ref *c, size_t si) {
  if (c->n_mi && !c->scanned) return queue_from_indexes(rd, c, si);
  /* No message index: scan the records of the chunk. */
  loaded *slot = &rd->slots[si];
  char why[300];
  for (uint64_t at = 0; at < slot->len;) {
    if (slot->len - at < 9) return fail(rd, RSIM_ECORRUPT, c->offset, "Chunk: a record header is cut off");
    uint8_t op = slot->data[at];
    uint64_t len = le64(slot->data + at + 1);
    if (len > slot->len - at - 9) return fail(rd, RSIM_ECORRUPT, c->offset, "Chunk: a record runs past its end");
    if (op == RSIM_MCAP_MESSAGE) {
      rsim_mcap_record m;
      if (rsim__mcap_parse(op, slot->data + at + 9, len, &rd->scratch, &m, why, sizeof why))
        return fail(rd, RSIM_ECORRUPT, c->offset, "in chunk at %llu: %s", (unsigned long long)at, why);
      if (wanted(rd, m.r.message.channel_id) && m.r.message.log_time >= rd->t0 && m.r.message.log_time <= rd->t1) {
        heap_push(rd, (msg_pos){m.r.message.log_time, c->offset, at, si});
        slot->pending++;
      }
    }
    at += 9 + len;
  }
  return RSIM_OK;
}

int rsim_mcap_reader_next_message(rsim_mcap_reader *rd, const rsim_mcap_message **out) {
  if (rd->release_slot != SIZE_MAX) {
    loaded *s = &rd->slots[rd->release_slot];
    if (s->pending == 0) {
      if (s->cap > rd->spare_cap) {
        free(rd->spare);
        rd->spare = s->data;
        rd->spare_cap = s->cap;
      } else {
        free(s->data);
      }
      s->data = NULL;
    }
    rd->release_slot = SIZE_MAX;
  }
  while (rd->next_sel < rd->n_sel && (!rd->heap_n || rd->sel[rd->next_sel]->start <= rd->heap[0].log_time)) {
    int rc = load_chunk(rd, rd->sel[rd->next_sel++]);
    if (rc) return rc;
  }
  if (!rd->heap_n) return RSIM_EEOF;
  msg_pos m = heap_pop(rd);
  loaded *s = &rd->slots[m.slot];
  rsim_mcap_record r;
  char why[300];
  uint64_t len = le64(s->data + m.offset + 1);
  if (s->data[m.offset] != RSIM_MCAP_MESSAGE || len > s->len - m.offset - 9)
    return fail(rd, RSIM_ECORRUPT, s->file_offset, "MessageIndex points at %llu in the chunk, which is not a Message",
                (unsigned long long)m.offset);
  if (rsim__mcap_parse(RSIM_MCAP_MESSAGE, s->data + m.offset + 9, len, &rd->scratch, &r, why, sizeof why))
    return fail(rd, RSIM_ECORRUPT, s->file_offset, "%s", why);
  if (r.r.message.log_time != m.log_time || !wanted(rd, r.r.message.channel_id))
    return fail(rd, RSIM_ECORRUPT, s->file_offset, "MessageIndex disagrees with the Message at %llu in the chunk",
                (unsigned long long)m.offset);
  rd->msg = (rsim_mcap_message){r.r.message.channel_id, r.r.message.sequence, r.r.message.log_time,
                                r.r.message.publish_time, r.r.message.data.p, (size_t)r.r.message.data.n};
  s->pending--;
  rd->release_slot = m.slot;
  *out = &rd->msg;
  return RSIM_OK;
}

/* Whether a chunk holds messages of the channel, by its message indexes. */
static bool has_channel(const chunk_ref *c, uint16_t channel) {
  if (!c->n_mi) return true; /* no message index: it may */
  for (size_t k = 0; k < c->n_mi; k++)
    if (c->mi[k].key == channel) return true;
  return false;
}

/* Keeps the decompressed chunks of slot first and of one other slot for
** the next latest() call; frees what was kept before. */
static void keep_chunks(rsim_mcap_reader *rd, size_t first) {
  for (size_t i = 0; i < 2; i++) {
    free(rd->kept[i].data);
    memset(&rd->kept[i], 0, sizeof rd->kept[i]);
  }
  size_t n = 0;
  if (first < rd->n_slots && rd->slots[first].data) rd->kept[n++] = rd->slots[first], rd->slots[first].data = NULL;
  for (size_t i = rd->n_slots; i-- > 0 && n < 2;)
    if (rd->slots[i].data) rd->kept[n++] = rd->slots[i], rd->slots[i].data = NULL;
}

/* Chunks are visited latest-ending first; once the best time found is
** later than everything a remaining chunk can hold, the search stops. */
int rsim_mcap_reader_latest(rsim_mcap_reader *rd, uint16_t channel, uint64_t t,
                            const rsim_mcap_message **out) {
  int rc = rsim_mcap_reader_summary(rd);
  if (rc) return rc;
  free_iteration(rd);
  rd->t0 = 0;
  rd->t1 = t;
  rd->n_want = 1;
  rd->want = rsim_xmalloc(sizeof *rd->want);
  rd->want[0] = channel;
  bool found = false;
  msg_pos best = {0};
  for (;;) {
    /* The unvisited chunk that could hold the latest message. */
    chunk_ref *next = NULL;
    uint64_t next_key = 0;
    for (size_t i = 0; i < rd->n_chunks; i++) {
      chunk_ref *c = &rd->chunks[i];
      if (c->bad || c->start > t || c->length == 0 || !has_channel(c, channel)) continue;
      bool visited = false;
      for (size_t k = 0; k < rd->n_slots; k++) visited |= rd->slots[k].file_offset == c->offset;
      if (visited) continue;
      uint64_t key = c->end < t ? c->end : t;
      if (!next || key > next_key) next = c, next_key = key;
    }
    if (!next || (found && next_key < best.log_time)) break;
    size_t before = rd->heap_n;
    if ((rc = load_chunk(rd, next))) return rc;
    while (rd->heap_n > before) {
      msg_pos m = heap_pop(rd);
      if (!found || m.log_time > best.log_time ||
          (m.log_time == best.log_time && (m.file_offset > best.file_offset ||
                                           (m.file_offset == best.file_offset && m.offset > best.offset)))) {
        best = m;
        found = true;
      }
    }
  }
  if (!found) return RSIM_ENOTFOUND;
  keep_chunks(rd, best.slot);
  loaded *s = &rd->kept[0];
  rsim_mcap_record r;
  char why[300];
  uint64_t len = le64(s->data + best.offset + 1);
  if (s->data[best.offset] != RSIM_MCAP_MESSAGE || len > s->len - best.offset - 9 ||
      rsim__mcap_parse(RSIM_MCAP_MESSAGE, s->data + best.offset + 9, len, &rd->scratch, &r, why, sizeof why))
    return fail(rd, RSIM_ECORRUPT, s->file_offset, "no Message at %llu in the chunk", (unsigned long long)best.offset);
  rd->msg = (rsim_mcap_message){r.r.message.channel_id, r.r.message.sequence, r.r.message.log_time,
                                r.r.message.publish_time, r.r.message.data.p, (size_t)r.r.message.data.n};
  *out = &rd->msg;
  return RSIM_OK;
}

int rsim_mcap_reader_metadata(rsim_mcap_reader *rd, const char *name, const rsim_mcap_strpair **out,
                              size_t *n) {
  int rc = rsim_mcap_reader_summary(rd);
  if (rc) return rc;
  for (size_t i = 0; i < rd->n_meta_idx; i++) {
    if (strcmp(rd->meta_idx[i].name, name)) continue;
    uint64_t off = rd->meta_idx[i].offset, len = rd->meta_idx[i].length;
    if (len < 9 || len > MAX_RECORD || off > rd->size || len > rd->size - off)
      return fail(rd, RSIM_ECORRUPT, off, "MetadataIndex: a record of %llu bytes does not fit in the file",
                  (unsigned long long)len);
    reserve(&rd->buf, &rd->cap, len);
    if ((rc = read_at(rd, off, rd->buf, len))) return rc;
    if (rd->buf[0] != RSIM_MCAP_METADATA || le64(rd->buf + 1) != len - 9)
      return fail(rd, RSIM_ECORRUPT, off, "MetadataIndex points at a %s record", rsim_mcap_op_name(rd->buf[0]));
    char why[300];
    if (rsim__mcap_parse(RSIM_MCAP_METADATA, rd->buf + 9, len - 9, &rd->scratch, &rd->rec, why, sizeof why))
      return fail(rd, RSIM_ECORRUPT, off, "%s", why);
    *out = rd->rec.r.metadata.metadata;
    *n = rd->rec.r.metadata.n_metadata;
    return RSIM_OK;
  }
  return RSIM_ENOTFOUND;
}
