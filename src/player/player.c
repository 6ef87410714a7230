/*
** player.c -- the tape deck over an engine: modes, pacing against a clock,
** events.
**
** Pacing keeps an anchor (wall, sim): the instant at sim time t is due at
**   wall + (t - sim) / speed
** and the anchor is reset whenever the relation changes (play, seek, speed,
** loop), so a change never makes the player rush to catch up.  An instant
** that is late runs anyway; lag = now - due.  Lag is reported when it first
** passes the threshold, then each time it doubles, and once more when the
** player has caught up.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rsim/player.h"

#define POLL_BUDGET_NS 20000000 /* work per poll, so controls stay responsive */

struct rsim_player {
  rsim_engine *e;
  rsim_player_opts o;
  rsim_player_mode mode;
  bool play_after_delay;
  int64_t wait_until;        /* WAITING: the clock time the delay ends */
  int64_t anchor_wall;
  rsim_time anchor_sim;
  int64_t lag, max_lag, reported_lag;
  int64_t done_late; /* how late the last paced instant's step ended */
  uint64_t instants;
  bool seeking;              /* a seek not yet at its target (done in slices by poll) */
  rsim_time seek_target;
  char seek_msg[300];        /* said when it arrives (a clamp), or empty */
  char msg[300];
  rsim_player_instant_fn on_instant; /* after each instant the player runs */
  void *instant_ud;
};

static int64_t now_ns(const rsim_player *p) { return p->o.clock ? p->o.clock(p->o.clock_ud) : rsim_monotonic_ns(); }

static void emit(rsim_player *p, rsim_player_event_kind kind, const char *msg) {
  if (!p->o.listener) return;
  rsim_player_event ev = {kind, rsim_engine_time(p->e), p->o.speed, p->lag, msg};
  p->o.listener(p->o.listener_ud, &ev);
}

static void anchor(rsim_player *p) {
  p->anchor_wall = now_ns(p);
  p->anchor_sim = rsim_engine_time(p->e);
  p->lag = p->reported_lag = 0;
}

static bool speed_ok(double s) { return s == 0 || (s >= 0.01 && s <= 100); }

int rsim_player_new(rsim_engine *e, const rsim_player_opts *o, rsim_player **out, rsim_errbuf *eb) {
  *out = NULL;
  rsim_player_opts d = {.speed = 1};
  if (!o) o = &d;
  if (!speed_ok(o->speed))
    return rsim_errbuf_set(eb, RSIM_EINVAL, "speed %g is outside 0.01 to 100 (or max)", o->speed);
  if (o->start_offset_ns < 0 || o->delay_ns < 0)
    return rsim_errbuf_set(eb, RSIM_EINVAL, "start offset and delay must not be negative");
  rsim_player *p = rsim_xcalloc(1, sizeof *p);
  p->e = e;
  p->o = *o;
  if (!p->o.lag_report_ns) p->o.lag_report_ns = 50000000;
  rsim_engine_set_paced(e, p->o.speed > 0);
  if (o->start_offset_ns) {
    rsim_time from, to;
    rsim_engine_range(e, &from, &to);
    if (rsim_engine_seek(e, from + o->start_offset_ns)) {
      int rc = rsim_errbuf_set(eb, RSIM_EINVAL, "start offset: %s", rsim_engine_errmsg(e));
      free(p);
      return rc;
    }
  }
  p->play_after_delay = !o->start_paused;
  if (o->delay_ns) {
    p->mode = RSIM_PLAYER_WAITING;
    p->wait_until = now_ns(p) + o->delay_ns;
  } else {
    p->mode = o->start_paused ? RSIM_PLAYER_PAUSED : RSIM_PLAYER_PLAYING;
    anchor(p);
  }
  *out = p;
  return RSIM_OK;
}

void rsim_player_free(rsim_player *p) { free(p); }

void rsim_player_set_listener(rsim_player *p, rsim_player_listener fn, void *ud) {
  p->o.listener = fn;
  p->o.listener_ud = ud;
}

void rsim_player_set_instant_hook(rsim_player *p, rsim_player_instant_fn fn, void *ud) {
  p->on_instant = fn;
  p->instant_ud = ud;
}

static void ran(rsim_player *p) {
  if (p->on_instant) p->on_instant(p->instant_ud);
}

void rsim_player_play(rsim_player *p) {
  if (p->mode == RSIM_PLAYER_WAITING) {
    p->play_after_delay = true;
    return;
  }
  if (p->mode == RSIM_PLAYER_PLAYING) return;
  if (p->mode == RSIM_PLAYER_ENDED) { /* play after the end starts over */
    rsim_time from, to;
    rsim_engine_range(p->e, &from, &to);
    if (rsim_engine_seek(p->e, from - 1)) {
      emit(p, RSIM_PLAYER_EV_ERROR, rsim_engine_errmsg(p->e));
      return;
    }
  }
  p->mode = RSIM_PLAYER_PLAYING;
  anchor(p);
  emit(p, RSIM_PLAYER_EV_PLAY, NULL);
}

