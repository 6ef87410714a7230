/*
** mcap_store.c -- the MCAP backend of the sensor store: replays an MCAP
** file in place through its indexes (no import, no full scan), and writes
** one (generate --out x.mcap, export).
**
** Encoding (docs/mcap.md): one channel per sensor, topic = sensor id, schema
** "rsim.SensorReading" (encoding "rsim"), channel metadata "rsim.kind",
** "rsim.rate_hz" and the sensor's own metadata; a message is
**   u32 n_meta, n_meta x (u32 len, key, u32 len, value), payload
** so a reading survives SQLite -> MCAP -> SQLite byte for byte.  Ground truth
** goes to channel "/rsim/truth" (schema "rsim.Truth"), store metadata to a
** Metadata record "rsim.store".  Channels with other schemas are listed by
** name in the error when none can be read.  ROS 2 topics of the sensor_msgs
** types in ros2.c become sensors too ("/camera/image_raw" ->
** "camera_image_raw"), decoded into the layouts of docs/sensors.md.
**
** Order: the cursor yields readings by log time; readings with equal times
** are sorted by sensor id (stable), as the store contract says, whatever
** order the file has them in.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsim/mcap.h"
#include "store/store_int.h"

#define READING_SCHEMA "rsim.SensorReading"
#define TRUTH_SCHEMA "rsim.Truth"
#define TRUTH_TOPIC "/rsim/truth"
#define TRUTH_SIZE 100

typedef struct sensor_chan {
  char *id;
  uint16_t channel;
  uint32_t seq;
  int decoder; /* -1: rsim.SensorReading; else a ROS 2 decoder (ros2.c) */
} sensor_chan;

typedef struct mstore {
  rsim_mcap_reader *rd;
  rsim_mcap_writer *w;
  sensor_chan *chans;
  size_t n_chans;
  uint16_t truth_channel;
  uint16_t reading_schema;
  rsim_mcap_kv *meta;
  size_t n_meta;
  rsim_buf enc;
} mstore;

#define M(st) ((mstore *)(st)->impl)

static const sensor_chan *chan_of(const mstore *m, const char *id) {
  for (size_t i = 0; i < m->n_chans; i++)
    if (!strcmp(m->chans[i].id, id)) return &m->chans[i];
  return NULL;
}

static const char *sensor_of_channel(const mstore *m, uint16_t ch) {
  for (size_t i = 0; i < m->n_chans; i++)
    if (m->chans[i].channel == ch) return m->chans[i].id;
  return NULL;
}

/* ---- message encoding ------------------------------------------------------------ */

static void encode(rsim_buf *b, const rsim_reading *r) {
  b->len = 0;
  rsim_buf_put_u32le(b, (uint32_t)r->n_meta);
  for (size_t i = 0; i < r->n_meta; i++) {
    rsim_buf_put_u32le(b, (uint32_t)strlen(r->meta[i].key));
    rsim_buf_puts(b, r->meta[i].key);
    rsim_buf_put_u32le(b, (uint32_t)strlen(r->meta[i].value));
    rsim_buf_puts(b, r->meta[i].value);
  }
  rsim_buf_append(b, r->payload, r->payload_len);
}

static bool take_u32(const uint8_t **p, const uint8_t *end, uint32_t *v) {
  if (end - *p < 4) return false;
  *v = (uint32_t)(*p)[0] | (uint32_t)(*p)[1] << 8 | (uint32_t)(*p)[2] << 16 | (uint32_t)(*p)[3] << 24;
  *p += 4;
  return true;
}

static bool take_str(const uint8_t **p, const uint8_t *end, char **out) {
  uint32_t n;
  if (!take_u32(p, end, &n) || (uint64_t)(end - *p) < n) return false;
  if (!rsim_utf8_valid((const char *)*p, n) || memchr(*p, 0, n)) return false;
  *out = rsim_xstrndup((const char *)*p, n);
  *p += n;
  return true;
}

