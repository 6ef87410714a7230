/*
** wasi_env.c -- a camera detector that reads its environment through WASI
** (wasi:cli/environment, testing/wasi-env/world.wit).  The host gives
** components no WASI, so loading it must fail, naming that import; it is
** never meant to run.  Its output would depend on the machine: exactly what
** a deterministic replay must refuse.
*/
#include "wasi_env.h"
#define RSIM_WORLD wasi_env
#include "rsim_guest.h"

RSIM_STATELESS()

void exports_rsim_sim_camera_processing_process_frame(
    exports_rsim_sim_camera_processing_sensor_reading_t *reading,
    exports_rsim_sim_camera_processing_list_detected_object_t *ret) {
  wasi_env_list_tuple2_string_string_t env;
  wasi_cli_environment_get_environment(&env);
  rsim_sim_types_sensor_reading_free(reading);
  ret->ptr = NULL;
  ret->len = 0;
  if (env.len > 1000) __builtin_trap(); /* uses what it read */
  wasi_env_list_tuple2_string_string_free(&env);
}
