/*
** test_yaml_files.c -- the four kinds of YAML file the library reads
** (graphs, topic maps, gate files, batch jobs) fail the same way: a syntax
** error names the file, line and column; a missing, oversized or
** non-regular file says so, naming it.
*/
#include "rsim/batch.h"
#include "rsim/eval.h"
#include "rsim/store.h"
#include "test.h"

/* Loads path as each kind of file; each message goes into msgs[k]. */
static void load_each(const char *path, char msgs[4][512]) {
  rsim_errbuf eb = {0};
  rsim_graph *g = NULL;
  ASSERT(rsim_graph_load(path, &g, &eb) != RSIM_OK);
  snprintf(msgs[0], 512, "%s", eb.msg);
  rsim_errbuf_clear(&eb);
  rsim_topic_rule *rules = NULL;
  size_t n = 0;
  ASSERT(rsim_topic_map_load(path, &rules, &n, &eb) != RSIM_OK);
  snprintf(msgs[1], 512, "%s", eb.msg);
  rsim_errbuf_clear(&eb);
  rsim_eval_gateset *G = NULL;
  ASSERT(rsim_eval_gateset_load(path, &G, &eb) != RSIM_OK);
  snprintf(msgs[2], 512, "%s", eb.msg);
  rsim_errbuf_clear(&eb);
  rsim_batch_jobs js = {0};
  ASSERT(rsim_batch_jobs_load(&js, path, &eb) != RSIM_OK);
  snprintf(msgs[3], 512, "%s", eb.msg);
  rsim_batch_jobs_free(&js);
}

TEST(yaml_files_of_every_kind_name_the_file_line_and_column_of_a_syntax_error) {
  /* An unclosed flow sequence: libyaml stops at line 3, column 1. */
  const char *bad = test_write_text("bad.yaml", "a: 1\nb: [1, 2\n");
  static char msgs[4][512];
  load_each(bad, msgs);
  for (int k = 0; k < 4; k++) ASSERT_CONTAINS(msgs[k], "bad.yaml:3:1: YAML error: ");
}

TEST(yaml_files_of_every_kind_that_cannot_be_read_say_why) {
  static char msgs[4][512];
  load_each(test_tmpfile("missing.yaml"), msgs);
  for (int k = 0; k < 4; k++) ASSERT_CONTAINS(msgs[k], "missing.yaml: No such file or directory");
  load_each(test_tmpdir(), msgs);
  for (int k = 0; k < 4; k++) ASSERT_CONTAINS(msgs[k], "not a regular file");
  /* Over the limit of 4 MiB: refused before it is parsed. */
  const char *big = test_tmpfile("big.yaml");
  FILE *f = fopen(big, "w");
  ASSERT(f != NULL);
  for (int i = 0; i < (5 << 20) / 16; i++) fputs("# a comment ...\n", f);
  fclose(f);
  load_each(big, msgs);
  for (int k = 0; k < 4; k++) ASSERT_CONTAINS(msgs[k], "over the limit of 4194304");
}
