/*
** foxglove.c -- the Foxglove WebSocket protocol (foxglove.websocket.v1) over
** a running replay: the channel table, per-client subscriptions, the
** messages encoded, and PlaybackControlRequest turned into player controls.
**
** Pull, not push: nothing is encoded when an instant runs.  When a client
** can take a message, rsim_fox_client_next looks at what it is owed in
** this order -- the playback state (after a change), the time (when the
** run moved), then each subscribed channel whose reading or output at the
** engine's current time is not the one the client had -- and encodes that
** channel's message once for every client (cached by its source time).  A
** slow client is simply asked less often, and gets the latest.
**
** Binary layouts (little-endian) are those of the protocol's spec and of
** foxglove-sdk for the playback messages: MessageData 0x01 (u32 sub id,
** u64 time, payload), Time 0x02 (u64), PlaybackState 0x05 (u8 status, u64
** time, f32 speed, u8 did_seek, u32 len, request id); from the client,
** PlaybackControlRequest 0x03 (u8 command, f32 speed, u8 had_seek, u64
** seek time, u32 len, request id).
*/
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsim/foxglove.h"
#include "rsim/viz.h"
#include "store/codec.h" /* the Foxglove descriptors and protobuf writers the MCAP writer uses */

enum { CH_CAMERA, CH_SENSOR, CH_OUTPUT, CH_ANNOTATIONS, CH_SCENE, CH_TRUTH, CH_TF, CH_LOG };

#define LOG_RING 64 /* log lines kept for clients: one that falls further behind skips the oldest */

typedef struct fox_chan {
  char *topic, *schema_name, *encoding, *schema_encoding, *schema; /* as advertised */
  int kind;
  const rsim_sensor_info *sensor; /* CH_CAMERA, CH_SENSOR */
  size_t comp;                    /* CH_OUTPUT, CH_ANNOTATIONS */
  rsim_time looked_at;            /* the engine time src_t was found at; INT64_MIN: never */
  rsim_time src_t;                /* the time of what the channel shows then; INT64_MIN: nothing */
  rsim_time enc_t;                /* the time of the message in enc; INT64_MIN: none */
  rsim_buf enc;                   /* the message payload, for every client */
} fox_chan;

typedef struct fox_sub {
  uint32_t id;
  size_t chan;
  rsim_time sent_t; /* source time of the last message sent; INT64_MIN: none since the last seek */
  uint64_t log_next; /* /rsim/log: the number of the next line to send */
} fox_sub;

#define MAX_STATUS 8 /* status messages a client may be owed; older ones are dropped */

struct rsim_fox_client {
  rsim_fox *f;
  rsim_fox_client *next;
  int hello; /* 0: serverInfo due, 1: advertise due, 2: done */
  fox_sub *subs;
  size_t n_subs, rr;
  bool state_due, did_seek;
  char request_id[128];
  rsim_time time_sent;
  char *status[MAX_STATUS];
  size_t n_status;
};

struct rsim_fox {
  rsim_player *p;
  rsim_engine *e;
  rsim_store *st;
  fox_chan *ch;
  size_t n_ch;
  size_t log_chan;              /* the index of /rsim/log */
  rsim_buf log[LOG_RING];       /* the last log lines, encoded (foxglove.Log), a ring */
  rsim_time log_t[LOG_RING];
  uint64_t n_log;               /* lines so far: line k is log[k % LOG_RING] */
  rsim_fox_client *clients;
  rsim_reading r; /* scratch */
};

/* ---- helpers ---------------------------------------------------------------------------- */

static void put_base64(rsim_buf *b, const uint8_t *p, size_t n) {
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    rsim_buf_putc(b, a[v >> 18 & 63]);
    rsim_buf_putc(b, a[v >> 12 & 63]);
    rsim_buf_putc(b, i + 1 < n ? a[v >> 6 & 63] : '=');
    rsim_buf_putc(b, i + 2 < n ? a[v & 63] : '=');
  }
}

static void put_str(rsim_buf *b, const char *s) { rsim_buf_put_json_str(b, s, strlen(s)); }

static void put_stamp_json(rsim_buf *b, rsim_time t) {
  uint64_t ts = t < 0 ? 0 : (uint64_t)t;
  rsim_buf_printf(b, "{\"sec\":%llu,\"nsec\":%llu}", (unsigned long long)(ts / 1000000000u),
                  (unsigned long long)(ts % 1000000000u));
}

static void pb_point2(rsim_buf *b, uint32_t num, double x, double y) {
  rsim_buf p = {0};
  rsim__pb_double_put(&p, 1, x);
  rsim__pb_double_put(&p, 2, y);
  rsim__pb_bytes(b, num, p.data, p.len);
  rsim_buf_free(&p);
}

static void pb_color(rsim_buf *b, uint32_t num, double r, double g, double bl, double a) {
  rsim_buf c = {0};
  rsim__pb_double_put(&c, 1, r);
  rsim__pb_double_put(&c, 2, g);
  rsim__pb_double_put(&c, 3, bl);
  rsim__pb_double_put(&c, 4, a);
  rsim__pb_bytes(b, num, c.data, c.len);
  rsim_buf_free(&c);
}

