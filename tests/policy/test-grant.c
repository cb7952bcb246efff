/* Tests of the grant (policy/mb-grant.h) against a fake pool whose
 * balloons travel: the pool bound, travelling and rising balloons, failed
 * shrinks, the grant order, whole pages and no dribbling, donors polled
 * again. */
#include "mb-grant.h"
#include "mb-policy.h"

#include <glib.h>

#define MIB 1024u
#define N_MAX 8

/* The guests as they really are: a balloon travels toward its target; a
 * guest lowered while its balloon still deflates toward a higher target
 * finishes that batch first (rise_kib), as a real one does. */
typedef struct {
    size_t n;
    uint64_t capacity_kib;
    uint64_t balloon_kib[N_MAX];
    uint64_t target_kib[N_MAX];
    uint64_t rise_kib[N_MAX];
    bool fail[N_MAX];
    unsigned n_set[N_MAX];
    unsigned n_get[N_MAX];
} Pool;

/* What the guests may hold now, whatever the grant believes. */
static uint64_t
pool_may_hold_kib(const Pool *p)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < p->n; i++)
        sum += MAX(MAX(p->balloon_kib[i], p->target_kib[i]), p->rise_kib[i]);
    return sum;
}

static bool
pool_set(size_t i, uint64_t kib, void *user_data)
{
    Pool *p = user_data;

    g_assert_cmpuint(i, <, p->n);
    p->n_set[i]++;
    if (p->fail[i])
        return false;
    if (kib < p->target_kib[i] && p->balloon_kib[i] < p->target_kib[i])
        p->rise_kib[i] = p->target_kib[i];
    p->target_kib[i] = kib;
    /* The bound the grant exists for, at every step. */
    g_assert_cmpuint(pool_may_hold_kib(p), <=, p->capacity_kib);
    return true;
}

static bool
pool_get(size_t i, uint64_t *now_kib, void *user_data)
{
    Pool *p = user_data;

    p->n_get[i]++;
    *now_kib = p->balloon_kib[i];
    return true;
}

/* Every balloon travels step_kib toward where it goes. */
static void
pool_travel(Pool *p, uint64_t step_kib)
{
    for (size_t i = 0; i < p->n; i++) {
        uint64_t *b = &p->balloon_kib[i];
        uint64_t to = p->rise_kib[i] > 0 ? p->rise_kib[i] : p->target_kib[i];

        if (*b < to)
            *b = MIN(*b + step_kib, to);
        else
            *b = *b > to + step_kib ? *b - step_kib : to;
        if (p->rise_kib[i] > 0 && *b == p->rise_kib[i])
            p->rise_kib[i] = 0;
    }
}

/* Adds a VM whose balloon is at balloon_kib with target_kib in force,
 * planned to want_kib. */
static void
pool_add(Pool *p, MbGrantVm *vms, const char *name, uint32_t priority, bool foreground,
         uint64_t balloon_kib, uint64_t target_kib, uint64_t want_kib)
{
    size_t i = p->n++;

    g_assert_cmpuint(p->n, <=, N_MAX);
    p->balloon_kib[i] = balloon_kib;
    p->target_kib[i] = target_kib;
    mb_grant_vm_init(&vms[i], name, priority, foreground, balloon_kib,
                     MAX(balloon_kib, target_kib), target_kib, want_kib,
                     want_kib != target_kib);
}

