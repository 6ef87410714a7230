/*
** convert.c -- values across the boundary: Wasmtime's dynamic component
** values <-> rsim_val, guided by the rsim_type of the slot.
**
** Stock Wasmtime's C API has no packed byte list: a list<u8> is one 32-byte
** value per byte in each direction.  rsim_val keeps bytes packed, so this
** file is the only place that pays that cost, and rsim:sim@0.2.0 readings
** cross as list<u64> (eight bytes a value) to pay an eighth of it (0.3.0's
** cross as list<u8>: see is_reading_030).  Built against a
** Wasmtime with patches/wasmtime applied (WASMTIME_COMPONENT_PACKED_LIST
** defined), lists of numbers cross as one packed value each way instead:
** one copy of the bytes.  Everything going to Wasmtime is built
** with Wasmtime's allocators (it frees host-callback results itself), and
** every string is checked for valid UTF-8, because Wasmtime aborts the
** process on invalid UTF-8 -- once: not again when it came out of Wasmtime
** or is already in the argument slot.  An export's argument slots live on
** between calls and are rewritten in place (put() below).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/wasm_int.h"

static int bad(rsim_errbuf *eb, const char *what, const rsim_type *t) {
  char *ts = rsim_type_str(t);
  int rc = rsim_errbuf_set(eb, RSIM_ETYPE, "value does not fit %s: %s", ts, what);
  free(ts);
  return rc;
}

static bool is_bytes(const rsim_type *t) {
  return t->kind == RSIM_LIST && t->types[0] && t->types[0]->kind == RSIM_U8;
}

static int case_index(const rsim_type *t, const wasm_name_t *n) {
  for (size_t i = 0; i < t->n; i++)
    if (t->names[i] && strlen(t->names[i]) == n->size && !memcmp(t->names[i], n->data, n->size))
      return (int)i;
  return -1;
}

/* ---- Wasmtime -> rsim ------------------------------------------------------------ */

#ifdef WASMTIME_COMPONENT_PACKED_LIST
/* A packed list of numbers (its canonical ABI image, little-endian): bytes
** for list<u8>, else one rsim_val per element, as the unpacked list gives. */
static int from_packed(const wasm_byte_vec_t *b, const rsim_type *et, rsim_val *out, rsim_errbuf *eb) {
  if (et->kind == RSIM_U8) {
    out->kind = RSIM_BYTES;
    out->of.bytes.ptr = rsim_xmalloc(b->size);
    out->of.bytes.len = b->size;
    if (b->size) memcpy(out->of.bytes.ptr, b->data, b->size);
    return RSIM_OK;
  }
  size_t w;
  switch (et->kind) {
    case RSIM_S8: w = 1; break;
    case RSIM_U16: case RSIM_S16: w = 2; break;
    case RSIM_U32: case RSIM_S32: case RSIM_F32: w = 4; break;
    case RSIM_U64: case RSIM_S64: case RSIM_F64: w = 8; break;
    default: return bad(eb, "a packed list of something other than numbers", et);
  }
  if (b->size % w) return bad(eb, "a packed list with a partial element", et);
  size_t n = b->size / w;
  rsim_val_set_agg(out, RSIM_LIST, n);
  const uint8_t *p = (const uint8_t *)b->data;
  for (size_t i = 0; i < n; i++, p += w) {
    uint64_t u = 0;
    for (size_t j = 0; j < w; j++) u |= (uint64_t)p[j] << (8 * j);
    rsim_val *v = &out->of.agg.items[i];
    v->kind = et->kind;
    switch (et->kind) {
      case RSIM_S8: v->of.s = (int8_t)u; break;
      case RSIM_S16: v->of.s = (int16_t)u; break;
      case RSIM_S32: v->of.s = (int32_t)u; break;
      case RSIM_S64: v->of.s = (int64_t)u; break;
      case RSIM_F32: {
        uint32_t bits = (uint32_t)u;
        memcpy(&v->of.f32, &bits, 4);
        break;
      }
      case RSIM_F64: memcpy(&v->of.f64, &u, 8); break;
      default: v->of.u = u; break;
    }
  }
  return RSIM_OK;
}
#endif

