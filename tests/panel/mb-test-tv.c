/* The panel tests' TV; see mb-test-tv.h. */
#include "mb-test-tv.h"

#include "mb-names.h"

void
mb_test_tv_spawn(Fixture *f, const char *const *args)
{
    f->daemon = mb_test_daemon_spawn(f->bus, f->state_dir, args);
    g_assert_nonnull(f->daemon);
}

void
mb_test_tv_start(Fixture *f, guint interval_ms)
{
    g_autofree char *conf =
        g_strdup_printf("[membalancer]\ninterval=%u\n"
                        "[fake]\nalloc=512MiB\nmax=2GiB\n"
                        "tv-game=game\ntv-video=video-playback\ntv-web=web\n",
                        interval_ms);
    g_autofree char *path = mb_test_write_file(f->bus->dir, "tv.conf", conf);
    const char *const args[] = {"--config", path, NULL};

    mb_test_tv_spawn(f, args);
}

static GVariant *
call_sync(Fixture *f, const char *path, const char *iface, const char *method, GVariant *args,
          const GVariantType *reply_type, GError **error)
{
    return g_dbus_connection_call_sync(f->bus->connection, MB_BUS_NAME, path, iface, method,
                                       args, reply_type, G_DBUS_CALL_FLAGS_NONE, 10000, NULL,
                                       error);
}

gboolean
mb_test_tv_call(Fixture *f, const char *method, GVariant *args, GError **error)
{
    g_autoptr(GVariant) reply = call_sync(f, MB_OBJECT_PATH, MB_MANAGER_INTERFACE, method, args,
                                          G_VARIANT_TYPE_UNIT, error);

    return reply != NULL;
}

void
mb_test_tv_register_vm(Fixture *f, const char *name, guint priority, gboolean foreground)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = NULL;
    GVariantBuilder options;

    g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
    if (foreground)
        g_variant_builder_add(&options, "{sv}", "foreground", g_variant_new_boolean(TRUE));
    reply = call_sync(f, MB_OBJECT_PATH, MB_MANAGER_INTERFACE, "RegisterVM",
                      g_variant_new("(sua{sv})", name, priority, &options),
                      G_VARIANT_TYPE("(o)"), &error);
    g_assert_no_error(error);
}

void
mb_test_tv_register(Fixture *f)
{
    mb_test_tv_register_vm(f, "tv-game", 80, TRUE);
    mb_test_tv_register_vm(f, "tv-video", 50, FALSE);
    mb_test_tv_register_vm(f, "tv-web", 20, FALSE);
}

static GVariant *
property(Fixture *f, const char *path, const char *iface, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply =
        call_sync(f, path, "org.freedesktop.DBus.Properties", "Get",
                  g_variant_new("(ss)", iface, name), G_VARIANT_TYPE("(v)"), &error);
    GVariant *value = NULL;

    g_assert_no_error(error);
    g_variant_get(reply, "(v)", &value);
    return value;
}

static GVariant *
vm_property(Fixture *f, const char *vm, const char *name)
{
    g_autofree char *escaped = g_dbus_escape_object_path(vm);
    g_autofree char *path = g_strconcat(MB_VM_OBJECT_PATH_PREFIX, escaped, NULL);

    return property(f, path, MB_VM_INTERFACE, name);
}

guint
mb_test_tv_priority(Fixture *f, const char *name)
{
    g_autoptr(GVariant) value = vm_property(f, name, "Priority");

    return g_variant_get_uint32(value);
}

gboolean
mb_test_tv_foreground(Fixture *f, const char *name)
{
    g_autoptr(GVariant) value = vm_property(f, name, "Foreground");

    return g_variant_get_boolean(value);
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

char *
mb_test_tv_snapshot(Fixture *f)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply =
        call_sync(f, MB_OBJECT_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                  NULL, G_VARIANT_TYPE("(a{oa{sa{sv}}})"), &error);
    g_autoptr(GVariant) paused = property(f, MB_OBJECT_PATH, MB_MANAGER_INTERFACE, "Paused");
    g_autoptr(GVariant) objects = NULL;
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
        g_autoptr(GVariant) props = g_variant_lookup_value(ifaces, MB_VM_INTERFACE, NULL);
        const char *name = NULL;
        guint priority = 0;
        gboolean fg = FALSE;
        guint64 min = 0, max = 0;

        /* The settings only: the figures move all the time. */
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
    g_ptr_array_add(lines, g_strdup_printf("paused=%d", g_variant_get_boolean(paused)));
    g_file_get_contents(state_path, &state, NULL, NULL);
    g_ptr_array_add(lines, g_strdup_printf("state:\n%s", state != NULL ? state : "(none)"));
    g_ptr_array_add(lines, NULL);
    return g_strjoinv("\n", (char **)lines->pdata);
}

GDBusConnection *
mb_test_tv_connect(const char *address)
{
    g_autoptr(GError) error = NULL;
    GDBusConnection *connection = g_dbus_connection_new_for_address_sync(
        address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, &error);

    g_assert_no_error(error);
    return connection;
}
