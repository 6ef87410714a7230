/*
** misc.c -- time and duration parsing, the monotonic clock, UTF-8
** validation and whole-file reading.
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

int rsim_parse_duration(const char *s, int64_t *out_ns) {
  if (!s || !*s) return RSIM_EINVAL;
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno || !isfinite(v) || v < 0) return RSIM_EINVAL;
  double scale;
  if (!*end || !strcmp(end, "s")) scale = 1e9;
  else if (!strcmp(end, "ms")) scale = 1e6;
  else if (!strcmp(end, "us")) scale = 1e3;
  else if (!strcmp(end, "ns")) scale = 1;
  else if (!strcmp(end, "m") || !strcmp(end, "min")) scale = 60e9;
  else if (!strcmp(end, "h")) scale = 3600e9;
  else return RSIM_EINVAL;
  double ns = v * scale;
  if (ns > 9.2e18) return RSIM_EINVAL;
  *out_ns = (int64_t)llround(ns);
  return RSIM_OK;
}

int rsim_parse_time(const char *s, rsim_time base, rsim_time *out) {
  if (!s || !*s) return RSIM_EINVAL;
  if (s[0] == '+') {
    int64_t d;
    if (rsim_parse_duration(s + 1, &d)) return RSIM_EINVAL;
    *out = base + d;
    return RSIM_OK;
  }
  /* A bare integer of 16+ digits is an absolute epoch timestamp in ns. */
  size_t n = strlen(s), digits = strspn(s, "0123456789");
  if (digits == n && n >= 16) {
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno) return RSIM_EINVAL;
    *out = (rsim_time)v;
    return RSIM_OK;
  }
  int64_t d;
  if (rsim_parse_duration(s, &d)) return RSIM_EINVAL;
  *out = base + d;
  return RSIM_OK;
}

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
