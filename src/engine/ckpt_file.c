/*
** ckpt_file.c -- checkpoint files: one file a checkpoint, DIR/ckpt-<n>.rsck,
** written to a temporary name and renamed (checkpoint.c), so a crash leaves
** the earlier files whole:
**   "RSIMCKP1"  u32 version  u64 body length  body  SHA-256 of the body
** The body starts with what it belongs to (the range start, the interval,
** every component's name and export), so a checkpoint is never restored
** into another graph or range.  Numbers are little-endian; values use the
** canonical encoding of value.h.  The parser trusts no length.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ckpt_int.h"

#define FILE_MAGIC "RSIMCKP1"
#define FILE_VERSION 1u

static void put_sha(rsim_buf *b, const rsim_sha256 *s) {
  for (int i = 0; i < 8; i++) rsim_buf_put_u32le(b, s->h[i]);
  rsim_buf_put_u64le(b, s->nbytes);
  rsim_buf_append(b, s->block, 64);
  rsim_buf_put_u64le(b, s->fill);
}

static void put_str(rsim_buf *b, const char *s) {
  rsim_buf_put_u64le(b, strlen(s));
  rsim_buf_puts(b, s);
}

static void put_val(rsim_buf *b, const rsim_val *v) {
  rsim_buf tmp = {0};
  rsim_val_encode(v, &tmp);
  rsim_buf_put_u64le(b, tmp.len);
  rsim_buf_append(b, tmp.data, tmp.len);
  rsim_buf_free(&tmp);
}

static void put_stats(rsim_buf *b, const rsim_component_stats *s) {
  const uint64_t v[] = {s->calls,      s->errors,   s->not_ready, s->outputs, s->superseded,        s->dropped,
                        s->limit_hits, s->restarts, s->retries,   s->skipped, s->timing_violations, s->max_fuel};
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) rsim_buf_put_u64le(b, v[i]);
}

/* What a checkpoint belongs to. */
static void put_identity(const rsim__ck_shape *sh, rsim_buf *b) {
  rsim_buf_put_u64le(b, (uint64_t)sh->from);
  rsim_buf_put_u64le(b, (uint64_t)sh->every);
  rsim_buf_put_u32le(b, (uint32_t)sh->n);
  for (size_t i = 0; i < sh->n; i++) {
    put_str(b, sh->names[i]);
    put_str(b, sh->exports[i]);
  }
}

static void serialize(const rsim__ck_shape *sh, const ckpt *c, rsim_buf *b) {
  put_identity(sh, b);
  rsim_buf_put_u64le(b, (uint64_t)c->now);
  rsim_buf_put_u64le(b, (uint64_t)c->bucket);
  put_sha(b, &c->digest);
  rsim_buf_put_u64le(b, c->readings);
  const uint64_t bst[] = {c->bst.interpolated, c->bst.stale, c->bst.transforms, c->bst.transform_hits};
  for (int i = 0; i < 4; i++) rsim_buf_put_u64le(b, bst[i]);
  for (size_t i = 0; i < sh->n; i++) {
    const node_ck *nc = &c->nodes[i];
    rsim_buf_put_u64le(b, (uint64_t)nc->next_tick);
    rsim_buf_putc(b, (char)nc->has_out);
    if (nc->has_out) put_val(b, &nc->out);
    rsim_buf_put_u64le(b, nc->out_seq);
    rsim_buf_put_u64le(b, (uint64_t)nc->out_t);
    put_sha(b, &nc->digest);
    put_stats(b, &nc->st);
    rsim_buf_put_u64le(b, nc->state_len);
    rsim_buf_append(b, nc->state, nc->state_len);
    for (size_t j = 0; j < sh->n_inputs[i]; j++) {
      const link_ck *lc = &nc->links[j];
      size_t ns = sh->n_srcs[i][j];
      for (size_t s = 0; s < ns; s++) rsim_buf_put_u64le(b, lc->consumed[s]);
      rsim_buf_put_u64le(b, lc->qn);
      for (size_t q = 0; q < lc->qn; q++) {
        rsim_buf_putc(b, (char)lc->q[q].concat);
        put_val(b, &lc->q[q].v);
      }
    }
  }
}

static void get_sha(rsim_rd *r, rsim_sha256 *s) {
  for (int i = 0; i < 8; i++) s->h[i] = rsim_rd_u32le(r);
  s->nbytes = rsim_rd_u64le(r);
  const uint8_t *q = rsim_rd_bytes(r, 64);
  if (q) memcpy(s->block, q, 64);
  s->fill = (size_t)rsim_rd_u64le(r);
  if (s->fill > 64) r->ok = false;
}

static bool get_str_is(rsim_rd *r, const char *want) {
  uint64_t n = rsim_rd_u64le(r);
  const uint8_t *q = rsim_rd_bytes(r, n);
  return q && n == strlen(want) && !memcmp(q, want, n);
}

static void get_val(rsim_rd *r, rsim_val *v) {
  uint64_t n = rsim_rd_u64le(r);
  const uint8_t *q = rsim_rd_bytes(r, n);
  size_t used = 0;
  if (!q || rsim_val_decode(q, (size_t)n, v, &used) || used != n) r->ok = false;
}

static void get_stats(rsim_rd *r, rsim_component_stats *s, const char *name) {
  uint64_t *v[] = {&s->calls,      &s->errors,   &s->not_ready, &s->outputs, &s->superseded,        &s->dropped,
                   &s->limit_hits, &s->restarts, &s->retries,   &s->skipped, &s->timing_violations, &s->max_fuel};
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) *v[i] = rsim_rd_u64le(r);
  s->name = name;
}

