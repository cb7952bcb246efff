/* The fake backend in-process: balloons that travel at [fake]
 * balloon-rate, the injected faults of [fake] fault.<vm>, the stuck rule
 * shared with the libvirt backend, the trace file, and their config
 * errors. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mb-backend-fake.h"
#include "mb-backend-libvirt.h"
#include "mb-config.h"
#include "mb-error.h"
#include "mb-test-bus.h"

#define MIB 1024u
#define ALLOC_KIB (512u * MIB)
#define MAX_KIB (2048u * MIB)
#define RATE_KIB (32u * MIB)

/* A fake backend from [fake] key/value pairs (NULL-terminated). */
static MbBackend *
fake_new(const char *const *pairs)
{
    g_autoptr(MbFakeConfig) config = mb_fake_config_new();
    g_autoptr(GError) error = NULL;
    MbBackend *backend;

    mb_test_warnings_clear();
    config->alloc_kib = ALLOC_KIB;
    config->max_kib = MAX_KIB;
    for (gsize i = 0; pairs != NULL && pairs[i] != NULL; i += 2) {
        mb_fake_config_set(config, pairs[i], pairs[i + 1], "test: [fake]", &error);
        g_assert_no_error(error);
    }
    backend = mb_backend_fake_new_with(config, 1000, &error);
    g_assert_no_error(error);
    g_assert_nonnull(backend);
    return backend;
}

static guint64
current_kib(MbBackend *backend, const char *name)
{
    g_autoptr(GError) error = NULL;
    MbDomainInfo info;

    g_assert_true(mb_backend_lookup(backend, name, &info, &error));
    g_assert_no_error(error);
    return info.current_kib;
}

/* read_sample; returns its alloc_kib. */
static guint64
read_alloc(MbBackend *backend, const char *name, MbSample *sample, MbStatsSource *source)
{
    g_autoptr(GError) error = NULL;
    MbSample local;
    MbStatsSource local_source;
    guint64 alloc_kib = 0;

    g_assert_true(mb_backend_read_sample(backend, name, sample != NULL ? sample : &local,
                                         source != NULL ? source : &local_source, &alloc_kib,
                                         &error));
    g_assert_no_error(error);
    return alloc_kib;
}

static MbVmState
state_of(MbBackend *backend, const char *name)
{
    MbVmStatus status;

    mb_backend_get_status(backend, name, &status);
    return status.state;
}

static void
set_target_ok(MbBackend *backend, const char *name, guint64 target_kib)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(mb_backend_set_target(backend, name, target_kib, &error));
    g_assert_no_error(error);
}

/* ---- config ---------------------------------------------------------- */

