/*
** planner_core.c -- adaptive cruise control.  The lead is the nearest
** object ahead in the ego lane; the acceleration follows the Intelligent
** Driver Model (free-road term towards the set speed, interaction term
** keeping a time gap), clamped to comfortable bounds; the trajectory rolls
** that acceleration out over 5 s while keeping the lane centre.
*/
#include <math.h>

#include "rsim_planner.h"

void pln_params_default(pln_params *p) {
  p->set_speed = 27.8f;
  p->time_gap = 1.5f;
  p->min_gap = 2.0f;
  p->a_max = 1.5f;
  p->b_comf = 2.0f;
  p->lane_half_width = 1.75f;
}

const char *pln_maneuver_name(int m) {
  static const char *const names[] = {"cruise", "follow", "brake", "stop"};
  return m >= 0 && m <= PLN_STOP ? names[m] : "cruise";
}

int pln_decode_can(const uint8_t *b, size_t len, pln_ego *out) {
  if (len < 16) return -1;
  uint32_t id = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  if (id != 0x100 || b[4] < 8) return -1;
  const uint8_t *d = b + 5;
  out->speed = (float)(uint16_t)(d[0] | d[1] << 8) * 0.01f;
  out->yaw_rate = (float)(int16_t)(uint16_t)(d[2] | d[3] << 8) * 0.0001f;
  out->accel = (float)(int16_t)(uint16_t)(d[4] | d[5] << 8) * 0.001f;
  out->steer = (float)(int16_t)(uint16_t)(d[6] | d[7] << 8) * 0.001f;
  return 0;
}

void pln_plan(const pln_params *p, const pln_ego *ego, const pln_obj *objs, int n, pln_out *out) {
  out->lead = -1;
  for (int i = 0; i < n; i++) {
    if (objs[i].x <= 0 || fabsf(objs[i].y) >= p->lane_half_width) continue;
    if (out->lead < 0 || objs[i].x < objs[out->lead].x) out->lead = i;
  }
  float v = ego->speed > 0 ? ego->speed : 0;
  float ratio = v / p->set_speed;
  float a = p->a_max * (1.0f - ratio * ratio * ratio * ratio);
  out->target_speed = p->set_speed;
  if (out->lead >= 0) {
    const pln_obj *l = &objs[out->lead];
    /* The objects' x is their centre: about half a car length to the bumper. */
    float gap = l->x - 2.5f;
    if (gap < 0.1f) gap = 0.1f;
    float closing = -l->vx; /* > 0 when the lead is slower */
    float s_star = p->min_gap + v * p->time_gap + v * closing / (2.0f * sqrtf(p->a_max * p->b_comf));
    if (s_star < p->min_gap) s_star = p->min_gap;
    a -= p->a_max * (s_star / gap) * (s_star / gap);
    float lead_speed = v + l->vx;
    if (lead_speed < out->target_speed) out->target_speed = lead_speed > 0 ? lead_speed : 0;
  }
  if (a < -6.0f) a = -6.0f;
  if (a > 2.0f) a = 2.0f;
  out->accel = a;
  if (v < 0.5f && a <= 0) out->maneuver = PLN_STOP;
  else if (a < -2.0f) out->maneuver = PLN_BRAKE;
  else if (out->lead >= 0) out->maneuver = PLN_FOLLOW;
  else out->maneuver = PLN_CRUISE;
  float x = 0;
  for (int k = 0; k < PLN_POINTS; k++) {
    float t = 0.5f * (float)k;
    float vk = v + a * t;
    if (vk < 0) vk = 0;
    if (k > 0) {
      float v_prev = v + a * (t - 0.5f);
      if (v_prev < 0) v_prev = 0;
      x += 0.25f * (v_prev + vk); /* trapezoid over 0.5 s */
    }
    out->points[k].dt = (int64_t)k * 500000000;
    out->points[k].x = x;
    out->points[k].y = 0.0f;
    out->points[k].speed = vk;
    out->points[k].accel = vk > 0 ? a : 0;
  }
}
