/* Tests of the simulator: the guest model, the workloads, the run loop's
 * invariants, the paper's results, trace replay, determinism and the CLI. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "mb-guest.h"
#include "mb-scenario.h"
#include "mb-sim.h"
#include "mb-trace.h"
#include "mb-workload.h"

#define MIB 1024ull

/* ---- A workload the tests steer tick by tick ---------------------------- */

typedef struct {
    double anon_kib, file_read_kib, hot_kib;
} Steer;

static void
steered_shape(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    const Steer *s = wl->data;

    out->anon_kib = s->anon_kib;
    out->file_read_kib = s->file_read_kib;
    out->hot_file_kib = s->hot_kib;
    (void)variant;
    (void)p;
}

static MbWorkload
steered_workload(Steer *steer, double touch_kib_per_s)
{
    MbWorkload wl = {
        .name = "steered",
        .description = "test",
        .work_s = 1e6,
        .touch_kib_per_s = touch_kib_per_s,
        .inactive_anon_ratio = 0.1,
        .shape = steered_shape,
        .data = steer,
    };
    return wl;
}

static uint64_t
guest_used_kib(const MbGuest *g)
{
    return MB_GUEST_KERNEL_KIB + g->anon_resident_kib + g->active_file_kib +
           g->inactive_file_kib;
}

/* ---- Guest model ---------------------------------------------------------- */

static void
test_guest_reclaim_order(void)
{
    Steer steer = {50 * MIB, 0, 8 * MIB};
    MbWorkload wl = steered_workload(&steer, 0);
    MbGuest g;

    mb_guest_init(&g, &wl, 512 * MIB);
    /* Fill the page cache with a file read once. */
    for (int i = 0; i < 30; i++) {
        steer.file_read_kib += 10 * MIB;
        mb_guest_tick(&g);
    }
    g_assert_cmpuint(g.inactive_file_kib, >=, 300 * MIB);
    g_assert_cmpuint(g.swap_out_pages, ==, 0);

    /* Anon grows past what is free: the cache must go before any swap. */
    for (int i = 0; i < 60; i++) {
        uint64_t before = g.swap_out_pages;
        steer.anon_kib += 10 * MIB;
        mb_guest_tick(&g);
        if (g.swap_out_pages > before)
            g_assert_cmpuint(g.inactive_file_kib, ==, 0);
        else
            g_assert_cmpuint(mb_guest_free_kib(&g), >=, 512 * MIB / 10);
    }
    g_assert_cmpuint(g.swap_out_pages, >, 0);
    /* The hot file set survives while anon can still be swapped. */
    g_assert_cmpuint(g.active_file_kib, ==, 8 * MIB);
}

static void
test_guest_balloon_shrink_cache(void)
{
    const MbWorkload *video = mb_workload_lookup("video-playback");
    MbGuest g;
    MbSample s;
    uint64_t r_kib;

    g_assert_nonnull(video);
    mb_guest_init(&g, video, 512 * MIB);
    for (int i = 0; i < 240; i++)
        mb_guest_tick(&g);
    mb_guest_sample(&g, &s);
    r_kib = mb_reclaimable_kib(&s, MB_GUEST_FREE_RESERVE);
    g_assert_cmpuint(r_kib, >, 300 * MIB);
    /* Give away everything the paper calls reclaimable, in steps. */
    mb_guest_set_alloc(&g, 512 * MIB - r_kib / 2);
    mb_guest_set_alloc(&g, 512 * MIB - r_kib * 9 / 10);
    for (int i = 0; i < 60; i++)
        mb_guest_tick(&g);
    g_assert_cmpuint(g.swap_out_pages, ==, 0);
    g_assert_cmpuint(mb_guest_free_kib(&g), >=, g.alloc_kib / 10);
}

static void
test_guest_growth_swaps(void)
{
    const MbWorkload *milc = mb_workload_lookup("milc");
    MbGuest g;

    mb_guest_init(&g, milc, 512 * MIB);
    for (int i = 0; i < 40; i++) {
        mb_guest_tick(&g);
        g_assert_cmpuint(guest_used_kib(&g), <=, g.alloc_kib);
    }
    g_assert_cmpuint(g.swap_out_pages, >, 0);
    g_assert_cmpuint(g.anon_swapped_kib, >, 100 * MIB);
    g_assert_cmpuint(mb_guest_free_kib(&g), >=, g.alloc_kib / 10);

    /* Deflating the balloon lets the swapped pages come back. */
    mb_guest_set_alloc(&g, 1536 * MIB);
    for (int i = 0; i < 60; i++)
        mb_guest_tick(&g);
    g_assert_cmpuint(g.anon_swapped_kib, ==, 0);
}

static unsigned
runtime_with(const char *workload, uint64_t alloc_kib)
{
    MbGuest g;

    mb_guest_init(&g, mb_workload_lookup(workload), alloc_kib);
    for (unsigned i = 0; i < 100000 && !g.finished; i++)
        mb_guest_tick(&g);
    g_assert_true(g.finished);
    return mb_guest_runtime_s(&g);
}

static void
test_guest_swapping_slows(void)
{
    const MbWorkload *milc = mb_workload_lookup("milc");
    unsigned fast = runtime_with("milc", 1536 * MIB);
    unsigned slow = runtime_with("milc", 512 * MIB);

    g_assert_cmpuint(fast, ==, (unsigned)milc->work_s);
    g_assert_cmpuint(slow, >, 2 * fast);
    /* A workload that fits does not care. */
    g_assert_cmpuint(runtime_with("hmmer", 512 * MIB), ==, runtime_with("hmmer", 1536 * MIB));
}

