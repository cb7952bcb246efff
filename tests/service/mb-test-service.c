/* The fixture and helpers the bus test programs share. */
#include "mb-test-service.h"

#include <string.h>

#include "mb-daemon.h"

const char *const mb_test_fast_args[] = {"--interval-ms", "100", NULL};

void
fixture_start(Fixture *f, const char *const *args)
{
    g_autoptr(GError) error = NULL;

    f->daemon = mb_test_daemon_spawn(f->bus, f->state_dir, args);
    g_assert_nonnull(f->daemon);
    f->manager = mb_mem_balancer_proxy_new_sync(f->bus->connection, G_DBUS_PROXY_FLAGS_NONE,
                                                MB_BUS_NAME, MB_OBJECT_PATH, NULL, &error);
    g_assert_no_error(error);
}

/* Stops the daemon cleanly: exit status 0 (and, under ASan, no leak). */
void
fixture_stop(Fixture *f)
{
    g_clear_object(&f->manager);
    mb_test_daemon_stop_clean(&f->daemon);
}

void
fixture_setup(Fixture *f, gconstpointer data)
{
    f->bus = mb_test_bus_new();
    f->state_dir = g_build_filename(f->bus->dir, "state", NULL);
    if (data != NULL)
        fixture_start(f, data);
}

void
fixture_teardown(Fixture *f, gconstpointer data)
{
    fixture_stop(f);
    g_free(f->state_dir);
    mb_test_bus_free(f->bus);
}

char *
register_vm(Fixture *f, const char *name, guint priority, GVariant *options)
{
    g_autoptr(GError) error = NULL;
    char *path = NULL;

    if (options == NULL)
        options = g_variant_new("a{sv}", NULL);
    g_assert_true(mb_mem_balancer_call_register_vm_sync(f->manager, name, priority, options,
                                                        &path, NULL, &error));
    g_assert_no_error(error);
    return path;
}

MbMemBalancerVM *
vm_proxy(Fixture *f, const char *path)
{
    g_autoptr(GError) error = NULL;
    MbMemBalancerVM *vm = mb_mem_balancer_vm_proxy_new_sync(
        f->bus->connection, G_DBUS_PROXY_FLAGS_NONE, MB_BUS_NAME, path, NULL, &error);

    g_assert_no_error(error);
    return vm;
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

GVariant *
property_now(GDBusConnection *connection, const char *path, const char *iface, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        connection, MB_BUS_NAME, path, "org.freedesktop.DBus.Properties", "Get",
        g_variant_new("(ss)", iface, name), G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, 5000,
        NULL, &error);
    GVariant *value = NULL;

    g_assert_no_error(error);
    g_variant_get(reply, "(v)", &value);
    return value;
}

/* The registrations as a string, to show a failed call changed nothing. */
char *
settings_snapshot(Fixture *f)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        f->bus->connection, MB_BUS_NAME, MB_OBJECT_PATH, "org.freedesktop.DBus.ObjectManager",
        "GetManagedObjects", NULL, G_VARIANT_TYPE("(a{oa{sa{sv}}})"), G_DBUS_CALL_FLAGS_NONE,
        5000, NULL, &error);
    g_autoptr(GVariant) objects = NULL;
    g_autoptr(GVariant) paused = NULL;
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *state_path = g_build_filename(f->state_dir, "registrations.ini", NULL);
    g_autofree char *state = NULL;
    GVariantIter iter;
    const char *path;
    GVariant *ifaces;

    g_assert_no_error(error);
    objects = g_variant_get_child_value(reply, 0);
    g_variant_iter_init(&iter, objects);
    while (g_variant_iter_loop(&iter, "{&o@a{sa{sv}}}", &path, &ifaces)) {
        g_autoptr(GVariant) props = g_variant_lookup_value(ifaces, VM_IFACE, NULL);
        const char *name = NULL;
        guint priority = 0;
        gboolean fg = FALSE;
        guint64 min = 0, max = 0;

        g_assert_nonnull(props);
        g_variant_lookup(props, "Name", "&s", &name);
        g_variant_lookup(props, "Priority", "u", &priority);
        g_variant_lookup(props, "Foreground", "b", &fg);
        g_variant_lookup(props, "MinKiB", "t", &min);
        g_variant_lookup(props, "MaxKiB", "t", &max);
        g_ptr_array_add(lines,
                        g_strdup_printf("%s %s %u %d %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                                        path, name, priority, fg, min, max));
    }
    g_ptr_array_sort(lines, compare_strings);
    /* Paused as the service has it now: a proxy's cache may not have seen
     * the last change yet (and the panel's tests make no proxy of theirs). */
    paused = property_now(f->bus->connection, MB_OBJECT_PATH, MANAGER_IFACE, "Paused");
    g_ptr_array_add(lines, g_strdup_printf("paused=%d", g_variant_get_boolean(paused)));
    g_file_get_contents(state_path, &state, NULL, NULL);
    g_ptr_array_add(lines, g_strdup_printf("state:\n%s", state != NULL ? state : "(none)"));
    g_ptr_array_add(lines, NULL);
    return g_strjoinv("\n", (char **)lines->pdata);
}

char *
run_ok(gboolean unprivileged, const char *const *argv)
{
    g_autofree char *out = NULL, *err = NULL;
    int status = mb_test_run(unprivileged, argv, &out, &err);

    if (status != 0)
        g_test_message("%s failed (%d): %s", argv[0], status, err);
    g_assert_cmpint(status, ==, 0);
    return g_steal_pointer(&out);
}

GVariant *
one_option(const char *key, GVariant *value)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", key, value);
    return g_variant_builder_end(&b);
}

