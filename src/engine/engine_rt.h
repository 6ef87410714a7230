/*
** engine_rt.h -- the engine's run-time state, shared by the scheduler
** (engine.c) and checkpoints (checkpoint.c).  Nothing outside src/engine
** sees it.
**
** Invariants:
**  - after a step at instant now, every reading stamped <= now is taken
**    from the main cursor and each base slot's latest is the last of them
**    in store order (rsim_store_reading_at(now) gives the same reading);
**  - everything under "caches" can be thrown away at any time: it is
**    recomputed from the latest readings, now and the graph;
**  - a node's out_seq counts its outputs; a link source's consumed is the
**    out_seq its target last took.
*/
#ifndef RSIM_ENGINE_RT_H
#define RSIM_ENGINE_RT_H

#include <pthread.h>

#include "engine/engine_int.h"
#include "rsim/engine.h"

/*
** A sensor as the bridge sees it.  Base slots are fed by the main cursor
** (or, for sensors the graph does not stream but a component asks for, by
** the store on each use: "ad hoc").  Derived slots transform the answer of
** their source slot.  The answer at the current instant -- exact, held or
** interpolated, or none when stale -- is computed once per instant and its
** value once per change of content ("gen").
*/
enum { ANS_NONE = 0, ANS_EXACT, ANS_HELD, ANS_INTERP };

typedef struct sensor_slot {
  char *id;
  rsim_sensor_kind kind;
  int src;                 /* derived: slot of the source sensor; else -1 */
  const rsim__gsensor *gs; /* graph settings, or NULL */
  int sample;              /* RSIM__SAMPLE_*, resolved from AUTO */
  int64_t max_stale;       /* ns */
  bool adhoc;
  bool has;                /* latest holds a reading at or before now */
  rsim_reading latest;
  uint64_t seq;            /* changes with latest */
  rsim_cursor *ahead;      /* interpolation: readings after now */
  rsim_reading next;
  bool has_next, ahead_done;
  /* the answer at instant ans_now */
  rsim_time ans_now;
  bool ans_valid;
  int ans;
  const rsim_reading *ans_r;
  rsim_time ans_age;
  uint64_t gen;            /* changes with the answer's content */
  uint64_t key_seq;        /* what gen was computed from */
  int key_ans;
  rsim_time key_t;
  rsim_reading interp;     /* owned: the interpolated reading */
  rsim_reading xf;         /* owned: derived slots, the transformed answer */
  rsim_val val;            /* the answer as a value, for gen val_gen */
  bool has_val;
  uint64_t val_gen;
  rsim_time val_now;
  bool warned;
  char *fail_msg;          /* derived: why the transform failed this instant, until warned */
  uint64_t val_user;       /* 1 + seq of the last run handed val (borrowed), 0 for none */
} sensor_slot;

/* Per link source: what the target has consumed of it. */
typedef struct src_rt {
  int slot;                /* sensor sources: slot; else -1 */
  size_t node;             /* component sources */
  bool concat;             /* fan-in/queue: the source gives a whole list */
  uint64_t consumed;       /* component sources: out_seq last handed over */
} src_rt;

typedef struct qitem {
  rsim_val v;
  bool concat;
} qitem;

typedef struct link_rt {
  const rsim__link *l;
  src_rt *srcs;
  qitem *q;                /* queue links: pending outputs, oldest first */
  size_t qn, qcap;
  bool warned_drop;
} link_rt;

typedef struct node_rt {
  const rsim__gnode *g;
  rsim_component *comp;
  rsim_instance *inst;
  size_t export_index;
  const rsim_func_sig *sig;
  link_rt **param_link;    /* per param: its link */
  link_rt *links;          /* one per input */
  int trigger_slot;        /* on-data trigger sensor slot, or -1 */
  rsim_time next_tick;     /* rate components */
  rsim_val out;            /* the bus: latest output */
  bool has_out;
  uint64_t out_seq;        /* outputs so far */
  rsim_time out_t;
  rsim__host_ctx host;
  rsim_component_stats st;
  rsim_sha256 digest;      /* this component's outputs alone */
  rsim_val *last_in;       /* its last call's arguments (when kept), np of them */
  size_t n_last_in;
  rsim_time last_in_t;
  char **warned;           /* unknown sensors already warned about */
  size_t n_warned;
  struct run_job *job;     /* the run executing on its instance, or NULL */
  bool bridge_bound;       /* imports get-sensor-data: runs only while the bridge is at its instant */
} node_rt;