static void
test_guest_counters_monotonic(void)
{
    GRand *rand = g_rand_new_with_seed(42);

    for (size_t w = 0; w < mb_workload_count(); w++) {
        MbGuest g;
        MbSample prev, s;
        double progress = 0;

        mb_guest_init(&g, mb_workload_nth(w), 512 * MIB);
        mb_guest_sample(&g, &prev);
        for (int i = 0; i < 300; i++) {
            if (g_rand_int_range(rand, 0, 10) == 0)
                mb_guest_set_alloc(&g, (uint64_t)g_rand_int_range(rand, 128, 1024) * MIB);
            mb_guest_tick(&g);
            mb_guest_sample(&g, &s);
            g_assert_cmpuint(s.swap_out_pages, >=, prev.swap_out_pages);
            g_assert_cmpuint(s.swap_in_pages, >=, prev.swap_in_pages);
            g_assert_cmpfloat(g.progress_s, >=, progress);
            g_assert_cmpuint(s.free_kib + s.active_anon_kib + s.inactive_anon_kib +
                                 s.active_file_kib + s.inactive_file_kib,
                             <=, s.total_kib);
            g_assert_cmpuint(s.total_kib, ==, g.alloc_kib);
            progress = g.progress_s;
            prev = s;
        }
    }
    g_rand_free(rand);
}

static void
test_guest_idle(void)
{
    MbGuest g;
    MbSample s;

    mb_guest_init(&g, NULL, 256 * MIB);
    g_assert_true(g.finished);
    mb_guest_tick(&g);
    mb_guest_sample(&g, &s);
    g_assert_cmpuint(s.total_kib, ==, 256 * MIB);
    g_assert_cmpuint(s.free_kib, ==, 256 * MIB - MB_GUEST_KERNEL_KIB);
}

/* ---- Workloads ------------------------------------------------------------ */

static void
test_workloads(void)
{
    const char *const *names = mb_workload_names();
    size_t n = 0;

    for (; names[n]; n++) {
        const MbWorkload *wl = mb_workload_lookup(names[n]);
        MbWorkloadPoint pt;
        double read = 0;

        g_assert_nonnull(wl);
        g_assert_cmpstr(wl->name, ==, names[n]);
        g_assert_cmpfloat(wl->work_s, >=, 200);
        g_assert_cmpfloat(wl->work_s, <=, 600);
        for (double p = 0; p <= wl->work_s; p += 0.5) {
            mb_workload_point(wl, 7, p, &pt);
            g_assert_cmpfloat(pt.anon_kib, >=, 0);
            g_assert_cmpfloat(pt.anon_kib, <, 1024.0 * MIB);
            g_assert_cmpfloat(pt.file_read_kib, >=, read); /* cumulative */
            read = pt.file_read_kib;
        }
    }
    g_assert_cmpuint(n, ==, mb_workload_count());
    g_assert_null(mb_workload_lookup("no-such-workload"));
    g_assert_null(mb_workload_lookup(NULL));
}

/* ---- Scenarios ------------------------------------------------------------ */

static void
test_scenario_names(void)
{
    const char *bad[] = {"",         "paper3",     "paper3-", "paper3-bogus",
                         "scale-0",  "scale-4097", "scale-",  "scale-12x",
                         "scale--1", "paper2x",    "nope"};
    char err[256];
    MbScenario *sc;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        err[0] = '\0';
        g_assert_null(mb_scenario_new(bad[i], 1, err, sizeof(err)));
        g_assert_cmpstr(err, !=, "");
    }
    sc = mb_scenario_new("paper3-gcc", 1, err, sizeof(err));
    g_assert_nonnull(sc);
    g_assert_cmpuint(sc->n_vms, ==, 3);
    g_assert_cmpuint(mb_scenario_capacity_kib(sc), ==, 1536 * MIB);
    g_assert_cmpuint(sc->vms[0].settings.priority, >, sc->vms[1].settings.priority);
    mb_scenario_free(sc);
    sc = mb_scenario_new("scale-4096", 1, err, sizeof(err));
    g_assert_nonnull(sc);
    g_assert_cmpuint(mb_scenario_capacity_kib(sc), ==, 4096 * 512 * MIB);
    mb_scenario_free(sc);
}

/* ---- Invariants over random runs ----------------------------------------- */

typedef struct {
    uint64_t capacity_kib, min_step_kib;
    unsigned violations;
    unsigned ticks;
} InvariantCheck;

/* Independent of the run loop's own check: every tick, what the planner
 * decided must respect the capacity, each VM's range and the step. */
static void
check_invariants(const MbSimTick *t, void *user_data)
{
    InvariantCheck *c = user_data;
    uint64_t sum = 0, before = 0;

    c->ticks++;
    for (size_t i = 0; i < t->n_vms; i++) {
        const MbVm *vm = &t->vms[i];
        uint64_t prev = t->prev_alloc_kib[i], now = vm->target_kib;
        uint64_t move = now > prev ? now - prev : prev - now;
        bool restore = prev < vm->settings.min_kib || prev > vm->settings.max_kib;

        sum += now;
        before += prev;
        if (now < vm->settings.min_kib || now > vm->settings.max_kib)
            c->violations++;
        if (move != 0 && move < c->min_step_kib && !restore)
            c->violations++;
        if (t->guests[i].alloc_kib != now)
            c->violations++;
    }
    if (sum > c->capacity_kib && sum > before)
        c->violations++;
}

static void
test_invariants_random(void)
{
    for (uint64_t seed = 1; seed <= 50; seed++) {
        GRand *rand = g_rand_new_with_seed((guint32)seed);
        char name[32], err[256];
        MbScenario *sc;
        MbSimConfig cfg;
        MbSimResult res;
        InvariantCheck check = {0};

        snprintf(name, sizeof(name), "scale-%d", g_rand_int_range(rand, 1, 65));
        sc = mb_scenario_new(name, seed, err, sizeof(err));
        g_assert_nonnull(sc);
        mb_sim_config_init(&cfg);
        cfg.policy = (MbSimPolicy)g_rand_int_range(rand, 0, MB_SIM_POLICY_N);
        cfg.seed = seed;
        cfg.alpha = g_rand_double_range(rand, 0.1, 1.0);
        cfg.min_step_kib = (uint64_t)g_rand_int_range(rand, 1, 17) * MIB;
        cfg.max_ticks = 600;
        cfg.on_tick = check_invariants;
        cfg.user_data = &check;
        check.capacity_kib = mb_scenario_capacity_kib(sc);
        check.min_step_kib = cfg.min_step_kib;
        g_assert_true(mb_sim_run(sc, &cfg, &res, err, sizeof(err)));
        if (check.violations > 0 || res.violations > 0)
            g_test_message("%s %s seed %" G_GUINT64_FORMAT ": %s", name, res.policy, seed,
                           res.first_violation);
        g_assert_cmpuint(check.violations, ==, 0);
        g_assert_cmpuint(res.violations, ==, 0);
        g_assert_cmpuint(check.ticks, ==, res.ticks);
        mb_sim_result_clear(&res);
        mb_scenario_free(sc);
        g_rand_free(rand);
    }
}

