/*
** sql.c -- the few SQL calls the results database makes, on SQLite (a file)
** or on PostgreSQL (a postgresql:// URI, through libpq), so that db.c states
** each query once.  Statements use '?' placeholders, turned into $1, $2 ...
** for PostgreSQL; values are bound and read as text, integers or doubles.
**
** PostgreSQL is spoken in text format: doubles go out with 17 significant
** digits and come back in the server's shortest exact form, so a value
** survives the round trip bit for bit, as it does in SQLite.
*/
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_int.h"
#include "rsim/store.h"
#include "store/pg_int.h" /* one place parses URIs and refuses passwords */

struct rsim__bstmt {
  rsim_batch_db *db;
  const char *what;
  sqlite3_stmt *lite;
  /* PostgreSQL: the statement with $n, its text values (NULL: null), and
  ** the result being read. */
  char *sql;
  int n_params;
  char **params;
  PGresult *res;
  int row, n_rows;
};

static int fail(rsim_batch_db *db, const char *what, const PGresult *r) {
  char msg[400];
  if (db->pg) rsim__pg_msg(db->pg, r, msg, sizeof msg);
  else snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(db->lite));
  snprintf(db->err, sizeof db->err, "batch: results database %s: %s: %s", db->shown, what, msg);
  return db->pg && rsim__pg_lost(db->pg, r) ? RSIM_EIO : RSIM_EBACKEND;
}

static void quiet(void *ud, const char *msg) {
  (void)ud, (void)msg; /* NOTICEs ("schema exists, skipping") are not errors */
}

int rsim__bsql_connect(rsim_batch_db *db, const char *target, bool create, rsim_errbuf *eb) {
  db->shown = rsim_xstrdup(target);
  if (!rsim_store_is_uri(target)) {
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(target, &db->lite, flags, NULL) != SQLITE_OK)
      return rsim_errbuf_set(eb, create ? RSIM_EIO : RSIM_ENOTFOUND, "batch: cannot %s results database %s: %s",
                             create ? "open" : "read", target, sqlite3_errmsg(db->lite));
    sqlite3_busy_timeout(db->lite, 10000);
    return RSIM_OK;
  }
  rsim__pg_uri u;
  int rc = rsim__pg_uri_parse(target, &u, eb);
  if (!rc && u.drive)
    rc = rsim_errbuf_set(eb, RSIM_EINVAL, "batch: results database %s: drive= names a drive; a results URI has none",
                         target);
  if (rc) {
    rsim__pg_uri_free(&u);
    return rc;
  }
  const char *const keys[] = {"dbname", "fallback_application_name", NULL};
  const char *const vals[] = {u.conninfo, "replaysim batch", NULL};
  db->pg = PQconnectdbParams(keys, vals, 1);
  rsim__pg_uri_free(&u);
  if (!db->pg) return rsim_errbuf_set(eb, RSIM_ENOMEM, "batch: results database %s: out of memory", target);
  if (PQstatus(db->pg) != CONNECTION_OK) {
    char msg[400];
    rsim__pg_msg(db->pg, NULL, msg, sizeof msg);
    return rsim_errbuf_set(eb, RSIM_EIO, "batch: cannot open results database %s: %s", target, msg);
  }
  PQsetNoticeProcessor(db->pg, quiet, NULL);
  return RSIM_OK;
}

void rsim__bsql_disconnect(rsim_batch_db *db) {
  if (db->lite) sqlite3_close(db->lite);
  if (db->pg) PQfinish(db->pg);
  db->lite = NULL, db->pg = NULL;
  free(db->shown);
  db->shown = NULL;
}

int rsim__bsql_exec(rsim_batch_db *db, const char *what, const char *sql) {
  if (db->lite) return sqlite3_exec(db->lite, sql, NULL, NULL, NULL) == SQLITE_OK ? RSIM_OK : fail(db, what, NULL);
  PGresult *r = PQexec(db->pg, sql);
  ExecStatusType s = PQresultStatus(r);
  int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? RSIM_OK : fail(db, what, r);
  PQclear(r);
  return rc;
}

int rsim__bsql_begin(rsim_batch_db *db) {
  /* IMMEDIATE: take SQLite's write lock now, so a busy database waits
  ** here (busy timeout) rather than failing at the first write. */
  return rsim__bsql_exec(db, "begin", db->lite ? "BEGIN IMMEDIATE" : "BEGIN");
}

