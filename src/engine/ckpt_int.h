/*
** ckpt_int.h -- a checkpoint as data, and its file format (ckpt_file.c),
** apart from the engine so that the parser can be fuzzed on its own.
** checkpoint.c takes and restores them.
*/
#ifndef RSIM_CKPT_INT_H
#define RSIM_CKPT_INT_H

#include "rsim/engine.h"
#include "rsim/value.h"

typedef struct ck_item {
  rsim_val v;
  bool concat;
} ck_item;

typedef struct link_ck {
  uint64_t *consumed; /* per source */
  ck_item *q;
  size_t qn;
} link_ck;

typedef struct node_ck {
  rsim_time next_tick;
  bool has_out;
  rsim_val out;
  uint64_t out_seq;
  rsim_time out_t;
  rsim_sha256 digest;
  rsim_component_stats st;
  uint8_t *state; /* save()'s bytes */
  size_t state_len;
  link_ck *links;
} node_ck;

typedef struct ckpt {
  rsim_time now;
  bool start;     /* the state before any step */
  int64_t bucket;
  rsim_sha256 digest;
  uint64_t readings;
  rsim_engine_bridge_stats bst;
  node_ck *nodes;
  size_t bytes;
} ckpt;

/* What the checkpoints of one run look like: the run's identity (range
** start, interval, components) and, per component, its inputs and their
** sources.  Arrays of n; borrowed from the engine. */
typedef struct rsim__ck_shape {
  rsim_time from;
  int64_t every;
  size_t n;
  const char **names, **exports;
  size_t *n_inputs;
  size_t **n_srcs;
} rsim__ck_shape;

void rsim__ck_clear(const rsim__ck_shape *sh, ckpt *c);
/* The whole file for c (docs/checkpoints.md): magic, version, body, SHA-256. */
void rsim__ck_file(const rsim__ck_shape *sh, const ckpt *c, rsim_buf *file);
/* Parses a file's bytes into c (freed with rsim__ck_clear); false with why[]
** when it is not a whole checkpoint of this shape.  Every length is
** checked before use. */
bool rsim__ck_parse(const rsim__ck_shape *sh, const uint8_t *data, size_t n, ckpt *c, char *why, size_t why_n);

#endif /* RSIM_CKPT_INT_H */
