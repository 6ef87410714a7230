/*
** rsim_tracker.h -- the radar tracker's algorithm: gated nearest-neighbour
** association of detections to tracks and an alpha-beta filter per track,
** in the vehicle frame, with M-of-N confirmation and deletion after misses.
*/
#ifndef RSIM_TRACKER_H
#define RSIM_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRK_MAX_TRACKS 64
#define TRK_MAX_DET 64 /* detections used per scan; more are ignored */

typedef struct trk_detection {
  float range, azimuth, range_rate, rcs, elevation;
} trk_detection;

typedef struct trk_track {
  uint32_t id;
  float x, y, vx, vy;      /* vehicle frame, relative to the ego */
  uint32_t hits, misses;
  bool confirmed;
  float range, azimuth, range_rate; /* of the last associated detection */
} trk_track;

typedef struct trk_params {
  float mount_x, mount_y;  /* radar position in the vehicle frame */
  float gate_m;            /* association gate (default 3 m) */
  float alpha, beta;       /* filter gains (default 0.5, 0.3) */
  uint32_t confirm_hits;   /* hits before a track is reported (default 3) */
  uint32_t max_misses;     /* consecutive misses before deletion (default 3) */
  float mount_yaw;         /* radar facing, rad to the left of forward (default 0) */
} trk_params;

/* A candidate track-detection pairing (scratch space of trk_update). */
typedef struct trk_pair {
  float d;
  int16_t t, m;
} trk_pair;

typedef struct trk_state {
  trk_params p;
  trk_pair pairs[TRK_MAX_TRACKS * TRK_MAX_DET];
  trk_track tracks[TRK_MAX_TRACKS];
  int n;
  uint32_t next_id;
  int64_t last_t;
  bool has_last;
} trk_state;

void trk_params_default(trk_params *p);
void trk_init(trk_state *s, const trk_params *p);
/* Decodes a radar payload (docs/sensors.md); returns the count or -1 if malformed.
** Writes at most max detections. */
int trk_decode(const uint8_t *payload, size_t len, trk_detection *out, int max);
/* Predicts to t_ns, associates, updates, starts and deletes tracks. */
void trk_update(trk_state *s, int64_t t_ns, const trk_detection *d, int n);
/* Confidence of a track, 0..1, from its hits and misses. */
float trk_confidence(const trk_track *t);

#endif
