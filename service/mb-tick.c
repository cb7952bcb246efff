/* The interval loop: read every VM's statistics (worker thread), predict
 * and plan (main thread), move the memory (worker thread), publish
 * (main thread). The backend may block, the main loop never does. */
#include "mb-daemon-private.h"

#include "mb-error.h"
#include "mb-log.h"

typedef struct {
    char *name;
    MbSample sample;
    MbStatsSource source;
    guint64 alloc_kib;
    MbVmStatus status;
    gboolean ok;
    char *error;
} TickRead;

typedef struct {
    char *name;
    guint64 from_kib;
    guint64 to_kib;
    MbReason reason;
    gboolean ok;
    char *error;
} TickMove;

typedef struct {
    MbDaemon *daemon; /* outlives the job: mb_tick_stop() waits for it */
    MbBackend *backend;
    GArray *reads; /* TickRead */
    GArray *moves; /* TickMove */
    gint64 now_us;
} TickJob;

static void tick_begin(MbDaemon *daemon);

static void
tick_read_clear(TickRead *read)
{
    g_free(read->name);
    g_free(read->error);
}

static void
tick_move_clear(TickMove *move)
{
    g_free(move->name);
    g_free(move->error);
}

static void
tick_job_free(TickJob *job)
{
    g_array_unref(job->reads);
    g_array_unref(job->moves);
    g_free(job);
}

void
mb_tick_init(MbDaemon *daemon)
{
    daemon->waiters = g_array_new(FALSE, FALSE, sizeof(MbTickWaiter));
    daemon->next_waiters = g_array_new(FALSE, FALSE, sizeof(MbTickWaiter));
    daemon->scratch = g_array_new(FALSE, TRUE, sizeof(MbVm));
}

static void
run_waiters(GArray *waiters)
{
    g_autoptr(GArray) now = g_array_copy(waiters);

    g_array_set_size(waiters, 0);
    for (guint i = 0; i < now->len; i++) {
        MbTickWaiter *waiter = &g_array_index(now, MbTickWaiter, i);
        waiter->func(waiter->data);
    }
}

void
mb_tick_clear(MbDaemon *daemon)
{
    /* Nobody waits any more: complete whoever asked. */
    if (daemon->waiters != NULL) {
        run_waiters(daemon->waiters);
        run_waiters(daemon->next_waiters);
    }
    g_clear_pointer(&daemon->waiters, g_array_unref);
    g_clear_pointer(&daemon->next_waiters, g_array_unref);
    g_clear_pointer(&daemon->scratch, g_array_unref);
    g_clear_pointer(&daemon->planner, mb_planner_free);
}

void
mb_tick_params(MbDaemon *daemon, MbParams *params)
{
    mb_config_to_params(daemon->config, params);
    if (params->pool_kib == 0)
        params->pool_kib = mb_backend_host_memory_kib(daemon->backend);
    if (params->pool_kib == 0) {
        /* Auto without a host size (the fake): redistribute what the VMs
         * have, never more. Offline VMs hold nothing. */
        guint64 sum = 0;
        for (guint i = 0; i < daemon->vms->len; i++)
            sum += mb_vm_object_get_vm(g_ptr_array_index(daemon->vms, i))->alloc_kib;
        params->pool_kib = sum + params->reserve_kib;
    }
}

static gboolean
on_timer(gpointer user_data)
{
    MbDaemon *daemon = user_data;

    /* Paused: statistics still flow, nothing moves (see plan()). */
    if (!daemon->tick_running)
        tick_begin(daemon);
    return G_SOURCE_CONTINUE;
}

void
mb_tick_start(MbDaemon *daemon)
{
    if (daemon->timer_id == 0)
        daemon->timer_id = g_timeout_add(daemon->config->interval_ms, on_timer, daemon);
}

void
mb_tick_stop(MbDaemon *daemon)
{
    if (daemon->timer_id != 0) {
        g_source_remove(daemon->timer_id);
        daemon->timer_id = 0;
    }
    /* A worker may be talking to the backend: let it finish. */
    daemon->tick_again = FALSE;
    while (daemon->tick_running)
        g_main_context_iteration(NULL, TRUE);
}

void
mb_daemon_rebalance(MbDaemon *daemon, GDestroyNotify done, gpointer user_data)
{
    MbTickWaiter waiter = {done, user_data};

    if (daemon->tick_running) {
        /* The running tick may have read its samples already: the caller
         * gets a whole tick of its own. */
        g_array_append_val(daemon->next_waiters, waiter);
        daemon->tick_again = TRUE;
        return;
    }
    g_array_append_val(daemon->waiters, waiter);
    daemon->tick_forced = TRUE;
    tick_begin(daemon);
}