/* ---- The paper's results --------------------------------------------------- */

static void
run_policy(const char *scenario, MbSimPolicy policy, MbSimResult *res)
{
    char err[256];
    MbScenario *sc = mb_scenario_new(scenario, 1, err, sizeof(err));
    MbSimConfig cfg;

    g_assert_nonnull(sc);
    mb_sim_config_init(&cfg);
    cfg.policy = policy;
    g_assert_true(mb_sim_run(sc, &cfg, res, err, sizeof(err)));
    g_assert_false(res->capped);
    g_assert_cmpuint(res->violations, ==, 0);
    mb_scenario_free(sc);
}

static void
test_paper_job(gconstpointer data)
{
    const char *scenario = data;
    MbSimResult st, pa, ba;
    double cut;

    run_policy(scenario, MB_SIM_STATIC, &st);
    run_policy(scenario, MB_SIM_PAPER, &pa);
    run_policy(scenario, MB_SIM_BALANCED, &ba);
    g_assert_cmpuint(st.vms[0].swap_out_kib, >, 0);
    cut = 1.0 - (double)ba.vms[0].swap_out_kib / (double)st.vms[0].swap_out_kib;
    g_test_message("%s: balanced cuts VM1's swap-out by %.2f %%, speedup %.2fx", scenario,
                   100 * cut, (double)st.vms[0].runtime_s / ba.vms[0].runtime_s);
    g_assert_cmpfloat(cut, >=, 0.90);
    for (size_t i = 1; i < ba.n_vms; i++)
        g_assert_cmpuint(ba.vms[i].swap_out_kib, ==, 0);
    /* balanced is at least as good as the paper's own policy. */
    g_assert_cmpuint(ba.vms[0].swap_out_kib, <=, pa.vms[0].swap_out_kib);
    g_assert_cmpuint(ba.vms[0].runtime_s, <=, pa.vms[0].runtime_s);
    g_assert_cmpuint(ba.vms[0].runtime_s, <, st.vms[0].runtime_s);
    mb_sim_result_clear(&st);
    mb_sim_result_clear(&pa);
    mb_sim_result_clear(&ba);
}

static void
test_paper_h264ref(void)
{
    MbSimResult ba;

    run_policy("paper3-h264ref", MB_SIM_BALANCED, &ba);
    g_assert_cmpuint(ba.rebalances, <=, 3);
    for (size_t i = 0; i < ba.n_vms; i++)
        g_assert_cmpuint(ba.vms[i].swap_out_kib, ==, 0);
    mb_sim_result_clear(&ba);
}

static void
test_paper2(void)
{
    MbSimResult st, ba, best;

    run_policy("paper2", MB_SIM_STATIC, &st);
    run_policy("paper2", MB_SIM_BALANCED, &ba);
    run_policy("paper2", MB_SIM_BEST, &best);
    g_assert_cmpstr(st.vms[0].workload, ==, "game");
    g_assert_cmpuint(ba.vms[0].swap_out_kib * 10, <=, st.vms[0].swap_out_kib);
    g_assert_cmpuint(ba.vms[1].swap_out_kib, ==, 0);
    /* The best case is VM1 alone with the whole capacity. */
    g_assert_cmpuint(best.n_vms, ==, 1);
    g_assert_cmpuint(best.vms[0].final_alloc_kib, ==, 1024 * MIB);
    g_assert_cmpuint(best.vms[0].runtime_s, <=, ba.vms[0].runtime_s);
    mb_sim_result_clear(&st);
    mb_sim_result_clear(&ba);
    mb_sim_result_clear(&best);
}

/* ---- Trace replay ------------------------------------------------------------ */

static void
test_trace_shipped(void)
{
    g_autofree char *path =
        g_test_build_filename(G_TEST_DIST, "..", "sim", "traces", "paper2-static.csv", NULL);
    MbTrace *trace = NULL;
    MbScenario *sc;
    MbSimConfig cfg;
    MbSimResult st, ba;
    char err[512];

    g_assert_true(mb_trace_load(path, &trace, err, sizeof(err)));
    g_assert_cmpuint(trace->n_vms, ==, 2);
    g_assert_true(trace->has_psi);
    g_assert_cmpstr(trace->vms[0].name, ==, "vm1-game");
    g_assert_cmpuint(trace->vms[0].first_total_kib, ==, 512 * MIB);
    sc = mb_scenario_new_trace(trace, err, sizeof(err));
    g_assert_nonnull(sc);
    g_assert_cmpuint(mb_scenario_capacity_kib(sc), ==, 1024 * MIB);
    mb_sim_config_init(&cfg);
    cfg.policy = MB_SIM_STATIC;
    g_assert_true(mb_sim_run(sc, &cfg, &st, err, sizeof(err)));
    cfg.policy = MB_SIM_BALANCED;
    g_assert_true(mb_sim_run(sc, &cfg, &ba, err, sizeof(err)));
    g_assert_false(st.capped);
    g_assert_false(ba.capped);
    g_assert_cmpstr(ba.scenario, ==, "trace");
    /* The recorded game swapped; replayed under balanced it swaps less. */
    g_assert_cmpuint(st.vms[0].swap_out_kib, >, 0);
    g_assert_cmpuint(ba.vms[0].swap_out_kib, <, st.vms[0].swap_out_kib);
    mb_sim_result_clear(&st);
    mb_sim_result_clear(&ba);
    mb_scenario_free(sc);
    mb_trace_free(trace);
}

