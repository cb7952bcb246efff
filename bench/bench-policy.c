/* Planner cost per tick for 8, 64 and 1,000 VMs, each policy against the
 * `static` baseline (which only resets the targets) in the same run.
 * Prints medians over repeated runs. Run on demand:
 *   build/bench/bench-policy [--runs N] [--ticks N]
 */
#include "mb-policy.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (UINT64_C(1024))
#define N_SAMPLES 64 /* distinct sample sets cycled through */

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* A TV-like mix: about one VM in ten is growing (needy), the rest hold
 * page cache they can give. */
static void
make_samples(MbSample *s, size_t n, GRand *rand)
{
    for (size_t k = 0; k < N_SAMPLES; k++) {
        for (size_t i = 0; i < n; i++) {
            MbSample *x = &s[k * n + i];
            bool needy = g_rand_int_range(rand, 0, 10) == 0;
            memset(x, 0, sizeof(*x));
            x->total_kib = 512 * MIB;
            x->active_anon_kib =
                (uint64_t)g_rand_int_range(rand, 100, 300) * MIB + (needy ? k * 8 * MIB : 0);
            x->active_file_kib = 20 * MIB;
            x->inactive_file_kib = needy ? 0 : (uint64_t)g_rand_int_range(rand, 20, 150) * MIB;
            x->free_kib = needy ? 10 * MIB : (uint64_t)g_rand_int_range(rand, 51, 60) * MIB;
            x->swap_out_pages = needy ? k * 1000 : 0;
        }
    }
}

static double
run_once(MbPolicyKind kind, size_t n, unsigned ticks, const MbSample *samples,
         bool with_observe)
{
    MbParams p;
    MbPlanner *pl = mb_planner_new(n, 42);
    MbVm *vms = calloc(n, sizeof(*vms));
    gint64 t0, t1;

    mb_params_init(&p);
    p.kind = kind;
    p.pool_kib = n * 512 * MIB;
    for (size_t i = 0; i < n; i++) {
        MbVmSettings set = {
            .priority = (unsigned)(i % 11) * 10, .min_kib = 128 * MIB, .max_kib = 1536 * MIB};
        char name[32];
        g_snprintf(name, sizeof(name), "vm-%04zu", i);
        mb_vm_init(&vms[i], name, &set, 512 * MIB);
    }
    /* Warm up the predictor so every VM has a prediction. */
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < n; i++)
            mb_vm_observe(&vms[i], &samples[k * n + i], &p);

    t0 = g_get_monotonic_time();
    for (unsigned t = 0; t < ticks; t++) {
        const MbSample *set = &samples[(t % N_SAMPLES) * n];
        if (with_observe)
            for (size_t i = 0; i < n; i++)
                mb_vm_observe(&vms[i], &set[i], &p);
        mb_planner_plan(pl, vms, n, &p, NULL);
    }
    t1 = g_get_monotonic_time();
    free(vms);
    mb_planner_free(pl);
    return (double)(t1 - t0) * 1000.0 / ticks; /* ns per tick */
}

int
main(int argc, char **argv)
{
    static const size_t sizes[] = {8, 64, 1000};
    int runs = 9;
    unsigned ticks = 0;
    g_autoptr(GRand) rand = g_rand_new_with_seed(1);

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--ticks") == 0 && i + 1 < argc)
            ticks = (unsigned)atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--runs N] [--ticks N]\n", argv[0]);
            return 2;
        }
    }
    if (runs < 1 || runs > 1000) {
        fprintf(stderr, "bench-policy: --runs must be 1..1000\n");
        return 2;
    }

    printf("planner cost per tick, median of %d runs (ns; 'observe+plan' also feeds "
           "every VM's sample)\n",
           runs);
    printf("%6s  %-9s %14s %14s\n", "VMs", "policy", "plan", "observe+plan");
    for (size_t si = 0; si < G_N_ELEMENTS(sizes); si++) {
        size_t n = sizes[si];
        unsigned t = ticks ? ticks : (unsigned)(200000 / n + 100);
        MbSample *samples = calloc(N_SAMPLES * n, sizeof(*samples));

        make_samples(samples, n, rand);
        for (int kind = 0; kind < MB_POLICY_N; kind++) {
            double plan_ns[1000], full_ns[1000];
            for (int r = 0; r < runs; r++) {
                plan_ns[r] = run_once((MbPolicyKind)kind, n, t, samples, false);
                full_ns[r] = run_once((MbPolicyKind)kind, n, t, samples, true);
            }
            printf("%6zu  %-9s %14.0f %14.0f%s\n", n, mb_policy_kind_to_string(kind),
                   median(plan_ns, runs), median(full_ns, runs),
                   kind == MB_POLICY_STATIC ? "  (baseline)" : "");
        }
        free(samples);
    }
    return 0;
}
