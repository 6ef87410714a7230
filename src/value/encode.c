/*
** encode.c -- the canonical byte encoding of values (see value.h), used for
** run digests, the output database and checkpoints, and its decoder.
**
** The decoder is a bounds-checked cursor: every length is checked against
** the bytes that remain before anything is allocated, nesting is limited,
** and any inconsistency is RSIM_ECORRUPT.
*/
#include <string.h>

#include "rsim/util.h"
#include "rsim/value.h"

#define MAX_DEPTH 64

void rsim_val_encode(const rsim_val *v, rsim_buf *out) {
  uint8_t k = (uint8_t)v->kind;
  rsim_buf_append(out, &k, 1);
  switch (v->kind) {
    case RSIM_BOOL: rsim_buf_putc(out, v->of.b ? 1 : 0); break;
    case RSIM_S8: case RSIM_S16: case RSIM_S32: case RSIM_S64:
      rsim_buf_put_u64le(out, (uint64_t)v->of.s);
      break;
    case RSIM_U8: case RSIM_U16: case RSIM_U32: case RSIM_U64: case RSIM_FLAGS:
      rsim_buf_put_u64le(out, v->of.u);
      break;
    case RSIM_F32: {
      uint32_t bits;
      memcpy(&bits, &v->of.f32, 4);
      rsim_buf_put_u32le(out, bits);
      break;
    }
    case RSIM_F64: {
      uint64_t bits;
      memcpy(&bits, &v->of.f64, 8);
      rsim_buf_put_u64le(out, bits);
      break;
    }
    case RSIM_CHAR: rsim_buf_put_u32le(out, v->of.ch); break;
    case RSIM_STRING:
      rsim_buf_put_u64le(out, v->of.str.len);
      rsim_buf_append(out, v->of.str.ptr, v->of.str.len);
      break;
    case RSIM_BYTES:
      rsim_buf_put_u64le(out, v->of.bytes.len);
      rsim_buf_append(out, v->of.bytes.ptr, v->of.bytes.len);
      break;
    case RSIM_LIST: case RSIM_RECORD: case RSIM_TUPLE:
      rsim_buf_put_u64le(out, v->of.agg.n);
      for (size_t i = 0; i < v->of.agg.n; i++) rsim_val_encode(&v->of.agg.items[i], out);
      break;
    case RSIM_VARIANT: case RSIM_ENUM: case RSIM_OPTION: case RSIM_RESULT:
      rsim_buf_put_u32le(out, v->of.var.index);
      rsim_buf_putc(out, v->of.var.payload ? 1 : 0);
      if (v->of.var.payload) rsim_val_encode(v->of.var.payload, out);
      break;
    default: break;
  }
}

static int decode_at(rsim_rd *r, rsim_val *out, int depth) {
  memset(out, 0, sizeof *out);
  const uint8_t *kb = depth > MAX_DEPTH ? NULL : rsim_rd_bytes(r, 1);
  if (!kb) return RSIM_ECORRUPT;
  rsim_kind kind = (rsim_kind)kb[0];
  uint64_t n = 0;
  uint32_t w;
  const uint8_t *b;
  switch (kind) {
    case RSIM_BOOL:
      b = rsim_rd_bytes(r, 1);
      if (!b || b[0] > 1) return RSIM_ECORRUPT;
      out->of.b = b[0];
      break;
    case RSIM_S8: case RSIM_S16: case RSIM_S32: case RSIM_S64:
      n = rsim_rd_u64le(r);
      if (!r->ok) return RSIM_ECORRUPT;
      out->of.s = (int64_t)n;
      break;
    case RSIM_U8: case RSIM_U16: case RSIM_U32: case RSIM_U64: case RSIM_FLAGS:
      out->of.u = rsim_rd_u64le(r);
      if (!r->ok) return RSIM_ECORRUPT;
      break;
    case RSIM_F32:
      w = rsim_rd_u32le(r);
      if (!r->ok) return RSIM_ECORRUPT;
      memcpy(&out->of.f32, &w, 4);
      break;
    case RSIM_F64:
      n = rsim_rd_u64le(r);
      if (!r->ok) return RSIM_ECORRUPT;
      memcpy(&out->of.f64, &n, 8);
      break;
    case RSIM_CHAR:
      out->of.ch = rsim_rd_u32le(r);
      if (!r->ok) return RSIM_ECORRUPT;
      break;
    case RSIM_STRING:
    case RSIM_BYTES:
      n = rsim_rd_u64le(r);
      if (!r->ok || !(b = rsim_rd_bytes(r, n))) return RSIM_ECORRUPT;
      if (kind == RSIM_STRING) rsim_val_set_string(out, (const char *)b, (size_t)n);
      else rsim_val_set_bytes(out, b, (size_t)n);
      return RSIM_OK;
    case RSIM_LIST: case RSIM_RECORD: case RSIM_TUPLE:
      /* Each item takes at least two bytes, which bounds a lying count. */
      n = rsim_rd_u64le(r);
      if (!r->ok || n > (uint64_t)(r->end - r->p) / 2) return RSIM_ECORRUPT;
      rsim_val_set_agg(out, kind, (size_t)n);
      for (size_t i = 0; i < n; i++) {
        int rc = decode_at(r, &out->of.agg.items[i], depth + 1);
        if (rc) {
          rsim_val_clear(out);
          return rc;
        }
      }
      return RSIM_OK;
    case RSIM_VARIANT: case RSIM_ENUM: case RSIM_OPTION: case RSIM_RESULT:
      w = rsim_rd_u32le(r);
      b = rsim_rd_bytes(r, 1);
      if (!b || b[0] > 1) return RSIM_ECORRUPT;
      /* option: none has no payload, some has one; result: ok or err. */
      if ((kind == RSIM_OPTION || kind == RSIM_RESULT) && w > 1) return RSIM_ECORRUPT;
      if (kind == RSIM_OPTION && b[0] != w) return RSIM_ECORRUPT;
      if (kind == RSIM_ENUM && b[0]) return RSIM_ECORRUPT;
      rsim_val_set_case(out, kind, w, b[0]);
      if (b[0]) {
        int rc = decode_at(r, out->of.var.payload, depth + 1);
        if (rc) {
          rsim_val_clear(out);
          return rc;
        }
      }
      return RSIM_OK;
    default: return RSIM_ECORRUPT;
  }
  out->kind = kind;
  return RSIM_OK;
}

int rsim_val_decode(const uint8_t *p, size_t n, rsim_val *out, size_t *out_used) {
  rsim_rd r = rsim_rd_new(p, n);
  int rc = decode_at(&r, out, 0);
  if (rc) return rc;
  if (out_used) *out_used = (size_t)(r.p - p);
  return RSIM_OK;
}