/* A WIT type as a JSON schema of what rsim_val_to_json writes for it. */
static void type_schema(const rsim_type *t, rsim_buf *b, int depth) {
  if (!t || depth > 24) {
    rsim_buf_puts(b, "{}");
    return;
  }
  switch (t->kind) {
    case RSIM_BOOL: rsim_buf_puts(b, "{\"type\":\"boolean\"}"); break;
    case RSIM_S8: case RSIM_U8: case RSIM_S16: case RSIM_U16: case RSIM_S32: case RSIM_U32: case RSIM_S64:
    case RSIM_U64: rsim_buf_puts(b, "{\"type\":\"integer\"}"); break;
    case RSIM_F32: case RSIM_F64: rsim_buf_puts(b, "{\"type\":\"number\"}"); break;
    case RSIM_CHAR: case RSIM_STRING: rsim_buf_puts(b, "{\"type\":\"string\"}"); break;
    case RSIM_LIST:
      rsim_buf_puts(b, "{\"type\":\"array\",\"items\":");
      type_schema(t->n ? t->types[0] : NULL, b, depth + 1);
      rsim_buf_putc(b, '}');
      break;
    case RSIM_TUPLE: rsim_buf_puts(b, "{\"type\":\"array\"}"); break;
    case RSIM_RECORD:
      rsim_buf_puts(b, "{\"type\":\"object\",\"properties\":{");
      for (size_t i = 0; i < t->n; i++) {
        if (i) rsim_buf_putc(b, ',');
        put_str(b, t->names[i]);
        rsim_buf_putc(b, ':');
        type_schema(t->types[i], b, depth + 1);
      }
      rsim_buf_puts(b, "}}");
      break;
    case RSIM_OPTION:
      rsim_buf_puts(b, "{\"anyOf\":[");
      type_schema(t->n ? t->types[0] : NULL, b, depth + 1);
      rsim_buf_puts(b, ",{\"type\":\"null\"}]}");
      break;
    case RSIM_ENUM:
      rsim_buf_puts(b, "{\"type\":\"string\",\"enum\":[");
      for (size_t i = 0; i < t->n; i++) {
        if (i) rsim_buf_putc(b, ',');
        put_str(b, t->names[i]);
      }
      rsim_buf_puts(b, "]}");
      break;
    case RSIM_FLAGS: rsim_buf_puts(b, "{\"type\":\"array\",\"items\":{\"type\":\"string\"}}"); break;
    default: rsim_buf_puts(b, "{}"); /* variants, results: a name, or {name: payload} */
  }
}

static bool has_fields(const rsim_type *t, const char *const *names, size_t n) {
  if (!t || t->kind != RSIM_RECORD) return false;
  for (size_t i = 0; i < n; i++)
    if (rsim_type_member(t, names[i]) < 0) return false;
  return true;
}

/* A detector's output: list<record { ..., bbox: record { x, y, width, height } }>. */
static bool boxes_type(const rsim_type *t) {
  static const char *const bbox[] = {"bbox"}, *const xywh[] = {"x", "y", "width", "height"};
  const rsim_type *elem = t && t->kind == RSIM_LIST && t->n ? t->types[0] : NULL;
  return has_fields(elem, bbox, 1) && has_fields(rsim_type_field(elem, "bbox"), xywh, 4);
}

/* An output the 3-D panel shows: a list of records with a position
** (tracks, fused objects) or a record with a list of points (a path). */
static int scene_type(const rsim_type *t) {
  static const char *const pos[] = {"position"}, *const xy[] = {"x", "y"}, *const pts[] = {"points"};
  const rsim_type *elem = t && t->kind == RSIM_LIST && t->n ? t->types[0] : NULL;
  if (has_fields(elem, pos, 1) && has_fields(rsim_type_field(elem, "position"), xy, 2)) return 1;
  const rsim_type *p = has_fields(t, pts, 1) ? rsim_type_field(t, "points") : NULL;
  if (p && p->kind == RSIM_LIST && p->n && has_fields(p->types[0], xy, 2)) return 2;
  return 0;
}

/* ---- SceneUpdate pieces (protobuf, in the vehicle frame base_link) ---------------------- */

static void pb_xyz(rsim_buf *b, uint32_t num, double x, double y, double z) {
  rsim_buf v = {0};
  rsim__pb_double_put(&v, 1, x);
  rsim__pb_double_put(&v, 2, y);
  rsim__pb_double_put(&v, 3, z);
  rsim__pb_bytes(b, num, v.data, v.len);
  rsim_buf_free(&v);
}

/* Pose: a position and a heading (yaw, rad) about z. */
static void pb_pose(rsim_buf *b, uint32_t num, double x, double y, double z, double yaw) {
  rsim_buf p = {0}, q = {0};
  pb_xyz(&p, 1, x, y, z);
  rsim__pb_double_put(&q, 3, sin(yaw / 2));
  rsim__pb_double_put(&q, 4, cos(yaw / 2));
  rsim__pb_bytes(&p, 2, q.data, q.len);
  rsim__pb_bytes(b, num, p.data, p.len);
  rsim_buf_free(&p);
  rsim_buf_free(&q);
}

