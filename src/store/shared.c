/*
** shared.c -- a store whose identical cursors share one read of the base
** (rsim_store_shared), for A/B runs: two engines over one drive open the
** same main cursor (same range, same sensors); the first opened reads the
** base, each reading is kept until every cursor of that read has passed it,
** so the drive is read once however many engines follow it.
**
** Invariants: a source's q holds owned copies of readings first_index ..
** first_index + len - 1 of its read; a consumer's pos is the index of the
** next reading it gets; readings before min(pos) - 1 are dropped (pos - 1
** is the reading a consumer was lent, valid until its next call).  A cursor
** joins a source only while nothing was dropped from it, else it opens a
** read of its own (correct, just not shared).  A consumer that falls so far
** behind that the kept payloads pass max_kept bytes (an engine that stopped on an
** error) leaves the source: should it read again, it reads on its own from
** where it was, and the others are not held back by it.
*/
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"


typedef struct source source;

typedef struct scursor {
  rsim_store *st; /* first, see store.c */
  source *src;    /* NULL once it left its source */
  uint64_t pos;
  struct scursor *next_in_src;
  /* after leaving: its read's parameters, and its own cursor (opened on use) */
  rsim_time t0, t1;
  char **ids;
  size_t n_ids;
  rsim_cursor *own;
} scursor;

struct source {
  rsim_time t0, t1;
  char **ids;
  size_t n_ids;
  rsim_cursor *inner;
  rsim_reading **q;
  size_t len, cap;
  size_t bytes; /* payload bytes in q */
  uint64_t first_index;
  bool eof;
  scursor *consumers;
  source *next;
};

typedef struct shared {
  rsim_store *base;
  source *sources;
  uint64_t reads; /* readings taken from the base by its cursors */
  size_t max_kept;
} shared;

#define S(st) ((shared *)(st)->impl)

static int pass(rsim_store *st, int rc) {
  if (rc && rc != RSIM_EEOF && rc != RSIM_ENOTFOUND)
    return rsim__store_err(st, rc, "%s", rsim_store_errmsg(S(st)->base));
  return rc;
}

static void be_close(rsim_store *st) { free(S(st)); }

static int be_load_sensors(rsim_store *st) {
  const rsim_sensor_info *s;
  size_t n;
  int rc = rsim_store_sensors(S(st)->base, &s, &n);
  if (rc) return pass(st, rc);
  st->sensors = rsim_xcalloc(n ? n : 1, sizeof *st->sensors);
  for (size_t i = 0; i < n; i++) {
    rsim_sensor_info *c = &st->sensors[st->n_sensors++];
    c->id = rsim_xstrdup(s[i].id);
    c->kind = s[i].kind;
    c->rate_hz = s[i].rate_hz;
    c->n_meta = s[i].n_meta;
    c->meta = rsim_xcalloc(s[i].n_meta ? s[i].n_meta : 1, sizeof *c->meta);
    for (size_t k = 0; k < s[i].n_meta; k++) {
      c->meta[k].key = rsim_xstrdup(s[i].meta[k].key);
      c->meta[k].value = rsim_xstrdup(s[i].meta[k].value);
    }
  }
  rsim__store_sort_sensors(st);
  return RSIM_OK;
}

static int be_time_range(rsim_store *st, rsim_time *first, rsim_time *last) {
  return pass(st, rsim_store_time_range(S(st)->base, first, last));
}

static int be_count(rsim_store *st, const char *id, int64_t *n) { return pass(st, rsim_store_count(S(st)->base, id, n)); }

static bool same_read(const source *s, rsim_time t0, rsim_time t1, const char *const *ids, size_t n) {
  if (s->t0 != t0 || s->t1 != t1 || s->n_ids != n || s->first_index) return false;
  for (size_t i = 0; i < n; i++)
    if (strcmp(s->ids[i], ids[i])) return false;
  return true;
}

