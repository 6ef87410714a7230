/*
** wit.c -- reads back a type from the text a run database keeps for it
** (components.result_type, written by rsim_type_format: "list<record {
** id: string, bbox: record { x: f32, ... } }>"), so that recorded values
** can be decoded and their fields found by name.
*/
#include <stdlib.h>
#include <string.h>

#include "eval/eval_int.h"

typedef struct parser {
  const char *s;
  bool ok;
} parser;

static void ws(parser *p) {
  while (*p->s == ' ') p->s++;
}

static bool eat(parser *p, const char *tok) {
  ws(p);
  size_t n = strlen(tok);
  if (strncmp(p->s, tok, n)) return false;
  p->s += n;
  return true;
}

static char *ident(parser *p) {
  ws(p);
  const char *b = p->s;
  while ((*p->s >= 'a' && *p->s <= 'z') || (*p->s >= 'A' && *p->s <= 'Z') || (*p->s >= '0' && *p->s <= '9') ||
         *p->s == '-' || *p->s == '_')
    p->s++;
  if (p->s == b) {
    p->ok = false;
    return NULL;
  }
  return rsim_xstrndup(b, (size_t)(p->s - b));
}

static rsim_type *type(parser *p, int depth);

/* "{ a: T, b: T }", "{ a(T), b }" or "{ a, b }"; at "{". */
static void members(parser *p, rsim_type *t, int depth, bool typed) {
  if (!eat(p, "{")) {
    p->ok = false;
    return;
  }
  if (eat(p, "}")) return;
  do {
    char *name = ident(p);
    rsim_type *m = NULL;
    if (p->ok && typed && t->kind == RSIM_RECORD) {
      if (!eat(p, ":")) p->ok = false;
      else m = type(p, depth + 1);
    } else if (p->ok && typed && eat(p, "(")) {
      m = type(p, depth + 1);
      if (!eat(p, ")")) p->ok = false;
    }
    rsim_type_add(t, name ? name : "?", m);
    free(name);
  } while (p->ok && eat(p, ","));
  if (!eat(p, "}")) p->ok = false;
}

static rsim_type *generic(parser *p, rsim_kind kind, int depth, size_t min, size_t max) {
  rsim_type *t = rsim_type_new(kind);
  if (!eat(p, "<")) {
    if (kind == RSIM_RESULT) { /* a bare "result" */
      rsim_type_add(t, NULL, NULL);
      rsim_type_add(t, NULL, NULL);
    } else {
      p->ok = false;
    }
    return t;
  }
  do {
    if (t->n == max) {
      p->ok = false;
      break;
    }
    rsim_type_add(t, NULL, eat(p, "_") ? NULL : type(p, depth + 1));
  } while (p->ok && eat(p, ","));
  if (!eat(p, ">") || t->n < min) p->ok = false;
  return t;
}

static rsim_type *type(parser *p, int depth) {
  static const struct {
    const char *name;
    rsim_kind kind;
  } scalars[] = {{"bool", RSIM_BOOL}, {"s8", RSIM_S8},   {"u8", RSIM_U8},   {"s16", RSIM_S16}, {"u16", RSIM_U16},
                 {"s32", RSIM_S32},   {"u32", RSIM_U32}, {"s64", RSIM_S64}, {"u64", RSIM_U64}, {"f32", RSIM_F32},
                 {"f64", RSIM_F64},   {"char", RSIM_CHAR}, {"string", RSIM_STRING}};
  if (depth > 64) {
    p->ok = false;
    return NULL;
  }
  if (eat(p, "()")) return NULL;
  char *word = ident(p);
  if (!word) return NULL;
  rsim_type *t = NULL;
  if (!strcmp(word, "list")) t = generic(p, RSIM_LIST, depth, 1, 1);
  else if (!strcmp(word, "option")) t = generic(p, RSIM_OPTION, depth, 1, 1);
  else if (!strcmp(word, "tuple")) t = generic(p, RSIM_TUPLE, depth, 0, 16);
  else if (!strcmp(word, "result")) t = generic(p, RSIM_RESULT, depth, 2, 2);
  else if (!strcmp(word, "record")) members(p, t = rsim_type_new(RSIM_RECORD), depth, true);
  else if (!strcmp(word, "variant")) members(p, t = rsim_type_new(RSIM_VARIANT), depth, true);
  else if (!strcmp(word, "enum")) members(p, t = rsim_type_new(RSIM_ENUM), depth, false);
  else if (!strcmp(word, "flags")) members(p, t = rsim_type_new(RSIM_FLAGS), depth, false);
  else
    for (size_t i = 0; i < sizeof scalars / sizeof *scalars && !t; i++)
      if (!strcmp(word, scalars[i].name)) t = rsim_type_new(scalars[i].kind);
  if (!t) p->ok = false;
  free(word);
  return t;
}

rsim_type *rsim__eval_type_parse(const char *text) {
  parser p = {text, true};
  rsim_type *t = type(&p, 0);
  ws(&p);
  if (!p.ok || *p.s) {
    rsim_type_free(t);
    return NULL;
  }
  return t;
}
