/* The run loop. Everything is allocated before the first tick, so a tick
 * costs only the model and the policy (what bench-sim measures). */
#include "mb-sim.h"

#include "mb-grant.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const policy_names[MB_SIM_POLICY_N] = {
    [MB_SIM_STATIC] = "static", [MB_SIM_PAPER] = "paper", [MB_SIM_BALANCED] = "balanced",
    [MB_SIM_MOM] = "mom",       [MB_SIM_BEST] = "best",
};

const char *
mb_sim_policy_to_string(MbSimPolicy policy)
{
    return (unsigned)policy < MB_SIM_POLICY_N ? policy_names[policy] : "unknown";
}

bool
mb_sim_policy_from_string(const char *name, MbSimPolicy *out)
{
    if (name == NULL)
        return false;
    for (unsigned i = 0; i < MB_SIM_POLICY_N; i++) {
        if (strcmp(name, policy_names[i]) == 0) {
            *out = (MbSimPolicy)i;
            return true;
        }
    }
    return false;
}

static MbPolicyKind
policy_kind(MbSimPolicy policy)
{
    switch (policy) {
    case MB_SIM_PAPER:
        return MB_POLICY_PAPER;
    case MB_SIM_BALANCED:
        return MB_POLICY_BALANCED;
    case MB_SIM_MOM:
        return MB_POLICY_MOM;
    case MB_SIM_STATIC:
    case MB_SIM_BEST:
    case MB_SIM_POLICY_N:
        break;
    }
    return MB_POLICY_STATIC;
}

void
mb_sim_config_init(MbSimConfig *config)
{
    memset(config, 0, sizeof(*config));
    config->policy = MB_SIM_BALANCED;
    config->seed = 1;
}

void
mb_sim_result_clear(MbSimResult *result)
{
    if (result == NULL)
        return;
    free(result->vms);
    memset(result, 0, sizeof(*result));
}

bool
mb_sim_check_tick(const MbVm *vms, const uint64_t *prev_alloc_kib, size_t n,
                  uint64_t capacity_kib, uint64_t min_step_kib, char *why, size_t why_len)
{
    uint64_t before_kib = 0, after_kib = 0;

    for (size_t i = 0; i < n; i++) {
        const MbVm *vm = &vms[i];
        uint64_t prev = prev_alloc_kib[i], now = vm->target_kib;
        uint64_t move = now > prev ? now - prev : prev - now;
        bool was_outside = prev < vm->settings.min_kib || prev > vm->settings.max_kib;

        before_kib += prev;
        after_kib += now;
        if (now < vm->settings.min_kib || now > vm->settings.max_kib) {
            snprintf(why, why_len, "%s: %" PRIu64 " KiB outside [%" PRIu64 ", %" PRIu64 "]",
                     vm->name, now, vm->settings.min_kib, vm->settings.max_kib);
            return false;
        }
        if (move > 0 && move < min_step_kib && !was_outside) {
            snprintf(why, why_len, "%s: moved %" PRIu64 " KiB, below the %" PRIu64 " KiB step",
                     vm->name, move, min_step_kib);
            return false;
        }
    }
    if (after_kib > capacity_kib && after_kib > before_kib) {
        snprintf(why, why_len,
                 "allocations %" PRIu64 " KiB exceed capacity %" PRIu64 " KiB (were %" PRIu64
                 ")",
                 after_kib, capacity_kib, before_kib);
        return false;
    }
    return true;
}

/* The per-run working set, allocated once. */
typedef struct {
    MbGuest *guests;
    MbVm *vms;
    MbSample *samples;
    uint64_t *prev_alloc_kib;
    int64_t *predicted_kib;
    MbGrantVm *grant_vms; /* the grant's accounts */
    size_t *grows;        /* the growing VMs, in grant order */
    MbPlanner *planner;
} Run;

static void
run_free(Run *run)
{
    free(run->guests);
    free(run->vms);
    free(run->samples);
    free(run->prev_alloc_kib);
    free(run->predicted_kib);
    free(run->grant_vms);
    free(run->grows);
    mb_planner_free(run->planner);
}

