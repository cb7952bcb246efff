/* membalancerctl: look at and steer membalancerd over D-Bus. */
/* service/meson.build passes both; the defaults keep a bare compile working
 * (tests/i18n checks the built program has the configured LOCALEDIR). */
#ifndef GETTEXT_PACKAGE
#define GETTEXT_PACKAGE "membalancer"
#endif
#ifndef MB_LOCALEDIR
#define MB_LOCALEDIR "/usr/local/share/locale"
#endif

#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mb-bus.h"
#include "mb-daemon.h"
#include "mb-dbus-generated.h"
#include "mb-error.h"
#include "mb-size.h"
#include "mb-vm-object.h"

/* What people read is translated (the membalancer domain, po/README.md);
 * what scripts read is not: --json, --kib, the paths register prints. */

static const char usage_text[] =
    /* TRANSLATORS: keep the commands and options (list, --json, ...), they
       are what is typed; NAME, N, SIZE as in the options' descriptions. */
    N_("COMMAND\n\n"
       "Commands:\n"
       "  list                               the registered VMs (--json, --kib)\n"
       "  status NAME                        one VM in detail (--json)\n"
       "  register NAME --priority N [--min SIZE] [--max SIZE] [--foreground]\n"
       "  unregister NAME\n"
       "  set-priority NAME N\n"
       "  set-foreground NAME\n"
       "  pause | resume                     stop or restart periodic balancing\n"
       "  rebalance                          run one interval now\n"
       "  info                               the service's settings (--json)\n"
       "  watch                              a live table (--kib); Ctrl-C quits\n\n"
       "Sizes take KiB, MiB, GiB suffixes (a bare number is KiB). list and watch\n"
       "show sizes like free -h (512.0 MiB, 1.5 GiB); --kib prints whole KiB for\n"
       "scripts. --json always gives KiB.");

typedef struct {
    GDBusConnection *connection;
    gboolean json;
    gboolean kib;
} Ctl;

static int
fail(const char *what, GError *error)
{
    if (g_dbus_error_is_remote_error(error))
        g_dbus_error_strip_remote_error(error);
    g_printerr("membalancerctl: %s%s%s\n", what, *what != '\0' ? ": " : "", error->message);
    return 1;
}

static int usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static int
usage_error(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    g_autofree char *message = g_strdup_vprintf(fmt, args);
    va_end(args);
    g_printerr("membalancerctl: %s\n%s\n", message, _("(see membalancerctl --help)"));
    return 2;
}

/* A JSON number: json-glib's integers end at G_MAXINT64, JSON's do not. */
static void
add_uint(JsonBuilder *builder, const char *member, guint64 value)
{
    json_builder_set_member_name(builder, member);
    if (value <= G_MAXINT64)
        json_builder_add_int_value(builder, (gint64)value);
    else
        json_builder_add_double_value(builder, (double)value);
}

static void
add_int(JsonBuilder *builder, const char *member, gint64 value)
{
    json_builder_set_member_name(builder, member);
    json_builder_add_int_value(builder, value);
}

static void
add_string(JsonBuilder *builder, const char *member, const char *value)
{
    json_builder_set_member_name(builder, member);
    json_builder_add_string_value(builder, value != NULL ? value : "");
}

static void
add_boolean(JsonBuilder *builder, const char *member, gboolean value)
{
    json_builder_set_member_name(builder, member);
    json_builder_add_boolean_value(builder, value);
}

/* One line of JSON: json-glib escapes the strings and writes numbers the
 * same in every locale. */
static void
print_json(JsonBuilder *builder)
{
    g_autoptr(JsonNode) root = json_builder_get_root(builder);
    g_autoptr(JsonGenerator) generator = json_generator_new();
    g_autofree char *text = NULL;

    json_generator_set_root(generator, root);
    text = json_generator_to_data(generator, NULL);
    g_print("%s\n", text);
}

/* Starts the service if the bus can (D-Bus activation, systemd's unit on
 * an installed system): a Ping, whose errors are left to what follows. */
static void
activate(Ctl *ctl)
{
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        ctl->connection, MB_BUS_NAME, MB_OBJECT_PATH, "org.freedesktop.DBus.Peer", "Ping", NULL,
        NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
}

