/* Sizes as the config and the client read them (mb-size.c). */

#include "mb-error.h"
#include "mb-size.h"
#include "mb-test-unit.h"

static void
test_size_parse(void)
{
    static const struct {
        const char *text;
        gboolean ok;
        guint64 kib;
    } cases[] = {
        {"0", TRUE, 0},
        {"1024", TRUE, 1024},
        {"512MiB", TRUE, 512 * 1024},
        {"512 MiB", TRUE, 512 * 1024},
        {"2GiB", TRUE, 2 * 1024 * 1024},
        {"2g", TRUE, 2 * 1024 * 1024},
        {"3KiB", TRUE, 3},
        {"1TiB", TRUE, G_GUINT64_CONSTANT(1) << 30},
        {" 7 M ", TRUE, 7 * 1024},
        {"", FALSE, 0},
        {"abc", FALSE, 0},
        {"-5", FALSE, 0},
        {"1.5GiB", FALSE, 0},
        {"12 parsecs", FALSE, 0},
        {"99999999999999999999999", FALSE, 0},
        {"18014398509481984TiB", FALSE, 0},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        guint64 kib = 0;
        gboolean ok = mb_size_parse_kib(cases[i].text, &kib, &error);

        g_test_message("size '%s'", cases[i].text);
        g_assert_cmpint(ok, ==, cases[i].ok);
        if (ok) {
            g_assert_no_error(error);
            g_assert_cmpuint(kib, ==, cases[i].kib);
        } else {
            g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS);
            g_assert_nonnull(strstr(error->message, cases[i].text));
        }
    }
    g_autofree char *a = mb_size_format_kib(512 * 1024);
    g_autofree char *b = mb_size_format_kib(3 * 1024 * 1024);
    g_autofree char *c = mb_size_format_kib(100);
    g_assert_cmpstr(a, ==, "512 MiB");
    g_assert_cmpstr(b, ==, "3 GiB");
    g_assert_cmpstr(c, ==, "100 KiB");
}

int
main(int argc, char **argv)
{
    mb_test_unit_init(&argc, &argv);
    g_test_add_func("/service/unit/size-parse", test_size_parse);
    return mb_test_unit_run();
}