int rsim__wasm_from(const wasmtime_component_val_t *w, const rsim_type *t, rsim_val *out,
                    rsim_errbuf *eb) {
  memset(out, 0, sizeof *out);
  out->kind = t->kind;
  switch (w->kind) {
    case WASMTIME_COMPONENT_BOOL: out->of.b = w->of.boolean; break;
    case WASMTIME_COMPONENT_S8: out->of.s = w->of.s8; break;
    case WASMTIME_COMPONENT_S16: out->of.s = w->of.s16; break;
    case WASMTIME_COMPONENT_S32: out->of.s = w->of.s32; break;
    case WASMTIME_COMPONENT_S64: out->of.s = w->of.s64; break;
    case WASMTIME_COMPONENT_U8: out->of.u = w->of.u8; break;
    case WASMTIME_COMPONENT_U16: out->of.u = w->of.u16; break;
    case WASMTIME_COMPONENT_U32: out->of.u = w->of.u32; break;
    case WASMTIME_COMPONENT_U64: out->of.u = w->of.u64; break;
    case WASMTIME_COMPONENT_F32: out->of.f32 = w->of.f32; break;
    case WASMTIME_COMPONENT_F64: out->of.f64 = w->of.f64; break;
    case WASMTIME_COMPONENT_CHAR: out->of.ch = w->of.character; break;
    case WASMTIME_COMPONENT_STRING:
      rsim_val_set_string(out, (const char *)w->of.string.data, w->of.string.size);
      out->str_valid = true; /* Wasmtime's strings are Rust strings: valid UTF-8 */
      break;
    case WASMTIME_COMPONENT_LIST: {
      const wasmtime_component_vallist_t *l = &w->of.list;
      if (t->kind != RSIM_LIST) return bad(eb, "a list", t);
      if (is_bytes(t)) {
        out->kind = RSIM_BYTES;
        out->of.bytes.ptr = rsim_xmalloc(l->size);
        out->of.bytes.len = l->size;
        for (size_t i = 0; i < l->size; i++) out->of.bytes.ptr[i] = l->data[i].of.u8;
        break;
      }
      rsim_val_set_agg(out, RSIM_LIST, l->size);
      for (size_t i = 0; i < l->size; i++) {
        int rc = rsim__wasm_from(&l->data[i], t->types[0], &out->of.agg.items[i], eb);
        if (rc) return rsim_val_clear(out), rc;
      }
      break;
    }
    case WASMTIME_COMPONENT_RECORD: {
      const wasmtime_component_valrecord_t *r = &w->of.record;
      if (t->kind != RSIM_RECORD || r->size != t->n) return bad(eb, "a record", t);
      rsim_val_set_agg(out, RSIM_RECORD, r->size);
      for (size_t i = 0; i < r->size; i++) {
        int rc = rsim__wasm_from(&r->data[i].val, t->types[i], &out->of.agg.items[i], eb);
        if (rc) return rsim_val_clear(out), rc;
      }
      break;
    }
    case WASMTIME_COMPONENT_TUPLE: {
      const wasmtime_component_valtuple_t *r = &w->of.tuple;
      if (t->kind != RSIM_TUPLE || r->size != t->n) return bad(eb, "a tuple", t);
      rsim_val_set_agg(out, RSIM_TUPLE, r->size);
      for (size_t i = 0; i < r->size; i++) {
        int rc = rsim__wasm_from(&r->data[i], t->types[i], &out->of.agg.items[i], eb);
        if (rc) return rsim_val_clear(out), rc;
      }
      break;
    }
    case WASMTIME_COMPONENT_VARIANT: {
      int idx = t->kind == RSIM_VARIANT ? case_index(t, &w->of.variant.discriminant) : -1;
      if (idx < 0) return bad(eb, "an unknown variant case", t);
      const rsim_type *pt = t->types[idx];
      rsim_val_set_case(out, RSIM_VARIANT, (uint32_t)idx, pt && w->of.variant.val);
      if (pt && w->of.variant.val) {
        int rc = rsim__wasm_from(w->of.variant.val, pt, out->of.var.payload, eb);
        if (rc) return rsim_val_clear(out), rc;
      }
      break;
    }
    case WASMTIME_COMPONENT_ENUM: {
      int idx = t->kind == RSIM_ENUM ? case_index(t, &w->of.enumeration) : -1;
      if (idx < 0) return bad(eb, "an unknown enum case", t);
      rsim_val_set_case(out, RSIM_ENUM, (uint32_t)idx, false);
      break;
    }
    case WASMTIME_COMPONENT_OPTION:
      if (t->kind != RSIM_OPTION) return bad(eb, "an option", t);
      rsim_val_set_case(out, RSIM_OPTION, w->of.option ? 1 : 0, w->of.option != NULL);
      if (w->of.option) {
        int rc = rsim__wasm_from(w->of.option, t->types[0], out->of.var.payload, eb);
        if (rc) return rsim_val_clear(out), rc;
      }
      break;
    case WASMTIME_COMPONENT_RESULT: {
      if (t->kind != RSIM_RESULT) return bad(eb, "a result", t);
      uint32_t idx = w->of.result.is_ok ? 0 : 1;
      const rsim_type *pt = t->types[idx];
      rsim_val_set_case(out, RSIM_RESULT, idx, pt && w->of.result.val);
      if (pt && w->of.result.val) {
        int rc = rsim__wasm_from(w->of.result.val, pt, out->of.var.payload, eb);
        if (rc) return rsim_val_clear(out), rc;
      }
      break;
    }
#ifdef WASMTIME_COMPONENT_PACKED_LIST
    case WASMTIME_COMPONENT_PACKED_LIST:
      if (t->kind != RSIM_LIST) return bad(eb, "a list", t);
      return from_packed(&w->of.packed, t->types[0], out, eb);
#endif
    case WASMTIME_COMPONENT_FLAGS:
      if (t->kind != RSIM_FLAGS || t->n > 64) return bad(eb, "flags (at most 64 supported)", t);
      out->kind = RSIM_FLAGS;
      out->of.u = 0;
      for (size_t i = 0; i < w->of.flags.size; i++) {
        int idx = case_index(t, &w->of.flags.data[i]);
        if (idx < 0) return bad(eb, "an unknown flag", t);
        out->of.u |= UINT64_C(1) << idx;
      }
      break;
    default:
      return bad(eb, "resources, maps and streams cannot cross a link", t);
  }
  return RSIM_OK;
}

