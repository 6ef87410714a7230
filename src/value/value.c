/*
** value.c -- component-model values as plain data: lifetime, copies,
** bit-exact equality, checking against a type, and JSON rendering.
** The canonical byte encoding lives in encode.c.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsim/value.h"

/* Whether a value of this kind owns a list of items. */
static bool is_agg(rsim_kind k) { return k == RSIM_LIST || k == RSIM_RECORD || k == RSIM_TUPLE; }
static bool is_case(rsim_kind k) {
  return k == RSIM_VARIANT || k == RSIM_ENUM || k == RSIM_OPTION || k == RSIM_RESULT;
}

void rsim_val_clear(rsim_val *v) {
  if (!v) return;
  if (v->kind == RSIM_STRING) free(v->of.str.ptr);
  else if (v->kind == RSIM_BYTES) free(v->of.bytes.ptr);
  else if (is_agg(v->kind)) {
    for (size_t i = 0; i < v->of.agg.n; i++) rsim_val_clear(&v->of.agg.items[i]);
    free(v->of.agg.items);
  } else if (is_case(v->kind) && v->of.var.payload) {
    rsim_val_clear(v->of.var.payload);
    free(v->of.var.payload);
  }
  memset(v, 0, sizeof *v);
}

void rsim_val_copy(rsim_val *dst, const rsim_val *src) {
  *dst = *src;
  if (src->kind == RSIM_STRING) {
    dst->of.str.ptr = rsim_xstrndup(src->of.str.ptr, src->of.str.len);
  } else if (src->kind == RSIM_BYTES) {
    dst->of.bytes.ptr = rsim_xmalloc(src->of.bytes.len);
    if (src->of.bytes.len) memcpy(dst->of.bytes.ptr, src->of.bytes.ptr, src->of.bytes.len);
  } else if (is_agg(src->kind)) {
    dst->of.agg.items = rsim_xcalloc(src->of.agg.n, sizeof(rsim_val));
    for (size_t i = 0; i < src->of.agg.n; i++)
      rsim_val_copy(&dst->of.agg.items[i], &src->of.agg.items[i]);
  } else if (is_case(src->kind) && src->of.var.payload) {
    dst->of.var.payload = rsim_xmalloc(sizeof(rsim_val));
    rsim_val_copy(dst->of.var.payload, src->of.var.payload);
  }
}

void rsim_val_set_string(rsim_val *dst, const char *s, size_t n) {
  memset(dst, 0, sizeof *dst);
  dst->kind = RSIM_STRING;
  dst->of.str.ptr = rsim_xstrndup(s, n);
  dst->of.str.len = n;
}

void rsim_val_set_bytes(rsim_val *dst, const uint8_t *p, size_t n) {
  memset(dst, 0, sizeof *dst);
  dst->kind = RSIM_BYTES;
  dst->of.bytes.ptr = rsim_xmalloc(n);
  if (n) memcpy(dst->of.bytes.ptr, p, n);
  dst->of.bytes.len = n;
}

void rsim_val_set_agg(rsim_val *dst, rsim_kind kind, size_t n) {
  memset(dst, 0, sizeof *dst);
  dst->kind = kind;
  dst->of.agg.items = rsim_xcalloc(n, sizeof(rsim_val));
  dst->of.agg.n = n;
}

void rsim_val_set_case(rsim_val *dst, rsim_kind kind, uint32_t index, bool has_payload) {
  memset(dst, 0, sizeof *dst);
  dst->kind = kind;
  dst->of.var.index = index;
  if (has_payload) dst->of.var.payload = rsim_xcalloc(1, sizeof(rsim_val));
}

