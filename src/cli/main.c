/*
** main.c -- the replaysim command: dispatches to one cmd_*.c per verb.
** The CLI is a client of the public library API only (include/rsim).
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct {
  const char *name;
  int (*fn)(int, char **);
  const char *help;
} kCommands[] = {
    {"generate", cli_generate, "write a synthetic drive: --out drive.db|drive.mcap --duration 60s --seed N"},
    {"run", cli_run, "replay a log through a graph: GRAPH --store drive.db [--speed X|max] [--out run.db]"},
    {"check", cli_check, "validate a graph: GRAPH [--store drive.db]"},
    {"inspect", cli_inspect, "show a component's imports and exports with their WIT types: FILE.wasm"},
    {"info", cli_info, "summarise a store: sensors, kinds, rates, counts, time range: drive.db"},
    {"import", cli_import, "copy a store into SQLite: FILE.mcap --out drive.db"},
    {"export", cli_export, "copy a store into MCAP: drive.db --out drive.mcap"},
    {"serve", cli_serve, "serve a run to the web UI and the JSON control API: GRAPH --store drive.db [--port 8080]"},
    {"render", cli_render, "draw the UI's layers into PNG: GRAPH --store drive.db --at T --out frame.png | --every 1s --out DIR"},
    {"eval", cli_eval, "score a run's outputs against ground truth: RUN.db --truth drive.db [--json]"},
    {"report", cli_report, "one HTML page over scored runs: RUN.db [RUN2.db ...] --out report.html"},
    {"diff", cli_diff, "compare two runs: outputs per component, first difference, metric deltas: A.db B.db [--json]"},
    {"mcap", cli_mcap, "look into an MCAP file: info FILE | cat FILE [--json]"},
    {"batch", cli_batch, "many runs at once into one results database: GRAPH --stores 'logs/*.mcap' [--jobs N] | report RESULTS.db"},
    {"db", cli_db, "a PostgreSQL database of drives: init URI | ls URI"},
    {"new", cli_new, "start a component project: WORLD DIR | --wit FILE --world NAME DIR"},
    {"test-component", cli_test_component, "call a component on real readings, no graph: C.wasm --store drive.db --sensor ID [--expect F.json]"},
    {"config", cli_config, "the component toolchain's paths: --toolchain [--make]"},
    {"install-sdk", cli_install_sdk, "install the SDK (replaysim, WIT, header, tools, examples) for builds outside this tree: PREFIX"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: replaysim <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof kCommands / sizeof kCommands[0]; i++)
    fprintf(f, "  %-14s %s\n", kCommands[i].name, kCommands[i].help);
  fprintf(f, "\nTimes are nanoseconds since the Unix epoch, or durations from the log's start "
             "(\"+12.5s\", \"12.5s\").\n`replaysim <command> --help` for a command's options.\n");
}

bool cli_opt(int argc, char **argv, int *i, const char *name, const char **value) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n)) return false;
  if (a[n] == '=') {
    *value = a + n + 1;
    return true;
  }
  if (a[n] || *i + 1 >= argc) return false;
  *value = argv[++*i];
  return true;
}

int cli_bad_value(const char *verb, const char *opt, const rsim_errbuf *eb) {
  fprintf(stderr, "replaysim %s: %s: %s\n", verb, opt, eb->msg);
  return CLI_USAGE;
}

bool cli_threads_opt(int argc, char **argv, int *i, const char *verb, int *threads, int *bad) {
  const char *v;
  if (!cli_opt(argc, argv, i, "--threads", &v)) return false;
  int64_t n;
  rsim_errbuf eb = {0};
  if (rsim_parse_int(v, 1, 256, &n, &eb)) *bad = cli_bad_value(verb, "--threads", &eb);
  else *threads = (int)n;
  return true;
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_USAGE : CLI_OK;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("replaysim 0.1.0\n");
    return CLI_OK;
  }
  cli_report_init();
  for (size_t i = 0; i < sizeof kCommands / sizeof kCommands[0]; i++)
    if (!strcmp(argv[1], kCommands[i].name)) {
      int rc = kCommands[i].fn(argc - 1, argv + 1);
      /* Output that could not be written is a failure too (a full disk, a
      ** closed pipe): said last, not lost at exit. */
      errno = 0;
      if (fflush(stdout) != 0 || ferror(stdout)) {
        int err = errno;
        fprintf(stderr, "%s: cannot write standard output%s%s\n", argv[1], err ? ": " : "", err ? strerror(err) : "");
        return CLI_FAIL;
      }
      return rc;
    }
  fprintf(stderr, "replaysim: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return CLI_USAGE;
}