/* ---- rsim -> Wasmtime -------------------------------------------------------------- */

/*
** put() writes v into a Wasmtime value that may still hold what the same
** slot carried on the previous call (or a zeroed BOOL).  Where the shape
** is the same -- a list of the same length, a record, the same case, a
** string of the same length -- it is overwritten in place, so a call with
** the same shapes as the last one allocates nothing on either side and
** Wasmtime frees nothing.  A slot only ever holds values of one type (an
** export's parameter), and a subtree is kept only when its case is the
** same, so a kept record's field names are the right ones.
**
** put() also checks v against t as it goes (the checks of rsim_val_check,
** without building a path for every member); on a mismatch it returns
** RSIM_ETYPE and the caller asks rsim_val_check for the detailed message.
** Whatever happens, *out stays a valid Wasmtime value.
*/

/* Makes *out a scalar slot again: frees whatever Wasmtime owns under it. */
static void release(wasmtime_component_val_t *out) {
  if (out->kind >= WASMTIME_COMPONENT_STRING) wasmtime_component_val_delete(out);
  memset(out, 0, sizeof *out);
}

static void name_new(wasm_name_t *out, const char *s, size_t n) {
  wasm_byte_vec_new_uninitialized(out, n);
  if (n) memcpy(out->data, s, n);
}

static bool name_is(const wasm_name_t *n, const char *s) {
  size_t len = strlen(s);
  return n->size == len && !memcmp(n->data, s, len);
}

/* A list slot of n elements: kept when it has n already, else new ones
** (zeroed: valid BOOLs until written). */
static wasmtime_component_val_t *list_of(wasmtime_component_val_t *out, size_t n) {
  if (out->kind != WASMTIME_COMPONENT_LIST || out->of.list.size != n) {
    release(out);
    out->kind = WASMTIME_COMPONENT_LIST;
    wasmtime_component_vallist_new_uninit(&out->of.list, n);
    if (n) memset(out->of.list.data, 0, n * sizeof *out->of.list.data);
  }
  return out->of.list.data;
}

