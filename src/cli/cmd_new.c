/*
** cmd_new.c -- `replaysim new WORLD DIR` and `replaysim new --wit FILE
** --world NAME DIR`: starts a component project in DIR that builds and
** runs as written.
**
** DIR gets NAME.c (the world's exports filled in and commented: reading the
** payload, config, logging, state), a Makefile over `replaysim config
** --toolchain` (no path typed), graph.yaml (the demo graph with NAME.wasm
** in place of the example of the same world) and a README.  The contract's
** worlds come from the SDK's templates (components/templates); a user's own
** world gets stubs made from the prototypes wit-bindgen writes for it, and
** the demo graph when it exports one of the contract's roles.
*/
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* A contract world: its template, the example graph it takes part in and
** the example component it replaces there. */
typedef struct world_info {
  const char *world, *graph, *example, *role, *iface, *sensor;
  /* Python (--lang python): the export's class, method and parameters in
  ** componentize-py's bindings; NULL class: no Python template. */
  const char *py_class, *py_method, *py_params;
} world_info;

static const world_info kWorlds[] = {
    {"camera-detector", "demo/graph.yaml", "camera_detector.wasm", "detector", "camera-processing", "camera_front",
     "CameraProcessing", "process_frame", "reading"},
    {"radar-tracker", "demo/graph.yaml", "radar_tracker.wasm", "tracker", "radar-processing", "radar_front",
     "RadarProcessing", "process_scan", "reading"},
    {"fusion", "demo/graph.yaml", "fusion.wasm", "fusion", "sensor-fusion", NULL, "SensorFusion", "fuse_detections",
     "camera_objects, radar_tracks"},
    {"planner", "demo/graph.yaml", "planner.wasm", "planner", "planning", "can_vehicle", "Planning", "plan",
     "objects, vehicle"},
    {"perception", "composed/composed.yaml", "perception.wasm", "perception", "perceiving", "radar_front", NULL, NULL,
     NULL},
};
#define N_WORLDS (sizeof kWorlds / sizeof kWorlds[0])

static int usage(void) {
  fprintf(stderr,
          "usage: replaysim new WORLD DIR [--lang c|python] [--force]\n"
          "       replaysim new --wit FILE.wit --world NAME DIR [--force]\n"
          "  WORLD: camera-detector, radar-tracker, fusion, planner or perception (components/wit/sim.wit)\n"
          "  writes DIR/NAME.c (NAME: DIR's last part), a Makefile, graph.yaml and README.md; then\n"
          "    cd DIR && make && replaysim run graph.yaml --store drive.db\n"
          "  --lang python: DIR/NAME.py instead, built by componentize-py with replaysim's deterministic\n"
          "  WASI adapter plugged in (camera-detector, radar-tracker, fusion, planner)\n");
  return CLI_USAGE;
}

static int write_file(const char *dir, const char *name, const char *text, size_t len, rsim_errbuf *eb) {
  char path[PATH_MAX + 256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot create: %s", path, strerror(errno));
  size_t w = fwrite(text, 1, len, f);
  if (fclose(f) != 0 || w != len) return rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot write: %s", path, strerror(errno));
  return RSIM_OK;
}

static int read_text(const char *path, char **out, rsim_errbuf *eb) {
  uint8_t *b;
  size_t n;
  int rc = rsim_read_file(path, 16u << 20, &b, &n, eb);
  if (rc) return rc;
  char *s = rsim_xcalloc(n + 1, 1);
  memcpy(s, b, n);
  free(b);
  *out = s;
  return RSIM_OK;
}

/* text with every @KEY@ of keys replaced by its value. */
static char *substitute(const char *text, const char *const (*keys)[2], size_t n_keys) {
  rsim_buf b = {0};
  const char *p = text;
  while (*p) {
    bool hit = false;
    if (*p == '@')
      for (size_t k = 0; k < n_keys && !hit; k++) {
        size_t kl = strlen(keys[k][0]);
        if (!strncmp(p, keys[k][0], kl)) {
          rsim_buf_puts(&b, keys[k][1]);
          p += kl;
          hit = true;
        }
      }
    if (!hit) rsim_buf_putc(&b, *p++);
  }
  return rsim_buf_take_str(&b);
}

static int mkdir_p(const char *dir, rsim_errbuf *eb) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s", dir);
  for (char *s = p + 1; *s; s++)
    if (*s == '/') {
      *s = 0;
      if (mkdir(p, 0777) && errno != EEXIST) return rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot create: %s", p, strerror(errno));
      *s = '/';
    }
  if (mkdir(p, 0777) && errno != EEXIST) return rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot create: %s", p, strerror(errno));
  return RSIM_OK;
}