/* An entity with a box (and its label) into a SceneUpdate. */
static void pb_box_entity(rsim_buf *upd, rsim_time t, const char *id, double x, double y, double z, double yaw, double l,
                          double w, double h, const uint8_t rgb[3], double alpha, const char *label) {
  rsim_buf e = {0}, c = {0}, d = {0};
  rsim__pb_stamp(&e, 1, t);
  rsim__pb_str(&e, 2, "base_link");
  rsim__pb_str(&e, 3, id);
  rsim__pb_varint(&d, 2, 200000000); /* shown 200 ms unless renewed: objects that go away leave */
  rsim__pb_bytes(&e, 4, d.data, d.len);
  pb_pose(&c, 1, x, y, z, yaw);
  pb_xyz(&c, 2, l, w, h);
  pb_color(&c, 3, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0, alpha);
  rsim__pb_bytes(&e, 8, c.data, c.len);
  c.len = 0;
  pb_pose(&c, 1, x, y, z + h / 2 + 0.6, 0);
  rsim__pb_varint(&c, 2, 1); /* billboard */
  rsim__pb_double_put(&c, 3, 14);
  rsim__pb_varint(&c, 4, 1); /* scale invariant */
  pb_color(&c, 5, 1, 1, 1, 1);
  rsim__pb_str(&c, 6, label);
  rsim__pb_bytes(&e, 13, c.data, c.len);
  rsim__pb_bytes(upd, 2, e.data, e.len);
  rsim_buf_free(&e);
  rsim_buf_free(&c);
  rsim_buf_free(&d);
}

static const char *text_of(const rsim_val *v) { return v && v->kind == RSIM_STRING ? v->of.str.ptr : NULL; }

static void encode_scene(fox_chan *c, const char *name, const rsim_val *v, const rsim_type *t, rsim_time tm) {
  if (scene_type(t) == 1 && v->kind == RSIM_LIST) {
    const rsim_type *elem = t->types[0], *pt = rsim_type_field(elem, "position");
    for (size_t i = 0; i < v->of.agg.n; i++) {
      const rsim_val *o = &v->of.agg.items[i], *p = rsim_val_field(o, elem, "position");
      const rsim_val *idv = rsim_val_field(o, elem, "id");
      const char *cls = text_of(rsim_val_field(o, elem, "classification"));
      if (!cls) cls = text_of(rsim_val_field(o, elem, "class"));
      char id[96], label[160];
      if (text_of(idv)) snprintf(id, sizeof id, "%s/%s", name, text_of(idv));
      else snprintf(id, sizeof id, "%s/%g", name, idv ? rsim_val_number(idv) : (double)i);
      snprintf(label, sizeof label, "%s %s", strchr(id, '/') + 1, cls ? cls : "");
      uint8_t rgb[3];
      rsim_viz_class_colour(cls ? cls : "", rgb);
      pb_box_entity(&c->enc, tm, id, rsim_val_number(rsim_val_field(p, pt, "x")), rsim_val_number(rsim_val_field(p, pt, "y")),
                    0.75, 0, 4.5, 1.8, 1.5, rgb, 0.6, label);
    }
    return;
  }
  /* A path: one entity, a line strip through its points. */
  const rsim_val *pts = rsim_val_field(v, t, "points");
  const rsim_type *pt = rsim_type_field(t, "points")->types[0];
  rsim_buf e = {0}, l = {0};
  rsim__pb_stamp(&e, 1, tm);
  rsim__pb_str(&e, 2, "base_link");
  rsim__pb_str(&e, 3, name);
  rsim__pb_varint(&l, 1, 0); /* LINE_STRIP */
  pb_pose(&l, 2, 0, 0, 0.1, 0);
  rsim__pb_double_put(&l, 3, 0.3);
  for (size_t i = 0; pts && i < pts->of.agg.n; i++)
    pb_xyz(&l, 5, rsim_val_number(rsim_val_field(&pts->of.agg.items[i], pt, "x")),
           rsim_val_number(rsim_val_field(&pts->of.agg.items[i], pt, "y")), 0);
  pb_color(&l, 6, 1, 0.6, 0, 1);
  rsim__pb_bytes(&e, 11, l.data, l.len);
  rsim__pb_bytes(&c->enc, 2, e.data, e.len);
  rsim_buf_free(&e);
  rsim_buf_free(&l);
}

/* ---- the channel table ----------------------------------------------------------------- */

static fox_chan *add_chan(rsim_fox *f, const char *topic, int kind, const char *schema_name, const char *encoding) {
  f->ch = rsim_xrealloc(f->ch, (f->n_ch + 1) * sizeof *f->ch);
  fox_chan *c = &f->ch[f->n_ch++];
  memset(c, 0, sizeof *c);
  c->topic = rsim_xstrdup(topic);
  c->kind = kind;
  c->schema_name = rsim_xstrdup(schema_name);
  c->encoding = rsim_xstrdup(encoding);
  c->looked_at = c->src_t = c->enc_t = INT64_MIN;
  return c;
}

/* A protobuf channel's schema: the FileDescriptorSet, base64. */
static void set_pb_schema(fox_chan *c) {
  rsim_buf fds = {0}, b64 = {0};
  rsim__fox_descriptor(c->schema_name, &fds);
  put_base64(&b64, fds.data, fds.len);
  rsim_buf_putc(&b64, 0);
  c->schema = (char *)b64.data;
  c->schema_encoding = rsim_xstrdup("protobuf");
  rsim_buf_free(&fds);
}

