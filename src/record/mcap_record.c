/*
** mcap_record.c -- a run recorded as MCAP that Foxglove opens: the input
** sensors and every component output, in Foxglove's well-known schemas
** where there is one, JSON-encoded (message encoding "json", schema
** encoding "jsonschema").
**
** Channels:
**   /<camera sensor>                foxglove.CompressedImage  (JPEG, quality 90)
**   /<lidar sensor>                 foxglove.PointCloud   (x, y, z, intensity float32)
**   /rsim/<component>               rsim.ComponentOutput  (the output value as JSON)
**   /rsim/<component>/annotations   foxglove.ImageAnnotations  (outputs with 2-D boxes)
**   /rsim/<component>/scene         foxglove.SceneUpdate  (outputs with 3-D positions or a path)
**   /rsim/log                       foxglove.Log          (component log lines and errors)
** Which output gets which view is decided by its WIT structure (a list of
** records with a `bbox` record, a list of records with a `position` vec3, a
** record with a `points` list), so new components get views for free.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/record_int.h"
#include "rsim/mcap.h"

typedef struct topic {
  char *name;
  uint16_t channel;
  uint32_t seq;
} topic;

struct rsim__mcap_rec {
  rsim_mcap_writer *w;
  topic *topics;
  size_t n_topics;
  uint16_t schema_ids[8];
  rsim_buf msg;
};

enum { S_IMAGE, S_POINT_CLOUD, S_OUTPUT, S_ANNOTATIONS, S_SCENE, S_LOG, S_COUNT };
static const char *const kSchemaNames[S_COUNT] = {"foxglove.CompressedImage", "foxglove.PointCloud",
                                                  "rsim.ComponentOutput", "foxglove.ImageAnnotations",
                                                  "foxglove.SceneUpdate", "foxglove.Log"};

static uint16_t channel_for(rsim__mcap_rec *m, const char *name, int schema) {
  for (size_t i = 0; i < m->n_topics; i++)
    if (!strcmp(m->topics[i].name, name)) return m->topics[i].channel;
  if (!m->schema_ids[schema]) {
    static const char data[] = "{\"type\":\"object\"}";
    if (rsim_mcap_writer_add_schema(m->w, kSchemaNames[schema], "jsonschema", (const uint8_t *)data,
                                    sizeof data - 1, &m->schema_ids[schema]))
      return 0;
  }
  uint16_t ch;
  if (rsim_mcap_writer_add_channel(m->w, m->schema_ids[schema], name, "json", NULL, 0, &ch)) return 0;
  m->topics = rsim_xrealloc(m->topics, (m->n_topics + 1) * sizeof *m->topics);
  m->topics[m->n_topics++] = (topic){rsim_xstrdup(name), ch, 0};
  return ch;
}

static int publish(rsim__mcap_rec *m, const char *topic_name, int schema, rsim_time t) {
  uint16_t ch = channel_for(m, topic_name, schema);
  if (!ch) return RSIM_EBACKEND;
  uint32_t seq = 0;
  for (size_t i = 0; i < m->n_topics; i++)
    if (m->topics[i].channel == ch) seq = m->topics[i].seq++;
  uint64_t ts = t < 0 ? 0 : (uint64_t)t;
  return rsim_mcap_writer_write(m->w, ch, seq, ts, ts, m->msg.data, m->msg.len);
}

/* ---- JSON pieces ----------------------------------------------------------------- */

static void put_time(rsim_buf *b, rsim_time t) {
  uint64_t ts = t < 0 ? 0 : (uint64_t)t;
  rsim_buf_printf(b, "{\"sec\":%llu,\"nsec\":%llu}", (unsigned long long)(ts / 1000000000u),
                  (unsigned long long)(ts % 1000000000u));
}

static void put_base64(rsim_buf *b, const uint8_t *p, size_t n) {
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  rsim_buf_reserve(b, (n + 2) / 3 * 4 + 2);
  rsim_buf_putc(b, '"');
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    char q[4] = {a[v >> 18], a[v >> 12 & 63], a[v >> 6 & 63], a[v & 63]};
    rsim_buf_append(b, q, 4);
  }
  if (i < n) {
    uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
    char q[4] = {a[v >> 18], a[v >> 12 & 63], i + 1 < n ? a[v >> 6 & 63] : '=', '='};
    rsim_buf_append(b, q, 4);
  }
  rsim_buf_putc(b, '"');
}

/* ---- inputs -------------------------------------------------------------------------- */