#define HDR MB_TRACE_HEADER "\n"

static void
test_trace_malformed(void)
{
    static const struct {
        const char *csv;
        const char *where; /* expected prefix of the error */
    } cases[] = {
        {"", "t.csv:1: no header"},
        {"t,vm\n", "t.csv:1:"},
        {HDR, "t.csv:1: no samples"},
        {HDR "0,a,1000,10,10,10,10,10,0,0\n1,a,1000,10\n", "t.csv:3:"},
        {HDR "0,a,1000,10,10,10,10,10,0,0\n0,a,1000,10,10,10,10,10,0,0\n", "t.csv:3:"},
        {HDR "0,a,1000,-10,10,10,10,10,0,0\n", "t.csv:2:"},
        {HDR "0,a,1000,x,10,10,10,10,0,0\n", "t.csv:2:"},
        {HDR "0,a,1000,1 0,10,10,10,10,0,0\n", "t.csv:2:"},
        {HDR "0,,1000,10,10,10,10,10,0,0\n", "t.csv:2:"},
        {HDR "0,a,0,0,0,0,0,0,0,0\n", "t.csv:2:"},
        {HDR "0,a,1000,900,100,100,10,10,0,0\n", "t.csv:2:"},
        {HDR "# note\n\n0,a,1000,10,10,10,10,10,5,5\n1,a,1000,10,10,10,10,10,4,5\n",
         "t.csv:5:"},
        {HDR "0,a,1000,10,10,10,10,10,0,0,1.0,2.0\n", "t.csv:2:"},
        {MB_TRACE_HEADER_PSI "\n0,a,1000,10,10,10,10,10,0,0,1.0,200\n", "t.csv:2:"},
        {HDR "0,a,99999999999999999999,10,10,10,10,10,0,0\n", "t.csv:2:"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        static MbTrace sentinel;
        MbTrace *trace = &sentinel; /* must be reset to NULL */
        char err[512] = "";

        g_assert_false(mb_trace_parse(cases[i].csv, strlen(cases[i].csv), "t.csv", &trace, err,
                                      sizeof(err)));
        g_assert_null(trace);
        if (!g_str_has_prefix(err, cases[i].where))
            g_error("case %zu: '%s' does not start with '%s'", i, err, cases[i].where);
        g_assert_null(strchr(err, '\n'));
    }

    /* A good one, with CRLF line ends, comments and two VMs. */
    {
        const char *ok = "# recorded\r\n" MB_TRACE_HEADER "\r\n"
                         "0,a,1000,500,100,50,20,30,0,0\r\n0,b,2000,10,10,10,10,10,0,0\r\n"
                         "1,a,1000,400,150,50,20,80,0,4\r\n";
        MbTrace *trace = NULL;
        char err[512];

        g_assert_true(mb_trace_parse(ok, strlen(ok), "ok.csv", &trace, err, sizeof(err)));
        g_assert_cmpuint(trace->n_vms, ==, 2);
        g_assert_cmpuint(trace->vms[0].n_points, ==, 2);
        /* anon = active + inactive + swapped pages */
        g_assert_cmpfloat(trace->vms[0].anon_kib[1], ==, 150 + 50 + 16);
        g_assert_cmpfloat(trace->vms[0].file_read_kib[1], ==, 30 + 50);
        g_assert_cmpfloat(trace->vms[0].hot_file_kib[1], ==, 20);
        mb_trace_free(trace);
    }
}

/* ---- Determinism ------------------------------------------------------------ */

static void
test_determinism(void)
{
    for (unsigned k = 0; k < 2; k++) {
        const char *name = k ? "scale-48" : "paper3-game";
        MbSimResult a, b, c;

        for (int r = 0; r < 3; r++) {
            char err[256];
            MbScenario *sc = mb_scenario_new(name, r == 2 ? 99 : 7, err, sizeof(err));
            MbSimConfig cfg;
            mb_sim_config_init(&cfg);
            cfg.policy = MB_SIM_PAPER;
            cfg.seed = r == 2 ? 99 : 7;
            g_assert_true(mb_sim_run(sc, &cfg,
                                     r == 0   ? &a
                                     : r == 1 ? &b
                                              : &c,
                                     err, sizeof(err)));
            mb_scenario_free(sc);
        }
        g_assert_cmpuint(a.ticks, ==, b.ticks);
        g_assert_cmpuint(a.rebalances, ==, b.rebalances);
        g_assert_cmpuint(a.n_vms, ==, b.n_vms);
        g_assert_cmpmem(a.vms, a.n_vms * sizeof(*a.vms), b.vms, b.n_vms * sizeof(*b.vms));
        /* A different seed draws a different scale mix. */
        if (k == 1)
            g_assert_true(c.n_vms != a.n_vms ||
                          memcmp(a.vms, c.vms, a.n_vms * sizeof(*a.vms)) != 0);
        mb_sim_result_clear(&a);
        mb_sim_result_clear(&b);
        mb_sim_result_clear(&c);
    }
}

/* ---- The CLI ------------------------------------------------------------------ */

static char *
sim_binary(void)
{
    const char *env = g_getenv("MB_SIM_BINARY");

    if (env != NULL && *env != '\0')
        return g_strdup(env);
    return g_test_build_filename(G_TEST_BUILT, "..", "sim", "membalancer-sim", NULL);
}

/* Runs the CLI; returns its exit status. */
static int
run_cli(const char *const *args, char **out, char **err)
{
    g_autofree char *bin = sim_binary();
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    int wait_status = 0;

    g_ptr_array_add(argv, bin);
    for (; *args; args++)
        g_ptr_array_add(argv, (gpointer)*args);
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                      &wait_status, &error))
        g_error("cannot run %s: %s", bin, error->message);
    if (!WIFEXITED(wait_status))
        g_error("%s died (wait status %d): %s", bin, wait_status, err && *err ? *err : "");
    return WEXITSTATUS(wait_status);
}

