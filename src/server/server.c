/*
** server.c -- the HTTP/WebSocket face of a run, on libwebsockets.
**
** One event loop (lws_service) does everything: a timer (lws_sul) polls the
** player when an instant is due, another asks every WebSocket client for a
** write at display rate, and HTTP requests under /api are answered from
** the callback.  No threads, so the player and engine are never touched
** concurrently.  A client that goes away costs nothing: it simply stops
** being asked to write.
**
** Slow clients: a stream client is asked to write at display rate, but lws
** calls it only once the last message went out whole, and each write is
** the state of now: a client that reads slowly gets fewer, later states
** (skipped, never queued), and lws holds at most the one message it could
** not yet send.  A client that takes nothing for STALL_S seconds is closed
** so that not even that stays held for a client that is gone.
*/
#include <errno.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rsim/eval_live.h"
#include "rsim/foxglove.h"
#include "rsim/server.h"

#define MAX_BODY 4096
#define MAX_PEERS 256 /* clients whose control rate is tracked; the stalest is forgotten first */

/* A client's allowance of control requests: a token bucket that holds at
** most burst requests and refills at burst per period. */
typedef struct peer_bucket {
  char addr[64];
  double tokens;
  int64_t last_ns;
} peer_bucket;
#define STALL_S 10 /* seconds a stream client may take nothing before it is closed */

struct rsim_server {
  rsim_player *p;
  rsim_engine *e;
  const rsim_graph *g;
  rsim_server_opts o;
  struct lws_context *ctx;
  struct lws_http_mount mounts[2];
  lws_sorted_usec_list_t sul_poll, sul_push;
  volatile int stop;
  char token[128];
  bool need_token;
  int burst;          /* control requests a client may make at once; 0: no limit */
  int64_t period_ns;  /* in which burst more are allowed */
  peer_bucket *peers; /* MAX_PEERS of them */
  size_t n_peers;
  int port;
  const char *camera, *lidar; /* the sensors the stream shows (first of their kind) */
  rsim_buf jpeg;              /* the camera frame last encoded, for every client */
  rsim_time jpeg_t;           /* its reading's time; INT64_MIN for none */
  rsim_buf pts;               /* the lidar points last formatted (JSON array items) */
  rsim_time pts_t;
  char *events[32]; /* the last player events as JSON objects, a ring */
  uint64_t n_events; /* events so far; each has its number as "id" */
  char errmsg[512];  /* why rsim_server_run failed */
  /* Scores so far (GET /api/eval): NULL when the store cannot be scored, why in live_why. */
  rsim_eval_live *live;
  char live_why[600];
  rsim_time live_now;        /* the engine's time at the last look: going back is a seek back */
  rsim_component_stats *live_stats; /* each component's counts at the last look */
  /* The Foxglove WebSocket protocol on its own port (serve --foxglove): NULL when off. */
  rsim_fox *fox;
  int fox_port;
};

/* libwebsockets' own error lines: the first is kept, never printed (the
** library does not print), and quoted in the message of the failure it
** explains.  One for the process, as lws's logging is; the server is
** single-threaded. */
static char g_lws_line[256];

static void lws_keep(int level, const char *line) {
  (void)level;
  if (g_lws_line[0]) return; /* the first error is the cause; later ones are fallout */
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) n--;
  if (n >= sizeof g_lws_line) n = sizeof g_lws_line - 1;
  memcpy(g_lws_line, line, n);
  g_lws_line[n] = 0;
}

/* Per HTTP request. */
typedef struct http_pss {
  char path[128];
  char body[MAX_BODY + 1];
  size_t body_len;
  bool post;
  bool replied;     /* headers written (a POST may still report its empty body) */
  const char *ctype; /* NULL = application/json */
  rsim_buf reply;
  size_t sent;
  int status;
} http_pss;

/* ---- documents ----------------------------------------------------------------------- */

static const char *mode_name(rsim_player_mode m) {
  static const char *const names[] = {"waiting", "paused", "playing", "ended"};
  return names[m];
}

static void json_str(rsim_buf *b, const char *s) {
  json_t *j = json_string(s ? s : "");
  char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
  rsim_buf_puts(b, t ? t : "\"\"");
  free(t);
  json_decref(j);
}

/* The state document: the player, then each component's latest output. */
static void state_doc(rsim_server *s, rsim_buf *b, bool outputs) {
  rsim_player_state ps;
  rsim_player_state_get(s->p, &ps);
  rsim_buf_printf(b,
                  "{\"type\":\"state\",\"mode\":\"%s\",\"sim_time\":%lld,\"from\":%lld,\"to\":%lld,"
                  "\"rel_ns\":%lld,\"span_ns\":%lld,\"speed\":%g,"
                  "\"lag_ms\":%.3f,\"max_lag_ms\":%.3f,\"instants\":%llu,\"seeking\":%s,\"seek_target\":%lld,"
                  "\"components\":[",
                  mode_name(ps.mode), (long long)ps.sim_time, (long long)ps.from, (long long)ps.to,
                  (long long)(ps.sim_time - ps.from), (long long)(ps.to - ps.from), ps.speed,
                  (double)ps.lag_ns / 1e6, (double)ps.max_lag_ns / 1e6, (unsigned long long)ps.instants,
                  ps.seeking ? "true" : "false", (long long)ps.seek_target);
  for (size_t i = 0; i < rsim_engine_n_components(s->e); i++) {
    rsim_component_stats st;
    rsim_engine_stats(s->e, i, &st);
    rsim_buf_printf(b, "%s{\"name\":", i ? "," : "");
    json_str(b, st.name);
    rsim_buf_printf(b, ",\"calls\":%llu,\"outputs\":%llu,\"errors\":%llu,\"not_ready\":%llu,\"mean_us\":%.1f",
                    (unsigned long long)st.calls, (unsigned long long)st.outputs, (unsigned long long)st.errors,
                    (unsigned long long)st.not_ready, st.calls ? (double)st.total_ns / (double)st.calls / 1e3 : 0.0);
    const rsim_type *t;
    rsim_time ot;
    const rsim_val *v = rsim_engine_output(s->e, i, &t, &ot);
    if (outputs && v) {
      rsim_buf_printf(b, ",\"output_time\":%lld,\"output\":", (long long)ot);
      rsim_val_to_json(v, t, 256, b);
    }
    rsim_buf_putc(b, '}');
  }
  rsim_buf_puts(b, "]");
  /* The last events, numbered: clients show the ones they have not seen. */
  rsim_buf_puts(b, ",\"events\":[");
  uint64_t first = s->n_events > 32 ? s->n_events - 32 : 0;
  for (uint64_t i = first; i < s->n_events; i++) {
    if (i > first) rsim_buf_putc(b, ',');
    rsim_buf_puts(b, s->events[i % 32]);
  }
  rsim_buf_putc(b, ']');
  rsim_buf_putc(b, '}');
}