/*
** One run of a component at the open instant, in three phases (parallel.c):
** prepared (its arguments built) by the engine's thread, executed (the
** call, and a restart and retry after a fault) by any thread, committed
** (stats, log lines, output to the bus, digest, record) by the engine's
** thread in the instant's serial order.  Execution touches only the run's
** own node and the bridge (under the bridge lock); everything it would say
** or count is kept here until the commit.
*/
enum { RUN_NEW = 0, RUN_QUEUED, RUN_DONE };
enum { EV_LOG = 0, EV_RECORD, EV_ERRMSG, EV_ONCE };

typedef struct run_ev {
  int kind;                /* EV_*: a log line, a recorded-only line, the engine's message, a bridge warning said once */
  int level;
  int code;                /* EV_ERRMSG */
  int slot;                /* EV_ONCE: said unless the slot has warned already */
  const char *component;   /* borrowed from the graph, or "bridge" */
  char *msg;
} run_ev;

typedef struct run_job {
  size_t node;
  uint64_t seq;            /* its place in the serial order (absolute) */
  rsim_time t;             /* its instant */
  int trig;                /* index of the trigger reading in pend[], or -1 for the rate run */
  uint64_t need;           /* runs [0, need) (absolute seqs) are committed before it is prepared */
  int state;               /* RUN_* */
  bool ready;              /* every input had a value */
  size_t np;
  rsim_val *args;          /* np; owned[p] says which it owns */
  bool *owned;
  rsim_val trig_tmp;
  rsim_val *kept;          /* n_kept: a copy of args for the inspector (rsim_engine_keep_inputs), the node's at commit */
  size_t n_kept;
  rsim_val result;
  bool got;                /* result holds an output */
  int rc;                  /* the run's error (a halt), else RSIM_OK */
  int64_t last_dt;         /* wall time of the successful call */
  rsim_component_stats d;  /* what the run adds to its node's stats (counts; max_ns, max_fuel as maxima) */
  run_ev *ev;
  size_t n_ev, cap_ev;
} run_job;

typedef struct rsim__pool rsim__pool;

typedef struct pending {
  rsim_reading r;          /* base readings; derived entries borrow src's */
  int slot;
  int src_pending;         /* derived entries: index of the source reading */
  bool last;               /* the last reading of its slot at this instant */
} pending;

/*
** An opened instant of the window (docs/design.md, "Parallel schedule").
** The bridge is at the last frame's instant; the engine's time (the bus,
** the record, the digests) at the first's once it is entered.  Frames are
** entered and closed strictly in order.
*/
typedef struct frame {
  rsim_time t;
  pending *pend;           /* its readings (owned), in store order */
  size_t n_pending, cap_pending;
  uint64_t readings;       /* base readings taken */
  uint64_t run_lo, run_hi; /* its runs: seqs [run_lo, run_hi) */
  bool entered;            /* its readings recorded, the engine's time is its t */
  bool ckpt_due;           /* closing it takes a checkpoint: nothing opens after it before */
  int rc;                  /* taking its readings failed: said when it is entered */
  char *msg;
  rsim_engine_bridge_stats bst0; /* bridge stats before it was opened */
  rsim_val *dead;          /* bridge values its runs may still borrow, freed when it closes */
  size_t n_dead, cap_dead;
} frame;

struct rsim_engine {
  const rsim_graph *g;
  rsim_engine_opts o;
  rsim_wasm_engine *we;
  node_rt *nodes;
  sensor_slot *slots;
  size_t n_slots;
  size_t n_streamed;       /* slots [0, n_streamed) are on the main cursor */
  rsim_cursor *cur;
  rsim_time from, to, now;
  rsim_time bnow;          /* the bridge's instant: the last opened frame's */
  frame *fr;               /* the window: opened instants, oldest first */
  size_t n_fr, cap_fr;
  bool ahead_stop;         /* the next instant cannot be opened ahead (end, error) */
  bool paced;              /* the caller steps instants at their due times (rsim_engine_set_paced) */
  uint64_t overlapped;     /* runs started before the instant before theirs was committed */
  uint64_t readings;
  rsim_engine_bridge_stats bst;
  rsim_sha256 digest;
  rsim_buf scratch;
  bool started;            /* a step ran since the start or the last restore to the start */
  bool quiet;              /* re-simulating for a seek: no log lines */
  bool keep_inputs;        /* copy each call's arguments (rsim_engine_keep_inputs) */
  bool mid;                /* inside instant now (the first frame is entered) */
  run_job **runs;          /* the window's runs in serial order: runs[i] has seq run_base + i */
  size_t n_runs, cap_runs;
  uint64_t run_base, committed, n_seq; /* seqs: first listed, first uncommitted, next */
  uint64_t *last_run;      /* per node: 1 + seq of its last run, 0 for none */
  int threads;             /* worker threads for one instant's runs; 1: on the caller's thread */
  rsim__pool *pool;        /* the workers (threads > 1) */
  pthread_mutex_t bridge_lock; /* the sensor slots and the store, during an instant's runs */
  struct rsim__ckpts *ck;  /* checkpoints (checkpoint.c) */
  char errmsg[1024];
};