/* Worker thread. */
static void
read_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
    TickJob *job = task_data;

    mb_backend_begin_tick(job->backend);
    for (guint i = 0; i < job->reads->len; i++) {
        TickRead *read = &g_array_index(job->reads, TickRead, i);
        g_autoptr(GError) error = NULL;

        read->ok = mb_backend_read_sample(job->backend, read->name, &read->sample,
                                          &read->source, &read->alloc_kib, &error);
        if (!read->ok)
            read->error = g_strdup(error->message);
        mb_backend_get_status(job->backend, read->name, &read->status);
    }
    g_task_return_boolean(task, TRUE);
}

/* Worker thread: shrink first, so the host has the memory before any VM grows. */
static void
apply_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
    TickJob *job = task_data;

    for (int pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < job->moves->len; i++) {
            TickMove *move = &g_array_index(job->moves, TickMove, i);
            g_autoptr(GError) error = NULL;
            gboolean shrink = move->to_kib < move->from_kib;

            if (shrink != (pass == 0))
                continue;
            move->ok = mb_backend_set_target(job->backend, move->name, move->to_kib, &error);
            if (!move->ok)
                move->error = g_strdup(error->message);
        }
    }
    g_task_return_boolean(task, TRUE);
}

static void
tick_finish(MbDaemon *daemon, TickJob *job)
{
    daemon->tick_running = FALSE;
    daemon->tick_forced = FALSE;
    daemon->n_ticks++;
    run_waiters(daemon->waiters);
    if (daemon->tick_again) {
        GArray *swap = daemon->waiters;

        daemon->waiters = daemon->next_waiters;
        daemon->next_waiters = swap;
        daemon->tick_again = FALSE;
        daemon->tick_forced = TRUE;
        if (daemon->timer_id != 0)
            tick_begin(daemon);
        else
            run_waiters(daemon->waiters);
    }
    if (job != NULL)
        tick_job_free(job);
}

static void
publish(MbDaemon *daemon, TickJob *job)
{
    g_autoptr(GVariantBuilder) builder = g_variant_builder_new(G_VARIANT_TYPE("a(sx)"));
    g_autoptr(GString) message = g_string_new("rebalanced:");
    g_autoptr(GArray) fields = g_array_new(FALSE, FALSE, sizeof(GLogField));
    g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);
    MbParams params;
    guint n_moved = 0;

    for (guint i = 0; i < job->moves->len; i++) {
        TickMove *move = &g_array_index(job->moves, TickMove, i);
        MbVmObject *vm = g_hash_table_lookup(daemon->vms_by_name, move->name);
        gint64 change = (gint64)move->to_kib - (gint64)move->from_kib;
        char *change_text;

        if (!move->ok) {
            mb_log(G_LOG_LEVEL_WARNING, "MB_VM", move->name,
                   "could not move VM '%s' from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                   " KiB: %s",
                   move->name, move->from_kib, move->to_kib, move->error);
            continue;
        }
        if (vm != NULL)
            mb_vm_object_moved(vm, move->to_kib, move->reason);
        g_variant_builder_add(builder, "(sx)", move->name, change);
        g_string_append_printf(message, " %s %+" G_GINT64_FORMAT " KiB (%s);", move->name,
                               change, mb_reason_to_string(move->reason));
        change_text = g_strdup_printf("%" G_GINT64_FORMAT, change);
        g_ptr_array_add(strings, change_text);
        g_array_append_vals(
            fields,
            (GLogField[]){{"MB_VM", move->name, -1},
                          {"MB_MOVE_KIB", change_text, -1},
                          {"MB_REASON", mb_reason_to_keyword(move->reason), -1}},
            3);
        n_moved++;
    }
    for (guint i = 0; i < daemon->vms->len; i++)
        mb_vm_object_publish(g_ptr_array_index(daemon->vms, i));
    mb_tick_params(daemon, &params);
    mb_mem_balancer_set_pool_kib(MB_MEM_BALANCER(daemon->manager), params.pool_kib);
    mb_mem_balancer_set_connected(MB_MEM_BALANCER(daemon->manager),
                                  mb_backend_is_connected(daemon->backend));
    g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(daemon->manager));
    if (n_moved == 0)
        return;
    g_string_truncate(message, message->len - 1);
    g_array_append_val(
        fields,
        ((GLogField){"MB_POLICY", mb_policy_kind_to_string(daemon->config->policy), -1}));
    mb_log_fields(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, (GLogField *)(void *)fields->data,
                  fields->len, message->str);
    mb_mem_balancer_emit_rebalanced(MB_MEM_BALANCER(daemon->manager),
                                    g_variant_builder_end(builder));
}

static void
on_applied(GObject *source, GAsyncResult *result, gpointer user_data)
{
    MbDaemon *daemon = user_data;
    TickJob *job = g_task_get_task_data(G_TASK(result));

    publish(daemon, job);
    tick_finish(daemon, job);
}