bool rsim_val_equal(const rsim_val *a, const rsim_val *b) {
  if (a->kind != b->kind) return false;
  switch (a->kind) {
    case RSIM_BOOL: return a->of.b == b->of.b;
    case RSIM_S8: case RSIM_S16: case RSIM_S32: case RSIM_S64: return a->of.s == b->of.s;
    case RSIM_U8: case RSIM_U16: case RSIM_U32: case RSIM_U64: case RSIM_FLAGS:
      return a->of.u == b->of.u;
    case RSIM_F32: return memcmp(&a->of.f32, &b->of.f32, sizeof(float)) == 0;
    case RSIM_F64: return memcmp(&a->of.f64, &b->of.f64, sizeof(double)) == 0;
    case RSIM_CHAR: return a->of.ch == b->of.ch;
    case RSIM_STRING:
      return a->of.str.len == b->of.str.len && !memcmp(a->of.str.ptr, b->of.str.ptr, a->of.str.len);
    case RSIM_BYTES:
      return a->of.bytes.len == b->of.bytes.len &&
             (!a->of.bytes.len || !memcmp(a->of.bytes.ptr, b->of.bytes.ptr, a->of.bytes.len));
    case RSIM_LIST: case RSIM_RECORD: case RSIM_TUPLE:
      if (a->of.agg.n != b->of.agg.n) return false;
      for (size_t i = 0; i < a->of.agg.n; i++)
        if (!rsim_val_equal(&a->of.agg.items[i], &b->of.agg.items[i])) return false;
      return true;
    case RSIM_VARIANT: case RSIM_ENUM: case RSIM_OPTION: case RSIM_RESULT:
      if (a->of.var.index != b->of.var.index) return false;
      if (!a->of.var.payload || !b->of.var.payload) return a->of.var.payload == b->of.var.payload;
      return rsim_val_equal(a->of.var.payload, b->of.var.payload);
    default: return false;
  }
}

/* ---- checking against a type --------------------------------------------------- */

static int mismatch(rsim_errbuf *eb, const char *path, const rsim_type *t, const char *got) {
  char *ts = rsim_type_str(t);
  int rc = rsim_errbuf_set(eb, RSIM_ETYPE, "%s: expected %s, got %s", path[0] ? path : "value", ts, got);
  free(ts);
  return rc;
}

static int check_at(const rsim_val *v, const rsim_type *t, char *path, size_t plen, rsim_errbuf *eb);

static int check_child(const rsim_val *v, const rsim_type *t, char *path, size_t plen,
                       const char *sep, const char *name, size_t index, rsim_errbuf *eb) {
  size_t len = strlen(path);
  if (name) snprintf(path + len, plen - len, "%s%s", len ? sep : "", name);
  else snprintf(path + len, plen - len, "[%zu]", index);
  int rc = check_at(v, t, path, plen, eb);
  path[len] = 0;
  return rc;
}

