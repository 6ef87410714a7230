/*
** bench_store.c -- reading a whole store through the store interface, the
** way a replay does (one cursor over every sensor): seconds, MB/s and the
** peak resident memory of the process.  For comparing one drive in SQLite,
** MCAP and PostgreSQL (bench/pg_bench.sh runs it on each).
**
**   bench_store STORE [REPEAT]
*/
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "bench_util.h"
#include "rsim/store.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_store STORE [REPEAT]\n");
    return 2;
  }
  bench_name = "bench_store";
  int repeat = (int)bench_arg_int(argc, argv, 2, "REPEAT", 3, 1, 1000000);
  double best = 1e9;
  uint64_t bytes = 0, n = 0;
  for (int k = 0; k < repeat; k++) {
    rsim_errbuf eb = {0};
    rsim_store *st;
    int64_t t0 = rsim_monotonic_ns();
    if (rsim_store_open(argv[1], &st, &eb)) {
      fprintf(stderr, "%s\n", eb.msg);
      return 1;
    }
    rsim_cursor *c;
    const rsim_reading *r;
    int rc = rsim_store_cursor_open(st, INT64_MIN, INT64_MAX, NULL, 0, &c);
    bytes = n = 0;
    while (!rc && (rc = rsim_cursor_next(c, &r)) == RSIM_OK) {
      bytes += r->payload_len;
      n++;
    }
    if (rc != RSIM_EEOF) {
      fprintf(stderr, "%s\n", rsim_store_errmsg(st));
      return 1;
    }
    rsim_cursor_close(c);
    rsim_store_close(st);
    double s = (double)(rsim_monotonic_ns() - t0) / 1e9;
    if (s < best) best = s;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("%llu readings, %.1f MB in %.3f s (best of %d): %.0f MB/s, peak RSS %.1f MB\n", (unsigned long long)n,
         (double)bytes / 1e6, best, repeat, (double)bytes / 1e6 / best, (double)ru.ru_maxrss / 1024.0);
  return 0;
}
