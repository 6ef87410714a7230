/*
** pb.c -- the protobuf wire format, read and written, and the
** self-describing schemas Foxglove puts in MCAP (a FileDescriptorSet in the
** schema record).
**
** Field numbers are looked up by name in the file's own descriptor rather
** than hard-coded, so a recording made with another revision of a schema
** still reads as long as the field names hold.  Reading never allocates for
** message data: values point into the caller's buffer.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/codec.h"

/* ---- wire format ----------------------------------------------------------------- */

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end) return false;
    uint8_t b = *(*p)++;
    r |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      return true;
    }
  }
  return false;
}

/* Reads one field at *p: its number and value.  false when malformed. */
static bool next_field(const uint8_t **p, const uint8_t *end, uint32_t *num, rsim__pbval *v) {
  uint64_t key;
  if (!varint(p, end, &key) || key >> 3 == 0 || key >> 3 > 0x1fffffff) return false;
  *num = (uint32_t)(key >> 3);
  v->wire = (int)(key & 7);
  v->p = NULL;
  v->n = 0;
  switch (v->wire) {
    case 0: return varint(p, end, &v->u);
    case 1:
    case 5: {
      size_t k = v->wire == 1 ? 8 : 4;
      if ((size_t)(end - *p) < k) return false;
      v->u = 0;
      for (size_t i = k; i-- > 0;) v->u = v->u << 8 | (*p)[i];
      *p += k;
      return true;
    }
    case 2: {
      uint64_t n;
      if (!varint(p, end, &n) || n > (uint64_t)(end - *p)) return false;
      v->p = *p;
      v->n = (size_t)n;
      *p += n;
      return true;
    }
    default: return false; /* groups (3, 4) are not used by any schema we read */
  }
}

int rsim__pb_get(const uint8_t *msg, size_t n, uint32_t num, size_t index, rsim__pbval *out) {
  const uint8_t *p = msg, *end = msg + n;
  size_t seen = 0;
  while (p < end) {
    uint32_t k;
    rsim__pbval v;
    if (!next_field(&p, end, &k, &v)) return -1;
    if (k == num && seen++ == index) {
      *out = v;
      return 1;
    }
  }
  return 0;
}

bool rsim__pb_valid(const uint8_t *msg, size_t n) {
  const uint8_t *p = msg, *end = msg + n;
  while (p < end) {
    uint32_t k;
    rsim__pbval v;
    if (!next_field(&p, end, &k, &v)) return false;
  }
  return true;
}

double rsim__pb_double(const rsim__pbval *v) {
  double d = 0;
  if (v->wire == 1) memcpy(&d, &v->u, 8);
  return d;
}

/* ---- writing ----------------------------------------------------------------------- */

static void put_varint(rsim_buf *b, uint64_t v) {
  do {
    uint8_t c = (uint8_t)(v & 0x7f);
    v >>= 7;
    rsim_buf_putc(b, (char)(v ? c | 0x80 : c));
  } while (v);
}

void rsim__pb_varint(rsim_buf *b, uint32_t num, uint64_t v) {
  put_varint(b, (uint64_t)num << 3);
  put_varint(b, v);
}

void rsim__pb_fixed32(rsim_buf *b, uint32_t num, uint32_t v) {
  put_varint(b, (uint64_t)num << 3 | 5);
  rsim_buf_put_u32le(b, v);
}

void rsim__pb_double_put(rsim_buf *b, uint32_t num, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  put_varint(b, (uint64_t)num << 3 | 1);
  rsim_buf_put_u64le(b, u);
}

void rsim__pb_bytes(rsim_buf *b, uint32_t num, const void *p, size_t n) {
  put_varint(b, (uint64_t)num << 3 | 2);
  put_varint(b, n);
  rsim_buf_append(b, p, n);
}

void rsim__pb_str(rsim_buf *b, uint32_t num, const char *s) { rsim__pb_bytes(b, num, s, strlen(s)); }

void rsim__pb_stamp(rsim_buf *b, uint32_t num, rsim_time t) {
  rsim_buf s = {0};
  uint64_t ts = t < 0 ? 0 : (uint64_t)t;
  if (ts / 1000000000u) rsim__pb_varint(&s, 1, ts / 1000000000u);
  if (ts % 1000000000u) rsim__pb_varint(&s, 2, ts % 1000000000u);
  rsim__pb_bytes(b, num, s.data, s.len);
  rsim_buf_free(&s);
}

/* ---- FileDescriptorSet ----------------------------------------------------------------
** Only what lookups need: for every message (nested ones too) its full
** name and, for every field, name, number, type and type name. */

typedef struct pbfield {
  char *name, *type_name;
  uint32_t num;
  int type;
} pbfield;

typedef struct pbmsg {
  char *name; /* "foxglove.RawImage" */
  pbfield *fields;
  size_t n_fields;
} pbmsg;

struct rsim__pbdesc {
  pbmsg *msgs;
  size_t n_msgs;
};

static char *dup_str(const rsim__pbval *v) {
  if (v->wire != 2 || !rsim_utf8_valid((const char *)v->p, v->n) || memchr(v->p, 0, v->n)) return NULL;
  return rsim_xstrndup((const char *)v->p, v->n);
}

