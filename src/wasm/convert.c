/*
** convert.c -- values across the boundary: Wasmtime's dynamic component
** values <-> rsim_val, guided by the rsim_type of the slot.
**
** Wasmtime's C API has no packed byte list: a list<u8> is one 32-byte value
** per byte in each direction.  rsim_val keeps bytes packed, so this file is
** the only place that pays that cost, and readings cross as list<u64> (eight
** bytes a value) to pay an eighth of it.  Everything going to Wasmtime is built
** with Wasmtime's allocators (it frees host-callback results itself), and
** every string is checked for valid UTF-8 first, because Wasmtime aborts the
** process on invalid UTF-8.
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

static void name_new(wasm_name_t *out, const char *s, size_t n) {
  wasm_byte_vec_new_uninitialized(out, n);
  if (n) memcpy(out->data, s, n);
}

static int conv(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out, rsim_errbuf *eb);

/* Moves a converted payload onto Wasmtime's heap. */
static int boxed(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t **out, rsim_errbuf *eb) {
  wasmtime_component_val_t tmp = {0};
  int rc = conv(v, t, &tmp, eb);
  if (rc) return rc;
  *out = wasmtime_component_val_new(&tmp);
  return RSIM_OK;
}

static int to_list(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out, rsim_errbuf *eb) {
  out->kind = WASMTIME_COMPONENT_LIST;
  if (v->kind == RSIM_BYTES && t->types[0]->kind == RSIM_U64) {
    /* Packed bytes (value.h): eight to an element, so an eighth of the
       per-element cost that dominates large payloads. */
    size_t n = (v->of.bytes.len + 7) / 8;
    wasmtime_component_vallist_new_uninit(&out->of.list, n);
    wasmtime_component_val_t *d = out->of.list.data;
    const uint8_t *p = v->of.bytes.ptr;
    for (size_t i = 0; i < n; i++) {
      size_t k = v->of.bytes.len - 8 * i < 8 ? v->of.bytes.len - 8 * i : 8;
      uint64_t w = 0;
      for (size_t j = 0; j < k; j++) w |= (uint64_t)p[8 * i + j] << (8 * j);
      d[i].kind = WASMTIME_COMPONENT_U64;
      d[i].of.u64 = w;
    }
    return RSIM_OK;
  }
  if (v->kind == RSIM_BYTES) {
    wasmtime_component_vallist_new_uninit(&out->of.list, v->of.bytes.len);
    wasmtime_component_val_t *d = out->of.list.data;
    for (size_t i = 0; i < v->of.bytes.len; i++) {
      d[i].kind = WASMTIME_COMPONENT_U8;
      d[i].of.u8 = v->of.bytes.ptr[i];
    }
    return RSIM_OK;
  }
  wasmtime_component_vallist_new_uninit(&out->of.list, v->of.agg.n);
  memset(out->of.list.data, 0, v->of.agg.n * sizeof *out->of.list.data);
  for (size_t i = 0; i < v->of.agg.n; i++) {
    int rc = conv(&v->of.agg.items[i], t->types[0], &out->of.list.data[i], eb);
    if (rc) return rc;
  }
  return RSIM_OK;
}

static int to_record(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out, rsim_errbuf *eb) {
  out->kind = WASMTIME_COMPONENT_RECORD;
  wasmtime_component_valrecord_new_uninit(&out->of.record, t->n);
  memset(out->of.record.data, 0, t->n * sizeof *out->of.record.data);
  for (size_t i = 0; i < t->n; i++) {
    wasmtime_component_valrecord_entry_t *e = &out->of.record.data[i];
    name_new(&e->name, t->names[i], strlen(t->names[i]));
    int rc = conv(&v->of.agg.items[i], t->types[i], &e->val, eb);
    if (rc) return rc;
  }
  return RSIM_OK;
}

