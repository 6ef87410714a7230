/*
** readahead.c -- a store over base whose cursors read ahead on a thread of
** their own (rsim_store_readahead): reading, decoding and MCAP chunk
** decompression happen while the caller works on what it was given.
**
** Each cursor has a reader thread that fills a queue of owned readings up
** to the window (a number of readings and of payload bytes, whichever is
** reached first).  The thread starts when the caller asks for a second
** reading: a cursor opened for its first reading only (a view asking each
** sensor's time range, the engine finding a sensor's next reading) costs
** no thread and reads nothing it was not asked for.  The caller takes from the queue; what it gets is what
** base's cursor gave, in the same order, so replays are unchanged.  An
** error or the end is queued like a reading, after the readings before it,
** and stays at the head: the caller meets it at the same point, with base's
** message, as without read-ahead.
**
** Threads: base (a SQLite or libpq connection, an MCAP file and its chunk
** cache) is used by one thread at a time: every call into it, from a
** reader or from the caller, holds ra->base_mu.  A cursor's queue has its
** own lock.  Closing a cursor (a seek closes and reopens the engine's)
** stops and joins its reader before base's cursor is closed.  Warnings of
** base are copied into this store's own list when the caller reaches the
** reading after which they arose (or after one of its direct calls), so they
** appear at the point they would without read-ahead.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

typedef struct readahead {
  rsim_store *base;
  bool own_base; /* closed with this store */
  pthread_mutex_t base_mu;
  size_t max_n, max_bytes;
  _Atomic size_t peak_n, peak_bytes; /* the most any cursor held queued */
} readahead;

#define RA(st) ((readahead *)(st)->impl)

/* One queued result of base's cursor: a reading, or the end or an error
** (rc != RSIM_OK), with base's warning count once it was read. */
typedef struct item {
  rsim_reading r;
  int rc;
  char *msg; /* rc is an error: base's message */
  size_t n_warn, n_gaps;
} item;

typedef struct racursor {
  rsim_store *st; /* first, see store.c */
  rsim_cursor *inner;
  pthread_t thread;
  bool threaded; /* else (not yet, or no thread could start) reads happen on next */
  bool tried;    /* the thread was started, or could not be */
  size_t taken;  /* readings the caller took */
  pthread_mutex_t mu;
  pthread_cond_t cv_item, cv_space;
  item *q; /* ring of cap items, head .. head + n - 1 */
  size_t cap, head, n, bytes;
  bool stop, done;
  item lent; /* the reading the caller holds, until its next call */
} racursor;

/* Copies base's warnings up to n_warn into this store's list. */
static void sync_warnings(rsim_store *st, size_t n_warn, size_t n_gaps) {
  readahead *ra = RA(st);
  if (n_gaps > st->n_gaps) st->n_gaps = n_gaps;
  if (n_warn <= st->n_warnings) return;
  pthread_mutex_lock(&ra->base_mu);
  for (size_t i = st->n_warnings; i < n_warn; i++) {
    const char *w = rsim_store_warning(ra->base, i);
    st->warnings = rsim_xrealloc(st->warnings, (st->n_warnings + 1) * sizeof *st->warnings);
    st->warnings[st->n_warnings++] = rsim_xstrdup(w ? w : "");
  }
  pthread_mutex_unlock(&ra->base_mu);
}

/* After a direct call into base (base_mu held): its message and warnings. */
static int pass_locked(rsim_store *st, int rc, size_t *n_warn, size_t *n_gaps) {
  readahead *ra = RA(st);
  if (rc && rc != RSIM_EEOF && rc != RSIM_ENOTFOUND) rsim__store_err(st, rc, "%s", rsim_store_errmsg(ra->base));
  *n_warn = rsim_store_n_warnings(ra->base);
  *n_gaps = rsim_store_n_gaps(ra->base);
  return rc;
}

#define DIRECT(st, call)                                         \
  do {                                                           \
    readahead *ra_ = RA(st);                                     \
    size_t nw_, ng_;                                             \
    pthread_mutex_lock(&ra_->base_mu);                           \
    int rc_ = pass_locked(st, (call), &nw_, &ng_);               \
    pthread_mutex_unlock(&ra_->base_mu);                         \
    sync_warnings(st, nw_, ng_);                                 \
    return rc_;                                                  \
  } while (0)

static void be_close(rsim_store *st) {
  readahead *ra = RA(st);
  if (!ra) return;
  if (ra->own_base) rsim_store_close(ra->base);
  pthread_mutex_destroy(&ra->base_mu);
  free(ra);
}

