/*
** test_batch.c -- `replaysim batch` end to end: real drives, the demo graph
** of real components, real results databases.  The same job gives the same
** digest with --jobs 1, --jobs 3, two shards merged, `replaysim run` over
** the same range, and under mpirun with 3 ranks; jobs that trap, exceed a
** limit, hang past --job-timeout or whose worker dies are recorded as
** failed (after one retry) while the batch goes on; Ctrl-C keeps the
** results so far and --resume skips them; the report prints them.
*/
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"


/* A text query's first column of each row, joined with ';' (malloc'd). */
static char *query_text(const char *db, const char *sql) {
  sqlite3 *h;
  sqlite3_stmt *st;
  ASSERT_EQ(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
    test_fail(__FILE__, __LINE__, "%s: %s: %s", db, sql, sqlite3_errmsg(h));
  size_t cap = 4096, len = 0;
  char *out = calloc(1, cap);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(st, 0);
    size_t n = strlen(t ? t : "");
    while (len + n + 2 > cap) out = realloc(out, cap *= 2);
    memcpy(out + len, t ? t : "", n);
    len += n;
    out[len++] = ';';
    out[len] = 0;
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

/* Every job's key and digest, and every component's digest, in key order. */
static char *digests(const char *db) {
  char *a = query_text(db, "SELECT key || '=' || status || ':' || digest FROM jobs ORDER BY key");
  char *b = query_text(db, "SELECT job || '/' || name || '=' || digest FROM components ORDER BY job, name");
  char *out = malloc(strlen(a) + strlen(b) + 2);
  sprintf(out, "%s|%s", a, b);
  free(a);
  free(b);
  return out;
}

/* Runs `replaysim batch ARGS` in the test's folder; returns the exit code. */
static int batch(const char *args, char **out) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "cd %s && %s batch %s", test_tmpdir(), test_replaysim_path(), args);
  return test_run(cmd, out);
}

/* Two drives in logs/: 3 s and 2 s, cut into 1 s scenes: 5 jobs. */
static void make_logs(void) {
  mkdir(test_tmpfile("logs"), 0777);
  test_make_drive("logs/a.db", "3s", 1);
  test_make_drive("logs/b.db", "2s", 2);
}

