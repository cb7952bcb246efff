/* The state store when a corrupt state file cannot be moved aside: the
 * original is kept byte for byte and never written over until it is moved
 * or removed by hand, or can be moved aside. */
#include <glib/gstdio.h>
#include <string.h>

#include "mb-error.h"
#include "mb-state-store.h"
#include "mb-test-bus.h"

/* One good entry, one bad (an empty name). */
static const char corrupt[] = "[membalancer]\nversion=1\npaused=false\n"
                              "[vm 0]\nname=game\npriority=80\nmin-kib=0\nmax-kib=0\n"
                              "foreground=false\n"
                              "[vm 1]\nname=\npriority=1\nmin-kib=0\nmax-kib=0\n"
                              "foreground=false\n";

static char *
read_text(const char *path)
{
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static MbState *
load_kept(MbStateStore *store)
{
    g_autoptr(GError) error = NULL;
    MbState *state = mb_state_store_load(store, &error);

    g_assert_no_error(error);
    g_assert_nonnull(state);
    /* The survivor is used. */
    g_assert_cmpuint(state->registrations->len, ==, 1);
    return state;
}

static void
refused(MbStateStore *store, MbState *state)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;

    g_assert_false(mb_state_store_save(store, state, &error));
    g_test_message("%s", error->message);
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_assert_nonnull(strstr(error->message, "never written over"));
    text = read_text(mb_state_store_get_path(store));
    g_assert_cmpstr(text, ==, corrupt);
}

static void
test_kept_when_aside_fails(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-state-XXXXXX");
    g_autoptr(GError) error = NULL;
    g_autoptr(MbStateStore) store = mb_state_store_new(dir, &error);
    const char *path = mb_state_store_get_path(store);
    g_autofree char *moved = g_build_filename(dir, "moved-by-hand.ini", NULL);
    g_autoptr(MbState) state = NULL;
    g_autofree char *text = NULL;
    guint entries;

    g_assert_no_error(error);
    g_assert_true(g_file_set_contents(path, corrupt, -1, NULL));
    mb_test_block_aside(path, 30);
    entries = mb_test_count_entries(dir);

    /* Loaded: not moved, not rewritten, and said so. */
    mb_test_warnings_clear();
    state = load_kept(store);
    g_assert_cmpuint(mb_test_warnings_count("could not be moved aside"), ==, 1);
    text = read_text(path);
    g_assert_cmpstr(text, ==, corrupt);
    g_assert_cmpuint(mb_test_count_entries(dir), ==, entries);
    /* A change is refused, and again. */
    g_ptr_array_add(state->registrations, mb_registration_new("web", 1, 0, 0, FALSE));
    refused(store, state);
    refused(store, state);

    /* Moved by hand: written again, the original intact where it went. */
    g_assert_cmpint(g_rename(path, moved), ==, 0);
    g_assert_true(mb_state_store_save(store, state, &error));
    g_assert_no_error(error);
    g_clear_pointer(&text, g_free);
    text = read_text(moved);
    g_assert_cmpstr(text, ==, corrupt);
    g_clear_pointer(&state, mb_state_free);
    state = mb_state_store_load(store, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(state->registrations->len, ==, 2);
    mb_test_rm_rf(dir);
}

/* Kept at start; once a name to move it to is free, the next change moves
 * it aside and writes. */
static void
test_kept_then_moved(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-state-XXXXXX");
    g_autofree char *blocked = g_build_filename(dir, "blocked", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(MbStateStore) store = mb_state_store_new(dir, &error);
    const char *path = mb_state_store_get_path(store);
    g_autoptr(MbState) state = NULL;
    g_autoptr(GDir) d = NULL;
    const char *name;
    guint originals = 0;

    g_assert_no_error(error);
    g_assert_true(g_file_set_contents(path, corrupt, -1, NULL));
    mb_test_block_aside(path, 30);
    state = load_kept(store);
    refused(store, state);
    /* The administrator clears the way: the names go elsewhere. */
    g_assert_cmpint(g_mkdir(blocked, 0700), ==, 0);
    d = g_dir_open(dir, 0, NULL);
    while ((name = g_dir_read_name(d)) != NULL) {
        if (g_str_has_prefix(name, "registrations.ini.corrupt-")) {
            g_autofree char *from = g_build_filename(dir, name, NULL);
            g_autofree char *to = g_build_filename(blocked, name, NULL);
            g_assert_cmpint(g_rename(from, to), ==, 0);
        }
    }
    g_clear_pointer(&d, g_dir_close);
    g_assert_true(mb_state_store_save(store, state, &error));
    g_assert_no_error(error);
    d = g_dir_open(dir, 0, NULL);
    while ((name = g_dir_read_name(d)) != NULL) {
        if (g_str_has_prefix(name, "registrations.ini.corrupt-")) {
            g_autofree char *aside = g_build_filename(dir, name, NULL);
            g_autofree char *text = read_text(aside);
            g_assert_cmpstr(text, ==, corrupt);
            originals++;
        }
    }
    g_assert_cmpuint(originals, ==, 1);
    mb_test_rm_rf(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    (void)mb_service_error_quark();
    mb_test_warnings_capture();
    g_test_add_func("/state-store/kept-when-aside-fails", test_kept_when_aside_fails);
    g_test_add_func("/state-store/kept-then-moved", test_kept_then_moved);
    return g_test_run();
}
