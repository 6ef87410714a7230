/*
** mcap.h -- reading MCAP files in place (https://mcap.dev/spec).
**
** Two ways to read:
**  - streamed: every record in file order (rsim_mcap_reader_next); a Chunk
**    is yielded, then the records inside it, decompressed (zstd, lz4 or
**    none); CRCs that are present (non-zero) are checked; unknown opcodes
**    and bytes past a record's known fields (padding) are skipped;
**  - indexed: the footer and summary section only (rsim_mcap_reader_summary),
**    then messages of some channels in a time range, read chunk by chunk
**    through the chunk and message indexes (rsim_mcap_reader_messages),
**    ordered by log time, ties in file order;
**  - recovered: a file without footer or summary (a recorder killed
**    mid-write leaves one) is indexed in memory by scanning its records
**    from the start (rsim_mcap_reader_scan), as `mcap recover` does; then
**    indexed reading works as above over what is whole.
**
** The file is read with pread: never loaded whole, never written.  Every
** length is checked against what remains before it is used; a bad file
** gives RSIM_ECORRUPT with a message naming the file, the byte offset and
** the record, never a crash.
**
** Ownership: records and messages returned by the reader are lent until the
** next call on the reader; their strings are not NUL-terminated (p, n).
*/
#ifndef RSIM_MCAP_H
#define RSIM_MCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsim/util.h"

enum {
  RSIM_MCAP_HEADER = 0x01,
  RSIM_MCAP_FOOTER = 0x02,
  RSIM_MCAP_SCHEMA = 0x03,
  RSIM_MCAP_CHANNEL = 0x04,
  RSIM_MCAP_MESSAGE = 0x05,
  RSIM_MCAP_CHUNK = 0x06,
  RSIM_MCAP_MESSAGE_INDEX = 0x07,
  RSIM_MCAP_CHUNK_INDEX = 0x08,
  RSIM_MCAP_ATTACHMENT = 0x09,
  RSIM_MCAP_ATTACHMENT_INDEX = 0x0A,
  RSIM_MCAP_STATISTICS = 0x0B,
  RSIM_MCAP_METADATA = 0x0C,
  RSIM_MCAP_METADATA_INDEX = 0x0D,
  RSIM_MCAP_SUMMARY_OFFSET = 0x0E,
  RSIM_MCAP_DATA_END = 0x0F
};

/* The record's name as the spec spells it ("ChunkIndex"); "Unknown" else. */
const char *rsim_mcap_op_name(int op);

typedef struct rsim_mcap_str {
  const char *p;
  uint32_t n;
} rsim_mcap_str;

typedef struct rsim_mcap_bytes {
  const uint8_t *p;
  uint64_t n;
} rsim_mcap_bytes;

typedef struct rsim_mcap_strpair {
  rsim_mcap_str key, value;
} rsim_mcap_strpair;

typedef struct rsim_mcap_idpair {
  uint16_t key;
  uint64_t value;
} rsim_mcap_idpair;

typedef struct rsim_mcap_index_entry {
  uint64_t log_time, offset;
} rsim_mcap_index_entry;

/* One record, its fields as the spec lists them. */
typedef struct rsim_mcap_record {
  uint8_t op;
  uint64_t offset;   /* of the opcode: in the file, or in the chunk's records */
  bool in_chunk;
  union {
    struct { rsim_mcap_str profile, library; } header;
    struct { uint64_t summary_start, summary_offset_start; uint32_t summary_crc; } footer;
    struct { uint16_t id; rsim_mcap_str name, encoding; rsim_mcap_bytes data; } schema;
    struct {
      uint16_t id, schema_id;
      rsim_mcap_str topic, message_encoding;
      rsim_mcap_strpair *metadata;
      size_t n_metadata;
    } channel;
    struct {
      uint16_t channel_id;
      uint32_t sequence;
      uint64_t log_time, publish_time;
      rsim_mcap_bytes data;
    } message;
    struct {
      uint64_t message_start_time, message_end_time, uncompressed_size;
      uint32_t uncompressed_crc;
      rsim_mcap_str compression;
      rsim_mcap_bytes records;
    } chunk;
    struct { uint16_t channel_id; rsim_mcap_index_entry *records; size_t n_records; } message_index;
    struct {
      uint64_t message_start_time, message_end_time, chunk_start_offset, chunk_length;
      rsim_mcap_idpair *message_index_offsets;
      size_t n_offsets;
      uint64_t message_index_length;
      rsim_mcap_str compression;
      uint64_t compressed_size, uncompressed_size;
    } chunk_index;
    struct {
      uint64_t log_time, create_time;
      rsim_mcap_str name, media_type;
      rsim_mcap_bytes data;
      uint32_t crc;
    } attachment;
    struct {
      uint64_t offset, length, log_time, create_time, data_size;
      rsim_mcap_str name, media_type;
    } attachment_index;
    struct {
      uint64_t message_count;
      uint16_t schema_count;
      uint32_t channel_count, attachment_count, metadata_count, chunk_count;
      uint64_t message_start_time, message_end_time;
      rsim_mcap_idpair *channel_message_counts;
      size_t n_counts;
    } statistics;
    struct { rsim_mcap_str name; rsim_mcap_strpair *metadata; size_t n_metadata; } metadata;
    struct { uint64_t offset, length; rsim_mcap_str name; } metadata_index;
    struct { uint8_t group_opcode; uint64_t group_start, group_length; } summary_offset;
    struct { uint32_t data_section_crc; } data_end;
  } r;
} rsim_mcap_record;

