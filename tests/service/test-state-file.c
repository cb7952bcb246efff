/* The state store on disk: the round trip, corrupt, linked, foreign and
 * newer files, the directory's permissions (mb-state-store.c). */
#include <glib/gstdio.h>
#include <pwd.h>
#include <string.h>

#include "mb-error.h"
#include "mb-state-store.h"
#include "mb-test-bus.h"
#include "mb-test-unit.h"

static guint
count_corrupt(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    guint n = 0;

    while ((name = g_dir_read_name(d)) != NULL)
        n += g_str_has_prefix(name, "registrations.ini.corrupt-");
    return n;
}

static void
test_state_roundtrip(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-state-XXXXXX");
    g_autofree char *sub = g_build_filename(dir, "a", "b", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(MbStateStore) store = mb_state_store_new(sub, &error);
    g_autoptr(MbState) saved = mb_test_three_vms();
    g_autoptr(MbState) loaded = NULL;
    g_autoptr(MbState) empty = NULL;

    g_assert_no_error(error);
    empty = mb_state_store_load(store, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(empty->registrations->len, ==, 0);
    g_assert_true(mb_state_store_save(store, saved, &error));
    loaded = mb_state_store_load(store, &error);
    g_assert_no_error(error);
    g_assert_true(loaded->paused);
    g_assert_cmpuint(loaded->registrations->len, ==, 3);
    for (guint i = 0; i < 3; i++) {
        MbRegistration *a = g_ptr_array_index(saved->registrations, i);
        MbRegistration *b = g_ptr_array_index(loaded->registrations, i);
        g_assert_cmpstr(a->name, ==, b->name);
        g_assert_cmpuint(a->priority, ==, b->priority);
        g_assert_cmpuint(a->min_kib, ==, b->min_kib);
        g_assert_cmpuint(a->max_kib, ==, b->max_kib);
        g_assert_cmpint(a->foreground, ==, b->foreground);
    }
    g_assert_cmpuint(count_corrupt(sub), ==, 0);
    mb_test_rm_rf(dir);
}

static void
test_state_corrupt(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-state-XXXXXX");
    g_autoptr(GError) error = NULL;
    g_autoptr(MbStateStore) store = mb_state_store_new(dir, &error);
    g_autoptr(MbState) saved = mb_test_three_vms();
    g_autofree char *text = NULL;
    gsize length;

    g_assert_true(mb_state_store_save(store, saved, &error));
    g_assert_true(g_file_get_contents(mb_state_store_get_path(store), &text, &length, NULL));

    /* Every truncation point: never a crash, never an error, what is
     * whole survives. */
    for (gsize cut = 0; cut < length; cut += 7) {
        g_autoptr(MbState) loaded = NULL;

        g_assert_true(
            g_file_set_contents(mb_state_store_get_path(store), text, (gssize)cut, NULL));
        loaded = mb_state_store_load(store, &error);
        g_assert_no_error(error);
        g_assert_nonnull(loaded);
        g_assert_cmpuint(loaded->registrations->len, <=, 3);
    }
    g_assert_cmpuint(count_corrupt(dir), >=, 1);

    /* Garbage and bad values. */
    static const char *const bad[] = {
        "\x01\x02\x03 binary",
        "[membalancer]\nversion=1\n[vm "
        "0]\nname=\npriority=1\nmin-kib=0\nmax-kib=1\nforeground=false\n",
        "[membalancer]\nversion=1\n[vm "
        "0]\nname=a\npriority=101\nmin-kib=0\nmax-kib=1\nforeground=false\n",
        "[membalancer]\nversion=1\n[vm "
        "0]\nname=a\npriority=1\nmin-kib=5\nmax-kib=1\nforeground=false\n",
        "[membalancer]\nversion=1\n[vm "
        "0]\nname=a\npriority=x\nmin-kib=0\nmax-kib=1\nforeground=false\n",
        "[membalancer]\nversion=0\n",
        "[membalancer]\nversion=two\n",
        "[other]\nx=1\n",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(MbState) loaded = NULL;

        g_assert_true(g_file_set_contents(mb_state_store_get_path(store), bad[i], -1, NULL));
        loaded = mb_state_store_load(store, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(loaded->registrations->len, ==, 0);
    }

    /* One bad entry among good ones: the good ones are kept. */
    g_assert_true(g_file_set_contents(
        mb_state_store_get_path(store),
        "[membalancer]\nversion=1\n"
        "[vm 0]\nname=a\npriority=1\nmin-kib=0\nmax-kib=1\nforeground=true\n"
        "[vm 1]\nname=b\npriority=1000\nmin-kib=0\nmax-kib=1\nforeground=false\n"
        "[vm 2]\nname=a\npriority=1\nmin-kib=0\nmax-kib=1\nforeground=false\n"
        "[vm 3]\nname=c\npriority=3\nmin-kib=0\nmax-kib=1\nforeground=true\n",
        -1, NULL));
    g_autoptr(MbState) mixed = mb_state_store_load(store, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(mixed->registrations->len, ==, 2);
    g_assert_cmpstr(((MbRegistration *)g_ptr_array_index(mixed->registrations, 0))->name, ==,
                    "a");
    g_assert_cmpstr(((MbRegistration *)g_ptr_array_index(mixed->registrations, 1))->name, ==,
                    "c");
    /* One foreground VM at most. */
    g_assert_false(((MbRegistration *)g_ptr_array_index(mixed->registrations, 1))->foreground);
    mb_test_rm_rf(dir);
}

/* registrations.ini is never read through a link, nor anything but a
 * regular file (a FIFO would block the start). */
static void
test_state_symlink(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-state-XXXXXX");
    g_autoptr(GError) error = NULL;
    g_autoptr(MbStateStore) store = mb_state_store_new(dir, &error);
    g_autoptr(MbState) saved = mb_test_three_vms();
    const char *path = mb_state_store_get_path(store);
    g_autofree char *target = g_build_filename(dir, "elsewhere.ini", NULL);
    g_autofree char *before = NULL, *after = NULL;
    struct stat st;

    g_assert_no_error(error);
    g_assert_true(mb_state_store_save(store, saved, &error));
    g_assert_cmpint(g_rename(path, target), ==, 0);
    before = mb_test_read_text(target);
    g_assert_cmpint(symlink(target, path), ==, 0);

    g_assert_null(mb_state_store_load(store, &error));
    g_test_message("%s", error->message);
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_assert_nonnull(strstr(error->message, path));
    g_assert_nonnull(strstr(error->message, "symbolic link"));
    g_clear_error(&error);
    /* Nothing moved, nothing written. */
    g_assert_cmpint(lstat(path, &st), ==, 0);
    g_assert_true(S_ISLNK(st.st_mode));
    after = mb_test_read_text(target);
    g_assert_cmpstr(before, ==, after);
    g_assert_cmpuint(count_corrupt(dir), ==, 0);

    /* A link to a corrupt file, or a dangling one: refused alike, not moved. */
    g_assert_true(g_file_set_contents(target, "garbage [[[", -1, NULL));
    g_assert_null(mb_state_store_load(store, &error));
    g_assert_nonnull(strstr(error->message, "symbolic link"));
    g_clear_error(&error);
    g_assert_cmpint(g_unlink(target), ==, 0);
    g_assert_null(mb_state_store_load(store, &error));
    g_assert_nonnull(strstr(error->message, "symbolic link"));
    g_clear_error(&error);
    g_assert_cmpuint(count_corrupt(dir), ==, 0);
    g_assert_cmpint(lstat(path, &st), ==, 0);
    g_assert_true(S_ISLNK(st.st_mode));

    /* A FIFO (or a directory): refused, never waited on. */
    g_assert_cmpint(g_unlink(path), ==, 0);
    g_assert_cmpint(mkfifo(path, 0600), ==, 0);
    g_assert_null(mb_state_store_load(store, &error));
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "not a regular file"));
    g_assert_nonnull(strstr(error->message, path));
    g_clear_error(&error);
    g_assert_cmpint(g_unlink(path), ==, 0);
    mb_test_rm_rf(dir);
}

/* A corrupt file is moved aside without replacing an earlier copy. */
static void
test_state_aside_noreplace(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-state-XXXXXX");
    g_autoptr(GError) error = NULL;
    g_autoptr(MbStateStore) store = mb_state_store_new(dir, &error);
    const char *path = mb_state_store_get_path(store);
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    g_autoptr(GPtrArray) earlier = g_ptr_array_new_with_free_func(g_free);

    g_assert_no_error(error);
    /* Copies from earlier starts, for this second and the next two. */
    for (gint64 t = now; t < now + 3; t++) {
        char *aside = g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT, path, t);
        g_assert_true(g_file_set_contents(aside, "an earlier corrupt copy", -1, NULL));
        g_ptr_array_add(earlier, aside);
    }
    for (guint round = 0; round < 2; round++) {
        g_autoptr(MbState) loaded = NULL;

        g_assert_true(g_file_set_contents(path, "garbage [[[", -1, NULL));
        loaded = mb_state_store_load(store, &error);
        g_assert_no_error(error);
        g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    }
    for (guint i = 0; i < earlier->len; i++) {
        g_autofree char *text = mb_test_read_text(g_ptr_array_index(earlier, i));
        g_assert_cmpstr(text, ==, "an earlier corrupt copy");
    }
    g_assert_cmpuint(count_corrupt(dir), ==, 5);
    mb_test_rm_rf(dir);
}

/* A state directory others could write, or not the service's own, is refused. */
static void
test_state_dir_permissions(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-state-XXXXXX");
    g_autofree char *sub = g_build_filename(dir, "state", NULL);
    static const struct {
        guint mode;
        const char *why;
    } bad[] = {
        {0777, "writable by others (mode 0777)"},
        {0757, "writable by others"},
        {0770, "writable by its group (mode 0770)"},
        {01777, "writable by others (mode 1777)"},
    };

    g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(MbStateStore) store = NULL;

        g_assert_cmpint(chmod(sub, bad[i].mode), ==, 0);
        store = mb_state_store_new(sub, &error);
        g_assert_null(store);
        g_test_message("%s", error->message);
        g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
        g_assert_nonnull(strstr(error->message, sub));
        g_assert_nonnull(strstr(error->message, bad[i].why));
    }
    /* What systemd's StateDirectory= makes (0755), and what we make (0750). */
    for (guint mode = 0700; mode <= 0755; mode += 0055) {
        g_autoptr(GError) error = NULL;
        g_assert_cmpint(chmod(sub, mode), ==, 0);
        g_autoptr(MbStateStore) store = mb_state_store_new(sub, &error);
        g_assert_no_error(error);
    }
    {
        g_autofree char *made = g_build_filename(dir, "made", "here", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(MbStateStore) store = mb_state_store_new(made, &error);
        struct stat st;

        g_assert_no_error(error);
        g_assert_cmpint(stat(made, &st), ==, 0);
        g_assert_cmpuint(st.st_mode & 07777 & ~0750, ==, 0);
    }

    /* Owned by someone else: refused even when not writable by others. */
    if (mb_test_have_root("give the state directory to another user")) {
        struct passwd *nobody = getpwnam("nobody");
        g_autoptr(GError) error = NULL;
        g_autoptr(MbStateStore) store = NULL;

        g_assert_nonnull(nobody);
        g_assert_cmpint(chmod(sub, 0755), ==, 0);
        g_assert_cmpint(chown(sub, nobody->pw_uid, nobody->pw_gid), ==, 0);
        store = mb_state_store_new(sub, &error);
        g_assert_null(store);
        g_test_message("%s", error->message);
        g_autofree char *owner = g_strdup_printf("owned by uid %u", (guint)nobody->pw_uid);
        g_assert_nonnull(strstr(error->message, owner));
        g_assert_nonnull(strstr(error->message, sub));
    }
    mb_test_rm_rf(dir);
}

/* A newer format is kept as it is and the start refused, never rewritten as ours. */
static void
test_state_newer_version(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-state-XXXXXX");
    g_autoptr(GError) error = NULL;
    g_autoptr(MbStateStore) store = mb_state_store_new(dir, &error);
    const char *path = mb_state_store_get_path(store);
    static const char newer[] =
        "[membalancer]\nversion=2\npaused=false\nshares=weighted\n"
        "[vm 0]\nname=game\npriority=80\nmin-kib=0\nmax-kib=0\nforeground=true\nweight=3\n";
    g_autofree char *after = NULL;

    g_assert_no_error(error);
    g_assert_true(g_file_set_contents(path, newer, -1, NULL));
    g_assert_null(mb_state_store_load(store, &error));
    g_test_message("%s", error->message);
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_assert_nonnull(strstr(error->message, path));
    g_assert_nonnull(strstr(error->message, "written by a newer membalancer (version 2); this "
                                            "one reads version 1"));
    after = mb_test_read_text(path);
    g_assert_cmpstr(after, ==, newer);
    g_assert_cmpuint(count_corrupt(dir), ==, 0);
    mb_test_rm_rf(dir);
}

/* What a corrupt file puts in the journal: bounded, valid UTF-8, no
 * control characters (a terminal escape must not reach journalctl). */
static void
test_state_corrupt_log_bounded(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-state-XXXXXX");
    g_autoptr(GError) error = NULL;
    g_autoptr(MbStateStore) store = mb_state_store_new(dir, &error);
    const char *path = mb_state_store_get_path(store);
    g_autoptr(GString) long_line = g_string_new("[membalancer]\nversion=1\n");
    g_autoptr(GString) many_groups = g_string_new("[membalancer]\nversion=1\n");

    g_assert_no_error(error);
    for (guint i = 0; i < 20000; i++)
        g_string_append(long_line, "\x1b[31m\xff\xfe\x01");
    g_string_append(long_line, "\n");
    for (guint i = 0; i < 5000; i++)
        g_string_append_printf(many_groups, "[bogus %u]\nx=1\n", i);
    const char *const texts[] = {long_line->str, many_groups->str};
    for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
        g_autoptr(MbState) loaded = NULL;

        g_ptr_array_set_size(mb_test_unit_warnings(), 0);
        g_assert_true(g_file_set_contents(path, texts[i], -1, NULL));
        loaded = mb_state_store_load(store, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(mb_test_unit_warnings()->len, >=, 1);
        for (guint w = 0; w < mb_test_unit_warnings()->len; w++) {
            const char *message = g_ptr_array_index(mb_test_unit_warnings(), w);
            g_test_message("%" G_GSIZE_FORMAT " bytes logged", strlen(message));
            g_assert_cmpuint(strlen(message), <, 2048);
            g_assert_true(g_utf8_validate(message, -1, NULL));
            for (const char *p = message; *p != '\0'; p = g_utf8_next_char(p))
                g_assert_false(g_unichar_iscntrl(g_utf8_get_char(p)));
            g_assert_nonnull(strstr(message, "more bytes"));
        }
    }
    mb_test_rm_rf(dir);
}

static void
test_state_unwritable(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(MbStateStore) store = mb_state_store_new("/proc/membalancer-test", &error);

    g_assert_null(store);
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_assert_nonnull(strstr(error->message, "/proc/membalancer-test"));
}

int
main(int argc, char **argv)
{
    mb_test_unit_init(&argc, &argv);
    g_test_add_func("/service/unit/state-roundtrip", test_state_roundtrip);
    g_test_add_func("/service/unit/state-corrupt", test_state_corrupt);
    g_test_add_func("/service/unit/state-symlink", test_state_symlink);
    g_test_add_func("/service/unit/state-aside-noreplace", test_state_aside_noreplace);
    g_test_add_func("/service/unit/state-dir-permissions", test_state_dir_permissions);
    g_test_add_func("/service/unit/state-newer-version", test_state_newer_version);
    g_test_add_func("/service/unit/state-corrupt-log-bounded", test_state_corrupt_log_bounded);
    g_test_add_func("/service/unit/state-unwritable", test_state_unwritable);
    return mb_test_unit_run();
}
