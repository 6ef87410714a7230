/*
** parse.c -- the strict parsers every option, query argument and metadata
** value goes through: integers, reals, speeds, ports, durations and times.
**
** Strict means the whole text is the value: no leading spaces, no trailing
** junk, no hex floats, inf or nan, no octal, and an overflow is an error
** rather than a clamp.  The range is checked here, not by each caller, so
** that `--speed abc` cannot quietly become 0 (max speed) as atof made it.
** A failure is RSIM_EINVAL with a sentence that quotes the text and says
** what was expected; the caller prefixes what it parsed ("--speed: ").
*/
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsim/util.h"

/* The text for a message, cut at 40 bytes: a huge argument must not push
** what was expected out of the message. */
static const char *quoted(const char *s, char *buf, size_t n) {
  if (strlen(s) <= 40) snprintf(buf, n, "'%s'", s);
  else snprintf(buf, n, "'%.40s...'", s);
  return buf;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Length of the decimal real at the start of s ([+-]? digits [. digits]
** [e [+-] digits], or with digits only after the point), 0 for none.  Only
** this syntax reaches strtod, which would also take "inf", "nan", "0x1p3"
** and leading spaces. */
static size_t real_prefix(const char *s, bool sign) {
  size_t i = 0, digits = 0;
  if (sign && (s[i] == '+' || s[i] == '-')) i++;
  while (is_digit(s[i])) i++, digits++;
  if (s[i] == '.') {
    i++;
    while (is_digit(s[i])) i++, digits++;
  }
  if (!digits) return 0;
  if (s[i] == 'e' || s[i] == 'E') {
    size_t j = i + 1;
    if (s[j] == '+' || s[j] == '-') j++;
    if (is_digit(s[j])) {
      while (is_digit(s[j])) j++;
      i = j;
    }
  }
  return i;
}

/* A real from exactly n bytes of s that real_prefix accepted; false when
** it overflows (a value too small for a double is 0, not an error). */
static bool real_value(const char *s, size_t n, double *out) {
  char tmp[64];
  if (n >= sizeof tmp) { /* 63 digits say nothing a double keeps; still a number */
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    *out = v;
    return (size_t)(end - s) == n && isfinite(v);
  }
  memcpy(tmp, s, n);
  tmp[n] = 0;
  errno = 0;
  double v = strtod(tmp, NULL);
  *out = v;
  return isfinite(v) && !(errno == ERANGE && fabs(v) > 1);
}

int rsim_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out, rsim_errbuf *eb) {
  char q[64];
  if (!s || !*s)
    return rsim_errbuf_set(eb, RSIM_EINVAL, "an empty value is not a number (expected an integer %" PRId64 "..%" PRId64 ")",
                           lo, hi);
  size_t i = s[0] == '+' || s[0] == '-';
  if (!s[i] || strspn(s + i, "0123456789") != strlen(s + i))
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s is not a number (expected an integer %" PRId64 "..%" PRId64 ")",
                           quoted(s, q, sizeof q), lo, hi);
  errno = 0;
  long long v = strtoll(s, NULL, 10);
  if (errno == ERANGE || v < lo || v > hi)
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s is out of range (expected an integer %" PRId64 "..%" PRId64 ")",
                           quoted(s, q, sizeof q), lo, hi);
  *out = v;
  return RSIM_OK;
}

int rsim_parse_uint(const char *s, uint64_t *out, rsim_errbuf *eb) {
  char q[64];
  bool hex = s && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  const char *d = hex ? s + 2 : s;
  const char *set = hex ? "0123456789abcdefABCDEF" : "0123456789";
  if (!s || !*d || strspn(d, set) != strlen(d))
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s is not a number (expected an integer 0..%" PRIu64 ", or 0x and hex digits)",
                           quoted(s ? s : "", q, sizeof q), UINT64_MAX);
  errno = 0;
  unsigned long long v = strtoull(d, NULL, hex ? 16 : 10);
  if (errno == ERANGE)
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s is out of range (expected an integer 0..%" PRIu64 ")",
                           quoted(s, q, sizeof q), UINT64_MAX);
  *out = v;
  return RSIM_OK;
}

int rsim_parse_real(const char *s, double lo, double hi, double *out, rsim_errbuf *eb) {
  char q[64];
  size_t n = s ? real_prefix(s, true) : 0;
  double v;
  if (!n || s[n])
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s is not a number (expected %g..%g)", quoted(s ? s : "", q, sizeof q), lo,
                           hi);
  if (!real_value(s, n, &v) || !(v >= lo && v <= hi))
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s is out of range (expected %g..%g)", quoted(s, q, sizeof q), lo, hi);
  *out = v;
  return RSIM_OK;
}