static int put(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out);

/* Packed bytes as list<u64>, eight to an element, little-endian, the last
** zero-padded (value.h). */
static void put_packed_u64(const rsim_val *v, wasmtime_component_val_t *out) {
  size_t len = v->of.bytes.len, n = (len + 7) / 8;
  wasmtime_component_val_t *d = list_of(out, n);
  const uint8_t *p = v->of.bytes.ptr;
  for (size_t i = 0; i < n; i++) {
    uint64_t w = 0;
    size_t k = len - 8 * i < 8 ? len - 8 * i : 8;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&w, p + 8 * i, k);
#else
    for (size_t j = 0; j < k; j++) w |= (uint64_t)p[8 * i + j] << (8 * j);
#endif
    d[i].kind = WASMTIME_COMPONENT_U64;
    d[i].of.u64 = w;
  }
}

#ifdef WASMTIME_COMPONENT_PACKED_LIST
/* Bytes as one packed list<u8>, or list<u64> zero-padded to whole elements:
** one copy, into the slot's buffer when it has the size already. */
static void put_packed(const rsim_val *v, size_t elem, wasmtime_component_val_t *out) {
  size_t len = v->of.bytes.len, n = (len + elem - 1) / elem * elem;
  if (out->kind != WASMTIME_COMPONENT_PACKED_LIST || out->of.packed.size != n) {
    release(out);
    out->kind = WASMTIME_COMPONENT_PACKED_LIST;
    wasm_byte_vec_new_uninitialized(&out->of.packed, n);
  }
  if (len) memcpy(out->of.packed.data, v->of.bytes.ptr, len);
  if (n > len) memset(out->of.packed.data + len, 0, n - len);
}
#endif

static int put_list(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out) {
  rsim_kind ek = t->types[0]->kind;
#ifdef WASMTIME_COMPONENT_PACKED_LIST
  if (v->kind == RSIM_BYTES && (ek == RSIM_U8 || ek == RSIM_U64)) {
    put_packed(v, ek == RSIM_U8 ? 1 : 8, out);
    return RSIM_OK;
  }
#endif
  if (ek == RSIM_U8) {
    if (v->kind != RSIM_BYTES) return RSIM_ETYPE;
    wasmtime_component_val_t *d = list_of(out, v->of.bytes.len);
    for (size_t i = 0; i < v->of.bytes.len; i++) {
      d[i].kind = WASMTIME_COMPONENT_U8;
      d[i].of.u8 = v->of.bytes.ptr[i];
    }
    return RSIM_OK;
  }
  if (v->kind == RSIM_BYTES && ek == RSIM_U64) {
    put_packed_u64(v, out);
    return RSIM_OK;
  }
  if (v->kind != RSIM_LIST) return RSIM_ETYPE;
  wasmtime_component_val_t *d = list_of(out, v->of.agg.n);
  for (size_t i = 0; i < v->of.agg.n; i++) {
    int rc = put(&v->of.agg.items[i], t->types[0], &d[i]);
    if (rc) return rc;
  }
  return RSIM_OK;
}

/*
** The host keeps sensor readings in one shape, rsim:sim@0.2.0's, whose
** payload-len (a u32, field 4 of 6) rsim:sim@0.3.0's reading does not have:
** its payload is a list<u8> that knows its length.  Given for a 0.3.0
** reading, a 0.2.0 reading value crosses without that field.  Recognised by
** the type (the 0.3.0 record's names and payload) and the value (one u32
** more), so no other record is ever cut.
*/
static bool is_reading_030(const rsim_val *v, const rsim_type *t) {
  static const char *const names[] = {"sensor-id", "timestamp", "kind", "payload", "metadata"};
  if (t->n != 5 || v->of.agg.n != 6 || v->of.agg.items[4].kind != RSIM_U32) return false;
  for (size_t i = 0; i < 5; i++)
    if (strcmp(t->names[i], names[i])) return false;
  return is_bytes(t->types[3]) && v->of.agg.items[3].kind == RSIM_BYTES;
}

