/*
** types.c -- reflection: a component's imported and exported functions and
** their WIT types, read from Wasmtime's component type and converted into
** rsim_type trees, so that the engine can check links before running.
*/
#include <stdlib.h>
#include <string.h>

#include "wasm/wasm_int.h"

static char *name_dup(const char *p, size_t n) { return rsim_xstrndup(p, n); }

static rsim_type *named_members(rsim_kind kind) { return rsim_type_new(kind); }

rsim_type *rsim__wasm_type(const wasmtime_component_valtype_t *t) {
  wasmtime_component_valtype_t sub;
  const char *name;
  size_t len;
  rsim_type *r;
  switch (t->kind) {
    case WASMTIME_COMPONENT_VALTYPE_BOOL: return rsim_type_new(RSIM_BOOL);
    case WASMTIME_COMPONENT_VALTYPE_S8: return rsim_type_new(RSIM_S8);
    case WASMTIME_COMPONENT_VALTYPE_S16: return rsim_type_new(RSIM_S16);
    case WASMTIME_COMPONENT_VALTYPE_S32: return rsim_type_new(RSIM_S32);
    case WASMTIME_COMPONENT_VALTYPE_S64: return rsim_type_new(RSIM_S64);
    case WASMTIME_COMPONENT_VALTYPE_U8: return rsim_type_new(RSIM_U8);
    case WASMTIME_COMPONENT_VALTYPE_U16: return rsim_type_new(RSIM_U16);
    case WASMTIME_COMPONENT_VALTYPE_U32: return rsim_type_new(RSIM_U32);
    case WASMTIME_COMPONENT_VALTYPE_U64: return rsim_type_new(RSIM_U64);
    case WASMTIME_COMPONENT_VALTYPE_F32: return rsim_type_new(RSIM_F32);
    case WASMTIME_COMPONENT_VALTYPE_F64: return rsim_type_new(RSIM_F64);
    case WASMTIME_COMPONENT_VALTYPE_CHAR: return rsim_type_new(RSIM_CHAR);
    case WASMTIME_COMPONENT_VALTYPE_STRING: return rsim_type_new(RSIM_STRING);
    case WASMTIME_COMPONENT_VALTYPE_LIST:
      wasmtime_component_list_type_element(t->of.list, &sub);
      r = rsim_type_list(rsim__wasm_type(&sub));
      wasmtime_component_valtype_delete(&sub);
      return r;
    case WASMTIME_COMPONENT_VALTYPE_OPTION:
      wasmtime_component_option_type_ty(t->of.option, &sub);
      r = rsim_type_option(rsim__wasm_type(&sub));
      wasmtime_component_valtype_delete(&sub);
      return r;
    case WASMTIME_COMPONENT_VALTYPE_RECORD:
      r = named_members(RSIM_RECORD);
      for (size_t i = 0; wasmtime_component_record_type_field_nth(t->of.record, i, &name, &len, &sub); i++) {
        char *n = name_dup(name, len);
        rsim_type_add(r, n, rsim__wasm_type(&sub));
        free(n);
        wasmtime_component_valtype_delete(&sub);
      }
      return r;
    case WASMTIME_COMPONENT_VALTYPE_TUPLE:
      r = rsim_type_new(RSIM_TUPLE);
      for (size_t i = 0; wasmtime_component_tuple_type_types_nth(t->of.tuple, i, &sub); i++) {
        rsim_type_add(r, NULL, rsim__wasm_type(&sub));
        wasmtime_component_valtype_delete(&sub);
      }
      return r;
    case WASMTIME_COMPONENT_VALTYPE_VARIANT: {
      r = named_members(RSIM_VARIANT);
      bool has;
      for (size_t i = 0;
           wasmtime_component_variant_type_case_nth(t->of.variant, i, &name, &len, &has, &sub); i++) {
        char *n = name_dup(name, len);
        rsim_type_add(r, n, has ? rsim__wasm_type(&sub) : NULL);
        free(n);
        if (has) wasmtime_component_valtype_delete(&sub);
      }
      return r;
    }
    case WASMTIME_COMPONENT_VALTYPE_ENUM:
    case WASMTIME_COMPONENT_VALTYPE_FLAGS: {
      bool is_enum = t->kind == WASMTIME_COMPONENT_VALTYPE_ENUM;
      r = named_members(is_enum ? RSIM_ENUM : RSIM_FLAGS);
      for (size_t i = 0;
           is_enum ? wasmtime_component_enum_type_names_nth(t->of.enum_, i, &name, &len)
                   : wasmtime_component_flags_type_names_nth(t->of.flags, i, &name, &len);
           i++) {
        char *n = name_dup(name, len);
        rsim_type_add(r, n, NULL);
        free(n);
      }
      return r;
    }
    case WASMTIME_COMPONENT_VALTYPE_RESULT:
      r = rsim_type_new(RSIM_RESULT);
      rsim_type_add(r, NULL, NULL);
      rsim_type_add(r, NULL, NULL);
      if (wasmtime_component_result_type_ok(t->of.result, &sub)) {
        r->types[0] = rsim__wasm_type(&sub);
        wasmtime_component_valtype_delete(&sub);
      }
      if (wasmtime_component_result_type_err(t->of.result, &sub)) {
        r->types[1] = rsim__wasm_type(&sub);
        wasmtime_component_valtype_delete(&sub);
      }
      return r;
    default:
      /* own/borrow handles, futures, streams, maps: not carried across links. */
      return rsim_type_new(RSIM_RESOURCE);
  }
}

