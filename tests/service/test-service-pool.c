/* The pool's promise against the real membalancerd on a private bus, with
 * the fake backend's balloons moving like real ones ([fake] balloon-rate)
 * and guests that fail, stick, lie or go silent ([fake] fault.VM): the
 * VMs together never hold more than the pool at any moment (from the
 * fake's trace of its true balloon positions), memory a donor has not
 * released is never handed out, and a hog that goes silent gives back.
 * Also in-process: the VM object's accounting and a change of statistics
 * source. Growth that waits for the donors' balloons within a tick:
 * test-service-grant. */
#include <string.h>

#include "mb-config.h"
#include "mb-test-pool.h"
#include "mb-test-service.h"
#include "mb-engine-vm.h"

static gchar *
vm_state(Pool *p, const char *path)
{
    g_autoptr(MbMemBalancerVM) vm = vm_proxy(&p->f, path);

    return mb_mem_balancer_vm_dup_state(vm);
}

/* "stuck" once the VM is (polled every 100 ms, 6 s at most), else NULL. */
static gchar *
wait_for_stuck(Pool *p, const char *path)
{
    for (int i = 0; i < 60; i++) {
        g_autofree char *now = NULL;

        mb_test_run_for(100);
        now = vm_state(p, path);
        if (g_str_equal(now, "stuck"))
            return g_steal_pointer(&now);
    }
    return NULL;
}

/* Three VMs of 512 MiB fill the pool; the game loads (its demand rises)
 * while balloons move 16 MiB a tick: every MiB the game gets must have
 * left a donor first. */
static void
test_slow_balloons(void)
{
    Pool p = {0};
    g_autofree char *game = NULL;

    pool_start(&p, "balloon-rate = 16MiB\n", NULL);
    game = register_vm(&p.f, "tv-game", 80, NULL);
    g_free(register_vm(&p.f, "video-playback", 50, NULL));
    g_free(register_vm(&p.f, "web", 20, NULL));
    mb_test_run_for(8000);
    g_test_message("game at %" G_GUINT64_FORMAT " KiB", vm_alloc(&p, game));
    if (vm_alloc(&p, game) <= 544 * MIB) {
        g_autofree char *log = mb_test_daemon_log(p.f.daemon);
        g_test_message("daemon log:\n%s", log);
    }
    /* Not vacuous: memory moved to the game. */
    g_assert_cmpuint(vm_alloc(&p, game), >, 544 * MIB);
    assert_pool_kept(&p, "slow balloons");
    pool_stop(&p);
}

/* The donor's set-target fails: nobody is given its memory, and after
 * three failures in a row it is "stuck". */
static void
test_failed_shrink(void)
{
    Pool p = {0};
    g_autofree char *video = NULL;
    g_autofree char *state = NULL;
    g_autofree char *log = NULL;

    pool_start(&p, "balloon-rate = 32MiB\nfault.video-playback = fail-set\n", NULL);
    g_free(register_vm(&p.f, "tv-game", 80, NULL));
    video = register_vm(&p.f, "video-playback", 50, NULL);
    g_free(register_vm(&p.f, "web", 20, NULL));
    state = wait_for_stuck(&p, video);
    mb_test_run_for(2000);
    assert_pool_kept(&p, "failed shrink");
    log = mb_test_daemon_log(p.f.daemon);
    g_assert_nonnull(strstr(log, "could not move VM 'video-playback'"));
    g_assert_nonnull(strstr(log, "failed moves in a row"));
    g_assert_cmpstr(state, ==, "stuck");
    pool_stop(&p);
}

/* The donor's balloon ignores its target: its memory is never handed
 * out while it is pending, nor once it is marked stuck. */
static void
test_stuck_donor(void)
{
    Pool p = {0};
    g_autofree char *video = NULL;
    g_autofree char *state = NULL;

    pool_start(&p, "balloon-rate = 32MiB\nfault.video-playback = stuck\n", NULL);
    g_free(register_vm(&p.f, "tv-game", 80, NULL));
    video = register_vm(&p.f, "video-playback", 50, NULL);
    g_free(register_vm(&p.f, "web", 20, NULL));
    mb_test_run_for(6000);
    assert_pool_kept(&p, "stuck donor");
    state = vm_state(&p, video);
    g_assert_cmpstr(state, ==, "stuck");
    pool_stop(&p);
}

