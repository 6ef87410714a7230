/*
** fuzz_convert.c -- libFuzzer target for the boundary's value conversion
** (src/wasm/convert.c): rsim values <-> Wasmtime component values.
**
** The input is read as a WIT type shape (records, variants, lists of
** lists, flags, ... up to a depth of 4) and then as two values of it.  Each
** value goes into one argument slot, the second over the first (the slot is
** rewritten in place where the shape allows, as an export's arguments are
** between calls), and must come back out bit for bit -- directly, and
** again after Wasmtime copies the value (wasmtime_component_val_clone goes
** through the Rust values, packed lists included when built against
** patches/wasmtime).  A value the type checker refuses (invalid UTF-8, a
** surrogate char, unknown flag bits) must be refused by the conversion too,
** and leave the slot a valid value.  Built against whichever Wasmtime
** scripts/env.sh selects: stock (lists per element) or patched (packed).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/wasm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
  const uint8_t *p;
  size_t n;
} rd;

/* The next input byte, 0 once the input is used up (shapes stay small). */
static uint8_t byte(rd *r) {
  if (!r->n) return 0;
  r->n--;
  return *r->p++;
}

static uint64_t bytes_le(rd *r, int k) {
  uint64_t u = 0;
  for (int i = 0; i < k; i++) u |= (uint64_t)byte(r) << (8 * i);
  return u;
}

static const char *const kNames[] = {"a", "b", "c", "d", "e", "f", "g", "h"};

static rsim_type *gen_type(rd *r, int depth) {
  /* Below depth 4 only scalars, so every shape is finite. */
  uint8_t k = byte(r) % (depth >= 4 ? 13 : 22);
  static const rsim_kind scalars[] = {RSIM_BOOL, RSIM_S8,  RSIM_U8,  RSIM_S16, RSIM_U16,
                                      RSIM_S32,  RSIM_U32, RSIM_S64, RSIM_U64, RSIM_F32,
                                      RSIM_F64,  RSIM_CHAR, RSIM_STRING};
  if (k < 13) return rsim_type_new(scalars[k]);
  rsim_type *t;
  size_t n;
  switch (k) {
    case 13: return rsim_type_list(rsim_type_new(RSIM_U8));  /* bytes: the payloads */
    case 14: return rsim_type_list(rsim_type_new(RSIM_U64)); /* 0.2.0's packed payload */
    case 15: return rsim_type_list(gen_type(r, depth + 1));
    case 16:
    case 17:
      t = rsim_type_new(k == 16 ? RSIM_RECORD : RSIM_TUPLE);
      n = 1 + byte(r) % 4;
      for (size_t i = 0; i < n; i++) rsim_type_add(t, k == 16 ? kNames[i] : NULL, gen_type(r, depth + 1));
      return t;
    case 18:
      t = rsim_type_new(RSIM_VARIANT);
      n = 1 + byte(r) % 4;
      for (size_t i = 0; i < n; i++) rsim_type_add(t, kNames[i], byte(r) & 1 ? gen_type(r, depth + 1) : NULL);
      return t;
    case 19: {
      /* enum or flags: up to 64 flags, all an rsim value can hold */
      bool is_enum = byte(r) & 1;
      t = rsim_type_new(is_enum ? RSIM_ENUM : RSIM_FLAGS);
      n = is_enum ? 1 + byte(r) % 8 : byte(r) % 65;
      for (size_t i = 0; i < n; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%zu", i);
        rsim_type_add(t, name, NULL);
      }
      return t;
    }
    case 20: return rsim_type_option(gen_type(r, depth + 1));
    default: {
      t = rsim_type_new(RSIM_RESULT);
      rsim_type_add(t, NULL, NULL);
      rsim_type_add(t, NULL, NULL);
      uint8_t has = byte(r);
      if (has & 1) t->types[0] = gen_type(r, depth + 1);
      if (has & 2) t->types[1] = gen_type(r, depth + 1);
      return t;
    }
  }
}