TEST(batch_same_digests_with_jobs_shards_and_run) {
  make_logs();
  char args[2048], *out = NULL;
  const char *common = "--stores 'logs/*.db' --scenes 1s --warmup 500ms --quiet";
  snprintf(args, sizeof args, "%s %s --jobs 1 --out r1.db --no-runs", test_demo_graph(), common);
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  snprintf(args, sizeof args, "%s %s --jobs 3 --out r3.db", test_demo_graph(), common);
  ASSERT_EQ(batch(args, &out), 0);
  ASSERT_CONTAINS(out, "5 jobs ok, 0 failed");
  free(out);
  for (int s = 0; s < 2; s++) {
    snprintf(args, sizeof args, "%s %s --shard %d/2 --out s%d.db --no-runs", test_demo_graph(), common, s, s);
    ASSERT_EQ(batch(args, &out), 0);
    free(out);
  }
  ASSERT_EQ(test_query_int(test_tmpfile("s0.db"), "SELECT count(*) FROM jobs"), 3);
  ASSERT_EQ(test_query_int(test_tmpfile("s1.db"), "SELECT count(*) FROM jobs"), 2);
  ASSERT_EQ(batch("--merge --out m.db s0.db s1.db", &out), 0);
  free(out);

  char *d1 = digests(test_tmpfile("r1.db")), *d3 = digests(test_tmpfile("r3.db")),
       *dm = digests(test_tmpfile("m.db"));
  ASSERT_EQ(test_query_int(test_tmpfile("r1.db"), "SELECT count(*) FROM jobs WHERE status='ok' AND length(digest)=64"), 5);
  ASSERT_EQ(test_query_int(test_tmpfile("r1.db"), "SELECT count(DISTINCT digest) FROM jobs"), 5);
  ASSERT_EQ(test_query_int(test_tmpfile("r1.db"), "SELECT count(*) FROM components"), 5 * 4); /* the demo graph: 4 components */
  ASSERT_STREQ(d3, d1);
  ASSERT_STREQ(dm, d1);

  /* A scene is the run of its window with the warm-up before it. */
  char r1[1024];
  snprintf(r1, sizeof r1, "%s", test_tmpfile("r1.db"));
  int64_t from = test_query_int(r1, "SELECT t_from - warmup FROM jobs WHERE name='a.db#1'");
  int64_t to = test_query_int(r1, "SELECT t_to FROM jobs WHERE name='a.db#1'");
  ASSERT_EQ(from, test_query_int(r1, "SELECT min(t_from) FROM jobs WHERE name='a.db#0'") + 500000000);
  char extra[256], digest[65];
  snprintf(extra, sizeof extra, "--speed max --from %lld --to %lld", (long long)from, (long long)to);
  ASSERT_EQ(test_replay(test_demo_graph(), test_tmpfile("logs/a.db"), extra, &out, digest), 0);
  free(out);
  char *want = query_text(r1, "SELECT digest FROM jobs WHERE name='a.db#1'");
  ASSERT_EQ(strlen(want), 65);
  want[64] = 0;
  ASSERT_STREQ(digest, want);
  free(want);

  /* Each job of r3 recorded its run, whose digest is the job's. */
  snprintf(r1, sizeof r1, "%s", test_tmpfile("r3.db"));
  char *runs = query_text(r1, "SELECT out FROM jobs WHERE name='b.db#1'");
  runs[strlen(runs) - 1] = 0;
  char *rd = query_text(runs, "SELECT value FROM run WHERE key='digest'");
  char *jd = query_text(r1, "SELECT digest FROM jobs WHERE name='b.db#1'");
  ASSERT_STREQ(rd, jd);
  free(runs);
  free(rd);
  free(jd);

  /* The report: one row a job and the totals; as JSON too. */
  ASSERT_EQ(batch("report r1.db", &out), 0);
  ASSERT_CONTAINS(out, "a.db#2");
  ASSERT_CONTAINS(out, "total: 5 jobs, 5 ok, 0 failed");
  free(out);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "%s batch report %s --json 2>/dev/null", test_replaysim_path(), test_tmpfile("r1.db"));
  ASSERT_EQ(test_run(cmd, &out), 0);
  json_error_t err;
  json_t *j = json_loads(out, 0, &err);
  ASSERT(j);
  ASSERT_EQ(json_integer_value(json_object_get(json_object_get(j, "totals"), "ok")), 5);
  json_t *jobs = json_object_get(j, "jobs");
  ASSERT_EQ(json_array_size(jobs), 5);
  ASSERT_EQ(json_array_size(json_object_get(json_array_get(jobs, 0), "components")), 4);
  json_decref(j);
  free(out);
  free(d1);
  free(d3);
  free(dm);
}

TEST(batch_under_mpirun_gives_the_same_digests) {
#ifndef RSIM_HAVE_MPI
  test_skip("replaysim was built without MPI");
#else
  if (test_run("command -v mpirun >/dev/null", NULL) != 0) test_skip("mpirun is not installed");
  make_logs();
  char args[2048], *out = NULL;
  const char *common = "--stores 'logs/*.db' --scenes 1s --warmup 500ms --quiet";
  snprintf(args, sizeof args, "%s %s --jobs 1 --out r1.db --no-runs", test_demo_graph(), common);
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  /* Open MPI as root in a container: docs/fleet.md, "MPI".  Under the
  ** sanitizers, Open MPI's own allocations (in plugins it unloads, so no
  ** suppression can name them) would fail the ranks at exit: leak checks
  ** are off for them; the batch's own code is leak-checked by the other
  ** tests, which run the same workers without MPI. */
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "cd %s && export ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" && "
           "OMPI_MCA_btl_vader_single_copy_mechanism=none mpirun --allow-run-as-root --oversubscribe "
           "-n 3 %s batch %s %s --out mpi.db --no-runs",
           test_tmpdir(), test_replaysim_path(), test_demo_graph(), common);
  int rc = test_run(cmd, &out);
  if (rc != 0) test_fail(__FILE__, __LINE__, "mpirun failed (%d): %s", rc, out);
  free(out);
  char *d1 = digests(test_tmpfile("r1.db")), *dm = digests(test_tmpfile("mpi.db"));
  ASSERT_STREQ(dm, d1);
  /* Rank 0 deals; ranks 1 and 2 ran every job. */
  ASSERT_EQ(test_query_int(test_tmpfile("mpi.db"),
                           "SELECT count(*) FROM jobs WHERE worker LIKE 'rank 1 %' OR worker LIKE 'rank 2 %'"),
            5);
  free(d1);
  free(dm);