static void live_sync(rsim_server *s);

void rsim_server_player_event(void *server, const rsim_player_event *ev) {
  rsim_server *s = server;
  /* The run moved without playing (a seek arrived, play after the end or a
  ** loop started over, a step back): in step before the next instant plays. */
  if (ev->kind == RSIM_PLAYER_EV_SEEK || ev->kind == RSIM_PLAYER_EV_PLAY || ev->kind == RSIM_PLAYER_EV_LOOP ||
      ev->kind == RSIM_PLAYER_EV_STEP)
    live_sync(s);
  if (s->fox) rsim_fox_player_event(s->fox, ev);
  static const char *const kinds[] = {"play", "pause", "seek", "speed", "step", "loop", "end", "lag", "error", "seeking"};
  rsim_buf b = {0};
  rsim_buf_printf(&b, "{\"id\":%llu,\"kind\":\"%s\",\"sim_time\":%lld,\"message\":", (unsigned long long)s->n_events,
                  kinds[ev->kind], (long long)ev->sim_time);
  json_str(&b, ev->message);
  rsim_buf_putc(&b, '}');
  rsim_buf_putc(&b, 0);
  free(s->events[s->n_events % 32]);
  s->events[s->n_events % 32] = (char *)b.data; /* taken over */
  s->n_events++;
}

/* ---- the control API ------------------------------------------------------------------- */

static int reply_error(http_pss *h, int status, const char *msg) {
  h->status = status;
  h->reply.len = 0;
  rsim_buf_puts(&h->reply, "{\"error\":");
  json_str(&h->reply, msg);
  rsim_buf_putc(&h->reply, '}');
  return status;
}

/* Copies an argument's value; one too long for out becomes text no parser
** takes, rather than its first n - 1 bytes ("1.5x" cut to "1.5"). */
static void put_arg(char *out, size_t n, const char *v) {
  if ((size_t)snprintf(out, n, "%s", v) >= n) snprintf(out, n, "(too long)");
}

/* The value of query argument name ("t"), from ?name=value or the JSON body. */
static bool arg(struct lws *wsi, http_pss *h, const char *name, char *out, size_t n) {
  char frag[256], num[32];
  size_t nl = strlen(name);
  for (int i = 0; lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++)
    if (!strncmp(frag, name, nl) && frag[nl] == '=') {
      put_arg(out, n, frag + nl + 1);
      return true;
    }
  if (!h->body_len) return false;
  json_t *root = json_loadb(h->body, h->body_len, 0, NULL), *v = root ? json_object_get(root, name) : NULL;
  bool ok = v != NULL;
  if (json_is_string(v)) put_arg(out, n, json_string_value(v));
  else if (json_is_integer(v)) snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)), put_arg(out, n, num);
  else if (json_is_number(v)) snprintf(num, sizeof num, "%.17g", json_number_value(v)), put_arg(out, n, num);
  else ok = false;
  json_decref(root);
  return ok;
}

