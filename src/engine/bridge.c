/*
** bridge.c -- what the host offers components: the sensor-reading type,
** the conversion of store readings into values of it, and the functions of
** the rsim:sim/sensor-data interface (get-sensor-data, sim-time, log,
** get-config) with the signatures the host gives them, for both contract
** versions it loads (0.2.0 and 0.3.0, engine_int.h).
**
** Host functions never fail for an answer such as "no such sensor": that
** is none (and a warning).  A non-zero return would trap the component.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"

static const char *const kind_names[] = {"camera", "radar", "lidar", "ultrasonic",
                                         "imu",    "gps",   "can"};
static const char *const level_names[] = {"debug", "info", "warn", "error"};

static rsim_type *enum_type(const char *const *names, size_t n) {
  rsim_type *t = rsim_type_new(RSIM_ENUM);
  for (size_t i = 0; i < n; i++) rsim_type_add(t, names[i], NULL);
  return t;
}

/* The reading record of contract 0.2.0 (v3 false) or 0.3.0 (v3 true). */
static rsim_type *reading_type_new(bool v3) {
  rsim_type *kv = rsim_type_new(RSIM_RECORD);
  rsim_type_add(kv, "key", rsim_type_new(RSIM_STRING));
  rsim_type_add(kv, "value", rsim_type_new(RSIM_STRING));
  rsim_type *t = rsim_type_new(RSIM_RECORD);
  rsim_type_add(t, "sensor-id", rsim_type_new(RSIM_STRING));
  rsim_type_add(t, "timestamp", rsim_type_new(RSIM_S64));
  rsim_type_add(t, "kind", enum_type(kind_names, 7));
  if (v3) {
    rsim_type_add(t, "payload", rsim_type_list(rsim_type_new(RSIM_U8)));
  } else {
    /* Packed eight bytes to an element (sim.wit says why); the value is the
       bytes themselves (RSIM_BYTES), packed only when handed to Wasmtime. */
    rsim_type_add(t, "payload", rsim_type_list(rsim_type_new(RSIM_U64)));
    rsim_type_add(t, "payload-len", rsim_type_new(RSIM_U32));
  }
  rsim_type_add(t, "metadata", rsim_type_list(kv));
  return t;
}

/* The host's signatures, built once per contract version ([0] 0.2.0,
** [1] 0.3.0); they live for the whole process. */
static rsim_type *g_reading_type[2];
static rsim_func_sig g_sigs[2][4];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void sig_init(rsim_func_sig *s, const char *iface, const char *name, size_t n_params) {
  s->iface = rsim_xstrdup(iface);
  s->name = rsim_xstrdup(name);
  s->full = rsim_xmalloc(strlen(iface) + strlen(name) + 2);
  sprintf(s->full, "%s#%s", iface, name);
  s->n_params = n_params;
  s->param_names = rsim_xcalloc(n_params ? n_params : 1, sizeof *s->param_names);
  s->param_types = rsim_xcalloc(n_params ? n_params : 1, sizeof *s->param_types);
}

static void build_types(void) {
  for (int v = 0; v < 2; v++) {
    const char *iface = v ? RSIM_SENSOR_DATA_IFACE_030 : RSIM_SENSOR_DATA_IFACE;
    rsim_func_sig *g = g_sigs[v];
    g_reading_type[v] = reading_type_new(v == 1);
    sig_init(&g[0], iface, "get-sensor-data", 1);
    g[0].param_names[0] = rsim_xstrdup("sensor-id");
    g[0].param_types[0] = rsim_type_new(RSIM_STRING);
    g[0].result = rsim_type_option(rsim_type_clone(g_reading_type[v]));
    sig_init(&g[1], iface, "sim-time", 0);
    g[1].result = rsim_type_new(RSIM_S64);
    sig_init(&g[2], iface, "log", 2);
    g[2].param_names[0] = rsim_xstrdup("level");
    g[2].param_types[0] = enum_type(level_names, 4);
    g[2].param_names[1] = rsim_xstrdup("message");
    g[2].param_types[1] = rsim_type_new(RSIM_STRING);
    sig_init(&g[3], iface, "get-config", 1);
    g[3].param_names[0] = rsim_xstrdup("key");
    g[3].param_types[0] = rsim_type_new(RSIM_STRING);
    g[3].result = rsim_type_option(rsim_type_new(RSIM_STRING));
  }
}

const rsim_type *rsim_engine_reading_type(void) {
  pthread_once(&g_once, build_types);
  return g_reading_type[0];
}

const rsim_type *rsim__reading_type_for(const rsim_type *want) {
  pthread_once(&g_once, build_types);
  if (want && want->kind == RSIM_LIST) want = want->types[0];
  return rsim_type_equal(want, g_reading_type[1]) ? g_reading_type[1] : g_reading_type[0];
}

/* Which contract version an interface name is of, by semver (0.x: the same
** minor): 0 for 0.2, 1 for 0.3, -1 for neither. */
static int iface_version(const char *iface) {
  static const char base[] = "rsim:sim/sensor-data@";
  if (!iface || strncmp(iface, base, sizeof base - 1)) return -1;
  const char *v = iface + sizeof base - 1;
  if (!strncmp(v, "0.2.", 4)) return 0;
  if (!strncmp(v, "0.3.", 4)) return 1;
  return -1;
}

const rsim_func_sig *rsim__host_sig(const char *iface, const char *name) {
  pthread_once(&g_once, build_types);
  int v = iface_version(iface);
  if (v < 0) return NULL;
  for (size_t i = 0; i < 4; i++)
    if (!strcmp(g_sigs[v][i].name, name)) return &g_sigs[v][i];
  return NULL;
}

