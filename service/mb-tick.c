/* The interval loop: read every VM's statistics (worker thread), predict
 * and plan (main thread), move the memory (worker thread), publish
 * (main thread). The backend may block, the main loop never does. */
#include "mb-tick.h"

#include "mb-engine-core-private.h"
#include "mb-error.h"
#include "mb-log.h"
#include "mb-tick-apply.h"
#include "mb-tick-urgent.h"

typedef struct {
    char *name;
    MbSample sample;
    MbStatsSource source;
    guint64 alloc_kib; /* the balloon, as the backend reports it */
    guint64 page_kib;
    gint64 sample_us; /* when the sample reached the host (backend's clock), 0: unknown */
    MbVmStatus status;
    gboolean ok;
    char *error;
} TickRead;

static void tick_begin(MbEngine *engine, gboolean urgent);

static void
tick_read_clear(TickRead *read)
{
    g_free(read->name);
    g_free(read->error);
}

static void
tick_account_clear(TickAccount *account)
{
    g_free(account->name);
    g_free(account->error);
}

static void
tick_job_free(TickJob *job)
{
    g_array_unref(job->reads);
    g_array_unref(job->accounts);
    g_array_unref(job->grant_vms);
    g_array_unref(job->grows);
    g_hash_table_unref(job->changes.unregistered);
    g_mutex_clear(&job->changes.lock);
    g_free(job);
}

/* The regular clock: every interval gets its tick, and every VM its
 * urgent budget back. A tick still running delays the interval's tick
 * (tick_finish starts it before any urgent one), never drops it. */
static gboolean
on_timer(gpointer user_data)
{
    MbEngine *engine = user_data;

    g_hash_table_remove_all(engine->urgent_used);
    /* Paused: statistics still flow, nothing moves (see plan()). */
    if (engine->stopping)
        return G_SOURCE_CONTINUE;
    if (engine->tick_running)
        engine->interval_due = TRUE;
    else
        tick_begin(engine, FALSE);
    return G_SOURCE_CONTINUE;
}

void
mb_tick_start(MbEngine *engine)
{
    if (engine->timer_id == 0 && !engine->stopping)
        engine->timer_id = g_timeout_add(engine->config->interval_ms, on_timer, engine);
}

static void urgent_try(MbEngine *engine);

static gboolean
on_urgent_gap(gpointer user_data)
{
    MbEngine *engine = user_data;

    engine->urgent_id = 0;
    urgent_try(engine);
    return G_SOURCE_REMOVE;
}

/* Starts the urgent tick that waits, if it may start now (a running
 * tick calls this when it finishes). */
static void
urgent_try(MbEngine *engine)
{
    if (mb_tick_urgent_due(engine, on_urgent_gap))
        tick_begin(engine, TRUE);
}

void
mb_tick_urgent(gpointer user_data, const char *vm_name, unsigned urgent)
{
    MbEngine *engine = user_data;

    if (mb_tick_urgent_record(engine, vm_name, urgent))
        urgent_try(engine);
}

void
mb_tick_stop(MbEngine *engine)
{
    if (engine->timer_id != 0) {
        g_source_remove(engine->timer_id);
        engine->timer_id = 0;
    }
    mb_tick_urgent_clear(engine);
    /* No tick starts from here on (engine->stopping); the running one is
     * drained with the other workers by mb_engine_stop(). */
    engine->tick_again = FALSE;
}

void
mb_engine_rebalance(MbEngine *engine, GDestroyNotify done, gpointer user_data)
{
    MbTickWaiter waiter = {done, user_data};

    if (engine->stopping) {
        done(user_data);
        return;
    }
    if (engine->tick_running) {
        /* The running tick may have read its samples already: the caller
         * gets a whole tick of its own. */
        g_array_append_val(engine->next_waiters, waiter);
        engine->tick_again = TRUE;
        return;
    }
    g_array_append_val(engine->waiters, waiter);
    engine->tick_forced = TRUE;
    tick_begin(engine, FALSE);
}

/* Worker thread. */
static void
read_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
    TickJob *job = task_data;

    mb_backend_begin_tick(job->backend, job->urgent);
    for (guint i = 0; i < job->reads->len; i++) {
        TickRead *read = &g_array_index(job->reads, TickRead, i);
        g_autoptr(GError) error = NULL;

        if (g_cancellable_is_cancelled(cancellable))
            break;
        read->ok = mb_backend_read_sample(job->backend, read->name, &read->sample,
                                          &read->source, &read->alloc_kib, &error);
        if (!read->ok)
            read->error = g_strdup(error->message);
        read->page_kib = mb_backend_page_kib(job->backend, read->name);
        read->sample_us = mb_backend_sample_us(job->backend, read->name);
        mb_backend_get_status(job->backend, read->name, &read->status);
    }
    g_task_return_boolean(task, TRUE);
}

