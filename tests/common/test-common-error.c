/* The service's error domain (common/mb-error.c): each code crosses the
 * bus under its name, both ways. */
#include <gio/gio.h>

#include "mb-error.h"

static const struct {
    MbServiceError code;
    const char *name;
} cases[] = {
    {MB_SERVICE_ERROR_INVALID_ARGS, "org.smarttv.MemBalancer.Error.InvalidArgs"},
    {MB_SERVICE_ERROR_NO_SUCH_VM, "org.smarttv.MemBalancer.Error.NoSuchVM"},
    {MB_SERVICE_ERROR_ALREADY_REGISTERED, "org.smarttv.MemBalancer.Error.AlreadyRegistered"},
    {MB_SERVICE_ERROR_ACCESS_DENIED, "org.smarttv.MemBalancer.Error.AccessDenied"},
    {MB_SERVICE_ERROR_UNAVAILABLE, "org.smarttv.MemBalancer.Error.Unavailable"},
};

static void
test_error_names(void)
{
    g_assert_cmpuint(G_N_ELEMENTS(cases), ==, MB_SERVICE_ERROR_N_ERRORS);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = g_error_new_literal(MB_SERVICE_ERROR, cases[i].code, "x");
        g_autofree char *name = g_dbus_error_encode_gerror(error);
        g_assert_cmpstr(name, ==, cases[i].name);
    }
}

/* What a client of this domain receives: the code, not a remote error. */
static void
test_error_from_bus(void)
{
    (void)MB_SERVICE_ERROR; /* registers the names */
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = g_dbus_error_new_for_dbus_error(cases[i].name, "why");
        g_assert_error(error, MB_SERVICE_ERROR, (gint)cases[i].code);
        g_assert_true(g_dbus_error_strip_remote_error(error));
        g_assert_cmpstr(error->message, ==, "why");
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/common/error/names", test_error_names);
    g_test_add_func("/common/error/from-bus", test_error_from_bus);
    return g_test_run();
}