/* Compared in constant time (rsim_secret_equal): how long a refusal takes
** says nothing of how much of a guessed token was right. */
static bool token_ok(rsim_server *s, struct lws *wsi) {
  if (!s->need_token) return true;
  char auth[256] = "", q[256];
  if (lws_hdr_copy(wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION) > 0 && !strncmp(auth, "Bearer ", 7) &&
      rsim_secret_equal(auth + 7, s->token))
    return true;
  for (int i = 0; lws_hdr_copy_fragment(wsi, q, sizeof q, WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++)
    if (!strncmp(q, "token=", 6) && rsim_secret_equal(q + 6, s->token)) return true;
  return false;
}

/* Takes one control request from the peer's bucket; false when it is empty,
** with *wait_ms until the next one is allowed.  Counted before the token is
** looked at, so that guessing tokens is as slow as the limit. */
static bool rate_ok(rsim_server *s, struct lws *wsi, int64_t *wait_ms) {
  if (!s->burst) return true;
  char addr[64] = "";
  if (!lws_get_peer_simple(wsi, addr, sizeof addr)) snprintf(addr, sizeof addr, "?");
  int64_t now = rsim_monotonic_ns();
  peer_bucket *b = NULL, *stalest = NULL;
  for (size_t i = 0; i < s->n_peers && !b; i++) {
    if (!strcmp(s->peers[i].addr, addr)) b = &s->peers[i];
    else if (!stalest || s->peers[i].last_ns < stalest->last_ns) stalest = &s->peers[i];
  }
  if (!b) {
    b = s->n_peers < MAX_PEERS ? &s->peers[s->n_peers++] : stalest;
    snprintf(b->addr, sizeof b->addr, "%s", addr);
    b->tokens = s->burst;
    b->last_ns = now;
  }
  double rate = (double)s->burst / (double)s->period_ns; /* requests a ns */
  b->tokens += (double)(now - b->last_ns) * rate;
  if (b->tokens > s->burst) b->tokens = s->burst;
  b->last_ns = now;
  if (b->tokens >= 1) {
    b->tokens -= 1;
    return true;
  }
  *wait_ms = (int64_t)((1 - b->tokens) / rate / 1e6) + 1;
  return false;
}

/* ---- views: what the UI draws besides the state ----------------------------------------- */

/* The latest reading of the sensor named by ?sensor= at the current sim time. */
static int reading_arg(rsim_server *s, struct lws *wsi, http_pss *h, rsim_sensor_kind want, rsim_reading *r) {
  char id[128];
  if (!s->o.store) return reply_error(h, 404, "this server has no store to read sensors from");
  if (!arg(wsi, h, "sensor", id, sizeof id)) return reply_error(h, 400, "needs sensor=ID");
  const rsim_sensor_info *info = rsim_store_sensor(s->o.store, id);
  if (!info) return reply_error(h, 404, "no such sensor");
  if (info->kind != want && !(want == RSIM_SENSOR_LIDAR && info->kind == RSIM_SENSOR_RADAR))
    return reply_error(h, 400, "the sensor is not of a kind this view shows");
  if (rsim_store_reading_at(s->o.store, id, rsim_engine_time(s->e), r)) {
    /* Not an error: the sensor has not produced yet at this time. */
    h->reply.len = 0;
    rsim_buf_puts(&h->reply, want == RSIM_SENSOR_CAMERA ? "" : "{\"points\":[]}");
    return h->status = want == RSIM_SENSOR_CAMERA ? 204 : 200;
  }
  return 0;
}

/* GET /api/frame?sensor=ID: the camera's frame at the current time, as JPEG. */
static int frame(rsim_server *s, struct lws *wsi, http_pss *h) {
  rsim_reading r = {0};
  int st = reading_arg(s, wsi, h, RSIM_SENSOR_CAMERA, &r);
  if (st) return st;
  h->reply.len = 0;
  int rc = rsim_reading_to_jpeg(&r, 80, &h->reply);
  rsim_reading_clear(&r);
  if (rc) return reply_error(h, 500, "the camera reading is not a raw rgb8/mono8 frame");
  h->ctype = "image/jpeg";
  return h->status = 200;
}

/* Points of a lidar (x, y, z) or radar (to x, y in its own frame) reading,
** at most max of them (every n-th), as JSON numbers x,y,z,... into out. */
static void format_points(const rsim_reading *r, size_t max, rsim_buf *out) {
  bool radar = r->kind == RSIM_SENSOR_RADAR;
  size_t stride = radar ? 20 : 16;
  uint32_t n = 0;
  if (r->payload_len >= 4) memcpy(&n, r->payload, 4);
  if (r->payload_len < 4 || (r->payload_len - 4) / stride < n) n = 0;
  size_t step = n > max ? (n + max - 1) / max : 1;
  for (size_t i = 0, k = 0; i < n; i += step, k++) {
    const uint8_t *p = r->payload + 4 + stride * i;
    double x = rsim_le_f32(p), y = rsim_le_f32(p + 4), z = rsim_le_f32(p + 8);
    if (radar) { /* range, azimuth, ...: to x, y in the radar's frame */
      double range = x, az = y;
      x = range * cos(az);
      y = range * sin(az);
      z = 0;
    }
    rsim_buf_printf(out, "%s%.2f,%.2f,%.2f", k ? "," : "", x, y, z);
  }
}

/* GET /api/points?sensor=ID[&max=N]: lidar (or radar, in its own frame)
** points at the current time, decimated to at most N (default 4000). */
static int points(rsim_server *s, struct lws *wsi, http_pss *h) {
  rsim_reading r = {0};
  int st = reading_arg(s, wsi, h, RSIM_SENSOR_LIDAR, &r);
  if (st) return st;
  char mx[32];
  int64_t max = 4000;
  rsim_errbuf why = {0};
  if (arg(wsi, h, "max", mx, sizeof mx) && rsim_parse_int(mx, 1, 1000000, &max, &why)) {
    rsim_reading_clear(&r);
    char msg[600];
    snprintf(msg, sizeof msg, "max: %s", why.msg);
    return reply_error(h, 400, msg);
  }
  h->reply.len = 0;
  rsim_buf_printf(&h->reply, "{\"t\":%lld,\"kind\":\"%s\",\"points\":[", (long long)r.t,
                  r.kind == RSIM_SENSOR_RADAR ? "radar" : "lidar");
  format_points(&r, (size_t)max, &h->reply);
  rsim_buf_puts(&h->reply, "]}");
  rsim_reading_clear(&r);
  return h->status = 200;
}

/* GET /api/truth: the ground truth stored with the drive, latest at or before now. */
static int truth(rsim_server *s, http_pss *h) {
  rsim_truth *g = NULL;
  size_t n = 0;
  rsim_time now = rsim_engine_time(s->e);
  h->reply.len = 0;
  rsim_buf_puts(&h->reply, "{\"objects\":[");
  if (s->o.store && rsim_store_truth(s->o.store, now - 200000000, now, &g, &n) == RSIM_OK && n) {
    rsim_time last = g[n - 1].t;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
      if (g[i].t != last) continue;
      rsim_buf_printf(&h->reply, "%s{\"id\":%u,\"class\":", first ? "" : ",", g[i].object_id);
      json_str(&h->reply, g[i].cls);
      rsim_buf_printf(&h->reply, ",\"x\":%.3f,\"y\":%.3f,\"length\":%.2f,\"width\":%.2f,\"heading\":%.4f}", g[i].x,
                      g[i].y, g[i].length, g[i].width, g[i].heading);
      first = false;
    }
  }
  free(g);
  rsim_buf_puts(&h->reply, "]}");
  return h->status = 200;
}

