/*
** cmd_serve.c -- `replaysim serve GRAPH --store drive.db [--port 8080]`:
** the run behind the web UI and the JSON control API (docs/server.md).
** It starts paused; the UI or the API plays it.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rsim/engine.h"
#include "rsim/player.h"
#include "rsim/server.h"

static rsim_server *g_server; /* for the signal handler */

static void on_signal(int sig) {
  (void)sig;
  if (g_server) rsim_server_stop(g_server);
}

/* The player's errors go to the page and, so that none is lost, to stderr. */
static void on_player_event(void *server, const rsim_player_event *ev) {
  if (ev->kind == RSIM_PLAYER_EV_ERROR && ev->message) fprintf(stderr, "serve: %s\n", ev->message);
  rsim_server_player_event(server, ev);
}

/* Log lines go to stderr as always and, with --foxglove, to /rsim/log. */
static void serve_log(void *ud, rsim_time t, const char *component, int level, const char *msg) {
  cli_engine_log(ud, t, component, level, msg);
  rsim_server_log(g_server, t, component, level, msg);
}

static int usage(void) {
  fprintf(stderr, "usage: replaysim serve GRAPH --store drive.db|drive.mcap [--port 8080] [--bind ADDR]\n"
                  "                       [--token T] [--control-limit N/D] [--speed X|max] [--from T] [--to T]\n"
                  "                       [--web DIR] [--gate gates.yaml] [--require-hashes] [--threads N]\n"
                  "                       [--foxglove [--foxglove-port 8765]]\n"
                  "                       [sensor filters, --topics ...]\n"
                  "  binds to 127.0.0.1; with --bind elsewhere, control needs the token (printed), as it\n"
                  "  does wherever --token is given; a client may send N controls per D (default 20/1s);\n"
                  "  --gate: markers under the timeline where the scores so far break a gate (eval --gate's file)\n"
                  "  --foxglove: also the Foxglove WebSocket protocol, for Foxglove or Lichtblick (docs/foxglove.md)\n");
  return CLI_USAGE;
}

/* --control-limit N/D: N control requests per duration D, per client. */
static int control_limit(const char *v, rsim_server_opts *so, rsim_errbuf *eb) {
  const char *slash = strchr(v, '/');
  char n[32];
  int64_t burst;
  rsim_errbuf why = {0};
  if (!slash || (size_t)(slash - v) >= sizeof n)
    return rsim_errbuf_set(eb, RSIM_EINVAL, "'%.40s' is not N/DURATION (e.g. 20/1s: 20 control requests a second)", v);
  snprintf(n, sizeof n, "%.*s", (int)(slash - v), v);
  if (rsim_parse_int(n, 1, 1000000, &burst, &why) || rsim_parse_duration_arg(slash + 1, true, &so->control_period_ns, &why))
    return rsim_errbuf_set(eb, RSIM_EINVAL, "in '%.40s': %s", v, why.msg);
  so->control_burst = (int)burst;
  return RSIM_OK;
}

/* The web UI's folder: --web, else web/ of the source tree this binary was built from. */
static const char *web_root(const char *given) {
  if (given) return given;
#ifdef RSIM_WEB_DIR
  FILE *f = fopen(RSIM_WEB_DIR "/index.html", "rb");
  if (f) {
    fclose(f);
    return RSIM_WEB_DIR;
  }
#endif
  return NULL;
}