static bool
run_alloc(Run *run, size_t n, uint64_t seed)
{
    size_t m = n ? n : 1;

    memset(run, 0, sizeof(*run));
    run->guests = calloc(m, sizeof(*run->guests));
    run->vms = calloc(m, sizeof(*run->vms));
    run->samples = calloc(m, sizeof(*run->samples));
    run->prev_alloc_kib = calloc(m, sizeof(*run->prev_alloc_kib));
    run->predicted_kib = calloc(m, sizeof(*run->predicted_kib));
    run->grant_vms = calloc(m, sizeof(*run->grant_vms));
    run->grows = calloc(m, sizeof(*run->grows));
    run->planner = mb_planner_new(m, seed);
    return run->guests && run->vms && run->samples && run->prev_alloc_kib &&
           run->predicted_kib && run->grant_vms && run->grows && run->planner;
}

static unsigned
default_max_ticks(const MbScenario *sc)
{
    double longest_s = 1.0;

    if (sc->max_ticks != 0)
        return sc->max_ticks;
    for (size_t i = 0; i < sc->n_vms; i++) {
        const MbScenarioVm *vm = &sc->vms[i];
        double s = (vm->workload ? vm->workload->work_s : 0.0) + vm->delay_ticks;
        if (s > longest_s)
            longest_s = s;
    }
    return (unsigned)(MB_SIM_CAP_FACTOR * longest_s) + 1;
}

static bool
all_finished(const MbGuest *guests, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!guests[i].finished)
            return false;
    return true;
}

static void
fill_results(const MbScenario *sc, const Run *run, MbSimResult *result)
{
    for (size_t i = 0; i < sc->n_vms; i++) {
        const MbGuest *g = &run->guests[i];
        MbSimVmResult *r = &result->vms[i];

        snprintf(r->name, sizeof(r->name), "%s", sc->vms[i].name);
        snprintf(r->workload, sizeof(r->workload), "%s",
                 sc->vms[i].workload ? sc->vms[i].workload->name : "idle");
        r->swap_out_kib = g->swap_out_pages * MB_GUEST_PAGE_KIB;
        r->swap_in_kib = g->swap_in_pages * MB_GUEST_PAGE_KIB;
        r->runtime_s = mb_guest_runtime_s(g);
        r->finished = g->finished;
        r->final_alloc_kib = g->alloc_kib;
    }
}

static void
note_violation(MbSimResult *result, unsigned tick, const char *why)
{
    if (result->violations++ == 0)
        snprintf(result->first_violation, sizeof(result->first_violation), "tick %u: %.200s",
                 tick, why);
}

/* The service's grant loop (service/mb-tick.c) at a 1 s interval: growth
 * may wait 3/4 of it for the donors' balloons, polled every 50 ms. */
#define GRANT_STEP_S 0.05
#define GRANT_STEPS 15u

static uint64_t
actual_sum_kib(const MbGuest *guests, size_t n)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < n; i++)
        sum += guests[i].alloc_kib;
    return sum;
}

/* The actual balloons together never grow past the capacity. */
static void
check_actual(const Run *run, size_t n, uint64_t capacity_kib, uint64_t before_kib,
             unsigned tick, MbSimResult *result)
{
    uint64_t after_kib = actual_sum_kib(run->guests, n);
    char what[256];

    if (after_kib > result->max_sum_kib)
        result->max_sum_kib = after_kib;
    if (after_kib > capacity_kib && after_kib > before_kib) {
        snprintf(what, sizeof(what),
                 "actual balloons %" PRIu64 " KiB exceed capacity %" PRIu64
                 " KiB (were %" PRIu64 ")",
                 after_kib, capacity_kib, before_kib);
        note_violation(result, tick, what);
    }
}

/* The TV shell's SetForeground: one foreground VM from this tick on. */
static void
set_foreground(const MbScenario *sc, MbVm *vms, unsigned tick)
{
    for (size_t i = 0; i < sc->n_vms; i++) {
        if (sc->vms[i].foreground_tick != tick)
            continue;
        for (size_t j = 0; j < sc->n_vms; j++)
            vms[j].settings.foreground = j == i;
    }
}

static bool
grant_set(size_t index, uint64_t target_kib, void *user_data)
{
    Run *run = user_data;

    mb_guest_set_alloc(&run->guests[index], target_kib);
    return true;
}

