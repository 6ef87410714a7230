/*
** crc32.c -- CRC-32 with the reflected polynomial 0xEDB88320 (the one of
** zlib, PNG and MCAP).  zlib's implementation is used: a byte-at-a-time
** table ran at ~450 MB/s and made CRC checking the slowest part of
** indexed reading (docs/benchmarks.md); zlib's runs several times faster.
*/
#include <zlib.h>

#include "mcap/mcap_int.h"

uint32_t rsim__mcap_crc32(uint32_t crc, const void *p, size_t n) {
  const Bytef *b = p;
  /* zlib takes uInt lengths: feed huge buffers in slices. */
  while (n > 0) {
    uInt part = n > (1u << 30) ? (1u << 30) : (uInt)n;
    crc = (uint32_t)crc32((uLong)crc, b, part);
    b += part;
    n -= part;
  }
  return crc;
}
