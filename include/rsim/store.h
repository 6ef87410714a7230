/*
** store.h -- the sensor store: recorded readings, read in time order.
**
** One interface over several backends (SQLite files, MCAP files and drives
** in a PostgreSQL database, behind one vtable in src/store/store_int.h).  An input log is
** opened read-only and is never modified; a new log is written through
** rsim_store_create.
**
** Order: a cursor yields readings by timestamp; readings with equal
** timestamps come in sensor-id order (bytewise), and readings of one sensor
** with equal timestamps in the order they were written.  This order is part
** of the contract: determinism depends on it.
**
** Threads: a handle and its cursors are used by one thread at a time.
*/
#ifndef RSIM_STORE_H
#define RSIM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsim/util.h"

typedef enum rsim_sensor_kind {
  RSIM_SENSOR_CAMERA = 0,
  RSIM_SENSOR_RADAR,
  RSIM_SENSOR_LIDAR,
  RSIM_SENSOR_ULTRASONIC,
  RSIM_SENSOR_IMU,
  RSIM_SENSOR_GPS,
  RSIM_SENSOR_CAN,
  RSIM_SENSOR_KIND_COUNT
} rsim_sensor_kind;

/* "camera", "radar", ... (the WIT enum case names); NULL for a bad kind. */
const char *rsim_sensor_kind_name(rsim_sensor_kind k);
/* Parses a kind name; returns RSIM_EINVAL for an unknown one. */
int rsim_sensor_kind_parse(const char *name, rsim_sensor_kind *out);

/* One key/value pair of reading or sensor metadata (both UTF-8). */
typedef struct rsim_kv {
  char *key;
  char *value;
} rsim_kv;

typedef struct rsim_sensor_info {
  char *id;                /* unique, UTF-8 */
  rsim_sensor_kind kind;
  double rate_hz;          /* nominal rate; 0 when unknown */
  rsim_kv *meta;           /* sensor metadata (calibration, frame, format) */
  size_t n_meta;
} rsim_sensor_info;

/* A reading.  Returned readings are owned by the caller (free with
** rsim_reading_clear) unless a function says it lends them. */
typedef struct rsim_reading {
  char *sensor_id;
  rsim_time t;             /* ns since the Unix epoch */
  rsim_sensor_kind kind;
  uint8_t *payload;        /* layout per kind: docs/sensors.md */
  size_t payload_len;
  rsim_kv *meta;
  size_t n_meta;
} rsim_reading;

void rsim_reading_clear(rsim_reading *r);
/* The value of key among kv[0..n) (a reading's or a sensor's metadata); NULL when absent. */
const char *rsim_kv_get(const rsim_kv *kv, size_t n, const char *key);
/* Whether a camera reading is a plain frame as docs/sensors.md lays it out:
** rgb8 or mono8, its width x height x bytes a pixel equal to the payload. */
bool rsim_reading_frame(const rsim_reading *r, int *w, int *h, int *bpp);
/* A plain frame as JPEG (libjpeg-turbo; 4:2:0, grey for mono8), appended to
** out; RSIM_EINVAL when the reading is not a plain frame. */
int rsim_reading_to_jpeg(const rsim_reading *r, int quality, rsim_buf *out);
void rsim_reading_copy(rsim_reading *dst, const rsim_reading *src);
void rsim_sensor_info_clear(rsim_sensor_info *s);

typedef struct rsim_store rsim_store;
typedef struct rsim_cursor rsim_cursor;