typedef struct rsim_mcap_reader rsim_mcap_reader;

/* Opens a file for reading (checks the leading magic).  Caller closes. */
int rsim_mcap_reader_open(const char *path, rsim_mcap_reader **out, rsim_errbuf *eb);
/* The same over bytes in memory (borrowed until close); name is for messages. */
int rsim_mcap_reader_open_memory(const char *name, const uint8_t *p, size_t n,
                                 rsim_mcap_reader **out, rsim_errbuf *eb);
void rsim_mcap_reader_close(rsim_mcap_reader *rd);
const char *rsim_mcap_reader_errmsg(const rsim_mcap_reader *rd);

/*
** Streamed reading from the start: RSIM_OK with *out lent, RSIM_EEOF after
** the footer and trailing magic, or RSIM_ECORRUPT / RSIM_EIO.
*/
int rsim_mcap_reader_next(rsim_mcap_reader *rd, const rsim_mcap_record **out);

/* ---- indexed reading ------------------------------------------------------------ */

typedef struct rsim_mcap_schema {
  uint16_t id;
  char *name, *encoding;
  uint8_t *data;
  size_t data_len;
} rsim_mcap_schema;

typedef struct rsim_mcap_kv {
  char *key, *value;
} rsim_mcap_kv;

typedef struct rsim_mcap_channel {
  uint16_t id, schema_id;
  char *topic, *message_encoding;
  rsim_mcap_kv *metadata;
  size_t n_metadata;
} rsim_mcap_channel;

/* Reads the footer and the summary section.  RSIM_ENOTFOUND when the file
** has no summary, or no footer (truncated): then read it streamed, or
** index it with rsim_mcap_reader_scan. */
int rsim_mcap_reader_summary(rsim_mcap_reader *rd);
/* After a successful rsim_mcap_reader_summary: borrowed until close. */
const rsim_mcap_schema *rsim_mcap_schemas(const rsim_mcap_reader *rd, size_t *n);
const rsim_mcap_channel *rsim_mcap_channels(const rsim_mcap_reader *rd, size_t *n);
/* The key/value pairs of the Metadata record named name, found through the
** summary's metadata index; lent until the next call.  RSIM_ENOTFOUND if
** there is none. */
int rsim_mcap_reader_metadata(rsim_mcap_reader *rd, const char *name, const rsim_mcap_strpair **out,
                              size_t *n);
/* Statistics record of the summary, or NULL. */
const rsim_mcap_record *rsim_mcap_statistics(const rsim_mcap_reader *rd);
size_t rsim_mcap_chunk_count(const rsim_mcap_reader *rd);

typedef struct rsim_mcap_message {
  uint16_t channel_id;
  uint32_t sequence;
  uint64_t log_time, publish_time;
  const uint8_t *data;
  size_t len;
} rsim_mcap_message;

/*
** Starts an indexed iteration over messages with t0 <= log_time <= t1 on
** the given channels (all when n_channels is 0).  Reads only the chunks
** whose time range overlaps.  Replaces any iteration under way.
*/
int rsim_mcap_reader_messages(rsim_mcap_reader *rd, uint64_t t0, uint64_t t1,
                              const uint16_t *channels, size_t n_channels);
/*
** The latest message of a channel with log_time <= t (the last in file
** order among equal times), found through the chunk indexes; lent until
** the next call.  RSIM_ENOTFOUND when there is none.  Ends any iteration.
*/
int rsim_mcap_reader_latest(rsim_mcap_reader *rd, uint16_t channel, uint64_t t,
                            const rsim_mcap_message **out);
/* Next message of that iteration (lent), RSIM_EEOF at the end. */
int rsim_mcap_reader_next_message(rsim_mcap_reader *rd, const rsim_mcap_message **out);

/* ---- recovery ------------------------------------------------------------------- */

/* What a scan found. */
typedef struct rsim_mcap_scan_info {
  uint64_t size;          /* the file's size */
  uint64_t scanned;       /* bytes of whole records from the start */
  uint64_t messages;      /* messages indexed (whole ones) */
  uint64_t chunks;        /* whole chunks indexed */
  uint64_t cut_messages;  /* of messages: read from the whole part of a chunk cut off by the end */
  uint64_t t_first, t_last; /* log times of the messages (0, 0 without any) */
  char stop[400];         /* where and why the scan stopped ("the end of the data section") */
} rsim_mcap_scan_info;

