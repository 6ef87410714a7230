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
  rsim_store_opts wo = {0};
  cli_filters filters = {0};
  for (int i = 1; i < argc; i++) {
    if (cli_opt(argc, argv, &i, "--out", &v)) out = v;
    else if (cli_opt(argc, argv, &i, "--drive", &v)) wo.drive = v;
    else if (!strcmp(argv[i], "--overwrite")) overwrite = true;
    else if (cli_opt(argc, argv, &i, "--schemas", &v) && (!strcmp(v, "foxglove") || !strcmp(v, "rsim")))
      wo.foxglove = !strcmp(v, "foxglove");
    else if (cli_filter_opt(argc, argv, &i, &filters)) continue;
    else if (argv[i][0] != '-' && !in) in = argv[i];
    else in = NULL, i = argc;
  }
  if (!in || !out) {
    fprintf(stderr, "usage: replaysim %s INPUT --out OUTPUT [--overwrite] [--schemas rsim|foxglove]\n"
                    "           [--topics MAP.yaml] [--topic TOPIC=ID[:KIND]] [--sensors P[,P]] ...\n"
                    "  (SQLite <-> MCAP; an output ending in .mcap is MCAP; --schemas foxglove writes\n"
                    "   camera, lidar, radar and gps in Foxglove schemas, rsim keeps every byte;\n"
                    "   OUTPUT postgresql://USER@HOST/DB --drive NAME loads a drive into PostgreSQL)\n", verb);
    cli_filters_free(&filters);
    return CLI_USAGE;
  }
  rsim_errbuf eb = {0};
  rsim_store *base = NULL, *src = NULL, *dst = NULL;
  int orc = cli_store_open(in, &filters, &base, &src, &eb);
  cli_filters_free(&filters);
  if (orc || rsim_store_create_opts(out, overwrite, &wo, &dst, &eb)) {
    if (src != base) rsim_store_close(src);
    rsim_store_close(base);
    return cli_fail("%s: %s", verb, eb.msg);
  }
  cli_progress pr;
  cli_progress_init(&pr, verb);
  int rc = rsim_store_copy(src, dst, on_progress, &pr, &eb);
  size_t gaps = rsim_store_n_gaps(base);
  if (rsim_store_n_warnings(base) > filters.warned && pr.tty) fputc('\n', stderr);
  cli_store_warnings(base, &filters);
  /* An MCAP output is written out here: a full disk shows up now. */
  if (!rc && (rc = rsim_store_finish(dst))) rsim_errbuf_set(&eb, rc, "%s", rsim_store_errmsg(dst));
  rsim_store_close(dst);
  if (src != base) rsim_store_close(src);
  rsim_store_close(base);
  if (rc) {
    if (!rsim_store_is_uri(out)) remove(out); /* PostgreSQL rolled back on close */
    return cli_fail("\n%s: %s", verb, eb.msg);
  }
  cli_progress_done(&pr, NULL);
  printf("wrote %s from %s\n", out, in);
  if (gaps) printf("gaps: %zu damaged chunks of %s skipped (--on-corrupt skip); their readings are missing\n", gaps, in);
  return CLI_OK;
}

int cli_import(int argc, char **argv) { return convert("import", argc, argv); }
int cli_export(int argc, char **argv) { return convert("export", argc, argv); }
