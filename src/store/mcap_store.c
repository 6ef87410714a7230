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
** Metadata record "rsim.store".
**
** Other people's files: topics of the Foxglove schemas in foxglove.c and of
** the ROS 2 sensor_msgs types in ros2.c become sensors too, decoded into the
** layouts of docs/sensors.md; a topic map (rsim_store_opts) renames, skips
** or re-kinds them.  Channels with other schemas are listed by name in the
** error when none can be read.  Written with rsim_store_opts.foxglove, the
** camera, lidar, radar and gps channels use Foxglove protobuf schemas (so
** Foxglove shows a generated drive) and the rest stay rsim.SensorReading.
**
** Recovery: a file without footer or summary (a recorder killed mid-drive)
** is indexed in memory by scanning its records (rsim_mcap_reader_scan) and
** replayed as far as it is whole, with a warning saying so.  With
** skip_corrupt, a damaged chunk is skipped by every reader of the store and
** reported once as a gap (file, offset, time range, sensors).
**
** Order: the cursor yields readings by log time; readings with equal times
** are sorted by sensor id (stable), as the store contract says, whatever
** order the file has them in.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsim/mcap.h"
#include "store/codec.h"
#include "store/store_int.h"

#define READING_SCHEMA "rsim.SensorReading"
#define TRUTH_SCHEMA "rsim.Truth"
#define TRUTH_TOPIC "/rsim/truth"
#define TRUTH_SIZE 100

enum { F_NATIVE, F_ROS2, F_FOX };

typedef struct sensor_chan {
  char *id;
  const char *topic; /* borrowed from the reader's channel (reading) */
  uint16_t channel;
  uint32_t seq;
  int family;        /* F_*: how messages decode */
  int ros2;          /* F_ROS2: the ros2.c type */
  rsim__fox *fox;    /* F_FOX: the bound decoder (owned) */
  rsim_sensor_kind kind;
  rsim_sensor_info *info; /* writing Foxglove: the sensor (owned copy) */
} sensor_chan;