int rsim__mcap_rec_reading(rsim__mcap_rec *m, const rsim_reading *r) {
  rsim_buf *b = &m->msg;
  char name[300];
  snprintf(name, sizeof name, "/%s", r->sensor_id);
  b->len = 0;
  if (r->kind == RSIM_SENSOR_CAMERA) {
    /* JPEG: a run of 30 Hz raw frames would be gigabytes. */
    rsim_buf jpeg = {0};
    if (rsim_reading_to_jpeg(r, 90, &jpeg)) { /* not a raw frame we can describe */
      rsim_buf_free(&jpeg);
      return RSIM_OK;
    }
    rsim_buf_puts(b, "{\"timestamp\":");
    put_time(b, r->t);
    rsim_buf_printf(b, ",\"frame_id\":\"%s\",\"format\":\"jpeg\",\"data\":", r->sensor_id);
    put_base64(b, jpeg.data, jpeg.len);
    rsim_buf_free(&jpeg);
    rsim_buf_putc(b, '}');
    return publish(m, name, S_IMAGE, r->t);
  }
  if (r->kind == RSIM_SENSOR_LIDAR && r->payload_len >= 4) {
    rsim_buf_puts(b, "{\"timestamp\":");
    put_time(b, r->t);
    rsim_buf_puts(b, ",\"frame_id\":\"base_link\",\"pose\":{\"position\":{\"x\":0,\"y\":0,\"z\":0},"
                     "\"orientation\":{\"x\":0,\"y\":0,\"z\":0,\"w\":1}},\"point_stride\":16,\"fields\":["
                     "{\"name\":\"x\",\"offset\":0,\"type\":7},{\"name\":\"y\",\"offset\":4,\"type\":7},"
                     "{\"name\":\"z\",\"offset\":8,\"type\":7},{\"name\":\"intensity\",\"offset\":12,\"type\":7}],"
                     "\"data\":");
    put_base64(b, r->payload + 4, r->payload_len - 4);
    rsim_buf_putc(b, '}');
    return publish(m, name, S_POINT_CLOUD, r->t);
  }
  return RSIM_OK;
}

/* ---- outputs ------------------------------------------------------------------------- */

static const char *text(const rsim_val *v) { return v && v->kind == RSIM_STRING ? v->of.str.ptr : ""; }

static bool has_fields(const rsim_type *t, const char *const *names, size_t n) {
  if (!t || t->kind != RSIM_RECORD) return false;
  for (size_t i = 0; i < n; i++)
    if (rsim_type_member(t, names[i]) < 0) return false;
  return true;
}

static void put_json_text(rsim_buf *b, const char *s) { rsim_buf_put_json_str(b, s, strlen(s)); }

/* list<record { ..., bbox: record { x, y, width, height } }> -> ImageAnnotations */
static void annotations(rsim_buf *b, const rsim_val *v, const rsim_type *elem, rsim_time t) {
  const rsim_type *bt = rsim_type_field(elem, "bbox");
  rsim_buf_puts(b, "{\"circles\":[],\"points\":[");
  for (size_t i = 0; i < v->of.agg.n; i++) {
    const rsim_val *o = &v->of.agg.items[i], *bb = rsim_val_field(o, elem, "bbox");
    double x = rsim_val_number(rsim_val_field(bb, bt, "x")), y = rsim_val_number(rsim_val_field(bb, bt, "y"));
    double w = rsim_val_number(rsim_val_field(bb, bt, "width")), h = rsim_val_number(rsim_val_field(bb, bt, "height"));
    rsim_buf_printf(b, "%s{\"timestamp\":", i ? "," : "");
    put_time(b, t);
    rsim_buf_printf(b, ",\"type\":2,\"points\":[{\"x\":%g,\"y\":%g},{\"x\":%g,\"y\":%g},{\"x\":%g,\"y\":%g},"
                       "{\"x\":%g,\"y\":%g}],\"outline_color\":{\"r\":0.1,\"g\":1,\"b\":0.3,\"a\":1},"
                       "\"outline_colors\":[],\"fill_color\":{\"r\":0,\"g\":0,\"b\":0,\"a\":0},\"thickness\":2}",
                    x, y, x + w, y, x + w, y + h, x, y + h);
  }
  rsim_buf_puts(b, "],\"texts\":[");
  for (size_t i = 0; i < v->of.agg.n; i++) {
    const rsim_val *o = &v->of.agg.items[i], *bb = rsim_val_field(o, elem, "bbox");
    char label[96];
    snprintf(label, sizeof label, "%s %.2f", text(rsim_val_field(o, elem, "class")), rsim_val_number(rsim_val_field(o, elem, "confidence")));
    rsim_buf_printf(b, "%s{\"timestamp\":", i ? "," : "");
    put_time(b, t);
    rsim_buf_printf(b, ",\"position\":{\"x\":%g,\"y\":%g},\"text\":", rsim_val_number(rsim_val_field(bb, bt, "x")),
                    rsim_val_number(rsim_val_field(bb, bt, "y")) - 4);
    put_json_text(b, label);
    rsim_buf_puts(b, ",\"font_size\":12,\"text_color\":{\"r\":1,\"g\":1,\"b\":1,\"a\":1},"
                     "\"background_color\":{\"r\":0,\"g\":0,\"b\":0,\"a\":0.6}}");
  }
  rsim_buf_puts(b, "]}");
}

