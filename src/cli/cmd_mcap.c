/*
** cmd_mcap.c -- `replaysim mcap info FILE` and `replaysim mcap cat FILE
** [--json]`: what users of the mcap command-line tool expect.
*/
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rsim/mcap.h"

static int usage(void) {
  fprintf(stderr, "usage: replaysim mcap info FILE.mcap\n"
                  "       replaysim mcap cat FILE.mcap [--json]\n");
  return CLI_USAGE;
}

/* One line per message (streamed): time, topic id, sequence, size. */
static int cat_lines(const char *path) {
  rsim_errbuf eb = {0};
  rsim_mcap_reader *rd;
  if (rsim_mcap_reader_open(path, &rd, &eb)) {
    fprintf(stderr, "%s\n", eb.msg);
    return CLI_FAIL;
  }
  const rsim_mcap_record *r;
  int rc;
  while ((rc = rsim_mcap_reader_next(rd, &r)) == RSIM_OK) {
    if (r->op != RSIM_MCAP_MESSAGE) continue;
    printf("%llu.%09llu channel %u seq %u %llu bytes\n",
           (unsigned long long)(r->r.message.log_time / 1000000000u),
           (unsigned long long)(r->r.message.log_time % 1000000000u), r->r.message.channel_id,
           r->r.message.sequence, (unsigned long long)r->r.message.data.n);
  }
  if (rc != RSIM_EEOF) cli_fail("%s", rsim_mcap_reader_errmsg(rd)); /* after the lines printed */
  rsim_mcap_reader_close(rd);
  return rc == RSIM_EEOF ? CLI_OK : CLI_FAIL;
}

int cli_mcap(int argc, char **argv) {
  if (argc < 3) return usage();
  const char *verb = argv[1], *path = argv[2];
  bool json = argc == 4 && !strcmp(argv[3], "--json");
  if (argc > 4 || (argc == 4 && !json)) return usage();
  rsim_errbuf eb = {0};
  rsim_buf out = {0};
  int rc;
  if (!strcmp(verb, "info") && argc == 3) rc = rsim_mcap_info(path, &out, &eb);
  else if (!strcmp(verb, "cat") && json) rc = rsim_mcap_cat_json(path, &out, &eb);
  else if (!strcmp(verb, "cat")) return cat_lines(path);
  else return usage();
  if (rc) {
    fprintf(stderr, "%s\n", eb.msg);
    rsim_buf_free(&out);
    return CLI_FAIL;
  }
  fwrite(out.data, 1, out.len, stdout);
  if (json) fputc('\n', stdout);
  rsim_buf_free(&out);
  return CLI_OK;
}