static void
test_cli_bad_input(void)
{
    g_autofree char *dir = g_dir_make_tmp("mb-sim-XXXXXX", NULL);
    g_autofree char *bad_trace = g_build_filename(dir, "bad.csv", NULL);
    const char *const *cases[] = {
        (const char *const[]){"--scenario", "nope", NULL},
        (const char *const[]){"--scenario", "scale-0", NULL},
        (const char *const[]){"--scenario", "paper2", "--policy", "greedy", NULL},
        (const char *const[]){"--scenario", "paper2", "--alpha", "0", NULL},
        (const char *const[]){"--scenario", "paper2", "--alpha", "1.5", NULL},
        (const char *const[]){"--scenario", "paper2", "--alpha", "abc", NULL},
        (const char *const[]){"--scenario", "paper2", "--alpha", "-0.5", NULL},
        (const char *const[]){"--scenario", "paper2", "--min-step", "-4", NULL},
        (const char *const[]){"--scenario", "paper2", "--min-step", "four", NULL},
        (const char *const[]){"--scenario", "paper2", "--min-step", "4X", NULL},
        (const char *const[]){"--scenario", "paper2", "--seed", "-1", NULL},
        (const char *const[]){"--scenario", "paper2", "--bogus", NULL},
        (const char *const[]){"--scenario", "paper2", "extra", NULL},
        (const char *const[]){"--scenario", NULL},
        (const char *const[]){"--json", NULL},
        (const char *const[]){"--trace", "/nonexistent/trace.csv", NULL},
        (const char *const[]){"--trace", bad_trace, NULL},
    };

    g_assert_true(g_file_set_contents(bad_trace,
                                      HDR "0,a,1000,10,10,10,10,10,0,0\n"
                                          "1,a,1000,oops,10,10,10,10,0,0\n",
                                      -1, NULL));
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *out = NULL, *err = NULL;
        int status = run_cli(cases[i], &out, &err);

        g_assert_cmpint(status, ==, 2);
        g_assert_cmpstr(out, ==, "");
        g_assert_true(g_str_has_prefix(err, "membalancer-sim: "));
        /* One line. */
        g_assert_cmpint((int)(strchr(err, '\n') - err), ==, (int)strlen(err) - 1);
        if (i == G_N_ELEMENTS(cases) - 1)
            g_assert_nonnull(strstr(err, "bad.csv:3:"));
    }
    g_unlink(bad_trace);
    g_rmdir(dir);
}

static void
test_cli_outputs(void)
{
    g_autofree char *dir = g_dir_make_tmp("mb-sim-XXXXXX", NULL);
    g_autofree char *csv = g_build_filename(dir, "t.csv", NULL);
    g_autofree char *png = g_build_filename(dir, "t.png", NULL);
    g_autofree char *out = NULL, *out2 = NULL, *err = NULL, *text = NULL, *help = NULL;
    const char *args[] = {"--scenario", "paper2", "--policy", "all",    "--json", "--seed",
                          "3",          "--csv",  csv,        "--plot", png,      NULL};
    const char *again[] = {"--scenario", "paper2", "--policy", "all",
                           "--json",     "--seed", "3",        NULL};
    const char *help_args[] = {"--help", NULL};
    gsize len;

    g_assert_cmpint(run_cli(args, &out, &err), ==, 0);
    g_assert_cmpstr(err, ==, "");
    g_assert_true(g_str_has_prefix(out, "[{\"scenario\":\"paper2\",\"policy\":\"static\""));
    g_assert_nonnull(strstr(out, "\"policy\":\"best\""));
    g_assert_nonnull(strstr(out, "\"swap_out_kib\":"));
    g_free(err);
    err = NULL;
    /* Same seed, same bytes. */
    g_assert_cmpint(run_cli(again, &out2, &err), ==, 0);
    g_assert_cmpstr(out, ==, out2);

    g_assert_true(g_file_get_contents(csv, &text, &len, NULL));
    g_assert_true(
        g_str_has_prefix(text, "tick,policy,vm,alloc_kib,active_anon_kib,"
                               "inactive_anon_kib,active_file_kib,inactive_file_kib,"
                               "free_kib,swap_out_pages,dm_kib,predicted_kib,"
                               "demand_kib,reclaimable_kib,balloon_kib\n1,static,vm1-game,"));
    g_free(text);
    g_assert_true(g_file_get_contents(png, &text, &len, NULL));
    g_assert_cmpuint(len, >, 8);
    g_assert_cmpmem(text, 8, "\x89PNG\r\n\x1a\n", 8);

    g_free(err);
    err = NULL;
    g_assert_cmpint(run_cli(help_args, &help, &err), ==, 0);
    g_assert_nonnull(strstr(help, "--scenario"));
    g_unlink(csv);
    g_unlink(png);
    g_rmdir(dir);
}

/* ---- The Linux 6.1 model and the real-VM benchmark's scenarios ---------- */

static void
test_linux61_new_anon_inactive(void)
{
    const MbWorkload *job = mb_workload_lookup("bench-job");
    MbGuest g, old;
    MbSample s;

    g_assert_nonnull(job);
    mb_guest_init(&g, job, 576 * MIB);
    mb_guest_set_model(&g, &mb_guest_model_linux61);
    mb_guest_init(&old, job, 576 * MIB);
    for (int i = 0; i < 10; i++) {
        mb_guest_tick(&g);
        mb_guest_tick(&old);
    }
    /* The real guest: MemTotal = balloon - 58572 KiB; all 280 MiB resident,
     * but only a few MiB of it on the active list. */
    mb_guest_sample(&g, &s);
    g_assert_cmpuint(s.total_kib, ==, 576 * MIB - 58572);
    g_assert_cmpuint(g.anon_resident_kib, ==, 280 * MIB);
    g_assert_cmpuint(s.active_anon_kib, <=, 7 * MIB);
    g_assert_cmpuint(s.inactive_anon_kib, >=, 270 * MIB);
    g_assert_cmpuint(g.swap_out_pages, ==, 0);
    /* The 2013 model is unchanged: most anon active, MemTotal = balloon. */
    mb_guest_sample(&old, &s);
    g_assert_cmpuint(s.total_kib, ==, 576 * MIB);
    g_assert_cmpuint(s.active_anon_kib, >, 200 * MIB);
}

