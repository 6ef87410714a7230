/*
** test_wasm.c -- the Wasmtime host module with real components built from
** source: bad files, reflected types, host imports, calls, traps, resets.
*/
#include "rsim/engine.h"
#include "rsim/wasm.h"
#include "test.h"

static int g_logs, g_config_calls;

static int h_get_sensor(void *ctx, const rsim_func_sig *sig, const rsim_val *a, size_t n, rsim_val *r) {
  rsim_val_set_case(r, RSIM_OPTION, 0, false);
  return 0;
}
static int h_time(void *ctx, const rsim_func_sig *sig, const rsim_val *a, size_t n, rsim_val *r) {
  r->kind = RSIM_S64;
  r->of.s = 42;
  return 0;
}
static int h_log(void *ctx, const rsim_func_sig *sig, const rsim_val *a, size_t n, rsim_val *r) {
  g_logs++;
  return 0;
}
/* Answers trap_at = "2" so the trapping component traps on its 2nd call. */
static int h_config(void *ctx, const rsim_func_sig *sig, const rsim_val *a, size_t n, rsim_val *r) {
  g_config_calls++;
  if (strcmp(a[0].of.str.ptr, "trap_at")) {
    rsim_val_set_case(r, RSIM_OPTION, 0, false);
    return 0;
  }
  rsim_val_set_case(r, RSIM_OPTION, 1, true);
  rsim_val_set_string(r->of.var.payload, "2", 1);
  return 0;
}
/* A host function that fails: the calling component must trap, not the host. */
static int h_config_fails(void *ctx, const rsim_func_sig *sig, const rsim_val *a, size_t n, rsim_val *r) {
  return RSIM_EBACKEND;
}

#define IFACE "rsim:sim/sensor-data@0.2.0"
static const rsim_host_def kDefs[] = {{IFACE, "get-sensor-data", h_get_sensor},
                                      {IFACE, "sim-time", h_time},
                                      {IFACE, "log", h_log},
                                      {IFACE, "get-config", h_config}};

static void frame(rsim_val *out, int w, int h) {
  uint8_t *px = calloc((size_t)w * h * 3, 1);
  for (int i = 0; i < w * h; i++) px[3 * i] = 200, px[3 * i + 1] = 30, px[3 * i + 2] = 30;
  char ws[16], hs[16];
  snprintf(ws, sizeof ws, "%d", w);
  snprintf(hs, sizeof hs, "%d", h);
  rsim_kv meta[3] = {{(char *)"encoding", (char *)"rgb8"}, {(char *)"width", ws}, {(char *)"height", hs}};
  rsim_reading r = {.sensor_id = (char *)"cam", .t = 5, .kind = RSIM_SENSOR_CAMERA, .payload = px,
                    .payload_len = (size_t)w * h * 3, .meta = meta, .n_meta = 3};
  rsim_engine_reading_to_val(&r, out);
  free(px);
}

