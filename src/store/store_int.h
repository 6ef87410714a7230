/*
** store_int.h -- the backend interface behind rsim_store.
**
** A backend is a const vtable; the rsim_store struct holds it first, plus
** state common to all backends.  A read-only backend leaves the write
** operations NULL and store.c answers RSIM_EREADONLY.  Backends set
** messages with rsim__store_err.
*/
#ifndef RSIM_STORE_INT_H
#define RSIM_STORE_INT_H

#include "rsim/store.h"

typedef struct rsim__store_backend {
  const char *name;
  void (*close)(rsim_store *st);
  int (*load_sensors)(rsim_store *st);          /* fills st->sensors, sorted by id */
  int (*time_range)(rsim_store *st, rsim_time *first, rsim_time *last);
  int (*count)(rsim_store *st, const char *sensor_id, int64_t *n);
  int (*cursor_open)(rsim_store *st, rsim_time t0, rsim_time t1, const char *const *ids,
                     size_t n, rsim_cursor **out);
  int (*cursor_next)(rsim_cursor *c, const rsim_reading **out);
  int (*cursor_peek_time)(rsim_cursor *c, rsim_time *out);
  void (*cursor_close)(rsim_cursor *c);
  int (*reading_at)(rsim_store *st, const char *id, rsim_time t, rsim_reading *out);
  int (*get_meta)(rsim_store *st, const char *key, char **out);
  int (*truth)(rsim_store *st, rsim_time t0, rsim_time t1, rsim_truth **out, size_t *n);
  /* writing; NULL for read-only backends */
  int (*add_sensor)(rsim_store *st, const rsim_sensor_info *info);
  int (*put)(rsim_store *st, const rsim_reading *r);
  int (*set_meta)(rsim_store *st, const char *key, const char *value);
  int (*put_truth)(rsim_store *st, const rsim_truth *g);
  int (*begin)(rsim_store *st);
  int (*commit)(rsim_store *st);
  /* completes the file (rsim_store_finish); after it only close is called */
  int (*finish)(rsim_store *st);
} rsim__store_backend;

struct rsim_store {
  const rsim__store_backend *be; /* always first */
  void *impl;                    /* the backend's own state */
  char *path;
  bool writable;
  bool finished;                 /* rsim_store_finish ran: no more writes */
  int finish_rc;                 /* and what it returned */
  rsim_sensor_info *sensors;     /* cache, sorted by id */
  size_t n_sensors;
  bool sensors_loaded;
  char errmsg[512];
  char **warnings;               /* rsim_store_warning */
  size_t n_warnings, n_gaps;
  rsim_store *warn_base;         /* a view: the store whose warnings are shown */
};

/* Sets the store's message (printf-style) and returns code. */
int rsim__store_err(rsim_store *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds a warning (printf-style). */
void rsim__store_warn(rsim_store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sorts st->sensors by id (backends call it after loading). */
void rsim__store_sort_sensors(rsim_store *st);

/* A reading's metadata as one blob of (u32le length, bytes) pairs, key then
** value, as the SQLite and PostgreSQL backends store it; decoding checks
** UTF-8 and appends to r->meta (sqlite.c). */
void rsim__meta_encode(const rsim_kv *kv, size_t n, rsim_buf *out);
int rsim__meta_decode(rsim_store *st, const char *sensor, const uint8_t *p, size_t len, rsim_reading *r);

extern const rsim__store_backend rsim__store_sqlite;
int rsim__sqlite_open(rsim_store *st, bool create, rsim_errbuf *eb);
extern const rsim__store_backend rsim__store_mcap;
int rsim__mcap_store_open(rsim_store *st, bool create, const rsim_store_opts *o, rsim_errbuf *eb);
extern const rsim__store_backend rsim__store_pg;
/* Opens a drive of a PostgreSQL database (st->path is the URI; pg.c). */
int rsim__pg_open(rsim_store *st, bool create, bool overwrite, const rsim_store_opts *o, rsim_errbuf *eb);

#endif /* RSIM_STORE_INT_H */