static bool
grant_get(size_t index, uint64_t *now_kib, void *user_data)
{
    const Run *run = user_data;

    *now_kib = run->guests[index].alloc_kib;
    return true;
}

/* Applies the plan through the service's grant (policy/mb-grant.h) to
 * guests whose balloons travel: shrinks at once; grows only by what is
 * free as the balloons stand, re-granted as the donors' balloons travel
 * during the first 3/4 of the tick; what is not granted by then waits for
 * the next plan. Sets each VM's target to what was set. */
static void
apply_travelling(Run *run, size_t n, uint64_t capacity_kib, uint64_t min_step_kib,
                 unsigned tick, MbSimResult *result)
{
    MbGrant grant;

    for (size_t i = 0; i < n; i++) {
        const MbGuest *g = &run->guests[i];
        const MbVm *vm = &run->vms[i];
        uint64_t committed = g->alloc_kib > g->target_kib ? g->alloc_kib : g->target_kib;

        /* The guest's balloon is where it goes (g->target_kib) as the
         * planner counts it, and holds at least that and where it is. */
        mb_grant_vm_init(&run->grant_vms[i], vm->name, vm->settings.priority,
                         vm->settings.foreground, g->alloc_kib, committed, g->target_kib,
                         vm->target_kib, vm->target_kib != g->target_kib);
    }
    mb_grant_init(&grant, run->grant_vms, n, run->grows, capacity_kib, min_step_kib);
    mb_grant_shrink(&grant, grant_set, run);
    for (unsigned step = 0; grant.n_grows > 0; step++) {
        uint64_t before_kib;

        if (mb_grant_grow(&grant, grant_set, run) || step == GRANT_STEPS)
            break;
        before_kib = actual_sum_kib(run->guests, n);
        for (size_t i = 0; i < n; i++)
            mb_guest_travel(&run->guests[i], GRANT_STEP_S);
        check_actual(run, n, capacity_kib, before_kib, tick, result);
        mb_grant_poll(&grant, grant_get, run);
    }
    for (size_t i = 0; i < n; i++)
        run->vms[i].target_kib = run->guests[i].target_kib;
}