#endif
}

/* A graph of one misbehaving detector (components/testing). */
static const char *bad_graph(const char *name, const char *wasm, const char *config, const char *limits) {
  char text[2048];
  snprintf(text, sizeof text,
           "components:\n"
           "  bad:\n    wasm: %s\n    trigger: camera_front\n"
           "    inputs: { reading: sensor:camera_front }\n"
           "    config: %s\n%s",
           test_component_path(wasm), config, limits);
  return test_write_text(name, text);
}

TEST(batch_failed_jobs_are_recorded_retried_and_the_batch_goes_on) {
  test_make_drive("d.db", "1s", 1);
  bad_graph("trap.yaml", "trap_nth", "{ trap_at: \"3\" }", "");
  bad_graph("fuel.yaml", "misbehave", "{ fault: loop, at: \"2\" }", "    limits: { fuel: 10M }\n");
  bad_graph("hang.yaml", "misbehave", "{ fault: loop, at: \"2\" }", "");
  char text[2048];
  snprintf(text, sizeof text,
           "graph: %s\n"
           "jobs:\n"
           "  - { name: good, store: d.db }\n"
           "  - { name: trap, graph: trap.yaml, store: d.db }\n"
           "  - { name: fuel, graph: fuel.yaml, store: d.db }\n"
           "  - { name: hang, graph: hang.yaml, store: d.db }\n"
           "  - { name: crash, store: d.db, to: 500ms }\n",
           test_demo_graph());
  test_write_text("jobs.yaml", text);
  char *out = NULL;
  /* The worker of the job named "crash" kills itself (a test hook in
  ** src/batch/pool.c).  The timeout is for "hang" but holds for every job:
  ** generous, so that the good ones end within it under ASan on a busy
  ** machine (3 s did not, once); --no-eval keeps them as short as they
  ** were before jobs were scored. */
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cd %s && RSIM_BATCH_TEST_CRASH=crash %s batch --jobs-file jobs.yaml --jobs 2 --job-timeout 20s "
           "--out res2.db --no-runs --no-eval",
           test_tmpdir(), test_replaysim_path());
  ASSERT_EQ(test_run(cmd, &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "batch: 4 jobs failed");
  free(out);
  char db[1024];
  snprintf(db, sizeof db, "%s", test_tmpfile("res2.db"));
  ASSERT_EQ(test_query_int(db, "SELECT count(*) FROM jobs"), 5);
  ASSERT_EQ(test_query_int(db, "SELECT count(*) FROM jobs WHERE name='good' AND status='ok' AND attempts=1"), 1);
  ASSERT_EQ(test_query_int(db, "SELECT count(*) FROM jobs WHERE status='failed' AND attempts=2"), 4);
  char *r = query_text(db, "SELECT reason FROM jobs WHERE name='trap'");
  ASSERT_CONTAINS(r, "'bad'");
  ASSERT_CONTAINS(r, "trap");
  free(r);
  r = query_text(db, "SELECT reason FROM jobs WHERE name='fuel'");
  ASSERT_CONTAINS(r, "fuel limit of 10000000");
  free(r);
  r = query_text(db, "SELECT reason FROM jobs WHERE name='hang'");
  ASSERT_CONTAINS(r, "timed out after 20.0s");
  free(r);
  r = query_text(db, "SELECT reason FROM jobs WHERE name='crash'");
  ASSERT_CONTAINS(r, "worker died: signal 9");
  free(r);
  /* A trap stops the run: its digest is partial, its statistics kept. */
  ASSERT_EQ(test_query_int(db, "SELECT partial FROM jobs WHERE name='trap'"), 1);
  ASSERT_EQ(test_query_int(db, "SELECT errors FROM components WHERE job LIKE '%trap.yaml%'"), 1);
  ASSERT_EQ(test_query_int(db, "SELECT faults FROM jobs WHERE name='fuel'"), 1);
  /* The good job's digest is that of `replaysim run`. */
  char digest[65];
  ASSERT_EQ(test_replay(test_demo_graph(), test_tmpfile("d.db"), "--speed max", &out, digest), 0);
  free(out);
  r = query_text(db, "SELECT digest FROM jobs WHERE name='good'");
  r[64] = 0;
  ASSERT_STREQ(r, digest);
  free(r);
}