/* Fills r (cleared first; sensor_id and kind set by the caller). */
static int decode(rsim_store *st, const char *sensor, const uint8_t *data, size_t len, rsim_reading *r) {
  const sensor_chan *ch = chan_of(M(st), sensor);
  if (ch && ch->decoder >= 0) return rsim__ros2_decode(st, ch->decoder, sensor, data, len, r);
  const uint8_t *p = data, *end = data + len;
  uint32_t n;
  if (!take_u32(&p, end, &n) || n > len / 8)
    return rsim__store_err(st, RSIM_ECORRUPT, "%s: sensor '%s': malformed reading (metadata count)", st->path, sensor);
  r->meta = n ? rsim_xcalloc(n, sizeof *r->meta) : NULL;
  for (; r->n_meta < n; r->n_meta++)
    if (!take_str(&p, end, &r->meta[r->n_meta].key) || !take_str(&p, end, &r->meta[r->n_meta].value)) {
      free(r->meta[r->n_meta].key);
      return rsim__store_err(st, RSIM_ECORRUPT, "%s: sensor '%s': malformed reading metadata", st->path, sensor);
    }
  r->payload_len = (size_t)(end - p);
  r->payload = rsim_xmalloc(r->payload_len);
  if (r->payload_len) memcpy(r->payload, p, r->payload_len);
  return RSIM_OK;
}

/* ---- reading ----------------------------------------------------------------------- */

static void be_close(rsim_store *st) {
  mstore *m = M(st);
  if (!m) return;
  if (m->w) {
    if (m->n_meta) rsim_mcap_writer_add_metadata(m->w, "rsim.store", m->meta, m->n_meta);
    rsim_errbuf eb = {0};
    if (rsim_mcap_writer_close(m->w, &eb)) fprintf(stderr, "replaysim: %s\n", eb.msg);
  }
  rsim_mcap_reader_close(m->rd);
  for (size_t i = 0; i < m->n_chans; i++) free(m->chans[i].id);
  free(m->chans);
  for (size_t i = 0; i < m->n_meta; i++) {
    free(m->meta[i].key);
    free(m->meta[i].value);
  }
  free(m->meta);
  rsim_buf_free(&m->enc);
  free(m);
  st->impl = NULL;
}

/* A ROS 2 topic becomes a sensor: "/camera/image_raw" -> "camera_image_raw",
** its kind from the message type, its rate from the statistics. */
static void add_ros2_sensor(rsim_store *st, const rsim_mcap_channel *ch, int decoder, rsim_sensor_kind kind) {
  mstore *m = M(st);
  const char *t = ch->topic[0] == '/' ? ch->topic + 1 : ch->topic;
  char *id = rsim_xstrdup(*t ? t : "topic");
  for (char *p = id; *p; p++)
    if (*p == '/') *p = '_';
  rsim_sensor_info info = {.id = id, .kind = kind};
  const rsim_mcap_record *s = rsim_mcap_statistics(m->rd);
  if (s && s->r.statistics.message_end_time > s->r.statistics.message_start_time)
    for (size_t k = 0; k < s->r.statistics.n_counts; k++)
      if (s->r.statistics.channel_message_counts[k].key == ch->id)
        info.rate_hz = (double)s->r.statistics.channel_message_counts[k].value * 1e9 /
                       (double)(s->r.statistics.message_end_time - s->r.statistics.message_start_time);
  info.meta = rsim_xcalloc(1, sizeof *info.meta);
  info.meta[0] = (rsim_kv){rsim_xstrdup("ros2.topic"), rsim_xstrdup(ch->topic)};
  info.n_meta = 1;
  st->sensors = rsim_xrealloc(st->sensors, (st->n_sensors + 1) * sizeof *st->sensors);
  st->sensors[st->n_sensors++] = info;
  m->chans = rsim_xrealloc(m->chans, (m->n_chans + 1) * sizeof *m->chans);
  m->chans[m->n_chans++] = (sensor_chan){rsim_xstrdup(id), ch->id, 0, decoder};
}

