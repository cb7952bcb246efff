/* The factory: the backend the config names, of those built
 * (mb-backend-factory.c). */

#include <string.h>

#include "mb-backend-factory.h"
#include "mb-backend-fake.h"
#include "mb-backend.h"
#include "mb-config.h"
#include "mb-error.h"
#include "mb-test-unit.h"

static void
test_fake_backend(void)
{
    g_autoptr(MbConfig) config = mb_config_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(MbBackend) backend = NULL;
#ifdef MB_HAVE_FAKE_BACKEND
    g_autoptr(MbFakeConfig) defaults = mb_fake_config_new();
    MbDomainInfo info;
    MbSample sample;
    MbStatsSource source;
    guint64 alloc;
#endif

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

#ifndef MB_HAVE_FAKE_BACKEND
    /* Built without it (-Dfake-backend=disabled): the factory does not name it. */
    g_free(config->backend);
    config->backend = g_strdup("fake");
    backend = mb_backend_new(config, &error);
    g_assert_null(backend);
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS);
    g_assert_nonnull(strstr(error->message, "this build has no fake backend"));
#else
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
#endif
    g_assert_cmpstr(mb_stats_source_to_string(MB_STATS_SOURCE_BALLOON), ==, "balloon");
    g_assert_cmpstr(mb_stats_source_to_string(MB_STATS_SOURCE_NONE), ==, "none");
}

int
main(int argc, char **argv)
{
    mb_test_unit_init(&argc, &argv);
    g_test_add_func("/service/unit/fake-backend", test_fake_backend);
    return mb_test_unit_run();
}