static int be_cursor_open(rsim_store *st, rsim_time t0, rsim_time t1, const char *const *ids, size_t n,
                          rsim_cursor **out) {
  shared *sh = S(st);
  source *s = sh->sources;
  while (s && !same_read(s, t0, t1, ids, n)) s = s->next;
  if (!s) {
    s = rsim_xcalloc(1, sizeof *s);
    int rc = rsim_store_cursor_open(sh->base, t0, t1, ids, n, &s->inner);
    if (rc) {
      free(s);
      return pass(st, rc);
    }
    s->t0 = t0, s->t1 = t1, s->n_ids = n;
    s->ids = rsim_xcalloc(n ? n : 1, sizeof *s->ids);
    for (size_t i = 0; i < n; i++) s->ids[i] = rsim_xstrdup(ids[i]);
    s->next = sh->sources;
    sh->sources = s;
  }
  scursor *c = rsim_xcalloc(1, sizeof *c);
  c->st = st;
  c->src = s;
  c->next_in_src = s->consumers;
  s->consumers = c;
  *out = (rsim_cursor *)c;
  return RSIM_OK;
}

/* Drops the readings every consumer has passed and been given back. */
static void trim(source *s) {
  uint64_t keep = UINT64_MAX;
  for (scursor *c = s->consumers; c; c = c->next_in_src) {
    uint64_t k = c->pos ? c->pos - 1 : 0;
    if (k < keep) keep = k;
  }
  size_t drop = 0;
  while (drop < s->len && s->first_index + drop < keep) {
    s->bytes -= s->q[drop]->payload_len;
    rsim_reading_clear(s->q[drop]);
    free(s->q[drop]);
    drop++;
  }
  if (!drop) return;
  memmove(s->q, s->q + drop, (s->len - drop) * sizeof *s->q);
  s->len -= drop;
  s->first_index += drop;
}

/* c leaves its source: the others go on without waiting for it. */
static void leave(scursor *c) {
  source *s = c->src;
  for (scursor **p = &s->consumers; *p; p = &(*p)->next_in_src)
    if (*p == c) {
      *p = c->next_in_src;
      break;
    }
  c->t0 = s->t0, c->t1 = s->t1, c->n_ids = s->n_ids;
  c->ids = rsim_xcalloc(s->n_ids ? s->n_ids : 1, sizeof *c->ids);
  for (size_t i = 0; i < s->n_ids; i++) c->ids[i] = rsim_xstrdup(s->ids[i]);
  c->src = NULL;
}

/* The slowest consumers other than me leave while too much is kept. */
static void bound(source *s, scursor *me) {
  while (s->bytes > S(me->st)->max_kept) {
    scursor *slow = NULL;
    for (scursor *c = s->consumers; c; c = c->next_in_src)
      if (c != me && (!slow || c->pos < slow->pos)) slow = c;
    if (!slow || slow->pos >= me->pos) return;
    leave(slow);
    trim(s);
  }
}

/* A consumer that left: its own read, moved to where it was. */
static int own_cursor(scursor *c) {
  if (c->own) return RSIM_OK;
  rsim_store *base = S(c->st)->base;
  int rc = rsim_store_cursor_open(base, c->t0, c->t1, (const char *const *)c->ids, c->n_ids, &c->own);
  const rsim_reading *r;
  for (uint64_t i = 0; !rc && i < c->pos; i++) {
    rc = rsim_cursor_next(c->own, &r);
    S(c->st)->reads++;
  }
  return rc ? pass(c->st, rc) : RSIM_OK;
}

/* Makes reading index i available; RSIM_EEOF past the end. */
static int fill(rsim_store *st, source *s, uint64_t i) {
  while (s->first_index + s->len <= i) {
    if (s->eof) return RSIM_EEOF;
    const rsim_reading *r;
    int rc = rsim_cursor_next(s->inner, &r);
    if (rc == RSIM_EEOF) {
      s->eof = true;
      return RSIM_EEOF;
    }
    if (rc) return pass(st, rc);
    if (s->len == s->cap) {
      s->cap = s->cap ? 2 * s->cap : 16;
      s->q = rsim_xrealloc(s->q, s->cap * sizeof *s->q);
    }
    rsim_reading *copy = rsim_xcalloc(1, sizeof *copy);
    rsim_reading_copy(copy, r);
    s->q[s->len++] = copy;
    s->bytes += copy->payload_len;
    S(st)->reads++;
  }
  return RSIM_OK;
}

