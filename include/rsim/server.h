/*
** server.h -- a run served over HTTP and WebSocket (libwebsockets): the web
** UI's files, a JSON control API and a state stream at display rate.
**
**   GET  /api/state                  the player's state and every component's
**                                    latest output, timing and errors
**   POST /api/play | /api/pause      ...
**   POST /api/step | /api/step_back | /api/step_run
**   POST /api/seek?t=NS              (or a JSON body {"t": NS}; clamped)
**   POST /api/speed?x=2              (0.01 .. 100, or max)
**   GET  /api/sensors | /api/truth | /api/frame?sensor=ID (JPEG) | /api/points?sensor=ID
**   GET  /api/inputs?component=NAME  its last call's arguments
**   GET  /api/eval                   scores so far, marks and gate markers
**   WS   /  protocol "rsim"          a state document at display rate
**   WS   on foxglove_port, protocol foxglove.websocket.v1 (opts.foxglove): the
**        run live in Foxglove or Lichtblick, driven from their timeline
**
** Every answer is JSON; a malformed request is a 4xx with {"error": "..."}.
** Binds to 127.0.0.1 by default; bound elsewhere, or given a token, control
** requests need the token (header "Authorization: Bearer TOKEN" or
** ?token=TOKEN; compared in constant time, never logged) and each client
** (peer address) may make at most control_burst of them per
** control_period_ns (a token bucket; 429 beyond).
** docs/server.md has the documents.
**
** Ownership: the server borrows the player, engine and graph (they outlive
** it) and is freed with rsim_server_free.  Single-threaded: rsim_server_run
** drives the player from the server's event loop.
*/
#ifndef RSIM_SERVER_H
#define RSIM_SERVER_H

#include "rsim/engine.h"
#include "rsim/player.h"
#include "rsim/store.h"

typedef struct rsim_server rsim_server;

typedef struct rsim_server_opts {
  const char *bind;      /* NULL = 127.0.0.1 */
  int port;              /* 0 = any free port (see rsim_server_port) */
  const char *token;     /* NULL = generated when not bound to loopback; given = always needed */
  const char *web_root;  /* the UI's files; NULL = none served */
  double display_hz;     /* state pushes a second; 0 = 30 */
  rsim_store *store;     /* the run's store, for frames, points and truth (borrowed); may be NULL */
  int control_burst;     /* control requests a client may make at once; 0 = 20 when a token is
                            needed, no limit otherwise; given = always enforced */
  int64_t control_period_ns; /* in which control_burst more are allowed; 0 = 1 s */
  const char *gates;     /* a gate file (eval --gate's YAML): markers where the scores so far break one; NULL = none */
  bool foxglove;         /* also speak the Foxglove WebSocket protocol (rsim/foxglove.h) on foxglove_port */
  int foxglove_port;     /* 0 = any free port (see rsim_server_foxglove_port) */
} rsim_server_opts;

int rsim_server_new(rsim_player *p, rsim_engine *e, const rsim_graph *g, const rsim_server_opts *o,
                    rsim_server **out, rsim_errbuf *eb);
/* Serves until rsim_server_stop (from a signal handler too).  Returns
** RSIM_OK when stopped, or RSIM_EIO when the event loop failed, with the
** reason in rsim_server_errmsg. */
int rsim_server_run(rsim_server *s);
/* Message of the last failure of rsim_server_run; "" when none. */
const char *rsim_server_errmsg(const rsim_server *s);
void rsim_server_stop(rsim_server *s);
void rsim_server_free(rsim_server *s);
int rsim_server_port(const rsim_server *s);
/* The Foxglove WebSocket port; 0 when not serving it. */
int rsim_server_foxglove_port(const rsim_server *s);
/* The control token, or NULL when none is needed (loopback). */
const char *rsim_server_token(const rsim_server *s);
/* A log line of the engine (its rsim_log_fn), for Foxglove clients (/rsim/log). */
void rsim_server_log(rsim_server *s, rsim_time t, const char *component, int level, const char *message);
/* Called by the player's listener: events go out on the stream. */
void rsim_server_player_event(void *server, const rsim_player_event *ev);

#endif /* RSIM_SERVER_H */