static int put_record(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out) {
  bool skip_len = v->of.agg.n != t->n && is_reading_030(v, t);
  if (v->of.agg.n != t->n && !skip_len) return RSIM_ETYPE;
  if (out->kind != WASMTIME_COMPONENT_RECORD || out->of.record.size != t->n) {
    release(out);
    out->kind = WASMTIME_COMPONENT_RECORD;
    wasmtime_component_valrecord_new_uninit(&out->of.record, t->n);
    memset(out->of.record.data, 0, t->n * sizeof *out->of.record.data);
    for (size_t i = 0; i < t->n; i++)
      name_new(&out->of.record.data[i].name, t->names[i], strlen(t->names[i]));
  }
  for (size_t i = 0; i < t->n; i++) {
    const rsim_val *f = &v->of.agg.items[skip_len && i >= 4 ? i + 1 : i];
    int rc = put(f, t->types[i], &out->of.record.data[i].val);
    if (rc) return rc;
  }
  return RSIM_OK;
}

static int put_tuple(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out) {
  if (v->of.agg.n != t->n) return RSIM_ETYPE;
  if (out->kind != WASMTIME_COMPONENT_TUPLE || out->of.tuple.size != t->n) {
    release(out);
    out->kind = WASMTIME_COMPONENT_TUPLE;
    wasmtime_component_valtuple_new_uninit(&out->of.tuple, t->n);
    memset(out->of.tuple.data, 0, t->n * sizeof *out->of.tuple.data);
  }
  for (size_t i = 0; i < t->n; i++) {
    int rc = put(&v->of.agg.items[i], t->types[i], &out->of.tuple.data[i]);
    if (rc) return rc;
  }
  return RSIM_OK;
}

/* The payload box of a case: kept when there is one, else a new one. */
static int put_payload(const rsim_val *p, const rsim_type *pt, wasmtime_component_val_t **box) {
  if (!*box) {
    wasmtime_component_val_t tmp = {0};
    *box = wasmtime_component_val_new(&tmp);
  }
  return put(p, pt, *box);
}

static int put_case(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out) {
  uint32_t i = v->of.var.index;
  const rsim_val *p = v->of.var.payload;
  size_t ncases = t->kind == RSIM_OPTION || t->kind == RSIM_RESULT ? 2 : t->n;
  if (i >= ncases) return RSIM_ETYPE;
  const rsim_type *pt = t->kind == RSIM_ENUM     ? NULL
                        : t->kind == RSIM_OPTION ? (i ? t->types[0] : NULL)
                                                 : t->types[i];
  if (!pt != !p) return RSIM_ETYPE;
  switch (t->kind) {
    case RSIM_ENUM:
      if (out->kind != WASMTIME_COMPONENT_ENUM || !name_is(&out->of.enumeration, t->names[i])) {
        release(out);
        out->kind = WASMTIME_COMPONENT_ENUM;
        name_new(&out->of.enumeration, t->names[i], strlen(t->names[i]));
      }
      return RSIM_OK;
    case RSIM_VARIANT:
      if (out->kind != WASMTIME_COMPONENT_VARIANT || !name_is(&out->of.variant.discriminant, t->names[i])) {
        release(out);
        out->kind = WASMTIME_COMPONENT_VARIANT;
        name_new(&out->of.variant.discriminant, t->names[i], strlen(t->names[i]));
      }
      return p ? put_payload(p, pt, &out->of.variant.val) : RSIM_OK;
    case RSIM_OPTION:
      if (out->kind != WASMTIME_COMPONENT_OPTION || !out->of.option != !i) {
        release(out);
        out->kind = WASMTIME_COMPONENT_OPTION;
      }
      return i ? put_payload(p, pt, &out->of.option) : RSIM_OK;
    default:
      if (out->kind != WASMTIME_COMPONENT_RESULT || out->of.result.is_ok != (i == 0) ||
          !out->of.result.val != !p) {
        release(out);
        out->kind = WASMTIME_COMPONENT_RESULT;
        out->of.result.is_ok = i == 0;
      }
      return p ? put_payload(p, pt, &out->of.result.val) : RSIM_OK;
  }
}

