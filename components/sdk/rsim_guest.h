/*
** rsim_guest.h -- helpers for replaysim components written in C.
**
** Include your world's wit-bindgen header first, then define RSIM_WORLD to
** the world's C prefix and include this file:
**
**   #include "camera_detector.h"
**   #define RSIM_WORLD camera_detector
**   #include "rsim_guest.h"
**
** It serves both contract versions the host loads: rsim:sim@0.2.0
** (components/wit/sim.wit, the default) and, with RSIM_SIM_0_3 defined
** (-DRSIM_SIM_0_3), rsim:sim@0.3.0 (components/wit/0.3.0/sim.wit); the
** same source builds against either.
**
** It gives: rsim_log(level, fmt, ...) through the host's log import,
** rsim_config_str / rsim_config_f32 for `config:` values of the graph,
** rsim_meta(reading, key) for reading metadata, rsim_payload(reading, &len)
** for the payload's bytes, little-endian payload readers, rsim_str for building wit-bindgen strings, and the state
** interface in one line (checkpoints, seek, step back, recovery):
**
**   static my_state g_state;      // everything kept between calls, no pointers
**   RSIM_STATE(g_state)           // save and restore it byte for byte
**
**   RSIM_STATELESS()              // nothing survives a call
**
** or write exports_rsim_sim_state_save/_restore yourself (see the radar
** tracker, which saves only its live tracks).  Nothing here uses WASI:
** components get all data and time from the host.
*/
#ifndef RSIM_GUEST_H
#define RSIM_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef RSIM_WORLD
#error "define RSIM_WORLD (e.g. camera_detector) before including rsim_guest.h"
#endif

#define RSIM_CAT2(a, b) a##b
#define RSIM_CAT(a, b) RSIM_CAT2(a, b)
#define RSIM_STRING_T RSIM_CAT(RSIM_WORLD, _string_t)

#define RSIM_BYTES_T RSIM_CAT(RSIM_WORLD, _list_u8_t)

enum { RSIM_DEBUG = 0, RSIM_INFO = 1, RSIM_WARN = 2, RSIM_ERROR = 3 };

/* The state interface over a plain object (a struct without pointers). */
#define RSIM_STATE(var)                                                             \
  void exports_rsim_sim_state_save(RSIM_BYTES_T *ret) {                            \
    ret->len = sizeof(var);                                                         \
    ret->ptr = (uint8_t *)malloc(sizeof(var));                                      \
    memcpy(ret->ptr, &(var), sizeof(var));                                          \
  }                                                                                 \
  bool exports_rsim_sim_state_restore(RSIM_BYTES_T *bytes, RSIM_STRING_T *err) {    \
    bool ok = bytes->len == sizeof(var);                                            \
    if (ok) memcpy(&(var), bytes->ptr, sizeof(var));                                \
    else *err = rsim_str_dup("state of the wrong size (another build?)");          \
    if (bytes->len) free(bytes->ptr); /* an empty list's pointer is not malloc's */ \
    return ok;                                                                      \
  }

/* The state interface of a component that keeps nothing between calls. */
#define RSIM_STATELESS()                                                            \
  void exports_rsim_sim_state_save(RSIM_BYTES_T *ret) {                            \
    ret->len = 0;                                                                   \
    ret->ptr = NULL;                                                                \
  }                                                                                 \
  bool exports_rsim_sim_state_restore(RSIM_BYTES_T *bytes, RSIM_STRING_T *err) {    \
    bool ok = bytes->len == 0;                                                      \
    if (!ok) *err = rsim_str_dup("a stateless component was given state");          \
    if (bytes->len) free(bytes->ptr);                                               \
    return ok;                                                                      \
  }

/* A borrowed wit-bindgen string over a C string (no copy, no free). */
static inline RSIM_STRING_T rsim_str(const char *s) {
  RSIM_STRING_T r = {(uint8_t *)s, strlen(s)};
  return r;
}

/* A heap copy, as wit-bindgen wants for returned strings. */
static inline RSIM_STRING_T rsim_str_dup(const char *s) {
  size_t n = strlen(s);
  RSIM_STRING_T r = {(uint8_t *)malloc(n ? n : 1), n};
  if (r.ptr && n) memcpy(r.ptr, s, n);
  return r;
}

/*
** A small formatter: wasi-libc's snprintf drags in the stdio machinery and
** with it WASI imports, which components must not have.  Supports %s %c %d
** %i %u %x %ld %lu %lld %llu %zu %f %g (floats with 3 decimals) and %%.
*/
static inline void rsim__put(char *buf, size_t n, size_t *len, char c) {
  if (*len + 1 < n) buf[*len] = c;
  (*len)++;
}

static inline void rsim__put_u(char *buf, size_t n, size_t *len, unsigned long long v, int base) {
  char d[24];
  int k = 0;
  do d[k++] = "0123456789abcdef"[v % (unsigned)base]; while ((v /= (unsigned)base) && k < 23);
  while (k) rsim__put(buf, n, len, d[--k]);
}