int cli_serve(int argc, char **argv) {
  const char *graph = NULL, *store = NULL, *v, *web = NULL, *from = NULL, *to = NULL;
  rsim_server_opts so = {.port = 8080, .foxglove_port = 8765};
  double speed = 1;
  cli_filters filters = {0};
  bool require_hashes = false;
  int threads = 0;
  rsim_errbuf eb = {0};
  int bad = 0;
  for (int i = 1; i < argc; i++) {
    if (cli_opt(argc, argv, &i, "--store", &v)) store = v;
    else if (cli_opt(argc, argv, &i, "--port", &v)) {
      if (rsim_parse_port(v, &so.port, &eb)) return cli_bad_value("serve", "--port", &eb);
    }
    else if (cli_opt(argc, argv, &i, "--bind", &v)) so.bind = v;
    else if (cli_opt(argc, argv, &i, "--token", &v)) {
      if (!*v) {
        rsim_errbuf_set(&eb, RSIM_EINVAL, "an empty token would let anyone in");
        return cli_bad_value("serve", "--token", &eb);
      }
      so.token = v;
    } else if (cli_opt(argc, argv, &i, "--control-limit", &v)) {
      if (control_limit(v, &so, &eb)) return cli_bad_value("serve", "--control-limit", &eb);
    }
    else if (cli_opt(argc, argv, &i, "--web", &v)) web = v;
    else if (cli_opt(argc, argv, &i, "--gate", &v)) so.gates = v;
    else if (!strcmp(argv[i], "--foxglove")) so.foxglove = true;
    else if (cli_opt(argc, argv, &i, "--foxglove-port", &v)) {
      if (rsim_parse_port(v, &so.foxglove_port, &eb)) return cli_bad_value("serve", "--foxglove-port", &eb);
      so.foxglove = true;
    }
    else if (cli_time_opt(argc, argv, &i, "serve", &from, &to, &bad)) {
      if (bad) return bad;
    }
    else if (cli_opt(argc, argv, &i, "--speed", &v)) {
      if (rsim_parse_speed(v, &speed, &eb)) return cli_bad_value("serve", "--speed", &eb);
    }
    else if (!strcmp(argv[i], "--require-hashes")) require_hashes = true;
    else if (cli_threads_opt(argc, argv, &i, "serve", &threads, &bad)) {
      if (bad) return bad;
    }
    else if (cli_filter_opt(argc, argv, &i, &filters)) continue;
    else if (argv[i][0] != '-' && !graph) graph = argv[i];
    else return usage();
  }
  if (!graph || !store) return usage();
  so.web_root = web_root(web);
  rsim_graph *g = NULL;
  rsim_store *base = NULL, *st = NULL;
  rsim_engine *e = NULL;
  rsim_player *p = NULL;
  rsim_server *s = NULL;
  int exit_code = CLI_FAIL;
  rsim_time log_from = 0; /* log lines count seconds from the start of the range */
  if (rsim_graph_load(graph, &g, &eb)) goto out;
  rsim_graph_require_hashes(g, require_hashes);
  if (cli_store_open(store, &filters, &base, &st, &eb)) goto out;
  /* Seeks from the UI: a checkpoint every 250 ms keeps them near 20 ms (docs/benchmarks.md). */
  rsim_engine_opts eo = {.store = st, .checkpoint_every_ns = 250000000, .log_level = RSIM_LOG_WARN,
                         .log = serve_log, .log_ud = &log_from, .threads = threads};
  if (cli_range("serve", st, from, to, &eo.from, &eo.to, &eb)) goto out;
  if (!(log_from = eo.from)) rsim_store_time_range(st, &log_from, &(rsim_time){0});
  if (rsim_engine_new(g, &eo, &e, &eb)) goto out;
  rsim_engine_range(e, &log_from, &(rsim_time){0});
  rsim_player_opts po = {.speed = speed, .start_paused = true};
  if (rsim_player_new(e, &po, &p, &eb)) goto out;
  so.store = st;
  if (rsim_server_new(p, e, g, &so, &s, &eb)) goto out;
  rsim_player_set_listener(p, on_player_event, s); /* events go out on the stream */
  g_server = s;
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  const char *host = so.bind ? so.bind : "127.0.0.1";
  printf("serving %s on http://%s:%d/ (%s)\n", graph, host, rsim_server_port(s),
         so.web_root ? "web UI and API" : "API only: no web/ folder found");
  /* The page takes the token from the URL's fragment, which browsers never
  ** send to a server.  A token of the user's own is not echoed (stdout may
  ** well end up in a log); a generated one must be, once, or nobody could
  ** use it. */
  if (so.token)
    printf("control needs the token given with --token; the web UI: http://%s:%d/#token=TOKEN\n", host,
           rsim_server_port(s));
  else if (rsim_server_token(s))
    printf("control token: %s (the web UI: http://%s:%d/#token=%s)\n", rsim_server_token(s), host,
           rsim_server_port(s), rsim_server_token(s));
  if (rsim_server_foxglove_port(s))
    printf("foxglove: ws://%s:%d (Foxglove or Lichtblick: Open connection, Foxglove WebSocket)%s\n", host,
           rsim_server_foxglove_port(s), rsim_server_token(s) ? "; playback control needs ?token=TOKEN" : "");
  fflush(stdout);
  if (rsim_server_run(s)) rsim_errbuf_set(&eb, RSIM_EIO, "%s", rsim_server_errmsg(s));
  else exit_code = CLI_OK;
out:
  if (eb.msg[0]) cli_fail("serve: %s", eb.msg);
  g_server = NULL;
  rsim_server_free(s);
  rsim_player_free(p);
  rsim_engine_free(e);
  if (st != base) rsim_store_close(st);
  rsim_store_close(base);
  rsim_graph_free(g);
  cli_filters_free(&filters);
  return exit_code;
}
