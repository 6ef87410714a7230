/*
** yaml_int.h -- reading a YAML file, the one way the modules do it.
**
** Graphs, topic maps, gate files and batch jobs are YAML.  Each module
** walks its own document; reading the file, its size limit and the error
** that names the file, line and column of a syntax error are shared here.
** Internal to the library (libyaml's types do not appear in public headers).
*/
#ifndef RSIM_CORE_YAML_INT_H
#define RSIM_CORE_YAML_INT_H

#include <yaml.h>

#include "rsim/error.h"

/* The largest YAML file the library reads. */
#define RSIM_YAML_MAX_BYTES (4u << 20)

/* Parses the first document of file path into *doc, which the caller then
** owns (yaml_document_delete).  A file that cannot be read says why (the
** codes of rsim_read_file); a syntax error fails with code and
** "PATH:LINE:COLUMN: YAML error: PROBLEM CONTEXT". */
int rsim__yaml_load(const char *path, int code, yaml_document_t *doc, rsim_errbuf *eb);

/* The text of node n (of node id of doc) when it is a scalar, else NULL. */
const char *rsim__yaml_text(const yaml_node_t *n);
const char *rsim__yaml_scalar(yaml_document_t *doc, int id);

#endif /* RSIM_CORE_YAML_INT_H */
