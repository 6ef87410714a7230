/*
** eval_int.h -- internals of the evaluation module shared between its files.
*/
#ifndef RSIM_EVAL_INT_H
#define RSIM_EVAL_INT_H

#include "rsim/eval.h"
#include "rsim/value.h"

/* The type written by rsim_type_format, read back; NULL when malformed. */
rsim_type *rsim__eval_type_parse(const char *text);

#endif
