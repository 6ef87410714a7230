/*
** report.c -- how the replaysim command speaks when things go wrong: the
** library never prints, so the command says its errors, the engine's log
** lines and an allocation failure itself.  A failed command's error is its
** last line: cli_fail flushes standard output before writing it.
*/
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int cli_fail(const char *fmt, ...) {
  fflush(stdout); /* what was printed comes first, even in one shared file */
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return CLI_FAIL;
}

void cli_engine_log(void *ud, rsim_time t, const char *component, int level, const char *msg) {
  static const char *const names[] = {"debug", "info", "warn", "error"};
  const rsim_time *from = ud;
  fprintf(stderr, "[%9.3fs] %s %s: %s\n", (double)(t - *from) / 1e9, names[level & 3], component, msg);
}

static void on_oom(size_t n) {
  fflush(stdout);
  fprintf(stderr, "replaysim: out of memory allocating %zu bytes\n", n);
}

void cli_report_init(void) { rsim_set_oom_handler(on_oom); }