/* Balloon sizes the guest writes are claims: a huge one is clamped to the
 * domain's maximum (and logged), a zero one never frees its memory. */
static void
test_lying_balloons(void)
{
    Pool p = {0};
    g_autofree char *huge = NULL;
    g_autofree char *log = NULL;

    pool_start(&p,
               "balloon-rate = 32MiB\nfault.web = lie-huge\n"
               "fault.video-playback = lie-zero\n",
               NULL);
    g_free(register_vm(&p.f, "tv-game", 80, NULL));
    g_free(register_vm(&p.f, "video-playback", 50, NULL));
    huge = register_vm(&p.f, "web", 20, NULL);
    mb_test_run_for(5000);
    assert_pool_kept(&p, "lying balloons");
    g_assert_cmpuint(vm_alloc(&p, huge), <=, 1024 * MIB);
    log = mb_test_daemon_log(p.f.daemon);
    g_assert_nonnull(strstr(log, "the guest lies"));
    /* Rate-limited: once a minute, not once a tick. */
    g_assert_null(strstr(strstr(log, "the guest lies") + 1, "the guest lies"));
    pool_stop(&p);
}

/* A guest that reports a balloon of 0 while it holds what it was given
 * (balloons move at once: it really has its target). Judged by its
 * report, it never reaches its target and is marked stuck; then it
 * counts for what it was seen to hold, and the others never get it. */
static void
test_lying_low(void)
{
    Pool p = {0};
    g_autofree char *video = NULL, *game = NULL;
    g_autofree char *state = NULL;

    pool_start(&p, "fault.video-playback = lie-zero\n", NULL);
    game = register_vm(&p.f, "tv-game", 80, NULL);
    g_free(register_vm(&p.f, "web", 20, NULL));
    video = register_vm(&p.f, "video-playback", 50, NULL);
    state = wait_for_stuck(&p, video);
    g_assert_cmpstr(state, ==, "stuck");
    g_assert_cmpuint(vm_alloc(&p, video), >=, 256 * MIB);
    mb_test_run_for(8000);
    g_test_message("game at %" G_GUINT64_FORMAT " KiB, video counted at %" G_GUINT64_FORMAT
                   " KiB",
                   vm_alloc(&p, game), vm_alloc(&p, video));
    /* Not vacuous: the game took what was free. */
    g_assert_cmpuint(vm_alloc(&p, game), >, 544 * MIB);
    assert_pool_kept(&p, "lying low");
    pool_stop(&p);
}

/* A guest that claims a swap storm until it has its maximum, then goes
 * silent, gives back what it holds above its fair share while another VM
 * is short. (Counters running backwards make a VM silent the same way:
 * tests/policy/test-planner-silent.c, /policy/plan/silent/counters-backwards.) */
static void
silent_hog(const char *fault)
{
    Pool p = {0};
    /* The other VM claims a swap storm too: a big demand every interval. */
    g_autofree char *fake = g_strdup_printf(
        "balloon-rate = 64MiB\nfault.hog = %s\nfault.needy = swap-storm\n", fault);
    g_autofree char *hog = NULL, *game = NULL;
    guint64 peak = 0, end;
    /* Fair share: min + (capacity - sum of mins) / n, with the default
     * min of 256 MiB and two VMs. */
    const guint64 fair = 256 * MIB + (POOL_KIB - 2 * 256 * MIB) / 2;

    pool_start(&p, fake, NULL);
    hog = register_vm(&p.f, "hog", 50, NULL);
    for (int i = 0; i < 40; i++) {
        mb_test_run_for(100);
        peak = MAX(peak, vm_alloc(&p, hog));
    }
    game = register_vm(&p.f, "needy", 50, NULL);
    mb_test_run_for(10000);
    end = vm_alloc(&p, hog);
    g_test_message("%s: hog peak %" G_GUINT64_FORMAT " KiB, then %" G_GUINT64_FORMAT
                   " KiB (fair share %" G_GUINT64_FORMAT " KiB); needy %" G_GUINT64_FORMAT
                   " KiB",
                   fault, peak, end, fair, vm_alloc(&p, game));
    g_assert_cmpuint(peak, >, fair + 64 * MIB);
    g_assert_cmpuint(end, <=, fair + 8 * MIB);
    g_assert_cmpuint(end, >=, fair - 8 * MIB);
    assert_pool_kept(&p, fault);
    pool_stop(&p);
}

