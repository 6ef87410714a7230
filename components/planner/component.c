/*
** component.c -- the adaptive-cruise planner as a component (world planner).
*/
#include "planner.h"
#define RSIM_WORLD planner
#include "rsim_guest.h"
#include "rsim_planner.h"

#define MAX_OBJS 256

static pln_params g_p;
static bool g_init, g_warned;

void exports_rsim_sim_planning_plan(exports_rsim_sim_planning_list_fused_object_t *objects,
                                    exports_rsim_sim_planning_sensor_reading_t *vehicle,
                                    exports_rsim_sim_planning_trajectory_t *ret) {
  if (!g_init) {
    pln_params_default(&g_p);
    g_p.set_speed = rsim_config_f32("planner.set_speed", g_p.set_speed);
    g_p.time_gap = rsim_config_f32("planner.time_gap", g_p.time_gap);
    g_init = true;
  }
  pln_ego ego = {0};
  size_t len;
  const uint8_t *frame = rsim_payload(vehicle, &len);
  if ((!frame || pln_decode_can(frame, len, &ego) != 0) && !g_warned) {
    rsim_log(RSIM_WARN, "vehicle input is not a CAN 0x100 dynamics frame; assuming standstill");
    g_warned = true;
  }
  static pln_obj objs[MAX_OBJS];
  int n = objects->len < MAX_OBJS ? (int)objects->len : MAX_OBJS;
  for (int i = 0; i < n; i++) {
    const rsim_sim_types_fused_object_t *o = &objects->ptr[i];
    objs[i] = (pln_obj){o->position.x, o->position.y, o->velocity.x, o->velocity.y};
  }
  pln_out out;
  pln_plan(&g_p, &ego, objs, n, &out);
  ret->timestamp = vehicle->timestamp;
  ret->maneuver = rsim_str_dup(pln_maneuver_name(out.maneuver));
  ret->target_speed = out.target_speed;
  ret->lead_object.is_some = out.lead >= 0;
  if (out.lead >= 0) {
    const planner_string_t *id = &objects->ptr[out.lead].id;
    ret->lead_object.val.ptr = malloc(id->len ? id->len : 1);
    memcpy(ret->lead_object.val.ptr, id->ptr, id->len);
    ret->lead_object.val.len = id->len;
  }
  ret->points.len = PLN_POINTS;
  ret->points.ptr = malloc(PLN_POINTS * sizeof *ret->points.ptr);
  for (int k = 0; k < PLN_POINTS; k++)
    ret->points.ptr[k] = (rsim_sim_types_trajectory_point_t){out.points[k].dt, out.points[k].x,
                                                             out.points[k].y, out.points[k].speed,
                                                             out.points[k].accel};
  exports_rsim_sim_planning_list_fused_object_free(objects);
  exports_rsim_sim_planning_sensor_reading_free(vehicle);
}

/* Nothing but configuration and scratch survives a call. */
RSIM_STATELESS()