static void
test_grant_pool_bound(void)
{
    Pool p = {.capacity_kib = 1000 * MIB};
    MbGrantVm vms[N_MAX];
    size_t grows[N_MAX];
    MbGrant g;
    unsigned rounds = 0;

    /* Two donors giving 300 MiB slowly, two grows wanting 150 MiB each. */
    pool_add(&p, vms, "donor-a", 50, false, 300 * MIB, 300 * MIB, 150 * MIB);
    pool_add(&p, vms, "donor-b", 50, false, 300 * MIB, 300 * MIB, 150 * MIB);
    pool_add(&p, vms, "grow-a", 50, false, 200 * MIB, 200 * MIB, 350 * MIB);
    pool_add(&p, vms, "grow-b", 50, false, 200 * MIB, 200 * MIB, 350 * MIB);
    mb_grant_init(&g, vms, p.n, grows, p.capacity_kib, 4 * MIB);
    g_assert_cmpuint(g.n_grows, ==, 2);
    mb_grant_shrink(&g, pool_set, &p);
    g_assert_cmpuint(mb_grant_sum_kib(&g), ==, 1000 * MIB);
    while (!mb_grant_grow(&g, pool_set, &p)) {
        g_assert_cmpuint(mb_grant_sum_kib(&g), <=, p.capacity_kib);
        pool_travel(&p, 7 * MIB);
        mb_grant_poll(&g, pool_get, &p);
        g_assert_cmpuint(++rounds, <, 100);
    }
    g_assert_cmpuint(rounds, >, 1);
    g_assert_cmpuint(p.target_kib[2], ==, 350 * MIB);
    g_assert_cmpuint(p.target_kib[3], ==, 350 * MIB);
    g_assert_cmpuint(mb_grant_sum_kib(&g), ==, 1000 * MIB);

    /* Memory held outside the accounts is not free either. */
    g.outside_kib = 10 * MIB;
    g_assert_cmpuint(mb_grant_free_kib(&g), ==, 0);
    g.outside_kib = 0;
    g.capacity_kib = 1010 * MIB;
    g_assert_cmpuint(mb_grant_free_kib(&g), ==, 10 * MIB);
}

static void
test_grant_travelling(void)
{
    Pool p = {.capacity_kib = 1000 * MIB};
    MbGrantVm vms[N_MAX];
    size_t grows[N_MAX];
    MbGrant g;

    /* An earlier tick's donor still on its way, at 600 toward 400: it
     * counts at its balloon, and is polled as it travels. */
    pool_add(&p, vms, "donor", 50, false, 600 * MIB, 400 * MIB, 400 * MIB);
    pool_add(&p, vms, "grow", 50, false, 400 * MIB, 400 * MIB, 600 * MIB);
    mb_grant_init(&g, vms, p.n, grows, p.capacity_kib, 4 * MIB);
    g_assert_false(vms[0].move);
    g_assert_true(mb_grant_vm_travels(&vms[0]));
    g_assert_cmpuint(mb_grant_vm_counts_kib(&vms[0]), ==, 600 * MIB);
    mb_grant_shrink(&g, pool_set, &p);
    g_assert_false(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.n_set[1], ==, 0);
    pool_travel(&p, 100 * MIB);
    g_assert_true(mb_grant_poll(&g, pool_get, &p));
    g_assert_false(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.target_kib[1], ==, 500 * MIB);
    pool_travel(&p, 100 * MIB);
    g_assert_false(mb_grant_poll(&g, pool_get, &p));
    g_assert_true(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.target_kib[1], ==, 600 * MIB);
}

static void
test_grant_rising(void)
{
    Pool p = {.capacity_kib = 1000 * MIB};
    MbGrantVm vms[N_MAX];
    size_t grows[N_MAX];
    MbGrant g;

    /* An earlier tick's grow deflating from 300 toward 500, lowered to
     * 400: the guest finishes its batch first, so it counts at 500 until
     * it is seen turned. */
    pool_add(&p, vms, "rising", 50, false, 300 * MIB, 500 * MIB, 400 * MIB);
    pool_add(&p, vms, "grow", 50, false, 500 * MIB, 500 * MIB, 600 * MIB);
    g_assert_cmpuint(vms[0].rising_kib, ==, 500 * MIB);
    mb_grant_init(&g, vms, p.n, grows, p.capacity_kib, 4 * MIB);
    g_assert_true(mb_grant_is_shrink(&vms[0]));
    mb_grant_shrink(&g, pool_set, &p);
    g_assert_cmpuint(mb_grant_vm_counts_kib(&vms[0]), ==, 500 * MIB);
    g_assert_false(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.n_set[1], ==, 0);
    /* Still rising: nothing yet. */
    pool_travel(&p, 150 * MIB);
    g_assert_true(mb_grant_poll(&g, pool_get, &p));
    g_assert_cmpuint(vms[0].rising_kib, ==, 500 * MIB);
    g_assert_false(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.n_set[1], ==, 0);
    /* Reached its old target: from now on it only gives. */
    pool_travel(&p, 50 * MIB);
    g_assert_true(mb_grant_poll(&g, pool_get, &p));
    g_assert_cmpuint(vms[0].rising_kib, ==, 0);
    pool_travel(&p, 60 * MIB);
    g_assert_true(mb_grant_poll(&g, pool_get, &p));
    g_assert_false(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.target_kib[1], ==, 560 * MIB);
    pool_travel(&p, 60 * MIB);
    mb_grant_poll(&g, pool_get, &p);
    g_assert_true(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.target_kib[1], ==, 600 * MIB);

    /* A rising balloon seen turning (lower than last seen) stops counting
     * at its old target at once. */
    mb_grant_vm_init(&vms[0], "rising", 50, false, 300 * MIB, 500 * MIB, 500 * MIB, 400 * MIB,
                     true);
    mb_grant_vm_seen(&vms[0], 290 * MIB);
    g_assert_cmpuint(vms[0].rising_kib, ==, 0);
    g_assert_cmpuint(mb_grant_vm_counts_kib(&vms[0]), ==, 500 * MIB);
    /* A donor's count never goes up with what it reports. */
    mb_grant_vm_init(&vms[0], "donor", 50, false, 600 * MIB, 600 * MIB, 400 * MIB, 400 * MIB,
                     false);
    mb_grant_vm_seen(&vms[0], 650 * MIB);
    g_assert_cmpuint(vms[0].actual_kib, ==, 600 * MIB);
}