static GDBusObjectManager *
object_manager(Ctl *ctl, GError **error)
{
    g_autoptr(GDBusObjectManager) manager = NULL;
    g_autofree char *owner = NULL;

    activate(ctl);
    manager = mb_object_manager_client_new_sync(
        ctl->connection, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START, MB_BUS_NAME,
        MB_OBJECT_PATH, NULL, error);
    if (manager == NULL)
        return NULL;
    owner = g_dbus_object_manager_client_get_name_owner(G_DBUS_OBJECT_MANAGER_CLIENT(manager));
    if (owner == NULL) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    _("membalancerd is not running on this bus (%s is not owned, nor "
                      "activatable)"),
                    MB_BUS_NAME);
        return NULL;
    }
    return g_steal_pointer(&manager);
}

static MbMemBalancer *
manager_proxy(Ctl *ctl, GError **error)
{
    return mb_mem_balancer_proxy_new_sync(ctl->connection, G_DBUS_PROXY_FLAGS_NONE, MB_BUS_NAME,
                                          MB_OBJECT_PATH, NULL, error);
}

static gint
compare_vms(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(mb_mem_balancer_vm_get_name(*(MbMemBalancerVM *const *)a),
                     mb_mem_balancer_vm_get_name(*(MbMemBalancerVM *const *)b));
}

/* The VMs, sorted by name (each a new reference). */
static GPtrArray *
collect_vms(GDBusObjectManager *manager)
{
    GPtrArray *vms = g_ptr_array_new_with_free_func(g_object_unref);
    GList *objects = g_dbus_object_manager_get_objects(manager);

    for (GList *l = objects; l != NULL; l = l->next) {
        MbMemBalancerVM *vm = mb_object_get_mem_balancer_vm(MB_OBJECT(l->data));
        if (vm != NULL)
            g_ptr_array_add(vms, vm);
    }
    g_list_free_full(objects, g_object_unref);
    g_ptr_array_sort(vms, compare_vms);
    return vms;
}

/* ---- the table ------------------------------------------------------------ */

enum { ALIGN_LEFT, ALIGN_RIGHT };

/* The titles are translated, the --kib ones (for scripts) are not. */
static const struct {
    const char *title;     /* sizes as people read them */
    const char *kib_title; /* --kib */
    int align;
} columns[] = {
    /* TRANSLATORS: titles of the columns of "membalancerctl list": short,
       upper case, one word each. Column title: the VM's name. */
    {N_("NAME"), "NAME", ALIGN_LEFT},
    /* TRANSLATORS: column title: the VM's priority (0-100). */
    {N_("PRIO"), "PRIO", ALIGN_RIGHT},
    /* TRANSLATORS: column title: "*" marks the foreground VM. */
    {N_("FG"), "FG", ALIGN_RIGHT},
    /* TRANSLATORS: column title: the memory the VM has now. */
    {N_("ALLOC"), "ALLOC_KIB", ALIGN_RIGHT},
    /* TRANSLATORS: column title: its guaranteed minimum. */
    {N_("MIN"), "MIN_KIB", ALIGN_RIGHT},
    /* TRANSLATORS: column title: its maximum. */
    {N_("MAX"), "MAX_KIB", ALIGN_RIGHT},
    /* TRANSLATORS: column title: the predicted change of its demand. */
    {N_("DEMAND"), "DEMAND_KIB", ALIGN_RIGHT},
    /* TRANSLATORS: column title: memory it could give without swapping. */
    {N_("RECLAIM"), "RECLAIM", ALIGN_RIGHT},
    /* TRANSLATORS: column title: memory the guest has swapped out. */
    {N_("SWAPOUT"), "SWAPOUT", ALIGN_RIGHT},
    /* TRANSLATORS: column title: where its statistics come from. */
    {N_("STATS"), "STATS", ALIGN_LEFT},
    /* TRANSLATORS: column title: why memory last moved. */
    {N_("LAST"), "LAST", ALIGN_LEFT},
};

/* Terminal columns of UTF-8 text: wide (East Asian) characters take two,
 * combining marks none. */
static gsize
display_width(const char *text)
{
    gsize width = 0;

    for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (g_unichar_iszerowidth(c))
            continue;
        width += g_unichar_iswide(c) ? 2 : 1;
    }
    return width;
}

