/* The error domain's D-Bus names (mb-error.c). */

#include "mb-error.h"
#include "mb-test-unit.h"

static void
test_error_names(void)
{
    static const struct {
        MbServiceError code;
        const char *name;
    } cases[] = {
        {MB_SERVICE_ERROR_INVALID_ARGS, "org.smarttv.MemBalancer.Error.InvalidArgs"},
        {MB_SERVICE_ERROR_NO_SUCH_VM, "org.smarttv.MemBalancer.Error.NoSuchVM"},
        {MB_SERVICE_ERROR_ALREADY_REGISTERED,
         "org.smarttv.MemBalancer.Error.AlreadyRegistered"},
        {MB_SERVICE_ERROR_ACCESS_DENIED, "org.smarttv.MemBalancer.Error.AccessDenied"},
        {MB_SERVICE_ERROR_UNAVAILABLE, "org.smarttv.MemBalancer.Error.Unavailable"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = g_error_new_literal(MB_SERVICE_ERROR, cases[i].code, "x");
        g_autofree char *name = g_dbus_error_encode_gerror(error);
        g_assert_cmpstr(name, ==, cases[i].name);
    }
}

int
main(int argc, char **argv)
{
    mb_test_unit_init(&argc, &argv);
    g_test_add_func("/service/unit/error-names", test_error_names);
    return mb_test_unit_run();
}