static int load_sensors(rsim_store *st) {
  mstore *m = M(st);
  if (m->w) return RSIM_OK; /* write mode keeps st->sensors as they are added */
  size_t ns, nc;
  const rsim_mcap_schema *sc = rsim_mcap_schemas(m->rd, &ns);
  const rsim_mcap_channel *ch = rsim_mcap_channels(m->rd, &nc);
  rsim_buf other = {0};
  for (size_t i = 0; i < nc; i++) {
    const char *schema = NULL;
    for (size_t k = 0; k < ns; k++)
      if (sc[k].id == ch[i].schema_id) schema = sc[k].name;
    if (schema && !strcmp(schema, TRUTH_SCHEMA)) {
      m->truth_channel = ch[i].id;
      continue;
    }
    rsim_sensor_kind ros_kind;
    int ros = schema ? rsim__ros2_kind(schema, ch[i].message_encoding, &ros_kind) : -1;
    if (ros >= 0) {
      add_ros2_sensor(st, &ch[i], ros, ros_kind);
      continue;
    }
    if (!schema || strcmp(schema, READING_SCHEMA)) {
      rsim_buf_printf(&other, "%s%s (%s)", other.len ? ", " : "", ch[i].topic, schema ? schema : "no schema");
      continue;
    }
    rsim_sensor_info info = {0};
    const char *kind = NULL;
    info.meta = rsim_xcalloc(ch[i].n_metadata + 1, sizeof *info.meta);
    for (size_t k = 0; k < ch[i].n_metadata; k++) {
      const rsim_mcap_kv *kv = &ch[i].metadata[k];
      if (!strcmp(kv->key, "rsim.kind")) kind = kv->value;
      else if (!strcmp(kv->key, "rsim.rate_hz")) info.rate_hz = atof(kv->value);
      else {
        info.meta[info.n_meta].key = rsim_xstrdup(kv->key);
        info.meta[info.n_meta++].value = rsim_xstrdup(kv->value);
      }
    }
    if (!kind || rsim_sensor_kind_parse(kind, &info.kind) || !rsim_utf8_valid(ch[i].topic, strlen(ch[i].topic))) {
      rsim_sensor_info_clear(&info);
      rsim_buf_free(&other);
      return rsim__store_err(st, RSIM_ECORRUPT, "%s: channel '%s' has no valid rsim.kind", st->path, ch[i].topic);
    }
    info.id = rsim_xstrdup(ch[i].topic);
    st->sensors = rsim_xrealloc(st->sensors, (st->n_sensors + 1) * sizeof *st->sensors);
    st->sensors[st->n_sensors++] = info;
    m->chans = rsim_xrealloc(m->chans, (m->n_chans + 1) * sizeof *m->chans);
    m->chans[m->n_chans++] = (sensor_chan){rsim_xstrdup(ch[i].topic), ch[i].id, 0, -1};
  }
  int rc = RSIM_OK;
  if (!st->n_sensors)
    rc = rsim__store_err(st, RSIM_ENOTSUP,
                         "%s: no channel replaysim can replay (found: %s); it reads rsim.SensorReading and "
                         "ROS 2 sensor_msgs Image, CompressedImage, PointCloud2, Imu, NavSatFix (CDR)",
                         st->path, other.len ? (rsim_buf_putc(&other, 0), (char *)other.data) : "no channels");
  rsim_buf_free(&other);
  rsim__store_sort_sensors(st);
  return rc;
}

static int be_time_range(rsim_store *st, rsim_time *first, rsim_time *last) {
  const rsim_mcap_record *s = rsim_mcap_statistics(M(st)->rd);
  if (!s || !s->r.statistics.message_count)
    return rsim__store_err(st, RSIM_ENOTFOUND, "%s: no messages (or no statistics record)", st->path);
  *first = (rsim_time)s->r.statistics.message_start_time;
  *last = (rsim_time)s->r.statistics.message_end_time;
  return RSIM_OK;
}

static int be_count(rsim_store *st, const char *id, int64_t *n) {
  mstore *m = M(st);
  const rsim_mcap_record *s = rsim_mcap_statistics(m->rd);
  if (!s) return rsim__store_err(st, RSIM_ENOTSUP, "%s: no statistics record", st->path);
  *n = 0;
  for (size_t k = 0; k < s->r.statistics.n_counts; k++) {
    const char *sid = sensor_of_channel(m, s->r.statistics.channel_message_counts[k].key);
    if (sid && (!id || !strcmp(id, sid))) *n += (int64_t)s->r.statistics.channel_message_counts[k].value;
  }
  return RSIM_OK;
}

/* ---- cursor: its own reader, so reading_at calls do not disturb it --------------------- */