/* A cell owns its text; control characters (which would move the cursor
 * or break the alignment) become '?'. Strings from the bus are valid UTF-8. */
static char *
cell_text(const char *text)
{
    GString *out = g_string_new(NULL);

    for (const char *p = text != NULL ? text : ""; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (g_unichar_iscntrl(c))
            g_string_append_c(out, '?');
        else
            g_string_append_unichar(out, c);
    }
    return g_string_free(out, FALSE);
}

/* "label value" lines, the values lined up at least min_width columns after
 * the indent (a translated label is not one byte per column). */
static void
print_fields(const char *indent, gsize min_width, const char *const *labels,
             const char *const *values, gsize n)
{
    gsize width = min_width;

    for (gsize i = 0; i < n; i++)
        width = MAX(width, display_width(labels[i]));
    for (gsize i = 0; i < n; i++)
        g_print("%s%s%*s %s\n", indent, labels[i], (int)(width - display_width(labels[i])), "",
                values[i]);
}

static char *
size_cell(const Ctl *ctl, guint64 kib)
{
    if (ctl->kib)
        return g_strdup_printf("%" G_GUINT64_FORMAT, kib);
    return mb_size_format_kib_1dp(kib);
}

static char *
delta_cell(const Ctl *ctl, gint64 kib)
{
    if (ctl->kib)
        return g_strdup_printf("%" G_GINT64_FORMAT, kib);
    return mb_size_format_delta_kib_1dp(kib);
}

static void
print_table(const Ctl *ctl, GPtrArray *vms, gboolean paused)
{
    const gsize n_columns = G_N_ELEMENTS(columns);
    g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
    gsize widths[G_N_ELEMENTS(columns)] = {0};
    g_autoptr(GString) line = g_string_new(NULL);

    for (gsize c = 0; c < n_columns; c++)
        g_ptr_array_add(cells, g_strdup(ctl->kib ? columns[c].kib_title : _(columns[c].title)));
    for (guint i = 0; i < vms->len; i++) {
        MbMemBalancerVM *vm = g_ptr_array_index(vms, i);

        g_ptr_array_add(cells, cell_text(mb_mem_balancer_vm_get_name(vm)));
        g_ptr_array_add(cells, g_strdup_printf("%u", mb_mem_balancer_vm_get_priority(vm)));
        g_ptr_array_add(cells, g_strdup(mb_mem_balancer_vm_get_foreground(vm) ? "*" : ""));
        g_ptr_array_add(cells, size_cell(ctl, mb_mem_balancer_vm_get_allocated_kib(vm)));
        g_ptr_array_add(cells, size_cell(ctl, mb_mem_balancer_vm_get_min_kib(vm)));
        g_ptr_array_add(cells, size_cell(ctl, mb_mem_balancer_vm_get_max_kib(vm)));
        g_ptr_array_add(cells, delta_cell(ctl, mb_mem_balancer_vm_get_demand_kib(vm)));
        g_ptr_array_add(cells, size_cell(ctl, mb_mem_balancer_vm_get_reclaimable_kib(vm)));
        g_ptr_array_add(cells, size_cell(ctl, mb_mem_balancer_vm_get_swap_out_kib(vm)));
        g_ptr_array_add(cells, cell_text(mb_mem_balancer_vm_get_stats_source(vm)));
        g_ptr_array_add(cells, cell_text(mb_mem_balancer_vm_get_last_reason(vm)));
    }
    for (guint i = 0; i < cells->len; i++)
        widths[i % n_columns] =
            MAX(widths[i % n_columns], display_width(g_ptr_array_index(cells, i)));

    for (guint row = 0; row < cells->len / n_columns; row++) {
        g_string_truncate(line, 0);
        for (gsize c = 0; c < n_columns; c++) {
            const char *text = g_ptr_array_index(cells, row * n_columns + c);
            gsize pad = widths[c] - display_width(text);

            if (c > 0)
                g_string_append_c(line, ' ');
            if (columns[c].align == ALIGN_RIGHT)
                for (gsize k = 0; k < pad; k++)
                    g_string_append_c(line, ' ');
            g_string_append(line, text);
            /* The last column has nothing after it to line up. */
            if (columns[c].align == ALIGN_LEFT && c + 1 < n_columns)
                for (gsize k = 0; k < pad; k++)
                    g_string_append_c(line, ' ');
        }
        g_print("%s\n", line->str);
    }
    if (paused)
        g_print("%s\n", _("(balancing is paused)"));
}

