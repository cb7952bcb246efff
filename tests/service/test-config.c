/* membalancer.conf: the keys, the errors, $CONFIGURATION_DIRECTORY (mb-config.c). */

#include <string.h>

#include "mb-backend-fake.h"
#include "mb-config.h"
#include "mb-error.h"
#include "mb-test-bus.h"
#include "mb-test-unit.h"

/* The config's backend: fake where it is built (its keys are then read too). */
#ifdef MB_HAVE_FAKE_BACKEND
#define BACKEND "fake"
#else
#define BACKEND "libvirt"
#endif

static void
test_config_good(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-config-XXXXXX");
    g_autofree char *path = mb_test_write_file(
        dir, "membalancer.conf",
        "[membalancer]\npool=1536MiB\nreserve=64MiB\ninterval=250\nalpha=0.5\n"
        "policy=paper\nmin-step=8MiB\nlibvirt-uri=qemu:///"
        "session\ngroup=tv\nurgent-min-ms=150\nspare=96MiB\nforeground-headroom=200MiB\n"
        "state-directory=/tmp/x\nbackend=" BACKEND "\n[fake]\nalloc=256MiB\nmax=1GiB\n"
        "tv-game=game\n");
    g_autoptr(MbConfig) config = mb_config_new();
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
    g_assert_cmpstr(config->backend, ==, BACKEND);
    g_assert_cmpuint(config->backend_keys->len, ==, 3); /* [fake], kept as given */
#ifdef MB_HAVE_FAKE_BACKEND
    g_autoptr(MbFakeConfig) fake = mb_fake_config_new();
    g_assert_true(mb_fake_config_load(fake, config, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(fake->alloc_kib, ==, 256 * 1024);
    g_assert_cmpuint(fake->max_kib, ==, 1024 * 1024);
    g_assert_cmpstr(g_hash_table_lookup(fake->workloads, "tv-game"), ==, "game");
#endif
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
#ifndef MB_HAVE_FAKE_BACKEND
            continue; /* built without the fake backend: nothing reads [fake] */
#else
            backend = mb_backend_fake_new(config, &error);
            g_assert_null(backend);
#endif
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
#ifndef MB_HAVE_FAKE_BACKEND
    /* Built without it, the fake backend is no backend at all. */
    g_autoptr(MbConfig) config = mb_config_new();
    g_autoptr(GError) error = NULL;
    g_assert_false(mb_config_set(config, "backend", "fake", "--backend", &error));
    g_assert_nonnull(strstr(error->message, "this build has no fake backend"));
#endif
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

int
main(int argc, char **argv)
{
    mb_test_unit_init(&argc, &argv);
    g_test_add_func("/service/unit/config-good", test_config_good);
    g_test_add_func("/service/unit/config-bad", test_config_bad);
    g_test_add_func("/service/unit/config-directory-env", test_config_directory_env);
    return mb_test_unit_run();
}
