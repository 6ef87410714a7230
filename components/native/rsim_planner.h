/*
** rsim_planner.h -- adaptive cruise control with lane keeping: picks the
** lead object in the ego lane, computes an Intelligent Driver Model
** acceleration and rolls out a 5 s trajectory.
*/
#ifndef RSIM_PLANNER_H
#define RSIM_PLANNER_H

#include <stddef.h>
#include <stdint.h>

enum { PLN_CRUISE = 0, PLN_FOLLOW, PLN_BRAKE, PLN_STOP };

typedef struct pln_ego {
  float speed, yaw_rate, accel, steer;
} pln_ego;

typedef struct pln_obj {
  float x, y, vx, vy;      /* relative to the ego, vehicle frame */
} pln_obj;

typedef struct pln_params {
  float set_speed;         /* m/s (default 27.8) */
  float time_gap, min_gap; /* s, m (1.5, 2) */
  float a_max, b_comf;     /* m/s^2 (1.5, 2.0) */
  float lane_half_width;   /* m (1.75) */
} pln_params;

#define PLN_POINTS 11

typedef struct pln_point {
  int64_t dt;
  float x, y, speed, accel;
} pln_point;

typedef struct pln_out {
  int maneuver;            /* PLN_* */
  float accel, target_speed;
  int lead;                /* index into the objects, or -1 */
  pln_point points[PLN_POINTS];
} pln_out;

void pln_params_default(pln_params *p);
const char *pln_maneuver_name(int m);
/* Decodes the CAN dynamics frame (id 0x100); -1 if it is not one. */
int pln_decode_can(const uint8_t *payload, size_t len, pln_ego *out);
void pln_plan(const pln_params *p, const pln_ego *ego, const pln_obj *objs, int n, pln_out *out);

#endif