/* ---- checkpoint.c ------------------------------------------------------------------ */

/* Sets up checkpointing for e (after its components are instantiated) and
** takes the checkpoint of the start. */
int rsim__ckpt_init(rsim_engine *e);
void rsim__ckpt_free(rsim_engine *e);
/* Called after every step: takes a checkpoint when one is due. */
int rsim__ckpt_after_step(rsim_engine *e);
/* After a fault restarted node i: its state from the latest checkpoint, so
** it goes on from there rather than from nothing (the latest at or before
** t, the instant of the run that faulted).  false when there is none.
** Touches only node i's instance: the thread executing its run calls it. */
bool rsim__ckpt_restore_node(rsim_engine *e, size_t i, rsim_time t);

/* engine.c services for checkpoint.c */
int rsim__engine_seterr(rsim_engine *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void rsim__engine_log_event(rsim_engine *e, const char *component, int level, const char *msg);
/* Reopens the main cursor for readings after t (from the start when t < from). */
int rsim__engine_reopen(rsim_engine *e, rsim_time after);
/* Drops node n's kept inputs. */
void rsim__engine_drop_inputs(node_rt *n);
/* Completes the open instant, if any (true when there was one); *rc gets
** the error of a run that failed. */
bool rsim__engine_finish_instant(rsim_engine *e, int *rc);
/* Drops every bridge cache and reloads each base slot's latest reading at now. */
void rsim__engine_reload_bridge(rsim_engine *e);
/* Forgets the window: waits for runs in flight, drops every opened instant
** (a restore: done runs are not committed). */
void rsim__engine_drop_runs(rsim_engine *e);
/* Whether instants after t are opened (their runs may have called their
** components): then only a restore gives the state at t. */
bool rsim__engine_ahead_past(const rsim_engine *e, rsim_time t);
/* checkpoint.c: whether closing instant t takes a checkpoint. */
bool rsim__ckpt_due(const rsim_engine *e, rsim_time t);

/* ---- parallel.c: an instant's runs, serially or on worker threads --------------- */

int rsim__pool_new(rsim_engine *e, int threads);
void rsim__pool_free(rsim__pool *p);
/* Commits the window's first instant to its end (or the first error) with
** the pool, opening later instants and running their ready runs ahead. */
int rsim__pool_step(rsim_engine *e);
/* Hands every run of the window whose inputs are final to the workers and
** opens instants behind it while the window allows and the monotonic
** clock is before deadline (opening reads the store, preparing copies
** payloads: that is the caller's time). */
void rsim__pool_ahead(rsim_engine *e, int64_t deadline);
/* Waits until run j is executed (it is queued). */
void rsim__pool_wait_run(rsim__pool *p, run_job *j);
/* Waits until no run is queued or executing. */
void rsim__pool_idle(rsim__pool *p);
/* engine.c services for parallel.c */
void rsim__run_prepare(rsim_engine *e, run_job *j);
void rsim__run_execute(rsim_engine *e, run_job *j);
/* Commits run e->committed and moves on; the run's error, or the recorder's. */
int rsim__run_commit_next(rsim_engine *e);
/* The run of seq s (listed). */
run_job *rsim__run_at(rsim_engine *e, uint64_t s);
/* Opens the next instant at the end of the window (RSIM_EEOF: none). */
int rsim__frame_open(rsim_engine *e);
/* Enters the first frame (its error, when taking its readings failed). */
int rsim__frame_enter(rsim_engine *e);
/* Closes the first frame, all of its runs committed: the record's instant
** mark and a due checkpoint. */
int rsim__frame_close(rsim_engine *e);
/* Whether the next instant may be opened now (see design.md); reads run
** states, so the caller holds the pool's lock. */
bool rsim__frame_can_open(rsim_engine *e);

#endif /* RSIM_ENGINE_RT_H */