/* ---- JSON ------------------------------------------------------------------- */

/* The fields and their order are the interface scripts read: add, never
 * rename or drop. Sizes are KiB. */
static void
add_vm_json(JsonBuilder *builder, MbMemBalancerVM *vm)
{
    json_builder_begin_object(builder);
    add_string(builder, "name", mb_mem_balancer_vm_get_name(vm));
    add_uint(builder, "priority", mb_mem_balancer_vm_get_priority(vm));
    add_boolean(builder, "foreground", mb_mem_balancer_vm_get_foreground(vm));
    add_uint(builder, "min_kib", mb_mem_balancer_vm_get_min_kib(vm));
    add_uint(builder, "max_kib", mb_mem_balancer_vm_get_max_kib(vm));
    add_uint(builder, "allocated_kib", mb_mem_balancer_vm_get_allocated_kib(vm));
    add_int(builder, "demand_kib", mb_mem_balancer_vm_get_demand_kib(vm));
    add_uint(builder, "reclaimable_kib", mb_mem_balancer_vm_get_reclaimable_kib(vm));
    add_uint(builder, "active_anon_kib", mb_mem_balancer_vm_get_active_anon_kib(vm));
    add_uint(builder, "active_file_kib", mb_mem_balancer_vm_get_active_file_kib(vm));
    add_uint(builder, "inactive_file_kib", mb_mem_balancer_vm_get_inactive_file_kib(vm));
    add_uint(builder, "free_kib", mb_mem_balancer_vm_get_free_kib(vm));
    add_uint(builder, "swap_out_kib", mb_mem_balancer_vm_get_swap_out_kib(vm));
    add_string(builder, "stats_source", mb_mem_balancer_vm_get_stats_source(vm));
    add_uint(builder, "last_update_us", mb_mem_balancer_vm_get_last_update(vm));
    add_string(builder, "last_reason", mb_mem_balancer_vm_get_last_reason(vm));
    add_string(builder, "path", g_dbus_proxy_get_object_path(G_DBUS_PROXY(vm)));
    json_builder_end_object(builder);
}

static int
cmd_list(Ctl *ctl)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusObjectManager) manager = object_manager(ctl, &error);
    g_autoptr(GPtrArray) vms = NULL;

    if (manager == NULL)
        return fail("list", error);
    vms = collect_vms(manager);
    if (ctl->json) {
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_array(builder);
        for (guint i = 0; i < vms->len; i++)
            add_vm_json(builder, g_ptr_array_index(vms, i));
        json_builder_end_array(builder);
        print_json(builder);
        return 0;
    }
    print_table(ctl, vms, FALSE);
    return 0;
}

static MbMemBalancerVM *
find_vm(GPtrArray *vms, const char *name)
{
    for (guint i = 0; i < vms->len; i++) {
        if (g_strcmp0(mb_mem_balancer_vm_get_name(g_ptr_array_index(vms, i)), name) == 0)
            return g_ptr_array_index(vms, i);
    }
    return NULL;
}