/*
** Opens an existing store read-only.  path is a SQLite file or an MCAP file
** (told apart by content; MCAP is replayed in place through its indexes,
** see docs/mcap.md), or a PostgreSQL URI naming one drive of a database:
** "postgresql://USER@HOST:PORT/DB?drive=NAME" (libpq's URI rules; the
** password comes from PGPASSWORD or ~/.pgpass, a URI holding one is
** refused; docs/fleet.md).
** On failure *out is NULL and eb holds a message naming the file.
** The caller closes the store with rsim_store_close.
*/
int rsim_store_open(const char *path, rsim_store **out, rsim_errbuf *eb);
/*
** Creates a new, empty store for writing: MCAP when path ends in ".mcap",
** a drive of a PostgreSQL database for a URI (written in one transaction
** per begin/commit, rolled back when the store is closed before its
** commit), SQLite otherwise.  The file (the drive) must not exist unless
** overwrite is true.  Used by the generator and importers.  A writer ends
** with rsim_store_finish, which says whether the store is complete, then
** rsim_store_close.
*/
int rsim_store_create(const char *path, bool overwrite, rsim_store **out, rsim_errbuf *eb);
/*
** How MCAP topics become sensors (docs/mcap.md, "Topic map").  Without a
** rule a topic of a schema replaysim reads becomes a sensor named after it
** ("/camera/front" -> "camera_front", or the channel's rsim.id), of the
** schema's kind.  A rule names the topic exactly; id NULL keeps the derived
** id, id "-" leaves the topic out; kind RSIM_SENSOR_KIND_COUNT keeps the
** schema's kind (a point cloud may be read as radar).  A rule for a topic
** that is not in the file, or a kind the schema cannot give, is an error.
*/
typedef struct rsim_topic_rule {
  char *topic;
  char *id;
  rsim_sensor_kind kind;
} rsim_topic_rule;

/* Loads a topic map (YAML: `TOPIC: ID`, `TOPIC: skip`, or
** `TOPIC: {id: ID, kind: KIND}`); *out is owned by the caller
** (rsim_topic_rules_free). */
int rsim_topic_map_load(const char *path, rsim_topic_rule **out, size_t *out_n, rsim_errbuf *eb);
/* Parses one rule written "TOPIC=ID[:KIND]" (ID "-" skips) and appends it. */
int rsim_topic_rule_add(const char *spec, rsim_topic_rule **rules, size_t *n, rsim_errbuf *eb);
void rsim_topic_rules_free(rsim_topic_rule *rules, size_t n);

typedef struct rsim_store_opts {
  const rsim_topic_rule *topics; /* reading MCAP: the topic map (copied) */
  size_t n_topics;
  bool foxglove; /* writing MCAP: Foxglove protobuf schemas for camera,
                 ** lidar, radar and gps (exact; others stay rsim) */
  bool skip_corrupt; /* reading MCAP: a chunk whose CRC fails or whose data
                     ** does not decompress is skipped (a gap, told as a
                     ** warning) instead of failing the read */
  const char *drive; /* PostgreSQL: the drive, when the URI has no ?drive= */
} rsim_store_opts;

/* rsim_store_open and rsim_store_create with options (o may be NULL). */
int rsim_store_open_opts(const char *path, const rsim_store_opts *o, rsim_store **out, rsim_errbuf *eb);
int rsim_store_create_opts(const char *path, bool overwrite, const rsim_store_opts *o, rsim_store **out,
                           rsim_errbuf *eb);
/*
** Completes a store from rsim_store_create: commits a transaction left open
** and, for MCAP, writes the last chunk, the summary and the footer and puts
** the file in place.  Returns RSIM_OK, or the error (RSIM_EIO for a failed
** write, the message in rsim_store_errmsg naming the file) that leaves the
** output incomplete: then an MCAP file is not created at all.  Afterwards
** the store takes no more writes; close it.  A read-only store has nothing
** to finish (RSIM_OK).  Calling it twice returns the first result again.
*/
int rsim_store_finish(rsim_store *st);
/* Closes the store; NULL is a no-op.  Open cursors must be closed first.
** A writable store not finished yet is finished here, and a failure is
** lost: writers call rsim_store_finish first. */
void rsim_store_close(rsim_store *st);
/* Message of the last failure on this handle; never NULL. */
const char *rsim_store_errmsg(const rsim_store *st);
/* The path the store was opened with (borrowed). */
const char *rsim_store_path(const rsim_store *st);
/*
** Warnings about the data, in the order they arose (the library never
** prints; callers show them): an MCAP file read without its index (a
** recording cut off by a crash: what was scanned, up to which time), and
** each chunk skipped under skip_corrupt (file, offset, time range, sensors).
** A damaged chunk is found when it is first read, so more may come as
** reading goes on.  A view answers with its base's.  Borrowed until close.
*/
size_t rsim_store_n_warnings(const rsim_store *st);
const char *rsim_store_warning(const rsim_store *st, size_t i);
/* Damaged chunks skipped so far (skip_corrupt). */
size_t rsim_store_n_gaps(const rsim_store *st);

