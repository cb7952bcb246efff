/* The paper's two setups, a scaling mix, and trace replay. */
#include "mb-scenario.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#define MIB 1024ull
#define SHARE_KIB (512 * MIB) /* the paper's static share per VM */
#define MIN_KIB (128 * MIB)   /* enough for the kernel and a small task */
#define MAX_KIB (1536 * MIB)  /* the paper's best case gives VM1 1,536 MB */

static const char *const paper3_jobs[] = {
    "perlbench", "gcc", "milc", "hmmer", "libquantum", "h264ref", "omnetpp", "game", NULL,
};

const char *const *
mb_scenario_paper3_jobs(void)
{
    return paper3_jobs;
}

const char *
mb_scenario_help(void)
{
    return "paper2 (game VM + video VM, 2 x 512 MiB of 2 GiB, 1 GiB reserved), "
           "paper3-JOB (JOB, video, web; 3 x 512 MiB, 512 MiB reserved; JOB is one of "
           "perlbench gcc milc hmmer libquantum h264ref omnetpp game), "
           "scale-N (N = 1..4096 VMs of mixed workloads, 512 MiB each), "
           "bench-table3, bench-fig2 and bench-contention (scripts/bench-vms' shapes on "
           "Linux 6.1 guests)";
}

void
mb_scenario_free(MbScenario *scenario)
{
    if (scenario == NULL)
        return;
    free(scenario->vms);
    free(scenario);
}

uint64_t
mb_scenario_capacity_kib(const MbScenario *scenario)
{
    return scenario->pool_kib > scenario->reserve_kib
               ? scenario->pool_kib - scenario->reserve_kib
               : 0;
}