static gboolean
plan(MbDaemon *daemon, TickJob *job)
{
    g_autoptr(GPtrArray) planned = g_ptr_array_new(); /* MbVmObject, scratch order */
    guint n;
    MbParams params;
    size_t n_moved = 0;

    /* Disconnected from the hypervisor: blind, nothing moves. */
    if (!mb_backend_is_connected(daemon->backend))
        return FALSE;
    /* Offline VMs are not planned: they hold no memory. */
    for (guint i = 0; i < daemon->vms->len; i++) {
        MbVmObject *vm = g_ptr_array_index(daemon->vms, i);
        if (mb_vm_object_get_state(vm) != MB_VM_STATE_OFFLINE)
            g_ptr_array_add(planned, vm);
    }
    n = planned->len;
    if (n == 0 || (daemon->paused && !daemon->tick_forced))
        return FALSE;
    if (daemon->planner == NULL || mb_planner_capacity(daemon->planner) < n) {
        g_clear_pointer(&daemon->planner, mb_planner_free);
        daemon->planner = mb_planner_new(MAX(16u, n * 2), (uint64_t)g_get_monotonic_time());
        if (daemon->planner == NULL)
            return FALSE;
    }
    mb_tick_params(daemon, &params);
    g_array_set_size(daemon->scratch, n);
    for (guint i = 0; i < n; i++) {
        MbVmObject *object = g_ptr_array_index(planned, i);
        MbVm *vm = &g_array_index(daemon->scratch, MbVm, i);

        *vm = *mb_vm_object_get_vm(object);
        /* A stuck balloon is not asked again, but its memory counts. */
        if (mb_vm_object_get_state(object) == MB_VM_STATE_STUCK)
            vm->settings.min_kib = vm->settings.max_kib = vm->alloc_kib;
    }
    if (!mb_planner_plan(daemon->planner, (MbVm *)(void *)daemon->scratch->data, n, &params,
                         &n_moved)) {
        mb_log(G_LOG_LEVEL_WARNING, NULL, NULL, "the planner refused to plan %u VMs", n);
        return FALSE;
    }
    for (guint i = 0; i < n; i++) {
        const MbVm *vm = &g_array_index(daemon->scratch, MbVm, i);
        TickMove move = {0};

        MbVm *kept = mb_vm_object_get_vm(g_ptr_array_index(planned, i));

        /* The planner also writes reason for VMs that stay; keep only moves. */
        kept->target_kib = vm->target_kib;
        kept->reason = vm->reason;
        if (vm->target_kib == vm->alloc_kib)
            continue;
        move.name = g_strdup(vm->name);
        move.from_kib = vm->alloc_kib;
        move.to_kib = vm->target_kib;
        move.reason = vm->reason;
        g_array_append_val(job->moves, move);
    }
    return job->moves->len > 0;
}

static void
on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
    MbDaemon *daemon = user_data;
    TickJob *job = g_task_get_task_data(G_TASK(result));
    MbParams params;

    mb_tick_params(daemon, &params);
    for (guint i = 0; i < job->reads->len; i++) {
        TickRead *read = &g_array_index(job->reads, TickRead, i);
        MbVmObject *vm = g_hash_table_lookup(daemon->vms_by_name, read->name);

        if (vm == NULL)
            continue; /* unregistered meanwhile */
        if (!read->ok) {
            mb_log(G_LOG_LEVEL_DEBUG, "MB_VM", read->name, "no statistics from VM '%s': %s",
                   read->name, read->error);
            read->source = MB_STATS_SOURCE_NONE;
            read->alloc_kib = mb_vm_object_get_vm(vm)->alloc_kib;
        }
        mb_vm_object_update_status(vm, &read->status, read->alloc_kib);
        if (mb_vm_object_get_state(vm) == MB_VM_STATE_OFFLINE)
            continue;
        mb_vm_object_observe(vm, &read->sample, read->source, read->alloc_kib, job->now_us,
                             &params);
    }
    if (!plan(daemon, job)) {
        publish(daemon, job);
        tick_finish(daemon, job);
        return;
    }
    g_autoptr(GTask) task = g_task_new(NULL, NULL, on_applied, daemon);
    g_task_set_task_data(task, job, NULL); /* the callback owns it */
    g_task_run_in_thread(task, apply_thread);
}

static void
tick_begin(MbDaemon *daemon)
{
    TickJob *job = g_new0(TickJob, 1);

    daemon->tick_running = TRUE;
    job->daemon = daemon;
    job->backend = daemon->backend;
    job->now_us = g_get_monotonic_time();
    job->reads = g_array_sized_new(FALSE, TRUE, sizeof(TickRead), daemon->vms->len);
    job->moves = g_array_new(FALSE, TRUE, sizeof(TickMove));
    g_array_set_clear_func(job->reads, (GDestroyNotify)tick_read_clear);
    g_array_set_clear_func(job->moves, (GDestroyNotify)tick_move_clear);
    for (guint i = 0; i < daemon->vms->len; i++) {
        TickRead read = {0};
        read.name = g_strdup(mb_vm_object_get_name(g_ptr_array_index(daemon->vms, i)));
        g_array_append_val(job->reads, read);
    }
    g_autoptr(GTask) task = g_task_new(NULL, NULL, on_read, daemon);
    g_task_set_task_data(task, job, NULL); /* the callback owns it */
    g_task_run_in_thread(task, read_thread);
}
