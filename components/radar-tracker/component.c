/*
** component.c -- the radar tracker as a component (world radar-tracker):
** keeps one tracker state across scans and returns the confirmed tracks.
*/
#include <math.h>

#include "radar_tracker.h"
#define RSIM_WORLD radar_tracker
#include "rsim_guest.h"
#include "rsim_tracker.h"

static trk_state g_state;
static bool g_init, g_warned;

void exports_rsim_sim_radar_processing_process_scan(
    exports_rsim_sim_radar_processing_sensor_reading_t *reading,
    exports_rsim_sim_radar_processing_list_radar_track_t *ret) {
  if (!g_init) {
    trk_params p;
    trk_params_default(&p);
    p.mount_x = rsim_config_f32("radar.mount_x", p.mount_x);
    p.mount_y = rsim_config_f32("radar.mount_y", p.mount_y);
    p.mount_yaw = rsim_config_f32("radar.mount_yaw", p.mount_yaw);
    p.gate_m = rsim_config_f32("gate_m", p.gate_m);
    trk_init(&g_state, &p);
    /* Several trackers feeding one fusion: ids apart (id_base + 1, ...). */
    float base = rsim_config_f32("id_base", 0.0f);
    if (base > 0 && base < 4e9f) g_state.next_id = (uint32_t)base + 1;
    g_init = true;
  }
  trk_detection d[TRK_MAX_DET];
  size_t len;
  const uint8_t *payload = rsim_payload(reading, &len);
  int n = payload ? trk_decode(payload, len, d, TRK_MAX_DET) : -1;
  ret->ptr = NULL;
  ret->len = 0;
  if (n < 0) {
    if (!g_warned) rsim_log(RSIM_WARN, "malformed radar payload of %zu bytes; skipping", len);
    g_warned = true;
    rsim_sim_types_sensor_reading_free(reading);
    return;
  }
  trk_update(&g_state, reading->timestamp, d, n < TRK_MAX_DET ? n : TRK_MAX_DET);
  int confirmed = 0;
  for (int i = 0; i < g_state.n; i++) confirmed += g_state.tracks[i].confirmed;
  if (confirmed) ret->ptr = malloc((size_t)confirmed * sizeof *ret->ptr);
  for (int i = 0; i < g_state.n; i++) {
    const trk_track *t = &g_state.tracks[i];
    if (!t->confirmed) continue;
    rsim_sim_types_radar_track_t *o = &ret->ptr[ret->len++];
    o->id = t->id;
    o->position = (rsim_sim_types_vec3_t){t->x, t->y, 0.5f};
    o->velocity = (rsim_sim_types_vec3_t){t->vx, t->vy, 0.0f};
    o->range = sqrtf(t->x * t->x + t->y * t->y);
    o->azimuth = atan2f(t->y, t->x);
    o->range_rate = t->range_rate;
    o->hits = t->hits;
    o->confidence = trk_confidence(t);
  }
  rsim_sim_types_sensor_reading_free(reading);
}

/* ---- state: the parameters, the counters and the live tracks only (the
** association scratch is rebuilt on every scan) ---------------------------------- */

typedef struct saved_head {
  uint32_t magic, version, track_size;
  bool init;
  trk_params p;
  int n;
  uint32_t next_id;
  int64_t last_t;
  bool has_last;
} saved_head;

#define STATE_MAGIC 0x314b5254u /* "TRK1" */

void exports_rsim_sim_state_save(radar_tracker_list_u8_t *ret) {
  saved_head h = {STATE_MAGIC, 1, (uint32_t)sizeof(trk_track), g_init, g_state.p, g_state.n,
                  g_state.next_id, g_state.last_t, g_state.has_last};
  size_t tracks = (size_t)g_state.n * sizeof(trk_track);
  ret->len = sizeof h + tracks;
  ret->ptr = malloc(ret->len);
  memcpy(ret->ptr, &h, sizeof h);
  memcpy(ret->ptr + sizeof h, g_state.tracks, tracks);
}

bool exports_rsim_sim_state_restore(radar_tracker_list_u8_t *bytes, radar_tracker_string_t *err) {
  saved_head h;
  bool ok = bytes->len >= sizeof h;
  if (ok) memcpy(&h, bytes->ptr, sizeof h);
  ok = ok && h.magic == STATE_MAGIC && h.version == 1 && h.track_size == sizeof(trk_track) && h.n >= 0 &&
       h.n <= TRK_MAX_TRACKS && bytes->len == sizeof h + (size_t)h.n * sizeof(trk_track);
  if (ok) {
    g_init = h.init;
    g_state.p = h.p;
    g_state.n = h.n;
    g_state.next_id = h.next_id;
    g_state.last_t = h.last_t;
    g_state.has_last = h.has_last;
    memcpy(g_state.tracks, bytes->ptr + sizeof h, (size_t)h.n * sizeof(trk_track));
  } else
    *err = rsim_str_dup("not a radar tracker state of this build");
  if (bytes->len) free(bytes->ptr); /* an empty list's pointer is not malloc's */
  return ok;
}
