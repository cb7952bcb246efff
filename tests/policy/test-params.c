/* Unit tests of the policy library's parameters and names (mb-params.c). */
#include "mb-test-policy.h"

#include <glib.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void
test_names(void)
{
    MbPolicyKind k = MB_POLICY_STATIC;

    for (unsigned i = 0; i < MB_POLICY_N; i++) {
        g_assert_true(mb_policy_kind_from_string(mb_policy_kind_to_string(i), &k));
        g_assert_cmpint(k, ==, i);
    }
    g_assert_false(mb_policy_kind_from_string("random", &k));
    g_assert_false(mb_policy_kind_from_string(NULL, &k));
    g_assert_cmpstr(mb_policy_kind_to_string(MB_POLICY_N), ==, "unknown");
    g_assert_cmpstr(mb_reason_to_string(MB_REASON_NEED), ==, "demand above reclaimable");
    /* Appended: the existing values keep their numbers. */
    g_assert_cmpint(MB_REASON_MOM_GROW, ==, 6);
    g_assert_cmpint(MB_REASON_SILENT, ==, 7);
    g_assert_nonnull(strstr(mb_reason_to_string(MB_REASON_SILENT), "fair share"));
    /* The keywords are the D-Bus API's LastReason values (docs/dbus-api.md). */
    {
        static const char *const keywords[] = {"none",       "need",     "donate", "min", "max",
                                               "mom-shrink", "mom-grow", "silent", "cold"};
        for (unsigned i = 0; i < G_N_ELEMENTS(keywords); i++) {
            g_assert_cmpstr(mb_reason_to_keyword(i), ==, keywords[i]);
            g_assert_nonnull(mb_reason_to_string(i));
            g_assert_cmpstr(mb_reason_to_string(i), !=, "unknown");
        }
        g_assert_cmpstr(mb_reason_to_keyword(G_N_ELEMENTS(keywords)), ==, "unknown");
        g_assert_cmpstr(mb_reason_to_string(G_N_ELEMENTS(keywords)), ==, "unknown");
    }
}

static void
test_params(void)
{
    MbParams p;
    const char *why = NULL;

    mb_params_init(&p);
    g_assert_cmpint(p.kind, ==, MB_POLICY_BALANCED);
    g_assert_cmpfloat(p.alpha, ==, 0.75);
    g_assert_cmpuint(p.min_step_kib, ==, 4 * MIB);
    g_assert_true(mb_params_validate(&p, &why));
    p.alpha = 0.0;
    g_assert_false(mb_params_validate(&p, &why));
    g_assert_nonnull(strstr(why, "alpha"));
    p.alpha = NAN;
    g_assert_false(mb_params_validate(&p, &why));
    p.alpha = 1.0;
    g_assert_true(mb_params_validate(&p, &why));
    p.pool_kib = 100;
    p.reserve_kib = 200;
    g_assert_false(mb_params_validate(&p, &why));
    g_assert_nonnull(strstr(why, "reserve"));
    p.reserve_kib = 40;
    g_assert_cmpuint(mb_params_capacity_kib(&p), ==, 60);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/policy/names", test_names);
    g_test_add_func("/policy/params", test_params);
    return g_test_run();
}
