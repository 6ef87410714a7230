/*
** util.h -- small shared helpers: growable byte buffers, SHA-256, strict
** parsers of numbers, durations and times, duration formatting, UTF-8
** validation, a monotonic clock.
**
** Time everywhere in replaysim is int64 nanoseconds since the Unix epoch
** (rsim_time); durations are int64 nanoseconds too.
*/
#ifndef RSIM_UTIL_H
#define RSIM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsim/error.h"

typedef int64_t rsim_time;

#define RSIM_NS_PER_US INT64_C(1000)
#define RSIM_NS_PER_MS INT64_C(1000000)
#define RSIM_NS_PER_S INT64_C(1000000000)

/* ---- growable byte buffer --------------------------------------------- */
/* A plain struct, usually on the stack: init with {0}, free with
** rsim_buf_free.  Allocation failure aborts through rsim_oom (a host
** program has nothing better to do); sizes from input are checked by the
** callers before they get here. */
typedef struct rsim_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
} rsim_buf;

void rsim_buf_free(rsim_buf *b);
void rsim_buf_reserve(rsim_buf *b, size_t extra);
void rsim_buf_append(rsim_buf *b, const void *p, size_t n);
void rsim_buf_putc(rsim_buf *b, char c);
void rsim_buf_puts(rsim_buf *b, const char *s);
void rsim_buf_printf(rsim_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void rsim_buf_put_u32le(rsim_buf *b, uint32_t v);
void rsim_buf_put_u64le(rsim_buf *b, uint64_t v);

/* A bounded reader over bytes, the counterpart of rsim_buf_put_*le: a read
** past the end gives NULL (or 0) and clears ok for good, so a parser reads
** on and checks ok once.  It borrows the bytes. */
typedef struct rsim_rd {
  const uint8_t *p, *end;
  bool ok;
} rsim_rd;
rsim_rd rsim_rd_new(const uint8_t *p, size_t n);
const uint8_t *rsim_rd_bytes(rsim_rd *r, uint64_t n);
uint8_t rsim_rd_u8(rsim_rd *r);
uint32_t rsim_rd_u32le(rsim_rd *r);
uint64_t rsim_rd_u64le(rsim_rd *r);

/* Little-endian floats in byte buffers (payload layouts, docs/sensors.md),
** alignment-free. */
float rsim_le_f32(const uint8_t *p);
double rsim_le_f64(const uint8_t *p);
void rsim_le_put_f32(uint8_t *p, float f);
void rsim_le_put_f64(uint8_t *p, double d);
/* Appends a JSON string literal (quoted, escaped) of s[0..n). */
void rsim_buf_put_json_str(rsim_buf *b, const char *s, size_t n);
/* Returns a NUL-terminated copy of the contents that the caller frees with
** free(); the buffer is left empty. */
char *rsim_buf_take_str(rsim_buf *b);

/* ---- allocation -------------------------------------------------------- */
/* Allocation wrappers that abort on exhaustion (through rsim_oom). */
void *rsim_xmalloc(size_t n);
void *rsim_xcalloc(size_t n, size_t size);
void *rsim_xrealloc(void *p, size_t n);
char *rsim_xstrdup(const char *s);
char *rsim_xstrndup(const char *s, size_t n);
/* Calls the handler set with rsim_set_oom_handler (if any), then aborts. */
void rsim_oom(size_t n);
/* What a program says before an allocation failure aborts it: the library
** itself never prints, so the program's handler (the replaysim command's
** writes a line on stderr) gets the size that could not be had.  NULL
** removes it.  Process-wide; set it once at start-up. */
void rsim_set_oom_handler(void (*fn)(size_t n));

/* ---- SHA-256 ------------------------------------------------------------ */
typedef struct rsim_sha256 {
  uint32_t h[8];
  uint64_t nbytes;
  uint8_t block[64];
  size_t fill;
} rsim_sha256;

void rsim_sha256_init(rsim_sha256 *s);
void rsim_sha256_update(rsim_sha256 *s, const void *p, size_t n);
void rsim_sha256_final(rsim_sha256 *s, uint8_t out[32]);
/* Writes 64 lowercase hex digits and a NUL into hex. */
void rsim_sha256_hex(const uint8_t digest[32], char hex[65]);

/* ---- parsing: numbers, durations, times ----------------------------------- */
/* Strict: the whole of s is the value (no spaces, no trailing junk, no hex
** floats, inf or nan), an overflow is an error, and the range is checked
** here.  A failure is RSIM_EINVAL with a sentence in eb that quotes s and
** says what was expected, e.g. "'abc' is not a number (expected 0.01..100
** or max)"; the caller says which option or field it was.  (parse.c) */
int rsim_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out, rsim_errbuf *eb);
/* Decimal, or hexadecimal after 0x; 0 .. UINT64_MAX (no sign). */
int rsim_parse_uint(const char *s, uint64_t *out, rsim_errbuf *eb);
/* A decimal real (1, -2.5, .5, 1e3) in lo .. hi. */
int rsim_parse_real(const char *s, double lo, double hi, double *out, rsim_errbuf *eb);
/* A playback speed: 0.01 .. 100, or "max" (*out = 0). */
int rsim_parse_speed(const char *s, double *out, rsim_errbuf *eb);
/* A TCP port: 0 .. 65535 (0: any free port). */
int rsim_parse_port(const char *s, int *out, rsim_errbuf *eb);
/* Parses a duration: "60s", "1.5ms", "250us", "100ns", "2m", "1h", or a bare
** number of seconds; never negative.  Returns RSIM_EINVAL on anything else. */
int rsim_parse_duration(const char *s, int64_t *out_ns);
/* rsim_parse_duration with a message; positive: 0 is refused too. */
int rsim_parse_duration_arg(const char *s, bool positive, int64_t *out_ns, rsim_errbuf *eb);
/* Parses a time: an absolute integer nanosecond timestamp ("1700000000000000000"),
** or a duration with a leading '+' relative to base ("+12.5s").
** A plain duration with a unit ("12.5s") is also relative to base. */
int rsim_parse_time(const char *s, rsim_time base, rsim_time *out);
/* rsim_parse_time with a message. */
int rsim_parse_time_arg(const char *s, rsim_time base, rsim_time *out, rsim_errbuf *eb);
/* Compares two secrets (tokens) in time that depends on their lengths
** only, not on how many leading bytes agree. */
bool rsim_secret_equal(const char *a, const char *b);

/* ---- time ---------------------------------------------------------------- */
/* Formats a duration as seconds with millisecond precision ("12.345s"). */
void rsim_format_duration(int64_t ns, char *out, size_t n);
/* Monotonic wall clock in nanoseconds, for measurements and pacing only:
** it never feeds sim time. */
int64_t rsim_monotonic_ns(void);

/* ---- text ----------------------------------------------------------------- */
/* True when s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool rsim_utf8_valid(const char *s, size_t n);
/* True when the reading file exists and can be read. */
bool rsim_file_readable(const char *path);
/* Reads a whole file into *out (caller frees with free()).  Refuses files
** larger than max_bytes with RSIM_ETOOBIG. */
int rsim_read_file(const char *path, size_t max_bytes, uint8_t **out, size_t *out_len,
                   rsim_errbuf *eb);

#endif /* RSIM_UTIL_H */
