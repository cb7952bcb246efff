/* The common layer's size grammar (common/mb-size-parse.c): what every
 * program accepts, the reason it gives for what it refuses, and the GLib
 * parser's messages and error over it (common/mb-size.c, in the service's
 * domain, common/mb-error.c). */
#include <gio/gio.h>
#include <string.h>

#include "mb-error.h"
#include "mb-names.h"
#include "mb-size-parse.h"
#include "mb-size.h"

static void
test_size_scan(void)
{
    static const struct {
        const char *text;
        MbSizeStatus status;
        uint64_t kib;
        const char *unit; /* where *unit_start points, for UNKNOWN_UNIT */
    } cases[] = {
        {"4096", MB_SIZE_OK, 4096, NULL},
        {"4k", MB_SIZE_OK, 4, NULL},
        {"4KiB", MB_SIZE_OK, 4, NULL},
        {"4M", MB_SIZE_OK, 4096, NULL},
        {"4mib", MB_SIZE_OK, 4096, NULL},
        {"2 GiB", MB_SIZE_OK, 2 * 1024 * 1024, NULL},
        {" 7 M ", MB_SIZE_OK, 7 * 1024, NULL},
        {"1T", MB_SIZE_OK, G_GUINT64_CONSTANT(1) << 30, NULL},
        {"0", MB_SIZE_OK, 0, NULL},
        {"18446744073709551615", MB_SIZE_OK, G_MAXUINT64, NULL},
        {"", MB_SIZE_EMPTY, 0, NULL},
        {"-4", MB_SIZE_NOT_A_SIZE, 0, NULL},
        {"four", MB_SIZE_NOT_A_SIZE, 0, NULL},
        {"  ", MB_SIZE_NOT_A_SIZE, 0, NULL},
        {"99999999999999999999999", MB_SIZE_TOO_LARGE, 0, NULL},
        {"18014398509481984TiB", MB_SIZE_TOO_LARGE, 0, NULL},
        {"4X", MB_SIZE_UNKNOWN_UNIT, 0, "X"},
        {"1.5GiB", MB_SIZE_UNKNOWN_UNIT, 0, ".5GiB"},
        /* One grammar: "MB" is not MiB (the simulator took it once). */
        {"4MB", MB_SIZE_UNKNOWN_UNIT, 0, "MB"},
        {"12 parsecs ", MB_SIZE_UNKNOWN_UNIT, 0, "parsecs "},
        {"4 M B", MB_SIZE_UNKNOWN_UNIT, 0, "M B"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        uint64_t kib = 12345;
        const char *unit = NULL;
        MbSizeStatus status = mb_size_scan_kib(cases[i].text, &kib, &unit);

        g_test_message("size '%s'", cases[i].text);
        g_assert_cmpint(status, ==, cases[i].status);
        if (status == MB_SIZE_OK)
            g_assert_cmpuint(kib, ==, cases[i].kib);
        else
            g_assert_cmpuint(kib, ==, 12345);
        if (cases[i].unit != NULL)
            g_assert_cmpstr(unit, ==, cases[i].unit);
    }
    g_assert_cmpint(mb_size_scan_kib(NULL, NULL, NULL), ==, MB_SIZE_EMPTY);
}

static void
test_size_parse_messages(void)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"", "empty size (write e.g. 512MiB, 2GiB or a number of KiB)"},
        {"lots", "'lots' is not a size (write e.g. 512MiB, 2GiB or a number of KiB)"},
        {"99999999999999999999999", "size '99999999999999999999999' is too large"},
        {"12 parsecs ",
         "'12 parsecs ' has an unknown unit 'parsecs' (use KiB, MiB, GiB or TiB)"},
    };
    guint64 kib = 0;

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *name = NULL;

        g_assert_false(mb_size_parse_kib(cases[i].text, &kib, &error));
        /* The service's InvalidArgs, here and on the bus. */
        g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS);
        g_assert_cmpstr(error->message, ==, cases[i].message);
        name = g_dbus_error_encode_gerror(error);
        g_assert_cmpstr(name, ==, MB_ERROR_NAME_INVALID_ARGS);
    }
    g_assert_true(mb_size_parse_kib("3 GiB", &kib, NULL));
    g_assert_cmpuint(kib, ==, 3 * 1024 * 1024);
}

/* The formatters write what the parser reads back. */
static void
test_size_round_trip(void)
{
    static const guint64 sizes[] = {
        0, 1, 1023, 1024, 512 * 1024, 3 * 1024 * 1024, G_GUINT64_CONSTANT(5) << 30};

    for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_autofree char *text = mb_size_format_kib(sizes[i]);
        guint64 kib = 0;

        g_assert_true(mb_size_parse_kib(text, &kib, NULL));
        g_assert_cmpuint(kib, ==, sizes[i]);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/common/size/scan", test_size_scan);
    g_test_add_func("/common/size/parse-messages", test_size_parse_messages);
    g_test_add_func("/common/size/round-trip", test_size_round_trip);
    return g_test_run();
}
