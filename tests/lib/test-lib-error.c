/* libmembalancer's error mapping, in-process: every D-Bus error name of
 * the service (and of the bus) to its MEMBALANCER_ERROR code, with the
 * message a person reads; whichever domain the process registered first
 * for those names. */
#include "membalancer-private.h"

#include "mb-names.h"

static GError *
remote(const char *name, const char *message)
{
    return g_dbus_error_new_for_dbus_error(name, message);
}

static void
assert_maps(const char *name, int code)
{
    g_autoptr(GError) error =
        _membalancer_error_from_dbus(remote(name, "what the service said"));

    g_assert_error(error, MEMBALANCER_ERROR, code);
    if (code == MEMBALANCER_ERROR_NOT_RUNNING)
        g_assert_cmpstr(error->message, ==,
                        "The memory balancer service (membalancerd) is not running: "
                        "what the service said");
    else
        g_assert_cmpstr(error->message, ==, "what the service said");
}

static void
test_names(void)
{
    assert_maps(MB_ERROR_NAME_INVALID_ARGS, MEMBALANCER_ERROR_INVALID_ARGS);
    assert_maps(MB_ERROR_NAME_NO_SUCH_VM, MEMBALANCER_ERROR_NO_SUCH_VM);
    assert_maps(MB_ERROR_NAME_ALREADY_REGISTERED, MEMBALANCER_ERROR_ALREADY_REGISTERED);
    assert_maps(MB_ERROR_NAME_ACCESS_DENIED, MEMBALANCER_ERROR_ACCESS_DENIED);
    assert_maps(MB_ERROR_NAME_UNAVAILABLE, MEMBALANCER_ERROR_UNAVAILABLE);
    assert_maps("org.freedesktop.DBus.Error.ServiceUnknown", MEMBALANCER_ERROR_NOT_RUNNING);
    assert_maps("org.freedesktop.DBus.Error.NameHasNoOwner", MEMBALANCER_ERROR_NOT_RUNNING);
    assert_maps("org.freedesktop.DBus.Error.NoReply", MEMBALANCER_ERROR_NOT_RUNNING);
    assert_maps("org.freedesktop.DBus.Error.AccessDenied", MEMBALANCER_ERROR_ACCESS_DENIED);
    assert_maps("org.smarttv.MemBalancer.Error.SomethingNew", MEMBALANCER_ERROR_FAILED);
}

/* The same when another domain has claimed the names (the daemon's
 * library does, in its own tests and in a process that links both). */
static void
test_names_registered_elsewhere(void)
{
    static const GDBusErrorEntry entries[] = {
        {0, MB_ERROR_NAME_NO_SUCH_VM},
        {1, MB_ERROR_NAME_ACCESS_DENIED},
    };
    static gsize quark;

    g_dbus_error_register_error_domain("lib-test-other-error", &quark, entries,
                                       G_N_ELEMENTS(entries));
    assert_maps(MB_ERROR_NAME_NO_SUCH_VM, MEMBALANCER_ERROR_NO_SUCH_VM);
    assert_maps(MB_ERROR_NAME_ACCESS_DENIED, MEMBALANCER_ERROR_ACCESS_DENIED);
}

static void
test_local(void)
{
    GError *cancelled =
        g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled");
    GError *ours = g_error_new_literal(MEMBALANCER_ERROR, MEMBALANCER_ERROR_NO_SUCH_VM, "x");
    g_autoptr(GError) closed = NULL;
    g_autoptr(GError) other = NULL;

    /* Cancellation stays what GIO callers expect; ours pass through. */
    g_assert_true(_membalancer_error_from_dbus(cancelled) == cancelled);
    g_assert_error(cancelled, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_error_free(cancelled);
    g_assert_true(_membalancer_error_from_dbus(ours) == ours);
    g_error_free(ours);
    g_assert_null(_membalancer_error_from_dbus(NULL));
    closed = _membalancer_error_from_dbus(
        g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CLOSED, "The connection is closed"));
    g_assert_error(closed, MEMBALANCER_ERROR, MEMBALANCER_ERROR_NOT_RUNNING);
    other = _membalancer_error_from_dbus(
        g_error_new_literal(G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Timeout was reached"));
    g_assert_error(other, MEMBALANCER_ERROR, MEMBALANCER_ERROR_FAILED);
    g_assert_cmpstr(other->message, ==, "Timeout was reached");
    g_assert_cmpstr(g_quark_to_string(MEMBALANCER_ERROR), ==, "membalancer-error-quark");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/lib/error/names", test_names);
    g_test_add_func("/lib/error/names-registered-elsewhere", test_names_registered_elsewhere);
    g_test_add_func("/lib/error/local", test_local);
    return g_test_run();
}
