/*
** @NAME@.c -- a planner for replaysim (world planner of rsim:sim@0.2.0),
** started by `replaysim new`.
**
** The host calls plan at the graph's rate with the latest fused objects and
** the ego vehicle's CAN dynamics frame, and keeps the trajectory it returns.
** This starter cruises at a set speed and slows for the nearest object in
** its lane: replace choose_speed with your planner.
**
** What you can use (rsim_guest.h, found through `replaysim config`):
**   rsim_payload(reading, &len)   the CAN frame's bytes (docs/sensors.md, can)
**   rsim_config_f32(key, def)     a value of this component's `config:` in graph.yaml
**   rsim_log(level, fmt, ...)     a line in the run's log, with the sim time
**   RSIM_STATE(var)               what survives between calls, for seek and checkpoints
** No WASI: no printf, no files, no clock; time and data come from the host.
*/
#include "@PREFIX@.h"
#define RSIM_WORLD @PREFIX@
#include "rsim_guest.h"

#define N_POINTS 10      /* trajectory points, 0.1 s apart */
#define LANE_HALF 1.8f   /* m: an object with |y| below this is in our lane */

/* Everything kept between calls (a plain struct: no pointers). */
static struct {
  float last_target;  /* the target speed of the previous plan, m/s */
  bool braking;       /* to log when braking starts and ends, not every call */
} g_state;

RSIM_STATE(g_state)

/* The ego speed (m/s) from CAN frame 0x100: u32 id, u8 dlc, data[8], whose
** bytes 0-1 are the speed in 0.01 m/s; -1 for any other frame. */
static float ego_speed(const rsim_sim_types_sensor_reading_t *vehicle) {
  size_t len;
  const uint8_t *b = rsim_payload(vehicle, &len);
  if (!b || len < 13 || rsim_le_u32(b) != 0x100) return -1.0f;
  return (float)(b[5] | b[6] << 8) * 0.01f;
}

/* Cruise at set_speed; with an object ahead in the lane closer than
** time_gap seconds at our speed, slow to keep the gap.  lead gets its index. */
static float choose_speed(const exports_rsim_sim_planning_list_fused_object_t *objects, float speed, int *lead) {
  float set_speed = rsim_config_f32("planner.set_speed", 27.8f);
  float time_gap = rsim_config_f32("planner.time_gap", 1.8f);
  float nearest = 1e9f;
  *lead = -1;
  for (size_t i = 0; i < objects->len; i++) {
    const rsim_sim_types_fused_object_t *o = &objects->ptr[i];
    if (o->position.x > 0 && o->position.y > -LANE_HALF && o->position.y < LANE_HALF && o->position.x < nearest) {
      nearest = o->position.x;
      *lead = (int)i;
    }
  }
  if (*lead < 0) return set_speed;
  float gap_speed = nearest / time_gap;  /* the speed at which the gap is time_gap */
  float lead_speed = speed + objects->ptr[*lead].velocity.x;
  float target = gap_speed < lead_speed ? gap_speed : lead_speed;
  return target < set_speed ? (target > 0 ? target : 0) : set_speed;
}

void exports_rsim_sim_planning_plan(exports_rsim_sim_planning_list_fused_object_t *objects,
                                    exports_rsim_sim_planning_sensor_reading_t *vehicle,
                                    exports_rsim_sim_planning_trajectory_t *ret) {
  float speed = ego_speed(vehicle);
  if (speed < 0) speed = 0;
  int lead;
  float target = choose_speed(objects, speed, &lead);
  float max_decel = rsim_config_f32("planner.max_decel", 4.0f);
  float accel = (target - speed) / 2.0f;  /* reach the target in about 2 s */
  if (accel < -max_decel) accel = -max_decel;
  if (accel > 2.0f) accel = 2.0f;
  bool braking = accel < -0.5f;
  if (braking != g_state.braking)
    rsim_log(RSIM_INFO, "%s: speed %f m/s, target %f m/s", braking ? "braking" : "cruising", (double)speed,
             (double)target);
  g_state.braking = braking;
  g_state.last_target = target;

  ret->timestamp = vehicle->timestamp;
  ret->maneuver = rsim_str_dup(braking ? "brake" : lead >= 0 ? "follow" : "cruise");
  ret->target_speed = target;
  ret->lead_object.is_some = lead >= 0;
  if (lead >= 0) {  /* a copy: the objects are freed below */
    const @PREFIX@_string_t *id = &objects->ptr[lead].id;
    ret->lead_object.val.ptr = malloc(id->len ? id->len : 1);
    memcpy(ret->lead_object.val.ptr, id->ptr, id->len);
    ret->lead_object.val.len = id->len;
  }
  ret->points.len = N_POINTS;
  ret->points.ptr = malloc(N_POINTS * sizeof *ret->points.ptr);
  float x = 0, v = speed;
  for (int k = 0; k < N_POINTS; k++) {
    int64_t dt = (int64_t)(k + 1) * 100000000;  /* ns */
    v += accel * 0.1f;
    if (v < 0) v = 0;
    x += v * 0.1f;
    ret->points.ptr[k] = (rsim_sim_types_trajectory_point_t){dt, x, 0.0f, v, accel};
  }
  /* The arguments are ours to free (wit-bindgen's convention). */
  exports_rsim_sim_planning_list_fused_object_free(objects);
  exports_rsim_sim_planning_sensor_reading_free(vehicle);
}