/* NAME from DIR's last part: a C identifier and a file name. */
static void project_name(const char *dir, char *out, size_t n) {
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/') len--;
  size_t start = len;
  while (start && dir[start - 1] != '/') start--;
  size_t k = 0;
  if (start < len && !isalpha((unsigned char)dir[start])) k += (size_t)snprintf(out, n, "c_");
  for (size_t i = start; i < len && k + 1 < n; i++) {
    unsigned char c = (unsigned char)dir[i];
    out[k++] = isalnum(c) ? (char)tolower(c) : '_';
  }
  out[k] = 0;
  if (!k) snprintf(out, n, "component");
}

/* The example graph with NAME.wasm in place of example (its `wasm:` line). */
static int make_graph(const cli_sdk *s, const world_info *w, const char *name, const char *world, bool python,
                      char **out, rsim_errbuf *eb) {
  char path[PATH_MAX + 64], *text;
  snprintf(path, sizeof path, "%s/%s", s->examples, w->graph);
  int rc = read_text(path, &text, eb);
  if (rc) return rc;
  char want[128], repl[PATH_MAX];
  snprintf(want, sizeof want, "wasm: %s", w->example);
  char *at = strstr(text, want);
  if (!at) {
    free(text);
    return rsim_errbuf_set(eb, RSIM_ECORRUPT, "%s: no component with '%s' to replace", path, want);
  }
  if (python)
    snprintf(repl, sizeof repl,
             "wasm: %s.wasm  # yours: `make` builds it from %s.py\n"
             "    wasi: deterministic  # its Python runtime's WASI, answered by replaysim's adapter",
             name, name);
  else
    snprintf(repl, sizeof repl, "wasm: %s.wasm  # yours: `make` builds it from %s.c", name, name);
  rsim_buf b = {0};
  rsim_buf_printf(&b,
                  "# %s in the example graph %s in place of its %s (%s), written by\n"
                  "# `replaysim new %s`.  The other components are the examples the SDK\n"
                  "# ships (found in the components folder beside replaysim's bin/).\n"
                  "#   replaysim run graph.yaml --store drive.db\n"
                  "#   replaysim run graph.yaml --store drive.db --out run.db --eval   (with its score)\n"
                  "#   replaysim serve graph.yaml --store drive.db                    (in the browser)\n",
                  name, w->graph, w->role, w->example, world);
  /* Past the example's own header comment. */
  const char *body = text;
  while (*body == '#') {
    const char *nl = strchr(body, '\n');
    body = nl ? nl + 1 : body + strlen(body);
  }
  rsim_buf_append(&b, body, (size_t)(at - body));
  rsim_buf_puts(&b, repl);
  rsim_buf_puts(&b, at + strlen(want));
  free(text);
  *out = rsim_buf_take_str(&b);
  return RSIM_OK;
}