static int
cmd_status(Ctl *ctl, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusObjectManager) manager = object_manager(ctl, &error);
    g_autoptr(GPtrArray) vms = NULL;
    MbMemBalancerVM *vm;

    if (manager == NULL)
        return fail("status", error);
    vms = collect_vms(manager);
    vm = find_vm(vms, name);
    if (vm == NULL) {
        g_autofree char *message = g_strdup_printf(_("no VM named '%s' is registered"), name);

        g_printerr("membalancerctl: status: %s\n", message);
        return 1;
    }
    if (ctl->json) {
        g_autoptr(JsonBuilder) builder = json_builder_new();

        add_vm_json(builder, vm);
        print_json(builder);
        return 0;
    }
    guint priority = mb_mem_balancer_vm_get_priority(vm);
    g_autofree char *demand =
        g_strdup_printf("%+" G_GINT64_FORMAT, mb_mem_balancer_vm_get_demand_kib(vm));
    const char *labels[] = {
        _("priority:"),    _("allocated:"),   _("minimum:"),     _("maximum:"),
        _("reclaimable:"), _("active anon:"), _("active file:"), _("inactive file:"),
        _("free:"),        _("swapped out:"), _("demand:"),      _("statistics:"),
        _("last move:"),
    };
    char *values[] = {
        mb_mem_balancer_vm_get_foreground(vm) ? g_strdup_printf(_("%u (foreground)"), priority)
                                              : g_strdup_printf("%u", priority),
        mb_size_format_kib(mb_mem_balancer_vm_get_allocated_kib(vm)),
        mb_size_format_kib(mb_mem_balancer_vm_get_min_kib(vm)),
        mb_size_format_kib(mb_mem_balancer_vm_get_max_kib(vm)),
        mb_size_format_kib(mb_mem_balancer_vm_get_reclaimable_kib(vm)),
        mb_size_format_kib(mb_mem_balancer_vm_get_active_anon_kib(vm)),
        mb_size_format_kib(mb_mem_balancer_vm_get_active_file_kib(vm)),
        mb_size_format_kib(mb_mem_balancer_vm_get_inactive_file_kib(vm)),
        mb_size_format_kib(mb_mem_balancer_vm_get_free_kib(vm)),
        mb_size_format_kib(mb_mem_balancer_vm_get_swap_out_kib(vm)),
        /* The number apart: xgettext cannot see through G_GINT64_FORMAT. */
        g_strdup_printf(_("%s KiB per interval"), demand),
        g_strdup(mb_mem_balancer_vm_get_stats_source(vm)),
        g_strdup(mb_mem_balancer_vm_get_last_reason(vm)),
    };

    G_STATIC_ASSERT(G_N_ELEMENTS(labels) == G_N_ELEMENTS(values));
    g_print("%s (%s)\n", mb_mem_balancer_vm_get_name(vm),
            g_dbus_proxy_get_object_path(G_DBUS_PROXY(vm)));
    print_fields("  ", 16, labels, (const char *const *)values, G_N_ELEMENTS(values));
    for (gsize i = 0; i < G_N_ELEMENTS(values); i++)
        g_free(values[i]);
    return 0;
}

static int
cmd_info(Ctl *ctl)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusObjectManager) om = object_manager(ctl, &error);
    g_autoptr(MbMemBalancer) manager = NULL;

    if (om == NULL || (manager = manager_proxy(ctl, &error)) == NULL)
        return fail("info", error);
    if (ctl->json) {
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        add_string(builder, "version", mb_mem_balancer_get_version(manager));
        add_uint(builder, "pool_kib", mb_mem_balancer_get_pool_kib(manager));
        add_uint(builder, "reserve_kib", mb_mem_balancer_get_reserve_kib(manager));
        add_uint(builder, "interval_ms", mb_mem_balancer_get_interval_ms(manager));
        json_builder_set_member_name(builder, "alpha");
        json_builder_add_double_value(builder, mb_mem_balancer_get_alpha(manager));
        add_string(builder, "policy", mb_mem_balancer_get_policy(manager));
        add_boolean(builder, "paused", mb_mem_balancer_get_paused(manager));
        add_string(builder, "backend", mb_mem_balancer_get_backend(manager));
        add_uint(builder, "vm_count", mb_mem_balancer_get_vm_count(manager));
        json_builder_end_object(builder);
        print_json(builder);
        return 0;
    }
    g_autofree char *pool_kib =
        g_strdup_printf("%" G_GUINT64_FORMAT, mb_mem_balancer_get_pool_kib(manager));
    g_autofree char *reserve_kib =
        g_strdup_printf("%" G_GUINT64_FORMAT, mb_mem_balancer_get_reserve_kib(manager));
    const char *labels[] = {
        _("version:"), _("backend:"), _("policy:"), _("interval:"),
        _("pool:"),    _("paused:"),  _("VMs:"),
    };
    /* alpha is written the locale's way (0,3 in German), as it always was. */
    char *values[] = {
        g_strdup(mb_mem_balancer_get_version(manager)),
        g_strdup(mb_mem_balancer_get_backend(manager)),
        g_strdup_printf(_("%s (alpha %g)"), mb_mem_balancer_get_policy(manager),
                        mb_mem_balancer_get_alpha(manager)),
        g_strdup_printf(_("%u ms"), mb_mem_balancer_get_interval_ms(manager)),
        g_strdup_printf(_("%s KiB (reserve %s KiB)"), pool_kib, reserve_kib),
        g_strdup(mb_mem_balancer_get_paused(manager) ? _("yes") : _("no")),
        g_strdup_printf("%u", mb_mem_balancer_get_vm_count(manager)),
    };

    G_STATIC_ASSERT(G_N_ELEMENTS(labels) == G_N_ELEMENTS(values));
    print_fields("", 9, labels, (const char *const *)values, G_N_ELEMENTS(values));
    for (gsize i = 0; i < G_N_ELEMENTS(values); i++)
        g_free(values[i]);
    return 0;
}

