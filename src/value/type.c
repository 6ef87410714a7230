/*
** type.c -- WIT type trees: construction, structural equality, and
** printing in WIT syntax for messages and `replaysim inspect`.
*/
#include <stdlib.h>
#include <string.h>

#include "rsim/value.h"

static const char *const kScalarNames[] = {
    [RSIM_BOOL] = "bool", [RSIM_S8] = "s8",   [RSIM_U8] = "u8",   [RSIM_S16] = "s16",
    [RSIM_U16] = "u16",   [RSIM_S32] = "s32", [RSIM_U32] = "u32", [RSIM_S64] = "s64",
    [RSIM_U64] = "u64",   [RSIM_F32] = "f32", [RSIM_F64] = "f64", [RSIM_CHAR] = "char",
    [RSIM_STRING] = "string"};

rsim_type *rsim_type_new(rsim_kind kind) {
  rsim_type *t = rsim_xcalloc(1, sizeof *t);
  t->kind = kind;
  return t;
}

static void push(rsim_type *t, char *name, rsim_type *member) {
  t->names = rsim_xrealloc(t->names, (t->n + 1) * sizeof *t->names);
  t->types = rsim_xrealloc(t->types, (t->n + 1) * sizeof *t->types);
  t->names[t->n] = name;
  t->types[t->n] = member;
  t->n++;
}

rsim_type *rsim_type_list(rsim_type *elem) {
  rsim_type *t = rsim_type_new(RSIM_LIST);
  push(t, NULL, elem);
  return t;
}

rsim_type *rsim_type_option(rsim_type *elem) {
  rsim_type *t = rsim_type_new(RSIM_OPTION);
  push(t, NULL, elem);
  return t;
}

void rsim_type_add(rsim_type *t, const char *name, rsim_type *member) {
  push(t, name ? rsim_xstrdup(name) : NULL, member);
}

void rsim_type_free(rsim_type *t) {
  if (!t) return;
  for (size_t i = 0; i < t->n; i++) {
    if (t->names) free(t->names[i]);
    if (t->types) rsim_type_free(t->types[i]);
  }
  free(t->names);
  free(t->types);
  free(t);
}

rsim_type *rsim_type_clone(const rsim_type *t) {
  if (!t) return NULL;
  rsim_type *c = rsim_type_new(t->kind);
  for (size_t i = 0; i < t->n; i++)
    push(c, t->names && t->names[i] ? rsim_xstrdup(t->names[i]) : NULL,
         t->types ? rsim_type_clone(t->types[i]) : NULL);
  return c;
}

static bool same_name(const char *a, const char *b) {
  return (!a && !b) || (a && b && !strcmp(a, b));
}

bool rsim_type_equal(const rsim_type *a, const rsim_type *b) {
  if (!a || !b) return a == b;
  if (a->kind != b->kind || a->n != b->n) return false;
  for (size_t i = 0; i < a->n; i++) {
    if (!same_name(a->names[i], b->names[i])) return false;
    if (!rsim_type_equal(a->types[i], b->types[i])) return false;
  }
  return true;
}

int rsim_type_member(const rsim_type *t, const char *name) {
  for (size_t i = 0; i < t->n; i++)
    if (t->names[i] && !strcmp(t->names[i], name)) return (int)i;
  return -1;
}

static void format_members(const rsim_type *t, rsim_buf *out, bool with_types) {
  rsim_buf_puts(out, " {");
  for (size_t i = 0; i < t->n; i++) {
    rsim_buf_printf(out, "%s %s", i ? "," : "", t->names[i] ? t->names[i] : "?");
    if (with_types && t->types[i]) {
      rsim_buf_puts(out, t->kind == RSIM_RECORD ? ": " : "(");
      rsim_type_format(t->types[i], out);
      if (t->kind != RSIM_RECORD) rsim_buf_putc(out, ')');
    }
  }
  rsim_buf_puts(out, t->n ? " }" : "}");
}

static void format_generic(const char *name, const rsim_type *t, rsim_buf *out) {
  rsim_buf_printf(out, "%s<", name);
  for (size_t i = 0; i < t->n; i++) {
    if (i) rsim_buf_puts(out, ", ");
    if (t->types[i]) rsim_type_format(t->types[i], out);
    else rsim_buf_putc(out, '_');
  }
  rsim_buf_putc(out, '>');
}

void rsim_type_format(const rsim_type *t, rsim_buf *out) {
  if (!t) {
    rsim_buf_puts(out, "()");
    return;
  }
  switch (t->kind) {
    case RSIM_LIST: format_generic("list", t, out); break;
    case RSIM_OPTION: format_generic("option", t, out); break;
    case RSIM_TUPLE: format_generic("tuple", t, out); break;
    case RSIM_RESULT:
      if (!t->types[0] && !t->types[1]) rsim_buf_puts(out, "result");
      else format_generic("result", t, out);
      break;
    case RSIM_RECORD: rsim_buf_puts(out, "record"); format_members(t, out, true); break;
    case RSIM_VARIANT: rsim_buf_puts(out, "variant"); format_members(t, out, true); break;
    case RSIM_ENUM: rsim_buf_puts(out, "enum"); format_members(t, out, false); break;
    case RSIM_FLAGS: rsim_buf_puts(out, "flags"); format_members(t, out, false); break;
    case RSIM_RESOURCE: rsim_buf_puts(out, "resource"); break;
    case RSIM_BYTES: rsim_buf_puts(out, "list<u8>"); break;
    default:
      rsim_buf_puts(out, (size_t)t->kind < sizeof kScalarNames / sizeof *kScalarNames &&
                                 kScalarNames[t->kind]
                             ? kScalarNames[t->kind]
                             : "?");
  }
}

char *rsim_type_str(const rsim_type *t) {
  rsim_buf b = {0};
  rsim_type_format(t, &b);
  return rsim_buf_take_str(&b);
}