int rsim_fox_new(rsim_player *p, rsim_engine *e, rsim_store *st, rsim_fox **out, rsim_errbuf *eb) {
  (void)eb;
  rsim_fox *f = rsim_xcalloc(1, sizeof *f);
  f->p = p;
  f->e = e;
  f->st = st;
  char topic[320];
  const rsim_sensor_info *sensors = NULL;
  size_t n = 0;
  if (st && rsim_store_sensors(st, &sensors, &n)) n = 0;
  for (size_t i = 0; i < n; i++) {
    const rsim_sensor_info *s = &sensors[i];
    snprintf(topic, sizeof topic, "/%s", s->id);
    fox_chan *c = NULL;
    if (s->kind == RSIM_SENSOR_CAMERA) c = add_chan(f, topic, CH_CAMERA, "foxglove.CompressedImage", "protobuf");
    else if (s->kind == RSIM_SENSOR_LIDAR || s->kind == RSIM_SENSOR_RADAR)
      c = add_chan(f, topic, CH_SENSOR, "foxglove.PointCloud", "protobuf");
    else if (s->kind == RSIM_SENSOR_GPS) c = add_chan(f, topic, CH_SENSOR, "foxglove.LocationFix", "protobuf");
    if (!c) continue;
    c->sensor = s;
    set_pb_schema(c);
  }
  for (size_t i = 0; i < rsim_engine_n_components(e); i++) {
    rsim_component_stats cs;
    rsim_engine_stats(e, i, &cs);
    const rsim_type *t = NULL;
    rsim_engine_output(e, i, &t, NULL); /* the type is known before the first output */
    char name[300];
    snprintf(topic, sizeof topic, "/rsim/%s", cs.name);
    snprintf(name, sizeof name, "rsim.%s", cs.name);
    fox_chan *c = add_chan(f, topic, CH_OUTPUT, name, "json");
    c->comp = i;
    rsim_buf s = {0};
    rsim_buf_puts(&s, "{\"type\":\"object\",\"properties\":{\"timestamp\":{\"type\":\"object\",\"properties\":"
                      "{\"sec\":{\"type\":\"integer\"},\"nsec\":{\"type\":\"integer\"}}},\"value\":");
    type_schema(t, &s, 0);
    rsim_buf_puts(&s, "}}");
    rsim_buf_putc(&s, 0);
    c->schema = (char *)s.data;
    c->schema_encoding = rsim_xstrdup("jsonschema");
    if (boxes_type(t)) {
      snprintf(topic, sizeof topic, "/rsim/%s/annotations", cs.name);
      c = add_chan(f, topic, CH_ANNOTATIONS, "foxglove.ImageAnnotations", "protobuf");
      c->comp = i;
      set_pb_schema(c);
    }
    if (scene_type(t)) {
      snprintf(topic, sizeof topic, "/rsim/%s/scene", cs.name);
      c = add_chan(f, topic, CH_SCENE, "foxglove.SceneUpdate", "protobuf");
      c->comp = i;
      set_pb_schema(c);
    }
  }
  f->log_chan = f->n_ch;
  set_pb_schema(add_chan(f, "/rsim/log", CH_LOG, "foxglove.Log", "protobuf"));
  rsim_truth *g = NULL;
  size_t ng = 0;
  rsim_time from, to;
  rsim_engine_range(e, &from, &to);
  if (st && rsim_store_truth(st, from, to, &g, &ng) == RSIM_OK && ng) {
    fox_chan *c = add_chan(f, "/rsim/truth/scene", CH_TRUTH, "foxglove.SceneUpdate", "protobuf");
    set_pb_schema(c);
  }
  free(g);
  for (size_t i = 0; i < n; i++)
    if (rsim_kv_get(sensors[i].meta, sensors[i].n_meta, "mount_x")) { /* a sensor placed on the vehicle */
      fox_chan *c = add_chan(f, "/tf", CH_TF, "foxglove.FrameTransforms", "protobuf");
      set_pb_schema(c);
      break;
    }
  *out = f;
  return RSIM_OK;
}

size_t rsim_fox_n_channels(const rsim_fox *f) { return f->n_ch; }

void rsim_fox_free(rsim_fox *f) {
  if (!f) return;
  while (f->clients) rsim_fox_client_free(f->clients);
  for (size_t i = 0; i < f->n_ch; i++) {
    fox_chan *c = &f->ch[i];
    free(c->topic);
    free(c->schema_name);
    free(c->encoding);
    free(c->schema_encoding);
    free(c->schema);
    rsim_buf_free(&c->enc);
  }
  free(f->ch);
  for (int i = 0; i < LOG_RING; i++) rsim_buf_free(&f->log[i]);
  rsim_reading_clear(&f->r);
  free(f);
}

/* ---- what a channel shows now, and its message ------------------------------------------ */

