/* Unit tests of the service's pieces that need no bus: sizes, config,
 * state store, names, authorization decisions, the fake backend. */
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>

#include "mb-auth.h"
#include "mb-backend.h"
#include "mb-config.h"
#include "mb-error.h"
#include "mb-size.h"
#include "mb-state-store.h"
#include "mb-test-bus.h"
#include "mb-vm-object.h"

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
        "policy=paper\nmin-step=8MiB\nlibvirt-uri=qemu:///session\ngroup=tv\n"
        "state-directory=/tmp/x\nbackend=fake\n[fake]\nalloc=256MiB\nmax=1GiB\n"
        "tv-game=game\n");
    g_autoptr(MbConfig) config = mb_config_new();
    g_autoptr(GError) error = NULL;
    MbParams params;

    g_assert_true(mb_config_load_file(config, path, TRUE, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(config->pool_kib, ==, 1536 * 1024);
    g_assert_cmpuint(config->reserve_kib, ==, 64 * 1024);
    g_assert_cmpuint(config->interval_ms, ==, 250);
    g_assert_cmpfloat(config->alpha, ==, 0.5);
    g_assert_cmpint(config->policy, ==, MB_POLICY_PAPER);
    g_assert_cmpuint(config->min_step_kib, ==, 8 * 1024);
    g_assert_cmpstr(config->libvirt_uri, ==, "qemu:///session");
    g_assert_cmpstr(config->group, ==, "tv");
    g_assert_cmpstr(config->state_dir, ==, "/tmp/x");
    g_assert_cmpstr(config->backend, ==, "fake");
    g_assert_cmpuint(config->fake_alloc_kib, ==, 256 * 1024);
    g_assert_cmpuint(config->fake_max_kib, ==, 1024 * 1024);
    g_assert_cmpstr(g_hash_table_lookup(config->fake_workloads, "tv-game"), ==, "game");
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
    g_clear_error(&error);
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
        {"[membalancer]\nalpha=0\n", "alpha", "(0, 1]"},
        {"[membalancer]\nalpha=1.5\n", "alpha", "(0, 1]"},
        {"[membalancer]\nalpha=nan\n", "alpha", "(0, 1]"},
        {"[membalancer]\npolicy=greedy\n", "policy", "unknown policy 'greedy'"},
        {"[membalancer]\nmin-step=-1\n", "min-step", "not a size"},
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
        g_autoptr(GError) error = NULL;

        g_assert_false(mb_config_load_file(config, path, TRUE, &error));
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
        "[membalancer]\nversion=9\n",
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

static void
test_fake_backend(void)
{
    g_autoptr(MbConfig) config = mb_config_new();
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

    g_hash_table_insert(config->fake_workloads, g_strdup("tv"), g_strdup("no-such-workload"));
    g_free(config->backend);
    config->backend = g_strdup("fake");
    backend = mb_backend_new(config, &error);
    g_assert_null(backend);
    g_assert_nonnull(strstr(error->message, "no-such-workload"));
    g_assert_nonnull(strstr(error->message, "video-playback"));
    g_clear_error(&error);

    g_hash_table_insert(config->fake_workloads, g_strdup("tv"), g_strdup("game"));
    backend = mb_backend_new(config, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(mb_backend_get_name(backend), ==, "fake");
    g_assert_true(mb_backend_lookup(backend, "tv", &info, &error));
    g_assert_cmpuint(info.current_kib, ==, config->fake_alloc_kib);
    g_assert_cmpuint(info.max_kib, ==, config->fake_max_kib);
    for (int i = 0; i < 30; i++)
        mb_backend_begin_tick(backend);
    g_assert_true(mb_backend_read_sample(backend, "tv", &sample, &source, &alloc, &error));
    g_assert_cmpint(source, ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(alloc, ==, config->fake_alloc_kib);
    g_assert_cmpuint(sample.total_kib, >, 0);
    g_assert_cmpuint(sample.active_anon_kib, >, 0);
    g_assert_true(mb_backend_set_target(backend, "tv", 700 * 1024, &error));
    g_assert_true(mb_backend_read_sample(backend, "tv", &sample, &source, &alloc, &error));
    g_assert_cmpuint(alloc, ==, 700 * 1024);
    /* Clamped to the domain's maximum. */
    g_assert_true(mb_backend_set_target(backend, "tv", 100 * 1024 * 1024, &error));
    g_assert_true(mb_backend_lookup(backend, "tv", &info, &error));
    g_assert_cmpuint(info.current_kib, ==, config->fake_max_kib);

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
            g_assert_no_error(error);
            g_assert_nonnull(loaded);
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
        g_test_message("service warning: %s", message);
        return G_LOG_WRITER_HANDLED;
    }
    return g_log_writer_default(level, fields, n_fields, user_data);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_log_set_writer_func(test_writer, NULL, NULL);
    g_test_add_func("/service/unit/size-parse", test_size_parse);
    g_test_add_func("/service/unit/config-good", test_config_good);
    g_test_add_func("/service/unit/config-bad", test_config_bad);
    g_test_add_func("/service/unit/config-directory-env", test_config_directory_env);
    g_test_add_func("/service/unit/vm-names", test_vm_names);
    g_test_add_func("/service/unit/state-roundtrip", test_state_roundtrip);
    g_test_add_func("/service/unit/state-corrupt", test_state_corrupt);
    g_test_add_func("/service/unit/state-unwritable", test_state_unwritable);
    g_test_add_func("/service/unit/auth-uids", test_auth_uids);
    g_test_add_func("/service/unit/fake-backend", test_fake_backend);
    g_test_add_func("/service/unit/fuzz-smoke", test_fuzz_smoke);
    g_test_add_func("/service/unit/error-names", test_error_names);
    return g_test_run();
}
