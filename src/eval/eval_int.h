/*
** eval_int.h -- internals of the evaluation module shared between its files.
*/
#ifndef RSIM_EVAL_INT_H
#define RSIM_EVAL_INT_H

#include "rsim/eval.h"
#include "rsim/value.h"

/* The type written by rsim_type_format, read back; NULL when malformed. */
rsim_type *rsim__eval_type_parse(const char *text);

/* plan.c: whether outputs of type t are plans; the ego's speed from the
** CAN dynamics frame at or before t (NaN without one); a plan output as a
** rsim_eval_plan at t_s seconds against the truth at its time (the points
** are malloc'd; the manoeuvre is interned in names). */
bool rsim__eval_is_plan_type(const rsim_type *t);
double rsim__eval_ego_speed(rsim_store *st, const char *can_id, rsim_time t);
void rsim__eval_plan_from(const rsim_val *v, const rsim_type *t, double t_s, const rsim_truth *g, size_t ng,
                          double ego_speed, double ego_front, char ***names, size_t *n_names, rsim_eval_plan *out);

#endif
