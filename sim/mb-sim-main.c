/* membalancer-sim: runs a scenario under one or all policies and prints the
 * paper's Table 3 (or JSON), optionally a per-tick CSV and a plot.
 * Exit status: 0 done, 1 a run or an output file failed, 2 bad input. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mb-plot.h"
#include "mb-size-parse.h"
#include "mb-sim.h"
#include "mb-trace.h"

#define PROG "membalancer-sim"
#define EXIT_USAGE 2
#define KIB_PER_MIB 1024.0
#define TABLE_MAX_VMS 12 /* columns of the every-VM table */

typedef struct {
    const char *scenario;
    MbSimPolicy policies[MB_SIM_POLICY_N];
    size_t n_policies;
    double alpha;
    bool json;
    const char *csv_path;
    const char *plot_path;
    const char *trace_path;
    const char *trace_out_path;
    uint64_t seed;
    uint64_t min_step_kib;
    unsigned max_ticks;
} Options;

/* Everything a run records through the tick callback. */
typedef struct {
    const char *policy;
    FILE *csv;
    FILE *trace_out;
    size_t n_lines;
    double *mib[MB_PLOT_MAX_LINES];
    size_t n_points, cap_points;
    bool oom;
} Recorder;

static void
usage(FILE *out)
{
    fprintf(
        out,
        "Usage: " PROG " --scenario NAME [OPTION...]\n"
        "       " PROG " --trace FILE.csv [OPTION...]\n"
        "Simulates Smart TV guests under a memory balancing policy.\n\n"
        "  --scenario NAME   %s\n"
        "  --policy P        static, paper, balanced (default), mom, best or all\n"
        "  --alpha A         EWMA weight of the newest change, in (0, 1] (default 0.75)\n"
        "  --min-step SIZE   smallest balloon move (default 4M); SIZE is KiB, or with\n"
        "                    a K, M or G suffix\n"
        "  --seed N          seed of the paper policy's order and scale-N's mix (default 1)\n"
        "  --max-ticks N     stop after N ticks (default the scenario's, else 20 x the\n"
        "                    longest work)\n"
        "  --json            print JSON (an array with --policy all)\n"
        "  --csv FILE        write the per-tick timeline\n"
        "  --plot FILE.png   plot allocations over time\n"
        "  --trace FILE.csv  replay recorded guests (scenario \"trace\")\n"
        "  --trace-out FILE  record the guests' samples as a trace (one policy only)\n"
        "  --help            show this help\n",
        mb_scenario_help());
}