static void
test_linux61_balloon_travel(void)
{
    const MbWorkload *video = mb_workload_lookup("bench-video");
    const uint64_t rate = mb_guest_model_linux61.shrink_kib_per_s;
    MbGuest g, old;
    unsigned ticks = 0;

    mb_guest_init(&g, video, 256 * MIB);
    mb_guest_set_model(&g, &mb_guest_model_linux61);
    mb_guest_init(&old, video, 256 * MIB);
    for (int i = 0; i < 40; i++) {
        mb_guest_tick(&g);
        mb_guest_tick(&old);
    }
    /* Fitted: a 128 MiB inflation of the video VM took ~3 s. */
    g_assert_cmpuint(rate, >=, 32 * MIB);
    g_assert_cmpuint(rate, <=, 64 * MIB);
    mb_guest_set_alloc(&g, 128 * MIB);
    g_assert_cmpuint(g.alloc_kib, ==, 256 * MIB); /* not there yet */
    g_assert_cmpuint(g.target_kib, ==, 128 * MIB);
    while (g.alloc_kib != g.target_kib && ticks < 20) {
        uint64_t before = g.alloc_kib;
        mb_guest_tick(&g);
        ticks++;
        g_assert_cmpuint(before - g.alloc_kib, <=, rate);
        /* Reclaim kept up with the balloon. */
        g_assert_cmpfloat((double)mb_guest_free_kib(&g), >=,
                          (double)mb_guest_memtotal_kib(&g) *
                              mb_guest_model_linux61.free_reserve);
    }
    g_assert_cmpuint(ticks, ==, (128 * MIB + rate - 1) / rate);
    g_assert_cmpuint(ticks, >=, 2);
    /* Deflating is faster: 128 MiB back within a tick. */
    mb_guest_set_alloc(&g, 256 * MIB);
    mb_guest_tick(&g);
    g_assert_cmpuint(g.alloc_kib, ==, 256 * MIB);
    /* The 2013 balloon is there at once. */
    mb_guest_set_alloc(&old, 128 * MIB);
    g_assert_cmpuint(old.alloc_kib, ==, 128 * MIB);
}

static void
test_linux61_thrashing_rate(void)
{
    const MbWorkload *job = mb_workload_lookup("bench-job");
    MbGuest g;
    MbSample s;
    uint64_t out0, in0, out1, in1;

    mb_guest_init(&g, job, 256 * MIB);
    mb_guest_set_model(&g, &mb_guest_model_linux61);
    for (int i = 0; i < 60; i++)
        mb_guest_tick(&g);
    out0 = g.swap_out_pages;
    in0 = g.swap_in_pages;
    for (int i = 0; i < 100; i++)
        mb_guest_tick(&g);
    out1 = g.swap_out_pages;
    in1 = g.swap_in_pages;
    /* Real static job VMs: 1070-1290 pages/s out, ~90 % of that in, with
     * ~6 MiB of its 199 MiB free. */
    g_assert_false(g.finished);
    g_assert_cmpuint((out1 - out0) / 100, >=, 1000);
    g_assert_cmpuint((out1 - out0) / 100, <=, 1350);
    g_assert_cmpuint((in1 - in0) / 100, >=, 900);
    g_assert_cmpuint(mb_guest_free_kib(&g), >=, 5 * MIB);
    g_assert_cmpuint(mb_guest_free_kib(&g), <=, 8 * MIB);
    g_assert_cmpuint(mb_guest_memtotal_kib(&g), ==, 203572);
    /* Anon read back from swap is activated (workingset refaults), but the
     * active list stays no larger than the inactive one. */
    mb_guest_sample(&g, &s);
    g_assert_cmpuint(s.active_anon_kib, >, 32 * MIB);
    g_assert_cmpuint(s.active_anon_kib, <=, s.inactive_anon_kib + 8 * MIB);
}

/* Two linux61 VMs in a full pool: at tick 20 the donor's job frees
 * 260 MiB as the needy VM's job wants 260 MiB more. */
typedef struct {
    Steer needy, donor;
    uint64_t capacity_kib, max_sum_kib, start_kib;
    uint64_t needy_kib[41]; /* the needy VM's actual balloon by tick */
    unsigned first_grow_tick;
} BalloonWatch;

#define SWAP_TICK 20u

static void
watch_balloons(const MbSimTick *t, void *user_data)
{
    BalloonWatch *w = user_data;
    uint64_t sum = 0;

    for (size_t i = 0; i < t->n_vms; i++)
        sum += t->guests[i].alloc_kib;
    if (sum > w->max_sum_kib)
        w->max_sum_kib = sum;
    if (t->tick == SWAP_TICK) {
        w->needy.anon_kib += 260 * MIB;
        w->donor.anon_kib -= 260 * MIB;
    }
    if (w->first_grow_tick == 0 && t->tick > SWAP_TICK && t->vms[0].target_kib > w->start_kib)
        w->first_grow_tick = t->tick;
    if (t->tick < G_N_ELEMENTS(w->needy_kib))
        w->needy_kib[t->tick] = t->guests[0].alloc_kib;
}