void rsim_engine_reading_to_val(const rsim_reading *r, rsim_val *out) {
  rsim_val_set_agg(out, RSIM_RECORD, RSIM_READING_N_FIELDS);
  rsim_val *f = out->of.agg.items;
  rsim_val_set_string(&f[RSIM_READING_SENSOR_ID], r->sensor_id, strlen(r->sensor_id));
  f[RSIM_READING_TIMESTAMP].kind = RSIM_S64;
  f[RSIM_READING_TIMESTAMP].of.s = r->t;
  rsim_val_set_case(&f[RSIM_READING_KIND], RSIM_ENUM, (uint32_t)r->kind, false);
  rsim_val_set_bytes(&f[RSIM_READING_PAYLOAD], r->payload, r->payload_len);
  f[RSIM_READING_PAYLOAD_LEN].kind = RSIM_U32;
  f[RSIM_READING_PAYLOAD_LEN].of.u = r->payload_len;
  rsim_val *meta = &f[RSIM_READING_METADATA];
  rsim_val_set_agg(meta, RSIM_LIST, r->n_meta);
  for (size_t i = 0; i < r->n_meta; i++) {
    rsim_val *kv = &meta->of.agg.items[i];
    rsim_val_set_agg(kv, RSIM_RECORD, 2);
    rsim_val_set_string(&kv->of.agg.items[0], r->meta[i].key, strlen(r->meta[i].key));
    rsim_val_set_string(&kv->of.agg.items[1], r->meta[i].value, strlen(r->meta[i].value));
  }
}

/* ---- the host functions ------------------------------------------------------- */

static int host_get_sensor_data(void *ctx, const rsim_func_sig *sig, const rsim_val *args,
                                size_t nargs, rsim_val *result) {
  rsim__host_ctx *h = ctx;
  rsim_val reading = {0};
  if (rsim__engine_sensor_val(h->engine, h->node, args[0].of.str.ptr, &reading) == RSIM_OK) {
    rsim_val_set_case(result, RSIM_OPTION, 1, false);
    result->of.var.payload = rsim_xmalloc(sizeof(rsim_val));
    *result->of.var.payload = reading; /* moves ownership */
  } else {
    rsim_val_set_case(result, RSIM_OPTION, 0, false);
  }
  return 0;
}

static int host_sim_time(void *ctx, const rsim_func_sig *sig, const rsim_val *args, size_t nargs,
                         rsim_val *result) {
  rsim__host_ctx *h = ctx;
  result->kind = RSIM_S64;
  result->of.s = rsim__engine_now(h->engine);
  return 0;
}

static int host_log(void *ctx, const rsim_func_sig *sig, const rsim_val *args, size_t nargs,
                    rsim_val *result) {
  rsim__host_ctx *h = ctx;
  rsim__engine_log(h->engine, h->node, (int)args[0].of.var.index, args[1].of.str.ptr);
  return 0;
}

static int host_get_config(void *ctx, const rsim_func_sig *sig, const rsim_val *args,
                           size_t nargs, rsim_val *result) {
  rsim__host_ctx *h = ctx;
  const char *v = rsim__engine_config(h->engine, h->node, args[0].of.str.ptr);
  if (!v) {
    rsim_val_set_case(result, RSIM_OPTION, 0, false);
    return 0;
  }
  rsim_val_set_case(result, RSIM_OPTION, 1, true);
  rsim_val_set_string(result->of.var.payload, v, strlen(v));
  return 0;
}

/* The same functions for both contract versions: a 0.3.0 component's
** reading is the same value, converted without payload-len (convert.c). */
const rsim_host_def rsim__host_defs[] = {
    {RSIM_SENSOR_DATA_IFACE, "get-sensor-data", host_get_sensor_data},
    {RSIM_SENSOR_DATA_IFACE, "sim-time", host_sim_time},
    {RSIM_SENSOR_DATA_IFACE, "log", host_log},
    {RSIM_SENSOR_DATA_IFACE, "get-config", host_get_config},
    {RSIM_SENSOR_DATA_IFACE_030, "get-sensor-data", host_get_sensor_data},
    {RSIM_SENSOR_DATA_IFACE_030, "sim-time", host_sim_time},
    {RSIM_SENSOR_DATA_IFACE_030, "log", host_log},
    {RSIM_SENSOR_DATA_IFACE_030, "get-config", host_get_config},
};
const size_t rsim__n_host_defs = sizeof rsim__host_defs / sizeof rsim__host_defs[0];

/* ---- rsim:wasi/deterministic: for components with `wasi: deterministic` ------------ */

/* The seed of the WASI adapter's random numbers (the graph loader has
** refused a malformed wasi.seed, so this cannot fail). */
static int host_wasi_seed(void *ctx, const rsim_func_sig *sig, const rsim_val *args, size_t nargs,
                          rsim_val *result) {
  rsim__host_ctx *h = ctx;
  rsim_errbuf eb = {0};
  result->kind = RSIM_U64;
  return rsim_engine_wasi_seed(rsim__engine_config(h->engine, h->node, "wasi.seed"), &result->of.u, &eb);
}

const rsim_host_def rsim__wasi_host_defs[] = {
    {RSIM_WASI_DET_IFACE, "seed", host_wasi_seed},
};
const size_t rsim__n_wasi_host_defs = sizeof rsim__wasi_host_defs / sizeof rsim__wasi_host_defs[0];