/* GET /api/sensors: ids and kinds, so the UI knows its camera and lidar. */
static int sensors(rsim_server *s, http_pss *h) {
  const rsim_sensor_info *si = NULL;
  size_t n = 0;
  if (s->o.store) rsim_store_sensors(s->o.store, &si, &n);
  h->reply.len = 0;
  rsim_buf_puts(&h->reply, "{\"sensors\":[");
  for (size_t i = 0; i < n; i++) {
    rsim_buf_printf(&h->reply, "%s{\"id\":", i ? "," : "");
    json_str(&h->reply, si[i].id);
    rsim_buf_printf(&h->reply, ",\"kind\":\"%s\",\"rate_hz\":%.3f}", rsim_sensor_kind_name(si[i].kind), si[i].rate_hz);
  }
  rsim_buf_puts(&h->reply, "]}");
  return h->status = 200;
}

/* Handles one API request into h->reply; returns the HTTP status. */
static int api(rsim_server *s, struct lws *wsi, http_pss *h) {
  const char *p = h->path;
  if (!strcmp(p, "/state")) {
    h->reply.len = 0;
    state_doc(s, &h->reply, true);
    return h->status = 200;
  }
  if (!strcmp(p, "/frame")) return frame(s, wsi, h);
  if (!strcmp(p, "/points")) return points(s, wsi, h);
  if (!strcmp(p, "/truth")) return truth(s, h);
  if (!strcmp(p, "/sensors")) return sensors(s, h);
  if (!strcmp(p, "/eval")) {
    if (!s->live) return reply_error(h, 404, s->live_why);
    h->reply.len = 0;
    rsim_eval_live_json(s->live, s->live_now, &h->reply);
    return h->status = 200;
  }
  if (!strcmp(p, "/inputs")) {
    char name[128];
    if (!arg(wsi, h, "component", name, sizeof name)) return reply_error(h, 400, "needs component=NAME");
    for (size_t i = 0; i < rsim_engine_n_components(s->e); i++) {
      rsim_component_stats cs;
      rsim_engine_stats(s->e, i, &cs);
      if (strcmp(cs.name, name)) continue;
      h->reply.len = 0;
      if (!rsim_engine_inputs_json(s->e, i, &h->reply)) rsim_buf_puts(&h->reply, "{\"inputs\":null}");
      return h->status = 200;
    }
    return reply_error(h, 404, "no such component");
  }
  static const char *const controls[] = {"/play", "/pause", "/step", "/step_back", "/step_run", "/seek", "/speed", NULL};
  int c = 0;
  while (controls[c] && strcmp(controls[c], p)) c++;
  if (!controls[c]) {
    char msg[200];
    snprintf(msg, sizeof msg, "no such endpoint: /api%s (see docs/server.md)", p);
    return reply_error(h, 404, msg);
  }
  if (!h->post) return reply_error(h, 405, "control endpoints take POST");
  int64_t wait_ms;
  if (!rate_ok(s, wsi, &wait_ms)) {
    char msg[200];
    char per[32];
    rsim_format_duration(s->period_ns, per, sizeof per);
    snprintf(msg, sizeof msg, "too many control requests from this client (at most %d per %s); try again in %lld ms",
             s->burst, per, (long long)wait_ms);
    return reply_error(h, 429, msg);
  }
  if (!token_ok(s, wsi)) return reply_error(h, 401, "a token is needed: Authorization: Bearer TOKEN");
  char v[64];
  rsim_errbuf why = {0};
  int rc = RSIM_OK;
  switch (c) {
    case 0: rsim_player_play(s->p); break;
    case 1: rsim_player_pause(s->p); break;
    case 2: rc = rsim_player_step(s->p); break;
    case 3: rc = rsim_player_step_back(s->p); break;
    case 4: rc = rsim_player_step_run(s->p, NULL); break;
    case 5: {
      /* t: ns since the epoch; rel: ns since the range start (exact in a
      ** JavaScript number, which epoch times are not). */
      bool rel = !arg(wsi, h, "t", v, sizeof v);
      if (rel && !arg(wsi, h, "rel", v, sizeof v)) return reply_error(h, 400, "seek needs t (ns since the epoch) or rel (ns into the range)");
      int64_t t;
      if (rsim_parse_int(v, INT64_MIN, INT64_MAX, &t, &why)) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s: %s", rel ? "rel" : "t", why.msg);
        return reply_error(h, 400, msg);
      }
      rsim_player_state ps;
      rsim_player_state_get(s->p, &ps);
      /* rel past the end of time is the end: clamped like any seek past the log. */
      if (rel && ps.from > 0 && t > INT64_MAX - ps.from) t = INT64_MAX - ps.from;
      rc = rsim_player_seek(s->p, rel ? ps.from + t : t);
      break;
    }
    default: {
      double x;
      if (!arg(wsi, h, "x", v, sizeof v)) return reply_error(h, 400, "speed needs x (0.01 to 100, or max)");
      if (rsim_parse_speed(v, &x, &why)) {
        char msg[600];
        snprintf(msg, sizeof msg, "x: %s", why.msg);
        return reply_error(h, 400, msg);
      }
      if (rsim_player_set_speed(s->p, x)) return reply_error(h, 400, "speed must be 0.01 to 100, or max");
    }
  }
  live_sync(s);
  if (rc && rc != RSIM_EEOF) return reply_error(h, 500, rsim_engine_errmsg(s->e));
  h->reply.len = 0;
  state_doc(s, &h->reply, false); /* with the events, e.g. a seek's clamp */
  return h->status = 200;
}

