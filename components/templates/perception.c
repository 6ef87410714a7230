/*
** @NAME@.c -- a whole perception stack behind one call for replaysim
** (world perception of rsim:sim@0.2.0), started by `replaysim new`.
**
** The host calls perceive once per radar scan; the camera frame is asked
** of the host (get-sensor-data).  This starter makes one object of every
** radar detection and logs the camera frame's size: replace it with yours.
**
** What you can use (rsim_guest.h, found through `replaysim config`):
**   rsim_payload(reading, &len)   a reading's bytes (docs/sensors.md)
**   rsim_config_str/_f32(key,..)  a value of this component's `config:` in graph.yaml
**   rsim_log(level, fmt, ...)     a line in the run's log, with the sim time
** The perception world exports no state interface: after a seek the host
** re-instantiates it and replays it from the start, so g_state is rebuilt.
** No WASI: no printf, no files, no clock; time and data come from the host.
*/
#include <math.h>

#include "@PREFIX@.h"
#define RSIM_WORLD @PREFIX@
#include "rsim_guest.h"

/* Kept between calls. */
static struct {
  uint32_t scans;
} g_state;

void exports_rsim_sim_perceiving_perceive(exports_rsim_sim_perceiving_sensor_reading_t *scan,
                                          exports_rsim_sim_perceiving_list_fused_object_t *ret) {
  ret->ptr = NULL;
  ret->len = 0;
  if (g_state.scans++ == 0) {
    /* Another sensor's latest reading, asked of the host by its id. */
    char cam[64];
    rsim_config_str("camera", cam, sizeof cam, "camera_front");
    @PREFIX@_string_t id = rsim_str(cam);
    rsim_sim_types_sensor_reading_t frame;
    if (rsim_sim_sensor_data_get_sensor_data(&id, &frame)) {
      size_t len;
      rsim_payload(&frame, &len);
      rsim_log(RSIM_INFO, "camera %s: %zu bytes a frame", cam, len);
      rsim_sim_types_sensor_reading_free(&frame);
    }
  }
  size_t len;
  const uint8_t *b = rsim_payload(scan, &len);
  uint32_t n = b && len >= 4 ? rsim_le_u32(b) : 0;
  if ((size_t)n > (len - 4) / 20) n = 0;
  if (n) ret->ptr = malloc(n * sizeof *ret->ptr);  /* the host frees what we return */
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *d = b + 4 + 20 * (size_t)i;
    float range = rsim_le_f32(d), az = rsim_le_f32(d + 4), rate = rsim_le_f32(d + 8);
    rsim_sim_types_fused_object_t *o = &ret->ptr[ret->len++];
    char oid[16];
    rsim_fmt(oid, sizeof oid, "p%u", i + 1);
    o->id = rsim_str_dup(oid);
    o->position = (rsim_sim_types_vec3_t){range * cosf(az), range * sinf(az), 0.0f};
    o->velocity = (rsim_sim_types_vec3_t){rate * cosf(az), rate * sinf(az), 0.0f};
    o->classification = rsim_str_dup("unknown");
    o->confidence = 0.5f;
    o->sources.len = 1;
    o->sources.ptr = malloc(sizeof *o->sources.ptr);
    o->sources.ptr[0] = rsim_str_dup("radar");
  }
  rsim_sim_types_sensor_reading_free(scan);  /* the arguments are ours to free */
}