bool
mb_sim_run(const MbScenario *scenario, const MbSimConfig *config, MbSimResult *result,
           char *err, size_t err_len)
{
    MbScenario *best = NULL;
    const MbScenario *sc = scenario;
    MbParams params;
    Run run = {0};
    const char *why;
    uint64_t capacity_kib;
    unsigned max_ticks;
    size_t n;
    bool travelling = false, ok = false;

    memset(result, 0, sizeof(*result));
    if ((unsigned)config->policy >= MB_SIM_POLICY_N) {
        snprintf(err, err_len, "unknown policy");
        return false;
    }
    if (config->policy == MB_SIM_BEST) {
        best = mb_scenario_new_best(scenario, err, err_len);
        if (best == NULL)
            return false;
        sc = best;
    }
    n = sc->n_vms;

    mb_params_init(&params);
    params.kind = policy_kind(config->policy);
    if (config->alpha != 0.0)
        params.alpha = config->alpha;
    if (config->min_step_kib != 0)
        params.min_step_kib = config->min_step_kib;
    params.pool_kib = sc->pool_kib;
    params.reserve_kib = sc->reserve_kib;
    params.free_reserve_ratio = MB_GUEST_FREE_RESERVE;
    params.page_kib = MB_GUEST_PAGE_KIB;
    if (!mb_params_validate(&params, &why)) {
        snprintf(err, err_len, "%s", why);
        mb_scenario_free(best);
        return false;
    }

    result->vms = calloc(n ? n : 1, sizeof(*result->vms));
    if (result->vms == NULL || !run_alloc(&run, n, config->seed)) {
        snprintf(err, err_len, "out of memory");
        run_free(&run);
        mb_sim_result_clear(result);
        mb_scenario_free(best);
        return false;
    }
    result->n_vms = n;
    snprintf(result->scenario, sizeof(result->scenario), "%s", scenario->name);
    snprintf(result->policy, sizeof(result->policy), "%s",
             mb_sim_policy_to_string(config->policy));

    for (size_t i = 0; i < n; i++) {
        const MbScenarioVm *v = &sc->vms[i];
        mb_guest_init(&run.guests[i], v->workload, v->alloc_kib);
        mb_guest_set_model(&run.guests[i], v->model);
        mb_guest_set_variant(&run.guests[i], v->variant);
        mb_guest_set_delay(&run.guests[i], v->delay_ticks);
        mb_vm_init(&run.vms[i], v->name, &v->settings, v->alloc_kib);
        result->vms[i].alloc_min_kib = v->alloc_kib;
        result->vms[i].alloc_max_kib = v->alloc_kib;
    }

    max_ticks = config->max_ticks ? config->max_ticks : default_max_ticks(sc);
    capacity_kib = mb_params_capacity_kib(&params);
    result->max_sum_kib = actual_sum_kib(run.guests, n);
    for (size_t i = 0; i < n; i++)
        travelling = travelling || mb_guest_travels(&run.guests[i]);
    for (unsigned tick = 1; tick <= max_ticks; tick++) {
        uint64_t actual_before_kib = actual_sum_kib(run.guests, n), sum_kib;
        size_t n_moved = 0;
        char what[256];

        for (size_t i = 0; i < n; i++) {
            MbVm *vm = &run.vms[i];
            mb_guest_tick(&run.guests[i]);
            mb_guest_sample(&run.guests[i], &run.samples[i]);
            /* The daemon's view: where it asked the balloon to be (the
             * balloon is there unless the guest's model makes it travel). */
            vm->alloc_kib = run.guests[i].target_kib;
            run.predicted_kib[i] = vm->has_delta ? vm->delta_kib : 0;
            mb_vm_observe(vm, &run.samples[i], &params);
        }
        check_actual(&run, n, capacity_kib, actual_before_kib, tick, result);
        set_foreground(sc, run.vms, tick);
        if (!mb_planner_plan(run.planner, run.vms, n, &params, &n_moved)) {
            snprintf(err, err_len, "the planner refused to plan (tick %u)", tick);
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            run.prev_alloc_kib[i] = run.vms[i].alloc_kib;
        if (!mb_sim_check_tick(run.vms, run.prev_alloc_kib, n, capacity_kib,
                               params.min_step_kib, what, sizeof(what)))
            note_violation(result, tick, what);
        if (travelling) {
            apply_travelling(&run, n, capacity_kib, params.min_step_kib, tick, result);
        } else {
            for (size_t i = 0; i < n; i++)
                mb_guest_set_alloc(&run.guests[i], run.vms[i].target_kib);
        }
        for (size_t i = 0; i < n; i++) {
            MbVm *vm = &run.vms[i];
            MbSimVmResult *r = &result->vms[i];
            if (vm->target_kib < r->alloc_min_kib)
                r->alloc_min_kib = vm->target_kib;
            if (vm->target_kib > r->alloc_max_kib)
                r->alloc_max_kib = vm->target_kib;
        }
        /* Each VM's own view follows its new balloon. */
        for (size_t i = 0; i < n; i++)
            run.vms[i].alloc_kib = run.vms[i].target_kib;
        /* (A balloon set at once moved after the last check.) */
        sum_kib = actual_sum_kib(run.guests, n);
        if (sum_kib > result->max_sum_kib)
            result->max_sum_kib = sum_kib;
        if (n_moved > 0)
            result->rebalances++;
        result->ticks = tick;
        if (config->on_tick != NULL) {
            MbSimTick t = {
                .tick = tick,
                .n_vms = n,
                .guests = run.guests,
                .vms = run.vms,
                .samples = run.samples,
                .prev_alloc_kib = run.prev_alloc_kib,
                .predicted_kib = run.predicted_kib,
                .n_moved = n_moved,
            };
            config->on_tick(&t, config->user_data);
        }
        if (all_finished(run.guests, n))
            break;
    }
    result->capped = !all_finished(run.guests, n);
    fill_results(sc, &run, result);
    ok = true;

out:
    run_free(&run);
    mb_scenario_free(best);
    if (!ok)
        mb_sim_result_clear(result);
    return ok;
}
