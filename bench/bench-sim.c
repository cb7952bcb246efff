/* Simulator speed in VM-ticks per second: one VM-tick is one guest model
 * step plus that VM's share of the predictor and the planner. The static
 * policy (the planner returns at once) is the baseline in the same run, so
 * the difference is the balancing policy's cost.
 *
 * Usage: bench-sim [RUNS] (default 5; the median is reported). */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "mb-sim.h"

/* Long enough to cover the jobs' busiest phase, short enough to repeat. */
#define BENCH_TICKS 600u

typedef struct {
    const char *scenario;
    MbSimPolicy policy;
} Case;

static int
compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Returns the median VM-ticks per second over runs, or a negative value. */
static double
bench_case(const Case *c, unsigned runs, unsigned *ticks_out, size_t *vms_out)
{
    char err[256];
    MbScenario *sc = mb_scenario_new(c->scenario, 1, err, sizeof(err));
    double *rates = g_new0(double, runs);
    double median;

    if (sc == NULL) {
        fprintf(stderr, "bench-sim: %s\n", err);
        g_free(rates);
        return -1.0;
    }
    for (unsigned r = 0; r < runs; r++) {
        MbSimConfig cfg;
        MbSimResult res;
        gint64 start, end;

        mb_sim_config_init(&cfg);
        cfg.policy = c->policy;
        cfg.max_ticks = BENCH_TICKS;
        start = g_get_monotonic_time();
        if (!mb_sim_run(sc, &cfg, &res, err, sizeof(err))) {
            fprintf(stderr, "bench-sim: %s: %s\n", c->scenario, err);
            mb_scenario_free(sc);
            g_free(rates);
            return -1.0;
        }
        end = g_get_monotonic_time();
        rates[r] = (double)res.ticks * (double)res.n_vms / ((double)(end - start) / 1e6);
        *ticks_out = res.ticks;
        *vms_out = res.n_vms;
        mb_sim_result_clear(&res);
    }
    qsort(rates, runs, sizeof(*rates), compare_double);
    median = rates[runs / 2];
    g_free(rates);
    mb_scenario_free(sc);
    return median;
}

int
main(int argc, char **argv)
{
    static const Case cases[] = {
        {"scale-64", MB_SIM_STATIC},   {"scale-64", MB_SIM_BALANCED},
        {"scale-64", MB_SIM_PAPER},    {"scale-64", MB_SIM_MOM},
        {"scale-1000", MB_SIM_STATIC}, {"scale-1000", MB_SIM_BALANCED},
        {"scale-1000", MB_SIM_PAPER},  {"scale-1000", MB_SIM_MOM},
    };
    unsigned runs = 5;
    double baseline = 0.0;

    if (argc > 1) {
        runs = (unsigned)strtoul(argv[1], NULL, 10);
        if (runs == 0 || runs > 1000) {
            fprintf(stderr, "bench-sim: RUNS must be 1..1000\n");
            return 2;
        }
    }
    printf("simulator speed, median of %u runs, up to %u ticks each\n", runs, BENCH_TICKS);
    printf("%-12s %-9s %6s %6s %16s %10s\n", "scenario", "policy", "VMs", "ticks", "VM-ticks/s",
           "vs static");
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        unsigned ticks = 0;
        size_t n_vms = 0;
        double rate = bench_case(&cases[i], runs, &ticks, &n_vms);

        if (rate < 0)
            return 1;
        if (cases[i].policy == MB_SIM_STATIC)
            baseline = rate;
        printf("%-12s %-9s %6zu %6u %16.0f %9.2fx\n", cases[i].scenario,
               mb_sim_policy_to_string(cases[i].policy), n_vms, ticks, rate,
               baseline > 0 ? rate / baseline : 0.0);
    }
    return 0;
}