static int be_cursor_next(rsim_cursor *cc, const rsim_reading **out) {
  scursor *c = (scursor *)cc;
  if (!c->src) {
    int rc = own_cursor(c);
    if (!rc) rc = rsim_cursor_next(c->own, out);
    if (!rc) c->pos++, S(c->st)->reads++;
    return rc ? pass(c->st, rc) : RSIM_OK;
  }
  trim(c->src);
  int rc = fill(c->st, c->src, c->pos);
  if (rc) return rc;
  *out = c->src->q[c->pos - c->src->first_index];
  c->pos++;
  bound(c->src, c);
  return RSIM_OK;
}

static int be_cursor_peek_time(rsim_cursor *cc, rsim_time *out) {
  scursor *c = (scursor *)cc;
  if (!c->src) {
    int rc = own_cursor(c);
    if (!rc) rc = rsim_cursor_peek_time(c->own, out);
    return rc ? pass(c->st, rc) : RSIM_OK;
  }
  int rc = fill(c->st, c->src, c->pos);
  if (rc) return rc;
  *out = c->src->q[c->pos - c->src->first_index]->t;
  return RSIM_OK;
}

static void be_cursor_close(rsim_cursor *cc) {
  scursor *c = (scursor *)cc;
  shared *sh = S(c->st);
  if (!c->src) {
    rsim_cursor_close(c->own);
    for (size_t i = 0; i < c->n_ids; i++) free(c->ids[i]);
    free(c->ids);
    free(c);
    return;
  }
  source *s = c->src;
  for (scursor **p = &s->consumers; *p; p = &(*p)->next_in_src)
    if (*p == c) {
      *p = c->next_in_src;
      break;
    }
  free(c);
  if (s->consumers) {
    trim(s);
    return;
  }
  for (source **p = &sh->sources; *p; p = &(*p)->next)
    if (*p == s) {
      *p = s->next;
      break;
    }
  rsim_cursor_close(s->inner);
  for (size_t i = 0; i < s->len; i++) {
    rsim_reading_clear(s->q[i]);
    free(s->q[i]);
  }
  for (size_t i = 0; i < s->n_ids; i++) free(s->ids[i]);
  free(s->ids);
  free(s->q);
  free(s);
}

static int be_reading_at(rsim_store *st, const char *id, rsim_time t, rsim_reading *out) {
  return pass(st, rsim_store_reading_at(S(st)->base, id, t, out));
}

static int be_get_meta(rsim_store *st, const char *key, char **out) {
  return pass(st, rsim_store_get_meta(S(st)->base, key, out));
}

static int be_truth(rsim_store *st, rsim_time t0, rsim_time t1, rsim_truth **out, size_t *n) {
  return pass(st, rsim_store_truth(S(st)->base, t0, t1, out, n));
}

static const rsim__store_backend rsim__store_shared = {
    .name = "shared",
    .close = be_close,
    .load_sensors = be_load_sensors,
    .time_range = be_time_range,
    .count = be_count,
    .cursor_open = be_cursor_open,
    .cursor_next = be_cursor_next,
    .cursor_peek_time = be_cursor_peek_time,
    .cursor_close = be_cursor_close,
    .reading_at = be_reading_at,
    .get_meta = be_get_meta,
    .truth = be_truth,
};

int rsim_store_shared(rsim_store *base, size_t max_kept, rsim_store **out) {
  shared *sh = rsim_xcalloc(1, sizeof *sh);
  sh->base = base;
  sh->max_kept = max_kept ? max_kept : (size_t)256 << 20;
  rsim_store *st = rsim_xcalloc(1, sizeof *st);
  st->be = &rsim__store_shared;
  st->impl = sh;
  st->path = rsim_xstrdup(rsim_store_path(base));
  st->warn_base = base;
  *out = st;
  return RSIM_OK;
}

uint64_t rsim_store_shared_reads(const rsim_store *st) {
  return st->be == &rsim__store_shared ? S(st)->reads : 0;
}