static int be_load_sensors(rsim_store *st) {
  readahead *ra = RA(st);
  const rsim_sensor_info *s;
  size_t n;
  pthread_mutex_lock(&ra->base_mu);
  int rc = rsim_store_sensors(ra->base, &s, &n);
  if (rc) {
    rsim__store_err(st, rc, "%s", rsim_store_errmsg(ra->base));
    pthread_mutex_unlock(&ra->base_mu);
    return rc;
  }
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
  pthread_mutex_unlock(&ra->base_mu);
  rsim__store_sort_sensors(st);
  return RSIM_OK;
}

static int be_time_range(rsim_store *st, rsim_time *first, rsim_time *last) {
  DIRECT(st, rsim_store_time_range(ra_->base, first, last));
}

static int be_count(rsim_store *st, const char *id, int64_t *n) { DIRECT(st, rsim_store_count(ra_->base, id, n)); }

static int be_reading_at(rsim_store *st, const char *id, rsim_time t, rsim_reading *out) {
  DIRECT(st, rsim_store_reading_at(ra_->base, id, t, out));
}

static int be_get_meta(rsim_store *st, const char *key, char **out) {
  DIRECT(st, rsim_store_get_meta(ra_->base, key, out));
}

static int be_truth(rsim_store *st, rsim_time t0, rsim_time t1, rsim_truth **out, size_t *n) {
  DIRECT(st, rsim_store_truth(ra_->base, t0, t1, out, n));
}

/* ---- the reader ------------------------------------------------------------------ */

/* One call of base's cursor, its result made an item (base_mu taken here). */
static void read_one(racursor *c, item *it) {
  readahead *ra = RA(c->st);
  memset(it, 0, sizeof *it);
  pthread_mutex_lock(&ra->base_mu);
  const rsim_reading *r;
  it->rc = rsim_cursor_next(c->inner, &r);
  if (it->rc == RSIM_OK) rsim_reading_copy(&it->r, r); /* base lends it only until its next call */
  else if (it->rc != RSIM_EEOF) it->msg = rsim_xstrdup(rsim_store_errmsg(ra->base));
  it->n_warn = rsim_store_n_warnings(ra->base);
  it->n_gaps = rsim_store_n_gaps(ra->base);
  pthread_mutex_unlock(&ra->base_mu);
}

static void raise_to(_Atomic size_t *peak, size_t v) {
  size_t p = atomic_load(peak);
  while (v > p && !atomic_compare_exchange_weak(peak, &p, v)) {
  }
}

static void push(racursor *c, item *it) {
  c->q[(c->head + c->n) % c->cap] = *it;
  c->n++;
  c->bytes += it->r.payload_len;
  if (it->rc == RSIM_OK) { /* the window counts readings, not the end after them */
    raise_to(&RA(c->st)->peak_n, c->n);
    raise_to(&RA(c->st)->peak_bytes, c->bytes);
  }
}

static bool full(const racursor *c) {
  readahead *ra = RA(c->st);
  return c->n >= ra->max_n || (c->n > 0 && c->bytes >= ra->max_bytes);
}

static void *reader(void *arg) {
  racursor *c = arg;
  pthread_mutex_lock(&c->mu);
  for (;;) {
    while (!c->stop && full(c)) pthread_cond_wait(&c->cv_space, &c->mu);
    if (c->stop) break;
    pthread_mutex_unlock(&c->mu);
    item it;
    read_one(c, &it);
    pthread_mutex_lock(&c->mu);
    push(c, &it);
    pthread_cond_signal(&c->cv_item);
    if (it.rc != RSIM_OK) { /* the end or an error: nothing follows it */
      c->done = true;
      break;
    }
  }
  pthread_mutex_unlock(&c->mu);
  return NULL;
}

static int be_cursor_open(rsim_store *st, rsim_time t0, rsim_time t1, const char *const *ids, size_t n,
                          rsim_cursor **out) {
  readahead *ra = RA(st);
  racursor *c = rsim_xcalloc(1, sizeof *c);
  c->st = st;
  size_t nw, ng;
  pthread_mutex_lock(&ra->base_mu);
  int rc = pass_locked(st, rsim_store_cursor_open(ra->base, t0, t1, ids, n, &c->inner), &nw, &ng);
  pthread_mutex_unlock(&ra->base_mu);
  sync_warnings(st, nw, ng);
  if (rc) {
    free(c);
    return rc;
  }
  c->cap = ra->max_n + 1; /* the window, and the end or error after it */
  c->q = rsim_xcalloc(c->cap, sizeof *c->q);
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv_item, NULL);
  pthread_cond_init(&c->cv_space, NULL);
  *out = (rsim_cursor *)c;
  return RSIM_OK;
}

