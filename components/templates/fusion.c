/*
** @NAME@.c -- camera-radar fusion for replaysim (world fusion of
** rsim:sim@0.2.0), started by `replaysim new`.
**
** The host calls fuse-detections at the graph's rate with the latest
** outputs of the detector and the tracker, and keeps the fused objects it
** returns.  This starter passes every radar track through as an object and
** counts the camera detections: replace it with your association.
**
** What you can use (rsim_guest.h, found through `replaysim config`):
**   rsim_config_f32(key, def)     a value of this component's `config:` in graph.yaml
**   rsim_log(level, fmt, ...)     a line in the run's log, with the sim time
**   rsim_str_dup(s)               a string to return (the host frees it)
**   RSIM_STATE(var)               what survives between calls, for seek and checkpoints
** No WASI: no printf, no files, no clock; time and data come from the host.
*/
#include "@PREFIX@.h"
#define RSIM_WORLD @PREFIX@
#include "rsim_guest.h"

/* Everything kept between calls (a plain struct: no pointers). */
static struct {
  uint32_t calls, most_camera_objects;
} g_state;

RSIM_STATE(g_state)

void exports_rsim_sim_sensor_fusion_fuse_detections(exports_rsim_sim_sensor_fusion_list_detected_object_t *camera_objects,
                                                    exports_rsim_sim_sensor_fusion_list_radar_track_t *radar_tracks,
                                                    exports_rsim_sim_sensor_fusion_list_fused_object_t *ret) {
  float min_conf = rsim_config_f32("min_confidence", 0.0f);
  g_state.calls++;
  if (camera_objects->len > g_state.most_camera_objects) {
    g_state.most_camera_objects = (uint32_t)camera_objects->len;
    rsim_log(RSIM_DEBUG, "up to %zu camera objects now", camera_objects->len);
  }
  size_t n = radar_tracks->len;
  ret->len = 0;
  ret->ptr = n ? malloc(n * sizeof *ret->ptr) : NULL;  /* the host frees what we return */
  for (size_t i = 0; i < n; i++) {
    const rsim_sim_types_radar_track_t *t = &radar_tracks->ptr[i];
    if (t->confidence < min_conf) continue;
    rsim_sim_types_fused_object_t *o = &ret->ptr[ret->len++];
    char id[16];
    rsim_fmt(id, sizeof id, "r%u", t->id);
    o->id = rsim_str_dup(id);
    o->position = t->position;
    o->velocity = t->velocity;
    o->classification = rsim_str_dup("unknown");
    o->confidence = t->confidence;
    o->sources.len = 1;
    o->sources.ptr = malloc(sizeof *o->sources.ptr);
    o->sources.ptr[0] = rsim_str_dup("radar");
  }
  /* The arguments are ours to free (wit-bindgen's convention). */
  exports_rsim_sim_sensor_fusion_list_detected_object_free(camera_objects);
  exports_rsim_sim_sensor_fusion_list_radar_track_free(radar_tracks);
}