/*
** Indexes the file by reading its records from the start instead of the
** summary (for a file without one): schemas and channels wherever they
** are, chunks (each decompressed and walked once: their time ranges and
** channels), messages outside chunks (as runs of records), metadata; a
** Statistics record is made up from what was found.  The scan stops
** cleanly at the first record that is cut off (the messages of a chunk cut
** off by the end are read from its whole part, as far as its compressed
** stream decodes) or malformed, or at Data End.  A chunk that fails its CRC
** or does not decompress is an error naming its offset, or a gap when
** rsim_mcap_reader_skip_corrupt is on.  Afterwards the indexed functions
** above work as on a summarised file.  RSIM_ECORRUPT when the file does not
** start with a Header record.
*/
int rsim_mcap_reader_scan(rsim_mcap_reader *rd);
/* What the scan found; NULL when the reader uses a summary. */
const rsim_mcap_scan_info *rsim_mcap_reader_scan_info(const rsim_mcap_reader *rd);

/* A chunk skipped because its data is damaged. */
typedef struct rsim_mcap_gap {
  uint64_t offset;            /* of the Chunk record */
  uint64_t start, end;        /* the message log times it says it holds */
  const uint16_t *channels;   /* channels it held, by its indexes (n 0: unknown) */
  size_t n_channels;
  const char *why;            /* the error, naming file and offset */
} rsim_mcap_gap;
typedef void (*rsim_mcap_gap_fn)(void *ud, const rsim_mcap_gap *g);

/*
** From now on a chunk whose CRC fails or whose data does not decompress is
** skipped by indexed reading and scanning instead of failing the call: fn
** is told once per chunk, and the chunk is left out of every later
** iteration of this reader (its messages are missing, the same ones each
** time: a replay around it stays deterministic).
*/
void rsim_mcap_reader_skip_corrupt(rsim_mcap_reader *rd, rsim_mcap_gap_fn fn, void *ud);

/*
** A second reader of the same file sharing nothing but copies of rd's
** index (summary or scan), its skipped chunks and its skip setting: an
** iteration of its own without reading the summary, or scanning, again.
*/
int rsim_mcap_reader_reopen(const rsim_mcap_reader *rd, rsim_mcap_reader **out, rsim_errbuf *eb);

/* ---- writing ----------------------------------------------------------------------- */

/*
** A writer makes chunked, indexed files: messages go into chunks (zstd by
** default), each chunk followed by one Message Index per channel; closing
** writes Data End (with the data CRC), the summary (schemas, channels,
** chunk indexes, statistics, metadata indexes), the summary offsets and the
** footer (with the summary CRC).  The file is written under a temporary
** name and renamed on a successful close, so a crash never leaves a
** half-written file under the final name.
*/
typedef struct rsim_mcap_writer rsim_mcap_writer;

typedef struct rsim_mcap_writer_opts {
  const char *profile;      /* "" if NULL */
  const char *library;      /* "replaysim" if NULL */
  const char *compression;  /* "zstd" (default when NULL), "lz4" or "" */
  uint64_t chunk_size;      /* uncompressed bytes per chunk; 0 = 4 MiB */
} rsim_mcap_writer_opts;

int rsim_mcap_writer_open(const char *path, const rsim_mcap_writer_opts *opts,
                          rsim_mcap_writer **out, rsim_errbuf *eb);
/* Schema ids and channel ids are assigned from 1 in order of adding. */
int rsim_mcap_writer_add_schema(rsim_mcap_writer *w, const char *name, const char *encoding,
                                const uint8_t *data, size_t len, uint16_t *out_id);
int rsim_mcap_writer_add_channel(rsim_mcap_writer *w, uint16_t schema_id, const char *topic,
                                 const char *message_encoding, const rsim_mcap_kv *meta,
                                 size_t n_meta, uint16_t *out_id);
int rsim_mcap_writer_write(rsim_mcap_writer *w, uint16_t channel_id, uint32_t sequence,
                           uint64_t log_time, uint64_t publish_time, const uint8_t *data,
                           size_t len);
int rsim_mcap_writer_add_metadata(rsim_mcap_writer *w, const char *name, const rsim_mcap_kv *kv,
                                  size_t n);
/* Finishes the file and renames it into place; frees the writer either way. */
int rsim_mcap_writer_close(rsim_mcap_writer *w, rsim_errbuf *eb);
/* Throws the unfinished file away; frees the writer. */
void rsim_mcap_writer_abort(rsim_mcap_writer *w);
const char *rsim_mcap_writer_errmsg(const rsim_mcap_writer *w);

/* ---- tools ---------------------------------------------------------------------- */

/* The conformance suite's JSON document for a file (streamed reading). */
int rsim_mcap_cat_json(const char *path, rsim_buf *out, rsim_errbuf *eb);
/* A human summary of a file, like `mcap info`. */
int rsim_mcap_info(const char *path, rsim_buf *out, rsim_errbuf *eb);

#endif /* RSIM_MCAP_H */
