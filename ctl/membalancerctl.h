/* membalancerctl's parts: the commands that show (membalancerctl-show.c),
 * the table and JSON they print (membalancerctl-format.c), and main with
 * the commands that change things (membalancerctl.c). */
#pragma once

/* ctl/meson.build passes it; the default keeps a bare compile working. */
#ifndef GETTEXT_PACKAGE
#define GETTEXT_PACKAGE "membalancer"
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include <membalancer.h>

G_BEGIN_DECLS

typedef struct {
    MembalancerClient *client;
    gboolean json;
    gboolean kib;
} Ctl;

/* membalancerctl.c */
int mb_ctl_fail(const char *what, GError *error);
/* FALSE with error set when membalancerd is not on the bus (nor could be
 * started by it). */
gboolean mb_ctl_check_running(Ctl *ctl, GError **error);

/* membalancerctl-format.c: the table of list and watch, followed by the
 * notes a reader must not miss (paused, the hypervisor lost). */
void mb_ctl_print_table(const Ctl *ctl, GPtrArray *vms);
/* "label value" lines, the values lined up at least min_width columns after
 * the indent. */
void mb_ctl_print_fields(const char *indent, gsize min_width, const char *const *labels,
                         const char *const *values, gsize n);
/* What DemandKiB means to a reader: "grows 1.5 MiB", "shrinks 35.0 MiB",
 * "steady", or "-" without statistics. */
char *mb_ctl_trend_text(MembalancerVm *vm, gboolean one_decimal);
/* One VM as a JSON object; connected is the manager's Connected. */
void mb_ctl_add_vm_json(JsonBuilder *builder, MembalancerVm *vm, gboolean connected);
void mb_ctl_add_uint(JsonBuilder *builder, const char *member, guint64 value);
void mb_ctl_add_string(JsonBuilder *builder, const char *member, const char *value);
void mb_ctl_add_boolean(JsonBuilder *builder, const char *member, gboolean value);
void mb_ctl_print_json(JsonBuilder *builder);

/* membalancerctl-show.c */
int mb_ctl_list(Ctl *ctl);
int mb_ctl_status(Ctl *ctl, const char *name);
int mb_ctl_info(Ctl *ctl);
int mb_ctl_watch(Ctl *ctl);

G_END_DECLS
