/* The panel tests' TV; see mb-test-tv.h. */
#include "mb-test-tv.h"

#include "mb-names.h"

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

    fixture_start(f, args);
}

void
mb_test_tv_register_vm(Fixture *f, const char *name, guint priority, gboolean foreground)
{
    g_free(
        register_vm(f, name, priority,
                    foreground ? one_option("foreground", g_variant_new_boolean(TRUE)) : NULL));
}

void
mb_test_tv_register(Fixture *f)
{
    mb_test_tv_register_vm(f, "tv-game", 80, TRUE);
    mb_test_tv_register_vm(f, "tv-video", 50, FALSE);
    mb_test_tv_register_vm(f, "tv-web", 20, FALSE);
}

/* A fresh proxy of the VM: its properties as the service has them now. */
static MbMemBalancerVM *
vm_named(Fixture *f, const char *name)
{
    g_autofree char *escaped = g_dbus_escape_object_path(name);
    g_autofree char *path = g_strconcat(MB_VM_OBJECT_PATH_PREFIX, escaped, NULL);

    return vm_proxy(f, path);
}

guint
mb_test_tv_priority(Fixture *f, const char *name)
{
    g_autoptr(MbMemBalancerVM) vm = vm_named(f, name);

    return mb_mem_balancer_vm_get_priority(vm);
}

gboolean
mb_test_tv_foreground(Fixture *f, const char *name)
{
    g_autoptr(MbMemBalancerVM) vm = vm_named(f, name);

    return mb_mem_balancer_vm_get_foreground(vm);
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