int rsim__bsql_end(rsim_batch_db *db, int rc) {
  if (rc) { /* db->err says what failed; a failed rollback must not hide it */
    char err[sizeof db->err];
    memcpy(err, db->err, sizeof err);
    rsim__bsql_exec(db, "rollback", "ROLLBACK");
    memcpy(db->err, err, sizeof err);
    return rc;
  }
  return rsim__bsql_exec(db, "commit", "COMMIT");
}

rsim__bstmt *rsim__bsql_prepare(rsim_batch_db *db, const char *what, const char *sql) {
  rsim__bstmt *st = rsim_xcalloc(1, sizeof *st);
  st->db = db, st->what = what;
  if (db->lite) {
    if (sqlite3_prepare_v2(db->lite, sql, -1, &st->lite, NULL) != SQLITE_OK) {
      fail(db, what, NULL);
      free(st);
      return NULL;
    }
    return st;
  }
  rsim_buf b = {0};
  for (const char *p = sql; *p; p++) {
    if (*p != '?') {
      rsim_buf_putc(&b, *p);
      continue;
    }
    char num[16];
    snprintf(num, sizeof num, "$%d", ++st->n_params);
    rsim_buf_append(&b, num, strlen(num));
  }
  rsim_buf_putc(&b, 0);
  st->sql = (char *)b.data;
  st->params = rsim_xcalloc((size_t)st->n_params + 1, sizeof *st->params);
  return st;
}

static void set_param(rsim__bstmt *st, int i, char *v) {
  if (i < 1 || i > st->n_params) {
    free(v);
    return;
  }
  free(st->params[i - 1]);
  st->params[i - 1] = v;
}

void rsim__bsql_text(rsim__bstmt *st, int i, const char *v) {
  if (st->lite) sqlite3_bind_text(st->lite, i, v, -1, SQLITE_TRANSIENT);
  else set_param(st, i, rsim_xstrdup(v));
}

void rsim__bsql_i64(rsim__bstmt *st, int i, int64_t v) {
  if (st->lite) {
    sqlite3_bind_int64(st->lite, i, v);
    return;
  }
  char s[24];
  snprintf(s, sizeof s, "%" PRId64, v);
  set_param(st, i, rsim_xstrdup(s));
}

void rsim__bsql_double(rsim__bstmt *st, int i, double v) {
  if (st->lite) {
    sqlite3_bind_double(st->lite, i, v);
    return;
  }
  char s[40];
  snprintf(s, sizeof s, "%.17g", v);
  set_param(st, i, rsim_xstrdup(s));
}

void rsim__bsql_null(rsim__bstmt *st, int i) {
  if (st->lite) sqlite3_bind_null(st->lite, i);
  else set_param(st, i, NULL);
}

int rsim__bsql_step(rsim__bstmt *st) {
  if (st->lite) {
    int s = sqlite3_step(st->lite);
    return s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : fail(st->db, st->what, NULL);
  }
  if (!st->res) {
    st->res = PQexecParams(st->db->pg, st->sql, st->n_params, NULL, (const char *const *)st->params, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(st->res);
    if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
      int rc = fail(st->db, st->what, st->res);
      PQclear(st->res);
      st->res = NULL;
      return rc;
    }
    st->row = -1;
    st->n_rows = PQntuples(st->res);
  }
  return ++st->row < st->n_rows ? 1 : 0;
}

const char *rsim__bsql_col_text(rsim__bstmt *st, int i) {
  const char *t = st->lite ? (const char *)sqlite3_column_text(st->lite, i)
                           : PQgetisnull(st->res, st->row, i) ? NULL : PQgetvalue(st->res, st->row, i);
  return t ? t : "";
}

bool rsim__bsql_col_null(rsim__bstmt *st, int i) {
  return st->lite ? sqlite3_column_type(st->lite, i) == SQLITE_NULL : PQgetisnull(st->res, st->row, i);
}

int64_t rsim__bsql_col_i64(rsim__bstmt *st, int i) {
  return st->lite ? sqlite3_column_int64(st->lite, i) : strtoll(rsim__bsql_col_text(st, i), NULL, 10);
}

double rsim__bsql_col_double(rsim__bstmt *st, int i) {
  return st->lite ? sqlite3_column_double(st->lite, i) : strtod(rsim__bsql_col_text(st, i), NULL);
}

void rsim__bsql_reset(rsim__bstmt *st) {
  if (st->lite) sqlite3_reset(st->lite);
  PQclear(st->res);
  st->res = NULL;
}

void rsim__bsql_finalize(rsim__bstmt *st) {
  if (!st) return;
  sqlite3_finalize(st->lite);
  PQclear(st->res);
  for (int i = 0; i < st->n_params; i++) free(st->params[i]);
  free(st->params);
  free(st->sql);
  free(st);
}