static int add_message(rsim__pbdesc *d, const char *scope, const uint8_t *m, size_t n, int depth);

static int add_field(pbmsg *msg, const uint8_t *f, size_t n) {
  rsim__pbval v;
  pbfield fd = {0};
  if (rsim__pb_get(f, n, 1, 0, &v) != 1 || !(fd.name = dup_str(&v))) return RSIM_ECORRUPT;
  if (rsim__pb_get(f, n, 3, 0, &v) == 1 && v.wire == 0) fd.num = (uint32_t)v.u;
  if (rsim__pb_get(f, n, 5, 0, &v) == 1 && v.wire == 0) fd.type = (int)v.u;
  if (rsim__pb_get(f, n, 6, 0, &v) == 1) {
    fd.type_name = dup_str(&v);
    if (!fd.type_name) {
      free(fd.name);
      return RSIM_ECORRUPT;
    }
  }
  msg->fields = rsim_xrealloc(msg->fields, (msg->n_fields + 1) * sizeof *msg->fields);
  msg->fields[msg->n_fields++] = fd;
  return RSIM_OK;
}

static int add_message(rsim__pbdesc *d, const char *scope, const uint8_t *m, size_t n, int depth) {
  rsim__pbval v;
  if (depth > 16 || rsim__pb_get(m, n, 1, 0, &v) != 1) return RSIM_ECORRUPT;
  char *local = dup_str(&v);
  if (!local) return RSIM_ECORRUPT;
  size_t len = strlen(scope) + strlen(local) + 2;
  char *full = rsim_xmalloc(len);
  snprintf(full, len, "%s%s%s", scope, *scope ? "." : "", local);
  free(local);
  d->msgs = rsim_xrealloc(d->msgs, (d->n_msgs + 1) * sizeof *d->msgs);
  size_t at = d->n_msgs++;
  d->msgs[at] = (pbmsg){full, NULL, 0};
  int rc = RSIM_OK, got;
  for (size_t i = 0; !rc && (got = rsim__pb_get(m, n, 2, i, &v)) == 1; i++)
    rc = v.wire == 2 ? add_field(&d->msgs[at], v.p, v.n) : RSIM_ECORRUPT;
  if (!rc && got < 0) rc = RSIM_ECORRUPT;
  for (size_t i = 0; !rc && (got = rsim__pb_get(m, n, 3, i, &v)) == 1; i++)
    rc = v.wire == 2 ? add_message(d, d->msgs[at].name, v.p, v.n, depth + 1) : RSIM_ECORRUPT;
  return rc;
}

static int add_file(rsim__pbdesc *d, const uint8_t *f, size_t n) {
  rsim__pbval v;
  char *pkg = NULL;
  if (rsim__pb_get(f, n, 2, 0, &v) == 1 && !(pkg = dup_str(&v))) return RSIM_ECORRUPT;
  int rc = RSIM_OK, got;
  for (size_t i = 0; !rc && (got = rsim__pb_get(f, n, 4, i, &v)) == 1; i++)
    rc = v.wire == 2 ? add_message(d, pkg ? pkg : "", v.p, v.n, 0) : RSIM_ECORRUPT;
  if (!rc && got < 0) rc = RSIM_ECORRUPT;
  free(pkg);
  return rc;
}

int rsim__pbdesc_parse(const uint8_t *fds, size_t n, rsim__pbdesc **out, char *why) {
  rsim__pbdesc *d = rsim_xcalloc(1, sizeof *d);
  rsim__pbval v;
  int rc = rsim__pb_valid(fds, n) ? RSIM_OK : RSIM_ECORRUPT, got = 0;
  for (size_t i = 0; !rc && (got = rsim__pb_get(fds, n, 1, i, &v)) == 1; i++)
    rc = v.wire == 2 && rsim__pb_valid(v.p, v.n) ? add_file(d, v.p, v.n) : RSIM_ECORRUPT;
  if (rc || got < 0) {
    snprintf(why, RSIM__WHY, "the schema is not a valid protobuf FileDescriptorSet");
    rsim__pbdesc_free(d);
    return RSIM_ECORRUPT;
  }
  *out = d;
  return RSIM_OK;
}

void rsim__pbdesc_free(rsim__pbdesc *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n_msgs; i++) {
    for (size_t k = 0; k < d->msgs[i].n_fields; k++) {
      free(d->msgs[i].fields[k].name);
      free(d->msgs[i].fields[k].type_name);
    }
    free(d->msgs[i].fields);
    free(d->msgs[i].name);
  }
  free(d->msgs);
  free(d);
}

bool rsim__pbdesc_field(const rsim__pbdesc *d, const char *msg, const char *field, uint32_t *num, int *type,
                        const char **type_name) {
  for (size_t i = 0; i < d->n_msgs; i++) {
    if (strcmp(d->msgs[i].name, msg)) continue;
    for (size_t k = 0; k < d->msgs[i].n_fields; k++) {
      const pbfield *f = &d->msgs[i].fields[k];
      if (strcmp(f->name, field)) continue;
      *num = f->num;
      *type = f->type;
      if (type_name) *type_name = f->type_name && f->type_name[0] == '.' ? f->type_name + 1 : f->type_name;
      return true;
    }
  }
  return false;
}