static void entity_head(rsim_buf *b, rsim_time t, const char *id, bool first) {
  rsim_buf_printf(b, "%s{\"timestamp\":", first ? "" : ",");
  put_time(b, t);
  rsim_buf_puts(b, ",\"frame_id\":\"base_link\",\"id\":");
  put_json_text(b, id);
  rsim_buf_puts(b, ",\"lifetime\":{\"sec\":0,\"nsec\":200000000},\"frame_locked\":false,\"metadata\":[],"
                   "\"arrows\":[],\"spheres\":[],\"cylinders\":[],\"triangles\":[],\"models\":[]");
}

/* list<record { id, position: vec3, ... }> -> SceneUpdate cubes with labels */
static void scene_objects(rsim_buf *b, const rsim_val *v, const rsim_type *elem, rsim_time t) {
  const rsim_type *pt = rsim_type_field(elem, "position");
  rsim_buf_puts(b, "{\"deletions\":[],\"entities\":[");
  for (size_t i = 0; i < v->of.agg.n; i++) {
    const rsim_val *o = &v->of.agg.items[i], *p = rsim_val_field(o, elem, "position");
    const char *id = text(rsim_val_field(o, elem, "id"));
    char idbuf[32];
    if (!*id) snprintf(idbuf, sizeof idbuf, "%g", rsim_val_number(rsim_val_field(o, elem, "id"))), id = idbuf;
    const char *cls = text(rsim_val_field(o, elem, "classification"));
    double x = rsim_val_number(rsim_val_field(p, pt, "x")), y = rsim_val_number(rsim_val_field(p, pt, "y"));
    entity_head(b, t, id, i == 0);
    rsim_buf_printf(b, ",\"lines\":[],\"cubes\":[{\"pose\":{\"position\":{\"x\":%g,\"y\":%g,\"z\":0.75},"
                       "\"orientation\":{\"x\":0,\"y\":0,\"z\":0,\"w\":1}},\"size\":{\"x\":4.5,\"y\":1.8,\"z\":1.5},"
                       "\"color\":{\"r\":%s,\"g\":0.5,\"b\":0.9,\"a\":0.6}}],\"texts\":[{\"pose\":{\"position\":"
                       "{\"x\":%g,\"y\":%g,\"z\":2},\"orientation\":{\"x\":0,\"y\":0,\"z\":0,\"w\":1}},"
                       "\"billboard\":true,\"font_size\":14,\"scale_invariant\":true,\"color\":{\"r\":1,\"g\":1,"
                       "\"b\":1,\"a\":1},\"text\":",
                    x, y, strcmp(cls, "unknown") ? "0.2" : "0.8", x, y);
    char label[96];
    snprintf(label, sizeof label, "%s %s", id, cls);
    put_json_text(b, label);
    rsim_buf_puts(b, "}]}");
  }
  rsim_buf_puts(b, "]}");
}

/* record { ..., points: list<record { x, y, ... }> } -> SceneUpdate line strip */
static void scene_path(rsim_buf *b, const rsim_val *v, const rsim_type *t, const char *name, rsim_time tm) {
  const rsim_val *pts = rsim_val_field(v, t, "points");
  const rsim_type *pt = rsim_type_field(t, "points")->types[0];
  rsim_buf_puts(b, "{\"deletions\":[],\"entities\":[");
  entity_head(b, tm, name, true);
  rsim_buf_puts(b, ",\"cubes\":[],\"texts\":[],\"lines\":[{\"type\":0,\"pose\":{\"position\":{\"x\":0,\"y\":0,"
                   "\"z\":0.1},\"orientation\":{\"x\":0,\"y\":0,\"z\":0,\"w\":1}},\"thickness\":0.3,"
                   "\"scale_invariant\":false,\"points\":[");
  for (size_t i = 0; pts && i < pts->of.agg.n; i++)
    rsim_buf_printf(b, "%s{\"x\":%g,\"y\":%g,\"z\":0}", i ? "," : "", rsim_val_number(rsim_val_field(&pts->of.agg.items[i], pt, "x")),
                    rsim_val_number(rsim_val_field(&pts->of.agg.items[i], pt, "y")));
  rsim_buf_puts(b, "],\"color\":{\"r\":1,\"g\":0.6,\"b\":0,\"a\":1},\"colors\":[],\"indices\":[]}]}]}");
}