static int
cmd_set_paused(Ctl *ctl, gboolean paused)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        ctl->connection, MB_BUS_NAME, MB_OBJECT_PATH, "org.freedesktop.DBus.Properties", "Set",
        g_variant_new("(ssv)", MB_BUS_NAME, "Paused", g_variant_new_boolean(paused)), NULL,
        G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

    if (reply == NULL)
        return fail(paused ? "pause" : "resume", error);
    return 0;
}

typedef struct {
    const Ctl *ctl;
    GMainLoop *loop;
    GDBusObjectManager *manager;
    MbMemBalancer *proxy;
    guint redraw_id;
} Watch;

static gboolean
watch_redraw(gpointer user_data)
{
    Watch *watch = user_data;
    g_autoptr(GPtrArray) vms = collect_vms(watch->manager);
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *stamp = g_date_time_format(now, "%H:%M:%S");
    guint64 pool_kib = mb_mem_balancer_get_pool_kib(watch->proxy);
    g_autofree char *pool = watch->ctl->kib
                                ? g_strdup_printf("%" G_GUINT64_FORMAT " KiB", pool_kib)
                                : mb_size_format_kib_1dp(pool_kib);

    watch->redraw_id = 0;
    if (isatty(STDOUT_FILENO))
        g_print("\033[H\033[2J");
    g_print(_("membalancer  %s  policy %s  pool %s  (Ctrl-C quits)"), stamp,
            mb_mem_balancer_get_policy(watch->proxy), pool);
    g_print("\n\n");
    print_table(watch->ctl, vms, mb_mem_balancer_get_paused(watch->proxy));
    if (!isatty(STDOUT_FILENO))
        g_print("\n");
    fflush(stdout);
    return G_SOURCE_REMOVE;
}

static void
watch_changed(Watch *watch)
{
    /* One redraw per burst: a tick changes every VM at once. */
    if (watch->redraw_id == 0)
        watch->redraw_id = g_timeout_add(50, watch_redraw, watch);
}

static void
on_watch_properties(GDBusObjectManagerClient *manager, GDBusObjectProxy *object,
                    GDBusProxy *iface, GVariant *changed, const char *const *invalidated,
                    gpointer user_data)
{
    watch_changed(user_data);
}

static void
on_watch_objects(GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
    watch_changed(user_data);
}

static void
on_watch_owner(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    Watch *watch = user_data;
    g_autofree char *owner =
        g_dbus_object_manager_client_get_name_owner(G_DBUS_OBJECT_MANAGER_CLIENT(object));

    if (owner == NULL) {
        g_printerr("membalancerctl: %s\n", _("membalancerd left the bus"));
        g_main_loop_quit(watch->loop);
    }
}

static gboolean
on_watch_signal(gpointer user_data)
{
    g_main_loop_quit(((Watch *)user_data)->loop);
    return G_SOURCE_REMOVE;
}