void rsim_player_pause(rsim_player *p) {
  if (p->mode == RSIM_PLAYER_WAITING) p->play_after_delay = false;
  if (p->mode != RSIM_PLAYER_PLAYING) return;
  p->mode = RSIM_PLAYER_PAUSED;
  emit(p, RSIM_PLAYER_EV_PAUSE, NULL);
}

/* Goes on with the pending seek for one poll's work (all of it with
** to_the_end); EV_SEEK when it arrives, EV_SEEKING once if it takes longer. */
static int seek_slice(rsim_player *p, bool to_the_end, bool first) {
  int64_t start = now_ns(p);
  bool reached = false;
  int rc;
  do rc = rsim_engine_seek_some(p->e, p->seek_target, to_the_end ? 0 : 8, &reached);
  while (!rc && !reached && now_ns(p) - start < POLL_BUDGET_NS);
  if (rc) {
    p->seeking = false;
    emit(p, RSIM_PLAYER_EV_ERROR, rsim_engine_errmsg(p->e));
    return rc;
  }
  if (!reached) {
    if (first) emit(p, RSIM_PLAYER_EV_SEEKING, "re-simulating to the seek target; controls stay live");
    return RSIM_OK;
  }
  p->seeking = false;
  anchor(p);
  emit(p, RSIM_PLAYER_EV_SEEK, p->seek_msg[0] ? p->seek_msg : NULL);
  return RSIM_OK;
}

/* Finishes a pending seek before a control that needs the run in place. */
static int settle(rsim_player *p) { return p->seeking ? seek_slice(p, true, false) : RSIM_OK; }

int rsim_player_seek(rsim_player *p, rsim_time t) {
  rsim_time from, to;
  rsim_engine_range(p->e, &from, &to);
  p->seek_msg[0] = 0;
  if (t < from || t > to) {
    snprintf(p->seek_msg, sizeof p->seek_msg, "seek to %lld is outside the log (%lld..%lld); clamped to the %s",
             (long long)t, (long long)from, (long long)to, t < from ? "start" : "end");
    t = t < from ? from - 1 : to;
  }
  if (p->mode == RSIM_PLAYER_ENDED) p->mode = RSIM_PLAYER_PAUSED;
  p->seeking = true;
  p->seek_target = t;
  return seek_slice(p, false, true);
}

int rsim_player_set_speed(rsim_player *p, double speed) {
  if (!speed_ok(speed)) {
    snprintf(p->msg, sizeof p->msg, "speed %g is outside 0.01 to 100 (or max)", speed);
    emit(p, RSIM_PLAYER_EV_ERROR, p->msg);
    return RSIM_EINVAL;
  }
  p->o.speed = speed;
  rsim_engine_set_paced(p->e, speed > 0);
  anchor(p);
  emit(p, RSIM_PLAYER_EV_SPEED, NULL);
  return RSIM_OK;
}

static int end_or_loop(rsim_player *p) {
  if (!p->o.loop) {
    p->mode = RSIM_PLAYER_ENDED;
    emit(p, RSIM_PLAYER_EV_END, NULL);
    return RSIM_OK;
  }
  rsim_time from, to;
  rsim_engine_range(p->e, &from, &to);
  int rc = rsim_engine_seek(p->e, from - 1);
  if (rc) {
    emit(p, RSIM_PLAYER_EV_ERROR, rsim_engine_errmsg(p->e));
    return rc;
  }
  anchor(p);
  emit(p, RSIM_PLAYER_EV_LOOP, NULL);
  return RSIM_OK;
}

static int step_once(rsim_player *p) {
  int rc = rsim_engine_step(p->e);
  if (rc == RSIM_OK) p->instants++, ran(p);
  else if (rc != RSIM_EEOF) emit(p, RSIM_PLAYER_EV_ERROR, rsim_engine_errmsg(p->e));
  return rc;
}

/* A step pauses a playing (or waiting) player. */
static void hold(rsim_player *p) {
  if (p->mode == RSIM_PLAYER_PLAYING) rsim_player_pause(p);
  if (p->mode == RSIM_PLAYER_WAITING) p->mode = RSIM_PLAYER_PAUSED;
}

/* After a forward step: the end, an error or the step, as an event. */
static int stepped(rsim_player *p, int rc, const char *msg) {
  if (rc == RSIM_EEOF) {
    p->mode = RSIM_PLAYER_ENDED;
    emit(p, RSIM_PLAYER_EV_END, NULL);
  } else if (rc)
    emit(p, RSIM_PLAYER_EV_ERROR, rsim_engine_errmsg(p->e));
  else
    emit(p, RSIM_PLAYER_EV_STEP, msg);
  return rc;
}

int rsim_player_step(rsim_player *p) {
  hold(p);
  int rc = settle(p);
  if (rc) return rc;
  rc = rsim_engine_step(p->e);
  if (!rc) p->instants++, ran(p);
  return stepped(p, rc, NULL);
}