static void
test_silent_hog(void)
{
    silent_hog("swap-storm,silent-after:25");
}

/* The VM objects in-process log their warnings here: counted, not fatal. */
static guint n_lie_warnings;

static GLogWriterOutput
count_warnings(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
               gpointer user_data)
{
    const char *warning = mb_test_service_warning(level, fields, n_fields);

    if (warning != NULL) {
        if (strstr(warning, "the guest lies") != NULL)
            n_lie_warnings++;
        return G_LOG_WRITER_HANDLED;
    }
    return g_log_writer_default(level, fields, n_fields, user_data);
}

/* The accounting of one VM object: a travelling balloon counts at the
 * larger of its position and its target. */
static void
test_vm_object_committed(void)
{
    g_autoptr(MbRegistration) reg = mb_registration_new("vm", 50, 128 * MIB, 1024 * MIB, FALSE);
    MbEngineVm *vm = mb_engine_vm_new(reg, 512 * MIB, 1024 * MIB);
    MbVmStatus running = {MB_VM_STATE_RUNNING, 1, 0};

    mb_engine_vm_update_status(vm, &running, 512 * MIB);
    g_assert_cmpuint(mb_engine_vm_committed_kib(vm), ==, 512 * MIB);
    /* Asked to shrink, not there yet: still holds it all. */
    mb_engine_vm_target_set(vm, 400 * MIB, MB_REASON_DONATE);
    mb_engine_vm_update_status(vm, &running, 480 * MIB);
    g_assert_cmpuint(mb_engine_vm_committed_kib(vm), ==, 480 * MIB);
    g_assert_cmpuint(mb_engine_vm_planned_kib(vm), ==, 400 * MIB);
    /* Asked to grow: counts at its target from the moment it is set. */
    mb_engine_vm_target_set(vm, 600 * MIB, MB_REASON_NEED);
    g_assert_cmpuint(mb_engine_vm_committed_kib(vm), ==, 600 * MIB);
    /* A lie above the domain's maximum is clamped, and logged once. */
    n_lie_warnings = 0;
    mb_engine_vm_update_status(vm, &running, G_MAXUINT64 / 4);
    g_assert_cmpuint(mb_engine_vm_get_actual(vm), ==, 1024 * MIB);
    mb_engine_vm_update_status(vm, &running, G_MAXUINT64 / 4);
    g_assert_cmpuint(n_lie_warnings, ==, 1);
    /* A lie of zero frees nothing: it counts for the most it was seen to
     * hold since its target was set (its maximum, while it lied). */
    mb_engine_vm_update_status(vm, &running, 0);
    g_assert_cmpuint(mb_engine_vm_committed_kib(vm), ==, 1024 * MIB);
    /* Three failures in a row: stuck, planned where it is. */
    g_assert_false(mb_engine_vm_target_failed(vm));
    g_assert_false(mb_engine_vm_target_failed(vm));
    g_assert_true(mb_engine_vm_target_failed(vm));
    g_assert_cmpint(mb_engine_vm_get_state(vm), ==, MB_VM_STATE_STUCK);
    g_object_unref(vm);
}

/* A balloon that does not do as asked counts for what it may hold, never
 * for its claim: what it counted for when its target was set, that
 * target, and every size it reported since, until it is seen at a target.
 * The domain's maximum comes with every read. */