static int
cmd_watch(Ctl *ctl)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusObjectManager) manager = object_manager(ctl, &error);
    g_autoptr(MbMemBalancer) proxy = NULL;
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    Watch watch = {0};

    if (manager == NULL || (proxy = manager_proxy(ctl, &error)) == NULL)
        return fail("watch", error);
    watch.ctl = ctl;
    watch.loop = loop;
    watch.manager = manager;
    watch.proxy = proxy;
    g_signal_connect(manager, "interface-proxy-properties-changed",
                     G_CALLBACK(on_watch_properties), &watch);
    g_signal_connect(manager, "object-added", G_CALLBACK(on_watch_objects), &watch);
    g_signal_connect(manager, "object-removed", G_CALLBACK(on_watch_objects), &watch);
    g_signal_connect(manager, "notify::name-owner", G_CALLBACK(on_watch_owner), &watch);
    g_signal_connect_swapped(proxy, "g-properties-changed", G_CALLBACK(watch_changed), &watch);
    g_unix_signal_add(SIGINT, on_watch_signal, &watch);
    g_unix_signal_add(SIGTERM, on_watch_signal, &watch);
    watch_redraw(&watch);
    g_main_loop_run(loop);
    if (watch.redraw_id != 0)
        g_source_remove(watch.redraw_id);
    g_signal_handlers_disconnect_by_data(manager, &watch);
    g_signal_handlers_disconnect_by_data(proxy, &watch);
    return 0;
}

static gboolean
parse_priority(const char *text, guint *out)
{
    guint64 value;

    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32, &value, NULL))
        return FALSE;
    *out = (guint)value;
    return TRUE;
}

/* The catalogue from LOCALEDIR, or from $MB_LOCALEDIR (the build tree's po/
 * in tests; po/README.md). No number is formatted differently for it. */