static int fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail_usage(const char *fmt, ...)
{
    va_list ap;

    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

static bool
parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

static bool
parse_alpha(const char *s, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (*s == '\0' || errno != 0 || *end != '\0' || !isfinite(v) || v <= 0.0 || v > 1.0)
        return false;
    *out = v;
    return true;
}

enum { OPT_MIN_STEP = 256, OPT_TRACE_OUT, OPT_MAX_TICKS };

/* Returns -1 to go on, else the exit status. */
static int
parse_options(int argc, char **argv, Options *opt)
{
    static const struct option longopts[] = {
        {"scenario", required_argument, NULL, 's'},
        {"policy", required_argument, NULL, 'p'},
        {"alpha", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"csv", required_argument, NULL, 'c'},
        {"plot", required_argument, NULL, 'o'},
        {"seed", required_argument, NULL, 'S'},
        {"trace", required_argument, NULL, 't'},
        {"trace-out", required_argument, NULL, OPT_TRACE_OUT},
        {"min-step", required_argument, NULL, OPT_MIN_STEP},
        {"max-ticks", required_argument, NULL, OPT_MAX_TICKS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *policy = "balanced";
    uint64_t v;
    int c;

    memset(opt, 0, sizeof(*opt));
    opt->seed = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            opt->scenario = optarg;
            break;
        case 'p':
            policy = optarg;
            break;
        case 'j':
            opt->json = true;
            break;
        case 'c':
            opt->csv_path = optarg;
            break;
        case 'o':
            opt->plot_path = optarg;
            break;
        case 't':
            opt->trace_path = optarg;
            break;
        case OPT_TRACE_OUT:
            opt->trace_out_path = optarg;
            break;
        case 'a':
            if (!parse_alpha(optarg, &opt->alpha))
                return fail_usage("--alpha: '%s' is not a number in (0, 1]", optarg);
            break;
        case 'S':
            if (!parse_u64(optarg, &opt->seed))
                return fail_usage("--seed: '%s' is not a non-negative integer", optarg);
            break;
        case OPT_MIN_STEP:
            if (mb_size_scan_kib(optarg, &opt->min_step_kib, NULL) != MB_SIZE_OK ||
                opt->min_step_kib == 0)
                return fail_usage("--min-step: '%s' is not a positive size (KiB, or with "
                                  "K, M, G)",
                                  optarg);
            break;
        case OPT_MAX_TICKS:
            if (!parse_u64(optarg, &v) || v == 0 || v > 100000000)
                return fail_usage("--max-ticks: '%s' is not an integer in 1..100000000",
                                  optarg);
            opt->max_ticks = (unsigned)v;
            break;
        case 'h':
            usage(stdout);
            return EXIT_SUCCESS;
        case ':':
            return fail_usage("%s needs a value (see --help)", argv[optind - 1]);
        default:
            return fail_usage("unknown option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail_usage("unexpected argument '%s' (see --help)", argv[optind]);

    if (strcmp(policy, "all") == 0) {
        static const MbSimPolicy all[] = {MB_SIM_STATIC, MB_SIM_PAPER, MB_SIM_BALANCED,
                                          MB_SIM_MOM, MB_SIM_BEST};
        memcpy(opt->policies, all, sizeof(all));
        opt->n_policies = MB_SIM_POLICY_N;
    } else if (mb_sim_policy_from_string(policy, &opt->policies[0])) {
        opt->n_policies = 1;
    } else {
        return fail_usage("unknown policy '%s' (static, paper, balanced, mom, best, all)",
                          policy);
    }
    if (opt->trace_path != NULL) {
        if (opt->scenario != NULL && strcmp(opt->scenario, "trace") != 0)
            return fail_usage("--trace replays scenario \"trace\", not '%s'", opt->scenario);
        opt->scenario = "trace";
    } else if (opt->scenario == NULL) {
        return fail_usage("no scenario: give --scenario NAME or --trace FILE (see --help)");
    } else if (strcmp(opt->scenario, "trace") == 0) {
        return fail_usage("scenario \"trace\" needs --trace FILE");
    }
    if (opt->trace_out_path != NULL && opt->n_policies != 1)
        return fail_usage("--trace-out records one policy's run, not --policy all");
    return -1;
}

static void
record_tick(const MbSimTick *t, void *user_data)
{
    Recorder *rec = user_data;

    for (size_t i = 0; i < t->n_vms; i++) {
        const MbVm *vm = &t->vms[i];
        const MbSample *s = &t->samples[i];
        if (rec->csv != NULL)
            fprintf(rec->csv,
                    "%u,%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                    ",%" PRIu64 ",%" PRIu64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRIu64
                    ",%" PRIu64 "\n",
                    t->tick, rec->policy, vm->name, vm->target_kib, s->active_anon_kib,
                    s->inactive_anon_kib, s->active_file_kib, s->inactive_file_kib, s->free_kib,
                    s->swap_out_pages, vm->dm_kib, t->predicted_kib[i], vm->delta_kib,
                    vm->reclaimable_kib, t->guests[i].alloc_kib);
        if (rec->trace_out != NULL)
            mb_trace_write_row(rec->trace_out, t->tick - 1, vm->name, s, true);
    }

    if (rec->n_lines == 0 || rec->oom)
        return;
    if (rec->n_points == rec->cap_points) {
        size_t cap = rec->cap_points ? rec->cap_points * 2 : 1024;
        for (size_t l = 0; l < rec->n_lines; l++) {
            double *p = realloc(rec->mib[l], cap * sizeof(double));
            if (p == NULL) {
                rec->oom = true;
                return;
            }
            rec->mib[l] = p;
        }
        rec->cap_points = cap;
    }
    for (size_t l = 0; l < rec->n_lines; l++)
        rec->mib[l][rec->n_points] = (double)t->vms[l].target_kib / KIB_PER_MIB;
    rec->n_points++;
}

static void
recorder_clear(Recorder *rec)
{
    for (size_t l = 0; l < MB_PLOT_MAX_LINES; l++)
        free(rec->mib[l]);
}

static void
json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void
print_json(FILE *out, const MbSimResult *r)
{
    fputs("{\"scenario\":", out);
    json_string(out, r->scenario);
    fputs(",\"policy\":", out);
    json_string(out, r->policy);
    fprintf(out, ",\"ticks\":%u,\"rebalances\":%u,\"capped\":%s,\"vms\":[", r->ticks,
            r->rebalances, r->capped ? "true" : "false");
    for (size_t i = 0; i < r->n_vms; i++) {
        const MbSimVmResult *v = &r->vms[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", out);
        json_string(out, v->name);
        fputs(",\"workload\":", out);
        json_string(out, v->workload);
        fprintf(out,
                ",\"swap_out_kib\":%" PRIu64 ",\"swap_in_kib\":%" PRIu64 ",\"runtime_s\":%u"
                ",\"alloc_min_kib\":%" PRIu64 ",\"alloc_max_kib\":%" PRIu64
                ",\"final_alloc_kib\":%" PRIu64 "}",
                v->swap_out_kib, v->swap_in_kib, v->runtime_s, v->alloc_min_kib,
                v->alloc_max_kib, v->final_alloc_kib);
    }
    fputs("]}", out);
}

static double
others_swap_mib(const MbSimResult *r)
{
    uint64_t kib = 0;

    for (size_t i = 1; i < r->n_vms; i++)
        kib += r->vms[i].swap_out_kib;
    return (double)kib / KIB_PER_MIB;
}

/* The paper's Table 3: VM1 against static and against the best case. */
static void
print_table(const MbScenario *sc, const MbSimResult *rows, size_t n_rows,
            const MbSimResult *stat, const MbSimResult *best)
{
    double static_swap = (double)stat->vms[0].swap_out_kib / KIB_PER_MIB;
    double static_rt = stat->vms[0].runtime_s, best_rt = best->vms[0].runtime_s;

    printf("scenario %s: %zu VMs, capacity %.0f MiB; VM1 = %s (%s)\n", sc->name, sc->n_vms,
           (double)mb_scenario_capacity_kib(sc) / KIB_PER_MIB, sc->vms[0].name,
           sc->vms[0].workload ? sc->vms[0].workload->name : "idle");
    printf("%-9s %12s %10s %11s %8s %11s %13s %10s\n", "policy", "VM1 swap-out", "reduction",
           "VM1 runtime", "speedup", "gap to best", "others' swap", "rebalances");
    printf("%-9s %12s %10s %11s %8s %11s %13s %10s\n", "", "(MiB)", "vs static", "(s)", "(x)",
           "(%)", "(MiB)", "");
    for (size_t i = 0; i < n_rows; i++) {
        const MbSimResult *r = &rows[i];
        double swap = (double)r->vms[0].swap_out_kib / KIB_PER_MIB;
        double rt = r->vms[0].runtime_s;
        char red[32];

        if (static_swap > 0.0)
            snprintf(red, sizeof(red), "%.2f %%", 100.0 * (static_swap - swap) / static_swap);
        else
            snprintf(red, sizeof(red), "-");
        printf("%-9s %12.1f %10s %11.0f %8.2f %11.1f %13.1f %10u%s\n", r->policy, swap, red, rt,
               rt > 0 ? static_rt / rt : 0.0,
               best_rt > 0 ? 100.0 * (rt - best_rt) / best_rt : 0.0, others_swap_mib(r),
               r->rebalances, r->capped ? "  (capped: not finished)" : "");
        if (r->violations > 0)
            printf("          %u invariant violations, first at %s\n", r->violations,
                   r->first_violation);
    }
}

/* Scenarios with several apps: every VM's swap-out, and each app's runtime
 * ("+": not finished when the run stopped). */
static void
print_each_vm(const MbScenario *sc, const MbSimResult *rows, size_t n_rows)
{
    int width[TABLE_MAX_VMS];
    size_t n = sc->n_vms < TABLE_MAX_VMS ? sc->n_vms : TABLE_MAX_VMS;

    printf("\nevery VM: swap-out (MiB) / runtime (s) of its app, + if not finished\n");
    printf("%-9s", "policy");
    for (size_t v = 0; v < n; v++) {
        width[v] = (int)strlen(sc->vms[v].name) > 14 ? (int)strlen(sc->vms[v].name) : 14;
        printf(" %*s", width[v], sc->vms[v].name);
    }
    printf(" %13s %15s\n", "all swap-out", "largest sum");
    printf("%-9s", "");
    for (size_t v = 0; v < n; v++)
        printf(" %*s", width[v], "");
    printf(" %13s %15s\n", "(MiB)", "/ pool (MiB)");
    for (size_t i = 0; i < n_rows; i++) {
        const MbSimResult *r = &rows[i];
        uint64_t all_kib = 0;

        printf("%-9s", r->policy);
        for (size_t v = 0; v < n; v++) {
            const MbSimVmResult *vm = v < r->n_vms ? &r->vms[v] : NULL;
            const MbWorkload *wl = sc->vms[v].workload;
            char cell[48];

            if (vm == NULL)
                snprintf(cell, sizeof(cell), "-");
            else if (wl != NULL && !wl->background)
                snprintf(cell, sizeof(cell), "%.1f / %u%s",
                         (double)vm->swap_out_kib / KIB_PER_MIB, vm->runtime_s,
                         vm->finished ? "" : "+");
            else
                snprintf(cell, sizeof(cell), "%.1f", (double)vm->swap_out_kib / KIB_PER_MIB);
            printf(" %*s", width[v], cell);
            all_kib += vm != NULL ? vm->swap_out_kib : 0;
        }
        printf(" %13.1f %8.0f / %4.0f\n", (double)all_kib / KIB_PER_MIB,
               (double)r->max_sum_kib / KIB_PER_MIB, (double)sc->pool_kib / KIB_PER_MIB);
    }
}

static FILE *
open_out(const char *path, int *status)
{
    FILE *f = fopen(path, "w");

    if (f == NULL) {
        fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
        *status = EXIT_FAILURE;
    }
    return f;
}

static int
close_out(FILE *f, const char *path)
{
    if (f == NULL)
        return EXIT_SUCCESS;
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, PROG ": %s: write error\n", path);
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}

/* Runs every requested policy (and static and best for the table). */
static int
run_all(const Options *opt, const MbScenario *sc)
{
    MbSimResult results[MB_SIM_POLICY_N], extra[2];
    MbPlotPanel panels[MB_SIM_POLICY_N];
    Recorder recs[MB_SIM_POLICY_N];
    FILE *csv = NULL, *trace_out = NULL;
    int status = EXIT_SUCCESS;
    size_t done = 0, n_extra = 0;
    char err[256];

    memset(results, 0, sizeof(results));
    memset(extra, 0, sizeof(extra));
    memset(recs, 0, sizeof(recs));
    if (opt->csv_path != NULL && (csv = open_out(opt->csv_path, &status)) == NULL)
        return status;
    if (opt->trace_out_path != NULL &&
        (trace_out = open_out(opt->trace_out_path, &status)) == NULL) {
        close_out(csv, opt->csv_path);
        return status;
    }
    if (csv != NULL)
        fputs("tick,policy,vm,alloc_kib,active_anon_kib,inactive_anon_kib,active_file_kib,"
              "inactive_file_kib,free_kib,swap_out_pages,dm_kib,predicted_kib,demand_kib,"
              "reclaimable_kib,balloon_kib\n",
              csv);
    if (trace_out != NULL)
        mb_trace_write_header(trace_out, true);

    for (; done < opt->n_policies; done++) {
        MbSimConfig cfg;
        Recorder *rec = &recs[done];

        mb_sim_config_init(&cfg);
        cfg.policy = opt->policies[done];
        cfg.alpha = opt->alpha;
        cfg.min_step_kib = opt->min_step_kib;
        cfg.seed = opt->seed;
        cfg.max_ticks = opt->max_ticks;
        rec->policy = mb_sim_policy_to_string(cfg.policy);
        rec->csv = csv;
        rec->trace_out = trace_out;
        if (opt->plot_path != NULL)
            rec->n_lines = cfg.policy == MB_SIM_BEST       ? 1
                           : sc->n_vms < MB_PLOT_MAX_LINES ? sc->n_vms
                                                           : MB_PLOT_MAX_LINES;
        cfg.on_tick = record_tick;
        cfg.user_data = rec;
        if (!mb_sim_run(sc, &cfg, &results[done], err, sizeof(err))) {
            fprintf(stderr, PROG ": %s under %s: %s\n", sc->name, rec->policy, err);
            status = EXIT_FAILURE;
            goto out;
        }
    }

    if (opt->json) {
        if (opt->n_policies > 1)
            fputc('[', stdout);
        for (size_t i = 0; i < done; i++) {
            if (i > 0)
                fputc(',', stdout);
            print_json(stdout, &results[i]);
        }
        fputs(opt->n_policies > 1 ? "]\n" : "\n", stdout);
    } else {
        const MbSimResult *stat = NULL, *best = NULL;
        MbSimPolicy need[2] = {MB_SIM_STATIC, MB_SIM_BEST};

        for (size_t k = 0; k < 2; k++) {
            const MbSimResult *found = NULL;
            for (size_t i = 0; i < done; i++)
                if (opt->policies[i] == need[k])
                    found = &results[i];
            if (found == NULL) {
                MbSimConfig cfg;
                mb_sim_config_init(&cfg);
                cfg.policy = need[k];
                cfg.seed = opt->seed;
                cfg.max_ticks = opt->max_ticks;
                if (!mb_sim_run(sc, &cfg, &extra[n_extra], err, sizeof(err))) {
                    fprintf(stderr, PROG ": %s: %s\n", sc->name, err);
                    status = EXIT_FAILURE;
                    goto out;
                }
                found = &extra[n_extra++];
            }
            if (k == 0)
                stat = found;
            else
                best = found;
        }
        print_table(sc, results, done, stat, best);
        if (sc->several_apps)
            print_each_vm(sc, results, done);
    }

    if (opt->plot_path != NULL) {
        char title[160];
        for (size_t i = 0; i < done; i++) {
            if (recs[i].oom) {
                fprintf(stderr, PROG ": out of memory recording the plot\n");
                status = EXIT_FAILURE;
                goto out;
            }
            panels[i].title = recs[i].policy;
            panels[i].n_lines = recs[i].n_lines;
            panels[i].n_points = recs[i].n_points;
            for (size_t l = 0; l < recs[i].n_lines; l++) {
                panels[i].names[l] = sc->vms[l].name;
                panels[i].mib[l] = recs[i].mib[l];
            }
        }
        snprintf(title, sizeof(title), "%s: allocated memory per VM%s", sc->name,
                 sc->n_vms > MB_PLOT_MAX_LINES ? " (first 12)" : "");
        if (!mb_plot_write_png(opt->plot_path, title, panels, done,
                               (double)mb_scenario_capacity_kib(sc) / KIB_PER_MIB, err,
                               sizeof(err))) {
            fprintf(stderr, PROG ": %s\n", err);
            status = EXIT_FAILURE;
        }
    }

out:
    if (close_out(csv, opt->csv_path) != EXIT_SUCCESS ||
        close_out(trace_out, opt->trace_out_path) != EXIT_SUCCESS)
        status = EXIT_FAILURE;
    for (size_t i = 0; i < MB_SIM_POLICY_N; i++) {
        mb_sim_result_clear(&results[i]);
        recorder_clear(&recs[i]);
    }
    for (size_t i = 0; i < n_extra; i++)
        mb_sim_result_clear(&extra[i]);
    return status;
}

int
main(int argc, char **argv)
{
    Options opt;
    MbScenario *sc;
    MbTrace *trace = NULL;
    char err[512];
    int status = parse_options(argc, argv, &opt);

    if (status >= 0)
        return status;
    if (opt.trace_path != NULL) {
        if (!mb_trace_load(opt.trace_path, &trace, err, sizeof(err)))
            return fail_usage("%s", err);
        sc = mb_scenario_new_trace(trace, err, sizeof(err));
    } else {
        sc = mb_scenario_new(opt.scenario, opt.seed, err, sizeof(err));
    }
    if (sc == NULL) {
        mb_trace_free(trace);
        return fail_usage("%s", err);
    }
    status = run_all(&opt, sc);
    mb_scenario_free(sc);
    mb_trace_free(trace);
    return status;
}