static void
test_config_keys(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-fake-XXXXXX");
    g_autofree char *trace = g_build_filename(dir, "trace", NULL);
    g_autofree char *text = g_strdup_printf(
        "[fake]\nballoon-rate=32MiB\ntrace=%s\nfault.tv-game=stuck\n"
        "fault.game-2 = silent-after:5, lie-huge\nfault.web=silent\ntv-game=game\n",
        trace);
    g_autofree char *path = mb_test_write_file(dir, "membalancer.conf", text);
    g_autoptr(MbConfig) file_config = mb_config_new();
    g_autoptr(MbFakeConfig) config = mb_fake_config_new();
    g_autoptr(GError) error = NULL;
    const MbFakeFault *fault;
    g_autofree char *described = NULL;

    g_assert_cmpuint(config->balloon_rate_kib, ==, 0); /* instant by default */
    g_assert_null(config->trace_path);
    g_assert_cmpuint(g_hash_table_size(config->faults), ==, 0);

    /* The shared config keeps the group as given; the fake backend parses it. */
    g_assert_true(mb_config_load_file(file_config, path, TRUE, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(file_config->backend_keys->len, ==, 6);
    g_assert_true(mb_fake_config_load(config, file_config, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(config->balloon_rate_kib, ==, RATE_KIB);
    g_assert_cmpstr(config->trace_path, ==, trace);
    g_assert_cmpstr(g_hash_table_lookup(config->workloads, "tv-game"), ==, "game");
    g_assert_null(g_hash_table_lookup(config->workloads, "fault.tv-game"));
    fault = g_hash_table_lookup(config->faults, "tv-game");
    g_assert_nonnull(fault);
    g_assert_cmpuint(fault->flags, ==, MB_FAKE_FAULT_STUCK);
    fault = g_hash_table_lookup(config->faults, "game-2");
    g_assert_nonnull(fault);
    g_assert_cmpuint(fault->flags, ==, MB_FAKE_FAULT_SILENT | MB_FAKE_FAULT_LIE_HUGE);
    g_assert_cmpuint(fault->silent_after_ticks, ==, 5);
    described = mb_fake_fault_to_string(fault);
    g_assert_cmpstr(described, ==, "lie-huge,silent-after:5");
    fault = g_hash_table_lookup(config->faults, "web");
    g_assert_cmpuint(fault->flags, ==, MB_FAKE_FAULT_SILENT);
    g_assert_cmpuint(fault->silent_after_ticks, ==, 0);

    /* "instant" and 0 are the default. */
    g_assert_true(mb_fake_config_set(config, "balloon-rate", "instant", "test", &error));
    g_assert_cmpuint(config->balloon_rate_kib, ==, 0);
    g_assert_true(mb_fake_config_set(config, "balloon-rate", " 1MiB ", "test", &error));
    g_assert_cmpuint(config->balloon_rate_kib, ==, MIB);
    g_assert_true(mb_fake_config_set(config, "balloon-rate", "0", "test", &error));
    g_assert_cmpuint(config->balloon_rate_kib, ==, 0);
    g_assert_no_error(error);
    mb_test_rm_rf(dir);
}

static void
test_config_errors(void)
{
    const struct {
        const char *text;
        const char *key;
        const char *reason;
    } cases[] = {
        {"[fake]\nballoon-rate=fast\n", "balloon-rate", "not a size"},
        {"[fake]\nballoon-rate=-32MiB\n", "balloon-rate", "not a size"},
        {"[fake]\nballoon-rate=512KiB\n", "balloon-rate", "too slow"},
        {"[fake]\nfault.tv-game=wobbly\n", "fault.tv-game", "unknown fault 'wobbly'"},
        {"[fake]\nfault.tv-game=wobbly\n", "fault.tv-game", "stuck, fail-set"},
        {"[fake]\nfault.tv-game=\n", "fault.tv-game", "no fault"},
        {"[fake]\nfault.tv-game=stuck,\n", "fault.tv-game", "unknown fault ''"},
        {"[fake]\nfault.tv-game=stuck,stuck\n", "fault.tv-game", "given twice"},
        {"[fake]\nfault.tv-game=silent,silent-after:3\n", "fault.tv-game", "given twice"},
        {"[fake]\nfault.x=silent-after:soon\n", "fault.x", "not a whole number"},
        {"[fake]\nfault.x=silent-after:-1\n", "fault.x", "not a whole number"},
        {"[fake]\nfault.x=lie-zero,lie-huge\n", "fault.x", "contradict"},
        {"[fake]\nfault.x=swap-storm,backwards\n", "fault.x", "contradict"},
        {"[fake]\nfault.=stuck\n", "fault.", "no VM name"},
        {"[fake]\ntrace=\n", "trace", "empty"},
    };
    g_autofree char *dir = mb_test_make_dir("mb-test-fake-XXXXXX");

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = mb_test_write_file(dir, "bad.conf", cases[i].text);
        g_autofree char *prefix = g_strdup_printf("%s: [fake]: %s: ", path, cases[i].key);
        g_autoptr(MbConfig) config = mb_config_new();
        g_autoptr(MbBackend) backend = NULL;
        g_autoptr(GError) error = NULL;

        /* The shared config takes the group as it is; the backend refuses it. */
        g_assert_true(mb_config_load_file(config, path, TRUE, &error));
        g_assert_no_error(error);
        backend = mb_backend_fake_new(config, &error);
        g_assert_null(backend);
        g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS);
        g_test_message("%s -> %s", cases[i].text, error->message);
        g_assert_true(g_str_has_prefix(error->message, prefix));
        g_assert_nonnull(strstr(error->message, cases[i].reason));
    }
    mb_test_rm_rf(dir);
}

/* ---- balloons -------------------------------------------------------- */

static void
test_instant(void)
{
    g_autoptr(MbBackend) backend = fake_new(NULL);
    MbSample sample;

    g_assert_cmpuint(current_kib(backend, "tv"), ==, ALLOC_KIB);
    set_target_ok(backend, "tv", 300 * MIB);
    g_assert_cmpuint(current_kib(backend, "tv"), ==, 300 * MIB);
    g_assert_cmpuint(read_alloc(backend, "tv", &sample, NULL), ==, 300 * MIB);
    g_assert_cmpuint(sample.total_kib, ==, 300 * MIB);
    g_assert_cmpuint(mb_backend_fake_sum_current_kib(backend), ==, 300 * MIB);
    for (int i = 0; i < 2 * MB_LIBVIRT_STUCK_TICKS; i++)
        mb_backend_begin_tick(backend, FALSE);
    g_assert_cmpint(state_of(backend, "tv"), ==, MB_VM_STATE_RUNNING);
    /* Clamped to the maximum. */
    set_target_ok(backend, "tv", 100 * MAX_KIB);
    g_assert_cmpuint(current_kib(backend, "tv"), ==, MAX_KIB);
}

static void
test_travel(void)
{
    const char *const pairs[] = {"balloon-rate", "32MiB", NULL};
    g_autoptr(MbBackend) backend = fake_new(pairs);
    MbSample sample;
    MbVmStatus status;
    guint64 now_kib;

    g_assert_cmpuint(current_kib(backend, "tv"), ==, ALLOC_KIB);
    set_target_ok(backend, "tv", ALLOC_KIB - 100 * MIB);
    /* Nothing moves before the next interval. */
    g_assert_cmpuint(current_kib(backend, "tv"), ==, ALLOC_KIB);
    g_assert_cmpuint(read_alloc(backend, "tv", &sample, NULL), ==, ALLOC_KIB);
    for (guint i = 1; i <= 3; i++) {
        mb_backend_begin_tick(backend, FALSE);
        g_assert_cmpuint(current_kib(backend, "tv"), ==, ALLOC_KIB - i * RATE_KIB);
        g_assert_cmpuint(read_alloc(backend, "tv", &sample, NULL), ==,
                         ALLOC_KIB - i * RATE_KIB);
        /* The guest has what the balloon left it, not the target. */
        g_assert_cmpuint(sample.total_kib, ==, ALLOC_KIB - i * RATE_KIB);
        g_assert_true(mb_backend_get_current(backend, "tv", &now_kib));
        g_assert_cmpuint(now_kib, ==, ALLOC_KIB - i * RATE_KIB);
        g_assert_cmpint(state_of(backend, "tv"), ==, MB_VM_STATE_RUNNING);
    }
    /* The last step is what remains, never past the target. */
    mb_backend_begin_tick(backend, FALSE);
    g_assert_cmpuint(current_kib(backend, "tv"), ==, ALLOC_KIB - 100 * MIB);
    mb_backend_begin_tick(backend, FALSE);
    g_assert_cmpuint(current_kib(backend, "tv"), ==, ALLOC_KIB - 100 * MIB);

    /* Growing, clamped to the maximum, at the same rate. */
    set_target_ok(backend, "tv", 100 * MAX_KIB);
    for (int i = 0; i < 100; i++) {
        guint64 before = current_kib(backend, "tv");
        mb_backend_begin_tick(backend, FALSE);
        g_assert_cmpuint(current_kib(backend, "tv") - before, <=, RATE_KIB);
    }
    g_assert_cmpuint(current_kib(backend, "tv"), ==, MAX_KIB);
    /* A target changed mid-way: the balloon turns round. */
    set_target_ok(backend, "tv", ALLOC_KIB);
    mb_backend_begin_tick(backend, FALSE);
    g_assert_cmpuint(current_kib(backend, "tv"), ==, MAX_KIB - RATE_KIB);
    set_target_ok(backend, "tv", MAX_KIB);
    mb_backend_begin_tick(backend, FALSE);
    g_assert_cmpuint(current_kib(backend, "tv"), ==, MAX_KIB);
    mb_backend_get_status(backend, "tv", &status);
    g_assert_cmpint(status.state, ==, MB_VM_STATE_RUNNING);
    g_assert_cmpuint(mb_test_warnings_count("stuck"), ==, 0);
}

/* The slowest rate allowed still moves enough to never look stuck. */
static void
test_slow_not_stuck(void)
{
    const char *const pairs[] = {"balloon-rate", "1MiB", NULL};
    g_autoptr(MbBackend) backend = fake_new(pairs);

    set_target_ok(backend, "tv", ALLOC_KIB - 64 * MIB);
    for (int i = 0; i < 64; i++) {
        mb_backend_begin_tick(backend, FALSE);
        g_assert_cmpint(state_of(backend, "tv"), ==, MB_VM_STATE_RUNNING);
    }
    g_assert_cmpuint(current_kib(backend, "tv"), ==, ALLOC_KIB - 64 * MIB);
}

static void
test_stuck(gconstpointer data)
{
    const char *rate = data;
    const char *const pairs[] = {"fault.tv-web", "stuck", "balloon-rate", rate, NULL};
    g_autoptr(MbBackend) backend = fake_new(pairs);
    g_autoptr(GError) error = NULL;

    /* As the daemon does: lookup once (it resets the rule), then ticks of
     * begin_tick, read_sample, get_status. */
    g_assert_cmpuint(current_kib(backend, "tv-web"), ==, ALLOC_KIB);
    set_target_ok(backend, "tv-web", 256 * MIB);
    set_target_ok(backend, "other", 256 * MIB);
    for (int i = 1; i < MB_LIBVIRT_STUCK_TICKS; i++) {
        mb_backend_begin_tick(backend, FALSE);
        g_assert_cmpuint(read_alloc(backend, "tv-web", NULL, NULL), ==, ALLOC_KIB);
        g_assert_cmpint(state_of(backend, "tv-web"), ==, MB_VM_STATE_RUNNING);
    }
    mb_backend_begin_tick(backend, FALSE);
    g_assert_cmpint(state_of(backend, "tv-web"), ==, MB_VM_STATE_STUCK);
    g_assert_cmpint(state_of(backend, "other"), ==, MB_VM_STATE_RUNNING);
    g_assert_cmpuint(read_alloc(backend, "tv-web", NULL, NULL), ==, ALLOC_KIB);
    g_assert_cmpuint(mb_test_warnings_count("'tv-web' is stuck"), ==, 1);

    /* As with libvirt: refused while stuck, another chance at a lookup
     * (a registration), stuck again after the same rule. */
    g_assert_false(mb_backend_set_target(backend, "tv-web", 300 * MIB, &error));
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_assert_nonnull(strstr(error->message, "stuck"));
    g_clear_error(&error);
    g_assert_cmpint(state_of(backend, "tv-web"), ==, MB_VM_STATE_STUCK);
    g_assert_cmpuint(current_kib(backend, "tv-web"), ==, ALLOC_KIB); /* a lookup */
    g_assert_cmpint(state_of(backend, "tv-web"), ==, MB_VM_STATE_RUNNING);
    set_target_ok(backend, "tv-web", 300 * MIB);
    for (int i = 0; i < MB_LIBVIRT_STUCK_TICKS; i++)
        mb_backend_begin_tick(backend, FALSE);
    g_assert_cmpint(state_of(backend, "tv-web"), ==, MB_VM_STATE_STUCK);
    g_assert_cmpuint(mb_test_warnings_count("'tv-web' is stuck"), ==, 2);
    g_assert_cmpint(state_of(backend, "other"), ==, MB_VM_STATE_RUNNING);
    g_assert_cmpuint(current_kib(backend, "other"), ==, 256 * MIB);
    g_assert_cmpuint(mb_backend_fake_sum_current_kib(backend), ==, ALLOC_KIB + 256 * MIB);
}

static void
test_fail_set(void)
{
    const char *const pairs[] = {"fault.game-2", "fail-set", NULL};
    g_autoptr(MbBackend) backend = fake_new(pairs);
    g_autoptr(GError) error = NULL;

    g_assert_false(mb_backend_set_target(backend, "game-2", 256 * MIB, &error));
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE);
    g_assert_nonnull(strstr(error->message, "fake: set-target refused for VM 'game-2'"));
    g_clear_error(&error);
    mb_backend_begin_tick(backend, FALSE);
    g_assert_cmpuint(current_kib(backend, "game-2"), ==, ALLOC_KIB);
    /* Refusing is not being stuck. */
    for (int i = 0; i < 2 * MB_LIBVIRT_STUCK_TICKS; i++)
        mb_backend_begin_tick(backend, FALSE);
    g_assert_cmpint(state_of(backend, "game-2"), ==, MB_VM_STATE_RUNNING);
    set_target_ok(backend, "game", 256 * MIB); /* only the faulty VM */
}

static void
test_lies(void)
{
    const char *const pairs[] = {
        "fault.tv-game", "lie-zero", "fault.tv-web", "lie-huge", "balloon-rate", "32MiB", NULL};
    g_autoptr(MbBackend) backend = fake_new(pairs);
    MbSample sample;
    MbStatsSource source;
    guint64 now_kib;

    g_assert_cmpuint(current_kib(backend, "tv-game"), ==, 0);
    g_assert_cmpuint(current_kib(backend, "tv-web"), ==, MB_BACKEND_FAKE_HUGE_KIB);
    g_assert_cmpuint(MB_BACKEND_FAKE_HUGE_KIB, >, MAX_KIB);
    g_assert_cmpuint(read_alloc(backend, "tv-game", &sample, &source), ==, 0);
    g_assert_cmpint(source, ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(sample.total_kib, ==, ALLOC_KIB); /* the guest knows better */
    g_assert_cmpuint(read_alloc(backend, "tv-web", NULL, NULL), ==, MB_BACKEND_FAKE_HUGE_KIB);
    g_assert_true(mb_backend_get_current(backend, "tv-game", &now_kib));
    g_assert_cmpuint(now_kib, ==, 0);
    g_assert_true(mb_backend_get_current(backend, "tv-web", &now_kib));
    g_assert_cmpuint(now_kib, ==, MB_BACKEND_FAKE_HUGE_KIB);
    /* The balloons are real: they move and are summed at their true size. */
    g_assert_cmpuint(mb_backend_fake_sum_current_kib(backend), ==, 2 * ALLOC_KIB);
    set_target_ok(backend, "tv-game", ALLOC_KIB + RATE_KIB);
    set_target_ok(backend, "tv-web", ALLOC_KIB - RATE_KIB);
    mb_backend_begin_tick(backend, FALSE);
    g_assert_cmpuint(mb_backend_fake_sum_current_kib(backend), ==, 2 * ALLOC_KIB);
    g_assert_cmpuint(read_alloc(backend, "tv-game", &sample, NULL), ==, 0);
    g_assert_cmpuint(sample.total_kib, ==, ALLOC_KIB + RATE_KIB);
    g_assert_cmpuint(current_kib(backend, "tv-web"), ==, MB_BACKEND_FAKE_HUGE_KIB);
    /* Judged by what they report, as the libvirt backend judges a guest:
     * 0 never reaches a target, nor does the maximum a huge size is
     * clamped to (a target again: the lookup above gave another chance). */
    set_target_ok(backend, "tv-web", ALLOC_KIB - 2 * RATE_KIB);
    for (int i = 0; i < 2 * MB_LIBVIRT_STUCK_TICKS; i++)
        mb_backend_begin_tick(backend, FALSE);
    g_assert_cmpint(state_of(backend, "tv-game"), ==, MB_VM_STATE_STUCK);
    g_assert_cmpint(state_of(backend, "tv-web"), ==, MB_VM_STATE_STUCK);
}

static void
test_silent(void)
{
    const char *const pairs[] = {"fault.tv-video", "silent-after:3", "fault.tv-web", "silent",
                                 NULL};
    g_autoptr(MbBackend) backend = fake_new(pairs);
    MbStatsSource source;
    MbSample sample;

    /* A read before the first tick counts as in the first. */
    g_assert_cmpuint(read_alloc(backend, "tv-video", &sample, &source), ==, ALLOC_KIB);
    g_assert_cmpint(source, ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(read_alloc(backend, "tv-web", &sample, &source), ==, ALLOC_KIB);
    g_assert_cmpint(source, ==, MB_STATS_SOURCE_NONE);
    for (guint tick = 1; tick <= 6; tick++) {
        mb_backend_begin_tick(backend, FALSE);
        g_assert_cmpuint(read_alloc(backend, "tv-video", &sample, &source), ==, ALLOC_KIB);
        g_assert_cmpint(source, ==, tick <= 3 ? MB_STATS_SOURCE_AGENT : MB_STATS_SOURCE_NONE);
        if (source == MB_STATS_SOURCE_NONE)
            g_assert_cmpuint(sample.total_kib, ==, 0);
        read_alloc(backend, "tv-web", NULL, &source);
        g_assert_cmpint(source, ==, MB_STATS_SOURCE_NONE);
        read_alloc(backend, "tv-game", NULL, &source);
        g_assert_cmpint(source, ==, MB_STATS_SOURCE_AGENT);
    }
    /* Silent is not stuck: the balloon still obeys. */
    set_target_ok(backend, "tv-web", 256 * MIB);
    g_assert_cmpuint(current_kib(backend, "tv-web"), ==, 256 * MIB);
}

static void
test_swap_faults(void)
{
    const char *const pairs[] = {"fault.game-storm", "swap-storm", "fault.game-back",
                                 "backwards", NULL};
    g_autoptr(MbBackend) backend = fake_new(pairs);
    MbSample storm, back, plain;
    guint64 last_out = 0, last_in = 0, last_back_in = 0, last_back_out = 0;

    for (guint tick = 0; tick <= 20; tick++) {
        if (tick > 0)
            mb_backend_begin_tick(backend, FALSE);
        read_alloc(backend, "game-storm", &storm, NULL);
        read_alloc(backend, "game-back", &back, NULL);
        read_alloc(backend, "game", &plain, NULL); /* the same workload, no fault */
        g_assert_cmpuint(storm.swap_out_pages, ==,
                         plain.swap_out_pages + tick * MB_BACKEND_FAKE_STORM_PAGES);
        g_assert_cmpuint(storm.swap_in_pages, ==, plain.swap_in_pages);
        if (tick > 0) {
            g_assert_cmpuint(storm.swap_out_pages - last_out, >=, MB_BACKEND_FAKE_STORM_PAGES);
            g_assert_cmpuint(storm.swap_in_pages, >=, last_in);
            g_assert_cmpuint(back.swap_in_pages, <, last_back_in);
            g_assert_cmpuint(back.swap_out_pages, <, last_back_out);
        } else {
            g_assert_cmpuint(back.swap_in_pages, ==, MB_BACKEND_FAKE_BACKWARDS_START_PAGES);
        }
        last_out = storm.swap_out_pages;
        last_in = storm.swap_in_pages;
        last_back_in = back.swap_in_pages;
        last_back_out = back.swap_out_pages;
    }
}

/* ---- what the hypervisor reports, from outside ----------------------- */

/* The largest sum of the allocations the lines show at any moment. */
static guint64
trace_max_sum(GArray *lines)
{
    g_autoptr(GHashTable) now = g_hash_table_new(g_str_hash, g_str_equal);
    guint64 max_kib = 0;

    for (guint i = 0; i < lines->len; i++) {
        MbTestTraceLine *line = &g_array_index(lines, MbTestTraceLine, i);
        GHashTableIter iter;
        gpointer value;
        guint64 sum_kib = 0;

        g_hash_table_insert(now, line->name, &line->current_kib);
        g_hash_table_iter_init(&iter, now);
        while (g_hash_table_iter_next(&iter, NULL, &value))
            sum_kib += *(guint64 *)value;
        max_kib = MAX(max_kib, sum_kib);
    }
    return max_kib;
}

static void
test_trace(void)
{
    g_autofree char *dir = mb_test_make_dir("mb-test-fake-XXXXXX");
    g_autofree char *path = g_build_filename(dir, "trace", NULL);
    const char *const pairs[] = {"balloon-rate", "32MiB", "trace", path, NULL};
    g_autoptr(MbBackend) backend = NULL;
    g_autoptr(GArray) lines = NULL;
    gint64 start_us = g_get_monotonic_time();
    MbTestTraceLine *line;

    /* Appended to what is there. */
    g_assert_true(g_file_set_contents(path, "1 old 2 3\n", -1, NULL));
    backend = fake_new(pairs);
    current_kib(backend, "donor");
    current_kib(backend, "taker");
    /* The taker is given what the donor will release: while both move, the
     * trace (shrinks first) never shows more than the two hold at start. */
    set_target_ok(backend, "donor", ALLOC_KIB - 64 * MIB);
    set_target_ok(backend, "taker", ALLOC_KIB + 64 * MIB);
    for (int i = 0; i < 3; i++)
        mb_backend_begin_tick(backend, FALSE);

    lines = mb_test_trace_read(path, TRUE);
    /* old, 2 appearances, 2 targets, 3 ticks x 2 guests. */
    g_assert_cmpuint(lines->len, ==, 1 + 2 + 2 + 6);
    line = &g_array_index(lines, MbTestTraceLine, 0);
    g_assert_cmpstr(line->name, ==, "old");
    line = &g_array_index(lines, MbTestTraceLine, 1);
    g_assert_cmpstr(line->name, ==, "donor");
    g_assert_cmpuint(line->current_kib, ==, ALLOC_KIB);
    g_assert_cmpuint(line->target_kib, ==, ALLOC_KIB);
    g_assert_cmpint(line->us, >=, start_us);
    g_assert_cmpint(line->us, <=, g_get_monotonic_time());
    line = &g_array_index(lines, MbTestTraceLine, 3);
    g_assert_cmpstr(line->name, ==, "donor");
    g_assert_cmpuint(line->current_kib, ==, ALLOC_KIB);
    g_assert_cmpuint(line->target_kib, ==, ALLOC_KIB - 64 * MIB);
    for (guint tick = 0; tick < 3; tick++) {
        MbTestTraceLine *first = &g_array_index(lines, MbTestTraceLine, 5 + 2 * tick);
        MbTestTraceLine *second = &g_array_index(lines, MbTestTraceLine, 6 + 2 * tick);
        guint64 moved = MIN(tick + 1, 2u) * RATE_KIB;

        g_assert_cmpint(first->us, <=, second->us);
        if (tick == 2 && g_str_equal(first->name, "taker")) {
            /* Neither moves any more: any order. */
            MbTestTraceLine *swap = first;
            first = second;
            second = swap;
        }
        g_assert_cmpstr(first->name, ==, "donor"); /* the shrinking one first */
        g_assert_cmpstr(second->name, ==, "taker");
        g_assert_cmpuint(first->current_kib, ==, ALLOC_KIB - moved);
        g_assert_cmpuint(second->current_kib, ==, ALLOC_KIB + moved);
    }
    g_array_remove_index(lines, 0);
    g_assert_cmpuint(trace_max_sum(lines), ==, 2 * ALLOC_KIB);

    /* Taking more than the donor released shows in the trace. */
    set_target_ok(backend, "taker", ALLOC_KIB + 128 * MIB);
    g_clear_pointer(&lines, g_array_unref);
    lines = mb_test_trace_read(path, TRUE);
    g_array_remove_index(lines, 0);
    g_assert_cmpuint(trace_max_sum(lines), ==, 2 * ALLOC_KIB);
    mb_backend_begin_tick(backend, FALSE);
    g_clear_pointer(&lines, g_array_unref);
    lines = mb_test_trace_read(path, TRUE);
    g_array_remove_index(lines, 0);
    g_assert_cmpuint(trace_max_sum(lines), ==, 2 * ALLOC_KIB + RATE_KIB);
    g_assert_cmpuint(mb_backend_fake_sum_current_kib(backend), ==, 2 * ALLOC_KIB + RATE_KIB);

    g_clear_pointer(&backend, mb_backend_free);
    mb_test_rm_rf(dir);
}

static void
test_trace_error(void)
{
    g_autoptr(MbConfig) config = mb_config_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(MbBackend) backend = NULL;

    mb_config_add_backend_key(config, MB_CONFIG_FAKE_GROUP, "trace", "/nonexistent/dir/trace",
                              "test: [fake]");
    backend = mb_backend_fake_new(config, &error);
    g_assert_null(backend);
    g_assert_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS);
    g_assert_nonnull(
        strstr(error->message, "[fake] trace: cannot open '/nonexistent/dir/trace'"));
}

/* Another thread polls the sum while balloons travel: every value it sees
 * is one the VMs really held together. */
typedef struct {
    MbBackend *backend;
    gint stop;
    guint64 max_kib;
    guint64 min_kib;
    gint n_polls;
} Poll;

static gpointer
poll_run(gpointer data)
{
    Poll *poll = data;

    do {
        guint64 sum_kib = mb_backend_fake_sum_current_kib(poll->backend);
        poll->max_kib = MAX(poll->max_kib, sum_kib);
        poll->min_kib = MIN(poll->min_kib, sum_kib);
        g_atomic_int_inc(&poll->n_polls);
        g_thread_yield();
    } while (!g_atomic_int_get(&poll->stop));
    return NULL;
}

static void
test_sum_polled(void)
{
    const char *const pairs[] = {"balloon-rate", "4MiB", NULL};
    g_autoptr(MbBackend) backend = fake_new(pairs);
    Poll poll = {backend, 0, 0, G_MAXUINT64, 0};
    GThread *thread;

    for (int i = 0; i < 4; i++) {
        g_autofree char *name = g_strdup_printf("vm-%d", i);
        current_kib(backend, name);
    }
    thread = g_thread_new("poll", poll_run, &poll);
    while (g_atomic_int_get(&poll.n_polls) == 0)
        g_thread_yield();
    /* Until the poller has seen plenty, in whole rounds. */
    for (int round = 0; round < 20 || g_atomic_int_get(&poll.n_polls) < 2000; round++) {
        /* Two give what two take, and the other way round. */
        guint64 delta = (guint64)(round % 5 + 1) * 16 * MIB;
        gboolean even = round % 2 == 0;
        set_target_ok(backend, "vm-0", ALLOC_KIB + (even ? delta : 0));
        set_target_ok(backend, "vm-1", ALLOC_KIB - (even ? delta : 0));
        set_target_ok(backend, "vm-2", ALLOC_KIB - (even ? 0 : delta));
        set_target_ok(backend, "vm-3", ALLOC_KIB + (even ? 0 : delta));
        for (int tick = 0; tick < 25; tick++) {
            mb_backend_begin_tick(backend, FALSE);
            g_thread_yield();
        }
    }
    g_atomic_int_set(&poll.stop, 1);
    g_thread_join(thread);
    g_test_message("%d polls, sums %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT " KiB",
                   poll.n_polls, poll.min_kib, poll.max_kib);
    g_assert_cmpint(poll.n_polls, >=, 2000);
    g_assert_cmpuint(poll.max_kib, ==, 4 * ALLOC_KIB);
    g_assert_cmpuint(poll.min_kib, ==, 4 * ALLOC_KIB);
    g_assert_cmpuint(mb_backend_fake_sum_current_kib(backend), ==, 4 * ALLOC_KIB);
}

typedef struct {
    guint n_calls;
    unsigned urgent;
} UrgentSeen;

static void
on_urgent(MbBackend *backend, const char *vm_name, guint urgent, gpointer user_data)
{
    UrgentSeen *seen = user_data;

    g_assert_cmpstr(vm_name, ==, "web");
    seen->n_calls++;
    seen->urgent |= urgent;
}

static gboolean
urgent_called(gpointer data)
{
    return ((UrgentSeen *)data)->n_calls > 0;
}

/* An urgent record: told in the main thread, carried by the next sample
 * only; urgent.<vm> schedules them from the guest's appearance. */
static void
test_urgent(void)
{
    const char *pairs[] = {"urgent.web", "50", NULL};
    g_autoptr(MbBackend) backend = fake_new(pairs);
    UrgentSeen seen = {0};
    MbSample sample;
    MbStatsSource source;

    g_signal_connect(backend, "urgent", G_CALLBACK(on_urgent), &seen);
    read_alloc(backend, "web", &sample, &source); /* appears: the record is due in 50 ms */
    g_assert_cmpuint(sample.urgent, ==, 0);
    g_assert_true(mb_test_wait_for(urgent_called, &seen, 5000));
    g_assert_cmpuint(seen.urgent, ==, MB_URGENT_PSI);
    read_alloc(backend, "web", &sample, &source);
    g_assert_cmpint(source, ==, MB_STATS_SOURCE_AGENT);
    g_assert_cmpuint(sample.urgent, ==, MB_URGENT_PSI);
    read_alloc(backend, "web", &sample, NULL);
    g_assert_cmpuint(sample.urgent, ==, 0);

    mb_backend_fake_send_urgent(backend, "web", MB_URGENT_SWAP);
    g_assert_cmpuint(seen.n_calls, ==, 2);
    read_alloc(backend, "web", &sample, NULL);
    g_assert_cmpuint(sample.urgent, ==, MB_URGENT_SWAP);

    /* A record still scheduled when the backend goes is never told. */
    {
        const char *later[] = {"urgent.web", "60000", NULL};
        g_autoptr(MbBackend) other = fake_new(later);

        g_signal_connect(other, "urgent", G_CALLBACK(on_urgent), &seen);
        read_alloc(other, "web", NULL, NULL);
    }
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_assert_cmpuint(seen.n_calls, ==, 2);
}

/* The "urgent" signal: every handler is told, a disconnected one no
 * more, and a record with no reason (0) tells nobody. */
static void
test_urgent_signal(void)
{
    g_autoptr(MbBackend) backend = fake_new(NULL);
    UrgentSeen first = {0}, second = {0};
    gulong first_id;

    g_assert_true(MB_IS_BACKEND(backend));
    g_assert_true(MB_IS_BACKEND_FAKE(backend));
    g_assert_cmpstr(mb_backend_get_name(backend), ==, "fake");
    first_id = g_signal_connect(backend, "urgent", G_CALLBACK(on_urgent), &first);
    g_signal_connect(backend, "urgent", G_CALLBACK(on_urgent), &second);
    mb_backend_fake_send_urgent(backend, "web", MB_URGENT_PSI);
    g_assert_cmpuint(first.n_calls, ==, 1);
    g_assert_cmpuint(first.urgent, ==, MB_URGENT_PSI);
    g_assert_cmpuint(second.n_calls, ==, 1);

    g_signal_handler_disconnect(backend, first_id);
    mb_backend_fake_send_urgent(backend, "web", MB_URGENT_SWAP);
    g_assert_cmpuint(first.n_calls, ==, 1);
    g_assert_cmpuint(second.n_calls, ==, 2);
    g_assert_cmpuint(second.urgent, ==, MB_URGENT_PSI | MB_URGENT_SWAP);

    mb_backend_emit_urgent(backend, "web", 0); /* nothing to tell */
    g_assert_cmpuint(second.n_calls, ==, 2);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* The backend's warnings are expected here: captured, counted, shown. */
    mb_test_warnings_capture();
    g_test_add_func("/fake/config/keys", test_config_keys);
    g_test_add_func("/fake/config/errors", test_config_errors);
    g_test_add_func("/fake/instant", test_instant);
    g_test_add_func("/fake/travel", test_travel);
    g_test_add_func("/fake/slow-not-stuck", test_slow_not_stuck);
    g_test_add_data_func("/fake/stuck/instant", "0", test_stuck);
    g_test_add_data_func("/fake/stuck/rate", "32MiB", test_stuck);
    g_test_add_func("/fake/fail-set", test_fail_set);
    g_test_add_func("/fake/lies", test_lies);
    g_test_add_func("/fake/silent", test_silent);
    g_test_add_func("/fake/swap-faults", test_swap_faults);
    g_test_add_func("/fake/trace", test_trace);
    g_test_add_func("/fake/trace-error", test_trace_error);
    g_test_add_func("/fake/sum-polled", test_sum_polled);
    g_test_add_func("/fake/urgent", test_urgent);
    g_test_add_func("/fake/urgent-signal", test_urgent_signal);
    return g_test_run();
}