static void
bind_translations(void)
{
    const char *dir = g_getenv("MB_LOCALEDIR");

    bindtextdomain(GETTEXT_PACKAGE, dir != NULL && *dir != '\0' ? dir : MB_LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
}

int
main(int argc, char **argv)
{
    gboolean opt_system = FALSE, opt_session = FALSE, opt_json = FALSE, opt_kib = FALSE;
    gboolean opt_foreground = FALSE, opt_version = FALSE;
    g_autofree char *opt_address = NULL, *opt_priority = NULL, *opt_min = NULL, *opt_max = NULL;
    const GOptionEntry entries[] = {
        {"system", 0, 0, G_OPTION_ARG_NONE, &opt_system, N_("Use the system bus (default)"),
         NULL},
        {"session", 0, 0, G_OPTION_ARG_NONE, &opt_session, N_("Use the session bus"), NULL},
        {"address", 0, 0, G_OPTION_ARG_STRING, &opt_address, N_("Use the bus at ADDR"),
         N_("ADDR")},
        {"json", 0, 0, G_OPTION_ARG_NONE, &opt_json, N_("JSON output (list, status, info)"),
         NULL},
        {"kib", 0, 0, G_OPTION_ARG_NONE, &opt_kib, N_("Sizes as whole KiB (list, watch)"),
         NULL},
        {"priority", 'p', 0, G_OPTION_ARG_STRING, &opt_priority, N_("register: priority 0-100"),
         N_("N")},
        {"min", 0, 0, G_OPTION_ARG_STRING, &opt_min, N_("register: guaranteed minimum"),
         N_("SIZE")},
        {"max", 0, 0, G_OPTION_ARG_STRING, &opt_max, N_("register: maximum"), N_("SIZE")},
        {"foreground", 0, 0, G_OPTION_ARG_NONE, &opt_foreground, N_("register: foreground VM"),
         NULL},
        {"version", 0, 0, G_OPTION_ARG_NONE, &opt_version, N_("Print the version and exit"),
         NULL},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) context = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) connection = NULL;
    g_autoptr(MbMemBalancer) manager = NULL;
    Ctl ctl = {0};
    const char *command;

    setlocale(LC_ALL, "");
    bind_translations();
    context = g_option_context_new(usage_text);
    /* The context translates the usage text, the main group the options. */
    g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
    g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
    if (!g_option_context_parse(context, &argc, &argv, &error))
        return usage_error("%s", error->message);
    if (opt_version) {
        g_print("membalancerctl %s\n", MB_VERSION);
        return 0;
    }
    if (argc < 2)
        return usage_error("%s", _("missing command"));
    if ((opt_system + opt_session + (opt_address != NULL)) > 1)
        return usage_error("%s", _("use only one of --system, --session, --address"));
    command = argv[1];
    (void)mb_service_error_quark();

    connection = mb_bus_connect(opt_address, opt_session, &error);
    if (connection == NULL)
        return fail(_("cannot connect to the bus"), error);
    ctl.connection = connection;
    ctl.json = opt_json;
    ctl.kib = opt_kib;

#define NEED_ARGS(n, what)                                                                     \
    do {                                                                                       \
        if (argc != (n) + 2)                                                                   \
            return usage_error(_("usage: membalancerctl %s"), what);                           \
    } while (0)

    if (g_str_equal(command, "list")) {
        NEED_ARGS(0, "list [--json | --kib]");
        return cmd_list(&ctl);
    }
    if (g_str_equal(command, "status")) {
        NEED_ARGS(1, "status NAME [--json]");
        return cmd_status(&ctl, argv[2]);
    }
    if (g_str_equal(command, "info")) {
        NEED_ARGS(0, "info [--json]");
        return cmd_info(&ctl);
    }
    if (g_str_equal(command, "watch")) {
        NEED_ARGS(0, "watch [--kib]");
        return cmd_watch(&ctl);
    }
    if (g_str_equal(command, "pause") || g_str_equal(command, "resume")) {
        NEED_ARGS(0, "pause | resume");
        return cmd_set_paused(&ctl, g_str_equal(command, "pause"));
    }

    manager = manager_proxy(&ctl, &error);
    if (manager == NULL)
        return fail("", error);
    if (g_str_equal(command, "register")) {
        g_autoptr(GVariantBuilder) options = g_variant_builder_new(G_VARIANT_TYPE_VARDICT);
        g_autofree char *path = NULL;
        guint priority;
        guint64 kib;

        NEED_ARGS(1, "register NAME --priority N [--min SIZE] [--max SIZE] [--foreground]");
        if (opt_priority == NULL)
            return usage_error("%s", _("register needs --priority N (0-100)"));
        if (!parse_priority(opt_priority, &priority))
            return usage_error(_("'%s' is not a priority (0-100)"), opt_priority);
        if (opt_min != NULL) {
            if (!mb_size_parse_kib(opt_min, &kib, &error))
                return fail("--min", error);
            g_variant_builder_add(options, "{sv}", "min-kib", g_variant_new_uint64(kib));
        }
        if (opt_max != NULL) {
            if (!mb_size_parse_kib(opt_max, &kib, &error))
                return fail("--max", error);
            g_variant_builder_add(options, "{sv}", "max-kib", g_variant_new_uint64(kib));
        }
        if (opt_foreground)
            g_variant_builder_add(options, "{sv}", "foreground", g_variant_new_boolean(TRUE));
        if (!mb_mem_balancer_call_register_vm_sync(manager, argv[2], priority,
                                                   g_variant_builder_end(options), &path, NULL,
                                                   &error))
            return fail("register", error);
        g_print("%s\n", path);
        return 0;
    }
    if (g_str_equal(command, "unregister")) {
        NEED_ARGS(1, "unregister NAME");
        if (!mb_mem_balancer_call_unregister_vm_sync(manager, argv[2], NULL, &error))
            return fail("unregister", error);
        return 0;
    }
    if (g_str_equal(command, "set-priority")) {
        guint priority;

        NEED_ARGS(2, "set-priority NAME N");
        if (!parse_priority(argv[3], &priority))
            return usage_error(_("'%s' is not a priority (0-100)"), argv[3]);
        if (!mb_mem_balancer_call_set_priority_sync(manager, argv[2], priority, NULL, &error))
            return fail("set-priority", error);
        return 0;
    }
    if (g_str_equal(command, "set-foreground")) {
        NEED_ARGS(1, "set-foreground NAME");
        if (!mb_mem_balancer_call_set_foreground_sync(manager, argv[2], NULL, &error))
            return fail("set-foreground", error);
        return 0;
    }
    if (g_str_equal(command, "rebalance")) {
        NEED_ARGS(0, "rebalance");
        if (!mb_mem_balancer_call_rebalance_sync(manager, NULL, &error))
            return fail("rebalance", error);
        return 0;
    }
    return usage_error(_("unknown command '%s'"), command);
}