static void
test_vm_object_floor(void)
{
    g_autoptr(MbRegistration) reg = mb_registration_new("vm", 50, 128 * MIB, 1024 * MIB, FALSE);
    MbEngineVm *vm = mb_engine_vm_new(reg, 512 * MIB, 1024 * MIB);
    MbVmStatus running = {MB_VM_STATE_RUNNING, 1, 1024 * MIB};
    MbVmStatus stuck = {MB_VM_STATE_STUCK, 1, 1024 * MIB};
    g_autoptr(MbRegistration) now = NULL;

    mb_engine_vm_update_status(vm, &running, 512 * MIB);
    /* Asked to shrink, it claims 0: the target counts, then (stuck) what
     * it had before. */
    mb_engine_vm_target_set(vm, 256 * MIB, MB_REASON_DONATE);
    mb_engine_vm_update_status(vm, &running, 0);
    g_assert_cmpuint(mb_engine_vm_committed_kib(vm), ==, 256 * MIB);
    mb_engine_vm_update_status(vm, &stuck, 0);
    g_assert_cmpuint(mb_engine_vm_committed_kib(vm), ==, 512 * MIB);
    g_assert_cmpuint(mb_engine_vm_planned_kib(vm), ==, 512 * MIB);
    g_assert_cmpuint(mb_engine_vm_get_vm(vm)->alloc_kib, ==, 512 * MIB);
    /* Seen to move (balanced again): a claim that comes and goes gains nothing. */
    mb_engine_vm_update_status(vm, &running, 300 * MIB);
    g_assert_cmpint(mb_engine_vm_get_state(vm), ==, MB_VM_STATE_RUNNING);
    g_assert_cmpuint(mb_engine_vm_committed_kib(vm), ==, 512 * MIB);
    /* Seen at a new target: believed again. */
    mb_engine_vm_target_set(vm, 400 * MIB, MB_REASON_DONATE);
    mb_engine_vm_update_status(vm, &running, 400 * MIB);
    g_assert_cmpuint(mb_engine_vm_committed_kib(vm), ==, 400 * MIB);
    /* A grow it never makes, and a claim above it while stuck: the largest. */
    mb_engine_vm_target_set(vm, 600 * MIB, MB_REASON_NEED);
    mb_engine_vm_update_status(vm, &stuck, 700 * MIB);
    mb_engine_vm_update_status(vm, &stuck, 100 * MIB);
    g_assert_cmpuint(mb_engine_vm_committed_kib(vm), ==, 700 * MIB);

    /* The domain redefined smaller and started again (a new boot): the
     * planner's limits are within it, the registration keeps its own, and
     * a target is counted as the backend sets it. */
    running = (MbVmStatus){MB_VM_STATE_RUNNING, 2, 768 * MIB};
    mb_engine_vm_update_status(vm, &running, 384 * MIB);
    g_assert_cmpuint(mb_engine_vm_committed_kib(vm), ==, 384 * MIB);
    g_assert_cmpuint(mb_engine_vm_get_vm(vm)->settings.max_kib, ==, 768 * MIB);
    now = mb_engine_vm_dup_registration(vm);
    g_assert_cmpuint(now->max_kib, ==, 1024 * MIB);
    mb_engine_vm_target_set(vm, 1024 * MIB, MB_REASON_NEED);
    g_assert_cmpuint(mb_engine_vm_committed_kib(vm), ==, 768 * MIB);
    /* Larger again: a balloon above the old maximum is no lie. */
    running = (MbVmStatus){MB_VM_STATE_RUNNING, 3, 2048 * MIB};
    mb_engine_vm_update_status(vm, &running, 1536 * MIB);
    g_assert_cmpint(mb_engine_vm_get_state(vm), ==, MB_VM_STATE_RUNNING);
    g_assert_cmpuint(mb_engine_vm_get_actual(vm), ==, 1536 * MIB);
    g_assert_cmpuint(mb_engine_vm_get_vm(vm)->settings.max_kib, ==, 1024 * MIB);
    g_object_unref(vm);
}

/* Agent statistics, then the balloon's (the agent died): the change of
 * source is no demand spike. */
static void
test_source_change(void)
{
    g_autoptr(MbRegistration) reg = mb_registration_new("vm", 50, 128 * MIB, 1024 * MIB, FALSE);
    MbEngineVm *vm = mb_engine_vm_new(reg, 512 * MIB, 1024 * MIB);
    MbVmStatus running = {MB_VM_STATE_RUNNING, 1, 0};
    MbSample agent = {.total_kib = 512 * MIB,
                      .free_kib = 200 * MIB,
                      .active_anon_kib = 100 * MIB,
                      .inactive_file_kib = 100 * MIB};
    MbSample balloon = agent;
    MbParams params;

    mb_params_init(&params);
    params.pool_kib = POOL_KIB;
    /* Balloon statistics have no active/inactive split: all used memory
     * looks active. */
    balloon.active_anon_kib = 300 * MIB;
    mb_engine_vm_update_status(vm, &running, 512 * MIB);
    for (int i = 0; i < 3; i++)
        mb_engine_vm_observe(vm, &agent, MB_STATS_SOURCE_AGENT, 4, i, 0, 1, &params);
    mb_engine_vm_observe(vm, &balloon, MB_STATS_SOURCE_BALLOON, 4, 3, 0, 1, &params);
    g_assert_cmpint(mb_engine_vm_get_vm(vm)->delta_kib, <, 16 * (gint64)MIB);
    mb_engine_vm_observe(vm, &balloon, MB_STATS_SOURCE_BALLOON, 4, 4, 0, 1, &params);
    g_assert_cmpint(mb_engine_vm_get_vm(vm)->delta_kib, <, 16 * (gint64)MIB);
    mb_engine_vm_observe(vm, &agent, MB_STATS_SOURCE_AGENT, 4, 5, 0, 1, &params);
    g_assert_cmpint(mb_engine_vm_get_vm(vm)->delta_kib, >, -16 * (gint64)MIB);
    g_object_unref(vm);
}

