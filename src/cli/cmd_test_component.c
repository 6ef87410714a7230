/*
** cmd_test_component.c -- `replaysim test-component C.wasm --store S`:
** calls a component on real readings without a graph and prints what it
** returned as JSON, with each call's fuel and wall time, then a summary
** (calls, time, fuel, memory) on stderr.
**
** The export called is the component's one function besides the state
** interface (--export NAME when it has several).  Its sensor-reading
** parameter gets each reading of --sensor in the range, in order, with the
** sim time at the reading's timestamp; any other parameter gets the empty
** value of its type (no objects, no tracks).  The host answers
** get-sensor-data from the store (the latest reading at or before the sim
** time, as a graph's bridge does by default), get-config from --config
** KEY=VALUE, and log lines go to stderr.
**
** --expect FILE.json compares with a file this command printed before
** (the times and outputs, not the fuel and timing) and fails naming the
** first call whose output differs.
*/
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "rsim/engine.h"
#include "rsim/store.h"
#include "rsim/value.h"
#include "rsim/wasm.h"

#define SENSOR_DATA_IFACE "rsim:sim/sensor-data@0.2.0"
#define SENSOR_DATA_IFACE_030 "rsim:sim/sensor-data@0.3.0" /* payload as list<u8> */
#define FUEL_PER_CALL UINT64_C(1000000000000000) /* metered, never the limit */

typedef struct tc_ctx {
  rsim_store *st;
  rsim_time now, t0;
  rsim_kv config[64];
  size_t n_config;
  int log_level;
} tc_ctx;

static int usage(void) {
  fprintf(stderr,
          "usage: replaysim test-component C.wasm --store drive.db [--sensor ID] [--export NAME]\n"
          "                      [--config KEY=VALUE]... [--from T] [--to T] [--limit N]\n"
          "                      [--expect FILE.json] [--log-level debug|info|warn|error]\n"
          "  calls the component once per reading of --sensor (its sensor-reading parameter gets the\n"
          "  reading, other parameters an empty value), prints the outputs as JSON with each call's\n"
          "  fuel and time, and a summary (time, fuel, memory) on stderr; --expect compares the outputs\n"
          "  with an earlier print and names the first call that differs\n");
  return CLI_USAGE;
}

/* ---- host functions ----------------------------------------------------------- */

static int h_get_sensor_data(void *ctx, const rsim_func_sig *sig, const rsim_val *args, size_t nargs,
                             rsim_val *result) {
  tc_ctx *c = ctx;
  rsim_reading r = {0};
  if (rsim_store_reading_at(c->st, args[0].of.str.ptr, c->now, &r) != RSIM_OK) {
    rsim_val_set_case(result, RSIM_OPTION, 0, false);
    return 0;
  }
  rsim_val_set_case(result, RSIM_OPTION, 1, true);
  rsim_engine_reading_to_val(&r, result->of.var.payload);
  rsim_reading_clear(&r);
  return 0;
}

static int h_sim_time(void *ctx, const rsim_func_sig *sig, const rsim_val *args, size_t nargs, rsim_val *result) {
  result->kind = RSIM_S64;
  result->of.s = ((tc_ctx *)ctx)->now;
  return 0;
}

static int h_log(void *ctx, const rsim_func_sig *sig, const rsim_val *args, size_t nargs, rsim_val *result) {
  tc_ctx *c = ctx;
  static const char *const names[] = {"debug", "info", "warn", "error"};
  uint32_t lv = args[0].of.var.index;
  if ((int)lv >= c->log_level)
    fprintf(stderr, "[%8.3fs] %s: %s\n", (double)(c->now - c->t0) / 1e9, lv < 4 ? names[lv] : "?", args[1].of.str.ptr);
  return 0;
}

static int h_get_config(void *ctx, const rsim_func_sig *sig, const rsim_val *args, size_t nargs, rsim_val *result) {
  tc_ctx *c = ctx;
  const char *v = rsim_kv_get(c->config, c->n_config, args[0].of.str.ptr);
  rsim_val_set_case(result, RSIM_OPTION, v ? 1 : 0, v != NULL);
  if (v) rsim_val_set_string(result->of.var.payload, v, strlen(v));
  return 0;
}