TEST(wasm_bad_files_are_named_errors) {
  rsim_errbuf eb = {0};
  rsim_wasm_engine *e;
  rsim_component *c = NULL;
  ASSERT_OK(rsim_wasm_engine_new(&e, &eb));
  ASSERT_EQ(rsim_component_load(e, test_tmpfile("none.wasm"), &c, &eb), RSIM_EIO);
  ASSERT_CONTAINS(eb.msg, "none.wasm");
  static const uint8_t core[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
  rsim_errbuf_clear(&eb);
  ASSERT_EQ(rsim_component_load_bytes(e, "core.wasm", core, sizeof core, &c, &eb), RSIM_ECORRUPT);
  ASSERT_CONTAINS(eb.msg, "core WebAssembly module, not a component");
  rsim_errbuf_clear(&eb);
  ASSERT_EQ(rsim_component_load_bytes(e, "text.wasm", (const uint8_t *)"hello world", 11, &c, &eb), RSIM_ECORRUPT);
  ASSERT_CONTAINS(eb.msg, "text.wasm: not a WebAssembly file");
  /* A real component cut in half. */
  uint8_t *bytes;
  size_t len;
  ASSERT_OK(rsim_read_file(test_component_path("fusion"), 1 << 26, &bytes, &len, &eb));
  rsim_errbuf_clear(&eb);
  ASSERT_EQ(rsim_component_load_bytes(e, "half.wasm", bytes, len / 2, &c, &eb), RSIM_ECORRUPT);
  ASSERT_CONTAINS(eb.msg, "half.wasm: not a valid component");
  ASSERT(c == NULL);
  free(bytes);
  rsim_wasm_engine_free(e);
}

TEST(wasm_reflects_imports_and_exports) {
  rsim_errbuf eb = {0};
  rsim_wasm_engine *e;
  rsim_component *c;
  ASSERT_OK(rsim_wasm_engine_new(&e, &eb));
  ASSERT_OK(rsim_component_load(e, test_component_path("camera_detector"), &c, &eb));
  ASSERT_EQ(rsim_component_n_exports(c), 3); /* process-frame, and the state interface's save, restore */
  const rsim_func_sig *s = rsim_component_export(c, 0);
  ASSERT_STREQ(s->full, "rsim:sim/camera-processing@0.2.0#process-frame");
  ASSERT_EQ(s->n_params, 1);
  ASSERT(rsim_type_equal(s->param_types[0], rsim_engine_reading_type()));
  char *rt = rsim_type_str(s->result);
  ASSERT_STREQ(rt, "list<record { id: string, class: string, confidence: f32, bbox: record { x: f32, "
                   "y: f32, width: f32, height: f32 } }>");
  free(rt);
  ASSERT_EQ(rsim_component_find_export(c, "process-frame"), 0);
  ASSERT_EQ(rsim_component_find_export(c, "nope"), -1);
  int save = rsim_component_find_export(c, "rsim:sim/state@0.2.0#save");
  int restore = rsim_component_find_export(c, "rsim:sim/state@0.2.0#restore");
  ASSERT(save > 0 && restore > 0);
  char *st = rsim_type_str(rsim_component_export(c, (size_t)restore)->result);
  ASSERT_STREQ(st, "result<_, string>");
  free(st);
  ASSERT(rsim_component_n_imports(c) >= 2);
  for (size_t i = 0; i < rsim_component_n_imports(c); i++)
    ASSERT_STREQ(rsim_component_import(c, i)->iface, IFACE);
  rsim_component_free(c);
  rsim_wasm_engine_free(e);
}

TEST(wasm_call_runs_real_detector_through_the_boundary) {
  rsim_errbuf eb = {0};
  rsim_wasm_engine *e;
  rsim_component *c;
  rsim_instance *in;
  ASSERT_OK(rsim_wasm_engine_new(&e, &eb));
  ASSERT_OK(rsim_component_load(e, test_component_path("camera_detector"), &c, &eb));
  ASSERT_OK(rsim_instance_new(c, "det", kDefs, 4, NULL, NULL, &in, &eb));
  rsim_val arg = {0}, res = {0};
  frame(&arg, 64, 48); /* all red: one car filling the frame */
  ASSERT_OK(rsim_instance_call(in, 0, &arg, 1, &res));
  ASSERT_EQ(res.kind, RSIM_LIST);
  ASSERT_EQ(res.of.agg.n, 1);
  const rsim_val *box = &res.of.agg.items[0];
  ASSERT_STREQ(box->of.agg.items[1].of.str.ptr, "car");
  ASSERT_NEAR(box->of.agg.items[3].of.agg.items[2].of.f32, 64, 0);
  ASSERT_NEAR(box->of.agg.items[3].of.agg.items[3].of.f32, 48, 0);
  rsim_val_clear(&res);
  /* A wrong argument type is refused before it reaches Wasmtime. */
  rsim_val wrong = {.kind = RSIM_S32};
  ASSERT_EQ(rsim_instance_call(in, 0, &wrong, 1, &res), RSIM_ETYPE);
  ASSERT_CONTAINS(rsim_instance_errmsg(in), "argument 'reading'");
  /* ... and so is invalid UTF-8, which would abort the process inside Wasmtime. */
  arg.of.agg.items[0].of.str.ptr[0] = (char)0xff;
  ASSERT_EQ(rsim_instance_call(in, 0, &arg, 1, &res), RSIM_ETYPE);
  ASSERT_CONTAINS(rsim_instance_errmsg(in), "UTF-8");
  ASSERT(!rsim_instance_poisoned(in));
  rsim_val_clear(&arg);
  rsim_instance_free(in);
  rsim_component_free(c);
  rsim_wasm_engine_free(e);
}

TEST(wasm_trap_poisons_then_reset_recovers) {
  rsim_errbuf eb = {0};
  rsim_wasm_engine *e;
  rsim_component *c;
  rsim_instance *in;
  ASSERT_OK(rsim_wasm_engine_new(&e, &eb));
  ASSERT_OK(rsim_component_load(e, test_component_path("trap_nth"), &c, &eb));
  ASSERT_OK(rsim_instance_new(c, "trapper", kDefs, 4, NULL, NULL, &in, &eb));
  rsim_val arg = {0}, res = {0};
  frame(&arg, 4, 4);
  ASSERT_OK(rsim_instance_call(in, 0, &arg, 1, &res));
  rsim_val_clear(&res);
  ASSERT_EQ(rsim_instance_call(in, 0, &arg, 1, &res), RSIM_ETRAP);
  ASSERT_CONTAINS(rsim_instance_errmsg(in), "component trapper");
  ASSERT_CONTAINS(rsim_instance_errmsg(in), "unreachable");
  ASSERT(rsim_instance_poisoned(in));
  ASSERT_EQ(rsim_instance_call(in, 0, &arg, 1, &res), RSIM_ETRAP);
  ASSERT_CONTAINS(rsim_instance_errmsg(in), "poisoned");
  ASSERT_OK(rsim_instance_reset(in));
  ASSERT_OK(rsim_instance_call(in, 0, &arg, 1, &res)); /* call 1 of the new instance */
  rsim_val_clear(&res);
  ASSERT(g_config_calls >= 2); /* the fresh instance asked for its config again */
  rsim_val_clear(&arg);
  rsim_instance_free(in);
  rsim_component_free(c);
  rsim_wasm_engine_free(e);
}

TEST(wasm_failing_host_function_traps_guest_not_host) {
  rsim_errbuf eb = {0};
  rsim_wasm_engine *e;
  rsim_component *c;
  rsim_instance *in;
  rsim_host_def defs[4];
  memcpy(defs, kDefs, sizeof defs);
  defs[3].fn = h_config_fails;
  ASSERT_OK(rsim_wasm_engine_new(&e, &eb));
  ASSERT_OK(rsim_component_load(e, test_component_path("trap_nth"), &c, &eb));
  ASSERT_OK(rsim_instance_new(c, "t", defs, 4, NULL, NULL, &in, &eb));
  rsim_val arg = {0}, res = {0};
  frame(&arg, 2, 2);
  ASSERT_EQ(rsim_instance_call(in, 0, &arg, 1, &res), RSIM_ETRAP);
  ASSERT_CONTAINS(rsim_instance_errmsg(in), "get-config");
  rsim_val_clear(&arg);
  rsim_instance_free(in);
  rsim_component_free(c);
  rsim_wasm_engine_free(e);
}

TEST(wasm_missing_import_is_named) {
  rsim_errbuf eb = {0};
  rsim_wasm_engine *e;
  rsim_component *c;
  rsim_instance *in = NULL;
  ASSERT_OK(rsim_wasm_engine_new(&e, &eb));
  ASSERT_OK(rsim_component_load(e, test_component_path("planner"), &c, &eb));
  ASSERT_EQ(rsim_instance_new(c, "planner", kDefs, 2, NULL, NULL, &in, &eb), RSIM_ENOTFOUND);
  ASSERT_CONTAINS(eb.msg, "component planner");
  ASSERT_CONTAINS(eb.msg, "which the host does not provide");
  ASSERT(in == NULL);
  rsim_component_free(c);
  rsim_wasm_engine_free(e);
}

TEST(wasm_fuel_is_metered_per_call_and_needs_an_engine_that_meters) {
  rsim_errbuf eb = {0};
  rsim_wasm_engine *plain, *metered;
  rsim_component *c, *c2;
  rsim_instance *in = NULL;
  rsim_wasm_limits lim = {.fuel_per_call = 50000000};
  ASSERT_OK(rsim_wasm_engine_new(&plain, &eb));
  ASSERT_OK(rsim_component_load(plain, test_component_path("trap_nth"), &c, &eb));
  ASSERT_EQ(rsim_instance_new(c, "t", kDefs, 4, NULL, &lim, &in, &eb), RSIM_EINVAL);
  ASSERT_CONTAINS(eb.msg, "fuel metering");
  rsim_wasm_engine_opts o = {.fuel = true};
  ASSERT_OK(rsim_wasm_engine_new_opts(&o, &metered, &eb));
  ASSERT_OK(rsim_component_load(metered, test_component_path("trap_nth"), &c2, &eb));
  ASSERT_OK(rsim_instance_new(c2, "t", kDefs, 4, NULL, &lim, &in, &eb));
  rsim_val arg = {0}, res = {0};
  frame(&arg, 4, 4);
  ASSERT_OK(rsim_instance_call(in, 0, &arg, 1, &res));
  uint64_t first = rsim_instance_last_fuel(in);
  ASSERT(first > 0 && first < lim.fuel_per_call);
  rsim_val_clear(&res);
  /* Its second call traps (trap_at 2): a trap, not a limit. */
  ASSERT_EQ(rsim_instance_call(in, 0, &arg, 1, &res), RSIM_ETRAP);
  ASSERT_EQ(rsim_instance_last_limit(in), RSIM_LIMIT_NONE);
  ASSERT_OK(rsim_instance_reset(in));
  ASSERT_OK(rsim_instance_call(in, 0, &arg, 1, &res));
  ASSERT_EQ(rsim_instance_last_fuel(in), first); /* the same work, the same fuel */
  rsim_val_clear(&res);
  rsim_val_clear(&arg);
  rsim_instance_free(in);
  rsim_component_free(c);
  rsim_component_free(c2);
  rsim_wasm_engine_free(plain);
  rsim_wasm_engine_free(metered);
}

/* Answers fault = "echo": misbehave then reports the payload it was given. */
static int h_config_echo(void *ctx, const rsim_func_sig *sig, const rsim_val *a, size_t n, rsim_val *r) {
  if (strcmp(a[0].of.str.ptr, "fault")) {
    rsim_val_set_case(r, RSIM_OPTION, 0, false);
    return 0;
  }
  rsim_val_set_case(r, RSIM_OPTION, 1, true);
  rsim_val_set_string(r->of.var.payload, "echo", 4);
  return 0;
}

/* Payloads cross packed eight bytes to a list<u64> element; every length,
** tails of 1-7 bytes included, must arrive byte for byte. */
TEST(wasm_payloads_arrive_byte_exact_at_every_length) {
  rsim_wasm_engine *we;
  rsim_errbuf eb = {0};
  ASSERT_OK(rsim_wasm_engine_new(&we, &eb));
  rsim_component *c;
  ASSERT_OK(rsim_component_load(we, test_component_path("misbehave"), &c, &eb));
  rsim_host_def defs[4] = {kDefs[0], kDefs[1], kDefs[2], {IFACE, "get-config", h_config_echo}};
  rsim_instance *in;
  ASSERT_OK(rsim_instance_new(c, "echo", defs, 4, NULL, NULL, &in, &eb));
  int fn = rsim_component_find_export(c, "process-frame");
  ASSERT(fn >= 0);
  static const size_t lens[] = {0, 1, 7, 8, 9, 13, 64, 1001, 640 * 360 * 3};
  uint8_t *p = malloc(640 * 360 * 3);
  uint32_t seed = 12345;
  for (size_t i = 0; i < 640 * 360 * 3; i++) p[i] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
  for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
    rsim_reading r = {.sensor_id = (char *)"cam", .t = 5, .kind = RSIM_SENSOR_CAMERA, .payload = p, .payload_len = lens[k]};
    rsim_val arg, res;
    rsim_engine_reading_to_val(&r, &arg);
    ASSERT_OK(rsim_instance_call(in, fn, &arg, 1, &res));
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < lens[k]; i++) h = (h ^ p[i]) * 16777619u;
    char want[32];
    snprintf(want, sizeof want, "%zu %x", lens[k], h);
    ASSERT_EQ(res.of.agg.n, 1);
    ASSERT_STREQ(res.of.agg.items[0].of.agg.items[0].of.str.ptr, want);
    rsim_val_clear(&arg);
    rsim_val_clear(&res);
  }
  free(p);
  rsim_instance_free(in);
  rsim_component_free(c);
  rsim_wasm_engine_free(we);
}