static MbScenario *
scenario_alloc(const char *name, size_t n_vms, char *err, size_t err_len)
{
    MbScenario *sc = calloc(1, sizeof(*sc));

    if (sc != NULL)
        sc->vms = calloc(n_vms ? n_vms : 1, sizeof(*sc->vms));
    if (sc == NULL || sc->vms == NULL) {
        mb_scenario_free(sc);
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    snprintf(sc->name, sizeof(sc->name), "%s", name);
    sc->n_vms = n_vms;
    return sc;
}

static void
set_vm(MbScenarioVm *vm, const char *name, const char *workload, unsigned priority,
       bool foreground, uint64_t max_kib)
{
    snprintf(vm->name, sizeof(vm->name), "%s", name);
    vm->workload = mb_workload_lookup(workload);
    vm->settings.priority = priority;
    vm->settings.foreground = foreground;
    vm->settings.min_kib = MIN_KIB;
    vm->settings.max_kib = max_kib;
    vm->alloc_kib = SHARE_KIB;
}

/* The paper's motivating run: a game VM beside a video VM, 512 MB each of a
 * 2 GB host (the host keeps the other 1 GB). */
static MbScenario *
new_paper2(char *err, size_t err_len)
{
    MbScenario *sc = scenario_alloc("paper2", 2, err, err_len);

    if (sc == NULL)
        return NULL;
    sc->pool_kib = 2048 * MIB;
    sc->reserve_kib = 1024 * MIB;
    set_vm(&sc->vms[0], "vm1-game", "game", 80, true, 1024 * MIB);
    set_vm(&sc->vms[1], "vm2-video", "video-playback", 50, false, 1024 * MIB);
    return sc;
}

/* The paper's evaluation: VM1 runs the job in the foreground, VM2 plays
 * video and VM3 browses the web behind it. */
static MbScenario *
new_paper3(const char *name, const char *job, char *err, size_t err_len)
{
    MbScenario *sc = scenario_alloc(name, 3, err, err_len);
    char vm1[MB_VM_NAME_MAX + 1];

    if (sc == NULL)
        return NULL;
    sc->pool_kib = 2048 * MIB;
    sc->reserve_kib = 512 * MIB;
    snprintf(vm1, sizeof(vm1), "vm1-%s", job);
    set_vm(&sc->vms[0], vm1, job, 80, true, MAX_KIB);
    set_vm(&sc->vms[1], "vm2-video", "video-playback", 50, false, MAX_KIB);
    set_vm(&sc->vms[2], "vm3-web", "web", 40, false, MAX_KIB);
    return sc;
}

/* The real-VM benchmark (scripts/bench-vms' vm_table): 256 MiB guests of
 * the linux61 model, the job starting after 30 s. */
#define BENCH_JOB_DELAY_S 30u
/* bench-vms stops waiting JOB_CAP_S + JOB_DELAY_S + 60 s after it starts to
 * wait, 3 s before its last reading: the job has run ~363 s by then. */
#define BENCH_JOB_RUN_S 363u

static void
set_bench_vm(MbScenarioVm *vm, const char *name, const char *workload, unsigned priority,
             uint64_t min_mib, uint64_t max_mib)
{
    set_vm(vm, name, workload, priority, false, max_mib * MIB);
    vm->settings.min_kib = min_mib * MIB;
    vm->alloc_kib = 256 * MIB;
    vm->model = &mb_guest_model_linux61;
}

static MbScenario *
new_bench(const char *name, bool web, char *err, size_t err_len)
{
    MbScenario *sc = scenario_alloc(name, web ? 3 : 2, err, err_len);

    if (sc == NULL)
        return NULL;
    sc->pool_kib = (web ? 768 : 512) * MIB;
    sc->reserve_kib = 0;
    sc->max_ticks = BENCH_JOB_DELAY_S + BENCH_JOB_RUN_S;
    set_bench_vm(&sc->vms[0], "vm1-job", "bench-job", 60, 128, 640);
    sc->vms[0].delay_ticks = BENCH_JOB_DELAY_S;
    set_bench_vm(&sc->vms[1], "vm2-video", "bench-video", 40, 96, 512);
    if (web)
        set_bench_vm(&sc->vms[2], "vm3-web", "bench-web", 50, 128, 512);
    return sc;
}

/* bench-vms' contention: table3's video and web VMs beside a foreground job
 * of priority 80 (2000 passes: it still runs while the game does) and a
 * game of priority 50 starting GAME_LAG_S after the job; 1 GiB pool. The
 * shell's SetForeground comes half a second before the job starts, i.e.
 * before the plan of the job's last idle tick. bench-vms waits 10 s longer
 * for two apps, hence the length. */
#define BENCH_GAME_LAG_S 10u

static MbScenario *
new_bench_contention(const char *name, char *err, size_t err_len)
{
    MbScenario *sc = scenario_alloc(name, 4, err, err_len);

    if (sc == NULL)
        return NULL;
    sc->pool_kib = 1024 * MIB;
    sc->reserve_kib = 0;
    sc->max_ticks = BENCH_JOB_DELAY_S + BENCH_JOB_RUN_S + BENCH_GAME_LAG_S;
    sc->several_apps = true;
    set_bench_vm(&sc->vms[0], "vm1-job", "bench-job-2000", 80, 128, 640);
    sc->vms[0].delay_ticks = BENCH_JOB_DELAY_S;
    sc->vms[0].foreground_tick = BENCH_JOB_DELAY_S;
    set_bench_vm(&sc->vms[1], "vm2-video", "bench-video", 40, 96, 512);
    set_bench_vm(&sc->vms[2], "vm3-web", "bench-web", 50, 128, 512);
    set_bench_vm(&sc->vms[3], "vm4-game", "bench-game", 50, 128, 640);
    sc->vms[3].delay_ticks = BENCH_JOB_DELAY_S + BENCH_GAME_LAG_S;
    return sc;
}

/* N guests drawing from every built-in workload, with random priorities,
 * shape variants and start delays so that they do not move in lock-step. */
static MbScenario *
new_scale(const char *name, unsigned n, uint64_t seed, char *err, size_t err_len)
{
    MbScenario *sc = scenario_alloc(name, n, err, err_len);
    uint64_t capacity_kib = (uint64_t)n * SHARE_KIB;

    if (sc == NULL)
        return NULL;
    sc->pool_kib = capacity_kib;
    sc->reserve_kib = 0;
    for (unsigned i = 0; i < n; i++) {
        MbScenarioVm *vm = &sc->vms[i];
        size_t pick = (size_t)(mb_workload_noise(seed, 3 * i) * (double)mb_workload_count());
        const MbWorkload *wl = mb_workload_nth(pick < mb_workload_count() ? pick : 0);

        snprintf(vm->name, sizeof(vm->name), "vm%u-%s", i + 1, wl->name);
        vm->workload = wl;
        vm->settings.priority =
            i == 0 ? 80 : 10 + (unsigned)(mb_workload_noise(seed, 3 * i + 1) * 70);
        vm->settings.foreground = i == 0;
        vm->settings.min_kib = MIN_KIB;
        vm->settings.max_kib = capacity_kib < MAX_KIB ? capacity_kib : MAX_KIB;
        vm->alloc_kib = SHARE_KIB;
        vm->variant = (seed << 16) ^ (i + 1);
        vm->delay_ticks = i == 0 ? 0 : (unsigned)(mb_workload_noise(seed, 3 * i + 2) * 60);
    }
    return sc;
}

MbScenario *
mb_scenario_new(const char *name, uint64_t seed, char *err, size_t err_len)
{
    if (name == NULL || *name == '\0') {
        snprintf(err, err_len, "no scenario given");
        return NULL;
    }
    if (strlen(name) > MB_SCENARIO_NAME_MAX) {
        snprintf(err, err_len, "unknown scenario (name too long)");
        return NULL;
    }
    if (strcmp(name, "paper2") == 0)
        return new_paper2(err, err_len);
    if (strcmp(name, "bench-table3") == 0)
        return new_bench(name, true, err, err_len);
    if (strcmp(name, "bench-fig2") == 0)
        return new_bench(name, false, err, err_len);
    if (strcmp(name, "bench-contention") == 0)
        return new_bench_contention(name, err, err_len);
    if (strncmp(name, "paper3-", 7) == 0) {
        for (const char *const *job = paper3_jobs; *job; job++)
            if (strcmp(name + 7, *job) == 0)
                return new_paper3(name, *job, err, err_len);
        snprintf(err, err_len,
                 "unknown scenario '%s': paper3-JOB takes JOB from "
                 "perlbench gcc milc hmmer libquantum h264ref omnetpp game",
                 name);
        return NULL;
    }
    if (strncmp(name, "scale-", 6) == 0) {
        const char *digits = name + 6;
        char *end;
        unsigned long n;

        errno = 0;
        n = *digits >= '0' && *digits <= '9' ? strtoul(digits, &end, 10) : 0;
        if (n < 1 || n > MB_SCENARIO_SCALE_MAX || errno != 0 || *end != '\0') {
            snprintf(err, err_len, "bad scenario '%s': scale-N needs 1 <= N <= %u", name,
                     MB_SCENARIO_SCALE_MAX);
            return NULL;
        }
        return new_scale(name, (unsigned)n, seed, err, err_len);
    }
    snprintf(err, err_len, "unknown scenario '%s' (try paper2, paper3-gcc, scale-64)", name);
    return NULL;
}

MbScenario *
mb_scenario_new_trace(const MbTrace *trace, char *err, size_t err_len)
{
    MbScenario *sc;
    uint64_t capacity_kib = 0;

    if (trace == NULL || trace->n_vms == 0) {
        snprintf(err, err_len, "empty trace");
        return NULL;
    }
    sc = scenario_alloc("trace", trace->n_vms, err, err_len);
    if (sc == NULL)
        return NULL;
    for (size_t i = 0; i < trace->n_vms; i++)
        capacity_kib += trace->vms[i].first_total_kib;
    sc->pool_kib = capacity_kib;
    sc->reserve_kib = 0;
    for (size_t i = 0; i < trace->n_vms; i++) {
        const MbTraceVm *tv = &trace->vms[i];
        MbScenarioVm *vm = &sc->vms[i];

        snprintf(vm->name, sizeof(vm->name), "%s", tv->name);
        vm->workload = &tv->workload;
        /* The first VM of the trace is the one in front, as in the paper. */
        vm->settings.priority = i == 0 ? 80 : 50;
        vm->settings.foreground = i == 0;
        vm->settings.min_kib = tv->first_total_kib < MIN_KIB ? tv->first_total_kib : MIN_KIB;
        vm->settings.max_kib = capacity_kib;
        vm->alloc_kib = tv->first_total_kib;
    }
    return sc;
}

MbScenario *
mb_scenario_new_best(const MbScenario *from, char *err, size_t err_len)
{
    MbScenario *sc;
    char name[MB_SCENARIO_NAME_MAX + 1];
    uint64_t capacity_kib = mb_scenario_capacity_kib(from);

    if (from->n_vms == 0) {
        snprintf(err, err_len, "scenario has no VM");
        return NULL;
    }
    snprintf(name, sizeof(name), "%s", from->name);
    sc = scenario_alloc(name, 1, err, err_len);
    if (sc == NULL)
        return NULL;
    sc->pool_kib = from->pool_kib;
    sc->reserve_kib = from->reserve_kib;
    sc->max_ticks = from->max_ticks;
    sc->vms[0] = from->vms[0];
    sc->vms[0].alloc_kib = capacity_kib;
    if (sc->vms[0].settings.max_kib < capacity_kib)
        sc->vms[0].settings.max_kib = capacity_kib;
    if (sc->vms[0].settings.min_kib > capacity_kib)
        sc->vms[0].settings.min_kib = capacity_kib;
    return sc;
}
