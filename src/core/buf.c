/*
** buf.c -- growable byte buffers and the aborting allocation wrappers.
**
** Allocation failure of internal bookkeeping aborts: a replay host has no
** useful way to continue.  Sizes that come from input (file lengths, payload
** sizes) are checked against limits by their parsers before they get here.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsim/util.h"

static void (*g_oom)(size_t n);

void rsim_set_oom_handler(void (*fn)(size_t n)) { g_oom = fn; }

void rsim_oom(size_t n) {
  if (g_oom) g_oom(n); /* the program's word: the library does not print */
  abort();
}

void *rsim_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) rsim_oom(n);
  return p;
}

void *rsim_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) rsim_oom(n * size);
  return p;
}

void *rsim_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) rsim_oom(n);
  return q;
}

char *rsim_xstrndup(const char *s, size_t n) {
  char *p = rsim_xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

char *rsim_xstrdup(const char *s) { return rsim_xstrndup(s, strlen(s)); }

void rsim_buf_free(rsim_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void rsim_buf_reserve(rsim_buf *b, size_t extra) {
  if (b->cap - b->len >= extra) return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap - b->len < extra) {
    if (cap > SIZE_MAX / 2) rsim_oom(SIZE_MAX);
    cap *= 2;
  }
  b->data = rsim_xrealloc(b->data, cap);
  b->cap = cap;
}

void rsim_buf_append(rsim_buf *b, const void *p, size_t n) {
  if (!n) return;
  rsim_buf_reserve(b, n);
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

void rsim_buf_putc(rsim_buf *b, char c) { rsim_buf_append(b, &c, 1); }

void rsim_buf_puts(rsim_buf *b, const char *s) { rsim_buf_append(b, s, strlen(s)); }

void rsim_buf_printf(rsim_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  rsim_buf_reserve(b, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void rsim_buf_put_u32le(rsim_buf *b, uint32_t v) {
  uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  rsim_buf_append(b, x, 4);
}

void rsim_buf_put_u64le(rsim_buf *b, uint64_t v) {
  rsim_buf_put_u32le(b, (uint32_t)v);
  rsim_buf_put_u32le(b, (uint32_t)(v >> 32));
}

rsim_rd rsim_rd_new(const uint8_t *p, size_t n) { return (rsim_rd){p, p + n, true}; }

const uint8_t *rsim_rd_bytes(rsim_rd *r, uint64_t n) {
  if (!r->ok || (uint64_t)(r->end - r->p) < n) {
    r->ok = false;
    return NULL;
  }
  const uint8_t *q = r->p;
  r->p += n;
  return q;
}

uint8_t rsim_rd_u8(rsim_rd *r) {
  const uint8_t *q = rsim_rd_bytes(r, 1);
  return q ? q[0] : 0;
}

uint32_t rsim_rd_u32le(rsim_rd *r) {
  const uint8_t *q = rsim_rd_bytes(r, 4);
  return q ? (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24 : 0;
}

uint64_t rsim_rd_u64le(rsim_rd *r) {
  const uint8_t *q = rsim_rd_bytes(r, 8);
  uint64_t v = 0;
  for (int i = 7; q && i >= 0; i--) v = v << 8 | q[i];
  return v;
}

void rsim_buf_put_json_str(rsim_buf *b, const char *s, size_t n) {
  rsim_buf_putc(b, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
      case '"': rsim_buf_puts(b, "\\\""); break;
      case '\\': rsim_buf_puts(b, "\\\\"); break;
      case '\n': rsim_buf_puts(b, "\\n"); break;
      case '\r': rsim_buf_puts(b, "\\r"); break;
      case '\t': rsim_buf_puts(b, "\\t"); break;
      default:
        if (c < 0x20) rsim_buf_printf(b, "\\u%04x", c);
        else rsim_buf_putc(b, (char)c);
    }
  }
  rsim_buf_putc(b, '"');
}

char *rsim_buf_take_str(rsim_buf *b) {
  rsim_buf_putc(b, 0);
  char *s = (char *)b->data;
  b->data = NULL;
  b->len = b->cap = 0;
  return s;
}

float rsim_le_f32(const uint8_t *p) {
  uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

double rsim_le_f64(const uint8_t *p) {
  uint64_t u = 0;
  for (int i = 7; i >= 0; i--) u = u << 8 | p[i];
  double d;
  memcpy(&d, &u, 8);
  return d;
}

void rsim_le_put_f32(uint8_t *p, float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(u >> (8 * i));
}

void rsim_le_put_f64(uint8_t *p, double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(u >> (8 * i));
}
