/*
** pg_int.h -- what the PostgreSQL backend (pg.c) and the database commands
** (pg_db.c: URIs, connecting, the schema, `db init`, `db ls`) share.
**
** A store URI is libpq's ("postgresql://USER@HOST:PORT/DB?k=v...") plus our
** own parameter drive=NAME, which is taken out before libpq sees the rest.
** A password in the URI is refused: it would end up in shell histories,
** process lists and run records; libpq reads PGPASSWORD or ~/.pgpass.
** Messages name the URI as given (it holds no password by then).
*/
#ifndef RSIM_PG_INT_H
#define RSIM_PG_INT_H

#include <libpq-fe.h>

#include "store/store_int.h"

#define RSIM_PG_SCHEMA_VERSION "1"

typedef struct rsim__pg_uri {
  char *conninfo; /* for libpq: the URI without drive= */
  char *drive;    /* percent-decoded; NULL when absent */
} rsim__pg_uri;

int rsim__pg_uri_parse(const char *uri, rsim__pg_uri *out, rsim_errbuf *eb);
void rsim__pg_uri_free(rsim__pg_uri *u);
/* Connects (application_name replaysim unless the URI sets one) and checks
** the schema's version; *hypertable tells the readings' layout.  Without a
** schema: RSIM_ENOTFOUND, unless need_schema is false (then *has_schema
** is false and RSIM_OK). */
int rsim__pg_connect(const char *shown, const rsim__pg_uri *u, bool need_schema, PGconn **out,
                     bool *has_schema, bool *hypertable, rsim_errbuf *eb);
/* One line of libpq's message for a failed result (or the connection's). */
void rsim__pg_msg(PGconn *c, const PGresult *r, char *out, size_t n);
/* Whether the connection is gone (server down, backend terminated), seen
** on the connection or in the failed result r (may be NULL): a terminated
** backend's FATAL error arrives as a result before libpq sees the socket
** close, so the connection alone may still look good. */
bool rsim__pg_lost(PGconn *c, const PGresult *r);

#endif /* RSIM_PG_INT_H */
