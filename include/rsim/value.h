/*
** value.h -- component-model types and values as plain host data.
**
** The engine, the bus, the output recorder and the digest work on these
** structures, never on Wasmtime's; src/wasm converts at the boundary.  That
** keeps Wasmtime headers in one module and lets a native build of a
** component run through the same engine.
**
** Types (rsim_type) are trees that mirror WIT structure.  WIT type *names*
** are not part of a type: two records with the same field names and field
** types are the same type, as in Wasmtime's structural equality.
**
** Values (rsim_val) carry no names: record fields are stored in declaration
** order, enum/variant cases by index.  The type gives the names.  A value of
** type list<u8> is always stored packed (RSIM_BYTES), never as one rsim_val
** per byte, because camera and lidar payloads are megabytes.  A value of
** type list<u64> may be stored the same way: its bytes, read eight at a
** time little-endian, the last element zero-padded.  That is how readings
** carry payloads (components/wit/sim.wit says why).
**
** Ownership: a tree owns all of its children.  rsim_type_free and
** rsim_val_clear free a whole tree.
*/
#ifndef RSIM_VALUE_H
#define RSIM_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsim/util.h"

typedef enum rsim_kind {
  RSIM_BOOL = 0,
  RSIM_S8,
  RSIM_U8,
  RSIM_S16,
  RSIM_U16,
  RSIM_S32,
  RSIM_U32,
  RSIM_S64,
  RSIM_U64,
  RSIM_F32,
  RSIM_F64,
  RSIM_CHAR,
  RSIM_STRING,
  RSIM_LIST,
  RSIM_RECORD,
  RSIM_TUPLE,
  RSIM_VARIANT,
  RSIM_ENUM,
  RSIM_OPTION,
  RSIM_RESULT,
  RSIM_FLAGS,
  RSIM_BYTES, /* values only: a list<u8> (or packed list<u64>) stored as bytes */
  RSIM_RESOURCE /* types only: handles are not supported across links */
} rsim_kind;

/* ---- types ---------------------------------------------------------------- */
typedef struct rsim_type rsim_type;
struct rsim_type {
  rsim_kind kind;
  /* RECORD: field names; VARIANT/ENUM/FLAGS: case names. */
  size_t n;
  char **names;
  /* RECORD: field types; VARIANT: case payload types (NULL for none);
  ** TUPLE: element types (n of them); LIST/OPTION: types[0] is the element;
  ** RESULT: types[0] ok, types[1] err (either may be NULL). */
  rsim_type **types;
};

/* Constructors.  The new type owns the children passed to it. */
rsim_type *rsim_type_new(rsim_kind kind);
rsim_type *rsim_type_list(rsim_type *elem);
rsim_type *rsim_type_option(rsim_type *elem);
/* Appends a named member (field, case) with an optional type. */
void rsim_type_add(rsim_type *t, const char *name, rsim_type *member);
void rsim_type_free(rsim_type *t);
rsim_type *rsim_type_clone(const rsim_type *t);
/* Structural equality: same kinds, same member names in the same order,
** equal member types.  NULL equals only NULL. */
bool rsim_type_equal(const rsim_type *a, const rsim_type *b);
/* Appends the type in WIT syntax, records spelled out:
** "list<record { id: string, confidence: f32 }>". */
void rsim_type_format(const rsim_type *t, rsim_buf *out);
/* Same, into a NUL-terminated string that the caller frees with free(). */
char *rsim_type_str(const rsim_type *t);
/* Index of a record field or case by name, or -1. */
int rsim_type_member(const rsim_type *t, const char *name);

/* ---- values ---------------------------------------------------------------- */
typedef struct rsim_val rsim_val;
struct rsim_val {
  rsim_kind kind;
  /* STRING only: the bytes are known to be valid UTF-8 (they came out of
  ** Wasmtime, which guarantees it), so the boundary need not check them
  ** again.  Cleared by every setter; copied by rsim_val_copy. */
  bool str_valid;
  union {
    bool b;
    int64_t s;   /* S8..S64 */
    uint64_t u;  /* U8..U64, FLAGS (bit i = flag i; at most 64 flags) */
    float f32;
    double f64;
    uint32_t ch; /* CHAR: a Unicode scalar value */
    struct {
      char *ptr; /* UTF-8, NUL-terminated for convenience; len excludes NUL */
      size_t len;
    } str;
    struct {
      uint8_t *ptr;
      size_t len;
    } bytes;
    struct {
      rsim_val *items; /* LIST elements, RECORD fields in order, TUPLE members */
      size_t n;
    } agg;
    struct {
      uint32_t index;    /* VARIANT/ENUM case; OPTION 0 = none, 1 = some;
                            RESULT 0 = ok, 1 = err */
      rsim_val *payload; /* NULL when the case carries nothing */
    } var;
  } of;
};

/* Frees what v owns and leaves it as a BOOL false. */
void rsim_val_clear(rsim_val *v);
/* Deep copy of src into dst (dst is overwritten, not freed first). */
void rsim_val_copy(rsim_val *dst, const rsim_val *src);
/* Setters: dst is overwritten.  Strings and bytes are copied. */
void rsim_val_set_string(rsim_val *dst, const char *s, size_t n);
void rsim_val_set_bytes(rsim_val *dst, const uint8_t *p, size_t n);
/* Makes dst an aggregate (LIST/RECORD/TUPLE) of n zeroed items. */
void rsim_val_set_agg(rsim_val *dst, rsim_kind kind, size_t n);
/* Makes dst a case (VARIANT/ENUM/OPTION/RESULT); payload is zeroed and
** allocated when has_payload. */
void rsim_val_set_case(rsim_val *dst, rsim_kind kind, uint32_t index, bool has_payload);
/* Record field `name` of v, whose type is t (NULL when v or t is not such a
** record, or has no such field); and the field's type. */
const rsim_val *rsim_val_field(const rsim_val *v, const rsim_type *t, const char *name);
const rsim_type *rsim_type_field(const rsim_type *t, const char *name);
/* Any integer or float as a double; 0 for NULL and non-numbers. */
double rsim_val_number(const rsim_val *v);
/* Bit-exact equality (floats compared by bit pattern). */
bool rsim_val_equal(const rsim_val *a, const rsim_val *b);

/* Checks that v has type t; on mismatch writes the path of the first
** difference ("field bbox.x: expected f32, got s32") to eb. */
int rsim_val_check(const rsim_val *v, const rsim_type *t, rsim_errbuf *eb);

/*
** Canonical encoding: a byte string that depends only on the value, used for
** digests, the output database and checkpoints.  Layout: one kind byte, then
** little-endian fixed-width scalars (floats by bit pattern), u64 lengths
** before strings, bytes and aggregates, u32 case indexes, a presence byte for
** payloads.  rsim_val_decode is its exact inverse and rejects malformed input
** with RSIM_ECORRUPT.
*/
void rsim_val_encode(const rsim_val *v, rsim_buf *out);
int rsim_val_decode(const uint8_t *p, size_t n, rsim_val *out, size_t *out_used);

/* JSON rendering with names from t (t may be NULL: then fields are arrays).
** BYTES longer than max_bytes are summarised as {"bytes": N, "sha256": ...}. */
void rsim_val_to_json(const rsim_val *v, const rsim_type *t, size_t max_bytes, rsim_buf *out);

#endif /* RSIM_VALUE_H */
