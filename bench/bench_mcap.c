/*
** bench_mcap.c -- MCAP reading speed: time to open a file (footer and
** summary only), and indexed reading of every message (MB/s, messages/s).
**
**   bench_mcap FILE.mcap [REPEAT]
** Compare with bench/mcap_python.py on the same file (PyPI mcap).
*/
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "rsim/mcap.h"

static double now_s(void) { return (double)rsim_monotonic_ns() / 1e9; }

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_mcap FILE.mcap [REPEAT]\n");
    return 2;
  }
  bench_name = "bench_mcap";
  int repeat = (int)bench_arg_int(argc, argv, 2, "REPEAT", 3, 1, 1000000);
  rsim_errbuf eb = {0};
  double best_open = 1e9, best_read = 1e9;
  uint64_t bytes = 0, msgs = 0;
  for (int k = 0; k < repeat; k++) {
    double t0 = now_s();
    rsim_mcap_reader *rd;
    if (rsim_mcap_reader_open(argv[1], &rd, &eb) || rsim_mcap_reader_summary(rd)) {
      fprintf(stderr, "%s\n", eb.msg[0] ? eb.msg : rsim_mcap_reader_errmsg(rd));
      return 1;
    }
    double t1 = now_s();
    if (t1 - t0 < best_open) best_open = t1 - t0;
    const rsim_mcap_message *m;
    bytes = msgs = 0;
    rsim_mcap_reader_messages(rd, 0, UINT64_MAX, NULL, 0);
    int rc;
    while ((rc = rsim_mcap_reader_next_message(rd, &m)) == RSIM_OK) {
      bytes += m->len;
      msgs++;
    }
    if (rc != RSIM_EEOF) {
      fprintf(stderr, "%s\n", rsim_mcap_reader_errmsg(rd));
      return 1;
    }
    double t2 = now_s();
    if (t2 - t1 < best_read) best_read = t2 - t1;
    rsim_mcap_reader_close(rd);
  }
  printf("open (footer + summary): %.3f ms\n", best_open * 1e3);
  printf("indexed read of all messages: %llu messages, %.1f MB in %.3f s = %.0f MB/s, %.0f messages/s\n",
         (unsigned long long)msgs, (double)bytes / 1e6, best_read, (double)bytes / 1e6 / best_read,
         (double)msgs / best_read);
  return 0;
}
