/*
** component.c -- camera-radar fusion as a component (world fusion).
*/
#include "fusion.h"
#define RSIM_WORLD fusion
#include "rsim_fusion.h"
#include "rsim_guest.h"

#define MAX_IN 256

static fus_params g_p;
static bool g_init;

static void copy_wit(char *dst, size_t n, const fusion_string_t *s) {
  size_t len = s->len < n - 1 ? s->len : n - 1;
  memcpy(dst, s->ptr, len);
  dst[len] = 0;
}

static void init_params(void) {
  fus_params_default(&g_p);
  g_p.fx = rsim_config_f32("camera.fx", g_p.fx);
  g_p.fy = rsim_config_f32("camera.fy", g_p.fy);
  g_p.cx = rsim_config_f32("camera.cx", g_p.cx);
  g_p.cy = rsim_config_f32("camera.cy", g_p.cy);
  g_p.cam_x = rsim_config_f32("camera.mount_x", g_p.cam_x);
  g_p.cam_z = rsim_config_f32("camera.mount_z", g_p.cam_z);
  g_init = true;
}

void exports_rsim_sim_sensor_fusion_fuse_detections(
    exports_rsim_sim_sensor_fusion_list_detected_object_t *camera_objects,
    exports_rsim_sim_sensor_fusion_list_radar_track_t *radar_tracks,
    exports_rsim_sim_sensor_fusion_list_fused_object_t *ret) {
  if (!g_init) init_params();
  static fus_cam cams[MAX_IN];
  static fus_radar radar[MAX_IN];
  static fus_obj out[2 * MAX_IN];
  int nc = camera_objects->len < MAX_IN ? (int)camera_objects->len : MAX_IN;
  int nr = radar_tracks->len < MAX_IN ? (int)radar_tracks->len : MAX_IN;
  for (int i = 0; i < nc; i++) {
    const rsim_sim_types_detected_object_t *d = &camera_objects->ptr[i];
    cams[i] = (fus_cam){d->bbox.x, d->bbox.y, d->bbox.width, d->bbox.height, d->confidence, "", ""};
    copy_wit(cams[i].cls, sizeof cams[i].cls, &d->class_);
    copy_wit(cams[i].id, sizeof cams[i].id, &d->id);
  }
  for (int i = 0; i < nr; i++) {
    const rsim_sim_types_radar_track_t *t = &radar_tracks->ptr[i];
    radar[i] = (fus_radar){t->id, t->position.x, t->position.y, t->velocity.x, t->velocity.y, t->confidence};
  }
  int n = fus_fuse(&g_p, cams, nc, radar, nr, out, 2 * MAX_IN);
  ret->len = (size_t)n;
  ret->ptr = n ? malloc((size_t)n * sizeof *ret->ptr) : NULL;
  for (int i = 0; i < n; i++) {
    rsim_sim_types_fused_object_t *o = &ret->ptr[i];
    o->id = rsim_str_dup(out[i].id);
    o->position = (rsim_sim_types_vec3_t){out[i].x, out[i].y, 0.0f};
    o->velocity = (rsim_sim_types_vec3_t){out[i].vx, out[i].vy, 0.0f};
    o->classification = rsim_str_dup(out[i].cls);
    o->confidence = out[i].confidence;
    size_t ns = (size_t)out[i].from_camera + (size_t)out[i].from_radar, k = 0;
    o->sources.len = ns;
    o->sources.ptr = malloc(ns * sizeof *o->sources.ptr);
    if (out[i].from_camera) o->sources.ptr[k++] = rsim_str_dup("camera");
    if (out[i].from_radar) o->sources.ptr[k++] = rsim_str_dup("radar");
  }
  exports_rsim_sim_sensor_fusion_list_detected_object_free(camera_objects);
  exports_rsim_sim_sensor_fusion_list_radar_track_free(radar_tracks);
}

/* Nothing but configuration and scratch survives a call. */
RSIM_STATELESS()
