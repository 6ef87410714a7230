/*
** record.h -- the output of a run: a SQLite database (default), or an MCAP
** file that Foxglove opens when the path ends in ".mcap" (input camera and
** lidar, every output as JSON, boxes as ImageAnnotations, objects and paths
** as SceneUpdate, log lines as Log; see src/record/mcap_record.c).
**
** A run records every component output (canonical bytes and JSON), every
** log line and error event, and per-component statistics into a SQLite file
** separate from the input log, so that outputs can be inspected later with
** `sqlite3` or replaysim itself.  Rows are committed in small batches: a
** crash loses at most the last batch, never the file.
**
** Schema (version 1):
**   run(key TEXT PRIMARY KEY, value TEXT)                -- graph, store, range, digest
**   components(name TEXT PRIMARY KEY, wasm TEXT, export TEXT, result_type TEXT)
**   outputs(seq INTEGER PRIMARY KEY, t INTEGER, component TEXT, value BLOB, json TEXT)
**   events(id INTEGER PRIMARY KEY, t INTEGER, component TEXT, level TEXT, message TEXT)
**   stats(component TEXT PRIMARY KEY, calls, errors, not_ready, outputs, mean_us, max_us)
*/
#ifndef RSIM_RECORD_H
#define RSIM_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsim/engine.h"
#include "rsim/store.h"
#include "rsim/util.h"
#include "rsim/value.h"

typedef struct rsim_record rsim_record;

/* Creates the output database (an existing file is replaced only when
** overwrite is true: a run never silently clobbers earlier results). */
int rsim_record_open(const char *path, bool overwrite, rsim_record **out, rsim_errbuf *eb);
/* Commits what is pending and closes; NULL is a no-op. */
int rsim_record_close(rsim_record *r);
const char *rsim_record_errmsg(const rsim_record *r);

int rsim_record_set(rsim_record *r, const char *key, const char *value);
int rsim_record_component(rsim_record *r, const char *name, const char *wasm,
                          const char *export_name, const rsim_type *result);
/* One output: the value with its type, its canonical encoding
** (rsim_val_encode) and its JSON rendering (json may be NULL for SQLite). */
int rsim_record_output(rsim_record *r, rsim_time t, const char *component, const rsim_val *v,
                       const rsim_type *type, const uint8_t *enc, size_t enc_len, const char *json);
/* An input reading as the components saw it (kept by MCAP outputs; the
** SQLite output leaves inputs in the input store). */
int rsim_record_reading(rsim_record *r, const rsim_reading *reading);
int rsim_record_event(rsim_record *r, rsim_time t, const char *component, int level,
                      const char *message);
/* A component's statistics at the end of the run (one row each). */
int rsim_record_stats(rsim_record *r, const rsim_component_stats *s);

#endif /* RSIM_RECORD_H */