/* Runs argv with its output in errfile; a failure is an error naming
** argv[0] with the output's last line. */
static int run_tool(char *const argv[], const char *errfile, rsim_errbuf *eb) {
  pid_t pid = fork();
  if (pid < 0) return rsim_errbuf_set(eb, RSIM_EIO, "cannot start %s: %s", argv[0], strerror(errno));
  if (pid == 0) {
    if (!freopen(errfile, "w", stdout) || dup2(fileno(stdout), 2) < 0) _exit(127);
    execv(argv[0], argv);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return rsim_errbuf_set(eb, RSIM_EIO, "waiting for %s: %s", argv[0], strerror(errno));
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return RSIM_OK;
  char last[400] = "", line[400];
  FILE *f = fopen(errfile, "r");
  bool got_error = false; /* the "Error: ..." line, not a backtrace after it */
  while (f && fgets(line, sizeof line, f) && !got_error)
    if (line[strspn(line, " \t\n")]) {
      snprintf(last, sizeof last, "%s", line + strspn(line, " \t"));
      got_error = !strncasecmp(last, "error", 5);
    }
  if (f) fclose(f);
  last[strcspn(last, "\n")] = 0;
  return rsim_errbuf_set(eb, RSIM_EINVAL, "%s failed: %s", argv[0], last[0] ? last : "no message");
}

/* Stubs for a user's world from the exports wit-bindgen declares in hdr:
** every `// Exported Functions from` block's prototypes, each given a body
** that frees its arguments and returns an empty (zero) result.  The state
** interface becomes RSIM_STATE over a struct. */
static char *generic_source(const char *hdr, const char *name, const char *world, const char *prefix,
                            const char **role_iface) {
  rsim_buf b = {0};
  bool guest = strstr(hdr, "rsim_sim_sensor_data_log(") != NULL;
  bool state = strstr(hdr, "Exported Functions from `rsim:sim/state@") != NULL;
  rsim_buf_printf(&b,
                  "/*\n** %s.c -- a replaysim component of world %s (your WIT), started by\n"
                  "** `replaysim new --wit`.  Every export below is a stub that frees its\n"
                  "** arguments and returns an empty result: fill them in.  gen/%s.h (from\n"
                  "** `make`) has the types; the arguments are yours to free, what you\n"
                  "** return the host frees.  No WASI: no printf, no files, no clock.\n*/\n"
                  "#include <string.h>\n\n#include \"%s.h\"\n",
                  name, world, prefix, prefix);
  if (guest)
    rsim_buf_printf(&b,
                    "#define RSIM_WORLD %s\n"
                    "/* rsim_log, rsim_config_f32, rsim_payload, RSIM_STATE: see its comments. */\n"
                    "#include \"rsim_guest.h\"\n",
                    prefix);
  if (state && guest)
    rsim_buf_puts(&b, "\n/* Everything kept between calls (a plain struct: no pointers), saved\n"
                      "** and restored byte for byte for seek and checkpoints. */\n"
                      "static struct {\n  uint32_t calls;\n} g_state;\n\nRSIM_STATE(g_state)\n");
  *role_iface = NULL;
  for (const char *p = strstr(hdr, "// Exported Functions from `"); p; p = strstr(p, "// Exported Functions from `")) {
    p += strlen("// Exported Functions from `");
    const char *q = strchr(p, '`');
    if (!q) break;
    char iface[256];
    snprintf(iface, sizeof iface, "%.*s", (int)(q - p), p);
    bool is_state = !strncmp(iface, "rsim:sim/state@", 15);
    for (size_t i = 0; i < N_WORLDS; i++) {
      char want[128];
      snprintf(want, sizeof want, "rsim:sim/%s@", kWorlds[i].iface);
      if (!strncmp(iface, want, strlen(want))) *role_iface = kWorlds[i].iface;
    }
    const char *line = strchr(q, '\n');
    while (line && line[1] && line[1] != '\n') {
      line++;
      const char *end = strchr(line, '\n');
      size_t len = end ? (size_t)(end - line) : strlen(line);
      char proto[2048];
      snprintf(proto, sizeof proto, "%.*s", (int)(len < sizeof proto ? len : sizeof proto - 1), line);
      line = end;
      if (!strncmp(proto, "//", 2) || (is_state && guest)) continue;
      size_t pl = strlen(proto);
      if (pl && proto[pl - 1] == ';') proto[--pl] = 0;
      char *lp = strchr(proto, '(');
      if (!lp) continue;
      rsim_buf_printf(&b, "\n/* %s */\n%s {\n", iface, proto);
      /* The parameters: "T *name" each; ret is the result, others are ours. */
      char params[2048];
      snprintf(params, sizeof params, "%s", lp + 1);
      char *rp = strrchr(params, ')');
      if (rp) *rp = 0;
      for (char *save = NULL, *t = strtok_r(params, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        char *star = strrchr(t, '*');
        if (!star || !strcmp(t, "void")) continue;
        const char *pname = star + 1;
        char type[512];
        snprintf(type, sizeof type, "%.*s", (int)(star - t), t);
        size_t tl = strlen(type);
        while (tl && type[tl - 1] == ' ') type[--tl] = 0;
        if (!strcmp(pname, "ret") || !strcmp(pname, "err")) {
          rsim_buf_printf(&b, "  memset(%s, 0, sizeof *%s);  /* an empty result: fill it in */\n", pname, pname);
          continue;
        }
        char freefn[600];
        if (tl > 2 && !strcmp(type + tl - 2, "_t")) {
          snprintf(freefn, sizeof freefn, "%.*s_free(", (int)(tl - 2), type);
          if (strstr(hdr, freefn)) rsim_buf_printf(&b, "  %s%s);\n", freefn, pname);
          else rsim_buf_printf(&b, "  (void)%s;\n", pname);
        } else {
          rsim_buf_printf(&b, "  (void)%s;\n", pname);
        }
      }
      if (!strncmp(proto, "bool ", 5)) rsim_buf_puts(&b, "  return true;  /* some / ok */\n");
      else if (strncmp(proto, "void ", 5)) rsim_buf_puts(&b, "  return 0;\n");
      rsim_buf_puts(&b, "}\n");
    }
  }
  return rsim_buf_take_str(&b);
}

static bool dir_has(const char *dir, const char *name) {
  char p[PATH_MAX + 256];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return access(p, F_OK) == 0;
}

/* Copies FILE into DIR/wit (and the contract into wit/deps/sim when the
** world uses rsim:sim without declaring it), runs wit-bindgen on it into a
** scratch folder and returns the header it wrote. */
static int user_world(const cli_sdk *s, const char *dir, const char *wit_file, const char *world, const char *prefix,
                      char **hdr, rsim_errbuf *eb) {
  char *text, path[PATH_MAX + 64], wdir[PATH_MAX + 16];
  int rc = read_text(wit_file, &text, eb);
  if (rc) return rc;
  snprintf(wdir, sizeof wdir, "%s/wit", dir);
  const char *base = strrchr(wit_file, '/');
  base = base ? base + 1 : wit_file;
  rc = mkdir_p(wdir, eb);
  if (!rc) rc = write_file(wdir, base, text, strlen(text), eb);
  if (!rc && strstr(text, "rsim:sim") && !strstr(text, "package rsim:sim")) {
    char *sim, deps[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/sim.wit", s->wit);
    snprintf(deps, sizeof deps, "%s/deps/sim", wdir);
    rc = read_text(path, &sim, eb);
    if (!rc) rc = mkdir_p(deps, eb);
    if (!rc) rc = write_file(deps, "sim.wit", sim, strlen(sim), eb);
    if (!rc) free(sim);
  }
  free(text);
  if (rc) return rc;
  char tmp[] = "/tmp/rsim-new-XXXXXX";
  if (!mkdtemp(tmp)) return rsim_errbuf_set(eb, RSIM_EIO, "cannot create a scratch folder: %s", strerror(errno));
  char c[] = "c", wflag[] = "--world", oflag[] = "--out-dir";
  char *argv[] = {(char *)s->wit_bindgen, c, wdir, wflag, (char *)world, oflag, tmp, NULL};
  char errfile[sizeof tmp + 16];
  snprintf(errfile, sizeof errfile, "%s/out.txt", tmp);
  rsim_errbuf why = {0};
  rc = run_tool(argv, errfile, &why);
  if (rc) rsim_errbuf_set(eb, RSIM_EINVAL, "%s: no bindings for world '%s': %s", wit_file, world, why.msg);
  else {
    snprintf(path, sizeof path, "%s/%s.h", tmp, prefix);
    rc = read_text(path, hdr, eb);
  }
  char cmd[PATH_MAX + 32];
  snprintf(cmd, sizeof cmd, "%s/%s.h", tmp, prefix);
  unlink(cmd);
  snprintf(cmd, sizeof cmd, "%s/%s.c", tmp, prefix);
  unlink(cmd);
  snprintf(cmd, sizeof cmd, "%s/%s_component_type.o", tmp, prefix);
  unlink(cmd);
  unlink(errfile);
  rmdir(tmp);
  return rc;
}

int cli_new(int argc, char **argv) {
  const char *pos[2] = {0}, *wit = NULL, *world = NULL, *v;
  size_t n_pos = 0;
  bool force = false, python = false;
  for (int i = 1; i < argc; i++) {
    if (cli_opt(argc, argv, &i, "--wit", &v)) wit = v;
    else if (cli_opt(argc, argv, &i, "--lang", &v)) {
      if (strcmp(v, "c") && strcmp(v, "python")) {
        fprintf(stderr, "replaysim new: --lang is c or python, not '%s'\n", v);
        return usage();
      }
      python = !strcmp(v, "python");
    }
    else if (cli_opt(argc, argv, &i, "--world", &v)) world = v;
    else if (!strcmp(argv[i], "--force")) force = true;
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage();
      return CLI_OK;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "replaysim new: unknown option '%s'\n", argv[i]);
      return usage();
    } else if (n_pos < 2) pos[n_pos++] = argv[i];
    else return usage();
  }
  const char *dir;
  const world_info *w = NULL;
  if (wit) {
    if (!world || n_pos != 1) {
      fprintf(stderr, "replaysim new: --wit FILE needs --world NAME and one DIR\n");
      return usage();
    }
    dir = pos[0];
  } else {
    if (n_pos != 2 || world) return usage();
    world = pos[0];
    dir = pos[1];
    for (size_t i = 0; i < N_WORLDS; i++)
      if (!strcmp(world, kWorlds[i].world)) w = &kWorlds[i];
    if (!w) {
      fprintf(stderr, "replaysim new: '%s' is not a world of the contract%s\n", world,
              !strcmp(world, "perception-socket")
                  ? " that runs alone: a socket is composed with wac (docs/composition.md); "
                    "start from `replaysim new perception DIR`, or give your own with --wit FILE --world NAME"
                  : " (camera-detector, radar-tracker, fusion, planner, perception); your own: --wit FILE --world NAME");
      return CLI_USAGE;
    }
  }
  if (python && (wit || !w->py_class))
    return cli_fail("new: --lang python starts a world of the contract that runs alone (camera-detector, "
                    "radar-tracker, fusion, planner), not %s", wit ? "a world of your own WIT" : world);
  cli_sdk s;
  rsim_errbuf eb = {0};
  if (cli_sdk_find(&s, &eb)) return cli_fail("new: %s", eb.msg);
  if (python) {
    /* Named now, not as make's "No such file" later. */
    const char *need[][2] = {{"componentize-py", s.componentize_py}, {"wac", s.wac}};
    for (size_t i = 0; i < 2; i++)
      if (access(need[i][1], X_OK))
        return cli_fail("new: --lang python needs %s, and %s is not there (scripts/setup.sh installs it)",
                        need[i][0], need[i][1]);
    if (access(s.wasi_adapter, R_OK))
      return cli_fail("new: --lang python needs the deterministic WASI adapter, and %s is not there (a build "
                      "with componentize-py makes it)", s.wasi_adapter);
  }
  char name[128], prefix[256];
  project_name(dir, name, sizeof name);
  snprintf(prefix, sizeof prefix, "%s", world);
  for (char *p = prefix; *p; p++)
    if (*p == '-') *p = '_';
  if (mkdir_p(dir, &eb)) return cli_fail("new: %s", eb.msg);
  char src[160];
  snprintf(src, sizeof src, "%s.%s", name, python ? "py" : "c");
  const char *files[] = {src, "Makefile", "graph.yaml", "README.md"};
  for (size_t i = 0; i < 4 && !force; i++)
    if (dir_has(dir, files[i]))
      return cli_fail("new: %s/%s exists; not overwriting it (--force does)", dir, files[i]);

  char *source = NULL, *graph = NULL, *hdr = NULL;
  int rc = RSIM_OK;
  if (w) {
    char path[PATH_MAX + 64], *tpl;
    if (python) snprintf(path, sizeof path, "%s/%s.py", s.templates, strcmp(w->world, "planner") ? "list-world" : "planner");
    else snprintf(path, sizeof path, "%s/%s.c", s.templates, w->world);
    const char *const keys[][2] = {{"@NAME@", name},        {"@PREFIX@", prefix},      {"@WORLD@", world},
                                   {"@CLASS@", w->py_class ? w->py_class : ""},
                                   {"@METHOD@", w->py_method ? w->py_method : ""},
                                   {"@PARAMS@", w->py_params ? w->py_params : ""}};
    rc = read_text(path, &tpl, &eb);
    if (!rc) {
      source = substitute(tpl, keys, 6);
      free(tpl);
    }
  } else {
    const char *role_iface = NULL;
    rc = user_world(&s, dir, wit, world, prefix, &hdr, &eb);
    if (!rc) {
      source = generic_source(hdr, name, world, prefix, &role_iface);
      for (size_t i = 0; i < N_WORLDS && role_iface; i++)
        if (!strcmp(kWorlds[i].iface, role_iface)) w = &kWorlds[i];
    }
  }
  if (!rc && w) rc = make_graph(&s, w, name, world, python, &graph, &eb);
  else if (!rc)
    graph = rsim_xstrdup(
        "# Your world exports none of the contract's roles (camera-processing,\n"
        "# radar-processing, sensor-fusion, planning, perceiving), so there is no\n"
        "# example to stand in for: say which readings and outputs feed its\n"
        "# exports (docs/graph.md), then: replaysim run graph.yaml --store drive.db\n"
        "name: mine\ncomponents: {}\n");
  if (!rc) rc = write_file(dir, src, source, strlen(source), &eb);
  if (!rc) rc = write_file(dir, "graph.yaml", graph, strlen(graph), &eb);
  for (int k = 0; k < 2 && !rc; k++) {
    char path[PATH_MAX + 64], *tpl;
    const char *file = k ? "README.md" : "Makefile";
    snprintf(path, sizeof path, "%s/%s", s.templates, k ? "README.md" : python ? "python.mk" : "Makefile");
    char sensor[96] = "";
    if (w && w->sensor) snprintf(sensor, sizeof sensor, " --sensor %s", w->sensor);
    const char *const keys[][2] = {{"@NAME@", name},
                                   {"@PREFIX@", prefix},
                                   {"@WORLD@", world},
                                   {"@WIT@", wit ? "wit" : "$(RSIM_WIT)"},
                                   {"@ROLE@", w ? w->role : "component"},
                                   {"@SENSOR@", sensor},
                                   {"@SRC@", src}};
    rc = read_text(path, &tpl, &eb);
    if (rc) break;
    char *out = substitute(tpl, keys, 7);
    free(tpl);
    rc = write_file(dir, file, out, strlen(out), &eb);
    free(out);
  }
  free(source);
  free(graph);
  free(hdr);
  if (rc) return cli_fail("new: %s", eb.msg);
  printf("wrote %s/: %s (world %s), Makefile, graph.yaml, README.md\n", dir, src, world);
  printf("next: cd %s && make && replaysim run graph.yaml --store drive.db\n", dir);
  return CLI_OK;
}
