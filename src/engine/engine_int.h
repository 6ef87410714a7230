/*
** engine_int.h -- internals shared by the engine's files: the parsed graph
** (graph.c), the checks (check.c), the sensor bridge and host imports
** (bridge.c) and the scheduler (engine.c).
**
** Invariants:
**  - g->order is a topological order of the components (sources before
**    targets), ties broken by position in the file.
**  - a link source's index is the index of the source component when
**    is_sensor is false.
**  - a link has at least one source; several mean fan-in into a list.
**  - a derived sensor's `from` names a sensor of the store, never another
**    derived sensor (transforms chain inside one sensor instead).
*/
#ifndef RSIM_ENGINE_INT_H
#define RSIM_ENGINE_INT_H

#include "rsim/engine.h"
#include "rsim/store.h"
#include "rsim/wasm.h"

/* The contract's versions the host loads, said once: rsim:sim@0.2.0
** (components/wit/sim.wit, what the examples build against) and 0.3.0
** (components/wit/0.3.0: a reading's payload as list<u8>, no payload-len).
** A component built for another 0.x minor version does not fit (semver).
** The host keeps readings as 0.2.0 values (engine.h, RSIM_READING_*); the
** boundary drops payload-len for a 0.3.0 reading (src/wasm/convert.c). */
#define RSIM_WIT_VERSION "0.2.0"
#define RSIM_WIT_VERSION_030 "0.3.0"
#define RSIM_SENSOR_DATA_IFACE "rsim:sim/sensor-data@" RSIM_WIT_VERSION
#define RSIM_SENSOR_DATA_IFACE_030 "rsim:sim/sensor-data@" RSIM_WIT_VERSION_030
#define RSIM_STATE_IFACE "rsim:sim/state@" RSIM_WIT_VERSION
#define RSIM_STATE_IFACE_030 "rsim:sim/state@" RSIM_WIT_VERSION_030

/* One source of a link: a sensor or a component's output. */
typedef struct rsim__src {
  bool is_sensor;
  char *name;          /* sensor id or component name */
  size_t index;        /* resolved component index (component sources) */
} rsim__src;

/* How a link hands a source's outputs to its target (docs/graph.md). */
enum {
  RSIM__LINK_LATEST = 0, /* the latest output; outputs the target never saw are counted */
  RSIM__LINK_QUEUE       /* every output since the target's last run, bounded */
};

typedef struct rsim__link {
  char *port;          /* the target's parameter name */
  rsim__src *srcs;     /* one, or several for fan-in into a list */
  size_t n_srcs;
  bool fan_in;         /* written as a list: the port takes a list */
  char *iface;         /* interface the source must export, or NULL */
  int policy;          /* RSIM__LINK_* */
  size_t queue;        /* bound of a queue link, in outputs */
  int line;
} rsim__link;

/* How the bridge answers for a sensor between its readings. */
enum {
  RSIM__SAMPLE_AUTO = 0,   /* by kind: interpolate numeric kinds, hold frames */
  RSIM__SAMPLE_EXACT,      /* only a reading stamped now */
  RSIM__SAMPLE_HOLD,       /* last known good */
  RSIM__SAMPLE_INTERPOLATE /* linear between the readings around now */
};

/* A host-side transform of a sensor's readings (sample.c). */
typedef enum rsim__op_kind {
  RSIM__OP_GRAYSCALE,  /* camera rgb8 -> mono8 */
  RSIM__OP_DOWNSCALE,  /* camera: n x n box average */
  RSIM__OP_DECIMATE,   /* lidar/radar: every n-th point */
  RSIM__OP_RANGE_CROP, /* lidar/radar: keep a <= range <= b */
  RSIM__OP_SCALE       /* numeric kinds: field *= a (unit conversion) */
} rsim__op_kind;

typedef struct rsim__xform {
  rsim__op_kind op;
  int n;               /* downscale/decimate factor */
  double a, b;         /* range_crop bounds; scale factor in a */
  char field[16];      /* scale: the payload field (docs/graph.md) */
} rsim__xform;

/* A CAN signal the bridge may interpolate: little-endian integer at offset. */
typedef struct rsim__can_signal {
  int offset;          /* in the frame's data bytes */
  int bytes;           /* 1, 2 or 4 */
  bool is_signed;
} rsim__can_signal;

/* A `sensors:` entry: bridge settings of a sensor, or a derived sensor. */
typedef struct rsim__gsensor {
  char *id;
  char *from;          /* derived sensors: the store sensor it transforms */
  int sample;          /* RSIM__SAMPLE_* */
  int64_t max_staleness_ns; /* 0: the default (docs/graph.md) */
  rsim__xform *ops;
  size_t n_ops;
  char *ops_text;      /* as written, for the readings' metadata */
  rsim__can_signal *signals;
  size_t n_signals;
  int line;
} rsim__gsensor;