/* The deterministic WASI adapter's seed (a Python component): --config
** wasi.seed, else the engine's default.  Without a graph there is no
** `wasi: deterministic` to ask for: calling the component is the consent. */
static int h_wasi_seed(void *ctx, const rsim_func_sig *sig, const rsim_val *args, size_t nargs, rsim_val *result) {
  tc_ctx *c = ctx;
  rsim_errbuf eb = {0};
  result->kind = RSIM_U64;
  return rsim_engine_wasi_seed(rsim_kv_get(c->config, c->n_config, "wasi.seed"), &result->of.u, &eb); /* checked */
}

static const rsim_host_def kHost[] = {
    {SENSOR_DATA_IFACE, "get-sensor-data", h_get_sensor_data},
    {SENSOR_DATA_IFACE, "sim-time", h_sim_time},
    {SENSOR_DATA_IFACE, "log", h_log},
    {SENSOR_DATA_IFACE, "get-config", h_get_config},
    {SENSOR_DATA_IFACE_030, "get-sensor-data", h_get_sensor_data},
    {SENSOR_DATA_IFACE_030, "sim-time", h_sim_time},
    {SENSOR_DATA_IFACE_030, "log", h_log},
    {SENSOR_DATA_IFACE_030, "get-config", h_get_config},
    {"rsim:wasi/deterministic@0.1.0", "seed", h_wasi_seed},
};

/* ---- arguments -------------------------------------------------------------------- */

/* The empty value of t: no list elements, none, zero, the first case. */
static void empty_val(const rsim_type *t, rsim_val *v) {
  memset(v, 0, sizeof *v);
  switch (t->kind) {
    case RSIM_LIST: rsim_val_set_agg(v, RSIM_LIST, 0); break;
    case RSIM_RECORD:
    case RSIM_TUPLE:
      rsim_val_set_agg(v, t->kind, t->n);
      for (size_t i = 0; i < t->n; i++) empty_val(t->types[i], &v->of.agg.items[i]);
      break;
    case RSIM_STRING: rsim_val_set_string(v, "", 0); break;
    case RSIM_OPTION: rsim_val_set_case(v, RSIM_OPTION, 0, false); break;
    case RSIM_ENUM: rsim_val_set_case(v, RSIM_ENUM, 0, false); break;
    case RSIM_VARIANT:
    case RSIM_RESULT: {
      const rsim_type *p = t->n || t->kind == RSIM_RESULT ? t->types[0] : NULL;
      rsim_val_set_case(v, t->kind, 0, p != NULL);
      if (p) empty_val(p, v->of.var.payload);
      break;
    }
    default: v->kind = t->kind; break;
  }
}

/* A sensor-reading parameter: the contract's record, told by its fields. */
static bool is_reading(const rsim_type *t) {
  return t->kind == RSIM_RECORD && rsim_type_member(t, "sensor-id") >= 0 && rsim_type_member(t, "payload") >= 0;
}

static bool is_state_export(const rsim_func_sig *s) { return s->iface && strstr(s->iface, "/state@"); }

/* ---- --expect ------------------------------------------------------------------------- */

/* Compares our calls with the file's; fills why with the first difference. */
static int compare_expect(const char *path, json_t *got, rsim_time t0, char *why, size_t n) {
  json_error_t je;
  json_t *exp = json_load_file(path, 0, &je);
  if (!exp) {
    snprintf(why, n, "%s: line %d: %s", path, je.line, je.text);
    return -1;
  }
  json_t *ec = json_object_get(exp, "calls"), *gc = json_object_get(got, "calls");
  int rc = 0;
  if (!json_is_array(ec)) {
    snprintf(why, n, "%s: no \"calls\" array (a file `replaysim test-component` printed)", path);
    rc = -1;
  }
  for (size_t i = 0; !rc && i < json_array_size(ec) && i < json_array_size(gc); i++) {
    json_t *e = json_array_get(ec, i), *g = json_array_get(gc, i);
    json_int_t et = json_integer_value(json_object_get(e, "t")), gt = json_integer_value(json_object_get(g, "t"));
    if (et != gt || !json_equal(json_object_get(e, "output"), json_object_get(g, "output"))) {
      char *es = json_dumps(json_object_get(e, "output"), JSON_COMPACT), *gs = json_dumps(json_object_get(g, "output"), JSON_COMPACT);
      snprintf(why, n, "call %zu differs, at t=%lld (%.3f s into the log)%s: expected %.300s, got %.300s", i,
               (long long)gt, (double)(gt - t0) / 1e9, et != gt ? ", where the expected call was at another time" : "",
               es ? es : "null", gs ? gs : "null");
      free(es);
      free(gs);
      rc = 1;
    }
  }
  if (!rc && json_array_size(ec) != json_array_size(gc)) {
    snprintf(why, n, "%zu calls, %zu expected (the first %zu agree)", json_array_size(gc), json_array_size(ec),
             json_array_size(ec) < json_array_size(gc) ? json_array_size(ec) : json_array_size(gc));
    rc = 1;
  }
  json_decref(exp);
  return rc;
}