static void
test_linux61_grow_waits_for_donor(void)
{
    BalloonWatch w = {
        .needy = {.anon_kib = 150 * MIB, .hot_kib = 8 * MIB},
        .donor = {.anon_kib = 300 * MIB, .hot_kib = 8 * MIB},
    };
    MbWorkload needy = steered_workload(&w.needy, 20 * MIB);
    MbWorkload donor = steered_workload(&w.donor, 20 * MIB);
    MbScenarioVm vms[2] = {
        {.name = "needy",
         .workload = &needy,
         .settings =
             {.priority = 60, .foreground = true, .min_kib = 128 * MIB, .max_kib = 512 * MIB},
         .alloc_kib = 192 * MIB,
         .model = &mb_guest_model_linux61},
        {.name = "donor",
         .workload = &donor,
         .settings = {.priority = 40, .min_kib = 64 * MIB, .max_kib = 512 * MIB},
         .alloc_kib = 320 * MIB,
         .model = &mb_guest_model_linux61},
    };
    MbScenario sc = {.name = "grow-waits", .pool_kib = 512 * MIB, .n_vms = 2, .vms = vms};
    char err[256];
    MbSimConfig cfg;
    MbSimResult r;
    unsigned arrived = 0;

    mb_sim_config_init(&cfg);
    cfg.policy = MB_SIM_BALANCED;
    cfg.max_ticks = G_N_ELEMENTS(w.needy_kib) - 1;
    cfg.on_tick = watch_balloons;
    cfg.user_data = &w;
    w.capacity_kib = mb_scenario_capacity_kib(&sc);
    w.start_kib = vms[0].alloc_kib;
    g_assert_true(mb_sim_run(&sc, &cfg, &r, err, sizeof(err)));
    /* Arrived: it holds the 140 MiB its need called for (its headroom,
     * served from the donor's surplus once the need is met, comes on top
     * later: the final allocation is not the mark). */
    for (unsigned t = SWAP_TICK; t < G_N_ELEMENTS(w.needy_kib) && arrived == 0; t++)
        if (w.needy_kib[t] >= w.start_kib + 140 * MIB)
            arrived = t;
    /* The donor's balloon inflates at ~43 MiB/s while the needy VM's would
     * deflate at 160 MiB/s: growth waits for what the donor has released,
     * so the balloons never hold more than the pool, and the needy VM still
     * has all it was planned within a few ticks. */
    g_assert_cmpuint(r.violations, ==, 0);
    g_assert_cmpuint(w.max_sum_kib, <=, w.capacity_kib);
    g_assert_cmpuint(r.vms[0].final_alloc_kib, >=, w.start_kib + 140 * MIB);
    g_assert_cmpuint(w.first_grow_tick, >, SWAP_TICK);
    g_assert_cmpuint(arrived, >, SWAP_TICK);
    g_assert_cmpuint(arrived - w.first_grow_tick, <=, 6);
    mb_sim_result_clear(&r);
}

static void
run_bench(const char *name, MbSimPolicy policy, MbSimResult *r)
{
    char err[256];
    MbScenario *sc = mb_scenario_new(name, 1, err, sizeof(err));
    MbSimConfig cfg;

    g_assert_nonnull(sc);
    mb_sim_config_init(&cfg);
    cfg.policy = policy;
    g_assert_true(mb_sim_run(sc, &cfg, r, err, sizeof(err)));
    g_assert_cmpuint(r->violations, ==, 0);
    mb_scenario_free(sc);
}

static void
test_bench_scenarios(void)
{
    const char *names[] = {"bench-table3", "bench-fig2"};

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        MbSimResult st, bal, pap;
        uint64_t sum_max = 0;

        run_bench(names[i], MB_SIM_STATIC, &st);
        run_bench(names[i], MB_SIM_BALANCED, &bal);
        run_bench(names[i], MB_SIM_PAPER, &pap);
        g_assert_cmpuint(st.n_vms, ==, i == 0 ? 3 : 2);
        g_assert_cmpstr(st.vms[0].workload, ==, "bench-job");
        /* Static: the job thrashes until the benchmark's cap (30 s delay +
         * ~363 s), swapping out within 30 % of the real 1612-1741 MiB. */
        g_assert_cmpuint(st.ticks, ==, 393);
        g_assert_false(st.vms[0].finished);
        g_assert_cmpuint(st.vms[0].swap_out_kib, >=, 1220 * MIB);
        g_assert_cmpuint(st.vms[0].swap_out_kib, <=, 2090 * MIB);
        for (size_t v = 1; v < st.n_vms; v++)
            g_assert_cmpuint(st.vms[v].swap_out_kib, ==, 0);
        /* Balanced: the job finishes near the real 14.6-16.9 s, all but
         * unswapped, and nobody leaves [min, max] or the pool. */
        g_assert_true(bal.vms[0].finished);
        g_assert_cmpuint(bal.vms[0].runtime_s, <=, 25);
        g_assert_cmpuint(bal.vms[0].swap_out_kib, <=, 16 * MIB);
        g_assert_cmpuint(bal.vms[0].alloc_max_kib, >, 256 * MIB);
        g_assert_cmpuint(bal.vms[0].alloc_max_kib, <=, 640 * MIB);
        for (size_t v = 0; v < bal.n_vms; v++)
            sum_max += bal.vms[v].final_alloc_kib;
        g_assert_cmpuint(sum_max, <=, (i == 0 ? 768 : 512) * MIB);
        /* Paper: grows the job late (its dM sees only the active list), so
         * it swaps during the growth: within 30 % of the real 66-82 MiB. */
        g_assert_cmpuint(pap.vms[0].swap_out_kib, >, bal.vms[0].swap_out_kib);
        g_assert_cmpuint(pap.vms[0].swap_out_kib, >=, 46 * MIB);
        g_assert_cmpuint(pap.vms[0].swap_out_kib, <=, 106 * MIB);
        g_assert_true(pap.vms[0].finished);
        mb_sim_result_clear(&st);
        mb_sim_result_clear(&bal);
        mb_sim_result_clear(&pap);
    }
}

/* bench-contention: two apps (a foreground job, then a game) beside the
 * video and web VMs in a 1 GiB pool. */
typedef struct {
    uint64_t pool_kib, max_plan_kib, max_actual_kib;
    unsigned foreground_from; /* first tick with vm1-job in the foreground */
} ContentionWatch;

