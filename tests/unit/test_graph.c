/*
** test_graph.c -- graph files: YAML errors with line numbers, structure
** checks (names, triggers, references, cycles) and the topological order.
** These need no components: they stop before any file is compiled.
*/
#include "engine/engine_int.h"
#include "test.h"

static const char *write_graph(const char *name, const char *text) {
  const char *path = test_tmpfile(name);
  FILE *f = fopen(path, "w");
  ASSERT(f != NULL);
  fputs(text, f);
  fclose(f);
  return path;
}

static rsim_errbuf load_fails(const char *text) {
  rsim_errbuf eb = {0};
  rsim_graph *g = NULL;
  const char *path = write_graph("g.yaml", text);
  int rc = rsim_graph_load(path, &g, &eb);
  ASSERT_NE(rc, 0);
  ASSERT(g == NULL);
  return eb;
}

TEST(graph_yaml_syntax_error_has_line) {
  rsim_errbuf eb = load_fails("components:\n  a:\n    wasm: x.wasm\n    inputs: [unclosed\n");
  ASSERT_EQ(eb.code, RSIM_EGRAPH);
  ASSERT_CONTAINS(eb.msg, "g.yaml:");
  ASSERT_CONTAINS(eb.msg, "YAML error");
}

TEST(graph_unknown_key_named_with_line) {
  rsim_errbuf eb = load_fails("components:\n  a:\n    wasm: x.wasm\n    trigger: cam\n    rate: 5\n");
  ASSERT_CONTAINS(eb.msg, "g.yaml:5:");
  ASSERT_CONTAINS(eb.msg, "unknown key 'rate'");
}

TEST(graph_needs_exactly_one_trigger) {
  rsim_errbuf eb = load_fails("components:\n  a:\n    wasm: x.wasm\n");
  ASSERT_CONTAINS(eb.msg, "has no trigger");
  rsim_errbuf eb2 =
      load_fails("components:\n  a:\n    wasm: x.wasm\n    trigger: cam\n    rate_hz: 10\n");
  ASSERT_CONTAINS(eb2.msg, "not both");
}

TEST(graph_bad_rate_rejected) {
  rsim_errbuf eb = load_fails("components:\n  a:\n    wasm: x.wasm\n    rate_hz: fast\n");
  ASSERT_CONTAINS(eb.msg, "rate_hz 'fast'");
}

TEST(graph_unknown_source_component) {
  rsim_errbuf eb = load_fails(
      "components:\n  a:\n    wasm: x.wasm\n    rate_hz: 10\n    inputs:\n      objects: ghost\n");
  ASSERT_CONTAINS(eb.msg, "g.yaml:6:");
  ASSERT_CONTAINS(eb.msg, "'ghost'");
  ASSERT_CONTAINS(eb.msg, "sensor:ghost");
}

TEST(graph_cycle_names_components) {
  rsim_errbuf eb = load_fails(
      "components:\n"
      "  src:\n    wasm: x.wasm\n    rate_hz: 10\n"
      "  a:\n    wasm: x.wasm\n    rate_hz: 10\n    inputs: { x: b, y: src }\n"
      "  b:\n    wasm: x.wasm\n    rate_hz: 10\n    inputs: { x: a }\n");
  ASSERT_CONTAINS(eb.msg, "cycle");
  ASSERT_CONTAINS(eb.msg, "a, b");
}

TEST(graph_duplicate_component_rejected) {
  rsim_errbuf eb = load_fails(
      "components:\n  a:\n    wasm: x.wasm\n    rate_hz: 1\n  a:\n    wasm: y.wasm\n    rate_hz: 1\n");
  ASSERT_CONTAINS(eb.msg, "defined twice");
}

TEST(graph_topological_order_is_stable) {
  /* Declared out of order: planner first, then its sources. */
  const char *path = write_graph("order.yaml",
                                 "components:\n"
                                 "  planner:\n    wasm: p.wasm\n    rate_hz: 10\n    inputs: { objects: fusion }\n"
                                 "  fusion:\n    wasm: f.wasm\n    rate_hz: 20\n    inputs: { a: det, b: trk }\n"
                                 "  trk:\n    wasm: t.wasm\n    trigger: radar\n    inputs: { reading: sensor:radar }\n"
                                 "  det:\n    wasm: d.wasm\n    trigger: cam\n    inputs: { reading: sensor:cam }\n");
  rsim_errbuf eb = {0};
  rsim_graph *g;
  ASSERT_OK(rsim_graph_load(path, &g, &eb));
  ASSERT_EQ(g->n, 4);
  /* trk and det have no component inputs; trk comes first in the file. */
  ASSERT_STREQ(g->nodes[g->order[0]].name, "trk");
  ASSERT_STREQ(g->nodes[g->order[1]].name, "det");
  ASSERT_STREQ(g->nodes[g->order[2]].name, "fusion");
  ASSERT_STREQ(g->nodes[g->order[3]].name, "planner");
  /* 20 Hz is exactly 50 ms; the wasm files do not exist, so nothing resolved. */
  ASSERT_EQ(g->nodes[1].period_ns, 50000000);
  ASSERT(g->nodes[0].wasm_path == NULL);
  ASSERT_STREQ(rsim_graph_component_wasm(g, 0), "p.wasm");
  rsim_graph_free(g);
}

