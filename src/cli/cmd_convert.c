/*
** cmd_convert.c -- `replaysim import FILE.mcap --out drive.db` and
** `replaysim export drive.db --out drive.mcap`: one store into another,
** every reading byte for byte (the output's format follows its name).
*/
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rsim/store.h"

static void on_progress(void *ud, double f) { cli_progress_update(ud, f, NULL); }

static int convert(const char *verb, int argc, char **argv) {
  const char *in = NULL, *out = NULL, *v;
  bool overwrite = false;
  for (int i = 1; i < argc; i++) {
    if (cli_opt(argc, argv, &i, "--out", &v)) out = v;
    else if (!strcmp(argv[i], "--overwrite")) overwrite = true;
    else if (argv[i][0] != '-' && !in) in = argv[i];
    else in = NULL, i = argc;
  }
  if (!in || !out) {
    fprintf(stderr, "usage: replaysim %s INPUT --out OUTPUT [--overwrite]\n"
                    "  (SQLite <-> MCAP; an output ending in .mcap is MCAP)\n", verb);
    return CLI_USAGE;
  }
  rsim_errbuf eb = {0};
  rsim_store *src = NULL, *dst = NULL;
  if (rsim_store_open(in, &src, &eb) || rsim_store_create(out, overwrite, &dst, &eb)) {
    fprintf(stderr, "%s: %s\n", verb, eb.msg);
    rsim_store_close(src);
    return CLI_FAIL;
  }
  cli_progress pr;
  cli_progress_init(&pr, verb);
  int rc = rsim_store_copy(src, dst, on_progress, &pr, &eb);
  rsim_store_close(dst);
  rsim_store_close(src);
  if (rc) {
    fprintf(stderr, "\n%s: %s\n", verb, eb.msg);
    remove(out);
    return CLI_FAIL;
  }
  cli_progress_done(&pr, NULL);
  printf("wrote %s from %s\n", out, in);
  return CLI_OK;
}

int cli_import(int argc, char **argv) { return convert("import", argc, argv); }
int cli_export(int argc, char **argv) { return convert("export", argc, argv); }