static void
test_grant_failed_shrink(void)
{
    Pool p = {.capacity_kib = 1000 * MIB};
    MbGrantVm vms[N_MAX];
    size_t grows[N_MAX];
    MbGrant g;

    pool_add(&p, vms, "donor", 50, false, 500 * MIB, 500 * MIB, 300 * MIB);
    pool_add(&p, vms, "grow", 50, false, 500 * MIB, 500 * MIB, 700 * MIB);
    p.fail[0] = true;
    mb_grant_init(&g, vms, p.n, grows, p.capacity_kib, 4 * MIB);
    mb_grant_shrink(&g, pool_set, &p);
    g_assert_true(vms[0].failed);
    g_assert_false(vms[0].changed);
    /* Its memory stays taken: the grow gets nothing. */
    g_assert_cmpuint(mb_grant_vm_counts_kib(&vms[0]), ==, 500 * MIB);
    g_assert_false(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.n_set[1], ==, 0);
    g_assert_false(mb_grant_poll(&g, pool_get, &p));
    g_assert_cmpuint(p.n_get[0], ==, 0);

    /* A grow that fails is not asked again, and takes nothing. */
    p = (Pool){.capacity_kib = 1200 * MIB};
    pool_add(&p, vms, "grow-a", 60, false, 500 * MIB, 500 * MIB, 600 * MIB);
    pool_add(&p, vms, "grow-b", 50, false, 500 * MIB, 500 * MIB, 600 * MIB);
    p.fail[0] = true;
    mb_grant_init(&g, vms, p.n, grows, p.capacity_kib, 4 * MIB);
    g_assert_true(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.target_kib[1], ==, 600 * MIB);
    g_assert_true(vms[0].failed);
    g_assert_true(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.n_set[0], ==, 1);
}

static void
test_grant_order(void)
{
    Pool p = {.capacity_kib = 1000 * MIB};
    MbGrantVm vms[N_MAX];
    size_t grows[N_MAX];
    MbGrant g;

    /* 100 MiB free, five grows of 100 MiB each. */
    pool_add(&p, vms, "e-low", 40, true, 180 * MIB, 180 * MIB, 280 * MIB);
    pool_add(&p, vms, "d-high", 60, false, 180 * MIB, 180 * MIB, 280 * MIB);
    pool_add(&p, vms, "c-high-fg", 60, true, 180 * MIB, 180 * MIB, 280 * MIB);
    pool_add(&p, vms, "b-high", 60, false, 180 * MIB, 180 * MIB, 280 * MIB);
    pool_add(&p, vms, "a-mid", 50, false, 180 * MIB, 180 * MIB, 280 * MIB);
    mb_grant_init(&g, vms, p.n, grows, p.capacity_kib, 4 * MIB);
    g_assert_cmpuint(g.n_grows, ==, 5);
    g_assert_cmpuint(grows[0], ==, 2); /* priority, then foreground */
    g_assert_cmpuint(grows[1], ==, 3); /* then by name */
    g_assert_cmpuint(grows[2], ==, 1);
    g_assert_cmpuint(grows[3], ==, 4);
    g_assert_cmpuint(grows[4], ==, 0);
    g_assert_false(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.target_kib[2], ==, 280 * MIB);
    for (size_t i = 0; i < p.n; i++)
        g_assert_cmpuint(p.n_set[i], ==, i == 2);
}

