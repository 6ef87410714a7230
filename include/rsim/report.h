/*
** report.h -- one self-contained HTML page over the scores of runs: a
** summary table (a row a run), each run's whole-run metrics, its worst
** windows, its metrics over time as inline SVG (warnings and errors the run
** recorded marked on them), and A/B deltas between runs of the same drive.
**
** The page reads what `replaysim eval` kept in each run database's `eval`
** table (docs/evaluation.md) and the run's `run` and `events` tables; it
** needs no network when viewed (inline CSS and SVG, no script).  A "drive"
** is the store a run recorded it replayed (`run.store`); the input is a list
** of run databases and results databases of `replaysim batch`, whose jobs
** are shown as runs (a job's drive is its store and range; docs/report.md).
*/
#ifndef RSIM_REPORT_H
#define RSIM_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "rsim/util.h"

typedef struct rsim_report_opts {
  const char *title; /* NULL = "replaysim report" */
  int worst;         /* worst windows listed a component; 0 = 3 */
  const char *baseline; /* a run or results database: the A of A/B (runs matched by drive and range); NULL = none */
} rsim_report_opts;

/*
** Writes the page for the databases runs[0..n-1] into out.  A run database
** that cannot be read, or that has no eval table, is an error naming it.
** With o->baseline, the A/B section compares each run with the baseline's
** run of the same drive (the baseline's runs are not shown otherwise).
*/
int rsim_report_html(const char *const *runs, size_t n, const rsim_report_opts *o, rsim_buf *out, rsim_errbuf *eb);

/* True when run_db has an eval table with at least one row. */
bool rsim_report_has_eval(const char *run_db);

#endif /* RSIM_REPORT_H */