/* Sensors, ordered by id.  The array is borrowed until the store closes. */
int rsim_store_sensors(rsim_store *st, const rsim_sensor_info **out, size_t *out_n);
/* Looks a sensor up by id; NULL when unknown (borrowed). */
const rsim_sensor_info *rsim_store_sensor(rsim_store *st, const char *id);
/* The first sensor of a kind, by id order (what a view shows when none is
** named); NULL when there is none (borrowed). */
const rsim_sensor_info *rsim_store_first_of_kind(rsim_store *st, rsim_sensor_kind kind);
/* First and last reading time over all sensors; RSIM_ENOTFOUND when empty. */
int rsim_store_time_range(rsim_store *st, rsim_time *out_first, rsim_time *out_last);
/* Number of readings of one sensor (or all when sensor_id is NULL). */
int rsim_store_count(rsim_store *st, const char *sensor_id, int64_t *out_n);

/*
** Opens a streaming cursor over readings with t0 <= t <= t1 of the given
** sensors (all when n_sensors is 0), in the store order described above.
** Memory use does not grow with the length of the range.
*/
int rsim_store_cursor_open(rsim_store *st, rsim_time t0, rsim_time t1,
                           const char *const *sensors, size_t n_sensors,
                           rsim_cursor **out);
/*
** Advances the cursor.  Returns RSIM_OK and lends *out (valid until the next
** call or rsim_cursor_close), RSIM_EEOF at the end, or an error.
*/
int rsim_cursor_next(rsim_cursor *c, const rsim_reading **out);
/* Peeks at the time of the next reading without advancing; RSIM_EEOF at end. */
int rsim_cursor_peek_time(rsim_cursor *c, rsim_time *out);
void rsim_cursor_close(rsim_cursor *c);

/*
** The latest reading of sensor_id with time <= t (the last one written
** among equal times).  Returns RSIM_ENOTFOUND when there is none;
** *out is owned by the caller (rsim_reading_clear).
*/
int rsim_store_reading_at(rsim_store *st, const char *sensor_id, rsim_time t,
                          rsim_reading *out);

/* ---- writing (stores from rsim_store_create) ------------------------------ */
int rsim_store_add_sensor(rsim_store *st, const rsim_sensor_info *info);
int rsim_store_put(rsim_store *st, const rsim_reading *r);
/* Stores a free-form key/value about the whole log (seed, generator, ...). */
int rsim_store_set_meta(rsim_store *st, const char *key, const char *value);
/* Reads it back; *out is owned by the caller (free()). RSIM_ENOTFOUND if absent. */
int rsim_store_get_meta(rsim_store *st, const char *key, char **out);

/* Ground truth: the true state of one object at one time, stored beside the
** readings by the generator so that outputs can be scored. */
typedef struct rsim_truth {
  rsim_time t;
  uint32_t object_id;
  char cls[16];            /* "car", "truck", "pedestrian", "cyclist" */
  double x, y, z;          /* m, ego frame: x forward, y left, z up */
  double vx, vy;           /* m/s, ego frame, relative to the ego */
  double length, width, height;
  double heading;          /* rad, relative to ego heading */
} rsim_truth;

int rsim_store_put_truth(rsim_store *st, const rsim_truth *g);
/* Truth rows with t0 <= t <= t1 in (t, object_id) order; *out is malloc'd
** and owned by the caller.  n is 0 when the store holds none. */
int rsim_store_truth(rsim_store *st, rsim_time t0, rsim_time t1, rsim_truth **out, size_t *out_n);

/*
** Copies every sensor, reading (in store order), ground-truth row and the
** generator's metadata from src into dst (a store from rsim_store_create):
** SQLite to MCAP and back, reading bytes unchanged.  progress may be NULL.
*/
int rsim_store_copy(rsim_store *src, rsim_store *dst, void (*progress)(void *ud, double fraction),
                    void *ud, rsim_errbuf *eb);

