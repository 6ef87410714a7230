/*
** record.h -- the output of a run: a SQLite database (default), or an MCAP
** file that Foxglove opens when the path ends in ".mcap" (input camera and
** lidar, every output as JSON, boxes as ImageAnnotations, objects and paths
** as SceneUpdate, log lines as Log; see src/record/mcap_record.c).
**
** A run records every component output (canonical bytes and JSON), every
** log line and error event, and per-component statistics into a SQLite file
** separate from the input log, so that outputs can be inspected later with
** `sqlite3` or replaysim itself.  Rows are committed at the end of an
** instant, in batches of 512 rows or one second of sim time, whichever
** comes first: a run cut short (killed, out of disk) leaves a file
** that opens, holds every row up to run.recorded_to, and says status
** 'incomplete' -- written when the file is made, replaced by 'complete'
** only when the run says it played to its end (rsim_record_finish).
**
** Errors are sticky: the first failure of any call (a full disk, a failed
** COMMIT) is kept, every later call returns it and writes nothing, and
** rsim_record_close returns it.  The engine stops the run with it.
** An MCAP output is written under a temporary name and renamed when it is
** closed whole; after a failure it is removed, leaving no half file.
**
** Schema (version 2):
**   run(key TEXT PRIMARY KEY, value TEXT)  -- graph, store, digest;
**                                             status 'incomplete'|'complete', recorded_to (ns), error
**   components(name TEXT PRIMARY KEY, wasm TEXT, export TEXT, result_type TEXT)
**   outputs(seq INTEGER PRIMARY KEY, t INTEGER, component TEXT, value BLOB, json TEXT)
**   events(id INTEGER PRIMARY KEY, t INTEGER, component TEXT, level TEXT, message TEXT)
**   stats(component TEXT PRIMARY KEY, calls, errors, not_ready, outputs, mean_us, max_us, limit_hits,
**         restarts, retries, skipped, timing_violations, max_fuel)
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
/* Commits what is pending and closes; returns the first error any call met
** (its message into eb, which may be NULL).  NULL is a no-op. */
int rsim_record_close(rsim_record *r, rsim_errbuf *eb);
/* The message of the first error (empty while there is none). */
const char *rsim_record_errmsg(const rsim_record *r);
/* The first error any call met (sticky), or RSIM_OK. */
int rsim_record_error(const rsim_record *r);

/* Every output and event of sim time t and before has been given (the
** engine calls it at the end of each instant): pending rows are committed
** here once a batch is full or a second of sim time has passed, so the
** file holds whole instants. */
int rsim_record_instant_done(rsim_record *r, rsim_time t);
/* The run ended: error NULL means it played to its end (status
** 'complete'); else the status stays 'incomplete' and error is kept. */
int rsim_record_finish(rsim_record *r, const char *error);

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
