/*
** engine_int.h -- internals shared by the engine's files: the parsed graph
** (graph.c), the checks (check.c), the sensor bridge and host imports
** (bridge.c) and the scheduler (engine.c).
**
** Invariants:
**  - g->order is a topological order of the components (sources before
**    targets), ties broken by position in the file.
**  - a link's src_index is the index of the source component when
**    src_is_sensor is false.
*/
#ifndef RSIM_ENGINE_INT_H
#define RSIM_ENGINE_INT_H

#include "rsim/engine.h"
#include "rsim/store.h"
#include "rsim/wasm.h"

typedef struct rsim__link {
  char *port;          /* the target's parameter name */
  bool src_is_sensor;
  char *src;           /* sensor id or component name */
  size_t src_index;    /* resolved component index (component sources) */
  int line;
} rsim__link;

typedef struct rsim__gnode {
  char *name;
  char *wasm_spec;     /* as written in the file */
  char *wasm_path;     /* resolved; NULL when no candidate exists */
  char *world;         /* optional */
  char *export_name;   /* optional */
  char *trigger;       /* on-data trigger sensor, or NULL */
  int64_t period_ns;   /* rate trigger, or 0 */
  rsim__link *inputs;
  size_t n_inputs;
  rsim_kv *config;
  size_t n_config;
  int line;
} rsim__gnode;

struct rsim_graph {
  char *path;
  char *name;
  rsim__gnode *nodes;
  size_t n;
  size_t *order;
};

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
/* The type the host gives each host import, for checking components'
** expectations; NULL for an unknown function. */
const rsim_func_sig *rsim__host_sig(const char *name);

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

#endif /* RSIM_ENGINE_INT_H */
