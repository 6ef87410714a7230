/*
** pg.c -- a real PostgreSQL server for the tests (Debian's postgresql).
**
** One server a run of rsim_tests, started by the first test that asks and
** shared by the others: the runner forks a process a test, so the server
** lives in a folder keyed by the runner's pid and start time (a plain and
** an ASan run side by side get one each), set up under a lock by whichever
** test comes first.  initdb runs as the postgres user when the tests run as
** root (it refuses root).  The server listens on 127.0.0.1 on a free port
** and on a unix socket in that folder, with password authentication.  It
** is started in its own session, so the runner's kill of a finished test's
** process group spares it, and a watcher (tail --pid on the runner) stops
** it and removes the folder when the runner exits, however it exits.
**
** Each test process gets a fresh database of its own; PGPASSWORD is set in
** the test's environment, so replaysim commands it runs connect too.
*/
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "test.h"

#define PG_PASSWORD "rsim-test-password"

static char g_dir[512], g_bindir[512], g_uri_base[512];
static int g_port;
static char g_db[64];

/* The runner's start time (field 22 of /proc/PID/stat): a pid alone may be reused. */
static unsigned long long proc_start(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  unsigned long long v = 0;
  for (int field = 2; p && *p; p++)
    if (*p == ' ' && ++field == 22) {
      v = strtoull(p + 1, NULL, 10);
      break;
    }
  return v;
}

static void find_bindir(void) {
  glob_t g;
  if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) || !g.gl_pathc)
    test_fail(__FILE__, __LINE__, "no PostgreSQL server (initdb) under /usr/lib/postgresql: scripts/test.sh installs "
                                  "Debian's postgresql");
  snprintf(g_bindir, sizeof g_bindir, "%s", g.gl_pathv[g.gl_pathc - 1]);
  *strrchr(g_bindir, '/') = 0;
  globfree(&g);
}

static int free_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || getsockname(s, (struct sockaddr *)&a, &len))
    test_fail(__FILE__, __LINE__, "no free port: %s", strerror(errno));
  close(s);
  return ntohs(a.sin_port);
}

/* "runuser -u postgres -- " when root (initdb refuses root), else "". */
static const char *as_pg(void) { return geteuid() == 0 ? "runuser -u postgres -- " : ""; }

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) test_fail(__FILE__, __LINE__, "cannot write %s: %s", path, strerror(errno));
  fputs(text, f);
  fclose(f);
}

/* Sets the server up in g_dir; returns NULL or a message (static). */
static const char *setup_server(void) {
  static char err[4096];
  char path[1024], cmd[4096], *out = NULL;
  if (mkdir(g_dir, 0755)) return snprintf(err, sizeof err, "mkdir %s: %s", g_dir, strerror(errno)), err;
  if (geteuid() == 0) {
    struct passwd *pw = getpwnam("postgres");
    if (!pw) return "no 'postgres' user (Debian's postgresql package creates it)";
    if (chown(g_dir, pw->pw_uid, pw->pw_gid)) return "cannot chown the server folder";
  }
  snprintf(path, sizeof path, "%s/pw", g_dir);
  write_file(path, PG_PASSWORD "\n");
  if (geteuid() == 0) {
    struct passwd *pw = getpwnam("postgres");
    if (chown(path, pw->pw_uid, pw->pw_gid)) return "cannot chown the password file";
  }
  snprintf(cmd, sizeof cmd,
           "%s%s/initdb -D %s/data -U rsim --pwfile=%s/pw -A scram-sha-256 -E UTF8 --locale=C --no-sync",
           as_pg(), g_bindir, g_dir, g_dir);
  if (test_run(cmd, &out)) return snprintf(err, sizeof err, "initdb failed: %s", out), free(out), err;
  free(out);
  /* A port is free when we look and may be taken when the server binds: try a few. */
  for (int attempt = 0; attempt < 5; attempt++) {
    g_port = free_port();
    snprintf(cmd, sizeof cmd,
             "%ssetsid %s/pg_ctl -D %s/data -l %s/server.log -w -t 120 -o \"-c listen_addresses=127.0.0.1 -p %d"
             " -c unix_socket_directories=%s -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
             " -c max_connections=60 -c shared_buffers=32MB\" start </dev/null",
             as_pg(), g_bindir, g_dir, g_dir, g_port, g_dir);
    int rc = test_run(cmd, &out);
    if (rc == 0) {
      free(out);
      return NULL;
    }
    snprintf(err, sizeof err, "pg_ctl start failed: %s", out);
    free(out);
  }
  return err;
}

