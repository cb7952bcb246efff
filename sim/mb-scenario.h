/* Scenarios: which guests run what, with how much memory. Pure C11. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mb-guest.h"
#include "mb-policy.h"
#include "mb-trace.h"
#include "mb-workload.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MB_SCENARIO_NAME_MAX 63
#define MB_SCENARIO_SCALE_MAX 4096u

typedef struct {
    char name[MB_VM_NAME_MAX + 1];
    const MbWorkload *workload; /* not owned */
    MbVmSettings settings;
    uint64_t alloc_kib;        /* at start */
    uint64_t variant;          /* workload shape variant (0 = reference) */
    unsigned delay_ticks;      /* idle before the workload starts */
    const MbGuestModel *model; /* the guest's kernel; NULL: mb_guest_model_2013 */
    /* 0: settings.foreground holds from the start; else the VM becomes the
     * foreground VM (the TV shell's SetForeground) before this tick's plan */
    unsigned foreground_tick;
} MbScenarioVm;

typedef struct {
    char name[MB_SCENARIO_NAME_MAX + 1];
    uint64_t pool_kib;
    uint64_t reserve_kib;
    size_t n_vms;
    MbScenarioVm *vms;  /* vms[0] is VM1, the one the results focus on */
    unsigned max_ticks; /* a run's default length; 0: from the workloads */
    bool several_apps;  /* more VMs than VM1 run a job: report every VM */
} MbScenario;

/* Builds a named scenario: paper2, paper3-<job>, scale-<N>, bench-table3,
 * bench-fig2, bench-contention. The seed only matters where the scenario
 * draws (scale-N's mix). Returns NULL with a one line message in err for
 * an unknown or malformed name. */
MbScenario *mb_scenario_new(const char *name, uint64_t seed, char *err, size_t err_len);
/* One VM per VM of the trace, allocated its first total; the capacity is
 * the sum of those. The trace must outlive the scenario. */
MbScenario *mb_scenario_new_trace(const MbTrace *trace, char *err, size_t err_len);
/* The best case of the paper: VM1 alone, given the whole capacity. */
MbScenario *mb_scenario_new_best(const MbScenario *from, char *err, size_t err_len);
void mb_scenario_free(MbScenario *scenario);

uint64_t mb_scenario_capacity_kib(const MbScenario *scenario);
/* The jobs paper3-<job> accepts, NULL-terminated. */
const char *const *mb_scenario_paper3_jobs(void);
/* A short usage text listing the scenario names. */
const char *mb_scenario_help(void);

#ifdef __cplusplus
}
#endif