static void
test_grant_whole_pages(void)
{
    Pool p = {.capacity_kib = 1000 * MIB + 4 * MIB + 3};
    MbGrantVm vms[N_MAX];
    size_t grows[N_MAX];
    MbGrant g;

    /* 4 MiB + 3 KiB free: a part is whole balloon pages, 4 MiB. */
    pool_add(&p, vms, "grow", 50, false, 500 * MIB, 500 * MIB, 600 * MIB);
    pool_add(&p, vms, "other", 50, false, 500 * MIB, 500 * MIB, 500 * MIB);
    mb_grant_init(&g, vms, p.n, grows, p.capacity_kib, 4 * MIB);
    g_assert_false(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.target_kib[0], ==, 504 * MIB);
    g_assert_cmpuint(p.target_kib[0] % MB_BALLOON_PAGE_KIB, ==, 0);

    /* Less than a step free: nothing is set (no dribbling) ... */
    p.capacity_kib = g.capacity_kib += 3 * MIB;
    g_assert_false(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.n_set[0], ==, 1);
    g_assert_cmpuint(p.target_kib[0], ==, 504 * MIB);
    /* ... but the last part of a grow is set whatever its size. */
    p.capacity_kib = g.capacity_kib = 1100 * MIB;
    vms[0].want_kib = 505 * MIB + 2;
    g_assert_true(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.target_kib[0], ==, 505 * MIB + 2);
}

static void
test_grant_poll_frees(void)
{
    Pool p = {.capacity_kib = 1000 * MIB};
    MbGrantVm vms[N_MAX];
    size_t grows[N_MAX];
    MbGrant g;
    uint64_t before_kib;

    pool_add(&p, vms, "donor", 50, false, 500 * MIB, 500 * MIB, 400 * MIB);
    pool_add(&p, vms, "grow", 50, false, 400 * MIB, 400 * MIB, 500 * MIB);
    pool_add(&p, vms, "still", 50, false, 100 * MIB, 100 * MIB, 100 * MIB);
    mb_grant_init(&g, vms, p.n, grows, p.capacity_kib, 4 * MIB);
    mb_grant_shrink(&g, pool_set, &p);
    g_assert_true(vms[0].changed);
    /* Asked, not released: not free. */
    g_assert_cmpuint(mb_grant_free_kib(&g), ==, 0);
    g_assert_false(mb_grant_grow(&g, pool_set, &p));
    before_kib = mb_grant_sum_kib(&g);
    pool_travel(&p, 40 * MIB);
    g_assert_true(mb_grant_poll(&g, pool_get, &p));
    g_assert_cmpuint(mb_grant_sum_kib(&g), ==, before_kib - 40 * MIB);
    /* Only a travelling balloon is asked. */
    g_assert_cmpuint(p.n_get[0], ==, 1);
    g_assert_cmpuint(p.n_get[1], ==, 0);
    g_assert_cmpuint(p.n_get[2], ==, 0);
    g_assert_false(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.target_kib[1], ==, 440 * MIB);
    pool_travel(&p, 60 * MIB);
    g_assert_false(mb_grant_poll(&g, pool_get, &p));
    g_assert_true(mb_grant_grow(&g, pool_set, &p));
    g_assert_cmpuint(p.target_kib[1], ==, 500 * MIB);
    /* Within the slack of its target a balloon has arrived: not asked. */
    mb_grant_vm_seen(&vms[0], 400 * MIB + MB_GRANT_ARRIVED_SLACK_KIB);
    g_assert_false(mb_grant_vm_travels(&vms[0]));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/policy/grant/pool-bound", test_grant_pool_bound);
    g_test_add_func("/policy/grant/travelling", test_grant_travelling);
    g_test_add_func("/policy/grant/rising", test_grant_rising);
    g_test_add_func("/policy/grant/failed-shrink", test_grant_failed_shrink);
    g_test_add_func("/policy/grant/order", test_grant_order);
    g_test_add_func("/policy/grant/whole-pages", test_grant_whole_pages);
    g_test_add_func("/policy/grant/poll-frees", test_grant_poll_frees);
    return g_test_run();
}