/* The time of what c shows at the engine's current time (INT64_MIN: nothing yet). */
static rsim_time chan_source(rsim_fox *f, fox_chan *c) {
  rsim_time now = rsim_engine_time(f->e);
  bool by_time = c->sensor || c->kind == CH_TRUTH || c->kind == CH_TF; /* outputs also change within an instant (step_run) */
  if (c->looked_at == now && by_time) return c->src_t;
  c->looked_at = now;
  c->src_t = INT64_MIN;
  if (c->sensor) {
    rsim_reading_clear(&f->r);
    if (!rsim_store_reading_at(f->st, c->sensor->id, now, &f->r)) c->src_t = f->r.t;
  } else if (c->kind == CH_TF) {
    rsim_time from, to;
    rsim_engine_range(f->e, &from, &to);
    c->src_t = from; /* the mounts hold for the whole drive: sent once (and again after a seek) */
  } else if (c->kind == CH_TRUTH) {
    rsim_truth *g = NULL;
    size_t n = 0;
    if (rsim_store_truth(f->st, now - 200000000, now, &g, &n) == RSIM_OK && n) c->src_t = g[n - 1].t;
    free(g);
  } else {
    rsim_time ot;
    if (rsim_engine_output(f->e, c->comp, NULL, &ot)) c->src_t = ot;
  }
  return c->src_t;
}

static void encode_annotations(fox_chan *c, const rsim_val *v, const rsim_type *t, rsim_time tm) {
  const rsim_type *elem = t->types[0], *bt = rsim_type_field(elem, "bbox");
  rsim_buf a = {0};
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < v->of.agg.n; i++) {
      const rsim_val *o = &v->of.agg.items[i], *bb = rsim_val_field(o, elem, "bbox");
      const rsim_val *cls = rsim_val_field(o, elem, "class");
      const char *name = cls && cls->kind == RSIM_STRING ? cls->of.str.ptr : "";
      double x = rsim_val_number(rsim_val_field(bb, bt, "x")), y = rsim_val_number(rsim_val_field(bb, bt, "y"));
      double w = rsim_val_number(rsim_val_field(bb, bt, "width")), h = rsim_val_number(rsim_val_field(bb, bt, "height"));
      a.len = 0;
      rsim__pb_stamp(&a, 1, tm);
      if (pass == 0) { /* the box: a closed outline in its class colour, as the web UI and render draw it */
        uint8_t rgb[3];
        rsim_viz_class_colour(name, rgb);
        rsim__pb_varint(&a, 2, 2); /* LINE_LOOP */
        pb_point2(&a, 3, x, y);
        pb_point2(&a, 3, x + w, y);
        pb_point2(&a, 3, x + w, y + h);
        pb_point2(&a, 3, x, y + h);
        pb_color(&a, 4, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0, 1);
        pb_color(&a, 6, 0, 0, 0, 0);
        rsim__pb_double_put(&a, 7, 2);
        rsim__pb_bytes(&c->enc, 2, a.data, a.len);
      } else { /* its label */
        char label[96];
        const rsim_val *conf = rsim_val_field(o, elem, "confidence");
        if (conf) snprintf(label, sizeof label, "%s %.2f", name, rsim_val_number(conf));
        else snprintf(label, sizeof label, "%s", name);
        pb_point2(&a, 2, x, y - 4);
        rsim__pb_str(&a, 3, label);
        rsim__pb_double_put(&a, 4, 12);
        pb_color(&a, 5, 1, 1, 1, 1);
        pb_color(&a, 6, 0, 0, 0, 0.6);
        rsim__pb_bytes(&c->enc, 3, a.data, a.len);
      }
    }
  rsim_buf_free(&a);
}