typedef struct pending {
  uint64_t t;
  const char *sensor;
  uint8_t *data;
  size_t len;
} pending;

typedef struct mcursor {
  rsim_store *st; /* first, see store.c */
  rsim_mcap_reader *rd;
  pending *group;   /* readings with one log time, sorted by sensor id */
  size_t n_group, at_group, cap_group;
  pending ahead;
  bool has_ahead, eof;
  rsim_reading cur;
  int err;
} mcursor;

static void drop(pending *p) {
  free(p->data);
  p->data = NULL;
}

static int fetch(mcursor *c, pending *out) {
  const rsim_mcap_message *msg;
  int rc = rsim_mcap_reader_next_message(c->rd, &msg);
  if (rc == RSIM_EEOF) return rc;
  if (rc) return rsim__store_err(c->st, rc, "%s", rsim_mcap_reader_errmsg(c->rd));
  out->t = msg->log_time;
  out->sensor = sensor_of_channel(M(c->st), msg->channel_id);
  out->len = msg->len;
  out->data = rsim_xmalloc(msg->len ? msg->len : 1);
  memcpy(out->data, msg->data, msg->len);
  return RSIM_OK;
}

static int fill_group(mcursor *c) {
  for (size_t i = c->at_group; i < c->n_group; i++) drop(&c->group[i]);
  c->n_group = c->at_group = 0;
  if (c->eof && !c->has_ahead) return RSIM_EEOF;
  pending first;
  if (c->has_ahead) first = c->ahead, c->has_ahead = false;
  else {
    int rc = fetch(c, &first);
    if (rc == RSIM_EEOF) c->eof = true;
    if (rc) return rc;
  }
  for (;;) {
    if (c->n_group == c->cap_group) {
      c->cap_group = c->cap_group ? 2 * c->cap_group : 8;
      c->group = rsim_xrealloc(c->group, c->cap_group * sizeof *c->group);
    }
    /* Insertion keeps equal sensors in file order. */
    size_t i = c->n_group++;
    while (i > 0 && strcmp(c->group[i - 1].sensor, first.sensor) > 0) {
      c->group[i] = c->group[i - 1];
      i--;
    }
    c->group[i] = first;
    if (c->eof) return RSIM_OK;
    int rc = fetch(c, &first);
    if (rc == RSIM_EEOF) {
      c->eof = true;
      return RSIM_OK;
    }
    if (rc) return rc;
    if (first.t != c->group[0].t) {
      c->ahead = first;
      c->has_ahead = true;
      return RSIM_OK;
    }
  }
}

static void be_cursor_close(rsim_cursor *cc) {
  mcursor *c = (mcursor *)cc;
  for (size_t i = c->at_group; i < c->n_group; i++) drop(&c->group[i]);
  if (c->has_ahead) drop(&c->ahead);
  free(c->group);
  c->cur.sensor_id = NULL;
  rsim_reading_clear(&c->cur);
  rsim_mcap_reader_close(c->rd);
  free(c);
}

static int be_cursor_open(rsim_store *st, rsim_time t0, rsim_time t1, const char *const *ids, size_t n,
                          rsim_cursor **out) {
  mstore *m = M(st);
  if (m->w) return rsim__store_err(st, RSIM_ENOTSUP, "%s: open for writing", st->path);
  mcursor *c = rsim_xcalloc(1, sizeof *c);
  c->st = st;
  rsim_errbuf eb = {0};
  int rc = rsim_mcap_reader_open(st->path, &c->rd, &eb);
  if (rc) {
    free(c);
    return rsim__store_err(st, rc, "%s", eb.msg);
  }
  uint16_t *chans = rsim_xcalloc(n ? n : 1, sizeof *chans);
  for (size_t i = 0; i < n; i++) chans[i] = chan_of(m, ids[i])->channel;
  if (t1 < 0 || t0 > t1) c->eof = true;
  else if ((rc = rsim_mcap_reader_messages(c->rd, t0 < 0 ? 0 : (uint64_t)t0, (uint64_t)t1, chans, n)))
    rsim__store_err(st, rc, "%s", rsim_mcap_reader_errmsg(c->rd));
  free(chans);
  if (rc) {
    be_cursor_close((rsim_cursor *)c);
    return rc;
  }
  *out = (rsim_cursor *)c;
  return RSIM_OK;
}

