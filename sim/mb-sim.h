/* The simulator's run loop: guests of a scenario, the policy library
 * balancing them each 1 s tick, and the results. Pure C11, no GLib. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mb-guest.h"
#include "mb-policy.h"
#include "mb-scenario.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The policies a run can use: the library's, plus the paper's best case
 * (VM1 alone with the whole capacity, never moved). */
typedef enum {
    MB_SIM_STATIC = 0,
    MB_SIM_PAPER,
    MB_SIM_BALANCED,
    MB_SIM_MOM,
    MB_SIM_BEST,
    MB_SIM_POLICY_N
} MbSimPolicy;

const char *mb_sim_policy_to_string(MbSimPolicy policy);
bool mb_sim_policy_from_string(const char *name, MbSimPolicy *out);

/* What the tick callback sees, after the plan of the tick was applied. */
typedef struct {
    unsigned tick; /* 1-based */
    size_t n_vms;
    const MbGuest *guests;
    const MbVm *vms;                /* predictor state and plan of this tick */
    const MbSample *samples;        /* what each guest reported this tick */
    const uint64_t *prev_alloc_kib; /* allocation before this tick's plan */
    const int64_t *predicted_kib;   /* demand predicted the tick before */
    size_t n_moved;
} MbSimTick;

typedef void (*MbSimTickFunc)(const MbSimTick *tick, void *user_data);

typedef struct {
    MbSimPolicy policy;
    double alpha;          /* 0: the library's default */
    uint64_t min_step_kib; /* 0: the library's default */
    uint64_t seed;         /* drives the paper policy's random order */
    unsigned max_ticks;    /* 0: MB_SIM_CAP_FACTOR x the longest work + delay */
    MbSimTickFunc on_tick; /* may be NULL */
    void *user_data;
} MbSimConfig;

/* A run that has not finished after this many times its longest work is
 * stopped and reported as capped. */
#define MB_SIM_CAP_FACTOR 20u

typedef struct {
    char name[MB_VM_NAME_MAX + 1];
    char workload[MB_VM_NAME_MAX + 1];
    uint64_t swap_out_kib;
    uint64_t swap_in_kib;
    unsigned runtime_s; /* ticks from its start to its end */
    bool finished;
    uint64_t alloc_min_kib;
    uint64_t alloc_max_kib;
    uint64_t final_alloc_kib;
} MbSimVmResult;

typedef struct {
    char scenario[MB_SCENARIO_NAME_MAX + 1];
    char policy[16];
    unsigned ticks;
    unsigned rebalances; /* ticks in which some VM moved */
    bool capped;         /* stopped at max_ticks before every VM finished */
    unsigned violations; /* invariant violations seen (0 unless a bug) */
    char first_violation[256];
    size_t n_vms;
    MbSimVmResult *vms;
    /* The largest sum of the guests' actual balloons seen, KiB. */
    uint64_t max_sum_kib;
} MbSimResult;

void mb_sim_config_init(MbSimConfig *config);

/* Runs one scenario under one policy. Returns false with a message in err
 * on bad parameters or OOM. result must be cleared with
 * mb_sim_result_clear(). */
bool mb_sim_run(const MbScenario *scenario, const MbSimConfig *config, MbSimResult *result,
                char *err, size_t err_len);
void mb_sim_result_clear(MbSimResult *result);

/* Checks the planner's guarantees for one tick; returns false and
 * describes the first broken one in why. */
bool mb_sim_check_tick(const MbVm *vms, const uint64_t *prev_alloc_kib, size_t n,
                       uint64_t capacity_kib, uint64_t min_step_kib, char *why, size_t why_len);

#ifdef __cplusplus
}
#endif