/* A registration above the domain's maximum now (the domain was
 * redefined smaller while the daemon was down) is clamped at start, not
 * retried every interval. */
static void
test_restart_clamps(void)
{
    Pool p = {0};
    g_autofree char *path = NULL, *log = NULL, *conf = NULL, *conf_path = NULL;
    const char *args[] = {"--config", NULL, NULL};

    pool_start(&p, "", NULL);
    path = register_vm(&p.f, "web", 20, min_max(900 * MIB, 1024 * MIB));
    fixture_stop(&p.f);
    conf = g_strdup_printf("[membalancer]\npool = 1536MiB\ninterval = 100\n"
                           "[fake]\nalloc = 256MiB\nmax = 512MiB\n");
    conf_path = mb_test_write_file(p.f.bus->dir, "small.conf", conf);
    args[1] = conf_path;
    fixture_start(&p.f, args);
    mb_test_run_for(1500);
    {
        g_autoptr(MbMemBalancerVM) vm = vm_proxy(&p.f, path);

        g_assert_cmpuint(mb_mem_balancer_vm_get_max_kib(vm), ==, 512 * MIB);
        g_assert_cmpuint(mb_mem_balancer_vm_get_min_kib(vm), <=, 512 * MIB);
    }
    log = mb_test_daemon_log(p.f.daemon);
    g_assert_nonnull(strstr(log, "above the domain's maximum memory"));
    g_assert_null(strstr(log, "could not move"));
    pool_stop(&p);
}

/* A pool and a reserve that are not whole balloon pages: partial grants
 * (the donors' balloons travel 16 MiB a tick) are whole pages still. */
static void
test_partial_grant_pages(void)
{
    Pool p = {0};
    g_autofree char *game = NULL;
    g_autoptr(GArray) lines = NULL;
    guint n_partial = 0;

    /* 1600 MiB + 1 KiB, less 64 MiB - 1 KiB: 1536 MiB + 2 KiB. */
    pool_start_with(&p, "pool = 1638401\nreserve = 65535\ninterval = 100\n",
                    "balloon-rate = 16MiB\n", NULL);
    game = register_vm(&p.f, "tv-game", 80, NULL);
    g_free(register_vm(&p.f, "video-playback", 50, NULL));
    g_free(register_vm(&p.f, "web", 20, NULL));
    mb_test_run_for(6000);
    lines = mb_test_trace_read(p.trace, FALSE);
    for (guint k = 0; k < lines->len; k++) {
        const MbTestTraceLine *line = &g_array_index(lines, MbTestTraceLine, k);

        if (line->target_kib % 4 != 0)
            g_test_message("%s: target %" G_GUINT64_FORMAT " KiB", line->name,
                           line->target_kib);
        g_assert_cmpuint(line->target_kib % 4, ==, 0);
        n_partial += g_str_equal(line->name, "tv-game") && line->target_kib % MIB != 0;
    }
    g_test_message("%u trace lines of the game off whole MiB", n_partial);
    g_assert_cmpuint(vm_alloc(&p, game), >, 544 * MIB);
    assert_pool_kept_at(&p, "odd pool", 1536 * MIB + 2);
    pool_stop(&p);
}

/* With the pool the host's memory, a reserve is kept back for the host
 * unless one is set; the shipped file says so. */