bool rsim__ck_parse(const rsim__ck_shape *sh, const uint8_t *data, size_t n, ckpt *c, char *why, size_t why_n) {
  memset(c, 0, sizeof *c);
  if (n < 8 + 4 + 8 + 32 || memcmp(data, FILE_MAGIC, 8)) {
    snprintf(why, why_n, "not a replaysim checkpoint");
    return false;
  }
  rsim_rd r = rsim_rd_new(data + 8, n - 8);
  uint32_t version = rsim_rd_u32le(&r);
  uint64_t len = rsim_rd_u64le(&r);
  if (version != FILE_VERSION || len != n - 8 - 4 - 8 - 32) {
    snprintf(why, why_n, "version %u or length does not match (truncated?)", version);
    return false;
  }
  uint8_t sum[32];
  rsim_sha256 s;
  rsim_sha256_init(&s);
  rsim_sha256_update(&s, r.p, (size_t)len);
  rsim_sha256_final(&s, sum);
  /* Fuzzing builds skip the checksum, so that mutations reach the body. */
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  if (memcmp(sum, data + n - 32, 32)) {
    snprintf(why, why_n, "checksum mismatch (damaged)");
    return false;
  }
#endif
  r.end = data + n - 32;
  bool same = rsim_rd_u64le(&r) == (uint64_t)sh->from && rsim_rd_u64le(&r) == (uint64_t)sh->every && rsim_rd_u32le(&r) == sh->n;
  for (size_t i = 0; same && i < sh->n; i++)
    same = get_str_is(&r, sh->names[i]) && get_str_is(&r, sh->exports[i]);
  if (!same) {
    snprintf(why, why_n, "made by another graph, range start or checkpoint interval");
    return false;
  }
  c->now = (rsim_time)rsim_rd_u64le(&r);
  c->bucket = (int64_t)rsim_rd_u64le(&r);
  get_sha(&r, &c->digest);
  c->readings = rsim_rd_u64le(&r);
  c->bst.interpolated = rsim_rd_u64le(&r);
  c->bst.stale = rsim_rd_u64le(&r);
  c->bst.transforms = rsim_rd_u64le(&r);
  c->bst.transform_hits = rsim_rd_u64le(&r);
  c->nodes = rsim_xcalloc(sh->n, sizeof *c->nodes);
  for (size_t i = 0; i < sh->n && r.ok; i++) {
    node_ck *nc = &c->nodes[i];
    nc->next_tick = (rsim_time)rsim_rd_u64le(&r);
    nc->has_out = rsim_rd_u8(&r) != 0;
    if (nc->has_out) get_val(&r, &nc->out);
    nc->out_seq = rsim_rd_u64le(&r);
    nc->out_t = (rsim_time)rsim_rd_u64le(&r);
    get_sha(&r, &nc->digest);
    get_stats(&r, &nc->st, sh->names[i]);
    uint64_t sl = rsim_rd_u64le(&r);
    const uint8_t *sp = rsim_rd_bytes(&r, sl);
    if (sp && sl) {
      nc->state = rsim_xmalloc((size_t)sl);
      memcpy(nc->state, sp, (size_t)sl);
      nc->state_len = (size_t)sl;
    }
    nc->links = rsim_xcalloc(sh->n_inputs[i] ? sh->n_inputs[i] : 1, sizeof *nc->links);
    for (size_t j = 0; j < sh->n_inputs[i] && r.ok; j++) {
      link_ck *lc = &nc->links[j];
      size_t ns = sh->n_srcs[i][j];
      lc->consumed = rsim_xcalloc(ns, sizeof *lc->consumed);
      for (size_t k = 0; k < ns; k++) lc->consumed[k] = rsim_rd_u64le(&r);
      uint64_t qn = rsim_rd_u64le(&r);
      if (qn > (uint64_t)(r.end - r.p)) r.ok = false;
      lc->q = r.ok && qn ? rsim_xcalloc((size_t)qn, sizeof *lc->q) : NULL;
      for (uint64_t q = 0; q < qn && r.ok; q++, lc->qn++) {
        lc->q[q].concat = rsim_rd_u8(&r) != 0;
        get_val(&r, &lc->q[q].v);
      }
    }
  }
  if (!r.ok || r.p != r.end) {
    rsim__ck_clear(sh, c);
    snprintf(why, why_n, "malformed body");
    return false;
  }
  c->bytes = n;
  return true;
}


void rsim__ck_file(const rsim__ck_shape *sh, const ckpt *c, rsim_buf *file) {
  rsim_buf body = {0};
  serialize(sh, c, &body);
  uint8_t sum[32];
  rsim_sha256 s;
  rsim_sha256_init(&s);
  rsim_sha256_update(&s, body.data, body.len);
  rsim_sha256_final(&s, sum);
  rsim_buf_append(file, FILE_MAGIC, 8);
  rsim_buf_put_u32le(file, FILE_VERSION);
  rsim_buf_put_u64le(file, body.len);
  rsim_buf_append(file, body.data, body.len);
  rsim_buf_append(file, sum, 32);
  rsim_buf_free(&body);
}

void rsim__ck_clear(const rsim__ck_shape *sh, ckpt *c) {
  for (size_t i = 0; c->nodes && i < sh->n; i++) {
    node_ck *nc = &c->nodes[i];
    if (nc->has_out) rsim_val_clear(&nc->out);
    free(nc->state);
    for (size_t j = 0; nc->links && j < sh->n_inputs[i]; j++) {
      free(nc->links[j].consumed);
      for (size_t q = 0; q < nc->links[j].qn; q++) rsim_val_clear(&nc->links[j].q[q].v);
      free(nc->links[j].q);
    }
    free(nc->links);
  }
  free(c->nodes);
  memset(c, 0, sizeof *c);
}