/* A byte string: short ones from the input, longer ones (up to 8 KiB, all
** tails of eight) from a pattern.  Not longer: on stock Wasmtime a list<u8>
** is one value a byte, and frame sizes are the unit tests' (test_wasm.c). */
static void gen_bytes(rd *r, rsim_val *out) {
  uint8_t b = byte(r);
  size_t len = b & 0x80 ? (size_t)bytes_le(r, 2) % 8192 : b;
  uint8_t *p = malloc(len ? len : 1);
  uint8_t seed = byte(r);
  for (size_t i = 0; i < len; i++) p[i] = b & 0x80 ? (uint8_t)(seed + i * 131) : byte(r);
  rsim_val_set_bytes(out, p, len);
  free(p);
}

/* A value of type t.  Scalars stay in their range (the conversion narrows
** them, and so would a round trip); strings, chars and flags may be
** invalid, which the conversion must refuse. */
static void gen_val(rd *r, const rsim_type *t, rsim_val *out) {
  memset(out, 0, sizeof *out);
  out->kind = t->kind;
  switch (t->kind) {
    case RSIM_BOOL: out->of.b = byte(r) & 1; break;
    case RSIM_S8: out->of.s = (int8_t)byte(r); break;
    case RSIM_S16: out->of.s = (int16_t)bytes_le(r, 2); break;
    case RSIM_S32: out->of.s = (int32_t)bytes_le(r, 4); break;
    case RSIM_S64: out->of.s = (int64_t)bytes_le(r, 8); break;
    case RSIM_U8: out->of.u = byte(r); break;
    case RSIM_U16: out->of.u = (uint16_t)bytes_le(r, 2); break;
    case RSIM_U32: out->of.u = (uint32_t)bytes_le(r, 4); break;
    case RSIM_U64: out->of.u = bytes_le(r, 8); break;
    case RSIM_F32: {
      uint32_t bits = (uint32_t)bytes_le(r, 4);
      memcpy(&out->of.f32, &bits, 4);
      break;
    }
    case RSIM_F64: {
      uint64_t bits = bytes_le(r, 8);
      memcpy(&out->of.f64, &bits, 8);
      break;
    }
    case RSIM_CHAR: {
      uint8_t b = byte(r);
      /* mostly ASCII, sometimes any 21-bit number (surrogates, > U+10FFFF) */
      out->of.ch = b & 0x80 ? (uint32_t)bytes_le(r, 3) & 0x1FFFFF : b;
      break;
    }
    case RSIM_STRING: {
      size_t len = byte(r) % 24;
      char s[24];
      for (size_t i = 0; i < len; i++) s[i] = (char)byte(r);
      rsim_val_set_string(out, s, len);
      break;
    }
    case RSIM_LIST:
      if (t->types[0]->kind == RSIM_U8 || (t->types[0]->kind == RSIM_U64 && byte(r) & 1)) {
        gen_bytes(r, out); /* list<u64> as bytes too: how readings' payloads cross */
        break;
      }
      rsim_val_set_agg(out, RSIM_LIST, byte(r) % 6);
      for (size_t i = 0; i < out->of.agg.n; i++) gen_val(r, t->types[0], &out->of.agg.items[i]);
      break;
    case RSIM_RECORD:
    case RSIM_TUPLE:
      rsim_val_set_agg(out, t->kind, t->n);
      for (size_t i = 0; i < t->n; i++) gen_val(r, t->types[i], &out->of.agg.items[i]);
      break;
    case RSIM_VARIANT:
    case RSIM_ENUM:
    case RSIM_OPTION:
    case RSIM_RESULT: {
      size_t ncases = t->kind == RSIM_OPTION || t->kind == RSIM_RESULT ? 2 : t->n;
      uint32_t i = byte(r) % ncases;
      const rsim_type *pt = t->kind == RSIM_ENUM     ? NULL
                            : t->kind == RSIM_OPTION ? (i ? t->types[0] : NULL)
                                                     : t->types[i];
      rsim_val_set_case(out, t->kind, i, pt != NULL);
      if (pt) gen_val(r, pt, out->of.var.payload);
      break;
    }
    case RSIM_FLAGS: {
      /* mostly known flags only, sometimes unknown bits too */
      uint64_t known = t->n < 64 ? (UINT64_C(1) << t->n) - 1 : ~UINT64_C(0);
      out->of.u = bytes_le(r, 8) & (byte(r) == 0xFF ? ~UINT64_C(0) : known);
      break;
    }
    default: break;
  }
}