static void
test_default_reserve(void)
{
    const guint64 gib = 1024 * MIB;
    g_autoptr(MbConfig) config = mb_config_new();
    g_autoptr(MbConfig) shipped = mb_config_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, "..", "..", "service", "data",
                                                  "membalancer.conf", NULL);
    MbParams params;

    g_assert_cmpuint(mb_config_host_reserve_kib(2 * gib), ==, 512 * MIB);
    g_assert_cmpuint(mb_config_host_reserve_kib(16 * gib), ==, 16 * gib / 10);
    g_assert_cmpuint(mb_config_host_reserve_kib(512 * MIB), ==, 256 * MIB);
    mb_config_to_params_for_host(config, 2 * gib, &params);
    g_assert_cmpuint(params.pool_kib, ==, 2 * gib);
    g_assert_cmpuint(params.reserve_kib, ==, 512 * MIB);
    g_assert_cmpuint(mb_params_capacity_kib(&params), ==, 1536 * MIB);
    /* No host size (the fake): no host reserve. */
    mb_config_to_params_for_host(config, 0, &params);
    g_assert_cmpuint(params.pool_kib, ==, 0);
    g_assert_cmpuint(params.reserve_kib, ==, 0);
    /* A pool that is set is the VMs' alone. */
    g_assert_true(mb_config_set(config, "pool", "1GiB", "test", &error));
    mb_config_to_params_for_host(config, 2 * gib, &params);
    g_assert_cmpuint(params.pool_kib, ==, gib);
    g_assert_cmpuint(params.reserve_kib, ==, 0);
    /* A reserve that is set, 0 included, is kept as set. */
    g_assert_true(mb_config_set(config, "pool", "0", "test", &error));
    g_assert_true(mb_config_set(config, "reserve", "0", "test", &error));
    mb_config_to_params_for_host(config, 2 * gib, &params);
    g_assert_cmpuint(params.reserve_kib, ==, 0);
    g_assert_true(mb_config_set(config, "reserve", "auto", "test", &error));
    mb_config_to_params_for_host(config, 2 * gib, &params);
    g_assert_cmpuint(params.reserve_kib, ==, 512 * MIB);
    g_assert_no_error(error);
    /* The shipped file's values are the defaults. */
    g_assert_true(mb_config_load_file(shipped, path, TRUE, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(shipped->pool_kib, ==, 0);
    g_assert_true(shipped->reserve_auto);
    mb_config_to_params_for_host(shipped, 2 * gib, &params);
    g_assert_cmpuint(params.reserve_kib, ==, 512 * MIB);
}

/* The daemon with libvirt's test driver: the pool is the host's memory,
 * less the default reserve. */
static void
test_default_reserve_libvirt(void)
{
    Fixture f = {0};
    const char *const args[] = {"--backend", "libvirt", "--libvirt-uri", "test:///default",
                                NULL};
    guint64 pool_kib;

    fixture_setup(&f, NULL);
    fixture_start(&f, args);
    pool_kib = mb_mem_balancer_get_pool_kib(f.manager);
    g_test_message("pool %" G_GUINT64_FORMAT " KiB, reserve %" G_GUINT64_FORMAT " KiB",
                   pool_kib, mb_mem_balancer_get_reserve_kib(f.manager));
    /* The test driver's host has 3 GiB: 10 % is less than 512 MiB. */
    g_assert_cmpuint(pool_kib, ==, 3072 * MIB);
    g_assert_cmpuint(mb_mem_balancer_get_reserve_kib(f.manager), ==, 512 * MIB);
    fixture_teardown(&f, NULL);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_log_set_writer_func(count_warnings, NULL, NULL);
    g_test_add_func("/service/pool/slow-balloons", test_slow_balloons);
    g_test_add_func("/service/pool/failed-shrink", test_failed_shrink);
    g_test_add_func("/service/pool/stuck-donor", test_stuck_donor);
    g_test_add_func("/service/pool/lying-balloons", test_lying_balloons);
    g_test_add_func("/service/pool/lying-low", test_lying_low);
    g_test_add_func("/service/pool/silent-hog", test_silent_hog);
    g_test_add_func("/service/pool/vm-object-committed", test_vm_object_committed);
    g_test_add_func("/service/pool/vm-object-floor", test_vm_object_floor);
    g_test_add_func("/service/pool/source-change", test_source_change);
    g_test_add_func("/service/pool/restart-clamps", test_restart_clamps);
    g_test_add_func("/service/pool/partial-grant-pages", test_partial_grant_pages);
    g_test_add_func("/service/pool/default-reserve", test_default_reserve);
    g_test_add_func("/service/pool/default-reserve-libvirt", test_default_reserve_libvirt);
    return g_test_run();
}
