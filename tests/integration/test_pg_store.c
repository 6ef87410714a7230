/*
** test_pg_store.c -- drives in a real PostgreSQL database as stores: the
** same readings in the same order as their SQLite and MCAP twins (so the
** same run digest), import in one transaction, export byte for byte, the
** schema's version, partitions, and errors that name the URI.
*/
#include <sys/stat.h>
#include <time.h>

#include "rsim/store.h"
#include "test.h"

/* SHA-256 over every reading (id, time, kind, metadata, payload) in store
** order, and the count. */
static int readings_digest(const char *path, char hex[65]) {
  rsim_errbuf eb = {0};
  rsim_store *st;
  if (rsim_store_open(path, &st, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_cursor *c;
  const rsim_reading *r;
  ASSERT_OK(rsim_store_cursor_open(st, INT64_MIN, INT64_MAX, NULL, 0, &c));
  rsim_sha256 s;
  rsim_sha256_init(&s);
  int n = 0, rc;
  while ((rc = rsim_cursor_next(c, &r)) == RSIM_OK) {
    rsim_sha256_update(&s, r->sensor_id, strlen(r->sensor_id) + 1);
    rsim_sha256_update(&s, &r->t, sizeof r->t);
    rsim_sha256_update(&s, &r->kind, sizeof r->kind);
    for (size_t i = 0; i < r->n_meta; i++) {
      rsim_sha256_update(&s, r->meta[i].key, strlen(r->meta[i].key) + 1);
      rsim_sha256_update(&s, r->meta[i].value, strlen(r->meta[i].value) + 1);
    }
    rsim_sha256_update(&s, r->payload, r->payload_len);
    n++;
  }
  ASSERT_EQ(rc, RSIM_EEOF);
  uint8_t d[32];
  rsim_sha256_final(&s, d);
  rsim_sha256_hex(d, hex);
  rsim_cursor_close(c);
  rsim_store_close(st);
  return n;
}

static void run_digest(const char *store, const char *extra, char hex[65]) {
  char *out = NULL, quoted[2048];
  snprintf(quoted, sizeof quoted, "'%s'", store);
  int rc = test_replay(test_source_path("examples/demo/graph.yaml"), quoted, extra, &out, hex);
  if (rc || !hex[0]) test_fail(__FILE__, __LINE__, "run --store %s failed (%d): %s", store, rc, out);
  free(out);
}

/* A drive and its MCAP twin (when mcap is not NULL), loaded into the
** test's database as d_db and d_mcap. */
static void load_twins(const char *duration, int seed, char db[1024], char *mcap) {
  snprintf(db, 1024, "%s", test_make_drive("drive.db", duration, seed));
  char *out = NULL;
  if (mcap) {
    snprintf(mcap, 1024, "%s", test_tmpfile("drive.mcap"));
    ASSERT_EQ(test_replaysim(&out, "export %s --out %s", db, mcap), 0);
    free(out);
  }
  const char *uri = test_pg_uri(NULL);
  if (test_replaysim(&out, "db init '%s'", uri)) test_fail(__FILE__, __LINE__, "db init: %s", out);
  ASSERT_CONTAINS(out, "created the replaysim schema");
  free(out);
  if (test_replaysim(&out, "import %s --out '%s' --drive d_db", db, uri)) test_fail(__FILE__, __LINE__, "import: %s", out);
  free(out);
  if (mcap && test_replaysim(&out, "import %s --out '%s?drive=d_mcap'", mcap, uri))
    test_fail(__FILE__, __LINE__, "import: %s", out);
  if (mcap) free(out);
}

TEST(pg_store_replays_drives_with_the_digests_of_their_sqlite_and_mcap_twins) {
  char db[1024], mcap[1024], uri_db[1024], uri_mcap[1024];
  load_twins("2s", 8, db, mcap);
  snprintf(uri_db, sizeof uri_db, "%s", test_pg_uri("d_db"));
  snprintf(uri_mcap, sizeof uri_mcap, "%s", test_pg_uri("d_mcap"));
  /* The same readings in the same order... */
  char h_db[65], h_mcap[65], h_pg[65], h_pg2[65];
  int n = readings_digest(db, h_db);
  ASSERT(n > 100);
  ASSERT_EQ(readings_digest(mcap, h_mcap), n);
  ASSERT_EQ(readings_digest(uri_db, h_pg), n);
  ASSERT_EQ(readings_digest(uri_mcap, h_pg2), n);
  ASSERT_STREQ(h_pg, h_db);
  ASSERT_STREQ(h_pg2, h_db);
  ASSERT_STREQ(h_mcap, h_db);
  /* ...so the same run. */
  char r_db[65], r_mcap[65], r_pg[65];
  run_digest(db, "--speed max", r_db);
  run_digest(mcap, "--speed max", r_mcap);
  run_digest(uri_db, "--speed max", r_pg);
  ASSERT_STREQ(r_mcap, r_db);
  ASSERT_STREQ(r_pg, r_db);
  /* Sensor filters and a sub-range, as on a file. */
  run_digest(db, "--speed max --from 0.5s --to 1.5s --exclude 'lidar*'", r_db);
  run_digest(uri_db, "--speed max --from 0.5s --to 1.5s --exclude 'lidar*'", r_pg);
  ASSERT_STREQ(r_pg, r_db);
  /* Checkpoints and seeks: a run cut short and resumed from its files. */
  char ckpt[1100], extra[2000], resumed[65];
  snprintf(ckpt, sizeof ckpt, "%s", test_tmpfile("ckpts"));
  run_digest(db, "--speed max", r_db);
  snprintf(extra, sizeof extra, "--speed max --to 1.2s --checkpoint-every 500ms --checkpoint-dir %s", ckpt);
  run_digest(uri_db, extra, r_pg);
  snprintf(extra, sizeof extra, "--speed max --checkpoint-every 500ms --resume %s", ckpt);
  run_digest(uri_db, extra, resumed);
  ASSERT_STREQ(resumed, r_db);
  /* render draws the same picture from either. */
  char *out = NULL, cmd[12000], graph[1024], dir[1024];
  snprintf(graph, sizeof graph, "%s", test_source_path("examples/demo/graph.yaml"));
  snprintf(dir, sizeof dir, "%s", test_tmpdir());
  snprintf(cmd, sizeof cmd,
           "%s render %s --store %s --at 1.5s --out %s/a.png && %s render %s --store '%s' --at 1.5s --out %s/b.png"
           " && cmp %s/a.png %s/b.png",
           test_replaysim_path(), graph, db, dir, test_replaysim_path(), graph, uri_db, dir, dir, dir);
  ASSERT_EQ(test_run(cmd, &out), 0);
  free(out);
  /* info, check, db ls. */
  ASSERT_EQ(test_replaysim(&out, "info '%s'", uri_db), 0);
  ASSERT_CONTAINS(out, "camera_front");
  ASSERT_CONTAINS(out, "sensors:");
  free(out);
  ASSERT_EQ(test_replaysim(&out, "check %s --store '%s'", test_source_path("examples/demo/graph.yaml"), uri_db), 0);
  free(out);
  ASSERT_EQ(test_replaysim(&out, "db ls '%s'", test_pg_uri(NULL)), 0);
  ASSERT_CONTAINS(out, "d_db ");
  ASSERT_CONTAINS(out, "d_mcap ");
  ASSERT_CONTAINS(out, "2 drives");
  free(out);
  ASSERT_EQ(test_pg_query_int("SELECT n_readings FROM replaysim.drives WHERE name = 'd_db'"), n);
  /* Readings are partitioned by day: the drive's day has its partition. */
  ASSERT_EQ(test_pg_query_int("SELECT count(*) FROM pg_inherits WHERE inhparent = 'replaysim.readings'::regclass"), 1);
  ASSERT_EQ(test_pg_query_int("SELECT count(*) FROM ONLY replaysim.readings"), 0);
}

TEST(pg_store_exports_back_to_sqlite_and_mcap_byte_for_byte) {
  char db[1024], mcap[1024], back_db[1024], back_mcap[1024];
  load_twins("1s", 3, db, mcap);
  snprintf(back_db, sizeof back_db, "%s", test_tmpfile("back.db"));
  snprintf(back_mcap, sizeof back_mcap, "%s", test_tmpfile("back.mcap"));
  char *out = NULL;
  ASSERT_EQ(test_replaysim(&out, "export '%s' --out %s", test_pg_uri("d_db"), back_db), 0);
  free(out);
  ASSERT_EQ(test_replaysim(&out, "export '%s' --out %s", test_pg_uri("d_db"), back_mcap), 0);
  free(out);
  char h[65], h_db[65], h_mcap[65];
  int n = readings_digest(db, h);
  ASSERT_EQ(readings_digest(back_db, h_db), n);
  ASSERT_EQ(readings_digest(back_mcap, h_mcap), n);
  ASSERT_STREQ(h_db, h);
  ASSERT_STREQ(h_mcap, h);
  /* The exported MCAP is the very file an export of the SQLite drive gives. */
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "cmp %s %s", mcap, back_mcap);
  ASSERT_EQ(test_run(cmd, &out), 0);
  free(out);
  /* Every row of the readings table too (seq aside, which is storage). */
  snprintf(cmd, sizeof cmd,
           "for f in %s %s; do sqlite3 $f 'SELECT sensor, t, hex(payload), hex(meta) FROM readings ORDER BY t, sensor, seq' "
           "| sha256sum; done | uniq | wc -l",
           db, back_db);
  ASSERT_EQ(test_run(cmd, &out), 0);
  ASSERT_EQ(atoi(out), 1);
  free(out);
  /* Truth, sensor metadata and the generator's metadata travel too. */
  rsim_errbuf eb = {0};
  rsim_store *a, *b;
  ASSERT_OK(rsim_store_open(db, &a, &eb));
  ASSERT_OK(rsim_store_open(test_pg_uri("d_db"), &b, &eb));
  rsim_truth *ta, *tb;
  size_t na, nb;
  ASSERT_OK(rsim_store_truth(a, INT64_MIN, INT64_MAX, &ta, &na));
  ASSERT_OK(rsim_store_truth(b, INT64_MIN, INT64_MAX, &tb, &nb));
  ASSERT(na > 100);
  ASSERT_EQ(nb, na);
  ASSERT(!memcmp(ta, tb, na * sizeof *ta));
  free(ta);
  free(tb);
  char *seed;
  ASSERT_OK(rsim_store_get_meta(b, "seed", &seed));
  ASSERT_STREQ(seed, "3");
  free(seed);
  const rsim_sensor_info *sa, *sb;
  size_t ns_a, ns_b;
  ASSERT_OK(rsim_store_sensors(a, &sa, &ns_a));
  ASSERT_OK(rsim_store_sensors(b, &sb, &ns_b));
  ASSERT_EQ(ns_b, ns_a);
  for (size_t i = 0; i < ns_a; i++) {
    ASSERT_STREQ(sb[i].id, sa[i].id);
    ASSERT_EQ(sb[i].kind, sa[i].kind);
    ASSERT(sb[i].rate_hz == sa[i].rate_hz);
    ASSERT_EQ(sb[i].n_meta, sa[i].n_meta);
    for (size_t k = 0; k < sa[i].n_meta; k++) ASSERT_STREQ(sb[i].meta[k].value, sa[i].meta[k].value);
  }
  /* The latest reading at a few times, as SQLite answers. */
  for (rsim_time dt = 0; dt < RSIM_NS_PER_S; dt += 97 * RSIM_NS_PER_MS) {
    rsim_time t0, t1;
    ASSERT_OK(rsim_store_time_range(a, &t0, &t1));
    for (size_t i = 0; i < ns_a; i++) {
      rsim_reading ra = {0}, rb = {0};
      int ea = rsim_store_reading_at(a, sa[i].id, t0 + dt, &ra), eb2 = rsim_store_reading_at(b, sa[i].id, t0 + dt, &rb);
      ASSERT_EQ(eb2, ea);
      ASSERT_EQ(rb.t, ra.t);
      ASSERT_EQ(rb.payload_len, ra.payload_len);
      ASSERT(!ra.payload_len || !memcmp(ra.payload, rb.payload, ra.payload_len));
      rsim_reading_clear(&ra);
      rsim_reading_clear(&rb);
    }
  }
  int64_t ca, cb;
  ASSERT_OK(rsim_store_count(a, "camera_front", &ca));
  ASSERT_OK(rsim_store_count(b, "camera_front", &cb));
  ASSERT_EQ(cb, ca);
  rsim_store_close(a);
  rsim_store_close(b);
}

TEST(pg_store_failed_import_leaves_nothing_and_overwrite_replaces) {
  char db[1024], mcap[1024], *out = NULL;
  load_twins("1s", 4, db, mcap);
  const char *uri = test_pg_uri(NULL);
  int64_t readings = test_pg_query_int("SELECT count(*) FROM replaysim.readings");
  /* A drive that is there is not replaced without --overwrite. */
  ASSERT_EQ(test_replaysim(&out, "import %s --out '%s' --drive d_db", db, uri), 1);
  ASSERT_CONTAINS(out, "drive 'd_db' exists; pass --overwrite");
  free(out);
  /* The server refuses rows half way through (a constraint on time): the
  ** import fails and leaves no drive, no sensor, no reading behind. */
  rsim_time mid = (rsim_time)test_pg_query_int("SELECT (t_first + t_last) / 2 FROM replaysim.drives WHERE name = 'd_db'");
  char sql[256];
  snprintf(sql, sizeof sql, "ALTER TABLE replaysim.readings ADD CONSTRAINT early CHECK (drive <= 2 OR t < %lld)",
           (long long)mid);
  test_pg_exec(sql);
  ASSERT_EQ(test_replaysim(&out, "import %s --out '%s' --drive half", db, uri), 1);
  ASSERT_CONTAINS(out, uri);
  ASSERT_CONTAINS(out, "early");
  free(out);
  ASSERT_EQ(test_pg_query_int("SELECT count(*) FROM replaysim.drives WHERE name = 'half'"), 0);
  ASSERT_EQ(test_pg_query_int("SELECT count(*) FROM replaysim.sensors WHERE drive > 2"), 0);
  ASSERT_EQ(test_pg_query_int("SELECT count(*) FROM replaysim.readings"), readings);
  test_pg_exec("ALTER TABLE replaysim.readings DROP CONSTRAINT early");
  /* --overwrite replaces a drive in one transaction. */
  char h_before[65], h_after[65];
  readings_digest(test_pg_uri("d_db"), h_before);
  const char *other = test_make_drive("other.db", "1s", 5);
  ASSERT_EQ(test_replaysim(&out, "import %s --out '%s' --drive d_db --overwrite", other, uri), 0);
  free(out);
  readings_digest(test_pg_uri("d_db"), h_after);
  ASSERT(strcmp(h_before, h_after) != 0);
  char h_other[65];
  readings_digest(other, h_other);
  ASSERT_STREQ(h_after, h_other);
  ASSERT_EQ(test_pg_query_int("SELECT count(*) FROM replaysim.drives"), 2);
}

TEST(pg_store_errors_name_the_uri_without_a_password) {
  const char *graph = test_source_path("examples/demo/graph.yaml");
  char uri[1024], *out = NULL;
  snprintf(uri, sizeof uri, "%s", test_pg_uri(NULL));
  /* No schema yet. */
  ASSERT_EQ(test_replaysim(&out, "info '%s?drive=x'", uri), 1);
  ASSERT_CONTAINS(out, uri);
  ASSERT_CONTAINS(out, "no replaysim schema (replaysim db init URI creates it)");
  free(out);
  ASSERT_EQ(test_replaysim(&out, "db init '%s'", uri), 0);
  free(out);
  ASSERT_EQ(test_replaysim(&out, "db init '%s'", uri), 0);
  ASSERT_CONTAINS(out, "the replaysim schema is there (version 1)");
  free(out);
  /* No drive named, a drive that is not there. */
  ASSERT_EQ(test_replaysim(&out, "run %s --store '%s'", graph, uri), 1);
  ASSERT_CONTAINS(out, "which drive? add ?drive=NAME to the URI");
  free(out);
  ASSERT_EQ(test_replaysim(&out, "run %s --store '%s?drive=nope'", graph, uri), 1);
  ASSERT_CONTAINS(out, "?drive=nope: the database has no drive 'nope' (replaysim db ls URI lists them)");
  free(out);
  /* A wrong password (from PGPASSWORD), a password in the URI. */
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "PGPASSWORD=wrong %s info '%s?drive=x'", test_replaysim_path(), uri);
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(out, uri);
  ASSERT_CONTAINS(out, "password authentication failed for user \"rsim\"");
  free(out);
  char with_pw[1024];
  snprintf(with_pw, sizeof with_pw, "postgresql://rsim:sekrit@127.0.0.1:%d/x?drive=x", test_pg_port());
  ASSERT_EQ(test_replaysim(&out, "info '%s'", with_pw), 1);
  ASSERT_CONTAINS(out, "must not hold a password: set PGPASSWORD or use ~/.pgpass");
  ASSERT(!strstr(out, "sekrit"));
  free(out);
  /* The password from a password file instead of PGPASSWORD. */
  char pgpass[1100];
  snprintf(pgpass, sizeof pgpass, "%s", test_tmpfile("pgpass"));
  FILE *f = fopen(pgpass, "w");
  fprintf(f, "127.0.0.1:%d:*:rsim:rsim-test-password\n", test_pg_port());
  fclose(f);
  chmod(pgpass, 0600);
  snprintf(cmd, sizeof cmd, "env -u PGPASSWORD PGPASSFILE=%s %s db ls '%s'", pgpass, test_replaysim_path(), uri);
  ASSERT_EQ(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(out, "0 drives");
  free(out);
  /* A server that is not there (a port nothing listens on: the test server's, plus a socket folder without one). */
  char down[1200];
  snprintf(down, sizeof down, "postgresql://rsim@/x?host=%s&port=1&drive=x", test_tmpdir());
  ASSERT_EQ(test_replaysim(&out, "info '%s'", down), 1);
  ASSERT_CONTAINS(out, down);
  ASSERT_CONTAINS(out, "cannot connect");
  free(out);
  /* The schema of another version. */
  test_pg_exec("UPDATE replaysim.meta SET value = '99' WHERE key = 'schema_version'");
  ASSERT_EQ(test_replaysim(&out, "info '%s?drive=x'", uri), 1);
  ASSERT_CONTAINS(out, "the replaysim schema in this database is version 99; this replaysim reads version 1");
  free(out);
  ASSERT_EQ(test_replaysim(&out, "db init '%s'", uri), 1);
  ASSERT_CONTAINS(out, "version 99");
  free(out);
}

/* A drive over midnight (UTC) lands in two day partitions and reads back
** in one order across them. */
TEST(pg_store_drive_over_midnight_spans_two_partitions_in_order) {
  const rsim_time midnight = INT64_C(1700006400000000000); /* 2023-11-15 00:00 UTC */
  char db[1024], *out = NULL, h_db[65], h_pg[65];
  snprintf(db, sizeof db, "%s", test_tmpfile("night.db"));
  ASSERT_EQ(test_replaysim(&out, "generate --quiet --out %s --duration 2s --seed 9 --start %lld", db,
               (long long)(midnight - RSIM_NS_PER_S)),
            0);
  free(out);
  const char *uri = test_pg_uri(NULL);
  ASSERT_EQ(test_replaysim(&out, "db init '%s'", uri), 0);
  free(out);
  ASSERT_EQ(test_replaysim(&out, "import %s --out '%s' --drive night", db, uri), 0);
  free(out);
  ASSERT_EQ(test_pg_query_int("SELECT count(*) FROM pg_inherits WHERE inhparent = 'replaysim.readings'::regclass"), 2);
  ASSERT(test_pg_query_int("SELECT count(*) FROM replaysim.readings_20231114") > 0);
  ASSERT(test_pg_query_int("SELECT count(*) FROM replaysim.readings_20231115") > 0);
  int n = readings_digest(db, h_db);
  ASSERT_EQ(readings_digest(test_pg_uri("night"), h_pg), n);
  ASSERT_STREQ(h_pg, h_db);
}

/* The backend of a run is terminated while it plays at real time: the run
** stops with an error naming the URI and the lost connection. */
TEST(pg_store_run_stops_with_a_clear_error_when_the_connection_is_lost) {
  char db[1024];
  load_twins("6s", 2, db, NULL);
  char uri[1024], cmd[4096];
  snprintf(uri, sizeof uri, "%s", test_pg_uri("d_db"));
  snprintf(cmd, sizeof cmd, "%s run %s --store '%s' --speed 1 --quiet 2>&1; echo \"exit: $?\"",
           test_replaysim_path(), test_source_path("examples/demo/graph.yaml"), uri);
  FILE *p = popen(cmd, "r");
  ASSERT(p != NULL);
  /* Wait until the run is reading through its cursor, then cut it off. */
  const char *q = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'replaysim'"
                  " AND datname = current_database() AND state = 'idle in transaction'";
  for (int i = 0; test_pg_query_int(q) == 0; i++) {
    if (i == 6000) test_fail(__FILE__, __LINE__, "the run never opened a cursor (waited 120 s)");
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  ASSERT_EQ(test_pg_query_int("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                              " WHERE application_name = 'replaysim' AND datname = current_database()"),
            1);
  char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  buf[n] = 0;
  pclose(p);
  ASSERT_CONTAINS(buf, "exit: 1");
  ASSERT_CONTAINS(buf, uri);
  ASSERT_CONTAINS(buf, "connection to the server lost while reading readings");
}
