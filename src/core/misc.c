/*
** misc.c -- duration formatting, the monotonic clock, UTF-8 validation and
** whole-file reading.  (Parsing lives in parse.c.)
*/
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rsim/util.h"

void rsim_format_duration(int64_t ns, char *out, size_t n) {
  const char *sign = ns < 0 ? "-" : "";
  uint64_t a = ns < 0 ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
  snprintf(out, n, "%s%llu.%03llus", sign, (unsigned long long)(a / 1000000000u),
           (unsigned long long)(a % 1000000000u / 1000000u));
}

int64_t rsim_monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * RSIM_NS_PER_S + ts.tv_nsec;
}

bool rsim_utf8_valid(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    unsigned cp;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
      return false; /* overlong */
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

bool rsim_file_readable(const char *path) { return access(path, R_OK) == 0; }

int rsim_read_file(const char *path, size_t max_bytes, uint8_t **out, size_t *out_len,
                   rsim_errbuf *eb) {
  FILE *f = fopen(path, "rb");
  if (!f) return rsim_errbuf_set(eb, RSIM_EIO, "%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return rsim_errbuf_set(eb, RSIM_EIO, "%s: not a regular file", path);
  }
  if ((uint64_t)st.st_size > max_bytes) {
    fclose(f);
    return rsim_errbuf_set(eb, RSIM_ETOOBIG, "%s: %lld bytes is over the limit of %zu", path,
                           (long long)st.st_size, max_bytes);
  }
  size_t n = (size_t)st.st_size;
  uint8_t *p = rsim_xmalloc(n + 1);
  if (n && fread(p, 1, n, f) != n) {
    free(p);
    fclose(f);
    return rsim_errbuf_set(eb, RSIM_EIO, "%s: short read", path);
  }
  fclose(f);
  p[n] = 0;
  *out = p;
  *out_len = n;
  return RSIM_OK;
}
