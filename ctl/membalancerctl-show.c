/* membalancerctl's commands that only read: list, status, info, watch. */
#include "membalancerctl.h"

#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <unistd.h>

#include "mb-names.h"
#include "mb-size.h"

static gint
compare_vms(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(membalancer_vm_get_name(*(MembalancerVm *const *)a),
                     membalancer_vm_get_name(*(MembalancerVm *const *)b));
}

/* The VMs, sorted by name (each a new reference). */
static GPtrArray *
collect_vms(MembalancerClient *client)
{
    GPtrArray *vms = g_ptr_array_new_with_free_func(g_object_unref);
    GList *list = membalancer_client_get_vms(client);

    for (GList *l = list; l != NULL; l = l->next)
        g_ptr_array_add(vms, l->data);
    g_list_free(list);
    g_ptr_array_sort(vms, compare_vms);
    return vms;
}

int
mb_ctl_list(Ctl *ctl)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) vms = NULL;

    if (!mb_ctl_check_running(ctl, &error))
        return mb_ctl_fail("list", error);
    vms = collect_vms(ctl->client);
    if (ctl->json) {
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_array(builder);
        for (guint i = 0; i < vms->len; i++)
            mb_ctl_add_vm_json(builder, g_ptr_array_index(vms, i),
                               membalancer_client_get_connected(ctl->client));
        json_builder_end_array(builder);
        mb_ctl_print_json(builder);
        return 0;
    }
    mb_ctl_print_table(ctl, vms);
    return 0;
}

/* The state's keyword, and for the two a reader must act on, what it means. */
static char *
state_text(MembalancerVm *vm)
{
    const char *state = membalancer_vm_get_state(vm);

    if (g_strcmp0(state, MB_VM_STATE_NAME_OFFLINE) == 0)
        /* TRANSLATORS: keep "offline", the service's keyword. */
        return g_strdup(_("offline (its domain is not running: it is not balanced and holds "
                          "no memory of the pool)"));
    if (g_strcmp0(state, MB_VM_STATE_NAME_STUCK) == 0)
        /* TRANSLATORS: keep "stuck", the service's keyword. */
        return g_strdup(_("stuck (its balloon did not follow its targets: it is no longer "
                          "moved until the balloon moves or it is registered again)"));
    return g_strdup(state);
}

static char *
connected_text(MembalancerClient *client)
{
    if (membalancer_client_get_connected(client))
        return g_strdup(_("connected"));
    return g_strdup(_("not connected: membalancerd is reconnecting; nothing is moved "
                      "meanwhile"));
}

int
mb_ctl_status(Ctl *ctl, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(MembalancerVm) vm = NULL;

    if (!mb_ctl_check_running(ctl, &error))
        return mb_ctl_fail("status", error);
    vm = membalancer_client_lookup_vm(ctl->client, name);
    if (vm == NULL) {
        g_autofree char *message = g_strdup_printf(_("no VM named '%s' is registered"), name);

        g_printerr("membalancerctl: status: %s\n", message);
        return 1;
    }
    if (ctl->json) {
        g_autoptr(JsonBuilder) builder = json_builder_new();

        mb_ctl_add_vm_json(builder, vm, membalancer_client_get_connected(ctl->client));
        mb_ctl_print_json(builder);
        return 0;
    }
    guint priority = membalancer_vm_get_priority(vm);
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
        membalancer_vm_get_foreground(vm) ? g_strdup_printf(_("%u (foreground)"), priority)
                                          : g_strdup_printf("%u", priority),
        mb_size_format_kib(membalancer_vm_get_allocated_kib(vm)),
        mb_size_format_kib(membalancer_vm_get_min_kib(vm)),
        mb_size_format_kib(membalancer_vm_get_max_kib(vm)),
        mb_size_format_kib(membalancer_vm_get_reclaimable_kib(vm)),
        mb_size_format_kib(membalancer_vm_get_active_anon_kib(vm)),
        mb_size_format_kib(membalancer_vm_get_active_file_kib(vm)),
        mb_size_format_kib(membalancer_vm_get_inactive_file_kib(vm)),
        mb_size_format_kib(membalancer_vm_get_free_kib(vm)),
        mb_size_format_kib(membalancer_vm_get_swap_out_kib(vm)),
        g_strdup(demand),
        g_strdup(membalancer_vm_get_stats_source(vm)),
        g_strdup(membalancer_vm_get_last_reason(vm)),
        connected_text(ctl->client),
    };

    G_STATIC_ASSERT(G_N_ELEMENTS(labels) == G_N_ELEMENTS(values));
    g_print("%s (%s)\n", membalancer_vm_get_name(vm), membalancer_vm_get_object_path(vm));
    mb_ctl_print_fields("  ", 16, labels, (const char *const *)values, G_N_ELEMENTS(values));
    for (gsize i = 0; i < G_N_ELEMENTS(values); i++)
        g_free(values[i]);
    return 0;
}

