/* Every MESSAGE_ID of mb-log.h in the message catalog (mb-log.c). */

#include "mb-log.h"
#include "mb-test-bus.h"
#include "mb-test-unit.h"

/* Every MESSAGE_ID of mb-log.h has an entry in the message catalog, and
 * journalctl itself reads the catalog (it lists each ID with its subject). */
static void
test_message_catalog(void)
{
    const char *ids[] = {MB_MESSAGE_ID_REBALANCED,      MB_MESSAGE_ID_STUCK,
                         MB_MESSAGE_ID_HYPERVISOR_LOST, MB_MESSAGE_ID_HYPERVISOR_BACK,
                         MB_MESSAGE_ID_STATE_CORRUPT,   MB_MESSAGE_ID_GUEST_LIES,
                         MB_MESSAGE_ID_URGENT_TICK};
    g_autofree char *text = NULL, *root = mb_test_make_dir("mb-catalog-XXXXXX");
    g_autofree char *dir = g_build_filename(root, "usr/lib/systemd/catalog", NULL);
    g_autofree char *var = g_build_filename(root, "var/lib/systemd", NULL);
    g_autofree char *copy = NULL, *root_arg = g_strdup_printf("--root=%s", root);
    g_autofree char *out = NULL, *err = NULL;
    const char *update[] = {"journalctl", root_arg, "--update-catalog", NULL};
    const char *list[] = {"journalctl", root_arg, "--list-catalog", NULL};

    g_assert_true(g_file_get_contents(MB_TEST_CATALOG, &text, NULL, NULL));
    for (gsize i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_autofree char *head = g_strdup_printf("-- %s\nSubject: ", ids[i]);

        g_assert_cmpuint(strlen(ids[i]), ==, 32);
        g_assert_nonnull(strstr(text, head));
    }
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(var, 0755), ==, 0);
    copy = mb_test_write_file(dir, "membalancer.catalog", text);
    g_assert_cmpint(mb_test_run(FALSE, update, NULL, &err), ==, 0);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(mb_test_run(FALSE, list, &out, &err), ==, 0);
    for (gsize i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_autofree char *line = g_strdup_printf("%s membalancer: ", ids[i]);

        g_assert_nonnull(strstr(out, line));
    }
    mb_test_rm_rf(root);
}

int
main(int argc, char **argv)
{
    mb_test_unit_init(&argc, &argv);
    g_test_add_func("/service/unit/message-catalog", test_message_catalog);
    return mb_test_unit_run();
}