/*
** A filtered, renamed view of a store, as `ros2 bag play --topics/--exclude/
** --remap` users expect.  include and exclude hold shell-style patterns
** ("camera_*"); a sensor is visible when it matches an include (or there
** are none) and no exclude.  remap holds "old=new" pairs: the view shows
** the sensor under its new id.  The view borrows base (which must outlive
** it) and is read-only; close it with rsim_store_close.
*/
typedef struct rsim_store_filter {
  const char *const *include;
  size_t n_include;
  const char *const *exclude;
  size_t n_exclude;
  const char *const *remap;
  size_t n_remap;
} rsim_store_filter;

int rsim_store_view(rsim_store *base, const rsim_store_filter *f, rsim_store **out, rsim_errbuf *eb);

/*
** A store over base whose cursors with the same range and sensors share one
** read of base: what the first reads is kept until every such cursor has
** passed it (an A/B run's two engines read the drive once).  A cursor joins
** a read only while no reading was dropped from it yet (open them all
** before stepping), else it reads on its own.  A cursor that lags so far
** that more than max_kept payload bytes (0 = 256 MB) are kept for it leaves
** the shared read (an engine stopped on an error must not hold the drive in
** memory); should it go on, it reads on its own from where it was.
** Everything else is base's.  The view borrows base (which must outlive it).
*/
int rsim_store_shared(rsim_store *base, size_t max_kept, rsim_store **out);
/* Readings st's cursors took from its base so far (0 for another kind of
** store). */
uint64_t rsim_store_shared_reads(const rsim_store *st);

/*
** A store over base whose cursors read ahead: each cursor has a thread
** that reads, decodes and (MCAP) decompresses base's readings into a
** bounded window while the caller works, so reading overlaps the replay.
** The readings, their order, the end and any error (with base's message,
** after the same readings) are exactly base's cursor's.  Closing a cursor
** stops and joins its thread (a seek reopens the engine's cursor, and so
** restarts reading ahead from the new time).  Every other call goes to
** base, which is used by one thread at a time; while the read-ahead store
** is open, base must be used through it only.  Warnings of base show up
** here as the caller reaches the readings after which they arose.  The
** window is max_readings readings or max_bytes payload bytes, whichever is
** reached first (0: the defaults below, measured in docs/benchmarks.md).
*/
#define RSIM_READAHEAD_READINGS 64
#define RSIM_READAHEAD_BYTES ((size_t)8 << 20)
typedef struct rsim_readahead_opts {
  size_t max_readings;
  size_t max_bytes;
  bool own_base; /* base is closed with the read-ahead store */
} rsim_readahead_opts;

int rsim_store_readahead(rsim_store *base, const rsim_readahead_opts *o, rsim_store **out);
/* Whether st is a store from rsim_store_readahead. */
bool rsim_store_is_readahead(const rsim_store *st);
/* The most readings and payload bytes one of st's cursors held read ahead
** so far (0, 0 for another kind of store): the window's memory. */
void rsim_store_readahead_peak(rsim_store *st, size_t *readings, size_t *bytes);

/* Groups writes into one transaction (the generator writes millions of rows). */
int rsim_store_begin(rsim_store *st);
int rsim_store_commit(rsim_store *st);

/* ---- PostgreSQL databases of drives (docs/fleet.md) ----------------------- */

/* Whether path is a PostgreSQL URI ("postgresql://" or "postgres://"). */
bool rsim_store_is_uri(const char *path);
/* Creates replaysim's schema in the database of uri (a ?drive= is ignored),
** or checks that the one there is this version; *created says which.
** Partitions readings by day, or makes them a TimescaleDB hypertable when
** the extension is installed in the database. */
int rsim_db_init(const char *uri, bool *created, rsim_errbuf *eb);

typedef struct rsim_db_drive {
  char *name;
  rsim_time first, last;   /* 0, 0 for a drive without readings */
  int64_t readings;
  int64_t bytes;           /* payload and metadata bytes */
  int64_t sensors;
} rsim_db_drive;

/* The drives of the database, by name; *out is owned by the caller
** (rsim_db_drives_free). */
int rsim_db_list(const char *uri, rsim_db_drive **out, size_t *out_n, rsim_errbuf *eb);
void rsim_db_drives_free(rsim_db_drive *d, size_t n);

#endif /* RSIM_STORE_H */