static void
watch_contention(const MbSimTick *t, void *user_data)
{
    ContentionWatch *w = user_data;
    uint64_t plan = 0, actual = 0;

    for (size_t i = 0; i < t->n_vms; i++) {
        plan += t->vms[i].target_kib;
        actual += t->guests[i].alloc_kib;
        if (i > 0)
            g_assert_false(t->vms[i].settings.foreground);
    }
    w->max_plan_kib = MAX(w->max_plan_kib, plan);
    w->max_actual_kib = MAX(w->max_actual_kib, actual);
    if (w->foreground_from == 0 && t->vms[0].settings.foreground)
        w->foreground_from = t->tick;
    if (w->foreground_from != 0)
        g_assert_true(t->vms[0].settings.foreground);
}

static void
test_bench_contention(void)
{
    const MbSimPolicy policies[] = {MB_SIM_BALANCED, MB_SIM_PAPER};
    const char *const args[] = {"--scenario", "bench-contention", "--policy", "all", NULL};
    const char *const json[] = {"--scenario", "bench-contention", "--json", NULL};
    g_autofree char *out = NULL, *err_out = NULL, *json_out = NULL;
    char err[256];
    MbScenario *sc = mb_scenario_new("bench-contention", 1, err, sizeof(err));

    g_assert_nonnull(sc);
    g_assert_cmpuint(sc->n_vms, ==, 4);
    g_assert_cmpuint(sc->pool_kib, ==, 1024 * MIB);
    g_assert_cmpstr(sc->vms[3].name, ==, "vm4-game");
    for (size_t p = 0; p < G_N_ELEMENTS(policies); p++) {
        ContentionWatch w = {.pool_kib = sc->pool_kib};
        MbSimConfig cfg;
        MbSimResult r;

        mb_sim_config_init(&cfg);
        cfg.policy = policies[p];
        cfg.on_tick = watch_contention;
        cfg.user_data = &w;
        g_assert_true(mb_sim_run(sc, &cfg, &r, err, sizeof(err)));
        g_assert_cmpuint(r.violations, ==, 0);
        /* The shell's SetForeground: before the job's last idle tick's plan. */
        g_assert_cmpuint(w.foreground_from, ==, 30);
        /* Both apps finish, no faster than their work (28.2 s, 12.3 s). */
        g_assert_cmpstr(r.vms[0].workload, ==, "bench-job-2000");
        g_assert_cmpstr(r.vms[3].workload, ==, "bench-game");
        g_assert_true(r.vms[0].finished);
        g_assert_true(r.vms[3].finished);
        g_assert_cmpuint(r.vms[0].runtime_s, >=, 28);
        g_assert_cmpuint(r.vms[3].runtime_s, >=, 12);
        /* Neither the plans nor the balloons ever hold more than the pool. */
        g_assert_cmpuint(w.max_plan_kib, <=, w.pool_kib);
        g_assert_cmpuint(w.max_actual_kib, <=, w.pool_kib);
        g_assert_cmpuint(r.max_sum_kib, ==, w.max_actual_kib);
        for (size_t v = 0; v < r.n_vms; v++)
            g_assert_cmpuint(r.vms[v].alloc_max_kib, <=, sc->vms[v].settings.max_kib);
        mb_sim_result_clear(&r);
    }
    mb_scenario_free(sc);

    /* The CLI names every VM, with the game's runtime, in text and JSON. */
    g_assert_cmpint(run_cli(args, &out, &err_out), ==, 0);
    g_assert_nonnull(strstr(out, "every VM: swap-out"));
    g_assert_nonnull(strstr(out, "vm4-game"));
    g_assert_cmpint(run_cli(json, &json_out, NULL), ==, 0);
    g_assert_nonnull(strstr(json_out, "{\"name\":\"vm4-game\",\"workload\":\"bench-game\","));
    g_assert_nonnull(strstr(strstr(json_out, "vm4-game"), "\"runtime_s\":"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/sim/guest/reclaim-order", test_guest_reclaim_order);
    g_test_add_func("/sim/guest/balloon-shrink-cache", test_guest_balloon_shrink_cache);
    g_test_add_func("/sim/guest/growth-swaps", test_guest_growth_swaps);
    g_test_add_func("/sim/guest/swapping-slows", test_guest_swapping_slows);
    g_test_add_func("/sim/guest/counters-monotonic", test_guest_counters_monotonic);
    g_test_add_func("/sim/guest/idle", test_guest_idle);
    g_test_add_func("/sim/guest/linux61-new-anon-inactive", test_linux61_new_anon_inactive);
    g_test_add_func("/sim/guest/linux61-balloon-travel", test_linux61_balloon_travel);
    g_test_add_func("/sim/guest/linux61-thrashing-rate", test_linux61_thrashing_rate);
    g_test_add_func("/sim/workloads", test_workloads);
    g_test_add_func("/sim/scenario/names", test_scenario_names);
    g_test_add_func("/sim/invariants/random", test_invariants_random);
    g_test_add_data_func("/sim/paper/gcc", "paper3-gcc", test_paper_job);
    g_test_add_data_func("/sim/paper/milc", "paper3-milc", test_paper_job);
    g_test_add_data_func("/sim/paper/game", "paper3-game", test_paper_job);
    g_test_add_func("/sim/paper/h264ref", test_paper_h264ref);
    g_test_add_func("/sim/paper/paper2", test_paper2);
    g_test_add_func("/sim/bench/scenarios", test_bench_scenarios);
    g_test_add_func("/sim/bench/contention", test_bench_contention);
    g_test_add_func("/sim/bench/grow-waits-for-donor", test_linux61_grow_waits_for_donor);
    g_test_add_func("/sim/trace/shipped", test_trace_shipped);
    g_test_add_func("/sim/trace/malformed", test_trace_malformed);
    g_test_add_func("/sim/determinism", test_determinism);
    g_test_add_func("/sim/cli/bad-input", test_cli_bad_input);
    g_test_add_func("/sim/cli/outputs", test_cli_outputs);
    return g_test_run();
}
