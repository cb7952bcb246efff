/* membalancerctl's commands that only read: list, status, info, watch. */
#include "membalancerctl.h"

#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <unistd.h>

#include "mb-size.h"

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

static MbMemBalancerVM *
find_vm(GPtrArray *vms, const char *name)
{
    for (guint i = 0; i < vms->len; i++) {
        if (g_strcmp0(mb_mem_balancer_vm_get_name(g_ptr_array_index(vms, i)), name) == 0)
            return g_ptr_array_index(vms, i);
    }
    return NULL;
}

/* The service's objects and its manager, or FALSE with error set. */
static gboolean
connect_service(Ctl *ctl, GDBusObjectManager **om, MbMemBalancer **manager, GError **error)
{
    *om = mb_ctl_object_manager(ctl, error);
    if (*om == NULL)
        return FALSE;
    *manager = mb_ctl_manager_proxy(ctl, error);
    return *manager != NULL;
}

int
mb_ctl_list(Ctl *ctl)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusObjectManager) om = NULL;
    g_autoptr(MbMemBalancer) manager = NULL;
    g_autoptr(GPtrArray) vms = NULL;

    if (!connect_service(ctl, &om, &manager, &error))
        return mb_ctl_fail("list", error);
    vms = collect_vms(om);
    if (ctl->json) {
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_array(builder);
        for (guint i = 0; i < vms->len; i++)
            mb_ctl_add_vm_json(builder, g_ptr_array_index(vms, i),
                               mb_mem_balancer_get_connected(manager));
        json_builder_end_array(builder);
        mb_ctl_print_json(builder);
        return 0;
    }
    mb_ctl_print_table(ctl, vms, manager);
    return 0;
}

/* The state's keyword, and for the two a reader must act on, what it means. */
static char *
state_text(MbMemBalancerVM *vm)
{
    const char *state = mb_mem_balancer_vm_get_state(vm);

    if (g_strcmp0(state, "offline") == 0)
        /* TRANSLATORS: keep "offline", the service's keyword. */
        return g_strdup(_("offline (its domain is not running: it is not balanced and holds "
                          "no memory of the pool)"));
    if (g_strcmp0(state, "stuck") == 0)
        /* TRANSLATORS: keep "stuck", the service's keyword. */
        return g_strdup(_("stuck (its balloon did not follow its targets: it is no longer "
                          "moved until the balloon moves or it is registered again)"));
    return g_strdup(state);
}

static char *
connected_text(MbMemBalancer *manager)
{
    if (mb_mem_balancer_get_connected(manager))
        return g_strdup(_("connected"));
    return g_strdup(_("not connected: membalancerd is reconnecting; nothing is moved "
                      "meanwhile"));
}

int
mb_ctl_status(Ctl *ctl, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusObjectManager) om = NULL;
    g_autoptr(MbMemBalancer) manager = NULL;
    g_autoptr(GPtrArray) vms = NULL;
    MbMemBalancerVM *vm;

    if (!connect_service(ctl, &om, &manager, &error))
        return mb_ctl_fail("status", error);
    vms = collect_vms(om);
    vm = find_vm(vms, name);
    if (vm == NULL) {
        g_autofree char *message = g_strdup_printf(_("no VM named '%s' is registered"), name);

        g_printerr("membalancerctl: status: %s\n", message);
        return 1;
    }
    if (ctl->json) {
        g_autoptr(JsonBuilder) builder = json_builder_new();

        mb_ctl_add_vm_json(builder, vm, mb_mem_balancer_get_connected(manager));
        mb_ctl_print_json(builder);
        return 0;
    }
    guint priority = mb_mem_balancer_vm_get_priority(vm);
    g_autofree char *trend = mb_ctl_trend_text(vm, FALSE);
    g_autofree char *demand = NULL;

    if (g_str_equal(trend, "-"))
        demand = g_strdup(trend);
    else
        /* TRANSLATORS: %s is "grows 1.5 MiB", "shrinks 3 MiB" or "steady". */
        demand = g_strdup_printf(_("%s per interval"), trend);
    const char *labels[] = {
        _("state:"),         _("priority:"),    _("allocated:"),   _("minimum:"),
        _("maximum:"),       _("reclaimable:"), _("active anon:"), _("active file:"),
        _("inactive file:"), _("free:"),        _("swapped out:"), _("demand:"),
        _("statistics:"),    _("last move:"),   _("hypervisor:"),
    };
    char *values[] = {
        state_text(vm),
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
        g_strdup(demand),
        g_strdup(mb_mem_balancer_vm_get_stats_source(vm)),
        g_strdup(mb_mem_balancer_vm_get_last_reason(vm)),
        connected_text(manager),
    };

    G_STATIC_ASSERT(G_N_ELEMENTS(labels) == G_N_ELEMENTS(values));
    g_print("%s (%s)\n", mb_mem_balancer_vm_get_name(vm),
            g_dbus_proxy_get_object_path(G_DBUS_PROXY(vm)));
    mb_ctl_print_fields("  ", 16, labels, (const char *const *)values, G_N_ELEMENTS(values));
    for (gsize i = 0; i < G_N_ELEMENTS(values); i++)
        g_free(values[i]);
    return 0;
}