void
mb_tick_vm_registered(MbEngine *engine, MbEngineVm *vm)
{
    MbTickChanges *changes = engine->tick_changes;

    if (changes == NULL)
        return;
    g_mutex_lock(&changes->lock);
    changes->registered_kib += mb_engine_vm_committed_kib(vm);
    g_mutex_unlock(&changes->lock);
}

void
mb_tick_vm_unregistered(MbEngine *engine, const char *name)
{
    MbTickChanges *changes = engine->tick_changes;

    if (changes == NULL)
        return;
    g_mutex_lock(&changes->lock);
    g_hash_table_add(changes->unregistered, g_strdup(name));
    g_mutex_unlock(&changes->lock);
}

static void
tick_finish(MbEngine *engine, TickJob *job)
{
    engine->tick_running = FALSE;
    engine->tick_forced = FALSE;
    mb_engine_run_waiters(engine->waiters);
    if (engine->tick_again) {
        GArray *swap = engine->waiters;

        engine->waiters = engine->next_waiters;
        engine->next_waiters = swap;
        engine->tick_again = FALSE;
        engine->tick_forced = TRUE;
        if (engine->timer_id != 0 && !engine->stopping)
            tick_begin(engine, FALSE);
        else
            mb_engine_run_waiters(engine->waiters);
    } else if (engine->interval_due && engine->timer_id != 0 && !engine->stopping) {
        tick_begin(engine, FALSE); /* the interval's own, late */
    }
    if (job != NULL)
        tick_job_free(job);
    urgent_try(engine);
}

static void
publish(MbEngine *engine, TickJob *job)
{
    g_autoptr(GVariantBuilder) builder = g_variant_builder_new(G_VARIANT_TYPE("a(sx)"));
    g_autoptr(GString) message = g_string_new("rebalanced:");
    g_autoptr(GArray) fields = g_array_new(FALSE, FALSE, sizeof(GLogField));
    g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);
    guint n_moved = 0;

    for (guint i = 0; i < job->accounts->len; i++) {
        TickAccount *a = &g_array_index(job->accounts, TickAccount, i);
        const MbGrantVm *g = &g_array_index(job->grant_vms, MbGrantVm, i);
        MbEngineVm *vm = g_hash_table_lookup(engine->vms_by_name, a->name);
        gint64 change = (gint64)g->set_kib - (gint64)a->from_kib;
        char *change_text;

        if (a->failed) {
            mb_log(G_LOG_LEVEL_WARNING, "MB_VM", a->name,
                   "could not move VM '%s' from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                   " KiB: %s",
                   a->name, a->from_kib, g->want_kib, a->error);
            if (vm != NULL && mb_engine_vm_target_failed(vm))
                mb_log_id(G_LOG_LEVEL_WARNING, MB_MESSAGE_ID_STUCK, "MB_VM", a->name,
                          "VM '%s' is stuck: %u failed moves in a row; held at its size for %u "
                          "intervals, and nobody is given the memory it was to release",
                          a->name, MB_VM_FAIL_LIMIT, MB_VM_FAIL_HOLD_TICKS);
        }
        if (!g->changed)
            continue;
        if (vm != NULL)
            mb_engine_vm_target_set(vm, g->set_kib, a->reason);
        if (g->set_kib != g->want_kib && !a->failed)
            mb_log(G_LOG_LEVEL_DEBUG, "MB_VM", a->name,
                   "VM '%s' got %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                   " KiB now: the rest waits for donors' balloons",
                   a->name, g->set_kib, g->want_kib);
        if (change == 0)
            continue;
        g_variant_builder_add(builder, "(sx)", a->name, change);
        g_string_append_printf(message, " %s %+" G_GINT64_FORMAT " KiB (%s);", a->name, change,
                               mb_reason_to_string(a->reason));
        change_text = g_strdup_printf("%" G_GINT64_FORMAT, change);
        g_ptr_array_add(strings, change_text);
        g_array_append_vals(fields,
                            (GLogField[]){{"MB_VM", a->name, -1},
                                          {"MB_MOVE_KIB", change_text, -1},
                                          {"MB_REASON", mb_reason_to_keyword(a->reason), -1}},
                            3);
        n_moved++;
    }
    for (guint i = 0; i < engine->vms->len; i++)
        mb_engine_vm_publish(g_ptr_array_index(engine->vms, i));
    mb_engine_update_figures(engine);
    if (n_moved == 0)
        return;
    g_string_truncate(message, message->len - 1);
    g_array_append_val(
        fields,
        ((GLogField){"MB_POLICY", mb_policy_kind_to_string(engine->config->policy), -1}));
    g_array_append_val(fields, ((GLogField){"MESSAGE_ID", MB_MESSAGE_ID_REBALANCED, -1}));
    mb_log_fields(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, (GLogField *)(void *)fields->data,
                  fields->len, message->str);
    mb_engine_emit_rebalanced(engine, g_variant_builder_end(builder));
}

