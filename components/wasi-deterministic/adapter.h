/*
** adapter.h -- what adapter.c shares with the stubs stubs.py generates.
*/
#ifndef RSIM_WASI_ADAPTER_H
#define RSIM_WASI_ADAPTER_H

/* A refused call: one warning in the run log, naming what was called. */
void rsim_wasi_refused(const char *what);
/* A call that cannot happen for a resource the adapter never creates:
** logged as an error, then a trap. */
_Noreturn void rsim_wasi_unreachable(const char *what);

#endif