/* Waits (polling, up to 120 s) until sql on db gives want. */
static void wait_for(const char *db, const char *sql, int64_t want) {
  for (int i = 0; i < 1200; i++) {
    if (access(db, F_OK) == 0) {
      sqlite3 *h;
      sqlite3_stmt *st;
      int64_t v = -1;
      if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
          sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
      }
      sqlite3_close(h);
      if (v == want) return;
    }
    usleep(100 * 1000);
  }
  test_fail(__FILE__, __LINE__, "%s: %s never gave %lld", db, sql, (long long)want);
}

TEST(batch_ctrl_c_keeps_results_and_resume_skips_them) {
  test_make_drive("d.db", "1s", 1);
  test_make_drive("e.db", "1s", 2);
  bad_graph("hang.yaml", "misbehave", "{ fault: loop, at: \"2\" }", "");
  char text[2048];
  snprintf(text, sizeof text, "graph: %s\njobs:\n  - { store: d.db }\n  - { graph: hang.yaml, store: d.db }\n",
           test_demo_graph());
  test_write_text("jobs1.yaml", text);
  snprintf(text, sizeof text, "graph: %s\njobs:\n  - { store: d.db }\n  - { store: e.db }\n", test_demo_graph());
  test_write_text("jobs2.yaml", text);
  char cmd[2048], *out = NULL;
  snprintf(cmd, sizeof cmd,
           "cd %s && ({ %s batch --jobs-file jobs1.yaml --jobs 2 --out res.db --no-runs > log 2>&1; echo $? > rc; } "
           "</dev/null >/dev/null 2>&1 & echo $! > pid)",
           test_tmpdir(), test_replaysim_path());
  ASSERT_EQ(test_run(cmd, NULL), 0);
  /* The good job is done while the other hangs: then Ctrl-C. */
  wait_for(test_tmpfile("res.db"), "SELECT count(*) FROM jobs WHERE status='ok'", 1);
  snprintf(cmd, sizeof cmd, "cd %s && pkill -INT -P $(cat pid) -x replaysim", test_tmpdir());
  ASSERT_EQ(test_run(cmd, NULL), 0);
  for (int i = 0; i < 1200 && access(test_tmpfile("rc"), F_OK); i++) usleep(100 * 1000);
  snprintf(cmd, sizeof cmd, "cat %s/rc", test_tmpdir());
  ASSERT_EQ(test_run(cmd, &out), 0);
  ASSERT_EQ(atoi(out), 1);
  free(out);
  snprintf(cmd, sizeof cmd, "cat %s/log", test_tmpdir());
  ASSERT_EQ(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(test_last_line(out), "batch: stopped with 1 jobs done, 0 failed, 1 not run");
  free(out);
  ASSERT_EQ(test_query_int(test_tmpfile("res.db"), "SELECT count(*) FROM jobs"), 1);
  char *before = query_text(test_tmpfile("res.db"), "SELECT worker || digest FROM jobs");

  /* Without --resume an existing results file is refused. */
  ASSERT_EQ(batch("--jobs-file jobs2.yaml --out res.db --no-runs", &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "res.db exists (--resume res.db");
  free(out);
  ASSERT_EQ(batch("--jobs-file jobs2.yaml --resume res.db --no-runs", &out), 0);
  ASSERT_CONTAINS(out, "1/1 done, 0 failed, 0 running (1 done before, skipped)");
  free(out);
  ASSERT_EQ(test_query_int(test_tmpfile("res.db"), "SELECT count(*) FROM jobs WHERE status='ok'"), 2);
  char *after = query_text(test_tmpfile("res.db"), "SELECT worker || digest FROM jobs WHERE store LIKE '%d.db'");
  ASSERT_STREQ(after, before);
  free(before);
  free(after);
}

TEST(batch_bad_input_is_named) {
  char *out = NULL;
  ASSERT_EQ(batch("graph.yaml --stores 'nothing/*.mcap' --out r.db", &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "--stores 'nothing/*.mcap' matches no file");
  free(out);
  test_write_text("jobs.yaml", "graph: g.yaml\njobs:\n  - { store: d.db, form: 1s }\n");
  ASSERT_EQ(batch("--jobs-file jobs.yaml --out r.db", &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "job 1: unknown key 'form'");
  free(out);
  ASSERT_EQ(batch("--jobs-file jobs.yaml --shard 2/2", &out), 2);
  ASSERT_CONTAINS(out, "--shard: '2/2' is not I/N");
  free(out);
  ASSERT_EQ(batch("report missing.db", &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "cannot read results database missing.db");
  free(out);
  /* A SQLite file that is not a results database, and one of another
  ** schema version, are named as such, and neither is changed. */
  test_make_drive("drive.db", "1s", 1);
  ASSERT_EQ(batch("report drive.db", &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "drive.db is not a results database");
  free(out);
  ASSERT_EQ(test_run("sqlite3 /dev/null 'SELECT 1' >/dev/null", NULL), 0);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cd %s && sqlite3 old.db \"CREATE TABLE batch(key TEXT PRIMARY KEY, value TEXT);"
           " INSERT INTO batch VALUES('schema', '1');\"", test_tmpdir());
  ASSERT_EQ(test_run(cmd, NULL), 0);
  ASSERT_EQ(batch("report old.db", &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "old.db has schema version 1; this replaysim reads version 2");
  free(out);
  ASSERT_EQ(batch("--merge --out merged.db old.db", &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "old.db has schema version 1");
  free(out);
  ASSERT_EQ(test_query_int(test_tmpfile("old.db"), "SELECT count(*) FROM batch"), 1);
}

TEST(batch_over_postgres_drives_gives_the_digests_of_their_files) {
  make_logs();
  char uri[1024], cmd[4096], *out = NULL;
  snprintf(uri, sizeof uri, "%s", test_pg_uri(NULL));
  snprintf(cmd, sizeof cmd, "cd %s && { %s db init '%s' && %s import logs/a.db --out '%s' --drive a && "
           "%s import logs/b.db --out '%s' --drive b; }",
           test_tmpdir(), test_replaysim_path(), uri, test_replaysim_path(), uri, test_replaysim_path(), uri);
  if (test_run(cmd, &out)) test_fail(__FILE__, __LINE__, "loading the drives: %s", out);
  free(out);
  char args[4096];
  snprintf(args, sizeof args, "%s --stores 'logs/*.db' --scenes 1s --jobs 2 --out files.db --no-runs --quiet",
           test_demo_graph());
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  snprintf(args, sizeof args,
           "%s --stores '%s?drive=a' --stores '%s?drive=b' --scenes 1s --jobs 2 --out pg.db --no-runs --quiet",
           test_demo_graph(), uri, uri);
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  /* Named after their drives, the jobs of both batches line up one to one. */
  const char *sql = "SELECT name || '=' || digest FROM jobs ORDER BY seq";
  char *f = query_text(test_tmpfile("files.db"), sql), *p = query_text(test_tmpfile("pg.db"), sql);
  ASSERT_CONTAINS(f, "a.db#2=");
  ASSERT_EQ(test_query_int(test_tmpfile("pg.db"), "SELECT count(*) FROM jobs WHERE status='ok'"), 5);
  /* a.db#0 ... in one, a#0 ... in the other */
  for (char *s = f; (s = strstr(s, ".db#")); memmove(s, s + 3, strlen(s + 3) + 1)) {
  }
  ASSERT_STREQ(p, f);
  free(f);
  free(p);
}

/* The results of a batch in PostgreSQL (--out URI), where every node of a
** cluster can write: two shards writing at once give the rows that one
** SQLite file holds, and results move both ways with --merge. */
TEST(batch_results_in_postgres_equal_those_of_a_file) {
  make_logs();
  char uri[1024], args[4096], *out = NULL;
  snprintf(uri, sizeof uri, "%s", test_pg_uri(NULL));
  snprintf(args, sizeof args, "%s --stores 'logs/*.db' --scenes 1s --jobs 2 --out files.db --no-runs --quiet",
           test_demo_graph());
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  char cmd[8192];
  snprintf(cmd, sizeof cmd,
           "cd %s && { %s batch %s --stores 'logs/*.db' --scenes 1s --shard 0/2 --out '%s' --no-runs --quiet & "
           "p=$!; %s batch %s --stores 'logs/*.db' --scenes 1s --shard 1/2 --out '%s' --no-runs --quiet; b=$?; "
           "wait $p; a=$?; exit $((a | b)); }",
           test_tmpdir(), test_replaysim_path(), test_demo_graph(), uri, test_replaysim_path(), test_demo_graph(), uri);
  if (test_run(cmd, &out)) test_fail(__FILE__, __LINE__, "two shards into %s: %s", uri, out);
  free(out);
  ASSERT_EQ(test_pg_query_int("SELECT count(*) FROM replaysim_batch.jobs WHERE status='ok'"), 5);

  /* From PostgreSQL into a file: the same jobs, digests and components. */
  snprintf(args, sizeof args, "--merge --out frompg.db '%s'", uri);
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  char *f = digests(test_tmpfile("files.db")), *p = digests(test_tmpfile("frompg.db"));
  ASSERT_STREQ(p, f);
  free(p);
  /* Its walls and components come back bit for bit: a report of either
  ** is the same text. */
  char *rf = NULL, *rp = NULL;
  ASSERT_EQ(batch("report frompg.db --json", &rf), 0);
  snprintf(args, sizeof args, "report '%s' --json", uri);
  ASSERT_EQ(batch(args, &rp), 0);
  ASSERT_STREQ(rp, rf);
  free(rf);
  free(rp);

  /* A second batch into it is refused unless it resumes; resuming skips
  ** every job already done. */
  snprintf(args, sizeof args, "%s --stores 'logs/*.db' --scenes 1s --out '%s' --no-runs --quiet", test_demo_graph(), uri);
  ASSERT_EQ(batch(args, &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "holds the results of 5 jobs (--resume goes on with them)");
  free(out);
  snprintf(args, sizeof args, "%s --stores 'logs/*.db' --scenes 1s --resume '%s' --no-runs", test_demo_graph(), uri);
  ASSERT_EQ(batch(args, &out), 0);
  ASSERT_CONTAINS(out, "5 done before, skipped");
  free(out);

  /* From files into another PostgreSQL database: shard files joined. */
  const char *db = strrchr(uri, '/') + 1;
  char sql[256], uri2[1100];
  snprintf(sql, sizeof sql, "CREATE DATABASE %sm", db);
  test_pg_exec(sql);
  snprintf(uri2, sizeof uri2, "%sm", uri);
  snprintf(args, sizeof args, "--merge --out '%s' files.db", uri2);
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  snprintf(args, sizeof args, "--merge --out back.db '%s'", uri2);
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  p = digests(test_tmpfile("back.db"));
  ASSERT_STREQ(p, f);
  free(p);
  free(f);

  /* A URI with drive= is a drive, not results; a missing database is named
  ** with the URI (which holds no password). */
  snprintf(args, sizeof args, "report '%s?drive=a'", uri);
  ASSERT_EQ(batch(args, &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "drive= names a drive");
  free(out);
  snprintf(args, sizeof args, "report '%sx'", uri);
  ASSERT_EQ(batch(args, &out), 1);
  ASSERT_CONTAINS(test_last_line(out), "cannot open results database postgresql://");
  free(out);
}

/* ---- a real one-node Slurm (slurmctld, slurmd, munge), started here ----
** The daemons run in the foreground, in the background of a shell: they
** stay in the test's process group, which the runner kills when the test
** ends, however it ends. */
static char g_slurm[1024];

static void remove_slurm(void) {
  char cmd[1100];
  snprintf(cmd, sizeof cmd, "rm -rf %s", g_slurm);
  test_run(cmd, NULL);
}

static int free_port(void) {
  char *out = NULL;
  test_run("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])'",
           &out);
  int p = atoi(out ? out : "0");
  free(out);
  return p;
}

TEST(batch_under_slurm_srun_and_a_job_array_give_the_same_digests) {
#ifndef RSIM_HAVE_MPI
  test_skip("replaysim was built without MPI");
#else
  if (getuid() != 0) test_skip("the test's Slurm runs as root");
  if (test_run("command -v slurmctld && command -v slurmd && command -v munged && command -v sbatch "
               "&& command -v mpirun",
               NULL) != 0)
    test_skip("slurm-wlm, munge or openmpi-bin is not installed (scripts/test.sh installs them)");
  make_logs();
  /* A short folder: slurmstepd's unix sockets live in it (108 bytes at most). */
  snprintf(g_slurm, sizeof g_slurm, "/tmp/rsim-slurm-XXXXXX");
  ASSERT(mkdtemp(g_slurm));
  atexit(remove_slurm);
  char cmd[8192], *out = NULL;
  int p1 = free_port(), p2 = free_port();
  ASSERT(p1 > 0 && p2 > 0 && p1 != p2);
  snprintf(cmd, sizeof cmd,
           "set -e; S=%s; mkdir -p $S/state $S/spool $S/munge; chmod 700 $S/munge; "
           "dd if=/dev/urandom of=$S/munge/key bs=1024 count=1 2>/dev/null; chmod 400 $S/munge/key; "
           "H=$(hostname -s); cat > $S/slurm.conf <<EOF\n"
           "ClusterName=rsimtest\nSlurmctldHost=$H\nSlurmUser=root\nSlurmctldPort=%d\nSlurmdPort=%d\n"
           "AuthType=auth/munge\nAuthInfo=socket=$S/munge/sock\nCredType=cred/munge\n"
           "StateSaveLocation=$S/state\nSlurmdSpoolDir=$S/spool\n"
           "SlurmctldPidFile=$S/slurmctld.pid\nSlurmdPidFile=$S/slurmd.pid\n"
           "SlurmctldLogFile=$S/slurmctld.log\nSlurmdLogFile=$S/slurmd.log\n"
           "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nJobAcctGatherType=jobacct_gather/none\n"
           "MpiDefault=none\nSwitchType=switch/none\nSchedulerType=sched/builtin\n"
           "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\nReturnToService=2\n"
           "NodeName=$H CPUs=2 Sockets=1 CoresPerSocket=2 ThreadsPerCore=1 State=UNKNOWN\n"
           "PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP\n"
           "EOF\n"
           "munged -F --key-file=$S/munge/key --socket=$S/munge/sock --pid-file=$S/munge/pid "
           "--log-file=$S/munge/log --seed-file=$S/munge/seed --force </dev/null >$S/munge/out 2>&1 & "
           "for i in $(seq 300); do [ -S $S/munge/sock ] && break; sleep 0.1; done; [ -S $S/munge/sock ]",
           g_slurm, p1, p2);
  if (test_run(cmd, &out)) test_fail(__FILE__, __LINE__, "munged: %s", out);
  free(out);
  char env[1200];
  snprintf(env, sizeof env, "SLURM_CONF=%s/slurm.conf", g_slurm);
  snprintf(cmd, sizeof cmd,
           "export %s; (slurmctld -D </dev/null >%s/ctld.out 2>&1 &); (slurmd -D </dev/null >%s/d.out 2>&1 &)", env,
           g_slurm, g_slurm);
  if (test_run(cmd, &out)) test_fail(__FILE__, __LINE__, "slurmctld/slurmd: %s", out);
  free(out);
  /* Up when the node is idle (up to 60 s). */
  bool idle = false;
  for (int i = 0; i < 600 && !idle; i++) {
    snprintf(cmd, sizeof cmd, "export %s; sinfo -h -o %%t 2>/dev/null", env);
    test_run(cmd, &out);
    idle = out && !strncmp(out, "idle", 4);
    free(out);
    out = NULL;
    if (!idle) usleep(100 * 1000);
  }
  if (!idle) {
    snprintf(cmd, sizeof cmd, "tail -5 %s/slurmctld.log %s/slurmd.log", g_slurm, g_slurm);
    test_run(cmd, &out);
    test_fail(__FILE__, __LINE__, "the Slurm node never became idle: %s", out);
  }
  char args[2048];
  snprintf(args, sizeof args, "%s --stores 'logs/*.db' --scenes 1s --warmup 2s --out r1.db --no-runs --quiet",
           test_demo_graph());
  ASSERT_EQ(batch(args, &out), 0);
  free(out);
  /* examples/fleet/batch.sbatch as it is: srun of the MPI batch, then the
  ** --shard job array merged.  sbatch --wait returns the job's exit code. */
  const char *vars = "GRAPH=%s,STORES=logs/*.db,SCENES=1s";
  char exp[1400];
  snprintf(exp, sizeof exp, vars, test_demo_graph());
  /* the replaysim of this build tree */
  char bin[1024];
  snprintf(bin, sizeof bin, "%s", test_replaysim_path());
  *strrchr(bin, '/') = 0;
  char cmd2[8192];
  snprintf(cmd2, sizeof cmd2,
           "cd %s && export %s PATH=%s:$PATH OMPI_MCA_btl_vader_single_copy_mechanism=none "
           "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" && "
           "sbatch --wait -n 3 --overcommit -D . --export=ALL,%s,OUT=srun %s && "
           "sbatch --wait --array=0-1 -n 1 -D . --export=ALL,%s,OUT=array,MODE=array %s && "
           "replaysim batch --merge --out array.db array-0.db array-1.db",
           test_tmpdir(), env, bin, exp, test_source_path("examples/fleet/batch.sbatch"), exp,
           test_source_path("examples/fleet/batch.sbatch"));
  if (test_run(cmd2, &out) != 0) {
    char *log = NULL;
    snprintf(cmd, sizeof cmd, "cat %s/replaysim-batch-*.log", test_tmpdir());
    test_run(cmd, &log);
    test_fail(__FILE__, __LINE__, "sbatch: %s\n%s", out, log ? log : "");
  }
  free(out);
  char *d1 = digests(test_tmpfile("r1.db")), *ds = digests(test_tmpfile("srun.db")),
       *da = digests(test_tmpfile("array.db"));
  ASSERT_STREQ(ds, d1);
  ASSERT_STREQ(da, d1);
  ASSERT_EQ(test_query_int(test_tmpfile("srun.db"), "SELECT count(*) FROM jobs WHERE worker LIKE 'rank %'"), 5);
  free(d1);
  free(ds);
  free(da);
  remove_slurm(); /* a passing test ends with _exit: no atexit */
#endif
}
