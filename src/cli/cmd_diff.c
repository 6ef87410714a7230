/*
** cmd_diff.c -- `replaysim diff RUN_A RUN_B [--json]`: compares two run
** databases component by component (digests, the first instant whose
** outputs differ and both outputs there, how many instants differ) and
** their metrics when both were scored (src/eval/diff.c).  Exits 0 whether
** or not the runs differ: the report is the result.
*/
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rsim/eval.h"

static int usage(void) {
  fprintf(stderr, "usage: replaysim diff RUN_A.db RUN_B.db [--json]\n"
                  "  per component: identical or not, the first differing instant, how many differ;\n"
                  "  metric deltas (better/worse) when both runs were scored by replaysim eval\n");
  return CLI_USAGE;
}

int cli_diff(int argc, char **argv) {
  const char *a = NULL, *b = NULL;
  bool json = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json")) json = true;
    else if (argv[i][0] != '-' && !a) a = argv[i];
    else if (argv[i][0] != '-' && !b) b = argv[i];
    else return usage();
  }
  if (!a || !b) return usage();
  rsim_errbuf eb = {0};
  rsim_diff *d = NULL;
  if (rsim_diff_runs(a, b, &d, &eb)) return cli_fail("diff: %s", eb.msg);
  rsim_buf out = {0};
  if (json) rsim_diff_json(d, &out);
  else rsim_diff_table(d, &out);
  fwrite(out.data, 1, out.len, stdout);
  rsim_buf_free(&out);
  rsim_diff_free(d);
  return CLI_OK;
}