/* Stops the server and removes its folder once the runner has exited. */
static void start_watcher(pid_t runner, const char *lock) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "tail --pid=%d -f /dev/null; %s%s/pg_ctl -D %s/data -m immediate -w stop; rm -rf %s %s",
           (int)runner, as_pg(), g_bindir, g_dir, g_dir, lock);
  int ready[2];
  if (pipe(ready)) test_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
  pid_t pid = fork();
  if (pid < 0) test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
  if (pid == 0) {
    setsid(); /* out of the test's process group before the parent goes on */
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    for (int fd = 3; fd < 1024; fd++) close(fd);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  close(ready[1]);
  char c;
  while (read(ready[0], &c, 1) < 0 && errno == EINTR) {
  }
  close(ready[0]);
}

/* Runs sql on database db as the superuser; fails the test on an error. */
static void admin_exec(const char *db, const char *sql) {
  char conninfo[1024];
  snprintf(conninfo, sizeof conninfo, "%s/%s", g_uri_base, db);
  PGconn *c = PQconnectdb(conninfo);
  if (PQstatus(c) != CONNECTION_OK) test_fail(__FILE__, __LINE__, "%s: %s", conninfo, PQerrorMessage(c));
  PGresult *r = PQexec(c, sql);
  ExecStatusType s = PQresultStatus(r);
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
    test_fail(__FILE__, __LINE__, "%s: %s", sql, PQresultErrorMessage(r));
  PQclear(r);
  PQfinish(c);
}

static void ensure_server(void) {
  if (g_port) return;
  find_bindir();
  pid_t runner = getppid();
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char lock[600];
  snprintf(g_dir, sizeof g_dir, "%s/rsim-pg-%d-%llu", tmp, (int)runner, proc_start(runner));
  snprintf(lock, sizeof lock, "%s.lock", g_dir);
  int fd = open(lock, O_RDWR | O_CREAT, 0644);
  if (fd < 0 || flock(fd, LOCK_EX)) test_fail(__FILE__, __LINE__, "lock %s: %s", lock, strerror(errno));
  char ready[600], failed[600], buf[4096] = {0};
  snprintf(ready, sizeof ready, "%s/ready", g_dir);
  snprintf(failed, sizeof failed, "%s/failed", g_dir);
  FILE *f;
  if ((f = fopen(ready, "r"))) {
    if (fscanf(f, "%d", &g_port) != 1) g_port = 0;
    fclose(f);
  } else if ((f = fopen(failed, "r"))) {
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
  } else {
    const char *err = setup_server();
    struct stat sb;
    if (stat(g_dir, &sb) == 0) start_watcher(runner, lock);
    if (err) {
      snprintf(buf, sizeof buf, "%s", err);
      write_file(failed, buf);
    } else {
      char p[32];
      snprintf(p, sizeof p, "%d\n", g_port);
      write_file(ready, p);
    }
  }
  flock(fd, LOCK_UN);
  close(fd);
  if (!g_port) test_fail(__FILE__, __LINE__, "the test PostgreSQL server did not start: %s", buf);
  snprintf(g_uri_base, sizeof g_uri_base, "postgresql://rsim@127.0.0.1:%d", g_port);
  setenv("PGPASSWORD", PG_PASSWORD, 1);
  unsetenv("PGPASSFILE");
}

const char *test_pg_uri(const char *drive) {
  static char uri[1024];
  ensure_server();
  if (!g_db[0]) {
    char sql[128];
    snprintf(g_db, sizeof g_db, "t%d", (int)getpid());
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", g_db);
    admin_exec("postgres", sql);
  }
  snprintf(uri, sizeof uri, "%s/%s%s%s", g_uri_base, g_db, drive ? "?drive=" : "", drive ? drive : "");
  return uri;
}

const char *test_pg_dir(void) {
  ensure_server();
  return g_dir;
}

int test_pg_port(void) {
  ensure_server();
  return g_port;
}

void test_pg_exec(const char *sql) {
  test_pg_uri(NULL);
  admin_exec(g_db, sql);
}

int64_t test_pg_query_int(const char *sql) {
  test_pg_uri(NULL);
  char conninfo[1024];
  snprintf(conninfo, sizeof conninfo, "%s/%s", g_uri_base, g_db);
  PGconn *c = PQconnectdb(conninfo);
  if (PQstatus(c) != CONNECTION_OK) test_fail(__FILE__, __LINE__, "%s: %s", conninfo, PQerrorMessage(c));
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
    test_fail(__FILE__, __LINE__, "%s: %s", sql, PQresultErrorMessage(r));
  int64_t v = PQgetisnull(r, 0, 0) ? 0 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  PQfinish(c);
  return v;
}