typedef struct rsim__gnode {
  char *name;
  char *wasm_spec;     /* as written in the file */
  char *wasm_path;     /* resolved; NULL when no candidate exists */
  char *sha256;        /* `sha256:` pin, 64 lowercase hex digits, or NULL */
  char *world;         /* optional */
  char *export_name;   /* optional */
  char *trigger;       /* on-data trigger sensor, or NULL */
  int64_t period_ns;   /* rate trigger, or 0 */
  rsim__link *inputs;
  size_t n_inputs;
  rsim_kv *config;
  size_t n_config;
  rsim_wasm_limits limits; /* `limits:` (fuel, deadline, memory, table) */
  int on_fault;        /* RSIM__FAULT_*: what a trap or a limit leads to */
  int64_t budget_ns;   /* timing budget per call; 0: the period (rate components) */
  bool halt_on_timing; /* `on_timing: halt` */
  bool wasi_deterministic; /* `wasi: deterministic`: may carry the WASI adapter */
  int line;
} rsim__gnode;

/* What follows a component's trap or exceeded limit (docs/graph.md). */
enum {
  RSIM__FAULT_DEFAULT = 0, /* from the run's --on-error: halt, or skip */
  RSIM__FAULT_SKIP,        /* restart it, no output this time, go on */
  RSIM__FAULT_RETRY,       /* restart it and call again once; then skip */
  RSIM__FAULT_HALT         /* stop the run */
};

struct rsim_graph {
  char *path;
  char *name;
  rsim__gnode *nodes;
  size_t n;
  size_t *order;
  rsim__gsensor *sensors;
  size_t n_sensors;
  bool require_hashes; /* rsim_graph_require_hashes */
  rsim_kv *eval; /* the `eval:` block: key "COMPONENT.KEY" (read by src/eval) */
  size_t n_eval;
};

/* The `sensors:` entry for id, or NULL. */
const rsim__gsensor *rsim__graph_sensor(const rsim_graph *g, const char *id);

/* A component compiled and matched against its graph node by check.c. */
typedef struct rsim__checked {
  rsim_component *comp;
  int export_index;
} rsim__checked;

/*
** The check behind rsim_graph_check and rsim_engine_new: compiles the
** components with we into out[] (n entries, caller frees the components)
** and checks everything.  Returns the number of problems found.
*/
int rsim__graph_check(const rsim_graph *g, rsim_store *st, rsim_wasm_engine *we,
                      rsim__checked *out, rsim_buf *report, rsim_errbuf *eb);

/* The host imports every component may use (rsim:sim/sensor-data). */
extern const rsim_host_def rsim__host_defs[];
extern const size_t rsim__n_host_defs;
/* What a component with `wasi: deterministic` gets besides rsim__host_defs:
** rsim:wasi/deterministic, which components/wasi-deterministic imports. */
#define RSIM_WASI_DET_IFACE "rsim:wasi/deterministic@0.1.0"
extern const rsim_host_def rsim__wasi_host_defs[];
extern const size_t rsim__n_wasi_host_defs;
/* The type the host gives host import `name` of interface iface (a
** version of rsim:sim/sensor-data the host provides), for checking
** components' expectations; NULL for an unknown function or version. */
const rsim_func_sig *rsim__host_sig(const char *iface, const char *name);
/* The reading type a sensor hands to an input of type want: rsim:sim@0.3.0's
** when want is it (or a list of it), else 0.2.0's (rsim_engine_reading_type). */
const rsim_type *rsim__reading_type_for(const rsim_type *want);

/* Host-import context: what a component's calls into the host can see. */
typedef struct rsim__host_ctx {
  struct rsim_engine *engine;
  size_t node;         /* index of the calling component */
} rsim__host_ctx;

/* Latest reading of sensor id at the engine's current time (bridge.c);
** RSIM_ENOTFOUND when there is none or the sensor is unknown. */
int rsim__engine_sensor_val(struct rsim_engine *e, size_t node, const char *id, rsim_val *out);
rsim_time rsim__engine_now(const struct rsim_engine *e);
void rsim__engine_log(struct rsim_engine *e, size_t node, int level, const char *msg);
const char *rsim__engine_config(const struct rsim_engine *e, size_t node, const char *key);

/* ---- sample.c: interpolation and transforms, pure functions ---------- */

/*
** Linear interpolation of a numeric reading between prev and next at t
** (prev->t < t < next->t) into out (owned by the caller).  Returns
** RSIM_ENOTSUP when the kind has no numeric layout (frames, clouds, a CAN
** frame without signals or with another id) or a payload has the wrong size.
*/
int rsim__interpolate(const rsim_reading *prev, const rsim_reading *next, rsim_time t,
                      const rsim__can_signal *sig, size_t n_sig, rsim_reading *out);
/* Applies ops in order to in, giving out (owned by the caller); RSIM_EINVAL
** with a message in msg when a reading does not fit an op. */
int rsim__transform(const rsim__xform *ops, size_t n_ops, const rsim_reading *in,
                    rsim_reading *out, char *msg, size_t msg_len);
/* Parses one transform ("downscale 2", "scale distance 100", ...) for a
** sensor kind; RSIM_EINVAL with a message in msg. */
int rsim__xform_parse(const char *text, rsim__xform *out, char *msg, size_t msg_len);

#endif /* RSIM_ENGINE_INT_H */
