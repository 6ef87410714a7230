/*
** error.c -- names and texts of rsim_err codes, and the rsim_errbuf that
** holds a failure's details until the caller prints them.
*/
#include <stdarg.h>
#include <stdio.h>

#include "rsim/error.h"

const char *rsim_strerror(int err) {
  switch (err) {
    case RSIM_OK: return "success";
#define RSIM_XX(name, val, msg) \
  case RSIM_E##name: return msg;
    RSIM_ERR_MAP(RSIM_XX)
#undef RSIM_XX
  }
  return "unknown error";
}

const char *rsim_err_name(int err) {
  switch (err) {
    case RSIM_OK: return "RSIM_OK";
#define RSIM_XX(name, val, msg) \
  case RSIM_E##name: return "RSIM_E" #name;
    RSIM_ERR_MAP(RSIM_XX)
#undef RSIM_XX
  }
  return "RSIM_E?";
}

void rsim_errbuf_clear(rsim_errbuf *eb) {
  if (!eb) return;
  eb->code = 0;
  eb->msg[0] = 0;
}

int rsim_errbuf_set(rsim_errbuf *eb, int code, const char *fmt, ...) {
  if (!eb || eb->msg[0]) return code; /* the first error is the one that matters */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
  va_end(ap);
  eb->code = code;
  return code;
}
