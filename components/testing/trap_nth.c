/*
** trap_nth.c -- a deliberately faulty camera detector for tests: it returns
** no objects, and traps on every N-th call (config trap_at, default 3),
** counting from its last (re-)instantiation.
*/
#include "camera_detector.h"
#define RSIM_WORLD camera_detector
#include "rsim_guest.h"

/* All it keeps between calls (the state interface saves it). */
static struct {
  int calls, trap_at;
} g;

RSIM_STATE(g)

void exports_rsim_sim_camera_processing_process_frame(
    exports_rsim_sim_camera_processing_sensor_reading_t *reading,
    exports_rsim_sim_camera_processing_list_detected_object_t *ret) {
  if (!g.trap_at) g.trap_at = (int)rsim_config_f32("trap_at", 3.0f);
  rsim_sim_types_sensor_reading_free(reading);
  ret->ptr = NULL;
  ret->len = 0;
  if (++g.calls == g.trap_at) __builtin_trap();
}