int rsim__mcap_rec_output(rsim__mcap_rec *m, rsim_time t, const char *component, const rsim_val *v,
                          const rsim_type *type, const char *json) {
  char name[300];
  rsim_buf *b = &m->msg;
  b->len = 0;
  rsim_buf_puts(b, "{\"timestamp\":");
  put_time(b, t);
  rsim_buf_puts(b, ",\"value\":");
  rsim_buf_puts(b, json);
  rsim_buf_putc(b, '}');
  snprintf(name, sizeof name, "/rsim/%s", component);
  int rc = publish(m, name, S_OUTPUT, t);
  if (rc || !type) return rc;
  static const char *const box_fields[] = {"bbox"}, *const pos_fields[] = {"position"},
                           *const path_fields[] = {"points"};
  const rsim_type *elem = type->kind == RSIM_LIST ? type->types[0] : NULL;
  b->len = 0;
  if (elem && has_fields(elem, box_fields, 1) &&
      has_fields(rsim_type_field(elem, "bbox"), (const char *const[]){"x", "y", "width", "height"}, 4)) {
    annotations(b, v, elem, t);
    snprintf(name, sizeof name, "/rsim/%s/annotations", component);
    return publish(m, name, S_ANNOTATIONS, t);
  }
  if (elem && has_fields(elem, pos_fields, 1) &&
      has_fields(rsim_type_field(elem, "position"), (const char *const[]){"x", "y"}, 2)) {
    scene_objects(b, v, elem, t);
    snprintf(name, sizeof name, "/rsim/%s/scene", component);
    return publish(m, name, S_SCENE, t);
  }
  if (has_fields(type, path_fields, 1) && rsim_type_field(type, "points")->kind == RSIM_LIST &&
      has_fields(rsim_type_field(type, "points")->types[0], (const char *const[]){"x", "y"}, 2)) {
    scene_path(b, v, type, component, t);
    snprintf(name, sizeof name, "/rsim/%s/scene", component);
    return publish(m, name, S_SCENE, t);
  }
  return RSIM_OK;
}

int rsim__mcap_rec_event(rsim__mcap_rec *m, rsim_time t, const char *component, int level, const char *message) {
  rsim_buf *b = &m->msg;
  b->len = 0;
  rsim_buf_puts(b, "{\"timestamp\":");
  put_time(b, t);
  rsim_buf_printf(b, ",\"level\":%d,\"message\":", level + 1); /* Foxglove: 1 debug .. 4 error */
  put_json_text(b, message);
  rsim_buf_puts(b, ",\"name\":");
  put_json_text(b, component);
  rsim_buf_puts(b, ",\"file\":\"\",\"line\":0}");
  return publish(m, "/rsim/log", S_LOG, t);
}

int rsim__mcap_rec_open(const char *path, rsim__mcap_rec **out, rsim_errbuf *eb) {
  rsim__mcap_rec *m = rsim_xcalloc(1, sizeof *m);
  rsim_mcap_writer_opts o = {.profile = "", .library = "replaysim run"};
  int rc = rsim_mcap_writer_open(path, &o, &m->w, eb);
  if (rc) {
    free(m);
    return rc;
  }
  *out = m;
  return RSIM_OK;
}

int rsim__mcap_rec_set(rsim__mcap_rec *m, const char *key, const char *value) {
  rsim_mcap_kv kv = {(char *)key, (char *)value};
  return rsim_mcap_writer_add_metadata(m->w, "rsim.run", &kv, 1);
}

int rsim__mcap_rec_close(rsim__mcap_rec *m, bool finish, char *err, size_t n) {
  rsim_errbuf eb = {0};
  int rc = RSIM_OK;
  /* The writer works under a temporary name and renames when done: an
  ** aborted file leaves nothing at the output path. */
  if (finish) rc = rsim_mcap_writer_close(m->w, &eb);
  else rsim_mcap_writer_abort(m->w);
  if (rc) snprintf(err, n, "%s", eb.msg);
  for (size_t i = 0; i < m->n_topics; i++) free(m->topics[i].name);
  free(m->topics);
  rsim_buf_free(&m->msg);
  free(m);
  return rc;
}

const char *rsim__mcap_rec_errmsg(const rsim__mcap_rec *m) { return rsim_mcap_writer_errmsg(m->w); }