static int to_case(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out, rsim_errbuf *eb) {
  const rsim_val *p = v->of.var.payload;
  uint32_t i = v->of.var.index;
  switch (t->kind) {
    case RSIM_ENUM:
      out->kind = WASMTIME_COMPONENT_ENUM;
      name_new(&out->of.enumeration, t->names[i], strlen(t->names[i]));
      return RSIM_OK;
    case RSIM_VARIANT:
      out->kind = WASMTIME_COMPONENT_VARIANT;
      name_new(&out->of.variant.discriminant, t->names[i], strlen(t->names[i]));
      out->of.variant.val = NULL;
      return p ? boxed(p, t->types[i], &out->of.variant.val, eb) : RSIM_OK;
    case RSIM_OPTION:
      out->kind = WASMTIME_COMPONENT_OPTION;
      out->of.option = NULL;
      return i ? boxed(p, t->types[0], &out->of.option, eb) : RSIM_OK;
    default:
      out->kind = WASMTIME_COMPONENT_RESULT;
      out->of.result.is_ok = i == 0;
      out->of.result.val = NULL;
      return p ? boxed(p, t->types[i], &out->of.result.val, eb) : RSIM_OK;
  }
}

static int conv(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out, rsim_errbuf *eb) {
  memset(out, 0, sizeof *out);
  int rc = RSIM_OK;
  switch (t->kind) {
    case RSIM_BOOL: out->kind = WASMTIME_COMPONENT_BOOL; out->of.boolean = v->of.b; break;
    case RSIM_S8: out->kind = WASMTIME_COMPONENT_S8; out->of.s8 = (int8_t)v->of.s; break;
    case RSIM_S16: out->kind = WASMTIME_COMPONENT_S16; out->of.s16 = (int16_t)v->of.s; break;
    case RSIM_S32: out->kind = WASMTIME_COMPONENT_S32; out->of.s32 = (int32_t)v->of.s; break;
    case RSIM_S64: out->kind = WASMTIME_COMPONENT_S64; out->of.s64 = v->of.s; break;
    case RSIM_U8: out->kind = WASMTIME_COMPONENT_U8; out->of.u8 = (uint8_t)v->of.u; break;
    case RSIM_U16: out->kind = WASMTIME_COMPONENT_U16; out->of.u16 = (uint16_t)v->of.u; break;
    case RSIM_U32: out->kind = WASMTIME_COMPONENT_U32; out->of.u32 = (uint32_t)v->of.u; break;
    case RSIM_U64: out->kind = WASMTIME_COMPONENT_U64; out->of.u64 = v->of.u; break;
    case RSIM_F32: out->kind = WASMTIME_COMPONENT_F32; out->of.f32 = v->of.f32; break;
    case RSIM_F64: out->kind = WASMTIME_COMPONENT_F64; out->of.f64 = v->of.f64; break;
    case RSIM_CHAR: out->kind = WASMTIME_COMPONENT_CHAR; out->of.character = v->of.ch; break;
    case RSIM_STRING:
      out->kind = WASMTIME_COMPONENT_STRING;
      name_new(&out->of.string, v->of.str.ptr, v->of.str.len);
      break;
    case RSIM_LIST: rc = to_list(v, t, out, eb); break;
    case RSIM_RECORD: rc = to_record(v, t, out, eb); break;
    case RSIM_TUPLE:
      out->kind = WASMTIME_COMPONENT_TUPLE;
      wasmtime_component_valtuple_new_uninit(&out->of.tuple, t->n);
      memset(out->of.tuple.data, 0, t->n * sizeof *out->of.tuple.data);
      for (size_t i = 0; i < t->n && !rc; i++)
        rc = conv(&v->of.agg.items[i], t->types[i], &out->of.tuple.data[i], eb);
      break;
    case RSIM_VARIANT: case RSIM_ENUM: case RSIM_OPTION: case RSIM_RESULT:
      rc = to_case(v, t, out, eb);
      break;
    case RSIM_FLAGS: {
      size_t n = 0;
      for (size_t i = 0; i < t->n; i++) n += v->of.u >> i & 1;
      out->kind = WASMTIME_COMPONENT_FLAGS;
      wasmtime_component_valflags_new_uninit(&out->of.flags, n);
      for (size_t i = 0, k = 0; i < t->n; i++)
        if (v->of.u >> i & 1) name_new(&out->of.flags.data[k++], t->names[i], strlen(t->names[i]));
      break;
    }
    default: rc = bad(eb, "resources cannot be passed", t);
  }
  if (rc) {
    wasmtime_component_val_delete(out);
    memset(out, 0, sizeof *out);
  }
  return rc;
}

int rsim__wasm_to(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out,
                  rsim_errbuf *eb) {
  memset(out, 0, sizeof *out);
  /* Checking the whole tree first keeps the conversion simple and every
  ** string handed to Wasmtime valid UTF-8. */
  int rc = rsim_val_check(v, t, eb);
  return rc ? rc : conv(v, t, out, eb);
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