static void
on_applied(GObject *source, GAsyncResult *result, gpointer user_data)
{
    MbEngine *engine = MB_ENGINE(source);
    TickJob *job = g_task_get_task_data(G_TASK(result));

    mb_engine_worker_done(engine);
    engine->tick_changes = NULL;
    publish(engine, job);
    tick_finish(engine, job);
}

static gboolean
plan(MbEngine *engine, TickJob *job)
{
    g_autoptr(GPtrArray) planned = g_ptr_array_new(); /* MbEngineVm, scratch order */
    guint n;
    MbParams params;
    size_t n_moved = 0;
    guint n_moves = 0;

    /* Disconnected from the hypervisor: blind, nothing moves. */
    if (!mb_backend_is_connected(engine->backend))
        return FALSE;
    /* Offline VMs are not planned: they hold no memory. */
    for (guint i = 0; i < engine->vms->len; i++) {
        MbEngineVm *vm = g_ptr_array_index(engine->vms, i);
        if (mb_engine_vm_get_state(vm) != MB_VM_STATE_OFFLINE)
            g_ptr_array_add(planned, vm);
    }
    n = planned->len;
    if (n == 0 || (engine->paused && !engine->tick_forced))
        return FALSE;
    if (engine->planner == NULL || mb_planner_capacity(engine->planner) < n) {
        g_clear_pointer(&engine->planner, mb_planner_free);
        engine->planner = mb_planner_new(MAX(16u, n * 2), (uint64_t)g_get_monotonic_time());
        if (engine->planner == NULL)
            return FALSE;
    }
    mb_engine_params(engine, &params);
    g_array_set_size(engine->scratch, n);
    for (guint i = 0; i < n; i++) {
        MbEngineVm *object = g_ptr_array_index(planned, i);
        MbVm *vm = &g_array_index(engine->scratch, MbVm, i);

        *vm = *mb_engine_vm_get_vm(object);
        /* A stuck balloon is not asked again, but its memory counts. */
        if (mb_engine_vm_get_state(object) == MB_VM_STATE_STUCK)
            vm->settings.min_kib = vm->settings.max_kib = vm->alloc_kib;
    }
    if (!mb_planner_plan(engine->planner, (MbVm *)(void *)engine->scratch->data, n, &params,
                         &n_moved)) {
        mb_log(G_LOG_LEVEL_WARNING, NULL, NULL, "the planner refused to plan %u VMs", n);
        return FALSE;
    }
    job->capacity_kib = mb_params_capacity_kib(&params);
    job->min_step_kib = params.min_step_kib;
    job->wait_ms = MIN(engine->config->interval_ms * 3 / 4, 2000u);
    for (guint i = 0; i < n; i++) {
        const MbVm *vm = &g_array_index(engine->scratch, MbVm, i);
        MbEngineVm *object = g_ptr_array_index(planned, i);
        MbVm *kept = mb_engine_vm_get_vm(object);
        TickAccount a = {0};
        MbGrantVm g;
        gboolean move;

        /* The planner also writes reason for VMs that stay. */
        kept->target_kib = vm->target_kib;
        kept->reason = vm->reason;
        a.name = g_strdup(vm->name);
        a.from_kib = vm->alloc_kib;
        a.reason = vm->reason;
        move = vm->target_kib != vm->alloc_kib &&
               mb_engine_vm_get_state(object) == MB_VM_STATE_RUNNING;
        n_moves += move;
        /* A donor of an earlier tick still on its way counts at its balloon
         * and is polled with this tick's donors; a growth still on its way
         * whose target this tick lowers counts at its old one (mb-grant.h). */
        mb_grant_vm_init(&g, a.name, vm->settings.priority, vm->settings.foreground,
                         mb_engine_vm_get_actual(object), mb_engine_vm_committed_kib(object),
                         mb_engine_vm_planned_kib(object), vm->target_kib, move);
        g_array_append_val(job->grant_vms, g);
        g_array_append_val(job->accounts, a);
    }
    return n_moves > 0;
}