TEST(graph_missing_wasm_reported_by_check) {
  const char *path = write_graph("missing.yaml",
                                 "components:\n  a:\n    wasm: nowhere.wasm\n    rate_hz: 1\n");
  rsim_errbuf eb = {0};
  rsim_graph *g;
  ASSERT_OK(rsim_graph_load(path, &g, &eb));
  rsim_buf report = {0};
  ASSERT_NE(rsim_graph_check(g, NULL, &report, &eb), 0);
  rsim_buf_putc(&report, 0);
  ASSERT_CONTAINS((char *)report.data, "nowhere.wasm' not found");
  ASSERT_CONTAINS((char *)report.data, "missing.yaml:2:");
  rsim_buf_free(&report);
  rsim_graph_free(g);
}

TEST(graph_repeated_key_rejected) {
  /* Found by fuzz_graph: a second inputs: block used to leave half-built links. */
  rsim_errbuf eb = load_fails("components:\n  a:\n    wasm: x.wasm\n    rate_hz: 1\n"
                              "    inputs: { p: sensor:s }\n    inputs: { q: sensor:t }\n");
  ASSERT_CONTAINS(eb.msg, "g.yaml:6:");
  ASSERT_CONTAINS(eb.msg, "key 'inputs' appears twice");
}

#define ONE_COMPONENT "components:\n  d:\n    wasm: x.wasm\n    trigger: cam\n    inputs: { reading: sensor:cam }\n"

TEST(graph_sensors_section_errors_have_lines) {
  rsim_errbuf eb = load_fails("sensors:\n  small: { from: cam, transform: [blur 3] }\n" ONE_COMPONENT);
  ASSERT_CONTAINS(eb.msg, "g.yaml:2:");
  ASSERT_CONTAINS(eb.msg, "unknown transform 'blur'");
  eb = load_fails("sensors:\n  small: { transform: [grayscale] }\n" ONE_COMPONENT);
  ASSERT_CONTAINS(eb.msg, "say which sensor it comes 'from:'");
  eb = load_fails("sensors:\n  a: { from: cam, transform: [grayscale] }\n  b: { from: a, transform: [downscale 2] }\n" ONE_COMPONENT);
  ASSERT_CONTAINS(eb.msg, "sensor 'b' comes from 'a', which is itself derived");
  eb = load_fails("sensors:\n  imu: { sample: smooth }\n" ONE_COMPONENT);
  ASSERT_CONTAINS(eb.msg, "g.yaml:2:");
  ASSERT_CONTAINS(eb.msg, "sample 'smooth' is not auto, exact, hold or interpolate");
  eb = load_fails("sensors:\n  can: { signals: \"0:u16 7:s16\" }\n" ONE_COMPONENT);
  ASSERT_CONTAINS(eb.msg, "does not fit an 8-byte CAN frame");
  eb = load_fails("sensors:\n  imu: { max_staleness: soon }\n" ONE_COMPONENT);
  ASSERT_CONTAINS(eb.msg, "max_staleness 'soon' is not a positive duration");
}

TEST(graph_link_forms_parse_and_bad_ones_are_named) {
  rsim_errbuf eb = load_fails("components:\n  d:\n    wasm: x.wasm\n    rate_hz: 1\n"
                              "    inputs: { a: { from: sensor:cam, policy: random } }\n");
  ASSERT_CONTAINS(eb.msg, "policy 'random' is not latest or queue");
  eb = load_fails("components:\n  d:\n    wasm: x.wasm\n    rate_hz: 1\n    inputs: { a: { queue: 4 } }\n");
  ASSERT_CONTAINS(eb.msg, "input 'a' has no 'from:'");
  eb = load_fails("components:\n  d:\n    wasm: x.wasm\n    rate_hz: 1\n    inputs: { a: [] }\n");
  ASSERT_CONTAINS(eb.msg, "an empty list of sources");
  rsim_graph *g = NULL;
  const char *path = write_graph("ok.yaml",
                                 "components:\n  s1:\n    wasm: x.wasm\n    rate_hz: 1\n"
                                 "  s2:\n    wasm: x.wasm\n    rate_hz: 1\n"
                                 "  t:\n    wasm: x.wasm\n    rate_hz: 1\n"
                                 "    inputs: { all: [s2, s1], q: { from: s1, queue: 3 } }\n");
  ASSERT_OK(rsim_graph_load(path, &g, &eb));
  /* Fan-in sources are placed before their target like any other. */
  ASSERT_EQ(g->order[2], 2);
  const rsim__link *l = &g->nodes[2].inputs[0];
  ASSERT(l->fan_in);
  ASSERT_EQ(l->n_srcs, 2);
  ASSERT_EQ(l->srcs[0].index, 1);
  ASSERT_EQ(g->nodes[2].inputs[1].policy, RSIM__LINK_QUEUE);
  ASSERT_EQ(g->nodes[2].inputs[1].queue, 3);
  rsim_graph_free(g);
}
