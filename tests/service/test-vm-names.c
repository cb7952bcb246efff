/* VM names and their object paths (mb_vm_name_validate, mb_vm_object_path_for_name). */

#include <string.h>

#include "mb-error.h"
#include "mb-vm-object.h"
#include "mb-test-unit.h"

static void
test_vm_names(void)
{
    g_autofree char *longest = g_strnfill(MB_VM_NAME_MAX, 'a');
    g_autofree char *too_long = g_strnfill(MB_VM_NAME_MAX + 1, 'a');
    g_autoptr(GError) error = NULL;

    g_assert_true(mb_vm_name_validate("game", NULL));
    g_assert_true(mb_vm_name_validate("vidéo-1.2_x y", NULL));
    g_assert_true(mb_vm_name_validate(longest, NULL));
    g_assert_false(mb_vm_name_validate("", &error));
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS);
    g_clear_error(&error);
    g_assert_false(mb_vm_name_validate(too_long, &error));
    g_assert_nonnull(strstr(error->message, "129 bytes"));
    g_clear_error(&error);
    g_assert_false(mb_vm_name_validate("a\tb", &error));
    g_clear_error(&error);
    g_assert_false(mb_vm_name_validate("\xff\xfe", &error));

    /* Object paths: escaped, distinct, valid. */
    g_autofree char *p1 = mb_vm_object_path_for_name("video-playback");
    g_autofree char *p2 = mb_vm_object_path_for_name("video_playback");
    g_autofree char *p3 = mb_vm_object_path_for_name("vidéo/1");
    g_assert_cmpstr(p1, ==, "/org/smarttv/MemBalancer/vm/video_2dplayback");
    g_assert_cmpstr(p1, !=, p2);
    g_assert_true(g_variant_is_object_path(p1));
    g_assert_true(g_variant_is_object_path(p2));
    g_assert_true(g_variant_is_object_path(p3));
}

int
main(int argc, char **argv)
{
    mb_test_unit_init(&argc, &argv);
    g_test_add_func("/service/unit/vm-names", test_vm_names);
    return mb_test_unit_run();
}