static void
on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
    MbEngine *engine = MB_ENGINE(source);
    TickJob *job = g_task_get_task_data(G_TASK(result));
    MbParams params;

    mb_engine_worker_done(engine);
    if (engine->stopping) {
        tick_finish(engine, job);
        return;
    }
    mb_engine_params(engine, &params);
    for (guint i = 0; i < job->reads->len; i++) {
        TickRead *read = &g_array_index(job->reads, TickRead, i);
        MbEngineVm *vm = g_hash_table_lookup(engine->vms_by_name, read->name);

        if (vm == NULL)
            continue; /* unregistered meanwhile */
        if (!read->ok) {
            mb_log(G_LOG_LEVEL_DEBUG, "MB_VM", read->name, "no statistics from VM '%s': %s",
                   read->name, read->error);
            read->source = MB_STATS_SOURCE_NONE;
            read->alloc_kib = mb_engine_vm_get_actual(vm);
        }
        mb_engine_vm_update_status(vm, &read->status, read->alloc_kib);
        if (!job->urgent)
            mb_engine_vm_interval_passed(vm);
        if (mb_engine_vm_get_state(vm) == MB_VM_STATE_OFFLINE)
            continue;
        /* An urgent tick comes before the interval is over: a VM with no
         * new sample yet has missed nothing; nor has one whose sample of
         * this interval an urgent tick read. */
        if (read->source == MB_STATS_SOURCE_NONE &&
            (job->urgent || mb_engine_vm_get_last_update(vm) > job->last_regular_us)) {
            mb_engine_vm_skip_sample(vm);
            continue;
        }
        mb_engine_vm_observe(vm, &read->sample, read->source, read->page_kib, job->now_us,
                             read->sample_us, (gint64)engine->config->interval_ms * 1000,
                             &params);
    }
    if (!plan(engine, job)) {
        publish(engine, job);
        tick_finish(engine, job);
        return;
    }
    g_autoptr(GTask) task = mb_engine_new_worker_task(engine, on_applied, NULL);
    g_task_set_task_data(task, job, NULL); /* the callback owns it */
    engine->tick_changes = &job->changes;
    g_task_run_in_thread(task, mb_tick_apply_thread);
}

static void
tick_begin(MbEngine *engine, gboolean urgent)
{
    TickJob *job = g_new0(TickJob, 1);

    job->urgent = urgent;
    engine->tick_running = TRUE;
    if (urgent)
        mb_tick_urgent_charge(engine);
    else
        engine->interval_due = FALSE; /* an interval's tick: this one */
    job->backend = engine->backend;
    g_mutex_init(&job->changes.lock);
    job->changes.unregistered = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    job->now_us = g_get_monotonic_time();
    engine->tick_began_us = job->now_us;
    job->last_regular_us = engine->regular_began_us;
    if (!urgent)
        engine->regular_began_us = job->now_us;
    /* This tick reads whatever urgent record came before it. */
    mb_tick_urgent_clear(engine);
    job->reads = g_array_sized_new(FALSE, TRUE, sizeof(TickRead), engine->vms->len);
    job->accounts = g_array_new(FALSE, TRUE, sizeof(TickAccount));
    job->grant_vms = g_array_new(FALSE, TRUE, sizeof(MbGrantVm));
    job->grows = g_array_new(FALSE, TRUE, sizeof(size_t));
    g_array_set_clear_func(job->reads, (GDestroyNotify)tick_read_clear);
    g_array_set_clear_func(job->accounts, (GDestroyNotify)tick_account_clear);
    for (guint i = 0; i < engine->vms->len; i++) {
        TickRead read = {0};
        read.name = g_strdup(mb_engine_vm_get_name(g_ptr_array_index(engine->vms, i)));
        g_array_append_val(job->reads, read);
    }
    g_autoptr(GTask) task = mb_engine_new_worker_task(engine, on_read, NULL);
    g_task_set_task_data(task, job, NULL); /* the callback owns it */
    g_task_run_in_thread(task, read_thread);
}