static int send_reply(struct lws *wsi, http_pss *h) {
  if (h->replied) return 0;
  h->replied = true;
  uint8_t buf[LWS_PRE + 512], *start = &buf[LWS_PRE], *p = start, *end = &buf[sizeof buf - 1];
  if (lws_add_http_common_headers(wsi, (unsigned)h->status, h->ctype ? h->ctype : "application/json", h->reply.len, &p, end) ||
      lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, (const unsigned char *)"no-store", 8, &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return 1;
  h->sent = 0;
  lws_callback_on_writable(wsi);
  return 0;
}

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  rsim_server *s = lws_context_user(lws_get_context(wsi));
  http_pss *h = user;
  switch (reason) {
    case LWS_CALLBACK_HTTP: {
      /* A keep-alive connection's next request: the last reply's buffer goes
      ** first (lws zeroes the session's data once, at the connection). */
      rsim_buf_free(&h->reply);
      memset(h, 0, sizeof *h);
      /* lws hands the path after the mountpoint, or (for some methods) all of it. */
      const char *path = in;
      size_t plen = len;
      if (plen >= 4 && !strncmp(path, "/api", 4) && (plen == 4 || path[4] == '/')) path += 4, plen -= 4;
      snprintf(h->path, sizeof h->path, "%.*s", (int)(plen < sizeof h->path ? plen : sizeof h->path - 1), path);
      h->post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
      char cl[24] = "";
      int64_t body = 0;
      if (h->post && lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
          rsim_parse_int(cl, 0, INT64_MAX, &body, NULL)) {
        reply_error(h, 400, "Content-Length is not a number");
        return send_reply(wsi, h);
      }
      if (body > 0) {
        if (body > MAX_BODY) {
          reply_error(h, 413, "request body too large (4 KiB at most)");
          return send_reply(wsi, h);
        }
        return 0; /* the body comes next */
      }
      api(s, wsi, h);
      return send_reply(wsi, h);
    }
    case LWS_CALLBACK_HTTP_BODY:
      if (h->body_len + len > MAX_BODY) len = MAX_BODY - h->body_len;
      if (len) memcpy(h->body + h->body_len, in, len); /* lws may report an empty body with in NULL */
      h->body_len += len;
      return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      if (!h->status) api(s, wsi, h);
      return send_reply(wsi, h);
    case LWS_CALLBACK_HTTP_WRITEABLE: {
      if (!h->status) break;
      size_t chunk = h->reply.len - h->sent;
      if (chunk > 16384) chunk = 16384;
      uint8_t buf[LWS_PRE + 16384]; /* lws_write wants LWS_PRE bytes of room before the data */
      if (chunk) memcpy(buf + LWS_PRE, h->reply.data + h->sent, chunk);
      bool last = h->sent + chunk == h->reply.len;
      int n = lws_write(wsi, buf + LWS_PRE, chunk, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
      if (n < (int)chunk) return -1;
      h->sent += chunk;
      if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
      }
      return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
      if (h) rsim_buf_free(&h->reply);
      break;
    default:
      break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- the stream ------------------------------------------------------------------------ */

/* Per stream client: which frame and points it has, and what it is owed. */
typedef struct ws_pss {
  rsim_time frame_t, points_t;
  bool frame_due; /* the binary frame follows the state it belongs to */
} ws_pss;

/* The camera's frame at the current time as JPEG, encoded once for all
** clients (after LWS_PRE bytes of room); false when there is none. */
static bool current_jpeg(rsim_server *s, rsim_time *t) {
  rsim_reading r = {0};
  if (!s->camera || rsim_store_reading_at(s->o.store, s->camera, rsim_engine_time(s->e), &r)) return false;
  *t = r.t;
  if (r.t != s->jpeg_t) {
    s->jpeg.len = 0;
    rsim_buf_append(&s->jpeg, (const uint8_t[LWS_PRE]){0}, LWS_PRE);
    if (rsim_reading_to_jpeg(&r, 80, &s->jpeg)) s->jpeg.len = 0;
    s->jpeg_t = r.t;
  }
  rsim_reading_clear(&r);
  return s->jpeg.len > LWS_PRE;
}

/* The lidar points at the current time, decimated to 3000, formatted once. */
static bool current_points(rsim_server *s, rsim_time *t) {
  rsim_reading r = {0};
  if (!s->lidar || rsim_store_reading_at(s->o.store, s->lidar, rsim_engine_time(s->e), &r)) return false;
  *t = r.t;
  if (r.t != s->pts_t) {
    s->pts.len = 0;
    format_points(&r, 3000, &s->pts);
    s->pts_t = r.t;
  }
  rsim_reading_clear(&r);
  return true;
}

/* The stall timeout: STALL_S, or three display periods when pushes are rarer. */
static int stall_s(const rsim_server *s) {
  double three = 3.0 / s->o.display_hz;
  return three > STALL_S ? (int)three + 1 : STALL_S;
}

/* A write: the state document (with the lidar points when they changed for
** this client), then, on the next write, the camera frame as a binary
** message when it changed. */
static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  rsim_server *s = lws_context_user(lws_get_context(wsi));
  ws_pss *c = user;
  (void)in;
  (void)len;
  if (reason == LWS_CALLBACK_ESTABLISHED) {
    c->frame_t = c->points_t = INT64_MIN;
    c->frame_due = false;
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, stall_s(s));
    return 0;
  }
  if (reason != LWS_CALLBACK_SERVER_WRITEABLE) return 0;
  /* It took the last message whole: it is alive for another while. */
  lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, stall_s(s));
  rsim_time t;
  if (c->frame_due) {
    c->frame_due = false;
    if (!current_jpeg(s, &t)) return 0;
    c->frame_t = t;
    return lws_write(wsi, s->jpeg.data + LWS_PRE, s->jpeg.len - LWS_PRE, LWS_WRITE_BINARY) < 0 ? -1 : 0;
  }
  rsim_buf doc = {0};
  rsim_buf_reserve(&doc, LWS_PRE + 4096);
  rsim_buf_append(&doc, (const uint8_t[LWS_PRE]){0}, LWS_PRE);
  state_doc(s, &doc, true);
  if (current_points(s, &t) && t != c->points_t) {
    doc.len--; /* reopen the document for the points */
    rsim_buf_printf(&doc, ",\"lidar\":{\"sensor\":\"%s\",\"t\":%lld,\"points\":[", s->lidar, (long long)t);
    rsim_buf_append(&doc, s->pts.data, s->pts.len);
    rsim_buf_puts(&doc, "]}}");
    c->points_t = t;
  }
  int n = lws_write(wsi, doc.data + LWS_PRE, doc.len - LWS_PRE, LWS_WRITE_TEXT);
  rsim_buf_free(&doc);
  if (n < 0) return -1;
  if (current_jpeg(s, &t) && t != c->frame_t) {
    c->frame_due = true;
    lws_callback_on_writable(wsi);
  }
  return 0;
}

