/*
** crc32.c -- CRC-32 with the reflected polynomial 0xEDB88320 (the one of
** zlib, PNG and MCAP), table-driven, the table built once on first use.
*/
#include <pthread.h>

#include "mcap/mcap_int.h"

static uint32_t g_table[256];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void build(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    g_table[i] = c;
  }
}

uint32_t rsim__mcap_crc32(uint32_t crc, const void *data, size_t n) {
  pthread_once(&g_once, build);
  const uint8_t *p = data;
  crc = ~crc;
  while (n--) crc = g_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}