/*
** Bytes both ways through misbehave's echo mode: restore(list<u8>) into the
** component, save() -> list<u8> back, and the same bytes as a reading's
** payload: packed list<u64> under rsim:sim@0.2.0 (misbehave), list<u8>
** under 0.3.0 (misbehave_0_3, the same source).  Every length up to 2 KiB
** (all tails) and the lengths around each power of two up to 1 MiB, in an
** order that changes the shape from call to call, so the host's argument
** slots (reused between calls, convert.c) are grown, shrunk and rewritten
** in place.  Runs against whichever Wasmtime the build uses: stock (values
** per element) or patches/wasmtime (packed lists).
*/
static void bytes_cross_both_ways(const char *component, const char *iface, bool every_reading) {
  rsim_wasm_engine *we;
  rsim_errbuf eb = {0};
  ASSERT_OK(rsim_wasm_engine_new(&we, &eb));
  rsim_component *c;
  ASSERT_OK(rsim_component_load(we, test_component_path(component), &c, &eb));
  rsim_host_def defs[4] = {{iface, "get-sensor-data", h_get_sensor}, {iface, "sim-time", h_time},
                           {iface, "log", h_log}, {iface, "get-config", h_config_echo}};
  rsim_instance *in;
  ASSERT_OK(rsim_instance_new(c, "echo", defs, 4, NULL, NULL, &in, &eb));
  int fn = rsim_component_find_export(c, "process-frame");
  int save = rsim_component_find_export(c, "save"), restore = rsim_component_find_export(c, "restore");
  ASSERT(fn >= 0 && save >= 0 && restore >= 0);
  size_t lens[2200], n = 0;
  for (size_t l = 0; l <= 2048; l++) lens[n++] = l;
  for (size_t k = 12; k <= 20; k++) {
    lens[n++] = ((size_t)1 << k) + 1;
    lens[n++] = ((size_t)1 << k) - 1;
    lens[n++] = (size_t)1 << k;
  }
  lens[n++] = 640 * 360 * 3;
  lens[n++] = 3;
  /* The longest length is 1 MiB + 1, read from one byte in on odd calls. */
  size_t max = ((size_t)1 << 20) + 2;
  uint8_t *p = malloc(max);
  uint32_t seed = 777;
  for (size_t i = 0; i < max; i++) p[i] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
  for (size_t k = 0; k < n; k++) {
    /* Odd calls start one byte in: same length, other bytes. */
    const uint8_t *b = p + (k & 1);
    size_t len = lens[k];
    rsim_val arg, res;
    rsim_val_set_bytes(&arg, b, len);
    ASSERT_OK(rsim_instance_call(in, (size_t)restore, &arg, 1, &res));
    ASSERT_EQ(res.kind, RSIM_RESULT);
    ASSERT_EQ(res.of.var.index, 0);
    rsim_val_clear(&arg);
    rsim_val_clear(&res);
    ASSERT_OK(rsim_instance_call(in, (size_t)save, NULL, 0, &res));
    ASSERT_EQ(res.kind, RSIM_BYTES);
    ASSERT_EQ(res.of.bytes.len, len);
    ASSERT(len == 0 || !memcmp(res.of.bytes.ptr, b, len));
    rsim_val_clear(&res);
    if (every_reading || len > 4096 || k % 7 == 0) { /* the reading: all or a sample of lengths */
      rsim_reading r = {.sensor_id = (char *)"cam", .t = 5, .kind = RSIM_SENSOR_CAMERA,
                        .payload = (uint8_t *)b, .payload_len = len};
      rsim_engine_reading_to_val(&r, &arg);
      ASSERT_OK(rsim_instance_call(in, (size_t)fn, &arg, 1, &res));
      uint32_t h = 2166136261u;
      for (size_t i = 0; i < len; i++) h = (h ^ b[i]) * 16777619u;
      char want[32];
      snprintf(want, sizeof want, "%zu %x", len, h);
      ASSERT_STREQ(res.of.agg.items[0].of.agg.items[0].of.str.ptr, want);
      rsim_val_clear(&arg);
      rsim_val_clear(&res);
    }
  }
  free(p);
  rsim_instance_free(in);
  rsim_component_free(c);
  rsim_wasm_engine_free(we);
}

TEST(wasm_bytes_cross_byte_exact_both_ways_at_every_length) {
  bytes_cross_both_ways("misbehave", IFACE, false);
}

/* rsim:sim@0.3.0: the payload as list<u8>, the host's reading value handed
** over without its payload-len; every length, readings included. */
TEST(wasm_bytes_cross_byte_exact_both_ways_at_every_length_contract_030) {
  bytes_cross_both_ways("misbehave_0_3", "rsim:sim/sensor-data@0.3.0", true);
}