/* What a value of t comes back as: itself, except bytes given for list<u64>
** come back as their u64 elements (little-endian, the last zero-padded). */
static void expected(const rsim_val *v, const rsim_type *t, rsim_val *out) {
  if (v->kind == RSIM_BYTES && t->kind == RSIM_LIST && t->types[0]->kind == RSIM_U64) {
    size_t len = v->of.bytes.len, n = (len + 7) / 8;
    rsim_val_set_agg(out, RSIM_LIST, n);
    for (size_t i = 0; i < n; i++) {
      uint64_t u = 0;
      for (size_t j = 0; j < 8 && 8 * i + j < len; j++) u |= (uint64_t)v->of.bytes.ptr[8 * i + j] << (8 * j);
      out->of.agg.items[i].kind = RSIM_U64;
      out->of.agg.items[i].of.u = u;
    }
    return;
  }
  switch (v->kind) {
    case RSIM_LIST:
    case RSIM_RECORD:
    case RSIM_TUPLE:
      rsim_val_set_agg(out, v->kind, v->of.agg.n);
      for (size_t i = 0; i < v->of.agg.n; i++)
        expected(&v->of.agg.items[i], v->kind == RSIM_LIST ? t->types[0] : t->types[i], &out->of.agg.items[i]);
      return;
    case RSIM_VARIANT:
    case RSIM_OPTION:
    case RSIM_RESULT:
      rsim_val_set_case(out, v->kind, v->of.var.index, v->of.var.payload != NULL);
      if (v->of.var.payload) {
        const rsim_type *pt = v->kind == RSIM_OPTION ? t->types[0] : t->types[v->of.var.index];
        expected(v->of.var.payload, pt, out->of.var.payload);
      }
      return;
    default: rsim_val_copy(out, v); return;
  }
}

/* Converts w back and compares it with what v should come back as. */
static void must_come_back(const wasmtime_component_val_t *w, const rsim_val *v, const rsim_type *t) {
  rsim_val back, want;
  rsim_errbuf eb = {0};
  if (rsim__wasm_from(w, t, &back, &eb) != RSIM_OK) abort();
  memset(&want, 0, sizeof want);
  expected(v, t, &want);
  if (!rsim_val_equal(&back, &want)) abort();
  rsim_val_clear(&back);
  rsim_val_clear(&want);
}

/* One value into the slot: refused exactly when the checker refuses it,
** else back out the same, directly and through a Wasmtime copy. */
static void one(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *slot) {
  rsim_errbuf ck = {0}, eb = {0};
  bool ok = rsim_val_check(v, t, &ck) == RSIM_OK;
  int rc = rsim__wasm_update(v, t, slot, &eb);
  if (ok != (rc == RSIM_OK)) abort();
  if (!ok) {
    if (rc != RSIM_ETYPE || !eb.msg[0]) abort(); /* a refusal says why */
    return;
  }
  must_come_back(slot, v, t);
  wasmtime_component_val_t copy;
  wasmtime_component_val_clone(slot, &copy);
  must_come_back(&copy, v, t);
  wasmtime_component_val_delete(&copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rd r = {data, size};
  rsim_type *t = gen_type(&r, 0);
  rsim_val a, b;
  gen_val(&r, t, &a);
  gen_val(&r, t, &b);
  wasmtime_component_val_t slot;
  memset(&slot, 0, sizeof slot);
  one(&a, t, &slot);
  one(&b, t, &slot); /* over the first: rewritten in place where it fits */
  one(&a, t, &slot);
  wasmtime_component_val_delete(&slot);
  rsim_val_clear(&a);
  rsim_val_clear(&b);
  rsim_type_free(t);
  return 0;
}
