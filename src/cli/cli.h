/*
** cli.h -- shared pieces of the replaysim command: one function per verb
** (cmd_*.c) and small helpers for options and progress output.
*/
#ifndef RSIM_CLI_H
#define RSIM_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "rsim/engine.h"
#include "rsim/store.h"
#include "rsim/util.h"

int cli_generate(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_mcap(int argc, char **argv);
int cli_import(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_render(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_db(int argc, char **argv);
int cli_diff(int argc, char **argv);
int cli_batch(int argc, char **argv);
int cli_config(int argc, char **argv);
int cli_new(int argc, char **argv);
int cli_install_sdk(int argc, char **argv);
int cli_test_component(int argc, char **argv);

/* Exit codes: 0 ok, 1 the work failed (bad input, trap), 2 usage. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Option scanning: matches "--name value" and "--name=value". */
bool cli_opt(int argc, char **argv, int *i, const char *name, const char **value);
/* A malformed option value, as one of the strict parsers (rsim/util.h)
** described it in eb: prints "replaysim VERB: OPT: MESSAGE" on stderr as
** the command's last line and returns CLI_USAGE. */
int cli_bad_value(const char *verb, const char *opt, const rsim_errbuf *eb);
/* --from / --to as given: checked for their form at once, so a malformed
** time is said before any file is opened (cli_range resolves them). */
bool cli_time_opt(int argc, char **argv, int *i, const char *verb, const char **from, const char **to, int *bad);
/* --threads N (1..256): the engine's threads (rsim_engine_opts.threads);
** *bad gets CLI_USAGE (said) when N is malformed. */
bool cli_threads_opt(int argc, char **argv, int *i, const char *verb, int *threads, int *bad);

/* Sensor filters of `run`, `check`, `info` and `import`: --sensors
** P[,P...], --exclude P (repeatable), --remap OLD=NEW (repeatable); patterns
** are shell-style.  For MCAP input, the topic map: --topics FILE.yaml and
** --topic TOPIC=ID[:KIND] (repeatable), and --on-corrupt stop|skip (skip:
** a damaged chunk is a gap, not an error).  --no-read-ahead: the store is
** read on the command's own thread (by default each cursor reads ahead on
** a thread of its own, rsim_store_readahead). */
typedef struct cli_filters {
  const char *include[32], *exclude[32], *remap[32];
  size_t n_include, n_exclude, n_remap;
  char *owned; /* the split copy of --sensors */
  rsim_topic_rule *topics;
  size_t n_topics;
  rsim_errbuf topic_err; /* a bad --topic/--topics/--on-corrupt, reported on open */
  bool skip_corrupt;
  bool no_read_ahead;
  size_t warned;         /* store warnings printed so far */
} cli_filters;

/* Consumes one filter option at argv[*i]; false if it is not one. */
bool cli_filter_opt(int argc, char **argv, int *i, cli_filters *f);
/* Opens path with the topic map into *base (read ahead unless
** --no-read-ahead: then *base owns the store it reads) and sets *st to a
** filtered view of it when any filter was given, else to *base (close
** both: the view owns nothing). */
int cli_store_open(const char *path, cli_filters *f, rsim_store **base, rsim_store **st, rsim_errbuf *eb);
/* Prints the store's warnings not printed yet (a store read unindexed,
** gaps) on stderr; cli_store_open prints those of opening. */
void cli_store_warnings(rsim_store *st, cli_filters *f);
void cli_filters_free(cli_filters *f);

/* --from / --to (ns since the epoch, or a duration into the log like 12.5s)
** into *from / *to (left 0 when not given), clamped to the store's log with
** a line on stderr saying so.  RSIM_EINVAL for a malformed time,
** RSIM_ENOTFOUND for an empty store; the message is in eb. */
int cli_range(const char *verb, rsim_store *st, const char *from, const char *to, rsim_time *out_from,
              rsim_time *out_to, rsim_errbuf *eb);

/* The error that ends a command: standard output is flushed first so that
** the error is the last line even when both streams go to one file, then
** fmt and a newline go to stderr.  Returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An rsim_log_fn for the engine: "[  1.234s] warn NAME: message" on stderr,
** the time counted from *(const rsim_time *)ud, the start of the run. */
void cli_engine_log(void *ud, rsim_time t, const char *component, int level, const char *msg);
/* Sets what the command says before an allocation failure aborts it. */
void cli_report_init(void);

/* A/B runs (`run --variant`, variant.c): the variant graph, its engine
** and its record, stepped in lockstep with the baseline's engine. */
typedef struct cli_variant {
  const char *spec, *component, *wasm, *out; /* spec: COMPONENT[=FILE.wasm] as given */
  rsim_kv config[32];
  size_t n_config;
  char *owned[40];
  size_t n_owned;
  rsim_graph *g;
  rsim_record *rec;
  rsim_engine *e;
  rsim_store *shared; /* both engines' store: one read of the drive */
  int rc; /* the variant engine's end: RSIM_EEOF or its error */
} cli_variant;

/* Consumes --variant, --variant-config or --out-variant at argv[*i];
** *bad gets CLI_USAGE for a malformed one. */
bool cli_variant_opt(int argc, char **argv, int *i, cli_variant *v, int *bad);
/* The store both engines read (rsim_store_shared over st), kept by v;
** give it to the baseline's engine before building either engine. */
rsim_store *cli_variant_store(cli_variant *v, rsim_store *st);
/* Builds the variant graph and engine (opts as the baseline's, its own record). */
int cli_variant_start(cli_variant *v, const rsim_graph *g, const rsim_engine_opts *opts, const char *graph,
                      const char *store, bool overwrite, rsim_errbuf *eb);
/* Steps base and the variant in lockstep to their ends; returns base's code. */
int cli_variant_play(cli_variant *v, rsim_engine *base);
/* Prints the variant's statistics and digest; CLI_FAIL (message in eb when
** eb holds none yet) when the variant stopped on an error. */
int cli_variant_report(cli_variant *v, bool component_digests, rsim_errbuf *eb);
/* After the baseline's engine is freed (its cursors are on v's store). */
void cli_variant_free(cli_variant *v);

/* A progress line on stderr: redrawn in place on a terminal, one line per
** tenth otherwise (CI logs). */
typedef struct cli_progress {
  const char *label;
  int last_decile;
  int64_t last_draw_ns;
  bool tty;
} cli_progress;

void cli_progress_init(cli_progress *p, const char *label);
void cli_progress_update(cli_progress *p, double fraction, const char *detail);
void cli_progress_done(cli_progress *p, const char *detail);

/* The component toolchain and SDK (sdk.c): an installed SDK ($RSIM_SDK,
** or the prefix this binary is installed in) or the build tree. */
typedef struct cli_sdk {
  bool installed;       /* root is an SDK from install-sdk, not a source tree */
  char root[4096];      /* the SDK's prefix, or the source tree */
  char cc[4096], sysroot[4096], wit_bindgen[4096], wasm_tools[4096];
  /* Python components (`new --lang python`): optional, checked by its user. */
  char wac[4096], componentize_py[4096];
  char wasi_adapter[4200]; /* components/wasi_deterministic.wasm */
  char cflags[4300];    /* for the core module, --sysroot included */
  char wit[4096];       /* the folder of sim.wit */
  char include[4096];   /* the folder of rsim_guest.h */
  char templates[4096]; /* what `new` writes from */
  char examples[4096];  /* the demo graphs (demo/graph.yaml, composed/composed.yaml) */
  char components[4096];/* the example components the demo graph names */
  char web[4096];       /* the web UI's files (serve --web) */
  char replaysim[4096]; /* this binary */
} cli_sdk;

/* Fills s and checks that every tool and file is there; RSIM_ENOTFOUND
** naming the missing one otherwise. */
int cli_sdk_find(cli_sdk *s, rsim_errbuf *eb);
/* a "/" b into out (empty when it does not fit). */
void cli_path(char *out, size_t n, const char *a, const char *b);
/* The running binary's absolute path. */
bool cli_self_path(char *out, size_t n);

#endif /* RSIM_CLI_H */
