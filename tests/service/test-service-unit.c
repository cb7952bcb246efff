/* Unit tests of the service's pieces that need no bus: sizes, config,
 * state store, names, authorization decisions, the fake backend. */
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mb-auth.h"
#include "mb-backend-fake.h"
#include "mb-backend.h"
#include "mb-config.h"
#include "mb-daemon.h"
#include "mb-manager.h"
#include "mb-error.h"
#include "mb-log.h"
#include "mb-size.h"
#include "mb-state-store.h"
#include "mb-test-bus.h"
#include "mb-vm-object.h"

/* The service's warnings, as test_writer (below) saw them. */
static GPtrArray *warnings;

/* A test that needs root: skipped with the reason outside CI, failed in CI
 * (CI=true), where the tests run as root. */
static gboolean
have_root(const char *why)
{
    if (geteuid() == 0)
        return TRUE;
    if (g_strcmp0(g_getenv("CI"), "true") == 0) {
        g_test_fail_printf("CI=true but not root (uid %u): cannot %s", (guint)geteuid(), why);
        return FALSE;
    }
    g_test_skip_printf("needs root to %s (CI runs it as root)", why);
    return FALSE;
}

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

static void
test_config_good(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-config-XXXXXX");
    g_autofree char *path = mb_test_write_file(
        dir, "membalancer.conf",
        "[membalancer]\npool=1536MiB\nreserve=64MiB\ninterval=250\nalpha=0.5\n"
        "policy=paper\nmin-step=8MiB\nlibvirt-uri=qemu:///"
        "session\ngroup=tv\nurgent-min-ms=150\nspare=96MiB\nforeground-headroom=200MiB\n"
        "state-directory=/tmp/x\nbackend=fake\n[fake]\nalloc=256MiB\nmax=1GiB\n"
        "tv-game=game\n");
    g_autoptr(MbConfig) config = mb_config_new();
    g_autoptr(MbFakeConfig) fake = mb_fake_config_new();
    g_autoptr(GError) error = NULL;
    MbParams params;

    g_assert_true(mb_config_load_file(config, path, TRUE, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(config->pool_kib, ==, 1536 * 1024);
    g_assert_cmpuint(config->reserve_kib, ==, 64 * 1024);
    g_assert_cmpuint(config->interval_ms, ==, 250);
    g_assert_cmpuint(config->urgent_min_ms, ==, 150);
    g_assert_cmpfloat(config->alpha, ==, 0.5);
    g_assert_cmpint(config->policy, ==, MB_POLICY_PAPER);
    g_assert_cmpuint(config->min_step_kib, ==, 8 * 1024);
    g_assert_cmpuint(config->spare_kib, ==, 96 * 1024);
    g_assert_cmpuint(config->foreground_headroom_kib, ==, 200 * 1024);
    g_assert_cmpstr(config->libvirt_uri, ==, "qemu:///session");
    g_assert_cmpstr(config->group, ==, "tv");
    g_assert_cmpstr(config->state_dir, ==, "/tmp/x");
    g_assert_cmpstr(config->backend, ==, "fake");
    g_assert_true(mb_fake_config_load(fake, config, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(fake->alloc_kib, ==, 256 * 1024);
    g_assert_cmpuint(fake->max_kib, ==, 1024 * 1024);
    g_assert_cmpstr(g_hash_table_lookup(fake->workloads, "tv-game"), ==, "game");
    mb_config_to_params(config, &params);
    g_assert_true(mb_params_validate(&params, NULL));
    g_assert_cmpuint(params.pool_kib, ==, 1536 * 1024);

    /* Overrides, as main.c applies them. */
    g_assert_true(mb_config_set(config, "interval", "75", "--interval-ms", &error));
    g_assert_cmpuint(config->interval_ms, ==, 75);
    g_assert_false(mb_config_set(config, "interval", "5", "--interval-ms", &error));
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS);
    g_assert_nonnull(strstr(error->message, "--interval-ms"));

    /* A missing default file is fine, a missing named file is not. */
    g_autoptr(MbConfig) other = mb_config_new();
    g_assert_cmpuint(other->urgent_min_ms, ==, 200);
    g_clear_error(&error);
    g_assert_true(mb_config_set(other, "urgent-min-ms", "0", "test", &error));
    g_assert_cmpuint(other->urgent_min_ms, ==, 0); /* no urgent ticks */
    g_assert_true(mb_config_load_file(other, "/nonexistent/membalancer.conf", FALSE, &error));
    g_assert_false(mb_config_load_file(other, "/nonexistent/membalancer.conf", TRUE, &error));
    g_assert_nonnull(strstr(error->message, "/nonexistent/membalancer.conf"));
    mb_test_rm_rf(dir);
}

static void
test_config_bad(void)
{
    static const struct {
        const char *text;
        const char *key;
        const char *reason;
    } cases[] = {
        {"[membalancer]\npool=lots\n", "pool", "not a size"},
        {"[membalancer]\nreserve=12 parsecs\n", "reserve", "unknown unit"},
        {"[membalancer]\ninterval=5\n", "interval", "whole number from 10"},
        {"[membalancer]\ninterval=soon\n", "interval", "whole number"},
        {"[membalancer]\nurgent-min-ms=-1\n", "urgent-min-ms",
         "whole number from 0 to 3600000"},
        {"[membalancer]\nurgent-min-ms=3600001\n", "urgent-min-ms", "whole number from 0"},
        {"[membalancer]\nurgent-min-ms=soon\n", "urgent-min-ms", "0: no urgent ticks"},
        {"[membalancer]\nurgent-min-ms=\n", "urgent-min-ms", "whole number"},
        {"[fake]\nurgent.web=later\n", "urgent.web", "whole number"},
        {"[fake]\nurgent.web=100,,200\n", "urgent.web", "whole number"},
        {"[fake]\nurgent.=100\n", "urgent.", "no VM name"},
        {"[membalancer]\nalpha=0\n", "alpha", "(0, 1]"},
        {"[membalancer]\nalpha=1.5\n", "alpha", "(0, 1]"},
        {"[membalancer]\nalpha=nan\n", "alpha", "(0, 1]"},
        {"[membalancer]\npolicy=greedy\n", "policy", "unknown policy 'greedy'"},
        {"[membalancer]\nmin-step=-1\n", "min-step", "not a size"},
        {"[membalancer]\nspare=lots\n", "spare", "not a size"},
        {"[membalancer]\nforeground-headroom=-5MiB\n", "foreground-headroom", "not a size"},
        {"[membalancer]\npools=1GiB\n", "pools", "unknown key"},
        {"[membalancer]\nstate-directory=relative/dir\n", "state-directory", "absolute"},
        {"[membalancer]\nbackend=xen\n", "backend", "unknown backend"},
        {"[membalancer]\ngroup=\n", "group", "empty"},
        {"[membalancer]\npool=1GiB\nreserve=1GiB\n", "reserve", "leaves nothing"},
        {"[balancer]\npool=1GiB\n", "balancer", "unknown group"},
        {"[membalancer\npool=1GiB\n", NULL, "membalancer"},
        {"[membalancer]\njust a line\n", NULL, "just a line"},
        {"[fake]\nalloc=4GiB\nmax=1GiB\n", "alloc", "at most max"},
        {"[fake]\nalloc=lots\n", "alloc", "not a size"},
    };
    g_autofree char *dir = mb_test_make_dir("mb-test-config-XXXXXX");

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = mb_test_write_file(dir, "bad.conf", cases[i].text);
        g_autoptr(MbConfig) config = mb_config_new();
        g_autoptr(MbBackend) backend = NULL;
        g_autoptr(GError) error = NULL;

        /* The fake backend's keys are its own: the file loads, the backend refuses. */
        if (g_str_has_prefix(cases[i].text, "[" MB_CONFIG_FAKE_GROUP "]")) {
            g_assert_true(mb_config_load_file(config, path, TRUE, &error));
            g_assert_no_error(error);
            backend = mb_backend_fake_new(config, &error);
            g_assert_null(backend);
        } else {
            g_assert_false(mb_config_load_file(config, path, TRUE, &error));
        }
        g_assert_nonnull(error);
        g_test_message("%s -> %s", cases[i].text, error->message);
        g_assert_true(g_str_has_prefix(error->message, path));
        if (cases[i].key != NULL)
            g_assert_nonnull(strstr(error->message, cases[i].key));
        g_assert_nonnull(strstr(error->message, cases[i].reason));
    }
    mb_test_rm_rf(dir);
}

static void
test_config_directory_env(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-config-XXXXXX");
    g_autofree char *path = NULL;
    g_autofree char *expected = g_build_filename(dir, "membalancer.conf", NULL);

    g_setenv("CONFIGURATION_DIRECTORY", dir, TRUE);
    path = mb_config_default_path();
    g_unsetenv("CONFIGURATION_DIRECTORY");
    g_assert_cmpstr(path, ==, expected);

    g_setenv("STATE_DIRECTORY", "/run/x:/run/y", TRUE);
    g_autoptr(MbConfig) config = mb_config_new();
    g_unsetenv("STATE_DIRECTORY");
    g_assert_cmpstr(config->state_dir, ==, "/run/x");
    mb_test_rm_rf(dir);
}

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

static MbState *
three_vms(void)
{
    MbState *state = mb_state_new();

    g_ptr_array_add(state->registrations, mb_registration_new("game", 80, 256, 2048, TRUE));
    g_ptr_array_add(state->registrations, mb_registration_new("video", 50, 128, 1024, FALSE));
    g_ptr_array_add(state->registrations,
                    mb_registration_new("web [1] = \"x\"", 0, 0, 0, FALSE));
    state->paused = TRUE;
    return state;
}

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
    g_autoptr(MbState) saved = three_vms();
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
    g_autoptr(MbState) saved = three_vms();
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

static char *
read_text(const char *path)
{
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/* registrations.ini is never read through a link, nor anything but a
 * regular file (a FIFO would block the start). */
static void
test_state_symlink(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-state-XXXXXX");
    g_autoptr(GError) error = NULL;
    g_autoptr(MbStateStore) store = mb_state_store_new(dir, &error);
    g_autoptr(MbState) saved = three_vms();
    const char *path = mb_state_store_get_path(store);
    g_autofree char *target = g_build_filename(dir, "elsewhere.ini", NULL);
    g_autofree char *before = NULL, *after = NULL;
    struct stat st;

    g_assert_no_error(error);
    g_assert_true(mb_state_store_save(store, saved, &error));
    g_assert_cmpint(g_rename(path, target), ==, 0);
    before = read_text(target);
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
    after = read_text(target);
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
        g_autofree char *text = read_text(g_ptr_array_index(earlier, i));
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
    if (have_root("give the state directory to another user")) {
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
    after = read_text(path);
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

        g_ptr_array_set_size(warnings, 0);
        g_assert_true(g_file_set_contents(path, texts[i], -1, NULL));
        loaded = mb_state_store_load(store, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(warnings->len, >=, 1);
        for (guint w = 0; w < warnings->len; w++) {
            const char *message = g_ptr_array_index(warnings, w);
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

static void
test_auth_uids(void)
{
    struct passwd *nobody = getpwnam("nobody");
    struct group *nogroup = getgrnam("nogroup");

    if (nobody == NULL || nogroup == NULL) {
        g_test_skip("no user nobody / group nogroup on this system");
        return;
    }
    g_autoptr(MbAuth) members = mb_auth_new("membalancer-test-no-such-group");
    g_autoptr(MbAuth) nogroups = mb_auth_new("nogroup");

    g_assert_true(mb_auth_uid_allowed(members, 0));
    g_assert_true(mb_auth_uid_allowed(members, geteuid()));
    if (geteuid() != nobody->pw_uid) {
        g_assert_false(mb_auth_uid_allowed(members, nobody->pw_uid));
        g_assert_true(mb_auth_uid_allowed(nogroups, nobody->pw_uid));
    }
    /* A uid with no user: never a member. */
    g_assert_false(mb_auth_uid_allowed(nogroups, 4000000000u));
}

/* Each method and property write maps to its polkit action (the actions
 * of org.smarttv.MemBalancer.policy); what is not known is a setting. */
static void
test_auth_actions(void)
{
    g_assert_cmpstr(mb_auth_action_for("RegisterVM", FALSE), ==,
                    "org.smarttv.MemBalancer.register");
    g_assert_cmpstr(mb_auth_action_for("UnregisterVM", FALSE), ==,
                    "org.smarttv.MemBalancer.register");
    g_assert_cmpstr(mb_auth_action_for("SetPriority", FALSE), ==,
                    "org.smarttv.MemBalancer.configure");
    g_assert_cmpstr(mb_auth_action_for("SetForeground", FALSE), ==,
                    "org.smarttv.MemBalancer.configure");
    g_assert_cmpstr(mb_auth_action_for("SetLimits", FALSE), ==,
                    "org.smarttv.MemBalancer.configure");
    g_assert_cmpstr(mb_auth_action_for("Rebalance", FALSE), ==,
                    "org.smarttv.MemBalancer.control");
    g_assert_cmpstr(mb_auth_action_for("Paused", TRUE), ==, "org.smarttv.MemBalancer.control");
    g_assert_cmpstr(mb_auth_action_for("Policy", TRUE), ==,
                    "org.smarttv.MemBalancer.configure");
}

/* Writes a copy of /etc/NAME with extra lines appended and mounts it over
 * /etc/NAME (in the caller's private mount namespace only). */
static void
bind_over_etc(const char *dir, const char *name, const char *extra)
{
    g_autofree char *etc = g_build_filename("/etc", name, NULL);
    g_autofree char *text = read_text(etc);
    g_autofree char *all = g_strconcat(text, extra, NULL);
    g_autofree char *copy = mb_test_write_file(dir, name, all);

    g_assert_cmpint(mount(copy, etc, NULL, MS_BIND, NULL), ==, 0);
}

/* Members of groups bigger than a fixed NSS buffer: decided, not refused.
 * Runs in a child with a private mount namespace whose /etc/group and
 * /etc/passwd carry a 60 KiB group line and a 20 KiB user entry; the
 * machine's files are never touched. */
static void
test_auth_big_group(void)
{
    if (g_test_subprocess()) {
        g_autofree char *dir = mb_test_make_dir("mb-test-nss-XXXXXX");
        g_autoptr(GString) passwd = g_string_new(NULL);
        g_autoptr(GString) group = g_string_new(NULL);
        g_autofree char *gecos = g_strnfill(20000, 'g');

        g_assert_cmpint(unshare(CLONE_NEWNS), ==, 0);
        g_assert_cmpint(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), ==, 0);
        /* mbbiguser: a 20 KiB passwd entry, a member (not by its primary
         * group) of mbbig, whose line lists 5,000 members (60 KiB).
         * mbprimary: mbbig is its primary group. mbmany: in 150 groups. */
        g_string_append_printf(passwd, "mbbiguser:x:54321:54321:%s:/nonexistent:/bin/false\n",
                               gecos);
        g_string_append(passwd, "mbprimary:x:54322:54320::/nonexistent:/bin/false\n");
        g_string_append(passwd, "mbmany:x:54323:54323::/nonexistent:/bin/false\n");
        g_string_append(group, "mbbiguser:x:54321:\nmbmany:x:54323:\nmbbig:x:54320:");
        for (guint i = 0; i < 5000; i++)
            g_string_append_printf(group, "mbmember%05u,", i);
        g_string_append(group, "mbbiguser\n");
        for (guint i = 0; i < 150; i++)
            g_string_append_printf(group, "mbg%03u:x:%u:mbmany\n", i, 55000 + i);
        g_string_append(group, "mbtarget:x:56000:mbmany\n");
        bind_over_etc(dir, "passwd", passwd->str);
        bind_over_etc(dir, "group", group->str);

        struct group *big = getgrnam("mbbig");
        g_assert_nonnull(big);
        g_assert_cmpuint(big->gr_gid, ==, 54320);

        g_autoptr(MbAuth) auth_big = mb_auth_new("mbbig");
        g_autoptr(MbAuth) auth_target = mb_auth_new("mbtarget");
        g_assert_true(mb_auth_uid_allowed(auth_big, 54321));
        g_assert_true(mb_auth_uid_allowed(auth_big, 54322));
        g_assert_false(mb_auth_uid_allowed(auth_big, 54323));
        g_assert_true(mb_auth_uid_allowed(auth_target, 54323));
        g_assert_false(mb_auth_uid_allowed(auth_target, 54321));
        struct passwd *nobody = getpwnam("nobody");
        if (nobody != NULL)
            g_assert_false(mb_auth_uid_allowed(auth_big, nobody->pw_uid));
        /* The bind mounts go with the namespace; the copies go here. */
        g_assert_cmpint(umount("/etc/group"), ==, 0);
        g_assert_cmpint(umount("/etc/passwd"), ==, 0);
        mb_test_rm_rf(dir);
        return;
    }
    if (!have_root("mount a private /etc/group in a mount namespace"))
        return;
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed();
}

static gboolean
is_null(gpointer data)
{
    return *(gpointer *)data == NULL;
}

static void
on_call_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    GError **error = user_data;
    g_autoptr(GVariant) reply =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, error);

    g_assert_null(reply);
}

/* An authorization still running when the daemon drops the manager and the
 * auth (mb_daemon_stop, mb_daemon_free): the check ends on a live MbAuth
 * (before, ASan saw a use after free). The check is held in its bus round
 * trip by stopping the dbus-daemon. */
static void
test_auth_outlives_daemon(void)
{
    g_autoptr(MbTestBus) bus = mb_test_bus_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) reply_error = NULL;
    g_autoptr(GMainContext) client_context = g_main_context_new();
    g_autoptr(GDBusConnection) client = NULL;
    GPid bus_pid = (GPid)atoi(g_subprocess_get_identifier(bus->bus));
    MbAuth *auth = mb_auth_new("nogroup");
    MbManager *manager = mb_manager_new(NULL, auth);
    gpointer weak = manager;
    GVariantBuilder options;
    gint64 deadline;

    g_object_add_weak_pointer(G_OBJECT(manager), &weak);
    g_assert_true(g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(manager),
                                                   bus->connection, MB_OBJECT_PATH, &error));
    /* The bus policy lets callers reach the service by its name only. */
    g_autoptr(GVariant) owned = g_dbus_connection_call_sync(
        bus->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
        "org.freedesktop.DBus", "RequestName", g_variant_new("(su)", MB_BUS_NAME, 4),
        G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
    g_assert_no_error(error);

    /* The client's sources go to a context of its own: the default one
     * then holds only what reaches the manager. */
    g_main_context_push_thread_default(client_context);
    client = g_dbus_connection_new_for_address_sync(
        bus->address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, &error);
    g_assert_no_error(error);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&options, "{sv}", "bogus", g_variant_new_boolean(TRUE));
    g_dbus_connection_call(
        client, MB_BUS_NAME, MB_OBJECT_PATH, "org.smarttv.MemBalancer", "RegisterVM",
        g_variant_new("(su@a{sv})", "x", 1, g_variant_builder_end(&options)), NULL,
        G_DBUS_CALL_FLAGS_NONE, 20000, NULL, on_call_done, &reply_error);
    g_main_context_pop_thread_default(client_context);

    /* The call waits in the default context: stop the bus, then let the
     * manager start its check, which now hangs on GetConnectionCredentials. */
    deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!g_main_context_pending(NULL) && g_get_monotonic_time() < deadline)
        g_usleep(1000);
    g_assert_true(g_main_context_pending(NULL));
    g_assert_cmpint(kill(bus_pid, SIGSTOP), ==, 0);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_usleep(100000);

    /* What mb_daemon_stop() and mb_daemon_free() do. */
    g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(manager));
    g_object_unref(manager);
    mb_auth_unref(auth);
    g_assert_nonnull(weak); /* the check holds it */

    g_assert_cmpint(kill(bus_pid, SIGCONT), ==, 0);
    deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (reply_error == NULL && g_get_monotonic_time() < deadline) {
        g_main_context_iteration(NULL, FALSE);
        g_main_context_iteration(client_context, FALSE);
        g_usleep(1000);
    }
    g_assert_nonnull(reply_error);
    g_test_message("reply: %s", reply_error->message);
    /* Authorized (root), but the manager is gone from the bus. */
    g_assert_error(reply_error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_assert_true(mb_test_wait_for(is_null, &weak, 10000));
}

static void
test_fake_backend(void)
{
    g_autoptr(MbConfig) config = mb_config_new();
    g_autoptr(MbFakeConfig) defaults = mb_fake_config_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(MbBackend) backend = NULL;
    MbDomainInfo info;
    MbSample sample;
    MbStatsSource source;
    guint64 alloc;

    /* The factory builds the libvirt backend (tested in test-backend-libvirt). */
    g_free(config->backend);
    config->backend = g_strdup("libvirt");
    g_free(config->libvirt_uri);
    config->libvirt_uri = g_strdup("test:///default");
    backend = mb_backend_new(config, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(mb_backend_get_name(backend), ==, "libvirt");
    g_assert_true(mb_backend_is_connected(backend));
    g_clear_pointer(&backend, mb_backend_free);

    mb_config_add_backend_key(config, MB_CONFIG_FAKE_GROUP, "tv", "no-such-workload",
                              "test: [fake]");
    g_free(config->backend);
    config->backend = g_strdup("fake");
    backend = mb_backend_new(config, &error);
    g_assert_null(backend);
    g_assert_nonnull(strstr(error->message, "no-such-workload"));
    g_assert_nonnull(strstr(error->message, "video-playback"));
    g_clear_error(&error);

    mb_config_add_backend_key(config, MB_CONFIG_FAKE_GROUP, "tv", "game", "test: [fake]");
    backend = mb_backend_new(config, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(mb_backend_get_name(backend), ==, "fake");
    g_assert_true(mb_backend_lookup(backend, "tv", &info, &error));
    g_assert_cmpuint(info.current_kib, ==, defaults->alloc_kib);
    g_assert_cmpuint(info.max_kib, ==, defaults->max_kib);
    for (int i = 0; i < 30; i++)
        mb_backend_begin_tick(backend, FALSE);
    g_assert_true(mb_backend_read_sample(backend, "tv", &sample, &source, &alloc, &error));
    g_assert_cmpint(source, ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(alloc, ==, defaults->alloc_kib);
    g_assert_cmpuint(sample.total_kib, >, 0);
    g_assert_cmpuint(sample.active_anon_kib, >, 0);
    g_assert_true(mb_backend_set_target(backend, "tv", 700 * 1024, &error));
    g_assert_true(mb_backend_read_sample(backend, "tv", &sample, &source, &alloc, &error));
    g_assert_cmpuint(alloc, ==, 700 * 1024);
    /* Clamped to the domain's maximum. */
    g_assert_true(mb_backend_set_target(backend, "tv", 100 * 1024 * 1024, &error));
    g_assert_true(mb_backend_lookup(backend, "tv", &info, &error));
    g_assert_cmpuint(info.current_kib, ==, defaults->max_kib);

    g_auto(GStrv) names = mb_backend_list_domains(backend, &error);
    g_assert_no_error(error);
    g_assert_true(g_strv_contains((const char *const *)names, "tv"));
    g_assert_cmpstr(mb_stats_source_to_string(MB_STATS_SOURCE_BALLOON), ==, "balloon");
    g_assert_cmpstr(mb_stats_source_to_string(MB_STATS_SOURCE_NONE), ==, "none");
}

/* A smoke run of the two parsers of outside input (config, state file):
 * random byte mutations never crash them, and each result is a value or
 * an error. */
static void
test_fuzz_smoke(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-fuzz-XXXXXX");
    g_autoptr(GError) error = NULL;
    g_autoptr(MbStateStore) store = mb_state_store_new(dir, &error);
    g_autoptr(MbState) state = three_vms();
    g_autofree char *state_text = NULL;
    const char *config_text =
        "[membalancer]\npool=1536MiB\nreserve=64MiB\ninterval=250\nalpha=0.5\n"
        "policy=paper\nmin-step=8MiB\ngroup=tv\n[fake]\nalloc=256MiB\ntv-game=game\n";
    gsize state_len;

    g_assert_true(mb_state_store_save(store, state, &error));
    g_assert_true(
        g_file_get_contents(mb_state_store_get_path(store), &state_text, &state_len, NULL));
    for (guint round = 0; round < 2000; round++) {
        gboolean on_state = round % 2 == 0;
        g_autofree char *text = g_strdup(on_state ? state_text : config_text);
        gsize len = strlen(text);
        guint n = g_test_rand_int_range(1, 8);

        for (guint i = 0; i < n; i++) {
            gsize at = (gsize)g_test_rand_int_range(0, (gint32)len);
            static const char interesting[] = "=[]\n\\;#0-9\xff\x01 ";
            text[at] = g_test_rand_bit()
                           ? (char)g_test_rand_int_range(1, 256)
                           : interesting[g_test_rand_int_range(0, sizeof(interesting) - 1)];
        }
        if (on_state) {
            g_autoptr(MbState) loaded = NULL;
            g_assert_true(g_file_set_contents(mb_state_store_get_path(store), text, -1, NULL));
            loaded = mb_state_store_load(store, &error);
            if (loaded == NULL) {
                /* A mutated version: only a newer one is an error. */
                g_assert_nonnull(strstr(error->message, "written by a newer membalancer"));
                g_clear_error(&error);
                continue;
            }
            g_assert_no_error(error);
            for (guint i = 0; i < loaded->registrations->len; i++) {
                MbRegistration *reg = g_ptr_array_index(loaded->registrations, i);
                g_assert_true(mb_vm_name_validate(reg->name, NULL));
                g_assert_cmpuint(reg->priority, <=, MB_PRIORITY_MAX);
                g_assert_cmpuint(reg->min_kib, <=, reg->max_kib);
            }
        } else {
            g_autofree char *path = mb_test_write_file(dir, "fuzz.conf", text);
            g_autoptr(MbConfig) config = mb_config_new();
            g_autoptr(GError) config_error = NULL;
            if (mb_config_load_file(config, path, TRUE, &config_error)) {
                MbParams params;
                const char *why = NULL;
                mb_config_to_params(config, &params);
                /* pool 0 is "auto": the daemon adds the VMs' allocations to the reserve. */
                if (params.pool_kib == 0)
                    params.pool_kib = params.reserve_kib + 1536 * 1024;
                if (!mb_params_validate(&params, &why))
                    g_error("%s accepted, but the policy says: %s", text, why);
            } else {
                g_assert_nonnull(config_error);
                g_assert_true(g_str_has_prefix(config_error->message, path));
            }
        }
    }
    mb_test_rm_rf(dir);
}

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

/* The service logs handled problems (a corrupt state file) as warnings;
 * here they are expected, so they are shown, not fatal. */
static GLogWriterOutput
test_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
    const char *message = mb_test_service_warning(level, fields, n_fields);

    if (message != NULL) {
        /* Quoting a corrupt file, the log stays valid UTF-8. */
        g_assert_true(g_utf8_validate(message, -1, NULL));
        glong n_chars = g_utf8_strlen(message, -1);
        g_autofree char *shown = g_utf8_substring(message, 0, MIN(n_chars, 300));
        g_test_message("service warning: %s%s", shown, n_chars > 300 ? "..." : "");
        g_ptr_array_add(warnings, g_strdup(message));
        return G_LOG_WRITER_HANDLED;
    }
    return g_log_writer_default(level, fields, n_fields, user_data);
}

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
    g_test_init(&argc, &argv, NULL);
    warnings = g_ptr_array_new_with_free_func(g_free);
    g_log_set_writer_func(test_writer, NULL, NULL);
    g_test_add_func("/service/unit/size-parse", test_size_parse);
    g_test_add_func("/service/unit/config-good", test_config_good);
    g_test_add_func("/service/unit/config-bad", test_config_bad);
    g_test_add_func("/service/unit/config-directory-env", test_config_directory_env);
    g_test_add_func("/service/unit/vm-names", test_vm_names);
    g_test_add_func("/service/unit/state-roundtrip", test_state_roundtrip);
    g_test_add_func("/service/unit/state-corrupt", test_state_corrupt);
    g_test_add_func("/service/unit/state-symlink", test_state_symlink);
    g_test_add_func("/service/unit/state-aside-noreplace", test_state_aside_noreplace);
    g_test_add_func("/service/unit/state-dir-permissions", test_state_dir_permissions);
    g_test_add_func("/service/unit/state-newer-version", test_state_newer_version);
    g_test_add_func("/service/unit/state-corrupt-log-bounded", test_state_corrupt_log_bounded);
    g_test_add_func("/service/unit/state-unwritable", test_state_unwritable);
    g_test_add_func("/service/unit/auth-uids", test_auth_uids);
    g_test_add_func("/service/unit/auth-big-group", test_auth_big_group);
    g_test_add_func("/service/unit/auth-actions", test_auth_actions);
    g_test_add_func("/service/unit/auth-outlives-daemon", test_auth_outlives_daemon);
    g_test_add_func("/service/unit/fake-backend", test_fake_backend);
    g_test_add_func("/service/unit/fuzz-smoke", test_fuzz_smoke);
    g_test_add_func("/service/unit/error-names", test_error_names);
    g_test_add_func("/service/unit/message-catalog", test_message_catalog);
    int status = g_test_run();
    g_ptr_array_unref(warnings);
    return status;
}