static int be_cursor_peek_time(rsim_cursor *cc, rsim_time *out) {
  mcursor *c = (mcursor *)cc;
  if (c->err) return c->err;
  if (c->at_group == c->n_group) {
    int rc = fill_group(c);
    if (rc) return rc == RSIM_EEOF ? rc : (c->err = rc);
  }
  *out = (rsim_time)c->group[c->at_group].t;
  return RSIM_OK;
}

static int be_cursor_next(rsim_cursor *cc, const rsim_reading **out) {
  mcursor *c = (mcursor *)cc;
  rsim_time t;
  int rc = be_cursor_peek_time(cc, &t);
  if (rc) return rc;
  pending *p = &c->group[c->at_group++];
  c->cur.sensor_id = NULL;
  rsim_reading_clear(&c->cur);
  c->cur.sensor_id = (char *)p->sensor;
  c->cur.t = t;
  c->cur.kind = rsim_store_sensor(c->st, p->sensor)->kind;
  rc = decode(c->st, p->sensor, p->data, p->len, &c->cur);
  drop(p);
  if (rc) return c->err = rc;
  *out = &c->cur;
  return RSIM_OK;
}

static int be_reading_at(rsim_store *st, const char *id, rsim_time t, rsim_reading *out) {
  mstore *m = M(st);
  const sensor_chan *ch = chan_of(m, id);
  memset(out, 0, sizeof *out);
  if (!ch) return rsim__store_err(st, RSIM_ENOTFOUND, "%s: no sensor '%s'", st->path, id);
  if (t < 0) return RSIM_ENOTFOUND;
  const rsim_mcap_message *msg;
  int rc = rsim_mcap_reader_latest(m->rd, ch->channel, (uint64_t)t, &msg);
  if (rc == RSIM_ENOTFOUND) return rc;
  if (rc) return rsim__store_err(st, rc, "%s", rsim_mcap_reader_errmsg(m->rd));
  out->sensor_id = rsim_xstrdup(id);
  out->t = (rsim_time)msg->log_time;
  out->kind = rsim_store_sensor(st, id)->kind;
  rc = decode(st, id, msg->data, msg->len, out);
  if (rc) rsim_reading_clear(out);
  return rc;
}

static int be_get_meta(rsim_store *st, const char *key, char **out) {
  mstore *m = M(st);
  const rsim_mcap_strpair *kv;
  size_t n;
  int rc = rsim_mcap_reader_metadata(m->rd, "rsim.store", &kv, &n);
  if (rc == RSIM_ENOTFOUND) return rc;
  if (rc) return rsim__store_err(st, rc, "%s", rsim_mcap_reader_errmsg(m->rd));
  for (size_t i = 0; i < n; i++)
    if (kv[i].key.n == strlen(key) && !memcmp(kv[i].key.p, key, kv[i].key.n)) {
      *out = rsim_xstrndup(kv[i].value.p, kv[i].value.n);
      return RSIM_OK;
    }
  return RSIM_ENOTFOUND;
}

static double get_f64(const uint8_t *p) {
  uint64_t u = 0;
  for (int i = 7; i >= 0; i--) u = u << 8 | p[i];
  double d;
  memcpy(&d, &u, 8);
  return d;
}

