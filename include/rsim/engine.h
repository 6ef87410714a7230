/*
** engine.h -- graphs of components and the deterministic replay engine.
**
** A graph file (YAML) names components (a .wasm file, an optional world, a
** trigger) and links their inputs to sensors or to other components'
** outputs.  Loading a graph checks it: unknown files, cycles, unknown
** sensors, and the types on both ends of every link, taken from the
** components' own WIT types.
**
** Time model.  Sim time is int64 ns since the Unix epoch.  A component runs
** either at a fixed rate (at anchor + k*period exactly, the anchor being the
** first reading of the log, so the schedule does not depend on where a run
** starts) or on data (once per reading of its trigger sensor, at that
** reading's own timestamp).  The engine advances from one instant to the
** next instant at which something is due; at each instant it first takes in
** every reading with that timestamp, then runs the due components in
** topological order (ties by order in the graph file).  Nothing is
** quantised to a base tick.
**
** Determinism.  The same store, graph and components give the same outputs
** bit for bit, whatever the playback speed and the number of threads; the
** run digest (SHA-256 over every output in execution order: component
** name, time, canonical value encoding) proves it.
**
** Threads.  With opts.threads > 1 (the default: one a core, at most one a
** component), the runs of one instant that do not feed each other are
** called on worker threads at the same time, each component's instance by
** one thread at a time; their outputs, log lines and stats are committed
** in the serial order (docs/design.md, "Parallel schedule").  Log
** callbacks and the record are used from the caller's thread only.
** rsim_engine_step_run runs exactly one call, on the caller's thread.
*/
#ifndef RSIM_ENGINE_H
#define RSIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsim/store.h"
#include "rsim/util.h"
#include "rsim/value.h"

typedef struct rsim_graph rsim_graph;
typedef struct rsim_engine rsim_engine;
typedef struct rsim_record rsim_record;

/* ---- graphs ------------------------------------------------------------------ */

/*
** Parses a graph file and checks what can be checked without components:
** YAML syntax (errors carry line numbers), names, link syntax, triggers,
** references to unknown components, cycles.  Component files are resolved
** to paths here (relative to the graph file's folder, then each folder of
** $RSIM_COMPONENT_PATH, then the components folder of the build the
** replaysim binary belongs to).  The caller frees the graph.
*/
int rsim_graph_load(const char *path, rsim_graph **out, rsim_errbuf *eb);
void rsim_graph_free(rsim_graph *g);
/*
** Who may be loaded.  A component entry may pin its file with `sha256: <64
** hex digits>`; a pinned file whose bytes hash otherwise is refused by
** rsim_graph_check and rsim_engine_new, naming the component, the pinned
** and the actual digest.  With require_hashes on, a component without a
** pin is refused too (`--require-hashes`).  Off by default.
*/
void rsim_graph_require_hashes(rsim_graph *g, bool on);
size_t rsim_graph_n_components(const rsim_graph *g);
const char *rsim_graph_component_name(const rsim_graph *g, size_t i);
const char *rsim_graph_component_wasm(const rsim_graph *g, size_t i);
/* The graph's `eval:` block as "COMPONENT.KEY" = VALUE pairs, in file order
** (borrowed; read by `replaysim eval`, docs/evaluation.md). */
const rsim_kv *rsim_graph_eval(const rsim_graph *g, size_t *n);

/*
** The graph of an A/B run (`replaysim run --variant`): g loaded again from
** its file, with component's file replaced by wasm (NULL keeps it; the
** `sha256:` pin is dropped with it) and its `config:` keys set from config.
** The caller frees the copy.
*/
int rsim_graph_variant(const rsim_graph *g, const char *component, const char *wasm, const rsim_kv *config,
                       size_t n_config, rsim_graph **out, rsim_errbuf *eb);

/*
** The full check, as `replaysim check` runs it: compiles every component,
** checks worlds, ports, the type of both ends of every link, the host
** imports each component expects, and (when st is not NULL) that every
** sensor named exists in the store.  Appends one line per problem to
** report; returns RSIM_OK when there is none, else RSIM_EGRAPH or
** RSIM_ETYPE with the first problem in eb.
*/
int rsim_graph_check(const rsim_graph *g, rsim_store *st, rsim_buf *report, rsim_errbuf *eb);

/* ---- runs -------------------------------------------------------------------- */

/* What a component's trap or exceeded limit does when its graph entry has
** no `on_fault:` of its own (docs/graph.md, "Faults and limits"). */
typedef enum rsim_on_error {
  RSIM_ON_ERROR_STOP = 0, /* the run stops (default) */
  RSIM_ON_ERROR_CONTINUE  /* report, re-instantiate the component, skip that call, go on */
} rsim_on_error;

/* How the engine reports a log line from a component or itself. */
typedef void (*rsim_log_fn)(void *ud, rsim_time t, const char *component, int level,
                            const char *msg);