int
mb_ctl_info(Ctl *ctl)
{
    g_autoptr(GError) error = NULL;

    MembalancerClient *client = ctl->client;
    g_autofree char *version = NULL, *backend = NULL, *policy = NULL;

    if (!mb_ctl_check_running(ctl, &error))
        return mb_ctl_fail("info", error);
    version = membalancer_client_dup_version(client);
    backend = membalancer_client_dup_backend(client);
    policy = membalancer_client_dup_policy(client);
    if (ctl->json) {
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        mb_ctl_add_string(builder, "version", version);
        mb_ctl_add_uint(builder, "pool_kib", membalancer_client_get_pool_kib(client));
        mb_ctl_add_uint(builder, "reserve_kib", membalancer_client_get_reserve_kib(client));
        mb_ctl_add_uint(builder, "interval_ms", membalancer_client_get_interval_ms(client));
        json_builder_set_member_name(builder, "alpha");
        json_builder_add_double_value(builder, membalancer_client_get_alpha(client));
        mb_ctl_add_string(builder, "policy", policy);
        mb_ctl_add_boolean(builder, "paused", membalancer_client_get_paused(client));
        mb_ctl_add_string(builder, "backend", backend);
        mb_ctl_add_uint(builder, "vm_count", membalancer_client_get_vm_count(client));
        mb_ctl_add_boolean(builder, "connected", membalancer_client_get_connected(ctl->client));
        json_builder_end_object(builder);
        mb_ctl_print_json(builder);
        return 0;
    }
    g_autofree char *pool = mb_size_format_kib(membalancer_client_get_pool_kib(client));
    g_autofree char *reserve = mb_size_format_kib(membalancer_client_get_reserve_kib(client));
    const char *labels[] = {
        _("version:"),  _("backend:"), _("hypervisor:"), _("policy:"),
        _("interval:"), _("pool:"),    _("paused:"),     _("VMs:"),
    };
    /* alpha is written the locale's way (0,3 in German), as it always was. */
    char *values[] = {
        g_strdup(version),
        g_strdup(backend),
        connected_text(ctl->client),
        g_strdup_printf(_("%s (alpha %g)"), policy, membalancer_client_get_alpha(client)),
        g_strdup_printf(_("%u ms"), membalancer_client_get_interval_ms(client)),
        /* TRANSLATORS: the pool and its reserve, two sizes ("2 GiB"). */
        g_strdup_printf(_("%s (reserve %s)"), pool, reserve),
        g_strdup(membalancer_client_get_paused(client) ? _("yes") : _("no")),
        g_strdup_printf("%u", membalancer_client_get_vm_count(client)),
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
    guint redraw_id;
} Watch;

static gboolean
watch_redraw(gpointer user_data)
{
    Watch *watch = user_data;
    MembalancerClient *client = watch->ctl->client;
    g_autoptr(GPtrArray) vms = collect_vms(client);
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *stamp = g_date_time_format(now, "%H:%M:%S");
    g_autofree char *policy = membalancer_client_dup_policy(client);
    guint64 pool_kib = membalancer_client_get_pool_kib(client);
    g_autofree char *pool = watch->ctl->kib
                                ? g_strdup_printf("%" G_GUINT64_FORMAT " KiB", pool_kib)
                                : mb_size_format_kib_1dp(pool_kib);

    watch->redraw_id = 0;
    if (isatty(STDOUT_FILENO))
        g_print("\033[H\033[2J");
    g_print(_("membalancer  %s  policy %s  pool %s  (Ctrl-C quits)"), stamp, policy, pool);
    g_print("\n\n");
    mb_ctl_print_table(watch->ctl, vms);
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
on_watch_vm_added(MembalancerClient *client, MembalancerVm *vm, gpointer user_data)
{
    /* A VM's properties change on every tick (LastUpdate). */
    g_signal_connect_swapped(vm, "notify", G_CALLBACK(watch_changed), user_data);
    watch_changed(user_data);
}

static void
on_watch_vm_removed(MembalancerClient *client, MembalancerVm *vm, gpointer user_data)
{
    g_signal_handlers_disconnect_by_data(vm, user_data);
    watch_changed(user_data);
}

static void
on_watch_running(MembalancerClient *client, GParamSpec *pspec, gpointer user_data)
{
    Watch *watch = user_data;

    if (!membalancer_client_get_running(client)) {
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
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(GPtrArray) vms = NULL;
    Watch watch = {0};

    if (!mb_ctl_check_running(ctl, &error))
        return mb_ctl_fail("watch", error);
    watch.ctl = ctl;
    watch.loop = loop;
    vms = collect_vms(ctl->client);
    for (guint i = 0; i < vms->len; i++)
        g_signal_connect_swapped(g_ptr_array_index(vms, i), "notify", G_CALLBACK(watch_changed),
                                 &watch);
    g_signal_connect(ctl->client, "vm-added", G_CALLBACK(on_watch_vm_added), &watch);
    g_signal_connect(ctl->client, "vm-removed", G_CALLBACK(on_watch_vm_removed), &watch);
    g_signal_connect(ctl->client, "notify::running", G_CALLBACK(on_watch_running), &watch);
    /* The manager's properties (Paused, Connected, PoolKiB...). */
    g_signal_connect_swapped(ctl->client, "notify", G_CALLBACK(watch_changed), &watch);
    g_unix_signal_add(SIGINT, on_watch_signal, &watch);
    g_unix_signal_add(SIGTERM, on_watch_signal, &watch);
    watch_redraw(&watch);
    g_main_loop_run(loop);
    if (watch.redraw_id != 0)
        g_source_remove(watch.redraw_id);
    g_signal_handlers_disconnect_by_data(ctl->client, &watch);
    g_ptr_array_unref(g_steal_pointer(&vms));
    vms = collect_vms(ctl->client);
    for (guint i = 0; i < vms->len; i++)
        g_signal_handlers_disconnect_by_data(g_ptr_array_index(vms, i), &watch);
    return 0;
}
