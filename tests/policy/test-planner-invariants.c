/* The planner's guarantees over random inputs, its errors, and no
 * allocation per tick. */
#include "mb-test-policy.h"

#include <glib.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Counts the allocations made by the code linked into this binary (the
 * policy library included), through -Wl,--wrap. */
static gsize n_allocs;
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);

void *
__wrap_malloc(size_t size)
{
    n_allocs++;
    return __real_malloc(size);
}

void *
__wrap_calloc(size_t n, size_t size)
{
    n_allocs++;
    return __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t size)
{
    n_allocs++;
    return __real_realloc(p, size);
}

static void
test_plan_static_and_errors(void)
{
    MbParams p = params_for(MB_POLICY_STATIC, 1024 * MIB);
    MbPlanner *pl = mb_planner_new(2, 1);
    MbVm v[3];
    size_t moved = 99;

    vm_setup(&v[0], "needy", 50, 512 * MIB);
    vm_setup(&v[1], "donor", 50, 512 * MIB);
    vm_setup(&v[2], "extra", 50, 512 * MIB);
    vm_predict(&v[0], 30 * MIB, 0);
    vm_predict(&v[1], 0, 100 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, &moved));
    g_assert_cmpuint(moved, ==, 0);
    /* More VMs than the planner was made for, or bad params: refused. */
    p.kind = MB_POLICY_BALANCED;
    g_assert_false(mb_planner_plan(pl, v, 3, &p, &moved));
    g_assert_cmpuint(moved, ==, 0);
    p.alpha = 2.0;
    g_assert_false(mb_planner_plan(pl, v, 2, &p, &moved));
    g_assert_false(mb_planner_plan(NULL, v, 2, &p, &moved));
    p.alpha = 0.75;
    g_assert_true(mb_planner_plan(pl, v, 0, &p, &moved));
    mb_planner_free(pl);
    mb_planner_free(NULL);
}

/* Random VMs with random (hostile) samples under every policy: at every
 * tick the sum stays within the capacity, each VM within min/max, and no
 * VM moves by less than the step except to restore its min/max. */