typedef struct rsim_engine_opts {
  rsim_store *store;      /* borrowed; must outlive the engine */
  rsim_time from, to;     /* run range; 0 = the log's first / last reading */
  rsim_on_error on_error;
  rsim_record *record;    /* borrowed; NULL = outputs are not recorded */
  rsim_log_fn log;        /* NULL = not reported (a record still keeps them) */
  void *log_ud;
  int log_level;          /* lowest level passed to log: 0 debug .. 3 error */
  int64_t checkpoint_every_ns; /* sim time between checkpoints; 0 = 0.5 s, < 0 = only the start */
  size_t checkpoint_max;  /* checkpoints kept in memory; when full, every other one goes and the interval doubles; 0 = 4096 */
  const char *checkpoint_dir; /* also write each checkpoint there (created if missing); NULL = memory only */
  int threads;            /* threads for the runs of one instant; 0 = one a core, 1 = the caller's only (see below) */
} rsim_engine_opts;

/* Log levels, as in the WIT enum log-level. */
enum { RSIM_LOG_DEBUG = 0, RSIM_LOG_INFO, RSIM_LOG_WARN, RSIM_LOG_ERROR };

/*
** Builds an engine for graph g (borrowed; must outlive the engine) over
** opts->store: runs rsim_graph_check, instantiates every component and
** positions the clock at the start of the range.
*/
int rsim_engine_new(const rsim_graph *g, const rsim_engine_opts *opts, rsim_engine **out,
                    rsim_errbuf *eb);
void rsim_engine_free(rsim_engine *e);
const char *rsim_engine_errmsg(const rsim_engine *e);

/*
** Runs every component due at the next instant.  Returns RSIM_OK, RSIM_EEOF
** when the range is done, or an error (a trap under RSIM_ON_ERROR_STOP
** gives RSIM_ETRAP with the component, sim time and trap message in
** rsim_engine_errmsg).
*/
int rsim_engine_step(rsim_engine *e);
/*
** Runs the next single component run: the next due run of the current
** instant (its readings are taken in before its first run), so that a run
** can be watched component by component.  *component (may be NULL) gets
** the index of the component that ran.  rsim_engine_step after it
** finishes the instant.  Outputs are the same as stepping by instants.
*/
int rsim_engine_step_run(rsim_engine *e, size_t *component);
/* Threads the runs of an instant use (opts.threads resolved). */
int rsim_engine_threads(const rsim_engine *e);
/* How many runs started before the instant before theirs was committed
** (with threads: the window of instants, docs/design.md); for stats and
** tests.  It never changes an output. */
uint64_t rsim_engine_runs_ahead(const rsim_engine *e);
/*
** Work of the coming instants, done while the caller waits for the next
** one's due time (a player pacing at 1x): with threads, the runs whose
** inputs are final go to the workers and this returns at once; on one
** thread, the next instant's first run executes here when its component's
** mean call fits in budget_ns.  A wait under 1 ms is left alone.  Returns
** true when it executed a run here (time passed: look at the clock again).
** Outputs, digests, records and logs are committed by the next step
** exactly as without; a seek or restore undoes what was done ahead.
*/
bool rsim_engine_work_ahead(rsim_engine *e, int64_t budget_ns);
/*
** Whether the caller steps each instant at its due time (a player at a
** finite speed).  With threads, the stepping thread then never takes a
** worker's run of a later instant, so an instant closes as soon as its own
** runs are done; unpaced (the default: max speed, seeks) it takes any,
** which keeps a chain of calls on one thread.  Outputs do not depend on it.
*/
void rsim_engine_set_paced(rsim_engine *e, bool paced);
/* Time of the instant the last step ran (the start before any step). */
rsim_time rsim_engine_time(const rsim_engine *e);
/* Time of the next instant, or RSIM_EEOF. */
int rsim_engine_next_time(rsim_engine *e, rsim_time *out);
/* The run's range after defaults were applied. */
void rsim_engine_range(const rsim_engine *e, rsim_time *out_from, rsim_time *out_to);
/* Digest of every output so far: 64 hex digits and a NUL. */
void rsim_engine_digest(const rsim_engine *e, char hex[65]);
/*
** Digest of component i's outputs alone (time and canonical value of each),
** so that two graphs that share a component can be compared on it: a
** composed component against its linked twin, for instance.
*/
void rsim_engine_component_digest(const rsim_engine *e, size_t i, char hex[65]);

typedef struct rsim_component_stats {
  const char *name;       /* borrowed from the engine */
  uint64_t calls;
  uint64_t errors;        /* traps and failed calls */
  uint64_t not_ready;     /* due, but an input had no value yet */
  uint64_t outputs;
  uint64_t superseded;    /* outputs of its sources it never saw (latest links) */
  uint64_t dropped;       /* outputs its full queues dropped (queue links) */
  int64_t total_ns, max_ns; /* wall time in calls */
  uint64_t limit_hits;    /* calls stopped by fuel or deadline (also in errors) */
  uint64_t restarts;      /* re-instantiations after a fault */
  uint64_t retries;       /* calls made again after a fault (on_fault: retry) */
  uint64_t skipped;       /* due calls that gave no output because of a fault */
  uint64_t timing_violations; /* calls longer than the budget (or the period) */
  uint64_t max_fuel;      /* most fuel one call used (fuel-limited components) */
} rsim_component_stats;