static int check_at(const rsim_val *v, const rsim_type *t, char *path, size_t plen, rsim_errbuf *eb) {
  static const char *const kinds[] = {"bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64",
                                      "u64", "f32", "f64", "char", "string", "list", "record",
                                      "tuple", "variant", "enum", "option", "result", "flags",
                                      "bytes", "resource"};
  const char *got = (size_t)v->kind < sizeof kinds / sizeof *kinds ? kinds[v->kind] : "?";
  if (t->kind == RSIM_LIST && t->types[0]->kind == RSIM_U8) {
    return v->kind == RSIM_BYTES ? RSIM_OK : mismatch(eb, path, t, got);
  }
  if (v->kind == RSIM_BYTES && t->kind == RSIM_LIST && t->types[0]->kind == RSIM_U64) return RSIM_OK;
  if (v->kind != t->kind) return mismatch(eb, path, t, got);
  switch (t->kind) {
    case RSIM_LIST:
      for (size_t i = 0; i < v->of.agg.n; i++) {
        int rc = check_child(&v->of.agg.items[i], t->types[0], path, plen, "", NULL, i, eb);
        if (rc) return rc;
      }
      return RSIM_OK;
    case RSIM_RECORD:
    case RSIM_TUPLE:
      if (v->of.agg.n != t->n) {
        char m[64];
        snprintf(m, sizeof m, "%zu members", v->of.agg.n);
        return mismatch(eb, path, t, m);
      }
      for (size_t i = 0; i < t->n; i++) {
        int rc = check_child(&v->of.agg.items[i], t->types[i], path, plen, ".",
                             t->kind == RSIM_RECORD ? t->names[i] : NULL, i, eb);
        if (rc) return rc;
      }
      return RSIM_OK;
    case RSIM_ENUM:
    case RSIM_VARIANT:
    case RSIM_OPTION:
    case RSIM_RESULT: {
      size_t ncases = t->kind == RSIM_OPTION || t->kind == RSIM_RESULT ? 2 : t->n;
      if (v->of.var.index >= ncases) return mismatch(eb, path, t, "a case index out of range");
      const rsim_type *pt = NULL;
      if (t->kind == RSIM_VARIANT) pt = t->types[v->of.var.index];
      else if (t->kind == RSIM_OPTION) pt = v->of.var.index ? t->types[0] : NULL;
      else if (t->kind == RSIM_RESULT) pt = t->types[v->of.var.index];
      if (!pt != !v->of.var.payload) return mismatch(eb, path, t, "a case with the wrong payload");
      return pt ? check_child(v->of.var.payload, pt, path, plen, ".",
                              t->kind == RSIM_VARIANT ? t->names[v->of.var.index] : "value", 0, eb)
                : RSIM_OK;
    }
    case RSIM_FLAGS:
      if (t->n < 64 && (v->of.u >> t->n)) return mismatch(eb, path, t, "unknown flag bits");
      return RSIM_OK;
    case RSIM_STRING:
      return rsim_utf8_valid(v->of.str.ptr, v->of.str.len) ? RSIM_OK
                                                          : mismatch(eb, path, t, "invalid UTF-8");
    case RSIM_CHAR:
      return v->of.ch <= 0x10FFFF && (v->of.ch < 0xD800 || v->of.ch > 0xDFFF)
                 ? RSIM_OK
                 : mismatch(eb, path, t, "an invalid char");
    default: return RSIM_OK;
  }
}

int rsim_val_check(const rsim_val *v, const rsim_type *t, rsim_errbuf *eb) {
  char path[512] = "";
  return check_at(v, t, path, sizeof path, eb);
}

/* ---- JSON ----------------------------------------------------------------------- */

