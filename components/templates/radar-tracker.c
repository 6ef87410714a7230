/*
** @NAME@.c -- a radar tracker for replaysim (world radar-tracker of
** rsim:sim@0.2.0), started by `replaysim new`.
**
** The host calls process-scan once per scan of the graph's radar and keeps
** the tracks it returns as this component's output.  This starter makes
** one track of every detection of the scan, without association: replace
** the loop with your tracker (keep its tracks in g_state).
**
** What you can use (rsim_guest.h, found through `replaysim config`):
**   rsim_payload(reading, &len)   the scan's bytes (docs/sensors.md, radar)
**   rsim_le_u32 / rsim_le_f32     little-endian readers for them
**   rsim_config_f32(key, def)     a value of this component's `config:` in graph.yaml
**   rsim_log(level, fmt, ...)     a line in the run's log, with the sim time
**   RSIM_STATE(var)               what survives between calls, for seek and checkpoints
** No WASI: no printf, no files, no clock; time and data come from the host.
*/
#include <math.h>

#include "@PREFIX@.h"
#define RSIM_WORLD @PREFIX@
#include "rsim_guest.h"

/* Everything kept between calls (a plain struct: no pointers). */
static struct {
  uint32_t scans;
} g_state;

RSIM_STATE(g_state)

void exports_rsim_sim_radar_processing_process_scan(exports_rsim_sim_radar_processing_sensor_reading_t *reading,
                                                    exports_rsim_sim_radar_processing_list_radar_track_t *ret) {
  ret->ptr = NULL;
  ret->len = 0;
  /* The scan: u32 count, then count x {range, azimuth, range-rate, rcs, elevation} as f32. */
  size_t len;
  const uint8_t *b = rsim_payload(reading, &len);
  uint32_t n = b && len >= 4 ? rsim_le_u32(b) : 0;
  if ((size_t)n > (len - 4) / 20) {
    rsim_log(RSIM_WARN, "scan says %u detections but holds %zu bytes; skipped", n, len);
    n = 0;
  }
  float max_range = rsim_config_f32("max_range", 150.0f);
  if (g_state.scans++ == 0) rsim_log(RSIM_INFO, "first scan: %u detections", n);
  if (n) ret->ptr = malloc(n * sizeof *ret->ptr);  /* the host frees what we return */
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *d = b + 4 + 20 * (size_t)i;
    float range = rsim_le_f32(d), az = rsim_le_f32(d + 4), rate = rsim_le_f32(d + 8);
    if (range > max_range) continue;
    float c = cosf(az), s = sinf(az);
    ret->ptr[ret->len++] = (rsim_sim_types_radar_track_t){
        .id = i + 1,
        .position = {range * c, range * s, 0.0f},
        .velocity = {rate * c, rate * s, 0.0f},  /* radial only: a tracker does better */
        .range = range,
        .azimuth = az,
        .range_rate = rate,
        .hits = 1,
        .confidence = 0.5f,
    };
  }
  rsim_sim_types_sensor_reading_free(reading);  /* the arguments are ours to free */
}