static inline size_t rsim_vfmt(char *buf, size_t n, const char *fmt, va_list ap) {
  size_t len = 0;
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') {
      rsim__put(buf, n, &len, *p);
      continue;
    }
    int lng = 0;
    bool size = false;
    while (*++p == 'l') lng++;
    if (*p == 'z') size = true, p++;
    switch (*p) {
      case 's': for (const char *s = va_arg(ap, const char *); s && *s; s++) rsim__put(buf, n, &len, *s); break;
      case 'c': rsim__put(buf, n, &len, (char)va_arg(ap, int)); break;
      case 'd': case 'i': {
        long long v = size ? (long long)va_arg(ap, size_t) : lng >= 2 ? va_arg(ap, long long)
                          : lng ? va_arg(ap, long) : va_arg(ap, int);
        if (v < 0) rsim__put(buf, n, &len, '-'), v = -v;
        rsim__put_u(buf, n, &len, (unsigned long long)v, 10);
        break;
      }
      case 'u': case 'x': {
        unsigned long long v = size ? va_arg(ap, size_t) : lng >= 2 ? va_arg(ap, unsigned long long)
                               : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
        rsim__put_u(buf, n, &len, v, *p == 'x' ? 16 : 10);
        break;
      }
      case 'f': case 'g': {
        double v = va_arg(ap, double);
        if (v < 0) rsim__put(buf, n, &len, '-'), v = -v;
        unsigned long long whole = (unsigned long long)v;
        unsigned frac = (unsigned)((v - (double)whole) * 1000.0 + 0.5);
        if (frac >= 1000) whole++, frac -= 1000;
        rsim__put_u(buf, n, &len, whole, 10);
        rsim__put(buf, n, &len, '.');
        rsim__put(buf, n, &len, (char)('0' + frac / 100));
        rsim__put(buf, n, &len, (char)('0' + frac / 10 % 10));
        rsim__put(buf, n, &len, (char)('0' + frac % 10));
        break;
      }
      case '%': rsim__put(buf, n, &len, '%'); break;
      default: rsim__put(buf, n, &len, '?'); if (!*p) p--; break;
    }
  }
  if (n) buf[len < n ? len : n - 1] = 0;
  return len;
}

static inline size_t rsim_fmt(char *buf, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t len = rsim_vfmt(buf, n, fmt, ap);
  va_end(ap);
  return len;
}

/* printf-style log line, kept by the host with the component name and sim time. */
static inline void rsim_log(int level, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  rsim_vfmt(buf, sizeof buf, fmt, ap);
  va_end(ap);
  RSIM_STRING_T m = rsim_str(buf);
  rsim_sim_sensor_data_log((rsim_sim_sensor_data_log_level_t)level, &m);
}

/* A config value copied into buf; returns buf, or def when absent. */
static inline const char *rsim_config_str(const char *key, char *buf, size_t n, const char *def) {
  RSIM_STRING_T k = rsim_str(key), v;
  if (!rsim_sim_sensor_data_get_config(&k, &v)) return def;
  size_t len = v.len < n - 1 ? v.len : n - 1;
  memcpy(buf, v.ptr, len);
  buf[len] = 0;
  RSIM_CAT(RSIM_WORLD, _string_free)(&v);
  return buf;
}

static inline float rsim_config_f32(const char *key, float def) {
  char buf[64], *end;
  const char *s = rsim_config_str(key, buf, sizeof buf, NULL);
  if (!s) return def;
  float f = strtof(s, &end);
  if (end == s || *end) {
    rsim_log(RSIM_WARN, "config %s='%s' is not a number; using %g", key, s, (double)def);
    return def;
  }
  return f;
}

/* Looks a metadata key up in a reading; copies the value into buf. */
static inline const char *rsim_meta(const rsim_sim_types_sensor_reading_t *r, const char *key, char *buf,
                                    size_t n) {
  size_t kl = strlen(key);
  for (size_t i = 0; i < r->metadata.len; i++) {
    const rsim_sim_types_metadata_entry_t *e = &r->metadata.ptr[i];
    if (e->key.len == kl && !memcmp(e->key.ptr, key, kl)) {
      size_t len = e->value.len < n - 1 ? e->value.len : n - 1;
      memcpy(buf, e->value.ptr, len);
      buf[len] = 0;
      return buf;
    }
  }
  return NULL;
}

/* The payload's bytes, in order, and their number (never NULL, also when
** empty).  rsim:sim@0.3.0 (built with RSIM_SIM_0_3 defined) gives them as
** a list<u8>.  0.2.0 packs them eight to a list<u64> element; in wasm's
** little-endian memory that is the bytes themselves, so nothing is copied
** either way.  A 0.2.0 payload-len the list cannot hold (never from the
** host) gives NULL and 0. */
static inline const uint8_t *rsim_payload(const rsim_sim_types_sensor_reading_t *r, size_t *len) {
#ifdef RSIM_SIM_0_3
  *len = r->payload.len;
  return r->payload.ptr ? (const uint8_t *)r->payload.ptr : (const uint8_t *)"";
#else
  if ((uint64_t)r->payload_len > (uint64_t)r->payload.len * 8u) {
    *len = 0;
    return NULL;
  }
  *len = r->payload_len;
  return (const uint8_t *)r->payload.ptr;
#endif
}

static inline uint32_t rsim_le_u32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline float rsim_le_f32(const uint8_t *b) {
  uint32_t u = rsim_le_u32(b);
  float f;
  memcpy(&f, &u, 4);
  return f;
}

#endif /* RSIM_GUEST_H */
