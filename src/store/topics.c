/*
** topics.c -- topic maps: which MCAP topics are which sensors.
**
**   # drive.topics.yaml
**   /sensing/camera/front/image_raw: camera_front      # id
**   /sensing/radar/front/points: {id: radar_front, kind: radar}
**   /diagnostics: skip
**
** and the same rule on the command line: --topic TOPIC=ID[:KIND].  The
** rules are only parsed here; mcap_store.c applies them when it opens a
** file, where it can say which topic or schema does not fit.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/yaml_int.h"
#include "rsim/store.h"

static int push(rsim_topic_rule **rules, size_t *n, const char *topic, const char *id, rsim_sensor_kind kind,
                const char *where, rsim_errbuf *eb) {
  for (size_t i = 0; i < *n; i++)
    if (!strcmp((*rules)[i].topic, topic))
      return rsim_errbuf_set(eb, RSIM_EINVAL, "%s: topic '%s' is mapped twice", where, topic);
  if (!*topic || (id && (!*id || strchr(id, '=') || !rsim_utf8_valid(id, strlen(id)))) ||
      !rsim_utf8_valid(topic, strlen(topic)))
    return rsim_errbuf_set(eb, RSIM_EINVAL, "%s: topic '%s': empty or invalid topic or sensor id", where, topic);
  *rules = rsim_xrealloc(*rules, (*n + 1) * sizeof **rules);
  (*rules)[(*n)++] = (rsim_topic_rule){rsim_xstrdup(topic), id ? rsim_xstrdup(id) : NULL, kind};
  return RSIM_OK;
}

static int parse_kind(const char *s, rsim_sensor_kind *kind, const char *where, const char *topic, rsim_errbuf *eb) {
  if (!rsim_sensor_kind_parse(s, kind)) return RSIM_OK;
  return rsim_errbuf_set(eb, RSIM_EINVAL,
                         "%s: topic '%s': unknown kind '%s' (camera, radar, lidar, ultrasonic, imu, gps, can)",
                         where, topic, s);
}

int rsim_topic_rule_add(const char *spec, rsim_topic_rule **rules, size_t *n, rsim_errbuf *eb) {
  /* The topic may hold ':' but not '='; the kind follows the last ':' of the id. */
  const char *eq = strrchr(spec, '=');
  if (!eq || eq == spec || !eq[1])
    return rsim_errbuf_set(eb, RSIM_EINVAL, "--topic '%s': expected TOPIC=ID[:KIND] (ID '-' skips the topic)", spec);
  char *topic = rsim_xstrndup(spec, (size_t)(eq - spec)), *id = rsim_xstrdup(eq + 1);
  rsim_sensor_kind kind = RSIM_SENSOR_KIND_COUNT;
  char *colon = strrchr(id, ':');
  int rc = RSIM_OK;
  if (colon) {
    *colon = 0;
    rc = parse_kind(colon + 1, &kind, "--topic", topic, eb);
  }
  if (!rc) rc = push(rules, n, topic, id, kind, "--topic", eb);
  free(topic);
  free(id);
  return rc;
}

static int rule_from_map(yaml_document_t *doc, yaml_node_t *v, const char *topic, const char *path,
                         rsim_topic_rule **rules, size_t *n, rsim_errbuf *eb) {
  const char *id = NULL;
  rsim_sensor_kind kind = RSIM_SENSOR_KIND_COUNT;
  for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
    const char *k = rsim__yaml_scalar(doc, p->key), *val = rsim__yaml_scalar(doc, p->value);
    if (!k || !val)
      return rsim_errbuf_set(eb, RSIM_EINVAL, "%s: topic '%s': expected {id: ID, kind: KIND}", path, topic);
    if (!strcmp(k, "id")) id = val;
    else if (!strcmp(k, "kind")) {
      int rc = parse_kind(val, &kind, path, topic, eb);
      if (rc) return rc;
    } else
      return rsim_errbuf_set(eb, RSIM_EINVAL, "%s: topic '%s': unknown key '%s' (id, kind)", path, topic, k);
  }
  return push(rules, n, topic, id, kind, path, eb);
}

int rsim_topic_map_load(const char *path, rsim_topic_rule **out, size_t *out_n, rsim_errbuf *eb) {
  *out = NULL;
  *out_n = 0;
  yaml_document_t doc;
  int rc = rsim__yaml_load(path, RSIM_EINVAL, &doc, eb);
  if (rc) return rc;
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (root && root->type != YAML_MAPPING_NODE)
    rc = rsim_errbuf_set(eb, RSIM_EINVAL, "%s: a topic map is a mapping from topics to sensor ids", path);
  for (yaml_node_pair_t *p = root && !rc ? root->data.mapping.pairs.start : NULL;
       p && p < root->data.mapping.pairs.top && !rc; p++) {
    const char *topic = rsim__yaml_scalar(&doc, p->key), *val = rsim__yaml_scalar(&doc, p->value);
    yaml_node_t *v = yaml_document_get_node(&doc, p->value);
    if (!topic) rc = rsim_errbuf_set(eb, RSIM_EINVAL, "%s: a topic must be a string", path);
    else if (val) rc = push(out, out_n, topic, !strcmp(val, "skip") ? "-" : val, RSIM_SENSOR_KIND_COUNT, path, eb);
    else if (v && v->type == YAML_MAPPING_NODE) rc = rule_from_map(&doc, v, topic, path, out, out_n, eb);
    else rc = rsim_errbuf_set(eb, RSIM_EINVAL, "%s: topic '%s': expected ID, skip or {id:, kind:}", path, topic);
  }
  yaml_document_delete(&doc);
  if (rc) {
    rsim_topic_rules_free(*out, *out_n);
    *out = NULL;
    *out_n = 0;
  }
  return rc;
}

void rsim_topic_rules_free(rsim_topic_rule *rules, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(rules[i].topic);
    free(rules[i].id);
  }
  free(rules);
}
