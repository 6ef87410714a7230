/*
** cmd_db.c -- `replaysim db init URI` and `replaysim db ls URI`: a
** PostgreSQL database of drives (docs/fleet.md).  Drives go in with
** `replaysim import F.db --out URI --drive NAME` and replay from
** `--store 'URI?drive=NAME'` like any store.
*/
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rsim/store.h"

static int usage(void) {
  fprintf(stderr, "usage: replaysim db init URI   create replaysim's schema in a PostgreSQL database\n"
                  "       replaysim db ls URI     list its drives: time range, sensors, readings, size\n"
                  "  URI: postgresql://USER@HOST:PORT/DB (the password from PGPASSWORD or ~/.pgpass)\n");
  return CLI_USAGE;
}

static int db_init(const char *uri) {
  rsim_errbuf eb = {0};
  bool created;
  if (rsim_db_init(uri, &created, &eb)) {
    fprintf(stderr, "db init: %s\n", eb.msg);
    return CLI_FAIL;
  }
  printf(created ? "%s: created the replaysim schema (version 1)\n" : "%s: the replaysim schema is there (version 1)\n",
         uri);
  return CLI_OK;
}

static int db_ls(const char *uri) {
  rsim_errbuf eb = {0};
  rsim_db_drive *d;
  size_t n;
  if (rsim_db_list(uri, &d, &n, &eb)) {
    fprintf(stderr, "db ls: %s\n", eb.msg);
    return CLI_FAIL;
  }
  printf("%-24s %20s %12s %8s %10s %10s\n", "drive", "start (ns)", "duration", "sensors", "readings", "MB");
  for (size_t i = 0; i < n; i++) {
    char dur[32];
    rsim_format_duration(d[i].last - d[i].first, dur, sizeof dur);
    printf("%-24s %20lld %12s %8lld %10lld %10.1f\n", d[i].name, (long long)d[i].first, dur, (long long)d[i].sensors,
           (long long)d[i].readings, (double)d[i].bytes / 1e6);
  }
  printf("%zu drive%s\n", n, n == 1 ? "" : "s");
  rsim_db_drives_free(d, n);
  return CLI_OK;
}

int cli_db(int argc, char **argv) {
  if (argc != 3 || !rsim_store_is_uri(argv[2])) return usage();
  if (!strcmp(argv[1], "init")) return db_init(argv[2]);
  if (!strcmp(argv[1], "ls")) return db_ls(argv[2]);
  return usage();
}
