/*
** error.h -- error codes shared by every replaysim module.
**
** Every fallible function returns an int that holds an rsim_err code: 0
** (RSIM_OK) is success, negative values are errors.  They are declared int,
** as are rsim_strerror's argument and rsim_errbuf.code: C checks an enum no
** more than an int, and one spelling everywhere lets a code pass from layer
** to layer unchanged; the enum rsim_err below names the values.  The code
** says what kind of failure happened; the sentence with
** the details (file, sensor, component, sim time) is kept on the handle that
** failed (rsim_store_errmsg, rsim_engine_errmsg, ...) or, where no handle
** exists yet, in an rsim_errbuf that the caller passes in.
**
** The table is append-only: never renumber or reuse a code.
*/
#ifndef RSIM_ERROR_H
#define RSIM_ERROR_H

#include <stddef.h>

#define RSIM_ERR_MAP(XX)                                                  \
  XX(NOMEM, -1, "out of memory")                                          \
  XX(INVAL, -2, "invalid argument")                                       \
  XX(IO, -3, "I/O error")                                                 \
  XX(CORRUPT, -4, "malformed or corrupt input")                           \
  XX(TOOBIG, -5, "size limit exceeded")                                   \
  XX(NOTFOUND, -6, "not found")                                           \
  XX(TRAP, -7, "component trapped")                                       \
  XX(BACKEND, -8, "backend error")                                        \
  XX(NOTSUP, -9, "not supported")                                         \
  XX(TYPE, -10, "type mismatch")                                          \
  XX(GRAPH, -11, "invalid graph")                                         \
  XX(READONLY, -12, "store is read-only")                                 \
  XX(EOF, -13, "end of data")                                             \
  XX(LIMIT, -14, "component limit exceeded")                              \
  XX(HALTED, -15, "run halted")

typedef enum rsim_err {
  RSIM_OK = 0,
#define RSIM_XX(name, val, msg) RSIM_E##name = (val),
  RSIM_ERR_MAP(RSIM_XX)
#undef RSIM_XX
} rsim_err;

/* Static text for a code ("out of memory"); never NULL. */
const char *rsim_strerror(int err);
/* Symbolic name of a code ("RSIM_ENOMEM"); never NULL. */
const char *rsim_err_name(int err);

/*
** A caller-owned buffer for the message of a failure that happens before
** there is a handle to hold it (opening a file, loading a graph).
** The first error written is kept: later fallout does not overwrite it.
*/
typedef struct rsim_errbuf {
  int code;
  char msg[512];
} rsim_errbuf;

/* Clears eb so that the next rsim_errbuf_set is kept.  eb may be NULL. */
void rsim_errbuf_clear(rsim_errbuf *eb);
/* Formats a message into eb (if it holds none yet) and returns code.
** eb may be NULL, then only code is returned. */
int rsim_errbuf_set(rsim_errbuf *eb, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif /* RSIM_ERROR_H */