static const struct lws_protocols kProtocols[] = {
    {"http", cb_http, sizeof(http_pss), 0, 0, NULL, 0},
    {"rsim", cb_ws, sizeof(ws_pss), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- Foxglove (serve --foxglove) -------------------------------------------------------
** Its own port (a vhost of the same context, so the same event loop),
** protocol foxglove.websocket.v1; what is said on it is rsim/foxglove.h's.
** A client is written to like a stream client: one message each time lws
** says the last went out whole, and that message is the state of now.
** Reading needs no token; playback control, where a token is needed, takes
** it from the connection's ?token= or Authorization header, within the
** same per-client rate limit as the API's controls. */

#define FOX_MAX_RX (1 << 20) /* a client message larger than this closes the connection */

typedef struct fox_pss {
  rsim_fox_client *c;
  rsim_buf rx;
  bool may_control;
} fox_pss;

static int cb_fox(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  rsim_server *s = lws_context_user(lws_get_context(wsi));
  fox_pss *c = user;
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
      memset(c, 0, sizeof *c);
      c->c = rsim_fox_client_new(s->fox);
      c->may_control = token_ok(s, wsi);
      lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, stall_s(s));
      lws_callback_on_writable(wsi);
      return 0;
    case LWS_CALLBACK_RECEIVE: {
      if (!c->c) return -1;
      if (c->rx.len + len > FOX_MAX_RX) return -1;
      rsim_buf_append(&c->rx, in, len);
      if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return 0;
      bool binary = lws_frame_is_binary(wsi);
      int64_t wait_ms = 0;
      if (rsim_fox_is_control(c->rx.data, c->rx.len, binary) && s->need_token) {
        char msg[160];
        if (!rate_ok(s, wsi, &wait_ms)) {
          snprintf(msg, sizeof msg, "too many control requests from this client; try again in %lld ms", (long long)wait_ms);
          rsim_fox_client_status(c->c, 2, msg);
        } else if (!c->may_control)
          rsim_fox_client_status(c->c, 2, "playback control needs the server's control token: connect with ?token=TOKEN");
        else
          rsim_fox_client_receive(c->c, c->rx.data, c->rx.len, binary);
      } else
        rsim_fox_client_receive(c->c, c->rx.data, c->rx.len, binary);
      c->rx.len = 0;
      lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      if (!c->c) return 0;
      lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, stall_s(s));
      /* As many messages as the socket takes now (at most 32: the player
      ** waits meanwhile); at max speed the loop comes here only between
      ** polls, and one message a turn would starve the client. */
      rsim_buf msg = {0};
      int kind = 0;
      for (int k = 0; k < 32 && !lws_send_pipe_choked(wsi); k++) {
        msg.len = 0;
        rsim_buf_append(&msg, (const uint8_t[LWS_PRE]){0}, LWS_PRE);
        if (!(kind = rsim_fox_client_next(c->c, &msg))) break;
        if (lws_write(wsi, msg.data + LWS_PRE, msg.len - LWS_PRE, kind == 1 ? LWS_WRITE_TEXT : LWS_WRITE_BINARY) < 0) {
          rsim_buf_free(&msg);
          return -1;
        }
      }
      rsim_buf_free(&msg);
      if (kind) lws_callback_on_writable(wsi); /* more may be owed; asked again once this went out */
      return 0;
    }
    case LWS_CALLBACK_CLOSED:
      rsim_fox_client_free(c->c);
      c->c = NULL;
      rsim_buf_free(&c->rx);
      return 0;
    default:
      return 0;
  }
}