int
mb_ctl_info(Ctl *ctl)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusObjectManager) om = NULL;
    g_autoptr(MbMemBalancer) manager = NULL;

    if (!connect_service(ctl, &om, &manager, &error))
        return mb_ctl_fail("info", error);
    if (ctl->json) {
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        mb_ctl_add_string(builder, "version", mb_mem_balancer_get_version(manager));
        mb_ctl_add_uint(builder, "pool_kib", mb_mem_balancer_get_pool_kib(manager));
        mb_ctl_add_uint(builder, "reserve_kib", mb_mem_balancer_get_reserve_kib(manager));
        mb_ctl_add_uint(builder, "interval_ms", mb_mem_balancer_get_interval_ms(manager));
        json_builder_set_member_name(builder, "alpha");
        json_builder_add_double_value(builder, mb_mem_balancer_get_alpha(manager));
        mb_ctl_add_string(builder, "policy", mb_mem_balancer_get_policy(manager));
        mb_ctl_add_boolean(builder, "paused", mb_mem_balancer_get_paused(manager));
        mb_ctl_add_string(builder, "backend", mb_mem_balancer_get_backend(manager));
        mb_ctl_add_uint(builder, "vm_count", mb_mem_balancer_get_vm_count(manager));
        mb_ctl_add_boolean(builder, "connected", mb_mem_balancer_get_connected(manager));
        json_builder_end_object(builder);
        mb_ctl_print_json(builder);
        return 0;
    }
    g_autofree char *pool = mb_size_format_kib(mb_mem_balancer_get_pool_kib(manager));
    g_autofree char *reserve = mb_size_format_kib(mb_mem_balancer_get_reserve_kib(manager));
    const char *labels[] = {
        _("version:"),  _("backend:"), _("hypervisor:"), _("policy:"),
        _("interval:"), _("pool:"),    _("paused:"),     _("VMs:"),
    };
    /* alpha is written the locale's way (0,3 in German), as it always was. */
    char *values[] = {
        g_strdup(mb_mem_balancer_get_version(manager)),
        g_strdup(mb_mem_balancer_get_backend(manager)),
        connected_text(manager),
        g_strdup_printf(_("%s (alpha %g)"), mb_mem_balancer_get_policy(manager),
                        mb_mem_balancer_get_alpha(manager)),
        g_strdup_printf(_("%u ms"), mb_mem_balancer_get_interval_ms(manager)),
        /* TRANSLATORS: the pool and its reserve, two sizes ("2 GiB"). */
        g_strdup_printf(_("%s (reserve %s)"), pool, reserve),
        g_strdup(mb_mem_balancer_get_paused(manager) ? _("yes") : _("no")),
        g_strdup_printf("%u", mb_mem_balancer_get_vm_count(manager)),
    };

    G_STATIC_ASSERT(G_N_ELEMENTS(labels) == G_N_ELEMENTS(values));
    mb_ctl_print_fields("", 9, labels, (const char *const *)values, G_N_ELEMENTS(values));
    for (gsize i = 0; i < G_N_ELEMENTS(values); i++)
        g_free(values[i]);
    return 0;
}

/* ---- watch ------------------------------------------------------------------ */

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
    mb_ctl_print_table(watch->ctl, vms, watch->proxy);
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

int
mb_ctl_watch(Ctl *ctl)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusObjectManager) manager = NULL;
    g_autoptr(MbMemBalancer) proxy = NULL;
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    Watch watch = {0};

    if (!connect_service(ctl, &manager, &proxy, &error))
        return mb_ctl_fail("watch", error);
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
