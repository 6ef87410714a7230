/*
** tracker_core.c -- radar tracking: detections become points in the vehicle
** frame; tracks predicted with constant velocity are matched to the nearest
** detection inside a gate (globally cheapest pairs first), updated with an
** alpha-beta filter, confirmed after a few hits and dropped after misses.
*/
#include <math.h>
#include <string.h>

#include "rsim_tracker.h"

#define MAX_DET TRK_MAX_DET

void trk_params_default(trk_params *p) {
  p->mount_x = 3.6f;
  p->mount_y = 0.0f;
  p->gate_m = 3.0f;
  p->alpha = 0.5f;
  p->beta = 0.3f;
  p->confirm_hits = 3;
  p->max_misses = 3;
  p->mount_yaw = 0.0f;
}

void trk_init(trk_state *s, const trk_params *p) {
  memset(s, 0, sizeof *s);
  s->p = *p;
  s->next_id = 1;
}

static float le_f32(const uint8_t *b) {
  uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

int trk_decode(const uint8_t *b, size_t len, trk_detection *out, int max) {
  if (len < 4) return -1;
  uint32_t n = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  if (n > (len - 4) / 20 || 4 + (size_t)n * 20 != len) return -1;
  for (uint32_t i = 0; i < n && (int)i < max; i++) {
    const uint8_t *p = b + 4 + 20 * i;
    out[i] = (trk_detection){le_f32(p), le_f32(p + 4), le_f32(p + 8), le_f32(p + 12), le_f32(p + 16)};
  }
  return (int)n;
}

float trk_confidence(const trk_track *t) {
  float c = 1.0f - 1.0f / (1.0f + 0.5f * (float)t->hits);
  return c * (1.0f - 0.25f * (float)t->misses);
}

void trk_update(trk_state *s, int64_t t_ns, const trk_detection *d, int n) {
  if (n > MAX_DET) n = MAX_DET;
  float dt = s->has_last ? (float)(t_ns - s->last_t) * 1e-9f : 0.0f;
  s->last_t = t_ns;
  s->has_last = true;
  for (int i = 0; i < s->n; i++) {
    s->tracks[i].x += s->tracks[i].vx * dt;
    s->tracks[i].y += s->tracks[i].vy * dt;
  }
  float mx[MAX_DET], my[MAX_DET];
  for (int j = 0; j < n; j++) {
    mx[j] = s->p.mount_x + d[j].range * cosf(d[j].azimuth + s->p.mount_yaw);
    my[j] = s->p.mount_y + d[j].range * sinf(d[j].azimuth + s->p.mount_yaw);
  }
  /* Every pair inside the gate, cheapest first: a simple global greedy. */
  trk_pair *pairs = s->pairs;
  int np = 0;
  for (int i = 0; i < s->n; i++)
    for (int j = 0; j < n; j++) {
      float dx = mx[j] - s->tracks[i].x, dy = my[j] - s->tracks[i].y;
      float dist = sqrtf(dx * dx + dy * dy);
      if (dist <= s->p.gate_m) pairs[np++] = (trk_pair){dist, (int16_t)i, (int16_t)j};
    }
  for (int a = 1; a < np; a++) /* insertion sort: stable, so ties keep index order */
    for (int b = a; b > 0 && pairs[b].d < pairs[b - 1].d; b--) {
      trk_pair tmp = pairs[b];
      pairs[b] = pairs[b - 1];
      pairs[b - 1] = tmp;
    }
  bool t_used[TRK_MAX_TRACKS] = {0}, m_used[MAX_DET] = {0};
  for (int k = 0; k < np; k++) {
    if (t_used[pairs[k].t] || m_used[pairs[k].m]) continue;
    t_used[pairs[k].t] = m_used[pairs[k].m] = true;
    trk_track *t = &s->tracks[pairs[k].t];
    int j = pairs[k].m;
    float rx = mx[j] - t->x, ry = my[j] - t->y;
    t->x += s->p.alpha * rx;
    t->y += s->p.alpha * ry;
    if (dt > 0) {
      t->vx += s->p.beta * rx / dt;
      t->vy += s->p.beta * ry / dt;
    }
    t->hits++;
    t->misses = 0;
    t->range = d[j].range;
    t->azimuth = d[j].azimuth;
    t->range_rate = d[j].range_rate;
    if (t->hits >= s->p.confirm_hits) t->confirmed = true;
  }
  /* Misses and deletions, keeping the survivors in order. */
  int w = 0;
  for (int i = 0; i < s->n; i++) {
    trk_track t = s->tracks[i];
    if (!t_used[i]) t.misses++;
    if (t.misses > s->p.max_misses || (!t.confirmed && t.misses > 1)) continue;
    s->tracks[w++] = t;
  }
  s->n = w;
  for (int j = 0; j < n && s->n < TRK_MAX_TRACKS; j++) {
    if (m_used[j]) continue;
    trk_track *t = &s->tracks[s->n++];
    memset(t, 0, sizeof *t);
    t->id = s->next_id++;
    t->x = mx[j];
    t->y = my[j];
    t->hits = 1;
    t->range = d[j].range;
    t->azimuth = d[j].azimuth;
    t->range_rate = d[j].range_rate;
    /* Seed the velocity from the Doppler: radial only, the best first guess. */
    t->vx = d[j].range_rate * cosf(d[j].azimuth + s->p.mount_yaw);
    t->vy = d[j].range_rate * sinf(d[j].azimuth + s->p.mount_yaw);
  }
}