int rsim_parse_speed(const char *s, double *out, rsim_errbuf *eb) {
  char q[64];
  if (s && !strcmp(s, "max")) {
    *out = 0;
    return RSIM_OK;
  }
  size_t n = s ? real_prefix(s, true) : 0;
  double v;
  if (!n || s[n])
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s is not a number (expected 0.01..100 or max)", quoted(s ? s : "", q, sizeof q));
  if (!real_value(s, n, &v) || !(v >= 0.01 && v <= 100))
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s is out of range (expected 0.01..100 or max)", quoted(s, q, sizeof q));
  *out = v;
  return RSIM_OK;
}

int rsim_parse_port(const char *s, int *out, rsim_errbuf *eb) {
  int64_t v;
  rsim_errbuf local = {0};
  if (rsim_parse_int(s, 0, 65535, &v, &local)) {
    char q[64];
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s is not a port (expected 0..65535; 0 picks a free one)",
                           quoted(s ? s : "", q, sizeof q));
  }
  *out = (int)v;
  return RSIM_OK;
}

int rsim_parse_duration(const char *s, int64_t *out_ns) {
  if (!s) return RSIM_EINVAL;
  size_t n = real_prefix(s, false);
  double v;
  if (!n || !real_value(s, n, &v)) return RSIM_EINVAL;
  const char *unit = s + n;
  double scale;
  if (!*unit || !strcmp(unit, "s")) scale = 1e9;
  else if (!strcmp(unit, "ms")) scale = 1e6;
  else if (!strcmp(unit, "us")) scale = 1e3;
  else if (!strcmp(unit, "ns")) scale = 1;
  else if (!strcmp(unit, "m") || !strcmp(unit, "min")) scale = 60e9;
  else if (!strcmp(unit, "h")) scale = 3600e9;
  else return RSIM_EINVAL;
  double ns = v * scale;
  if (!(ns < 9.2e18)) return RSIM_EINVAL; /* INT64_MAX is 9.22e18 */
  *out_ns = (int64_t)llround(ns);
  return RSIM_OK;
}

int rsim_parse_duration_arg(const char *s, bool positive, int64_t *out_ns, rsim_errbuf *eb) {
  char q[64];
  int64_t v;
  if (rsim_parse_duration(s, &v))
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s is not a duration (expected e.g. 2s, 500ms, 1.5m, 1h; at most 290 years)",
                           quoted(s ? s : "", q, sizeof q));
  if (positive && v <= 0)
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s is not a positive duration (expected e.g. 2s, 500ms)", quoted(s, q, sizeof q));
  *out_ns = v;
  return RSIM_OK;
}

int rsim_parse_time(const char *s, rsim_time base, rsim_time *out) {
  if (!s || !*s) return RSIM_EINVAL;
  int64_t d;
  if (s[0] == '+') {
    if (rsim_parse_duration(s + 1, &d)) return RSIM_EINVAL;
  } else {
    /* A bare integer of 16+ digits is an absolute epoch timestamp in ns. */
    size_t n = strlen(s), digits = strspn(s, "0123456789");
    if (digits == n && n >= 16) {
      errno = 0;
      long long v = strtoll(s, NULL, 10);
      if (errno) return RSIM_EINVAL;
      *out = (rsim_time)v;
      return RSIM_OK;
    }
    if (rsim_parse_duration(s, &d)) return RSIM_EINVAL;
  }
  if (base > 0 && d > INT64_MAX - base) return RSIM_EINVAL; /* past the year 2262 */
  *out = base + d;
  return RSIM_OK;
}

int rsim_parse_time_arg(const char *s, rsim_time base, rsim_time *out, rsim_errbuf *eb) {
  char q[64];
  if (rsim_parse_time(s, base, out))
    return rsim_errbuf_set(eb, RSIM_EINVAL,
                           "%s is not a time (expected ns since the epoch, or a duration into the log such as 12.5s or +2m)",
                           quoted(s ? s : "", q, sizeof q));
  return RSIM_OK;
}

bool rsim_secret_equal(const char *a, const char *b) {
  /* Every byte of the longer string is looked at whatever the others hold,
  ** so the time taken says nothing of how much of a guess was right. */
  size_t na = strlen(a), nb = strlen(b), n = na > nb ? na : nb;
  unsigned diff = na != nb;
  for (size_t i = 0; i < n; i++) {
    unsigned char x = i < na ? (unsigned char)a[i] : 0, y = i < nb ? (unsigned char)b[i] : 0;
    diff |= (unsigned)(x ^ y);
  }
  return diff == 0;
}