/* A string: bytes already in the slot need no copy and no second UTF-8
** check (they were checked when written); so do strings that came out of
** Wasmtime (str_valid). */
static int put_string(const rsim_val *v, wasmtime_component_val_t *out) {
  size_t n = v->of.str.len;
  bool same_len = out->kind == WASMTIME_COMPONENT_STRING && out->of.string.size == n;
  if (same_len && (!n || !memcmp(out->of.string.data, v->of.str.ptr, n))) return RSIM_OK;
  if (!v->str_valid && !rsim_utf8_valid(v->of.str.ptr, n)) return RSIM_ETYPE;
  if (same_len) {
    memcpy(out->of.string.data, v->of.str.ptr, n);
    return RSIM_OK;
  }
  release(out);
  out->kind = WASMTIME_COMPONENT_STRING;
  name_new(&out->of.string, v->of.str.ptr, n);
  return RSIM_OK;
}

static int put_flags(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out) {
  if (t->n < 64 && (v->of.u >> t->n)) return RSIM_ETYPE;
  size_t n = 0;
  for (size_t i = 0; i < t->n && i < 64; i++) n += v->of.u >> i & 1;
  release(out);
  out->kind = WASMTIME_COMPONENT_FLAGS;
  wasmtime_component_valflags_new_uninit(&out->of.flags, n);
  for (size_t i = 0, k = 0; i < t->n && i < 64; i++)
    if (v->of.u >> i & 1) name_new(&out->of.flags.data[k++], t->names[i], strlen(t->names[i]));
  return RSIM_OK;
}

/* A scalar: drops what the slot held if it was not one. */
#define SCALAR(WK, FIELD, EXPR)                               \
  do {                                                        \
    if (out->kind >= WASMTIME_COMPONENT_STRING) release(out); \
    out->kind = WK;                                           \
    out->of.FIELD = EXPR;                                     \
  } while (0)

static int put(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out) {
  if (t->kind == RSIM_LIST) return put_list(v, t, out);
  if (v->kind != t->kind) return RSIM_ETYPE;
  switch (t->kind) {
    case RSIM_BOOL: SCALAR(WASMTIME_COMPONENT_BOOL, boolean, v->of.b); break;
    case RSIM_S8: SCALAR(WASMTIME_COMPONENT_S8, s8, (int8_t)v->of.s); break;
    case RSIM_S16: SCALAR(WASMTIME_COMPONENT_S16, s16, (int16_t)v->of.s); break;
    case RSIM_S32: SCALAR(WASMTIME_COMPONENT_S32, s32, (int32_t)v->of.s); break;
    case RSIM_S64: SCALAR(WASMTIME_COMPONENT_S64, s64, v->of.s); break;
    case RSIM_U8: SCALAR(WASMTIME_COMPONENT_U8, u8, (uint8_t)v->of.u); break;
    case RSIM_U16: SCALAR(WASMTIME_COMPONENT_U16, u16, (uint16_t)v->of.u); break;
    case RSIM_U32: SCALAR(WASMTIME_COMPONENT_U32, u32, (uint32_t)v->of.u); break;
    case RSIM_U64: SCALAR(WASMTIME_COMPONENT_U64, u64, v->of.u); break;
    case RSIM_F32: SCALAR(WASMTIME_COMPONENT_F32, f32, v->of.f32); break;
    case RSIM_F64: SCALAR(WASMTIME_COMPONENT_F64, f64, v->of.f64); break;
    case RSIM_CHAR:
      if (v->of.ch > 0x10FFFF || (v->of.ch >= 0xD800 && v->of.ch <= 0xDFFF)) return RSIM_ETYPE;
      SCALAR(WASMTIME_COMPONENT_CHAR, character, v->of.ch);
      break;
    case RSIM_STRING: return put_string(v, out);
    case RSIM_RECORD: return put_record(v, t, out);
    case RSIM_TUPLE: return put_tuple(v, t, out);
    case RSIM_VARIANT: case RSIM_ENUM: case RSIM_OPTION: case RSIM_RESULT: return put_case(v, t, out);
    case RSIM_FLAGS: return put_flags(v, t, out);
    default: return RSIM_ETYPE; /* resources cannot be passed */
  }
  return RSIM_OK;
}

