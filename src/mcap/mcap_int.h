/*
** mcap_int.h -- internals of the MCAP module: CRC-32, the bounds-checked
** record parser (parse.c) and the reader's state (reader.c).
*/
#ifndef RSIM_MCAP_INT_H
#define RSIM_MCAP_INT_H

#include "rsim/mcap.h"

#define RSIM_MCAP_MAGIC "\x89MCAP0\r\n"
#define RSIM_MCAP_MAGIC_LEN 8

/* CRC-32 (IEEE, reflected, as zlib and MCAP use); start with crc = 0. */
uint32_t rsim__mcap_crc32(uint32_t crc, const void *p, size_t n);

/* Growable scratch arrays for a record's maps and arrays, reused per record. */
typedef struct rsim__mcap_scratch {
  rsim_mcap_strpair *strpairs;
  size_t cap_strpairs;
  rsim_mcap_idpair *idpairs;
  size_t cap_idpairs;
  rsim_mcap_index_entry *entries;
  size_t cap_entries;
} rsim__mcap_scratch;

void rsim__mcap_scratch_free(rsim__mcap_scratch *s);

/*
** Parses the content of one record (p, n) with opcode op into out.  Known
** fields must fit; extra bytes after them are padding and ignored.  On a
** problem returns RSIM_ECORRUPT with "<Record>: <what>" in why.
*/
int rsim__mcap_parse(uint8_t op, const uint8_t *p, uint64_t n, rsim__mcap_scratch *s,
                     rsim_mcap_record *out, char *why, size_t why_len);

#endif
