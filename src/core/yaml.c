/*
** yaml.c -- reading a YAML file into a libyaml document (yaml_int.h).
*/
#include "core/yaml_int.h"

#include <stdlib.h>

#include "rsim/util.h"

int rsim__yaml_load(const char *path, int code, yaml_document_t *doc, rsim_errbuf *eb) {
  uint8_t *text;
  size_t len;
  int rc = rsim_read_file(path, RSIM_YAML_MAX_BYTES, &text, &len, eb);
  if (rc) return rc;
  yaml_parser_t parser;
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_string(&parser, text, len);
  if (!yaml_parser_load(&parser, doc))
    rc = rsim_errbuf_set(eb, code, "%s:%lu:%lu: YAML error: %s%s%s", path,
                         (unsigned long)parser.problem_mark.line + 1, (unsigned long)parser.problem_mark.column + 1,
                         parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
                         parser.context ? parser.context : "");
  yaml_parser_delete(&parser); /* the document owns copies of what it holds */
  free(text);
  return rc;
}

const char *rsim__yaml_text(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

const char *rsim__yaml_scalar(yaml_document_t *doc, int id) { return rsim__yaml_text(yaml_document_get_node(doc, id)); }