/* Waits for the head of the queue (reads it here when there is no thread).
** Until then the queue is the caller's alone: the thread, once created,
** appends after what the caller read itself. */
static item *head(racursor *c) {
  if (!c->threaded && !c->tried && c->taken > 0 && !c->done) {
    c->tried = true;
    c->threaded = pthread_create(&c->thread, NULL, reader, c) == 0;
  }
  if (!c->threaded) {
    if (!c->n) {
      item it;
      read_one(c, &it);
      push(c, &it);
      if (it.rc != RSIM_OK) c->done = true; /* nothing follows it: no thread either */
    }
    return &c->q[c->head];
  }
  pthread_mutex_lock(&c->mu);
  while (!c->n) pthread_cond_wait(&c->cv_item, &c->mu);
  item *it = &c->q[c->head];
  pthread_mutex_unlock(&c->mu);
  return it; /* the reader only appends: the head stays the caller's */
}

/* The head's end or error, with base's message, as base's cursor gave it. */
static int head_rc(racursor *c, const item *it) {
  sync_warnings(c->st, it->n_warn, it->n_gaps);
  if (it->rc != RSIM_EEOF) rsim__store_err(c->st, it->rc, "%s", it->msg ? it->msg : rsim_strerror(it->rc));
  return it->rc;
}

static int be_cursor_next(rsim_cursor *cc, const rsim_reading **out) {
  racursor *c = (racursor *)cc;
  rsim_reading_clear(&c->lent.r);
  item *it = head(c);
  if (it->rc != RSIM_OK) return head_rc(c, it); /* stays at the head: asked again, the same answer */
  pthread_mutex_lock(&c->mu);
  c->lent = *it;
  c->taken++;
  c->head = (c->head + 1) % c->cap;
  c->n--;
  c->bytes -= c->lent.r.payload_len;
  pthread_cond_signal(&c->cv_space);
  pthread_mutex_unlock(&c->mu);
  sync_warnings(c->st, c->lent.n_warn, c->lent.n_gaps);
  *out = &c->lent.r;
  return RSIM_OK;
}

static int be_cursor_peek_time(rsim_cursor *cc, rsim_time *out) {
  racursor *c = (racursor *)cc;
  item *it = head(c);
  if (it->rc != RSIM_OK) return head_rc(c, it);
  *out = it->r.t;
  return RSIM_OK;
}

static void be_cursor_close(rsim_cursor *cc) {
  racursor *c = (racursor *)cc;
  if (c->threaded) {
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv_space);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
  }
  readahead *ra = RA(c->st);
  pthread_mutex_lock(&ra->base_mu);
  rsim_cursor_close(c->inner);
  pthread_mutex_unlock(&ra->base_mu);
  for (size_t i = 0; i < c->n; i++) {
    item *it = &c->q[(c->head + i) % c->cap];
    rsim_reading_clear(&it->r);
    free(it->msg);
  }
  rsim_reading_clear(&c->lent.r);
  free(c->q);
  pthread_cond_destroy(&c->cv_item);
  pthread_cond_destroy(&c->cv_space);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

static const rsim__store_backend rsim__store_readahead = {
    .name = "readahead",
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

int rsim_store_readahead(rsim_store *base, const rsim_readahead_opts *o, rsim_store **out) {
  readahead *ra = rsim_xcalloc(1, sizeof *ra);
  ra->base = base;
  ra->own_base = o && o->own_base;
  ra->max_n = o && o->max_readings ? o->max_readings : RSIM_READAHEAD_READINGS;
  ra->max_bytes = o && o->max_bytes ? o->max_bytes : RSIM_READAHEAD_BYTES;
  pthread_mutex_init(&ra->base_mu, NULL);
  rsim_store *st = rsim_xcalloc(1, sizeof *st);
  st->be = &rsim__store_readahead;
  st->impl = ra;
  st->path = rsim_xstrdup(rsim_store_path(base));
  sync_warnings(st, rsim_store_n_warnings(base), rsim_store_n_gaps(base));
  *out = st;
  return RSIM_OK;
}

bool rsim_store_is_readahead(const rsim_store *st) { return st->be == &rsim__store_readahead; }

void rsim_store_readahead_peak(rsim_store *st, size_t *readings, size_t *bytes) {
  bool ra = rsim_store_is_readahead(st);
  *readings = ra ? atomic_load(&RA(st)->peak_n) : 0;
  *bytes = ra ? atomic_load(&RA(st)->peak_bytes) : 0;
}
