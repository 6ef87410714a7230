/*
** player.h -- tape-deck control of a run, as rosbag2 and Foxglove users
** know it: play, pause, seek, speed (0.01x to 100x, or max), step forward
** and back by one instant, forward by one component run, loop, a start offset and a delay before start,
** paced against a monotonic clock.
**
** Pacing.  While playing at speed s, sim time advances s times as fast as
** the clock.  Determinism comes first: an instant is never skipped to
** catch up; when the components cannot keep up, the player runs the
** instants late and reports the lag ("behind by 120 ms") instead.  Speed
** only changes when instants run, never what they compute: outputs and
** digests are those of a run at max speed.
**
** Threads.  None: the owner calls rsim_player_poll from its own loop (the
** CLI's, a server's event loop) and the control functions in between.
** poll does at most about 20 ms of work before it returns, so controls stay
** responsive even at max speed.
**
** Events.  Every change of state -- play, pause, seek, speed, step, loop,
** end, lag, error -- is passed to the listener, so that clients observe
** them rather than poll.
**
** Ownership: the player borrows the engine (which must outlive it) and is
** freed with rsim_player_free.
*/
#ifndef RSIM_PLAYER_H
#define RSIM_PLAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "rsim/engine.h"

typedef struct rsim_player rsim_player;

typedef enum rsim_player_mode {
  RSIM_PLAYER_WAITING = 0, /* the delay before start has not passed */
  RSIM_PLAYER_PAUSED,
  RSIM_PLAYER_PLAYING,
  RSIM_PLAYER_ENDED
} rsim_player_mode;

typedef enum rsim_player_event_kind {
  RSIM_PLAYER_EV_PLAY = 0,
  RSIM_PLAYER_EV_PAUSE,
  RSIM_PLAYER_EV_SEEK,
  RSIM_PLAYER_EV_SPEED,
  RSIM_PLAYER_EV_STEP,
  RSIM_PLAYER_EV_LOOP,
  RSIM_PLAYER_EV_END,
  RSIM_PLAYER_EV_LAG,
  RSIM_PLAYER_EV_ERROR,
  RSIM_PLAYER_EV_SEEKING /* a seek that takes longer than one poll has begun */
} rsim_player_event_kind;

typedef struct rsim_player_event {
  rsim_player_event_kind kind;
  rsim_time sim_time;   /* after the change */
  double speed;         /* 0 = max */
  int64_t lag_ns;       /* EV_LAG: how far behind the clock */
  const char *message;  /* a sentence (clamps, lag, errors); borrowed */
} rsim_player_event;

typedef void (*rsim_player_listener)(void *ud, const rsim_player_event *ev);
/* A monotonic clock in ns (tests give a fake one). */
typedef int64_t (*rsim_player_clock)(void *ud);

typedef struct rsim_player_opts {
  double speed;             /* 0.01 .. 100, or 0 for max */
  bool start_paused;
  bool loop;                /* at the end, start again from the beginning */
  int64_t start_offset_ns;  /* begin this far into the range */
  int64_t delay_ns;         /* wait this long before playing */
  int64_t lag_report_ns;    /* report lag above this; 0 = 50 ms */
  bool no_work_ahead;       /* for comparison only: no rsim_engine_work_ahead while waiting */
  rsim_player_listener listener;
  void *listener_ud;
  rsim_player_clock clock;  /* NULL = rsim_monotonic_ns */
  void *clock_ud;
} rsim_player_opts;

/* Speeds outside 0.01 .. 100 (other than 0, max) are RSIM_EINVAL. */
int rsim_player_new(rsim_engine *e, const rsim_player_opts *o, rsim_player **out, rsim_errbuf *eb);
void rsim_player_free(rsim_player *p);

/* Replaces the listener (a server created after the player, for instance). */
void rsim_player_set_listener(rsim_player *p, rsim_player_listener fn, void *ud);

/*
** Called after every instant (and single component run) the player itself
** runs -- playing, stepping; not those a seek re-simulates -- with the
** engine at that instant, so that an observer sees every output once
** whatever the speed (a poll at max speed runs many instants).
*/
typedef void (*rsim_player_instant_fn)(void *ud);
void rsim_player_set_instant_hook(rsim_player *p, rsim_player_instant_fn fn, void *ud);

void rsim_player_play(rsim_player *p);
void rsim_player_pause(rsim_player *p);
/* Seeks exactly (rsim_engine_seek); a time outside the range is clamped,
** and the event says so.  Playing goes on from there.  A seek that needs
** more than one poll's work (a jump far past the furthest point reached)
** returns after that work with state.seeking set and EV_SEEKING; poll
** goes on with it, controls stay live (another seek retargets it, a step
** finishes it first), and EV_SEEK says when it has arrived. */
int rsim_player_seek(rsim_player *p, rsim_time t);
int rsim_player_set_speed(rsim_player *p, double speed);
/* One instant forward or back; the player pauses. */
int rsim_player_step(rsim_player *p);
/* One component run forward (rsim_engine_step_run); *component (may be
** NULL) gets the index of the component that ran.  The player pauses. */
int rsim_player_step_run(rsim_player *p, size_t *component);
int rsim_player_step_back(rsim_player *p);

/*
** Runs every instant whose time has come, in order, none skipped, for at
** most about 20 ms; *wait_ns is how long until the next one is due (0 when
** there is more to do now, -1 when paused or ended).  Returns RSIM_OK or
** the engine's error (also sent as EV_ERROR).
*/
int rsim_player_poll(rsim_player *p, int64_t *wait_ns);
/* poll and sleep until the end (forever with loop); for the command line. */
int rsim_player_run(rsim_player *p);

typedef struct rsim_player_state {
  rsim_player_mode mode;
  rsim_time sim_time, from, to;
  double speed;
  int64_t lag_ns, max_lag_ns; /* how late the last instant started; the most so far */
  int64_t done_late_ns;       /* how late its outputs were there (its step's end against its due time) */
  uint64_t instants;          /* run by the player (not by seeks) */
  bool seeking;               /* a seek is on its way to seek_target */
  rsim_time seek_target;      /* = sim_time when not seeking */
} rsim_player_state;

void rsim_player_state_get(const rsim_player *p, rsim_player_state *out);

#endif /* RSIM_PLAYER_H */
