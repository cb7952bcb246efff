/* Unit tests of oVirt MOM's rules (mb-planner-mom.c). */
#include "mb-test-policy.h"

#include <glib.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static MbVm
mom_vm(const char *name, uint64_t cur_kib, uint64_t free_kib)
{
    MbVm vm;
    MbParams p = params_for(MB_POLICY_MOM, 0);
    MbSample s = sample(cur_kib, free_kib, cur_kib - free_kib, 0, 0, 0);

    vm_setup(&vm, name, 50, cur_kib);
    vm.settings.max_kib = 600 * MIB;
    mb_vm_observe(&vm, &s, &p);
    return vm;
}

static void
test_plan_mom(void)
{
    MbPlanner *pl = mb_planner_new(2, 1);
    MbParams p = params_for(MB_POLICY_MOM, 1000 * MIB);
    MbVm v[2];

    /* Host free 0 % (critical): guest free share -0.05; used 400 MiB:
     * floor = 400 - 25 = 375 MiB, but at most 5 % a tick: 475 MiB. */
    v[0] = mom_vm("a", 500 * MIB, 100 * MIB);
    v[1] = mom_vm("b", 500 * MIB, 480 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpuint(v[0].target_kib, ==, 475 * MIB);
    g_assert_cmpint(v[0].reason, ==, MB_REASON_MOM_SHRINK);
    /* b is mostly free: floor 20 - 25 < min (64 MiB): still 5 %. */
    g_assert_cmpuint(v[1].target_kib, ==, 475 * MIB);

    /* Host free 10 %: guest free share 0.20 * 0.10 / 0.20 = 0.10;
     * used 480: floor = 480 + 0.10 * 500 = 530 > cur: no shrink. */
    p.pool_kib = 1111 * MIB;
    v[0] = mom_vm("a", 500 * MIB, 20 * MIB);
    v[1] = mom_vm("b", 500 * MIB, 100 * MIB);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpuint(v[0].target_kib, ==, 500 * MIB);
    /* b: floor = 400 + 50 = 450: 5 % cap gives 475. */
    g_assert_cmpuint(v[1].target_kib, ==, 475 * MIB);

    /* Host free 50 %: grow to max(used + 20 %, +5 %), capped at max. */
    p.pool_kib = 2000 * MIB;
    v[0] = mom_vm("a", 500 * MIB, 100 * MIB);
    v[1] = mom_vm("b", 500 * MIB, 0);
    g_assert_true(mb_planner_plan(pl, v, 2, &p, NULL));
    g_assert_cmpuint(v[0].target_kib, ==, 525 * MIB);
    g_assert_cmpint(v[0].reason, ==, MB_REASON_MOM_GROW);
    g_assert_cmpuint(v[1].target_kib, ==, 600 * MIB);
    mb_planner_free(pl);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/policy/plan/mom", test_plan_mom);
    return g_test_run();
}