static void json_float(rsim_buf *out, double d, bool single) {
  if (isnan(d)) rsim_buf_puts(out, "\"NaN\"");
  else if (isinf(d)) rsim_buf_puts(out, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  else rsim_buf_printf(out, single ? "%.9g" : "%.17g", d);
}

static const rsim_type *member_type(const rsim_type *t, size_t i) {
  return t && i < t->n && t->types ? t->types[i] : NULL;
}

void rsim_val_to_json(const rsim_val *v, const rsim_type *t, size_t max_bytes, rsim_buf *out) {
  switch (v->kind) {
    case RSIM_BOOL: rsim_buf_puts(out, v->of.b ? "true" : "false"); break;
    case RSIM_S8: case RSIM_S16: case RSIM_S32: case RSIM_S64:
      rsim_buf_printf(out, "%lld", (long long)v->of.s);
      break;
    case RSIM_U8: case RSIM_U16: case RSIM_U32: case RSIM_U64:
      rsim_buf_printf(out, "%llu", (unsigned long long)v->of.u);
      break;
    case RSIM_F32: json_float(out, v->of.f32, true); break;
    case RSIM_F64: json_float(out, v->of.f64, false); break;
    case RSIM_CHAR: {
      char s[16];
      snprintf(s, sizeof s, "U+%04X", v->of.ch);
      rsim_buf_put_json_str(out, s, strlen(s));
      break;
    }
    case RSIM_STRING: rsim_buf_put_json_str(out, v->of.str.ptr, v->of.str.len); break;
    case RSIM_BYTES:
      if (v->of.bytes.len > max_bytes) {
        rsim_sha256 s;
        uint8_t d[32];
        char hex[65];
        rsim_sha256_init(&s);
        rsim_sha256_update(&s, v->of.bytes.ptr, v->of.bytes.len);
        rsim_sha256_final(&s, d);
        rsim_sha256_hex(d, hex);
        rsim_buf_printf(out, "{\"bytes\":%zu,\"sha256\":\"%s\"}", v->of.bytes.len, hex);
      } else {
        rsim_buf_putc(out, '[');
        for (size_t i = 0; i < v->of.bytes.len; i++)
          rsim_buf_printf(out, "%s%u", i ? "," : "", v->of.bytes.ptr[i]);
        rsim_buf_putc(out, ']');
      }
      break;
    case RSIM_LIST:
    case RSIM_TUPLE:
      rsim_buf_putc(out, '[');
      for (size_t i = 0; i < v->of.agg.n; i++) {
        if (i) rsim_buf_putc(out, ',');
        rsim_val_to_json(&v->of.agg.items[i], member_type(t, v->kind == RSIM_LIST ? 0 : i),
                         max_bytes, out);
      }
      rsim_buf_putc(out, ']');
      break;
    case RSIM_RECORD: {
      bool named = t && t->kind == RSIM_RECORD && t->n == v->of.agg.n;
      rsim_buf_putc(out, named ? '{' : '[');
      for (size_t i = 0; i < v->of.agg.n; i++) {
        if (i) rsim_buf_putc(out, ',');
        if (named) {
          rsim_buf_put_json_str(out, t->names[i], strlen(t->names[i]));
          rsim_buf_putc(out, ':');
        }
        rsim_val_to_json(&v->of.agg.items[i], member_type(t, i), max_bytes, out);
      }
      rsim_buf_putc(out, named ? '}' : ']');
      break;
    }
    case RSIM_OPTION:
      if (!v->of.var.index || !v->of.var.payload) rsim_buf_puts(out, "null");
      else rsim_val_to_json(v->of.var.payload, member_type(t, 0), max_bytes, out);
      break;
    case RSIM_ENUM:
    case RSIM_VARIANT:
    case RSIM_RESULT: {
      const char *name = NULL;
      if (v->kind == RSIM_RESULT) name = v->of.var.index ? "err" : "ok";
      else if (t && v->of.var.index < t->n) name = t->names[v->of.var.index];
      char idx[24];
      if (!name) snprintf(idx, sizeof idx, "#%u", v->of.var.index), name = idx;
      if (v->kind == RSIM_ENUM || !v->of.var.payload) {
        rsim_buf_put_json_str(out, name, strlen(name));
      } else {
        rsim_buf_putc(out, '{');
        rsim_buf_put_json_str(out, name, strlen(name));
        rsim_buf_putc(out, ':');
        rsim_val_to_json(v->of.var.payload, member_type(t, v->of.var.index), max_bytes, out);
        rsim_buf_putc(out, '}');
      }
      break;
    }
    case RSIM_FLAGS:
      rsim_buf_putc(out, '[');
      for (size_t i = 0, k = 0; i < 64; i++)
        if (v->of.u >> i & 1) {
          if (k++) rsim_buf_putc(out, ',');
          if (t && i < t->n) rsim_buf_put_json_str(out, t->names[i], strlen(t->names[i]));
          else rsim_buf_printf(out, "%zu", i);
        }
      rsim_buf_putc(out, ']');
      break;
    default: rsim_buf_puts(out, "null");
  }
}

const rsim_val *rsim_val_field(const rsim_val *v, const rsim_type *t, const char *name) {
  int i = v && t && t->kind == RSIM_RECORD ? rsim_type_member(t, name) : -1;
  return i >= 0 && v->kind == RSIM_RECORD && (size_t)i < v->of.agg.n ? &v->of.agg.items[i] : NULL;
}

const rsim_type *rsim_type_field(const rsim_type *t, const char *name) {
  int i = t && t->kind == RSIM_RECORD ? rsim_type_member(t, name) : -1;
  return i >= 0 ? t->types[i] : NULL;
}

double rsim_val_number(const rsim_val *v) {
  if (!v) return 0;
  switch (v->kind) {
    case RSIM_F32: return v->of.f32;
    case RSIM_F64: return v->of.f64;
    case RSIM_S8: case RSIM_S16: case RSIM_S32: case RSIM_S64: return (double)v->of.s;
    case RSIM_U8: case RSIM_U16: case RSIM_U32: case RSIM_U64: return (double)v->of.u;
    default: return 0;
  }
}