typedef struct mstore {
  rsim_mcap_reader *rd;
  rsim_mcap_writer *w;
  sensor_chan *chans;
  size_t n_chans;
  uint16_t truth_channel;
  uint16_t reading_schema;
  const char *fox_names[RSIM_SENSOR_KIND_COUNT]; /* writing Foxglove: schemas added (static names) */
  uint16_t fox_ids[RSIM_SENSOR_KIND_COUNT];
  size_t n_fox;
  bool foxglove;
  rsim_topic_rule *rules;
  size_t n_rules;
  rsim_mcap_kv *meta;
  size_t n_meta;
  rsim_buf enc;
  bool skip_corrupt;
  bool chans_ready;  /* channels mapped to sensors: gaps can name them */
  struct gap {       /* damaged chunks met (reported once, by offset) */
    uint64_t offset, start, end;
    uint16_t *channels;
    size_t n_channels;
    char *why;
    bool told;
  } *gaps;
  size_t n_gaps;
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

static int decode_foreign(rsim_store *st, const sensor_chan *ch, const uint8_t *data, size_t len,
                          rsim_reading *r) {
  char why[RSIM__WHY] = "";
  int rc = ch->family == F_ROS2 ? rsim__ros2_decode(ch->ros2, ch->kind, data, len, r, why)
                                : rsim__fox_decode(ch->fox, data, len, r, why);
  if (!rc) return RSIM_OK;
  return rsim__store_err(st, rc, "%s: sensor '%s' (topic '%s') at t=%lld: %s", st->path, ch->id, ch->topic,
                         (long long)r->t, why);
}

/* Fills r (cleared first; sensor_id, t and kind set by the caller). */
static int decode(rsim_store *st, const char *sensor, const uint8_t *data, size_t len, rsim_reading *r) {
  const sensor_chan *ch = chan_of(M(st), sensor);
  if (ch && ch->family != F_NATIVE) return decode_foreign(st, ch, data, len, r);
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

/* Writing: the store's metadata, the summary and the footer (rsim_store_finish). */
static int be_finish(rsim_store *st) {
  mstore *m = M(st);
  if (!m->w) return RSIM_OK;
  int rc = m->n_meta ? rsim_mcap_writer_add_metadata(m->w, "rsim.store", m->meta, m->n_meta) : RSIM_OK;
  if (rc) {
    rsim__store_err(st, rc, "%s", rsim_mcap_writer_errmsg(m->w)); /* names the file */
    rsim_mcap_writer_abort(m->w);
  } else {
    rsim_errbuf eb = {0};
    if ((rc = rsim_mcap_writer_close(m->w, &eb))) rsim__store_err(st, rc, "%s", eb.msg);
  }
  m->w = NULL;
  return rc;
}

static void be_close(rsim_store *st) {
  mstore *m = M(st);
  if (!m) return;
  if (m->w) rsim_mcap_writer_abort(m->w); /* not finished (rsim_store_close finishes first) */
  rsim_mcap_reader_close(m->rd);
  for (size_t i = 0; i < m->n_chans; i++) {
    free(m->chans[i].id);
    rsim__fox_free(m->chans[i].fox);
    if (m->chans[i].info) rsim_sensor_info_clear(m->chans[i].info);
    free(m->chans[i].info);
  }
  free(m->chans);
  rsim_topic_rules_free(m->rules, m->n_rules);
  for (size_t i = 0; i < m->n_meta; i++) {
    free(m->meta[i].key);
    free(m->meta[i].value);
  }
  free(m->meta);
  rsim_buf_free(&m->enc);
  for (size_t i = 0; i < m->n_gaps; i++) {
    free(m->gaps[i].channels);
    free(m->gaps[i].why);
  }
  free(m->gaps);
  free(m);
  st->impl = NULL;
}

/* ---- which channels are which sensors ------------------------------------------------- */

static const rsim_mcap_schema *schema_of(const mstore *m, uint16_t id) {
  size_t ns;
  const rsim_mcap_schema *sc = rsim_mcap_schemas(m->rd, &ns);
  for (size_t k = 0; k < ns; k++)
    if (sc[k].id == id) return &sc[k];
  return NULL;
}

static rsim_topic_rule *rule_of(mstore *m, const char *topic) {
  for (size_t i = 0; i < m->n_rules; i++)
    if (!strcmp(m->rules[i].topic, topic)) return &m->rules[i];
  return NULL;
}

/* Messages a second, from the statistics record. */
static double rate_of(const mstore *m, uint16_t channel) {
  const rsim_mcap_record *s = rsim_mcap_statistics(m->rd);
  if (!s || s->r.statistics.message_end_time <= s->r.statistics.message_start_time) return 0;
  for (size_t k = 0; k < s->r.statistics.n_counts; k++)
    if (s->r.statistics.channel_message_counts[k].key == channel)
      return (double)s->r.statistics.channel_message_counts[k].value * 1e9 /
             (double)(s->r.statistics.message_end_time - s->r.statistics.message_start_time);
  return 0;
}

/* "/camera/image_raw" -> "camera_image_raw". */
static char *id_from_topic(const char *topic) {
  const char *t = topic[0] == '/' ? topic + 1 : topic;
  char *id = rsim_xstrdup(*t ? t : "topic");
  for (char *p = id; *p; p++)
    if (*p == '/') *p = '_';
  return id;
}

static void meta_add(rsim_sensor_info *info, const char *k, const char *v) {
  info->meta = rsim_xrealloc(info->meta, (info->n_meta + 1) * sizeof *info->meta);
  info->meta[info->n_meta++] = (rsim_kv){rsim_xstrdup(k), rsim_xstrdup(v)};
}

/* One channel -> one sensor (or none: skipped, or a schema we do not read,
** listed in *other).  Errors name the topic. */
static int add_channel(rsim_store *st, const rsim_mcap_channel *ch, rsim_buf *other) {
  mstore *m = M(st);
  const rsim_mcap_schema *sc = schema_of(m, ch->schema_id);
  const char *schema = sc ? sc->name : "";
  if (!strcmp(schema, TRUTH_SCHEMA)) {
    m->truth_channel = ch->id;
    return RSIM_OK;
  }
  rsim_topic_rule *rule = rule_of(m, ch->topic);
  if (rule && rule->id && !strcmp(rule->id, "-")) return RSIM_OK;
  sensor_chan sc_out = {.channel = ch->id, .topic = ch->topic, .kind = RSIM_SENSOR_KIND_COUNT};
  rsim_sensor_kind natural = RSIM_SENSOR_KIND_COUNT;
  if (!strcmp(schema, READING_SCHEMA)) sc_out.family = F_NATIVE;
  else if ((sc_out.ros2 = rsim__ros2_type(schema, ch->message_encoding, &natural)) >= 0) sc_out.family = F_ROS2;
  else if (rsim__fox_reads(schema)) sc_out.family = F_FOX;
  else {
    if (rule)
      return rsim__store_err(st, RSIM_ENOTSUP, "%s: topic '%s' has schema '%s' (%s), which replaysim does not read",
                             st->path, ch->topic, *schema ? schema : "none", ch->message_encoding);
    rsim_buf_printf(other, "%s%s (%s)", other->len ? ", " : "", ch->topic, *schema ? schema : "no schema");
    return RSIM_OK;
  }
  rsim_sensor_info info = {0};
  const char *kind = NULL, *id = NULL;
  int rc = RSIM_OK;
  for (size_t k = 0; k < ch->n_metadata && !rc; k++) {
    const rsim_mcap_kv *kv = &ch->metadata[k];
    rsim_errbuf why = {0};
    if (!strcmp(kv->key, "rsim.kind")) kind = kv->value;
    else if (!strcmp(kv->key, "rsim.id")) id = kv->value;
    else if (!strcmp(kv->key, "rsim.rate_hz")) {
      if (rsim_parse_real(kv->value, 0, 1e9, &info.rate_hz, &why))
        rc = rsim__store_err(st, RSIM_ECORRUPT, "%s: topic '%s': metadata rsim.rate_hz: %s", st->path, ch->topic, why.msg);
    } else meta_add(&info, kv->key, kv->value);
  }
  if (rc) {
    rsim_sensor_info_clear(&info);
    return rc;
  }
  if (rule && rule->kind != RSIM_SENSOR_KIND_COUNT && sc_out.family == F_NATIVE && kind &&
      strcmp(kind, rsim_sensor_kind_name(rule->kind)))
    rc = rsim__store_err(st, RSIM_EINVAL, "%s: topic '%s' holds %s readings; a topic map cannot change that",
                         st->path, ch->topic, kind);
  else if (rule && rule->kind != RSIM_SENSOR_KIND_COUNT) info.kind = rule->kind;
  else if (kind && !rsim_sensor_kind_parse(kind, &info.kind)) {
  } else if (sc_out.family != F_NATIVE) info.kind = natural; /* F_FOX: the bind below chooses */
  else rc = rsim__store_err(st, RSIM_ECORRUPT, "%s: channel '%s' has no valid rsim.kind", st->path, ch->topic);
  sc_out.kind = info.kind;
  char why[RSIM__WHY] = "";
  if (!rc && sc_out.family == F_ROS2 && !rsim__ros2_kind_ok(sc_out.ros2, info.kind))
    rc = rsim__store_err(st, RSIM_EINVAL, "%s: topic '%s': %s cannot be read as a %s sensor", st->path, ch->topic,
                         schema, rsim_sensor_kind_name(info.kind));
  if (!rc && sc_out.family == F_FOX &&
      (rc = rsim__fox_bind(schema, sc->encoding, sc->data, sc->data_len, ch->message_encoding, &info.kind,
                           &sc_out.fox, why)))
    rsim__store_err(st, rc, "%s: topic '%s': %s", st->path, ch->topic, why);
  if (rc) {
    rsim_sensor_info_clear(&info);
    return rc;
  }
  info.id = rule && rule->id ? rsim_xstrdup(rule->id)
            : id ? rsim_xstrdup(id)
            : sc_out.family == F_NATIVE ? rsim_xstrdup(ch->topic)
                                        : id_from_topic(ch->topic);
  if (!info.rate_hz) info.rate_hz = rate_of(m, ch->id);
  if (sc_out.family != F_NATIVE && !kind) {
    meta_add(&info, "mcap.topic", ch->topic);
    meta_add(&info, "mcap.schema", schema);
  }
  if (chan_of(m, info.id) || !rsim_utf8_valid(info.id, strlen(info.id))) {
    rsim__store_err(st, RSIM_EINVAL, "%s: topic '%s' gives sensor id '%s', which %s", st->path, ch->topic, info.id,
                    chan_of(m, info.id) ? "another topic has (map one of them with --topic)" : "is not UTF-8");
    rsim__fox_free(sc_out.fox);
    rsim_sensor_info_clear(&info);
    return RSIM_EINVAL;
  }
  sc_out.id = rsim_xstrdup(info.id);
  st->sensors = rsim_xrealloc(st->sensors, (st->n_sensors + 1) * sizeof *st->sensors);
  st->sensors[st->n_sensors++] = info;
  m->chans = rsim_xrealloc(m->chans, (m->n_chans + 1) * sizeof *m->chans);
  m->chans[m->n_chans++] = sc_out;
  return RSIM_OK;
}

/* ---- gaps (skip_corrupt) ------------------------------------------------------------- */

/* The warning for one gap: what is missing, when, of which sensors. */
static void tell_gap(rsim_store *st, struct gap *g) {
  mstore *m = M(st);
  rsim_buf who = {0};
  for (size_t k = 0; k < g->n_channels; k++) {
    const char *id = g->channels[k] == m->truth_channel && m->truth_channel ? "ground truth"
                                                                              : sensor_of_channel(m, g->channels[k]);
    if (id) rsim_buf_printf(&who, "%s%s", who.len ? ", " : "", id);
  }
  if (!g->n_channels) rsim_buf_puts(&who, "unknown sensors (no index names them)");
  else if (!who.len) rsim_buf_puts(&who, "no replayed sensor");
  rsim_buf_putc(&who, 0);
  const rsim_mcap_record *s = rsim_mcap_statistics(m->rd);
  uint64_t t0 = s ? s->r.statistics.message_start_time : 0;
  rsim__store_warn(st, "gap: %s: chunk skipped; readings from t=%llu to t=%llu (%.3f s to %.3f s into the log) are "
                       "missing for %s",
                   g->why, (unsigned long long)g->start, (unsigned long long)g->end,
                   g->start > t0 ? (double)(g->start - t0) / 1e9 : 0.0, g->end > t0 ? (double)(g->end - t0) / 1e9 : 0.0,
                   (char *)who.data);
  rsim_buf_free(&who);
  g->told = true;
}

/* The readers' gap callback: each damaged chunk once, whichever reader of
** the store meets it; told now, or once channels are sensors. */
static void on_gap(void *ud, const rsim_mcap_gap *gp) {
  rsim_store *st = ud;
  mstore *m = M(st);
  for (size_t i = 0; i < m->n_gaps; i++)
    if (m->gaps[i].offset == gp->offset) return;
  m->gaps = rsim_xrealloc(m->gaps, (m->n_gaps + 1) * sizeof *m->gaps);
  struct gap *g = &m->gaps[m->n_gaps++];
  *g = (struct gap){gp->offset, gp->start, gp->end, rsim_xmalloc((gp->n_channels ? gp->n_channels : 1) * sizeof(uint16_t)),
                    gp->n_channels, rsim_xstrdup(gp->why), false};
  if (gp->n_channels) memcpy(g->channels, gp->channels, gp->n_channels * sizeof(uint16_t));
  st->n_gaps++;
  if (m->chans_ready) tell_gap(st, g);
}

/* A read error; a damaged chunk says how to replay around it. */
static int read_err(rsim_store *st, int rc, const rsim_mcap_reader *rd) {
  return rsim__store_err(st, rc, "%s%s", rsim_mcap_reader_errmsg(rd),
                         rc == RSIM_ECORRUPT && !M(st)->skip_corrupt
                             ? " (to replay around a damaged chunk: --on-corrupt skip)"
                             : "");
}

static int load_sensors(rsim_store *st) {
  mstore *m = M(st);
  if (m->w) return RSIM_OK; /* write mode keeps st->sensors as they are added */
  size_t nc;
  const rsim_mcap_channel *ch = rsim_mcap_channels(m->rd, &nc);
  rsim_buf other = {0};
  int rc = RSIM_OK;
  for (size_t i = 0; i < nc && !rc; i++) rc = add_channel(st, &ch[i], &other);
  for (size_t r = 0; r < m->n_rules && !rc; r++) {
    size_t i = 0;
    while (i < nc && strcmp(ch[i].topic, m->rules[r].topic)) i++;
    if (i == nc) rc = rsim__store_err(st, RSIM_ENOTFOUND, "%s: the topic map names '%s', which is not in the file",
                                      st->path, m->rules[r].topic);
  }
  if (!rc && !st->n_sensors)
    rc = rsim__store_err(st, RSIM_ENOTSUP,
                         "%s: no channel replaysim can replay (found: %s); it reads rsim.SensorReading, Foxglove "
                         "RawImage, CompressedImage, PointCloud, LocationFix (protobuf, json) and ROS 2 "
                         "sensor_msgs Image, CompressedImage, PointCloud2, Imu, NavSatFix, Range, radar_msgs RadarScan, "
                         "can_msgs Frame (cdr)",
                         st->path, other.len ? (rsim_buf_putc(&other, 0), (char *)other.data) : "no channels");
  const rsim_mcap_scan_info *si = rsim_mcap_reader_scan_info(m->rd);
  if (rc == RSIM_ENOTSUP && si && !nc) /* a recording cut off before its channels: say where */
    rsim__store_err(st, rc, "%s: no channel replaysim can replay before the file ends: it has no index, and a scan "
                            "of its records stopped at %s",
                    st->path, si->stop);
  rsim_buf_free(&other);
  rsim__store_sort_sensors(st);
  m->chans_ready = true;
  for (size_t i = 0; i < m->n_gaps; i++)
    if (!m->gaps[i].told) tell_gap(st, &m->gaps[i]);
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
  if (rc) return read_err(c->st, rc, c->rd);
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
  int rc = rsim_mcap_reader_reopen(m->rd, &c->rd, &eb);
  if (rc) {
    free(c);
    return rsim__store_err(st, rc, "%s", eb.msg);
  }
  uint16_t *chans = rsim_xcalloc(n ? n : 1, sizeof *chans);
  for (size_t i = 0; i < n; i++) chans[i] = chan_of(m, ids[i])->channel;
  if (t1 < 0 || t0 > t1) c->eof = true;
  else if ((rc = rsim_mcap_reader_messages(c->rd, t0 < 0 ? 0 : (uint64_t)t0, (uint64_t)t1, chans, n)))
    read_err(st, rc, c->rd);
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
  if (rc) return read_err(st, rc, m->rd);
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

static int be_truth(rsim_store *st, rsim_time t0, rsim_time t1, rsim_truth **out, size_t *n) {
  mstore *m = M(st);
  *out = NULL;
  *n = 0;
  if (!m->truth_channel || t1 < 0) return RSIM_OK;
  rsim_errbuf eb = {0};
  rsim_mcap_reader *rd;
  int rc = rsim_mcap_reader_reopen(m->rd, &rd, &eb);
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
    for (int k = 0; k < 9; k++) *f[k] = rsim_le_f64(msg->data + 28 + 8 * k);
  }
  if (rc == RSIM_EEOF) rc = RSIM_OK;
  else if (rc && !st->errmsg[0]) read_err(st, rc, rd);
  rsim_mcap_reader_close(rd);
  return rc;
}

/* ---- writing ----------------------------------------------------------------------- */

static int werr(rsim_store *st, int rc) {
  return rsim__store_err(st, rc, "%s", rsim_mcap_writer_errmsg(M(st)->w));
}

static rsim_sensor_info *info_copy(const rsim_sensor_info *in) {
  rsim_sensor_info *c = rsim_xcalloc(1, sizeof *c);
  *c = (rsim_sensor_info){.id = rsim_xstrdup(in->id), .kind = in->kind, .rate_hz = in->rate_hz};
  for (size_t i = 0; i < in->n_meta; i++) meta_add(c, in->meta[i].key, in->meta[i].value);
  return c;
}

/* The Foxglove schema of a kind, added on first use (lidar and radar share
** foxglove.PointCloud: one schema record); 0 when the kind has none. */
static int fox_schema(rsim_store *st, rsim_sensor_kind kind, uint16_t *out) {
  mstore *m = M(st);
  const char *name;
  rsim_buf fds = {0};
  *out = 0;
  if (!m->foxglove || !rsim__fox_schema_for(kind, &name, &fds)) return RSIM_OK;
  size_t i = 0;
  while (i < m->n_fox && strcmp(m->fox_names[i], name)) i++;
  int rc = RSIM_OK;
  if (i < m->n_fox) *out = m->fox_ids[i];
  else if (!(rc = rsim_mcap_writer_add_schema(m->w, name, "protobuf", fds.data, fds.len, out))) {
    m->fox_names[m->n_fox] = name; /* at most one a kind: room is there */
    m->fox_ids[m->n_fox++] = *out;
  }
  rsim_buf_free(&fds);
  return rc ? werr(st, rc) : RSIM_OK;
}

static int be_add_sensor(rsim_store *st, const rsim_sensor_info *info) {
  mstore *m = M(st);
  if (chan_of(m, info->id)) return rsim__store_err(st, RSIM_EINVAL, "%s: sensor '%s' added twice", st->path, info->id);
  uint16_t fox;
  int rc = fox_schema(st, info->kind, &fox);
  if (rc) return rc;
  if (!fox && !m->reading_schema) {
    static const char desc[] = "u32 n_meta, n_meta x (u32 len, key, u32 len, value), payload (docs/sensors.md)";
    if ((rc = rsim_mcap_writer_add_schema(m->w, READING_SCHEMA, "rsim", (const uint8_t *)desc, sizeof desc - 1,
                                          &m->reading_schema)))
      return werr(st, rc);
  }
  rsim_mcap_kv *kv = rsim_xcalloc(info->n_meta + 3, sizeof *kv);
  char rate[32];
  snprintf(rate, sizeof rate, "%.17g", info->rate_hz);
  size_t nkv = 0;
  kv[nkv++] = (rsim_mcap_kv){(char *)"rsim.kind", (char *)rsim_sensor_kind_name(info->kind)};
  kv[nkv++] = (rsim_mcap_kv){(char *)"rsim.rate_hz", rate};
  if (fox) kv[nkv++] = (rsim_mcap_kv){(char *)"rsim.id", info->id};
  for (size_t i = 0; i < info->n_meta; i++) kv[nkv++] = (rsim_mcap_kv){info->meta[i].key, info->meta[i].value};
  /* Foxglove topics start with '/', as the viewer's users expect. */
  rsim_buf topic = {0};
  rsim_buf_printf(&topic, "%s%s", fox ? "/" : "", info->id);
  rsim_buf_putc(&topic, 0);
  uint16_t ch;
  rc = rsim_mcap_writer_add_channel(m->w, fox ? fox : m->reading_schema, (const char *)topic.data,
                                    fox ? "protobuf" : "rsim", kv, nkv, &ch);
  rsim_buf_free(&topic);
  free(kv);
  if (rc) return werr(st, rc);
  m->chans = rsim_xrealloc(m->chans, (m->n_chans + 1) * sizeof *m->chans);
  m->chans[m->n_chans++] = (sensor_chan){.id = rsim_xstrdup(info->id), .channel = ch, .kind = info->kind,
                                         .family = fox ? F_FOX : F_NATIVE, .info = fox ? info_copy(info) : NULL};
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
  if (ch->family == F_FOX) {
    char why[RSIM__WHY] = "";
    int rc = rsim__fox_encode(r, ch->info, &m->enc, why);
    if (rc) return rsim__store_err(st, rc, "%s: sensor '%s' at t=%lld: %s", st->path, r->sensor_id, (long long)r->t, why);
  } else
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
    .finish = be_finish,
};

int rsim__mcap_store_open(rsim_store *st, bool create, const rsim_store_opts *o, rsim_errbuf *eb) {
  mstore *m = rsim_xcalloc(1, sizeof *m);
  st->impl = m;
  st->be = &rsim__store_mcap;
  int rc;
  m->foxglove = o && o->foxglove;
  for (size_t i = 0; o && i < o->n_topics; i++) {
    const rsim_topic_rule *r = &o->topics[i];
    m->rules = rsim_xrealloc(m->rules, (m->n_rules + 1) * sizeof *m->rules);
    m->rules[m->n_rules++] = (rsim_topic_rule){rsim_xstrdup(r->topic), r->id ? rsim_xstrdup(r->id) : NULL, r->kind};
  }
  if (create) {
    rsim_mcap_writer_opts wo = {.profile = "replaysim"};
    rc = rsim_mcap_writer_open(st->path, &wo, &m->w, eb);
    if (!rc) st->sensors_loaded = true;
    return rc;
  }
  if ((rc = rsim_mcap_reader_open(st->path, &m->rd, eb))) return rc;
  m->skip_corrupt = o && o->skip_corrupt;
  if (m->skip_corrupt) rsim_mcap_reader_skip_corrupt(m->rd, on_gap, st);
  rc = rsim_mcap_reader_summary(m->rd);
  if (rc != RSIM_ENOTFOUND) return rc ? rsim_errbuf_set(eb, rc, "%s", rsim_mcap_reader_errmsg(m->rd)) : RSIM_OK;
  /* No footer or no summary: a recording cut off (or written without
  ** one).  Index it from its records, and say so. */
  char why[512];
  snprintf(why, sizeof why, "%s", rsim_mcap_reader_errmsg(m->rd));
  if ((rc = rsim_mcap_reader_scan(m->rd))) {
    read_err(st, rc, m->rd);
    return rsim_errbuf_set(eb, rc, "%s (the file has no index: %s)", st->errmsg, why);
  }
  const rsim_mcap_scan_info *si = rsim_mcap_reader_scan_info(m->rd);
  char cut[160] = "";
  if (si->cut_messages)
    snprintf(cut, sizeof cut, " (%llu of them from the whole part of the last chunk)", (unsigned long long)si->cut_messages);
  rsim__store_warn(st, "%s: replayed unindexed, from a scan of its records (as `mcap recover` does): %llu of %llu "
                       "bytes whole, %llu messages%s from t=%llu to t=%llu (%.3f s); the scan stopped at %s",
                   why, (unsigned long long)si->scanned, (unsigned long long)si->size,
                   (unsigned long long)si->messages, cut, (unsigned long long)si->t_first,
                   (unsigned long long)si->t_last, (double)(si->t_last - si->t_first) / 1e9, si->stop);
  return RSIM_OK;
}