static int be_truth(rsim_store *st, rsim_time t0, rsim_time t1, rsim_truth **out, size_t *n) {
  mstore *m = M(st);
  *out = NULL;
  *n = 0;
  if (!m->truth_channel || t1 < 0) return RSIM_OK;
  rsim_errbuf eb = {0};
  rsim_mcap_reader *rd;
  int rc = rsim_mcap_reader_open(st->path, &rd, &eb);
  if (rc) return rsim__store_err(st, rc, "%s", eb.msg);
  rc = rsim_mcap_reader_messages(rd, t0 < 0 ? 0 : (uint64_t)t0, (uint64_t)t1, &m->truth_channel, 1);
  const rsim_mcap_message *msg;
  size_t cap = 0;
  while (!rc && (rc = rsim_mcap_reader_next_message(rd, &msg)) == RSIM_OK) {
    if (msg->len != TRUTH_SIZE) {
      rc = rsim__store_err(st, RSIM_ECORRUPT, "%s: a truth message of %zu bytes", st->path, msg->len);
      break;
    }
    if (*n == cap) *out = rsim_xrealloc(*out, (cap = cap ? 2 * cap : 64) * sizeof **out);
    rsim_truth *g = &(*out)[(*n)++];
    memset(g, 0, sizeof *g);
    g->t = (rsim_time)msg->log_time;
    g->object_id = (uint32_t)msg->data[8] | (uint32_t)msg->data[9] << 8 | (uint32_t)msg->data[10] << 16 |
                   (uint32_t)msg->data[11] << 24;
    memcpy(g->cls, msg->data + 12, 15);
    double *f[] = {&g->x, &g->y, &g->z, &g->vx, &g->vy, &g->length, &g->width, &g->height, &g->heading};
    for (int k = 0; k < 9; k++) *f[k] = get_f64(msg->data + 28 + 8 * k);
  }
  if (rc == RSIM_EEOF) rc = RSIM_OK;
  else if (rc && !st->errmsg[0]) rsim__store_err(st, rc, "%s", rsim_mcap_reader_errmsg(rd));
  rsim_mcap_reader_close(rd);
  return rc;
}

/* ---- writing ----------------------------------------------------------------------- */

static int werr(rsim_store *st, int rc) {
  return rsim__store_err(st, rc, "%s", rsim_mcap_writer_errmsg(M(st)->w));
}

static int be_add_sensor(rsim_store *st, const rsim_sensor_info *info) {
  mstore *m = M(st);
  if (chan_of(m, info->id)) return rsim__store_err(st, RSIM_EINVAL, "%s: sensor '%s' added twice", st->path, info->id);
  int rc;
  if (!m->reading_schema) {
    static const char desc[] = "u32 n_meta, n_meta x (u32 len, key, u32 len, value), payload (docs/sensors.md)";
    if ((rc = rsim_mcap_writer_add_schema(m->w, READING_SCHEMA, "rsim", (const uint8_t *)desc, sizeof desc - 1,
                                          &m->reading_schema)))
      return werr(st, rc);
  }
  rsim_mcap_kv *kv = rsim_xcalloc(info->n_meta + 2, sizeof *kv);
  char rate[32];
  snprintf(rate, sizeof rate, "%.17g", info->rate_hz);
  kv[0] = (rsim_mcap_kv){(char *)"rsim.kind", (char *)rsim_sensor_kind_name(info->kind)};
  kv[1] = (rsim_mcap_kv){(char *)"rsim.rate_hz", rate};
  for (size_t i = 0; i < info->n_meta; i++) kv[2 + i] = (rsim_mcap_kv){info->meta[i].key, info->meta[i].value};
  uint16_t ch;
  rc = rsim_mcap_writer_add_channel(m->w, m->reading_schema, info->id, "rsim", kv, info->n_meta + 2, &ch);
  free(kv);
  if (rc) return werr(st, rc);
  m->chans = rsim_xrealloc(m->chans, (m->n_chans + 1) * sizeof *m->chans);
  m->chans[m->n_chans++] = (sensor_chan){rsim_xstrdup(info->id), ch, 0, -1};
  /* Keep the sensor list: lookups during writing come from it. */
  rsim_sensor_info copy = {.id = rsim_xstrdup(info->id), .kind = info->kind, .rate_hz = info->rate_hz};
  st->sensors = rsim_xrealloc(st->sensors, (st->n_sensors + 1) * sizeof *st->sensors);
  st->sensors[st->n_sensors++] = copy;
  rsim__store_sort_sensors(st);
  st->sensors_loaded = true;
  return RSIM_OK;
}

static int be_put(rsim_store *st, const rsim_reading *r) {
  mstore *m = M(st);
  sensor_chan *ch = (sensor_chan *)chan_of(m, r->sensor_id);
  if (!ch) return rsim__store_err(st, RSIM_ENOTFOUND, "%s: no sensor '%s' (add it first)", st->path, r->sensor_id);
  if (r->t < 0) return rsim__store_err(st, RSIM_EINVAL, "%s: sensor '%s': MCAP cannot hold negative times", st->path, r->sensor_id);
  encode(&m->enc, r);
  int rc = rsim_mcap_writer_write(m->w, ch->channel, ch->seq++, (uint64_t)r->t, (uint64_t)r->t, m->enc.data, m->enc.len);
  return rc ? werr(st, rc) : RSIM_OK;
}