int rsim_player_step_run(rsim_player *p, size_t *component) {
  hold(p);
  int rc = settle(p);
  if (rc) return rc;
  rc = rsim_engine_step_run(p->e, component);
  if (!rc) ran(p);
  return stepped(p, rc, "one component run");
}

int rsim_player_step_back(rsim_player *p) {
  hold(p);
  if (p->mode == RSIM_PLAYER_ENDED) p->mode = RSIM_PLAYER_PAUSED;
  int rc = settle(p);
  if (rc) return rc;
  rc = rsim_engine_step_back(p->e);
  if (rc && rc != RSIM_EEOF) emit(p, RSIM_PLAYER_EV_ERROR, rsim_engine_errmsg(p->e));
  if (!rc) emit(p, RSIM_PLAYER_EV_STEP, NULL);
  return rc;
}

/* Reports lag when it passes the threshold, when it doubles, and when the
** player has caught up again. */
static void track_lag(rsim_player *p, int64_t lag) {
  p->lag = lag > 0 ? lag : 0;
  if (p->lag > p->max_lag) p->max_lag = p->lag;
  if (p->lag >= p->o.lag_report_ns && p->lag >= 2 * p->reported_lag) {
    snprintf(p->msg, sizeof p->msg, "behind by %.0f ms: the components cannot keep up at %gx", (double)p->lag / 1e6,
             p->o.speed);
    p->reported_lag = p->lag;
    emit(p, RSIM_PLAYER_EV_LAG, p->msg);
  } else if (p->reported_lag && p->lag < p->o.lag_report_ns / 2) {
    p->reported_lag = 0;
    emit(p, RSIM_PLAYER_EV_LAG, "caught up");
  }
}

int rsim_player_poll(rsim_player *p, int64_t *wait_ns) {
  *wait_ns = -1;
  if (p->seeking) {
    int rc = seek_slice(p, false, false);
    if (rc || p->seeking) {
      *wait_ns = rc ? -1 : 0;
      return rc;
    }
  }
  int64_t start = now_ns(p);
  if (p->mode == RSIM_PLAYER_WAITING) {
    if (start < p->wait_until) {
      *wait_ns = p->wait_until - start;
      return RSIM_OK;
    }
    p->mode = RSIM_PLAYER_PAUSED;
    if (p->play_after_delay) rsim_player_play(p);
  }
  while (p->mode == RSIM_PLAYER_PLAYING) {
    rsim_time next;
    int rc = rsim_engine_next_time(p->e, &next);
    if (rc == RSIM_EEOF) {
      rc = end_or_loop(p);
      /* After a loop, come back: at max speed a loop would never end. */
      if (!rc && p->mode == RSIM_PLAYER_PLAYING) *wait_ns = 0;
      return rc;
    }
    if (rc) {
      emit(p, RSIM_PLAYER_EV_ERROR, rsim_engine_errmsg(p->e));
      return rc;
    }
    int64_t now = now_ns(p), due = 0;
    if (p->o.speed > 0) {
      /* Before the anchor's instant, sim time stands still at the anchor. */
      double ahead = (double)(next - p->anchor_sim) / p->o.speed;
      due = p->anchor_wall + (ahead > 0 ? (int64_t)ceil(ahead) : 0);
      if (due > now) {
        /* The wait is the next instant's: do its work now where it can
        ** be (rsim_engine_work_ahead), then look at the clock again. */
        if (!p->o.no_work_ahead) {
          if (rsim_engine_work_ahead(p->e, due - now)) continue;
          now = now_ns(p);
        }
        if (due > now) {
          *wait_ns = due - now;
          return RSIM_OK;
        }
      }
      track_lag(p, now - due);
    }
    if (now - start >= POLL_BUDGET_NS) {
      *wait_ns = 0;
      return RSIM_OK;
    }
    rc = step_once(p);
    if (rc && rc != RSIM_EEOF) return rc;
    if (p->o.speed > 0 && !rc) {
      int64_t late = now_ns(p) - due;
      p->done_late = late > 0 ? late : 0;
    }
  }
  return RSIM_OK;
}

int rsim_player_run(rsim_player *p) {
  for (;;) {
    int64_t wait;
    int rc = rsim_player_poll(p, &wait);
    if (rc) return rc;
    if (wait < 0) return RSIM_OK; /* paused or ended */
    if (wait > 0) {
      struct timespec ts = {(time_t)(wait / 1000000000), (long)(wait % 1000000000)};
      nanosleep(&ts, NULL);
    }
  }
}

void rsim_player_state_get(const rsim_player *p, rsim_player_state *out) {
  memset(out, 0, sizeof *out);
  out->mode = p->mode;
  out->sim_time = rsim_engine_time(p->e);
  rsim_engine_range(p->e, &out->from, &out->to);
  out->speed = p->o.speed;
  out->lag_ns = p->lag;
  out->done_late_ns = p->done_late;
  out->max_lag_ns = p->max_lag;
  out->instants = p->instants;
  out->seeking = p->seeking;
  out->seek_target = p->seeking ? p->seek_target : out->sim_time;
}