void rsim__wasm_sig_clear(rsim_func_sig *s) {
  free(s->iface);
  free(s->name);
  free(s->full);
  for (size_t i = 0; i < s->n_params; i++) {
    free(s->param_names[i]);
    rsim_type_free(s->param_types[i]);
  }
  free(s->param_names);
  free(s->param_types);
  rsim_type_free(s->result);
  memset(s, 0, sizeof *s);
}

static void add_func(rsim_func_sig **list, size_t *n, const char *iface, const char *name,
                     size_t name_len, const wasmtime_component_func_type_t *ft) {
  *list = rsim_xrealloc(*list, (*n + 1) * sizeof **list);
  rsim_func_sig *s = &(*list)[(*n)++];
  memset(s, 0, sizeof *s);
  s->iface = iface ? rsim_xstrdup(iface) : NULL;
  s->name = name_dup(name, name_len);
  rsim_buf full = {0};
  if (iface) rsim_buf_printf(&full, "%s#", iface);
  rsim_buf_append(&full, name, name_len);
  s->full = rsim_buf_take_str(&full);
  s->n_params = wasmtime_component_func_type_param_count(ft);
  s->param_names = rsim_xcalloc(s->n_params ? s->n_params : 1, sizeof *s->param_names);
  s->param_types = rsim_xcalloc(s->n_params ? s->n_params : 1, sizeof *s->param_types);
  for (size_t i = 0; i < s->n_params; i++) {
    const char *pn;
    size_t pl;
    wasmtime_component_valtype_t vt;
    wasmtime_component_func_type_param_nth(ft, i, &pn, &pl, &vt);
    s->param_names[i] = name_dup(pn, pl);
    s->param_types[i] = rsim__wasm_type(&vt);
    wasmtime_component_valtype_delete(&vt);
  }
  wasmtime_component_valtype_t rt;
  if (wasmtime_component_func_type_result(ft, &rt)) {
    s->result = rsim__wasm_type(&rt);
    wasmtime_component_valtype_delete(&rt);
  }
}

/* Walks one item: functions at the root, or the functions of an instance. */
static void walk_item(rsim_component *c, bool imports, const char *name, size_t len,
                      const wasmtime_component_item_t *item) {
  rsim_func_sig **list = imports ? &c->imports : &c->exports;
  size_t *n = imports ? &c->n_imports : &c->n_exports;
  if (item->kind == WASMTIME_COMPONENT_ITEM_COMPONENT_FUNC) {
    add_func(list, n, NULL, name, len, item->of.component_func);
    return;
  }
  if (item->kind != WASMTIME_COMPONENT_ITEM_COMPONENT_INSTANCE) return;
  char *iface = name_dup(name, len);
  const wasmtime_component_instance_type_t *it = item->of.component_instance;
  size_t count = wasmtime_component_instance_type_export_count(it, c->e->engine);
  for (size_t i = 0; i < count; i++) {
    const char *fn;
    size_t fl;
    wasmtime_component_item_t sub;
    if (!wasmtime_component_instance_type_export_nth(it, c->e->engine, i, &fn, &fl, &sub)) continue;
    if (sub.kind == WASMTIME_COMPONENT_ITEM_COMPONENT_FUNC)
      add_func(list, n, iface, fn, fl, sub.of.component_func);
    wasmtime_component_item_delete(&sub);
  }
  free(iface);
}

void rsim__wasm_reflect(rsim_component *c) {
  wasmtime_component_type_t *ct = wasmtime_component_type(c->comp);
  for (int imports = 1; imports >= 0; imports--) {
    size_t count = imports ? wasmtime_component_type_import_count(ct, c->e->engine)
                           : wasmtime_component_type_export_count(ct, c->e->engine);
    for (size_t i = 0; i < count; i++) {
      const char *name;
      size_t len;
      wasmtime_component_item_t item;
      bool ok = imports ? wasmtime_component_type_import_nth(ct, c->e->engine, i, &name, &len, &item)
                        : wasmtime_component_type_export_nth(ct, c->e->engine, i, &name, &len, &item);
      if (!ok) continue;
      walk_item(c, imports, name, len, &item);
      wasmtime_component_item_delete(&item);
    }
  }
  wasmtime_component_type_delete(ct);
}
