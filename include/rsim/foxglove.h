/*
** foxglove.h -- a run as the Foxglove WebSocket protocol sees it
** (subprotocol foxglove.websocket.v1, with the `time` and
** `playbackControl` capabilities), so that Foxglove or Lichtblick watch
** and drive a replay live: the channel table, what each client has
** subscribed and is owed, the messages encoded, and the client's requests
** turned into player controls.
**
** Channels (advertised with their schemas):
**   /<camera>                     foxglove.CompressedImage  (protobuf; JPEG, encoded once for all clients)
**   /<lidar>, /<radar>            foxglove.PointCloud       (protobuf, frame base_link)
**   /<gps>                        foxglove.LocationFix      (protobuf)
**   /rsim/<component>             rsim.<component>          (json; its WIT type as a JSON schema)
**   /rsim/<component>/annotations foxglove.ImageAnnotations (protobuf; outputs with 2-D boxes)
**   /rsim/<component>/scene       foxglove.SceneUpdate      (protobuf, base_link; outputs with positions or a path)
**   /rsim/truth/scene             foxglove.SceneUpdate      (the drive's ground truth, base_link)
**   /tf                           foxglove.FrameTransforms  (base_link to each mounted sensor)
**   /rsim/log                     foxglove.Log              (log lines given to rsim_fox_log)
** Only subscribed channels are encoded, and only when what they show changed.
**
** The module speaks messages, not sockets: the server (src/server) owns the
** WebSocket connections, hands each received message to
** rsim_fox_client_receive and asks rsim_fox_client_next for the next
** message whenever the client can take one.  A client is always given the
** state of now (the latest reading or output of each channel it has not
** had yet), so a slow client sees fewer messages, never older ones, and
** nothing queues for it beyond one message a channel.
**
** Ownership: the module borrows the player, engine and store (they outlive
** it).  Single-threaded, like the server that drives it.
*/
#ifndef RSIM_FOXGLOVE_H
#define RSIM_FOXGLOVE_H

#include <stdbool.h>

#include "rsim/engine.h"
#include "rsim/player.h"
#include "rsim/store.h"

typedef struct rsim_fox rsim_fox;
typedef struct rsim_fox_client rsim_fox_client;

/* The channel table of the run (store may be NULL: component channels only). */
int rsim_fox_new(rsim_player *p, rsim_engine *e, rsim_store *st, rsim_fox **out, rsim_errbuf *eb);
void rsim_fox_free(rsim_fox *f);
size_t rsim_fox_n_channels(const rsim_fox *f);

/* The player's events: every client is sent the playback state again; a
** seek (and a loop) also clears what each client had, so that it is sent
** the state at the new time (did_seek). */
void rsim_fox_player_event(rsim_fox *f, const rsim_player_event *ev);

/* A log line (the engine's log callback, at the level the owner chose)
** for /rsim/log (foxglove.Log): the last 64 are kept for subscribers. */
void rsim_fox_log(rsim_fox *f, rsim_time t, const char *component, int level, const char *message);

/* A connection; it is sent serverInfo and the channels first. */
rsim_fox_client *rsim_fox_client_new(rsim_fox *f);
void rsim_fox_client_free(rsim_fox_client *c);

/* Whether a received message is a control (PlaybackControlRequest), which
** the server may refuse (token, rate) before it reaches receive. */
bool rsim_fox_is_control(const uint8_t *data, size_t n, bool binary);
/* A whole message received from the client (text: JSON ops subscribe and
** unsubscribe; binary: PlaybackControlRequest).  A malformed or unknown
** one is answered with a status message naming what was wrong. */
void rsim_fox_client_receive(rsim_fox_client *c, const uint8_t *data, size_t n, bool binary);
/* Queues a status message (level 0 info, 1 warning, 2 error) for the client. */
void rsim_fox_client_status(rsim_fox_client *c, int level, const char *message);

/* The next message due to the client, appended to out: 0 none (nothing
** owed now), 1 a text message, 2 a binary one. */
int rsim_fox_client_next(rsim_fox_client *c, rsim_buf *out);

#endif /* RSIM_FOXGLOVE_H */