/* Encodes c's message for source time t into c->enc (once for every client);
** false when there is none to send. */
static bool chan_encode(rsim_fox *f, fox_chan *c, rsim_time t) {
  if (c->enc_t == t) return c->enc.len > 0;
  c->enc.len = 0;
  c->enc_t = t;
  if (c->sensor) {
    if (f->r.t != t || !f->r.sensor_id || strcmp(f->r.sensor_id, c->sensor->id)) {
      rsim_reading_clear(&f->r);
      if (rsim_store_reading_at(f->st, c->sensor->id, rsim_engine_time(f->e), &f->r) || f->r.t != t) return false;
    }
    if (c->kind == CH_CAMERA) {
      rsim_buf jpeg = {0};
      bool ok = rsim_reading_to_jpeg(&f->r, 80, &jpeg) == RSIM_OK; /* as the web UI's /api/frame */
      if (ok) {
        rsim__pb_stamp(&c->enc, 1, t);
        rsim__pb_str(&c->enc, 4, c->sensor->id);
        rsim__pb_bytes(&c->enc, 2, jpeg.data, jpeg.len);
        rsim__pb_str(&c->enc, 3, "jpeg");
      }
      rsim_buf_free(&jpeg);
      return ok;
    }
    char why[RSIM__WHY];
    if (rsim__fox_encode(&f->r, c->sensor, &c->enc, why)) c->enc.len = 0;
    return c->enc.len > 0;
  }
  if (c->kind == CH_TF) {
    const rsim_sensor_info *si = NULL;
    size_t n = 0;
    rsim_store_sensors(f->st, &si, &n);
    for (size_t i = 0; i < n; i++) {
      const char *mx = rsim_kv_get(si[i].meta, si[i].n_meta, "mount_x");
      if (!mx) continue;
      const char *my = rsim_kv_get(si[i].meta, si[i].n_meta, "mount_y"), *mz = rsim_kv_get(si[i].meta, si[i].n_meta, "mount_z");
      const char *yaw = rsim_kv_get(si[i].meta, si[i].n_meta, "mount_yaw");
      rsim_buf tf = {0}, q = {0};
      rsim__pb_stamp(&tf, 1, t);
      rsim__pb_str(&tf, 2, "base_link");
      rsim__pb_str(&tf, 3, si[i].id);
      pb_xyz(&tf, 4, atof(mx), my ? atof(my) : 0, mz ? atof(mz) : 0);
      double a = yaw ? atof(yaw) : 0;
      rsim__pb_double_put(&q, 3, sin(a / 2));
      rsim__pb_double_put(&q, 4, cos(a / 2));
      rsim__pb_bytes(&tf, 5, q.data, q.len);
      rsim__pb_bytes(&c->enc, 1, tf.data, tf.len);
      rsim_buf_free(&tf);
      rsim_buf_free(&q);
    }
    return c->enc.len > 0;
  }
  if (c->kind == CH_TRUTH) {
    rsim_truth *g = NULL;
    size_t n = 0;
    if (rsim_store_truth(f->st, t, t, &g, &n) == RSIM_OK)
      for (size_t i = 0; i < n; i++) {
        char id[48], label[48];
        snprintf(id, sizeof id, "truth/%u", g[i].object_id);
        snprintf(label, sizeof label, "truth %u %s", g[i].object_id, g[i].cls);
        pb_box_entity(&c->enc, t, id, g[i].x, g[i].y, g[i].z, g[i].heading, g[i].length, g[i].width, g[i].height,
                      (const uint8_t[3]){230, 230, 230}, 0.25, label);
      }
    free(g);
    return c->enc.len > 0;
  }
  const rsim_type *ty;
  rsim_time ot;
  const rsim_val *v = rsim_engine_output(f->e, c->comp, &ty, &ot);
  if (!v || ot != t) return false;
  if (c->kind == CH_SCENE) {
    rsim_component_stats cs;
    rsim_engine_stats(f->e, c->comp, &cs);
    encode_scene(c, cs.name, v, ty, t);
    return c->enc.len > 0;
  }
  if (c->kind == CH_OUTPUT) {
    rsim_buf_puts(&c->enc, "{\"timestamp\":");
    put_stamp_json(&c->enc, t);
    rsim_buf_puts(&c->enc, ",\"value\":");
    rsim_val_to_json(v, ty, 256, &c->enc);
    rsim_buf_putc(&c->enc, '}');
    return true;
  }
  if (v->kind != RSIM_LIST || !boxes_type(ty)) return false;
  encode_annotations(c, v, ty, t);
  return true;
}

/* ---- clients ---------------------------------------------------------------------------- */

rsim_fox_client *rsim_fox_client_new(rsim_fox *f) {
  rsim_fox_client *c = rsim_xcalloc(1, sizeof *c);
  c->f = f;
  c->time_sent = INT64_MIN;
  c->state_due = true;
  c->next = f->clients;
  f->clients = c;
  return c;
}