/* ---- the command ------------------------------------------------------------------------ */

int cli_test_component(int argc, char **argv) {
  const char *wasm = NULL, *store = NULL, *sensor = NULL, *export_name = NULL, *expect = NULL, *from = NULL,
             *to = NULL, *v;
  tc_ctx ctx = {.log_level = RSIM_LOG_INFO};
  int64_t limit = -1;
  int bad = 0;
  rsim_errbuf eb = {0};
  for (int i = 1; i < argc; i++) {
    if (cli_opt(argc, argv, &i, "--store", &v)) store = v;
    else if (cli_opt(argc, argv, &i, "--sensor", &v)) sensor = v;
    else if (cli_opt(argc, argv, &i, "--export", &v)) export_name = v;
    else if (cli_opt(argc, argv, &i, "--expect", &v)) expect = v;
    else if (cli_opt(argc, argv, &i, "--limit", &v)) {
      if (rsim_parse_int(v, 0, INT64_MAX, &limit, &eb)) return cli_bad_value("test-component", "--limit", &eb);
    } else if (cli_opt(argc, argv, &i, "--log-level", &v)) {
      const char *lv[] = {"debug", "info", "warn", "error"};
      ctx.log_level = -1;
      for (int k = 0; k < 4; k++)
        if (!strcmp(v, lv[k])) ctx.log_level = k;
      if (ctx.log_level < 0) {
        fprintf(stderr, "replaysim test-component: --log-level: '%s' is not debug, info, warn or error\n", v);
        return CLI_USAGE;
      }
    } else if (cli_opt(argc, argv, &i, "--config", &v)) {
      const char *eq = strchr(v, '=');
      if (!eq || eq == v || ctx.n_config == 64) {
        fprintf(stderr, "replaysim test-component: --config: '%s' is not KEY=VALUE (at most 64)\n", v);
        return CLI_USAGE;
      }
      ctx.config[ctx.n_config].key = rsim_xstrndup(v, (size_t)(eq - v));
      ctx.config[ctx.n_config++].value = rsim_xstrdup(eq + 1);
    } else if (cli_time_opt(argc, argv, &i, "test-component", &from, &to, &bad)) {
      if (bad) return bad;
    } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage();
      return CLI_OK;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "replaysim test-component: unknown option '%s'\n", argv[i]);
      return usage();
    } else if (!wasm) wasm = argv[i];
    else return usage();
  }
  if (!wasm || !store) return usage();

  int rc = CLI_FAIL;
  rsim_wasm_engine *we = NULL;
  rsim_component *comp = NULL;
  rsim_instance *in = NULL;
  rsim_cursor *cur = NULL;
  json_t *doc = NULL;
  rsim_val *args = NULL;
  size_t nargs = 0;
  char why[1024] = "";
  rsim_wasm_engine_opts wo = {.fuel = true};
  uint64_t seed;
  if (rsim_engine_wasi_seed(rsim_kv_get(ctx.config, ctx.n_config, "wasi.seed"), &seed, &eb)) {
    snprintf(why, sizeof why, "--config wasi.seed: %s", eb.msg);
    goto done;
  }
  if (rsim_wasm_engine_new_opts(&wo, &we, &eb) || rsim_component_load(we, wasm, &comp, &eb)) {
    snprintf(why, sizeof why, "%s", eb.msg);
    goto done;
  }
  /* The export to call. */
  int ex = -1;
  if (export_name) {
    ex = rsim_component_find_export(comp, export_name);
    if (ex < 0) {
      snprintf(why, sizeof why, "%s has no export '%s'%s", wasm, export_name, ex == -2 ? " (ambiguous: give iface#name)" : "");
      goto done;
    }
  } else {
    for (size_t i = 0; i < rsim_component_n_exports(comp); i++) {
      if (is_state_export(rsim_component_export(comp, i))) continue;
      if (ex >= 0) {
        snprintf(why, sizeof why, "%s exports %s and %s: say which with --export NAME", wasm,
                 rsim_component_export(comp, (size_t)ex)->name, rsim_component_export(comp, i)->name);
        goto done;
      }
      ex = (int)i;
    }
    if (ex < 0) {
      snprintf(why, sizeof why, "%s exports nothing to call besides its state", wasm);
      goto done;
    }
  }
  const rsim_func_sig *sig = rsim_component_export(comp, (size_t)ex);
  int reading_param = -1;
  for (size_t i = 0; i < sig->n_params; i++)
    if (is_reading(sig->param_types[i]) && reading_param < 0) reading_param = (int)i;

  rsim_store *st = NULL;
  if (rsim_store_open(store, &st, &eb)) {
    snprintf(why, sizeof why, "%s", eb.msg);
    goto done;
  }
  ctx.st = st;
  if (!sensor || !rsim_store_sensor(st, sensor)) {
    const rsim_sensor_info *ss;
    size_t ns = 0;
    rsim_buf list = {0};
    if (rsim_store_sensors(st, &ss, &ns) == RSIM_OK)
      for (size_t i = 0; i < ns; i++)
        rsim_buf_printf(&list, "%s%s (%s)", i ? ", " : "", ss[i].id, rsim_sensor_kind_name(ss[i].kind));
    snprintf(why, sizeof why, "%s%s%s: the readings to call %s with; %s has %s",
             sensor ? "--sensor " : "--sensor ID is needed", sensor ? sensor : "", sensor ? " is not in the store" : "",
             sig->name, store, list.len ? (char *)list.data : "no sensors");
    rsim_buf_free(&list);
    rsim_store_close(st);
    goto done;
  }
  rsim_time t0 = 0, t1 = 0, first = 0, last = 0;
  if (cli_range("test-component", st, from, to, &t0, &t1, &eb) == RSIM_OK &&
      rsim_store_time_range(st, &first, &last) == RSIM_OK) {
    if (!t0) t0 = first; /* not given: the whole log */
    if (!t1) t1 = last;
  }
  if (eb.msg[0] || rsim_store_cursor_open(st, t0, t1, &sensor, 1, &cur)) {
    snprintf(why, sizeof why, "%s", eb.msg[0] ? eb.msg : rsim_store_errmsg(st));
    rsim_store_close(st);
    goto done;
  }
  ctx.t0 = t0;
  rsim_wasm_limits lim = {.fuel_per_call = FUEL_PER_CALL};
  if (rsim_instance_new(comp, sig->name, kHost, sizeof kHost / sizeof kHost[0], &ctx, &lim, &in, &eb)) {
    snprintf(why, sizeof why, "%s", eb.msg);
    rsim_store_close(st);
    goto done;
  }

  struct rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  doc = json_object();
  json_t *calls = json_array();
  json_object_set_new(doc, "calls", calls);
  nargs = sig->n_params;
  args = rsim_xcalloc(nargs ? nargs : 1, sizeof *args);
  for (size_t i = 0; i < nargs; i++)
    if ((int)i != reading_param) empty_val(sig->param_types[i], &args[i]);
  rsim_buf lines = {0}; /* the calls as printed */
  uint64_t n_calls = 0, fuel_total = 0, fuel_max = 0;
  int64_t ns_total = 0, ns_max = 0;
  const rsim_reading *r;
  int crc = RSIM_OK;
  while ((limit < 0 || (int64_t)n_calls < limit) && (crc = rsim_cursor_next(cur, &r)) == RSIM_OK) {
    ctx.now = r->t;
    if (reading_param >= 0) rsim_engine_reading_to_val(r, &args[reading_param]);
    rsim_val res;
    int64_t c0 = rsim_monotonic_ns();
    int call = rsim_instance_call(in, (size_t)ex, args, nargs, &res);
    int64_t dt = rsim_monotonic_ns() - c0;
    if (reading_param >= 0) rsim_val_clear(&args[reading_param]);
    if (call) {
      snprintf(why, sizeof why, "call %llu at t=%lld (%.3f s into the log): %s", (unsigned long long)n_calls,
               (long long)r->t, (double)(r->t - t0) / 1e9, rsim_instance_errmsg(in));
      crc = call;
      break;
    }
    uint64_t fuel = rsim_instance_last_fuel(in);
    rsim_buf jb = {0};
    if (sig->result) rsim_val_to_json(&res, sig->result, 64, &jb);
    else rsim_buf_puts(&jb, "null");
    rsim_val_clear(&res);
    /* Printed as rsim renders values (floats to their own precision);
    ** parsed for --expect, where both sides are parsed the same way. */
    json_t *c = json_object(), *out = json_loadb((const char *)jb.data, jb.len, JSON_DECODE_ANY, NULL);
    json_object_set_new(c, "t", json_integer(r->t));
    json_object_set_new(c, "output", out ? out : json_null());
    json_array_append_new(calls, c);
    rsim_buf_printf(&lines, "%s\n  {\"t\":%lld,\"output\":%.*s,\"fuel\":%llu,\"us\":%lld}", n_calls ? "," : "",
                    (long long)r->t, (int)jb.len, (const char *)jb.data, (unsigned long long)fuel, (long long)(dt / 1000));
    rsim_buf_free(&jb);
    n_calls++;
    fuel_total += fuel;
    if (fuel > fuel_max) fuel_max = fuel;
    ns_total += dt;
    if (dt > ns_max) ns_max = dt;
  }
  getrusage(RUSAGE_SELF, &ru1);
  long grew_kb = ru1.ru_maxrss - ru0.ru_maxrss;
  /* One call a line: diffable, and readable in a terminal. */
  json_t *jw = json_string(wasm), *jx = json_string(sig->full), *js = json_string(sensor);
  char *sw = json_dumps(jw, JSON_ENCODE_ANY), *sx = json_dumps(jx, JSON_ENCODE_ANY), *ss = json_dumps(js, JSON_ENCODE_ANY);
  printf("{\"component\": %s, \"export\": %s, \"sensor\": %s,\n \"calls\": [%.*s],\n", sw, sx, ss, (int)lines.len,
         lines.len ? (const char *)lines.data : "");
  printf(" \"summary\": {\"calls\": %llu, \"mean_us\": %.1f, \"max_us\": %.1f, \"mean_fuel\": %llu, \"max_fuel\": %llu, "
         "\"peak_rss_growth_bytes\": %ld}}\n",
         (unsigned long long)n_calls, n_calls ? (double)ns_total / 1e3 / (double)n_calls : 0.0, (double)ns_max / 1e3,
         n_calls ? (unsigned long long)(fuel_total / n_calls) : 0ULL, (unsigned long long)fuel_max, grew_kb * 1024);
  fflush(stdout);
  free(sw);
  free(sx);
  free(ss);
  json_decref(jw);
  json_decref(jx);
  json_decref(js);
  rsim_buf_free(&lines);
  fprintf(stderr, "%s: %llu calls of %s on %s: %.1f us mean, %.1f us max; fuel %llu mean, %llu max; "
                  "process peak RSS grew %.1f MB\n",
          wasm, (unsigned long long)n_calls, sig->name, sensor, n_calls ? (double)ns_total / 1e3 / (double)n_calls : 0.0,
          (double)ns_max / 1e3, n_calls ? (unsigned long long)(fuel_total / n_calls) : 0ULL,
          (unsigned long long)fuel_max, (double)grew_kb / 1024.0);
  if (crc != RSIM_OK && crc != RSIM_EEOF) {
    if (!why[0]) snprintf(why, sizeof why, "%s", rsim_store_errmsg(st));
  } else if (expect) {
    int d = compare_expect(expect, doc, first, why, sizeof why);
    if (!d) {
      printf("as expected: %llu calls agree with %s\n", (unsigned long long)n_calls, expect);
      rc = CLI_OK;
    }
  } else {
    rc = CLI_OK;
  }
  rsim_cursor_close(cur);
  cur = NULL;
  rsim_store_close(st);

done:
  if (cur) rsim_cursor_close(cur);
  for (size_t i = 0; i < nargs; i++) rsim_val_clear(&args[i]);
  free(args);
  json_decref(doc);
  rsim_instance_free(in);
  rsim_component_free(comp);
  rsim_wasm_engine_free(we);
  for (size_t i = 0; i < ctx.n_config; i++) {
    free(ctx.config[i].key);
    free(ctx.config[i].value);
  }
  if (rc != CLI_OK) return cli_fail("test-component: %s", why);
  return rc;
}