static const struct lws_protocols kFoxProtocols[] = {
    {"http", lws_callback_http_dummy, 0, 0, 0, NULL, 0},
    {"foxglove.websocket.v1", cb_fox, sizeof(fox_pss), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- timers ---------------------------------------------------------------------------- */

/* The outputs of the instant the engine is at, each scored once (the
** live module skips one it has), and with marks when the instant's calls
** faulted, ran out of fuel or time, or took longer than their budget. */
static void live_look(rsim_server *s, rsim_time now, bool marks) {
  for (size_t i = 0; i < rsim_engine_n_components(s->e); i++) {
    rsim_component_stats st, *was = &s->live_stats[i];
    rsim_engine_stats(s->e, i, &st);
    if (marks && st.errors > was->errors && st.limit_hits == was->limit_hits)
      rsim_eval_live_mark(s->live, now, "fault", st.name, "the call trapped or failed");
    if (marks && st.limit_hits > was->limit_hits)
      rsim_eval_live_mark(s->live, now, "timeout", st.name, "the call ran out of fuel or time");
    if (marks && st.timing_violations > was->timing_violations)
      rsim_eval_live_mark(s->live, now, "timeout", st.name, "the call took longer than its budget");
    *was = st;
    const rsim_type *t;
    rsim_time ot;
    const rsim_val *v = rsim_engine_output(s->e, i, &t, &ot);
    if (v) rsim_eval_live_output(s->live, st.name, ot, v, t);
  }
  s->live_now = now;
}

/* After every instant the player runs (rsim_player_set_instant_hook): at
** max speed a poll runs many, and each is scored, not only the last. */
static void on_instant(void *ud) {
  rsim_server *s = ud;
  if (!s->live) return;
  rsim_time now = rsim_engine_time(s->e);
  if (now < s->live_now) rsim_eval_live_rewind(s->live, now + 1);
  live_look(s, now, true);
}

/* After a poll or a control: a seek back takes out what it undid; a seek
** that arrived scores the outputs it lands on.  The counts a seek's
** re-simulation added are taken as they are, without marks: they are not
** of instants that played (also when it came back to the same instant).
** Nothing while a seek is on its way: the engine is then at some earlier
** instant, not where the run is going. */
static void live_sync(rsim_server *s) {
  if (!s->live) return;
  rsim_player_state ps;
  rsim_player_state_get(s->p, &ps);
  if (ps.seeking) return;
  rsim_time now = rsim_engine_time(s->e);
  if (now < s->live_now) rsim_eval_live_rewind(s->live, now + 1);
  live_look(s, now, false);
}

static void on_poll(lws_sorted_usec_list_t *sul) {
  rsim_server *s = lws_container_of(sul, rsim_server, sul_poll);
  int64_t wait;
  rsim_player_poll(s->p, &wait);
  live_sync(s);
  /* Foxglove clients are sent the data as the run moves, not at display rate. */
  if (s->fox) lws_callback_on_writable_all_protocol(s->ctx, &kFoxProtocols[1]);
  /* Paused or ended: look again soon, a control may have changed that. */
  lws_usec_t us = wait < 0 ? 20000 : wait / 1000;
  lws_sul_schedule(s->ctx, 0, &s->sul_poll, on_poll, us > 20000 ? 20000 : us);
}

static void on_push(lws_sorted_usec_list_t *sul) {
  rsim_server *s = lws_container_of(sul, rsim_server, sul_push);
  lws_callback_on_writable_all_protocol(s->ctx, &kProtocols[1]);
  lws_sul_schedule(s->ctx, 0, &s->sul_push, on_push, (lws_usec_t)(1e6 / s->o.display_hz));
}

/* ---- life cycle ------------------------------------------------------------------------- */

static bool loopback(const char *addr) { return !strcmp(addr, "127.0.0.1") || !strcmp(addr, "::1") || !strcmp(addr, "localhost"); }

static void make_token(char *out, size_t n) {
  uint8_t r[16] = {0};
  FILE *f = fopen("/dev/urandom", "rb");
  if (!f || fread(r, 1, sizeof r, f) != sizeof r) {
    uint64_t x = (uint64_t)rsim_monotonic_ns() ^ (uint64_t)time(NULL);
    for (int i = 0; i < 16; i++) r[i] = (uint8_t)((x = x * 6364136223846793005ULL + 1) >> 56);
  }
  if (f) fclose(f);
  for (int i = 0; i < 16 && (size_t)(2 * i + 2) < n; i++) snprintf(out + 2 * i, 3, "%02x", r[i]);
}

int rsim_server_new(rsim_player *p, rsim_engine *e, const rsim_graph *g, const rsim_server_opts *o,
                    rsim_server **out, rsim_errbuf *eb) {
  *out = NULL;
  rsim_server *s = rsim_xcalloc(1, sizeof *s);
  s->p = p;
  s->e = e;
  s->g = g;
  if (o) s->o = *o;
  if (!s->o.bind) s->o.bind = "127.0.0.1";
  if (!(s->o.display_hz > 0)) s->o.display_hz = 30;
  s->need_token = !loopback(s->o.bind) || s->o.token;
  if (s->o.token && (!*s->o.token || strlen(s->o.token) >= sizeof s->token)) {
    free(s);
    return rsim_errbuf_set(eb, RSIM_EINVAL, "the control token must be 1 to %zu characters", sizeof s->token - 1);
  }
  if (s->o.token) snprintf(s->token, sizeof s->token, "%s", s->o.token);
  else if (s->need_token) make_token(s->token, sizeof s->token);
  /* Control is rate-limited per client wherever a token guards it. */
  s->burst = s->o.control_burst > 0 ? s->o.control_burst : s->need_token ? 20 : 0;
  s->period_ns = s->o.control_period_ns > 0 ? s->o.control_period_ns : RSIM_NS_PER_S;
  if (s->burst) s->peers = rsim_xcalloc(MAX_PEERS, sizeof *s->peers);
  lws_set_log_level(LLL_ERR, lws_keep);
  g_lws_line[0] = 0;
  s->mounts[0] = (struct lws_http_mount){.mountpoint = "/api", .mountpoint_len = 4, .origin = "http",
                                          .origin_protocol = LWSMPRO_CALLBACK};
  s->mounts[1] = (struct lws_http_mount){.mountpoint = "/", .mountpoint_len = 1, .origin = s->o.web_root,
                                          .def = "index.html", .origin_protocol = LWSMPRO_FILE};
  s->mounts[0].mount_next = s->o.web_root ? &s->mounts[1] : NULL;
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = s->o.port;
  info.iface = s->o.bind;
  info.protocols = kProtocols;
  info.mounts = &s->mounts[0];
  info.user = s;
  info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
  /* A seek answers at once and goes on in slices, but a step sent during a
  ** long seek finishes the seek first, inside its request: do not time
  ** such a connection out. */
  info.timeout_secs = 300;
  info.keepalive_timeout = 300;
  s->ctx = lws_create_context(&info);
  if (!s->ctx) {
    free(s->peers);
    free(s);
    return rsim_errbuf_set(eb, RSIM_EIO, "cannot serve on %s:%d (in use, or no such address)%s%s",
                           o && o->bind ? o->bind : "127.0.0.1", o ? o->port : 0, g_lws_line[0] ? ": " : "",
                           g_lws_line);
  }
  s->port = lws_get_vhost_listen_port(lws_get_vhost_by_name(s->ctx, "default"));
  if (s->o.foxglove) {
    struct lws_context_creation_info fi = info;
    fi.port = s->o.foxglove_port;
    fi.protocols = kFoxProtocols;
    fi.mounts = NULL;
    fi.vhost_name = "foxglove";
    g_lws_line[0] = 0;
    struct lws_vhost *vh = lws_create_vhost(s->ctx, &fi);
    if (!vh) {
      int rc = rsim_errbuf_set(eb, RSIM_EIO, "--foxglove: cannot serve on %s:%d (in use, or no such address)%s%s",
                               s->o.bind, s->o.foxglove_port, g_lws_line[0] ? ": " : "", g_lws_line);
      rsim_server_free(s);
      return rc;
    }
    s->fox_port = lws_get_vhost_listen_port(vh);
    rsim_fox_new(p, e, s->o.store, &s->fox, eb);
  }
  rsim_engine_keep_inputs(e, true); /* the components panel shows them */
  s->jpeg_t = s->pts_t = INT64_MIN;
  if (s->o.store) {
    const rsim_sensor_info *cam = rsim_store_first_of_kind(s->o.store, RSIM_SENSOR_CAMERA);
    const rsim_sensor_info *lidar = rsim_store_first_of_kind(s->o.store, RSIM_SENSOR_LIDAR);
    s->camera = cam ? cam->id : NULL;
    s->lidar = lidar ? lidar->id : NULL;
    rsim_time from, to;
    rsim_engine_range(e, &from, &to);
    rsim_errbuf why = {0};
    size_t n_block = 0;
    const rsim_kv *block = rsim_graph_eval(g, &n_block);
    int rc = rsim_eval_live_new(s->o.store, from, to, 0, block, n_block, NULL, &s->live, &why);
    if (rc == RSIM_EGRAPH) { /* a bad eval: block is the user's to fix, not a store that cannot be scored */
      rsim_server_free(s);
      return rsim_errbuf_set(eb, rc, "%s", why.msg);
    }
    if (rc) snprintf(s->live_why, sizeof s->live_why, "no scores while playing: %s", why.msg);
    s->live_now = INT64_MIN;
    size_t n = rsim_engine_n_components(e);
    s->live_stats = rsim_xcalloc(n + 1, sizeof *s->live_stats);
    for (size_t i = 0; i < n; i++) rsim_engine_stats(e, i, &s->live_stats[i]); /* marks count from here */
  } else
    snprintf(s->live_why, sizeof s->live_why, "no scores while playing: this server has no store");
  if (s->o.gates) {
    rsim_errbuf why = {0};
    int rc = s->live ? rsim_eval_live_gates(s->live, s->o.gates, &why)
                     : rsim_errbuf_set(&why, RSIM_EINVAL, "--gate %s: %s", s->o.gates, s->live_why);
    if (rc) {
      rsim_server_free(s);
      return rsim_errbuf_set(eb, rc, "%s", why.msg);
    }
  }
  rsim_player_set_instant_hook(p, on_instant, s);
  lws_sul_schedule(s->ctx, 0, &s->sul_poll, on_poll, 1);
  lws_sul_schedule(s->ctx, 0, &s->sul_push, on_push, 1);
  *out = s;
  return RSIM_OK;
}

int rsim_server_run(rsim_server *s) {
  s->errmsg[0] = 0;
  g_lws_line[0] = 0;
  while (!s->stop) {
    errno = 0;
    if (lws_service(s->ctx, 0) < 0) {
      int err = errno;
      snprintf(s->errmsg, sizeof s->errmsg, "serving on %s:%d: the event loop failed: %s", s->o.bind, s->port,
               g_lws_line[0] ? g_lws_line : err ? strerror(err) : "lws_service returned an error");
      return RSIM_EIO;
    }
  }
  return RSIM_OK;
}

const char *rsim_server_errmsg(const rsim_server *s) { return s->errmsg; }

void rsim_server_stop(rsim_server *s) {
  s->stop = 1;
  if (s->ctx) lws_cancel_service(s->ctx);
}

void rsim_server_free(rsim_server *s) {
  if (!s) return;
  rsim_player_set_instant_hook(s->p, NULL, NULL);
  lws_context_destroy(s->ctx);
  rsim_fox_free(s->fox);
  for (int i = 0; i < 32; i++) free(s->events[i]);
  rsim_buf_free(&s->jpeg);
  rsim_buf_free(&s->pts);
  free(s->peers);
  rsim_eval_live_free(s->live);
  free(s->live_stats);
  free(s);
}

void rsim_server_log(rsim_server *s, rsim_time t, const char *component, int level, const char *message) {
  if (s && s->fox) rsim_fox_log(s->fox, t, component, level, message);
}

int rsim_server_port(const rsim_server *s) { return s->port; }
int rsim_server_foxglove_port(const rsim_server *s) { return s->fox ? s->fox_port : 0; }
const char *rsim_server_token(const rsim_server *s) { return s->need_token ? s->token : NULL; }