static int be_set_meta(rsim_store *st, const char *key, const char *value) {
  mstore *m = M(st);
  for (size_t i = 0; i < m->n_meta; i++)
    if (!strcmp(m->meta[i].key, key)) {
      free(m->meta[i].value);
      m->meta[i].value = rsim_xstrdup(value);
      return RSIM_OK;
    }
  m->meta = rsim_xrealloc(m->meta, (m->n_meta + 1) * sizeof *m->meta);
  m->meta[m->n_meta++] = (rsim_mcap_kv){rsim_xstrdup(key), rsim_xstrdup(value)};
  return RSIM_OK;
}

static void put_f64(rsim_buf *b, double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  rsim_buf_put_u64le(b, u);
}

static int be_put_truth(rsim_store *st, const rsim_truth *g) {
  mstore *m = M(st);
  int rc;
  if (!m->truth_channel) {
    uint16_t schema;
    static const char desc[] = "i64 t, u32 object_id, char cls[16], f64 x y z vx vy length width height heading";
    if ((rc = rsim_mcap_writer_add_schema(m->w, TRUTH_SCHEMA, "rsim", (const uint8_t *)desc, sizeof desc - 1, &schema)) ||
        (rc = rsim_mcap_writer_add_channel(m->w, schema, TRUTH_TOPIC, "rsim", NULL, 0, &m->truth_channel)))
      return werr(st, rc);
  }
  rsim_buf b = {0};
  rsim_buf_put_u64le(&b, (uint64_t)g->t);
  rsim_buf_put_u32le(&b, g->object_id);
  char cls[16] = {0};
  memcpy(cls, g->cls, strnlen(g->cls, 15));
  rsim_buf_append(&b, cls, 16);
  const double f[] = {g->x, g->y, g->z, g->vx, g->vy, g->length, g->width, g->height, g->heading};
  for (int k = 0; k < 9; k++) put_f64(&b, f[k]);
  rc = rsim_mcap_writer_write(m->w, m->truth_channel, g->object_id, (uint64_t)g->t, (uint64_t)g->t, b.data, b.len);
  rsim_buf_free(&b);
  return rc ? werr(st, rc) : RSIM_OK;
}

static int be_noop(rsim_store *st) { return RSIM_OK; }

const rsim__store_backend rsim__store_mcap = {
    .name = "mcap",
    .close = be_close,
    .load_sensors = load_sensors,
    .time_range = be_time_range,
    .count = be_count,
    .cursor_open = be_cursor_open,
    .cursor_next = be_cursor_next,
    .cursor_peek_time = be_cursor_peek_time,
    .cursor_close = be_cursor_close,
    .reading_at = be_reading_at,
    .get_meta = be_get_meta,
    .truth = be_truth,
    .add_sensor = be_add_sensor,
    .put = be_put,
    .set_meta = be_set_meta,
    .put_truth = be_put_truth,
    .begin = be_noop,
    .commit = be_noop,
};

int rsim__mcap_store_open(rsim_store *st, bool create, rsim_errbuf *eb) {
  mstore *m = rsim_xcalloc(1, sizeof *m);
  st->impl = m;
  st->be = &rsim__store_mcap;
  int rc;
  if (create) {
    rsim_mcap_writer_opts o = {.profile = "replaysim"};
    rc = rsim_mcap_writer_open(st->path, &o, &m->w, eb);
    if (!rc) st->sensors_loaded = true;
    return rc;
  }
  if ((rc = rsim_mcap_reader_open(st->path, &m->rd, eb))) return rc;
  if ((rc = rsim_mcap_reader_summary(m->rd)))
    return rsim_errbuf_set(eb, rc, "%s%s", rsim_mcap_reader_errmsg(m->rd),
                           rc == RSIM_ENOTFOUND ? " (replaying in place needs the summary and chunk indexes)" : "");
  return RSIM_OK;
}