GVariant *
min_max(guint64 min, guint64 max)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "min-kib", g_variant_new_uint64(min));
    g_variant_builder_add(&b, "{sv}", "max-kib", g_variant_new_uint64(max));
    return g_variant_builder_end(&b);
}

void
changes_on_props_changed(GDBusProxy *proxy, GVariant *changed, const char *const *invalidated,
                         gpointer user_data)
{
    PropChanges *c = user_data;
    GVariantIter iter;
    const char *key;

    c->n_changed++;
    g_variant_iter_init(&iter, changed);
    while (g_variant_iter_next(&iter, "{&sv}", &key, NULL))
        g_hash_table_add(c->seen, g_strdup(key));
}

static gboolean
changes_has(gpointer data)
{
    PropChanges *c = ((gpointer *)data)[0];
    return g_hash_table_contains(c->seen, ((gpointer *)data)[1]);
}

void
wait_change(PropChanges *c, const char *property)
{
    gpointer pair[2] = {c, (gpointer)property};
    g_assert_true(mb_test_wait_for(changes_has, pair, 5000));
    g_hash_table_remove(c->seen, property);
}

static void
on_race_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
    MbTestRace *race = user_data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
    g_autofree char *name = error != NULL ? g_dbus_error_get_remote_error(error) : NULL;

    if (reply != NULL)
        race->ok++;
    else if (g_strcmp0(name, ERR "AlreadyRegistered") == 0)
        race->already++;
    else if (race->first_other == NULL)
        race->first_other = g_strdup(error->message);
    race->pending--;
}

static gboolean
race_done(gpointer data)
{
    return ((MbTestRace *)data)->pending == 0;
}

void
mb_test_race(Fixture *f, const char *method, guint n, MbTestRace *race)
{
    for (guint i = 0; i < n; i++) {
        race->pending++;
        g_dbus_connection_call(
            f->bus->connection, MB_BUS_NAME, MB_OBJECT_PATH, MANAGER_IFACE, method,
            g_variant_new("(su@a{sv})", "contended", i, g_variant_new("a{sv}", NULL)),
            G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL, on_race_reply, race);
    }
    g_assert_true(mb_test_wait_for(race_done, race, 20000));
}

void
mb_test_flood_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
    MbTestFlood *flood = user_data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
    g_autofree char *name = error != NULL ? g_dbus_error_get_remote_error(error) : NULL;

    if (g_strcmp0(name, ERR "AccessDenied") == 0) {
        flood->denied++;
    } else if (g_strcmp0(name, ERR "Unavailable") == 0 && strstr(error->message, "try again")) {
        flood->busy++;
    } else {
        flood->other++;
        if (flood->first_other == NULL)
            flood->first_other = g_strdup(error != NULL ? error->message : "accepted");
    }
    flood->pending--;
}