size_t rsim_engine_n_components(const rsim_engine *e);
void rsim_engine_stats(const rsim_engine *e, size_t i, rsim_component_stats *out);
/* What the sensor bridge did so far (docs/graph.md). */
typedef struct rsim_engine_bridge_stats {
  uint64_t interpolated;    /* readings interpolated between two others */
  uint64_t stale;           /* answers of none because the reading was too old */
  uint64_t transforms;      /* derived readings computed */
  uint64_t transform_hits;  /* derived readings served from the cache */
} rsim_engine_bridge_stats;
void rsim_engine_bridge_stats_get(const rsim_engine *e, rsim_engine_bridge_stats *out);

/* Total number of readings taken from the store so far. */
uint64_t rsim_engine_readings(const rsim_engine *e);

/*
** The latest output of component i, borrowed until the next step (NULL
** before its first output), with its type.
*/
const rsim_val *rsim_engine_output(const rsim_engine *e, size_t i, const rsim_type **out_type,
                                   rsim_time *out_t);

/* ---- checkpoints and seeking (docs/checkpoints.md) --------------------------------- */

/*
** Puts the run into the state it has after every instant <= t (t is
** clamped to the range; before the first instant it is the start): the
** latest checkpoint at or before t is restored and the run re-simulated
** to t, or it goes on from the current instant when that is nearer.
** Outputs re-simulated on the way are neither recorded nor logged again.
** The state, the digests and every later output are those of a run played
** from the start to t.
*/
int rsim_engine_seek(rsim_engine *e, rsim_time t);
/* The same in slices: re-simulates at most max_instants (0 = no limit) and
** sets *reached once the run is at t.  Until then the run is at an earlier
** instant, exactly as a run played to there; calling again with the same t
** goes on from it (a player keeps its controls live this way). */
int rsim_engine_seek_some(rsim_engine *e, rsim_time t, uint64_t max_instants, bool *reached);
/* Back to the state after the instant before the current one (the start
** after the first); RSIM_EEOF at the start. */
int rsim_engine_step_back(rsim_engine *e);

/*
** Continues a run from the latest whole checkpoint file in dir (written by
** a run of the same graph, range start and interval with checkpoint_dir):
** damaged or foreign files are skipped with a warning naming them.  Call
** right after rsim_engine_new.  RSIM_ENOTFOUND when none can be used.
*/
int rsim_engine_resume(rsim_engine *e, const char *dir);

typedef struct rsim_engine_ckpt_stats {
  uint64_t taken;         /* checkpoints taken (the start not counted) */
  int64_t take_ns;        /* wall time spent taking them (and writing files) */
  size_t held;            /* in memory now */
  int64_t interval_ns;    /* between them now: K, doubled each time checkpoint_max were held */
  size_t bytes;           /* their size, roughly */
  uint64_t seeks, restores;
  uint64_t resimulated;   /* instants stepped again by seeks */
  const char *stateless;  /* a component without the state interface (seeks re-simulate from the start), or NULL */
} rsim_engine_ckpt_stats;
void rsim_engine_ckpt_stats_get(const rsim_engine *e, rsim_engine_ckpt_stats *out);

/*
** Keeps a copy of each component's last committed call's arguments, for
** inspection (the server's components panel); off by default, as it copies
** every input, camera frames too.  A run prepared ahead (threads' window,
** rsim_engine_work_ahead) holds its copy until it is committed, so the
** inputs shown are never a later instant's; turn it on before stepping: a
** run prepared before keeps no copy of its arguments.
*/
void rsim_engine_keep_inputs(rsim_engine *e, bool on);
/* Component i's last inputs as JSON {"t": NS, "inputs": {"param": value}}
** (byte lists over 64 summarised); false when none are kept yet. */
bool rsim_engine_inputs_json(const rsim_engine *e, size_t i, rsim_buf *out);

/* The sensor-reading record as WIT defines it (static, borrowed), and the
** index of each of its fields in a value of it. */
enum {
  RSIM_READING_SENSOR_ID,
  RSIM_READING_TIMESTAMP,
  RSIM_READING_KIND,
  RSIM_READING_PAYLOAD,
  RSIM_READING_PAYLOAD_LEN,
  RSIM_READING_METADATA,
  RSIM_READING_N_FIELDS
};
const rsim_type *rsim_engine_reading_type(void);
/* Converts a reading to a value of rsim_engine_reading_type().  Its payload
** field holds the bytes as they are (RSIM_BYTES); they are packed into
** list<u64> elements only when handed to a component. */
void rsim_engine_reading_to_val(const rsim_reading *r, rsim_val *out);

/* The seed a component with `wasi: deterministic` draws its random numbers
** from: its config value wasi.seed, an unsigned number (decimal or 0x..), or
** a fixed default when text is NULL.  Either way the graph decides it, so two
** runs of one graph draw the same numbers.  A malformed text fails with
** RSIM_EINVAL and a message quoting it. */
int rsim_engine_wasi_seed(const char *text, uint64_t *out, rsim_errbuf *eb);

#endif /* RSIM_ENGINE_H */