/* The detailed message for a value put() refused. */
static int refused(const rsim_val *v, const rsim_type *t, rsim_errbuf *eb) {
  int rc = rsim_val_check(v, t, eb);
  return rc ? rc : bad(eb, "resources cannot be passed", t);
}

int rsim__wasm_to(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out,
                  rsim_errbuf *eb) {
  memset(out, 0, sizeof *out);
  return rsim__wasm_update(v, t, out, eb);
}

int rsim__wasm_update(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *slot,
                      rsim_errbuf *eb) {
  if (put(v, t, slot) == RSIM_OK) return RSIM_OK;
  release(slot);
  return refused(v, t, eb);
}

/* The guest's frames, innermost first, as "#0 name+0xOFF, #1 ..." with
** the names of its name section (func[N] where it has none) and the module
** once at the end; whole frames only, within n bytes.  Empty when the
** error carries no wasm trace (a host failure before any guest code). */
static void backtrace(const wasmtime_error_t *err, char *out, size_t n) {
  wasm_frame_vec_t frames;
  wasmtime_error_wasm_trace(err, &frames);
  out[0] = 0;
  size_t len = 0, shown = 0;
  char module[128] = "";
  for (size_t i = 0; i < frames.size; i++) {
    const wasm_frame_t *f = frames.data[i];
    const wasm_name_t *fn = wasmtime_frame_func_name(f), *mn = wasmtime_frame_module_name(f);
    char one[200];
    if (fn && fn->size)
      snprintf(one, sizeof one, "%s#%zu %.*s+0x%zx", i ? ", " : "", i, (int)(fn->size < 120 ? fn->size : 120), fn->data,
               wasm_frame_func_offset(f));
    else
      snprintf(one, sizeof one, "%s#%zu func[%u]+0x%zx", i ? ", " : "", i, wasm_frame_func_index(f),
               wasm_frame_func_offset(f));
    if (!module[0] && mn && mn->size) snprintf(module, sizeof module, "%.*s", (int)(mn->size < 100 ? mn->size : 100), mn->data);
    if (len + strlen(one) + 40 >= n) break;
    len += (size_t)snprintf(out + len, n - len, "%s", one);
    shown++;
  }
  if (shown < frames.size && len + 24 < n)
    len += (size_t)snprintf(out + len, n - len, ", ... %zu more", frames.size - shown);
  if (shown && module[0] && len + strlen(module) + 6 < n) snprintf(out + len, n - len, " in %s", module);
  wasm_frame_vec_delete(&frames);
}

void rsim__wasm_take_error(wasmtime_error_t *err, char *buf, size_t n) {
  wasm_name_t msg;
  wasmtime_error_message(err, &msg);
  char *text = rsim_xstrndup(msg.size ? msg.data : "", msg.size);
  wasm_byte_vec_delete(&msg);
  char bt[512];
  backtrace(err, bt, n / 2 < sizeof bt ? n / 2 : sizeof bt);
  wasmtime_error_delete(err);
  /* Wasmtime says "error while executing at wasm backtrace:\n 0: frame\n...
  ** \nCaused by:\n    reason".  One line: the reason, then the guest's
  ** backtrace (or the first frame of the text when there is no trace). */
  const char *cause = strstr(text, "Caused by:");
  const char *frame = strstr(text, " 0: ");
  char first[200] = "";
  if (frame) {
    frame += 4;
    while (*frame == ' ') frame++;
    size_t len = strcspn(frame, "\n");
    snprintf(first, sizeof first, "%.*s", (int)(len < 190 ? len : 190), frame);
  }
  if (cause) {
    cause += strlen("Caused by:");
    while (*cause == ' ' || *cause == '\n') cause++;
    int clen = (int)strlen(cause);
    while (clen && (cause[clen - 1] == ' ' || cause[clen - 1] == '\n')) clen--;
    if (bt[0]) snprintf(buf, n, "%.*s; backtrace: %s", clen, cause, bt);
    else snprintf(buf, n, "%s%s%s%s", cause, first[0] ? " (at " : "", first, first[0] ? ")" : "");
  } else {
    snprintf(buf, n, "%s", text);
  }
  for (char *p = buf; *p; p++)
    if (*p == '\n' || *p == '\t') *p = ' ';
  free(text);
}