static void
test_plan_invariants_random(void)
{
    enum { MAX_VMS = 40, TICKS = 200 };

    for (guint32 seed = 1; seed <= 40; seed++) {
        g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
        MbParams p = params_for((MbPolicyKind)(seed % MB_POLICY_N), 0);
        size_t n = (size_t)g_rand_int_range(rand, 1, MAX_VMS + 1);
        MbPlanner *pl = mb_planner_new(n, seed);
        MbVm v[MAX_VMS];
        MbSample s[MAX_VMS];
        int outage[MAX_VMS] = {0}; /* ticks left without samples (silent) */
        uint64_t sum = 0;

        p.alpha = g_rand_double_range(rand, 0.05, 1.0);
        p.min_step_kib = (uint64_t)g_rand_int_range(rand, 1, 16) * MIB;
        for (size_t i = 0; i < n; i++) {
            MbVmSettings set = {
                .priority = (unsigned)g_rand_int_range(rand, 0, 101),
                .foreground = i == 0,
                .min_kib = (uint64_t)g_rand_int_range(rand, 64, 256) * MIB,
            };
            set.max_kib = set.min_kib + (uint64_t)g_rand_int_range(rand, 0, 2048) * MIB;
            uint64_t alloc = set.min_kib + (set.max_kib - set.min_kib) / 2;
            char name[16];
            g_snprintf(name, sizeof(name), "vm%02zu", i);
            mb_vm_init(&v[i], name, &set, alloc);
            memset(&s[i], 0, sizeof(s[i]));
            sum += alloc;
        }
        p.pool_kib = sum + (uint64_t)g_rand_int_range(rand, 0, 512) * MIB;
        p.reserve_kib = (uint64_t)g_rand_int_range(rand, 0, 64) * MIB;

        for (int t = 0; t < TICKS; t++) {
            uint64_t cap = mb_params_capacity_kib(&p), before = 0, after = 0;

            for (size_t i = 0; i < n; i++) {
                MbSample *x = &s[i];
                uint64_t a = v[i].alloc_kib;
                x->total_kib = g_rand_int_range(rand, 0, 20) == 0 ? UINT64_MAX : a;
                x->free_kib = (uint64_t)(g_rand_double(rand) * (double)a * 0.5);
                x->active_anon_kib = (uint64_t)(g_rand_double(rand) * (double)a * 0.6);
                x->active_file_kib = (uint64_t)(g_rand_double(rand) * (double)a * 0.2);
                x->inactive_file_kib = (uint64_t)(g_rand_double(rand) * (double)a * 0.4);
                x->swap_out_pages += (uint64_t)g_rand_int_range(rand, 0, 3) *
                                     (uint64_t)g_rand_int_range(rand, 0, 5000);
                if (g_rand_int_range(rand, 0, 100) == 0)
                    x->swap_out_pages = 0; /* reboot */
                if (outage[i] == 0 && g_rand_int_range(rand, 0, 15) == 0)
                    outage[i] = g_rand_int_range(rand, 1, 12);
                if (outage[i] > 0)
                    outage[i]--;
                mb_vm_observe(
                    &v[i], outage[i] > 0 || g_rand_int_range(rand, 0, 10) == 0 ? NULL : x, &p);
                before += v[i].alloc_kib;
            }
            g_assert_true(mb_planner_plan(pl, v, n, &p, NULL));
            for (size_t i = 0; i < n; i++) {
                uint64_t d = v[i].target_kib > v[i].alloc_kib
                                 ? v[i].target_kib - v[i].alloc_kib
                                 : v[i].alloc_kib - v[i].target_kib;
                if (p.kind != MB_POLICY_STATIC) {
                    g_assert_cmpuint(v[i].target_kib, >=, v[i].settings.min_kib);
                    g_assert_cmpuint(v[i].target_kib, <=, v[i].settings.max_kib);
                }
                if (d > 0 && v[i].reason != MB_REASON_MIN && v[i].reason != MB_REASON_MAX)
                    g_assert_cmpuint(d, >=, p.min_step_kib);
                /* A silent VM is only raised to restore its min. */
                if ((p.kind == MB_POLICY_PAPER || p.kind == MB_POLICY_BALANCED) &&
                    v[i].silent_ticks >= MB_SILENT_TICKS && v[i].reason != MB_REASON_MIN)
                    g_assert_cmpuint(v[i].target_kib, <=, v[i].alloc_kib);
                after += v[i].target_kib;
                v[i].alloc_kib = v[i].target_kib;
            }
            g_assert_true(after <= cap || after <= before);
            /* Now and then the capacity shrinks under the allocations. */
            if (g_rand_int_range(rand, 0, 50) == 0)
                p.pool_kib = p.pool_kib * 9 / 10, p.reserve_kib = 0;
        }
        mb_planner_free(pl);
    }
}

/* The per-tick path allocates nothing. */
static void
test_no_allocation_per_tick(void)
{
    enum { N = 64 };
    MbParams p = params_for(MB_POLICY_BALANCED, N * 512 * MIB);
    MbPlanner *pl = mb_planner_new(N, 7);
    static MbVm v[N];
    gsize before;

    for (int i = 0; i < N; i++) {
        char name[16];
        g_snprintf(name, sizeof(name), "vm%d", i);
        vm_setup(&v[i], name, (unsigned)(i % 7) * 10, 512 * MIB);
    }
    before = n_allocs;
    for (int t = 0; t < 100; t++) {
        for (int kind = 0; kind < MB_POLICY_N; kind++) {
            p.kind = (MbPolicyKind)kind;
            for (int i = 0; i < N; i++) {
                MbSample s = sample(512 * MIB, (uint64_t)(i * 3 % 200) * MIB,
                                    (uint64_t)((i + t) % 300) * MIB, 10 * MIB,
                                    (uint64_t)(i % 100) * MIB, (uint64_t)t * (uint64_t)i);
                mb_vm_observe(&v[i], &s, &p);
            }
            g_assert_true(mb_planner_plan(pl, v, N, &p, NULL));
        }
    }
    g_assert_cmpuint(n_allocs, ==, before);
    mb_planner_free(pl);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/policy/plan/static-and-errors", test_plan_static_and_errors);
    g_test_add_func("/policy/plan/invariants-random", test_plan_invariants_random);
    g_test_add_func("/policy/plan/no-allocation-per-tick", test_no_allocation_per_tick);
    return g_test_run();
}