void rsim_fox_client_free(rsim_fox_client *c) {
  if (!c) return;
  for (rsim_fox_client **pp = &c->f->clients; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  for (size_t i = 0; i < c->n_status; i++) free(c->status[i]);
  free(c->subs);
  free(c);
}

void rsim_fox_client_status(rsim_fox_client *c, int level, const char *message) {
  if (c->n_status == MAX_STATUS) { /* the oldest goes: a client that does not read is owed little */
    free(c->status[0]);
    memmove(c->status, c->status + 1, (MAX_STATUS - 1) * sizeof *c->status);
    c->n_status--;
  }
  rsim_buf b = {0};
  rsim_buf_printf(&b, "{\"op\":\"status\",\"level\":%d,\"message\":", level);
  put_str(&b, message);
  rsim_buf_putc(&b, '}');
  rsim_buf_putc(&b, 0);
  c->status[c->n_status++] = (char *)b.data;
}

void rsim_fox_log(rsim_fox *f, rsim_time t, const char *component, int level, const char *message) {
  rsim_buf *b = &f->log[f->n_log % LOG_RING];
  b->len = 0;
  rsim__pb_stamp(b, 1, t);
  rsim__pb_varint(b, 2, (uint64_t)(level < 0 ? 1 : level > 3 ? 4 : level + 1)); /* ours 0 debug .. 3 error */
  rsim__pb_str(b, 3, message ? message : "");
  rsim__pb_str(b, 4, component ? component : "replaysim");
  f->log_t[f->n_log % LOG_RING] = t;
  f->n_log++;
}

static void forget_sent(rsim_fox_client *c) {
  for (size_t i = 0; i < c->n_subs; i++) c->subs[i].sent_t = INT64_MIN;
  c->time_sent = INT64_MIN;
}

void rsim_fox_player_event(rsim_fox *f, const rsim_player_event *ev) {
  if (ev->kind == RSIM_PLAYER_EV_ERROR) rsim_fox_log(f, ev->sim_time, NULL, 3, ev->message); /* what halted the run */
  for (rsim_fox_client *c = f->clients; c; c = c->next) {
    if (ev->kind == RSIM_PLAYER_EV_LAG) continue;
    c->state_due = true;
    if (ev->kind == RSIM_PLAYER_EV_SEEK || ev->kind == RSIM_PLAYER_EV_LOOP ||
        (ev->kind == RSIM_PLAYER_EV_STEP && ev->sim_time < c->time_sent)) {
      c->did_seek = true; /* the client clears its panels: send it everything at the new time */
      forget_sent(c);
    }
  }
}

bool rsim_fox_is_control(const uint8_t *data, size_t n, bool binary) { return binary && n >= 1 && data[0] == 0x03; }

/* Subscriptions a client may hold: many times the channels of any graph, and
** few enough that a client (one that may watch need not hold the token)
** cannot make each message cost the server a quadratic search. */
#define FOX_MAX_SUBS 1024

static void subscribe(rsim_fox_client *c, json_t *subs) {
  size_t i;
  json_t *s;
  json_array_foreach(subs, i, s) {
    if (c->n_subs >= FOX_MAX_SUBS) {
      rsim_fox_client_status(c, 2, "subscribe: at most 1024 subscriptions a client; the rest are refused");
      break;
    }
    json_t *id = json_object_get(s, "id"), *ch = json_object_get(s, "channelId");
    if (!json_is_integer(id) || !json_is_integer(ch) || json_integer_value(id) < 0 || json_integer_value(id) > UINT32_MAX) {
      rsim_fox_client_status(c, 2, "subscribe: each subscription needs an integer id and channelId");
      continue;
    }
    json_int_t chan = json_integer_value(ch);
    if (chan < 1 || (size_t)chan > c->f->n_ch) {
      char msg[96];
      snprintf(msg, sizeof msg, "subscribe: no channel %lld", (long long)chan);
      rsim_fox_client_status(c, 2, msg);
      continue;
    }
    bool dup = false;
    for (size_t k = 0; k < c->n_subs; k++) dup |= c->subs[k].id == (uint32_t)json_integer_value(id);
    if (dup) {
      rsim_fox_client_status(c, 2, "subscribe: that subscription id is in use");
      continue;
    }
    c->subs = rsim_xrealloc(c->subs, (c->n_subs + 1) * sizeof *c->subs);
    c->subs[c->n_subs++] = (fox_sub){(uint32_t)json_integer_value(id), (size_t)chan - 1, INT64_MIN,
                                     c->f->n_log > LOG_RING ? c->f->n_log - LOG_RING : 0};
  }
}

static void unsubscribe(rsim_fox_client *c, json_t *ids) {
  size_t i;
  json_t *s;
  json_array_foreach(ids, i, s) {
    if (!json_is_integer(s)) continue;
    for (size_t k = 0; k < c->n_subs; k++)
      if (c->subs[k].id == (uint32_t)json_integer_value(s)) {
        c->subs[k] = c->subs[--c->n_subs];
        break;
      }
  }
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

/* PlaybackControlRequest: speed, then a seek, then play or pause. */
static void playback_control(rsim_fox_client *c, const uint8_t *d, size_t n) {
  if (n < 1 + 1 + 4 + 1 + 8 + 4 || n - 19 < le32(d + 15) || d[1] > 1) {
    rsim_fox_client_status(c, 2, "playback control: malformed request");
    return;
  }
  rsim_fox *f = c->f;
  bool play = d[1] == 0, had_seek = d[6] != 0;
  uint32_t u = le32(d + 2);
  float speed;
  memcpy(&speed, &u, 4);
  uint64_t seek = le64(d + 7);
  uint32_t idn = le32(d + 15);
  rsim_player_state ps;
  rsim_player_state_get(f->p, &ps);
  if (isfinite(speed) && speed > 0) {
    double x = speed < 0.01 ? 0.01 : speed > 100 ? 100 : speed;
    if (fabs(x - ps.speed) > 1e-6) rsim_player_set_speed(f->p, x);
  }
  if (had_seek) {
    rsim_player_seek(f->p, seek > (uint64_t)INT64_MAX ? INT64_MAX : (rsim_time)seek);
    c->did_seek = true;
    forget_sent(c);
  }
  rsim_player_state_get(f->p, &ps);
  if (play && ps.mode != RSIM_PLAYER_PLAYING) rsim_player_play(f->p);
  else if (!play && ps.mode == RSIM_PLAYER_PLAYING) rsim_player_pause(f->p);
  snprintf(c->request_id, sizeof c->request_id, "%.*s", (int)(idn < sizeof c->request_id ? idn : sizeof c->request_id - 1),
           (const char *)d + 19);
  c->state_due = true;
}

void rsim_fox_client_receive(rsim_fox_client *c, const uint8_t *data, size_t n, bool binary) {
  if (binary) {
    if (n >= 1 && data[0] == 0x03) playback_control(c, data, n);
    else rsim_fox_client_status(c, 2, "unsupported binary message (this server takes playback control only)");
    return;
  }
  json_t *root = json_loadb((const char *)data, n, 0, NULL);
  const char *op = json_string_value(json_object_get(root, "op"));
  if (op && !strcmp(op, "subscribe") && json_is_array(json_object_get(root, "subscriptions")))
    subscribe(c, json_object_get(root, "subscriptions"));
  else if (op && !strcmp(op, "unsubscribe") && json_is_array(json_object_get(root, "subscriptionIds")))
    unsubscribe(c, json_object_get(root, "subscriptionIds"));
  else {
    char msg[160];
    snprintf(msg, sizeof msg, "unsupported message%s%.60s%s", op ? " '" : " (not JSON with an op)", op ? op : "", op ? "'" : "");
    rsim_fox_client_status(c, 2, msg);
  }
  json_decref(root);
}

/* ---- what a client is owed -------------------------------------------------------------- */

static void server_info(rsim_fox *f, rsim_buf *out) {
  rsim_time from, to;
  rsim_engine_range(f->e, &from, &to);
  rsim_buf_puts(out, "{\"op\":\"serverInfo\",\"name\":\"replaysim\",\"capabilities\":[\"time\",\"playbackControl\"],"
                     "\"supportedEncodings\":[],\"metadata\":{},\"dataStartTime\":");
  put_stamp_json(out, from);
  rsim_buf_puts(out, ",\"dataEndTime\":");
  put_stamp_json(out, to);
  rsim_buf_printf(out, ",\"sessionId\":\"%lld\"}", (long long)from);
}

static void advertise(rsim_fox *f, rsim_buf *out) {
  rsim_buf_puts(out, "{\"op\":\"advertise\",\"channels\":[");
  for (size_t i = 0; i < f->n_ch; i++) {
    const fox_chan *c = &f->ch[i];
    rsim_buf_printf(out, "%s{\"id\":%zu,\"topic\":", i ? "," : "", i + 1);
    put_str(out, c->topic);
    rsim_buf_puts(out, ",\"encoding\":");
    put_str(out, c->encoding);
    rsim_buf_puts(out, ",\"schemaName\":");
    put_str(out, c->schema_name);
    rsim_buf_puts(out, ",\"schema\":");
    put_str(out, c->schema);
    rsim_buf_puts(out, ",\"schemaEncoding\":");
    put_str(out, c->schema_encoding);
    rsim_buf_putc(out, '}');
  }
  rsim_buf_puts(out, "]}");
}

static void put_f32(rsim_buf *b, float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  rsim_buf_put_u32le(b, u);
}

static void playback_state(rsim_fox_client *c, rsim_buf *out) {
  rsim_player_state ps;
  rsim_player_state_get(c->f->p, &ps);
  /* PLAYING 0, PAUSED 1, BUFFERING 2 (a long seek on its way), ENDED 3 */
  uint8_t status = ps.seeking ? 2 : ps.mode == RSIM_PLAYER_PLAYING ? 0 : ps.mode == RSIM_PLAYER_ENDED ? 3 : 1;
  rsim_buf_putc(out, 0x05);
  rsim_buf_putc(out, (char)status);
  rsim_buf_put_u64le(out, (uint64_t)(ps.seeking ? ps.seek_target : ps.sim_time));
  put_f32(out, (float)ps.speed); /* 0: as fast as it goes (max) */
  rsim_buf_putc(out, c->did_seek ? 1 : 0);
  size_t n = strlen(c->request_id);
  rsim_buf_put_u32le(out, (uint32_t)n);
  rsim_buf_append(out, c->request_id, n);
  c->request_id[0] = 0;
  c->did_seek = false;
  c->state_due = false;
}

int rsim_fox_client_next(rsim_fox_client *c, rsim_buf *out) {
  rsim_fox *f = c->f;
  if (c->hello < 2) {
    if (c->hello++ == 0) server_info(f, out);
    else advertise(f, out);
    return 1;
  }
  if (c->n_status) {
    rsim_buf_puts(out, c->status[0]);
    free(c->status[0]);
    memmove(c->status, c->status + 1, --c->n_status * sizeof *c->status);
    return 1;
  }
  if (c->state_due) {
    playback_state(c, out);
    return 2;
  }
  rsim_player_state ps;
  rsim_player_state_get(f->p, &ps);
  if (ps.seeking) return 0; /* the engine is on its way, at no time the client asked for */
  rsim_time now = rsim_engine_time(f->e);
  if (now != c->time_sent) {
    c->time_sent = now;
    rsim_buf_putc(out, 0x02);
    rsim_buf_put_u64le(out, (uint64_t)now);
    return 2;
  }
  for (size_t k = 0; k < c->n_subs; k++) {
    fox_sub *s = &c->subs[(c->rr + k) % c->n_subs];
    fox_chan *ch = &f->ch[s->chan];
    if (ch->kind == CH_LOG) { /* lines, not a state: each once, in order, the oldest dropped when behind */
      if (s->log_next + LOG_RING < f->n_log) s->log_next = f->n_log - LOG_RING;
      if (s->log_next == f->n_log) continue;
      const rsim_buf *line = &f->log[s->log_next % LOG_RING];
      rsim_time lt = f->log_t[s->log_next++ % LOG_RING];
      c->rr = (c->rr + k + 1) % c->n_subs;
      rsim_buf_putc(out, 0x01);
      rsim_buf_put_u32le(out, s->id);
      rsim_buf_put_u64le(out, (uint64_t)(lt < 0 ? 0 : lt));
      rsim_buf_append(out, line->data, line->len);
      return 2;
    }
    rsim_time t = chan_source(f, ch);
    if (t == INT64_MIN || t == s->sent_t) continue;
    s->sent_t = t;
    if (!chan_encode(f, ch, t)) continue;
    c->rr = (c->rr + k + 1) % c->n_subs; /* fair: the next look starts after this channel */
    rsim_buf_putc(out, 0x01);
    rsim_buf_put_u32le(out, s->id);
    rsim_buf_put_u64le(out, (uint64_t)t);
    rsim_buf_append(out, ch->enc.data, ch->enc.len);
    return 2;
  }
  return 0;
}
