/* The interval loop: read every VM's statistics (worker thread), predict
 * and plan (main thread), move the memory (worker thread), publish
 * (main thread). The backend may block, the main loop never does. */
#include "mb-daemon-private.h"

#include <string.h>

#include "mb-error.h"
#include "mb-log.h"

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

/* One planned VM in the pool's accounting, and its move if it has one. */
typedef struct {
    char *name;
    guint priority;
    gboolean foreground;
    guint64 actual_kib; /* the balloon */
    guint64 set_kib;    /* what it may hold by its target: committed, then each new target */
    guint64 rising_kib; /* > 0: its balloon was still deflating toward this target
                         * in force when the tick began; a guest finishes the
                         * batch it is deflating before it sees a lower target,
                         * so it may rise up to it first. Counted until the
                         * balloon is seen at its new target or at this one. */
    guint64 from_kib;   /* as the planner counted it */
    guint64 want_kib;   /* the planner's target */
    MbReason reason;
    gboolean move;    /* want_kib != from_kib */
    gboolean changed; /* set_kib changed this tick */
    gboolean gone;    /* unregistered meanwhile: its balloon is left alone */
    gboolean failed;
    char *error;
} TickAccount;

/* What the main thread tells the worker while it moves the balloons
 * (daemon->tick_changes). */
struct _MbTickChanges {
    GMutex lock;
    guint64 registered_kib;   /* held by the VMs registered since the plan */
    GHashTable *unregistered; /* names unregistered since the plan */
};

typedef struct {
    MbBackend *backend;
    MbTickChanges changes;
    GArray *reads;    /* TickRead */
    GArray *accounts; /* TickAccount */
    gint64 now_us;
    gint64 last_regular_us; /* when the last regular tick before this one began */
    gboolean urgent;        /* an urgent tick, before the interval is over */
    guint64 capacity_kib;
    guint64 min_step_kib;
    guint wait_ms; /* how long growth may wait for donors' balloons */
} TickJob;

static void tick_begin(MbDaemon *daemon, gboolean urgent);

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
    g_hash_table_unref(job->changes.unregistered);
    g_mutex_clear(&job->changes.lock);
    g_free(job);
}

void
mb_tick_init(MbDaemon *daemon)
{
    daemon->waiters = g_array_new(FALSE, FALSE, sizeof(MbTickWaiter));
    daemon->next_waiters = g_array_new(FALSE, FALSE, sizeof(MbTickWaiter));
    daemon->scratch = g_array_new(FALSE, TRUE, sizeof(MbVm));
    daemon->urgent_asked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    daemon->urgent_used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
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
mb_tick_complete_waiters(MbDaemon *daemon)
{
    /* Nobody ticks any more: complete whoever asked. */
    if (daemon->waiters != NULL) {
        run_waiters(daemon->waiters);
        run_waiters(daemon->next_waiters);
    }
}

void
mb_tick_clear(MbDaemon *daemon)
{
    mb_tick_complete_waiters(daemon);
    g_clear_pointer(&daemon->waiters, g_array_unref);
    g_clear_pointer(&daemon->next_waiters, g_array_unref);
    g_clear_pointer(&daemon->scratch, g_array_unref);
    g_clear_pointer(&daemon->planner, mb_planner_free);
    g_clear_pointer(&daemon->urgent_vm, g_free);
    g_clear_pointer(&daemon->urgent_asked, g_hash_table_unref);
    g_clear_pointer(&daemon->urgent_used, g_hash_table_unref);
}

void
mb_tick_params(MbDaemon *daemon, MbParams *params)
{
    mb_config_to_params_for_host(daemon->config, mb_backend_host_memory_kib(daemon->backend),
                                 params);
    if (params->pool_kib == 0) {
        /* Auto without a host size (the fake): redistribute what the VMs
         * have, never more. Offline VMs hold nothing. */
        guint64 sum = 0;
        for (guint i = 0; i < daemon->vms->len; i++)
            sum += mb_vm_object_get_vm(g_ptr_array_index(daemon->vms, i))->alloc_kib;
        params->pool_kib = sum + params->reserve_kib;
        /* A spare left unallocated would leave this pool for good. */
        params->spare_kib = 0;
    }
}

/* The regular clock: every interval gets its tick, and every VM its
 * urgent budget back. A tick still running delays the interval's tick
 * (tick_finish starts it before any urgent one), never drops it. */
static gboolean
on_timer(gpointer user_data)
{
    MbDaemon *daemon = user_data;

    g_hash_table_remove_all(daemon->urgent_used);
    /* Paused: statistics still flow, nothing moves (see plan()). */
    if (daemon->stopping)
        return G_SOURCE_CONTINUE;
    if (daemon->tick_running)
        daemon->interval_due = TRUE;
    else
        tick_begin(daemon, FALSE);
    return G_SOURCE_CONTINUE;
}

void
mb_tick_start(MbDaemon *daemon)
{
    if (daemon->timer_id == 0 && !daemon->stopping)
        daemon->timer_id = g_timeout_add(daemon->config->interval_ms, on_timer, daemon);
}

static void
urgent_clear(MbDaemon *daemon)
{
    g_clear_handle_id(&daemon->urgent_id, g_source_remove);
    daemon->urgent_pending = FALSE;
    daemon->urgent_reasons = 0;
    g_clear_pointer(&daemon->urgent_vm, g_free);
    if (daemon->urgent_asked != NULL) /* NULL once mb_tick_clear ran */
        g_hash_table_remove_all(daemon->urgent_asked);
}

/* An urgent tick begins: each VM that asked for it spends one of its
 * interval's urgent ticks. */
static void
urgent_charge(MbDaemon *daemon)
{
    GHashTableIter iter;
    gpointer name;

    g_hash_table_iter_init(&iter, daemon->urgent_asked);
    while (g_hash_table_iter_next(&iter, &name, NULL)) {
        guint used = GPOINTER_TO_UINT(g_hash_table_lookup(daemon->urgent_used, name)) + 1;

        g_hash_table_replace(daemon->urgent_used, g_strdup(name), GUINT_TO_POINTER(used));
        if (used == MB_URGENT_TICKS_PER_INTERVAL)
            mb_log(G_LOG_LEVEL_DEBUG, "MB_VM", name,
                   "VM '%s' started %u urgent ticks in this interval: its further urgent "
                   "records wait for the next tick",
                   (const char *)name, used);
    }
}

static char *
urgent_to_string(unsigned urgent)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {MB_URGENT_PSI, "psi"},
        {MB_URGENT_LOW, "low"},
        {MB_URGENT_SWAP, "swap"},
        {MB_TICK_URGENT_FOREGROUND, "made the foreground VM"},
    };
    g_autoptr(GString) text = g_string_new(NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        if (urgent & names[i].bit)
            g_string_append_printf(text, "%s%s", text->len > 0 ? "," : "", names[i].name);
    }
    if (urgent & ~(MB_URGENT_ALL | MB_TICK_URGENT_FOREGROUND))
        g_string_append_printf(text, "%s0x%x", text->len > 0 ? "," : "",
                               urgent & ~(MB_URGENT_ALL | MB_TICK_URGENT_FOREGROUND));
    return g_string_free(g_steal_pointer(&text), FALSE);
}

static void urgent_try(MbDaemon *daemon);

static gboolean
on_urgent_gap(gpointer user_data)
{
    MbDaemon *daemon = user_data;

    daemon->urgent_id = 0;
    urgent_try(daemon);
    return G_SOURCE_REMOVE;
}

/* Starts the urgent tick that waits, if it may start now; else (the gap
 * since the last tick has not passed) wakes up once it has. A running
 * tick calls this when it finishes. */
static void
urgent_try(MbDaemon *daemon)
{
    gint64 gap_us = (gint64)daemon->config->urgent_min_ms * 1000;
    gint64 since_us;
    g_autofree char *reasons = NULL;

    if (!daemon->urgent_pending || daemon->tick_running || daemon->stopping ||
        daemon->timer_id == 0 || daemon->urgent_id != 0)
        return;
    since_us = g_get_monotonic_time() - daemon->tick_began_us;
    if (daemon->tick_began_us != 0 && since_us < gap_us) {
        daemon->urgent_id =
            g_timeout_add((guint)((gap_us - since_us + 999) / 1000), on_urgent_gap, daemon);
        return;
    }
    daemon->n_urgent_ticks++;
    reasons = urgent_to_string(daemon->urgent_reasons);
    mb_log_id(G_LOG_LEVEL_DEBUG, MB_MESSAGE_ID_URGENT_TICK, "MB_VM", daemon->urgent_vm,
              "urgent tick %" G_GUINT64_FORMAT ": VM '%s' is under memory pressure (%s); "
              "%" G_GINT64_FORMAT " ms after the last tick began",
              daemon->n_urgent_ticks, daemon->urgent_vm, reasons,
              daemon->tick_began_us != 0 ? since_us / 1000 : 0);
    tick_begin(daemon, TRUE);
}

void
mb_tick_urgent(gpointer user_data, const char *vm_name, unsigned urgent)
{
    MbDaemon *daemon = user_data;

    if (daemon->stopping || daemon->config->urgent_min_ms == 0 ||
        !g_hash_table_contains(daemon->vms_by_name, vm_name))
        return;
    /* Over its budget: the record is read by the next tick, whatever
     * starts it (a flooding guest cannot take the ticks for itself). */
    if (GPOINTER_TO_UINT(g_hash_table_lookup(daemon->urgent_used, vm_name)) >=
        MB_URGENT_TICKS_PER_INTERVAL)
        return;
    if (!g_hash_table_contains(daemon->urgent_asked, vm_name))
        g_hash_table_add(daemon->urgent_asked, g_strdup(vm_name));
    if (!daemon->urgent_pending) {
        daemon->urgent_pending = TRUE;
        g_free(daemon->urgent_vm);
        daemon->urgent_vm = g_strdup(vm_name);
    }
    daemon->urgent_reasons |= urgent;
    urgent_try(daemon);
}

void
mb_tick_stop(MbDaemon *daemon)
{
    if (daemon->timer_id != 0) {
        g_source_remove(daemon->timer_id);
        daemon->timer_id = 0;
    }
    urgent_clear(daemon);
    /* No tick starts from here on (daemon->stopping); the running one is
     * drained with the other workers by mb_daemon_stop(). */
    daemon->tick_again = FALSE;
}

void
mb_daemon_rebalance(MbDaemon *daemon, GDestroyNotify done, gpointer user_data)
{
    MbTickWaiter waiter = {done, user_data};

    if (daemon->stopping) {
        done(user_data);
        return;
    }
    if (daemon->tick_running) {
        /* The running tick may have read its samples already: the caller
         * gets a whole tick of its own. */
        g_array_append_val(daemon->next_waiters, waiter);
        daemon->tick_again = TRUE;
        return;
    }
    g_array_append_val(daemon->waiters, waiter);
    daemon->tick_forced = TRUE;
    tick_begin(daemon, FALSE);
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
mb_tick_vm_registered(MbDaemon *daemon, MbVmObject *vm)
{
    MbTickChanges *changes = daemon->tick_changes;

    if (changes == NULL)
        return;
    g_mutex_lock(&changes->lock);
    changes->registered_kib += mb_vm_object_committed_kib(vm);
    g_mutex_unlock(&changes->lock);
}

void
mb_tick_vm_unregistered(MbDaemon *daemon, const char *name)
{
    MbTickChanges *changes = daemon->tick_changes;

    if (changes == NULL)
        return;
    g_mutex_lock(&changes->lock);
    g_hash_table_add(changes->unregistered, g_strdup(name));
    g_mutex_unlock(&changes->lock);
}

static guint64
committed_kib(const TickAccount *a)
{
    return MAX(MAX(a->actual_kib, a->set_kib), a->rising_kib);
}

static gboolean
set_target(TickJob *job, TickAccount *a, guint64 kib)
{
    g_autoptr(GError) error = NULL;

    g_mutex_lock(&job->changes.lock);
    a->gone = a->gone || g_hash_table_contains(job->changes.unregistered, a->name);
    g_mutex_unlock(&job->changes.lock);
    if (a->gone)
        return FALSE;
    if (!mb_backend_set_target(job->backend, a->name, kib, &error)) {
        a->failed = TRUE;
        g_free(a->error);
        a->error = g_strdup(error->message);
        return FALSE;
    }
    a->set_kib = kib;
    a->changed = TRUE;
    return TRUE;
}

/* The VMs registered meanwhile count too: their memory is not free. */
static guint64
sum_committed(TickJob *job)
{
    guint64 sum = 0;

    for (guint i = 0; i < job->accounts->len; i++)
        sum += committed_kib(&g_array_index(job->accounts, TickAccount, i));
    g_mutex_lock(&job->changes.lock);
    sum += job->changes.registered_kib;
    g_mutex_unlock(&job->changes.lock);
    return sum;
}

/* Grows first for the higher priority, then the foreground VM, then by name. */
static gint
compare_grant_order(gconstpointer pa, gconstpointer pb)
{
    const TickAccount *a = *(TickAccount *const *)pa, *b = *(TickAccount *const *)pb;

    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    if (a->foreground != b->foreground)
        return a->foreground ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* A part of a grow: up to a whole balloon page, as the planner moves them
 * (a pool or reserve need not be whole pages). */
static guint64
whole_pages_kib(guint64 have_kib, guint64 give_kib)
{
    guint64 to_kib = have_kib + give_kib;

    to_kib -= to_kib % MB_BALLOON_PAGE_KIB;
    return to_kib > have_kib ? to_kib - have_kib : 0;
}

/* Hands out what the pool has free now, as the balloons stand: memory a
 * donor was asked for but has not released yet is not free. Returns TRUE
 * when every grow got all it wanted. */
static gboolean
grant(TickJob *job, GPtrArray *grows)
{
    guint64 sum = sum_committed(job), free_kib;
    gboolean all = TRUE;

    free_kib = job->capacity_kib > sum ? job->capacity_kib - sum : 0;
    for (guint i = 0; i < grows->len; i++) {
        TickAccount *a = g_ptr_array_index(grows, i);
        guint64 have = committed_kib(a), need, give;

        if (a->failed || a->gone || have >= a->want_kib)
            continue;
        need = a->want_kib - have;
        give = MIN(need, free_kib);
        if (give < need)
            give = whole_pages_kib(have, give);
        /* No dribbling: a part smaller than a step waits for more. */
        if (give < need && give < job->min_step_kib) {
            all = FALSE;
            continue;
        }
        if (set_target(job, a, have + give))
            free_kib -= give;
        if (give < need)
            all = FALSE;
    }
    return all;
}

/* Donors whose balloons still travel toward their targets. */
static gboolean
refresh_donors(TickJob *job)
{
    gboolean travelling = FALSE;

    for (guint i = 0; i < job->accounts->len; i++) {
        TickAccount *a = &g_array_index(job->accounts, TickAccount, i);
        guint64 now_kib;

        if (a->actual_kib <= a->set_kib + MB_VM_ARRIVED_SLACK_KIB && a->rising_kib == 0)
            continue;
        if (a->rising_kib > 0 && mb_backend_get_current(job->backend, a->name, &now_kib)) {
            /* Turned, or as high as it may go: from now on it only gives. */
            if (now_kib <= a->set_kib + MB_VM_ARRIVED_SLACK_KIB ||
                now_kib + MB_VM_ARRIVED_SLACK_KIB >= a->rising_kib ||
                now_kib + MB_VM_ARRIVED_SLACK_KIB < a->actual_kib)
                a->rising_kib = 0;
            a->actual_kib = now_kib;
        } else if (mb_backend_get_current(job->backend, a->name, &now_kib)) {
            a->actual_kib = MIN(now_kib, a->actual_kib); /* a balloon only gives here */
        }
        if (a->actual_kib > a->set_kib + MB_VM_ARRIVED_SLACK_KIB || a->rising_kib > 0)
            travelling = TRUE;
    }
    return travelling;
}

/* Worker thread: shrink first; then grow by what is free, waiting (up to
 * wait_ms) for the donors' balloons to release what they were asked for,
 * so that the VMs together never hold more than the pool. */
static void
apply_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
    TickJob *job = task_data;
    g_autoptr(GPtrArray) grows = g_ptr_array_new();
    gint64 deadline = g_get_monotonic_time() + (gint64)job->wait_ms * 1000;

    for (guint i = 0; i < job->accounts->len; i++) {
        TickAccount *a = &g_array_index(job->accounts, TickAccount, i);

        if (!a->move)
            continue;
        if (a->want_kib <= committed_kib(a) || a->want_kib < a->set_kib)
            set_target(job, a, a->want_kib); /* lowers what it may hold: always safe */
        else
            g_ptr_array_add(grows, a);
    }
    g_ptr_array_sort(grows, compare_grant_order);
    while (grows->len > 0 && !grant(job, grows)) {
        guint64 before = sum_committed(job);
        gboolean travelling;

        if (g_cancellable_is_cancelled(cancellable) || g_get_monotonic_time() >= deadline)
            break;
        travelling = refresh_donors(job);
        if (sum_committed(job) < before)
            continue; /* released: hand it out now */
        if (!travelling)
            break;
        g_usleep(50 * 1000);
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
        if (daemon->timer_id != 0 && !daemon->stopping)
            tick_begin(daemon, FALSE);
        else
            run_waiters(daemon->waiters);
    } else if (daemon->interval_due && daemon->timer_id != 0 && !daemon->stopping) {
        tick_begin(daemon, FALSE); /* the interval's own, late */
    }
    if (job != NULL)
        tick_job_free(job);
    urgent_try(daemon);
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

    for (guint i = 0; i < job->accounts->len; i++) {
        TickAccount *a = &g_array_index(job->accounts, TickAccount, i);
        MbVmObject *vm = g_hash_table_lookup(daemon->vms_by_name, a->name);
        gint64 change = (gint64)a->set_kib - (gint64)a->from_kib;
        char *change_text;

        if (a->failed) {
            mb_log(G_LOG_LEVEL_WARNING, "MB_VM", a->name,
                   "could not move VM '%s' from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                   " KiB: %s",
                   a->name, a->from_kib, a->want_kib, a->error);
            if (vm != NULL && mb_vm_object_target_failed(vm))
                mb_log_id(G_LOG_LEVEL_WARNING, MB_MESSAGE_ID_STUCK, "MB_VM", a->name,
                          "VM '%s' is stuck: %u failed moves in a row; held at its size for %u "
                          "intervals, and nobody is given the memory it was to release",
                          a->name, MB_VM_FAIL_LIMIT, MB_VM_FAIL_HOLD_TICKS);
        }
        if (!a->changed)
            continue;
        if (vm != NULL)
            mb_vm_object_target_set(vm, a->set_kib, a->reason);
        if (a->set_kib != a->want_kib && !a->failed)
            mb_log(G_LOG_LEVEL_DEBUG, "MB_VM", a->name,
                   "VM '%s' got %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                   " KiB now: the rest waits for donors' balloons",
                   a->name, a->set_kib, a->want_kib);
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
    g_array_append_val(fields, ((GLogField){"MESSAGE_ID", MB_MESSAGE_ID_REBALANCED, -1}));
    mb_log_fields(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, (GLogField *)(void *)fields->data,
                  fields->len, message->str);
    mb_mem_balancer_emit_rebalanced(MB_MEM_BALANCER(daemon->manager),
                                    g_variant_builder_end(builder));
}

static void
on_applied(GObject *source, GAsyncResult *result, gpointer user_data)
{
    MbDaemon *daemon = MB_DAEMON(source);
    TickJob *job = g_task_get_task_data(G_TASK(result));

    mb_daemon_worker_done(daemon);
    daemon->tick_changes = NULL;
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
    guint n_moves = 0;

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
    job->capacity_kib = mb_params_capacity_kib(&params);
    job->min_step_kib = params.min_step_kib;
    job->wait_ms = MIN(daemon->config->interval_ms * 3 / 4, 2000u);
    for (guint i = 0; i < n; i++) {
        const MbVm *vm = &g_array_index(daemon->scratch, MbVm, i);
        MbVmObject *object = g_ptr_array_index(planned, i);
        MbVm *kept = mb_vm_object_get_vm(object);
        TickAccount a = {0};

        /* The planner also writes reason for VMs that stay. */
        kept->target_kib = vm->target_kib;
        kept->reason = vm->reason;
        a.name = g_strdup(vm->name);
        a.priority = vm->settings.priority;
        a.foreground = vm->settings.foreground;
        a.actual_kib = mb_vm_object_get_actual(object);
        a.set_kib = mb_vm_object_committed_kib(object);
        /* A donor of an earlier tick still on its way: counts at its
         * balloon, and is polled with this tick's donors. */
        if (mb_vm_object_planned_kib(object) < a.actual_kib)
            a.set_kib = mb_vm_object_planned_kib(object);
        /* A growth of an earlier tick still on its way: if this tick
         * lowers its target, the balloon may still rise to the old one. */
        else if (a.set_kib > a.actual_kib + MB_VM_ARRIVED_SLACK_KIB)
            a.rising_kib = a.set_kib;
        a.from_kib = vm->alloc_kib;
        a.want_kib = vm->target_kib;
        a.reason = vm->reason;
        a.move = vm->target_kib != vm->alloc_kib &&
                 mb_vm_object_get_state(object) == MB_VM_STATE_RUNNING;
        n_moves += a.move;
        g_array_append_val(job->accounts, a);
    }
    return n_moves > 0;
}

static void
on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
    MbDaemon *daemon = MB_DAEMON(source);
    TickJob *job = g_task_get_task_data(G_TASK(result));
    MbParams params;

    mb_daemon_worker_done(daemon);
    if (daemon->stopping) {
        tick_finish(daemon, job);
        return;
    }
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
            read->alloc_kib = mb_vm_object_get_actual(vm);
        }
        mb_vm_object_update_status(vm, &read->status, read->alloc_kib);
        if (!job->urgent)
            mb_vm_object_interval_passed(vm);
        if (mb_vm_object_get_state(vm) == MB_VM_STATE_OFFLINE)
            continue;
        /* An urgent tick comes before the interval is over: a VM with no
         * new sample yet has missed nothing; nor has one whose sample of
         * this interval an urgent tick read. */
        if (read->source == MB_STATS_SOURCE_NONE &&
            (job->urgent || mb_vm_object_get_last_update(vm) > job->last_regular_us)) {
            mb_vm_object_skip_sample(vm);
            continue;
        }
        mb_vm_object_observe(vm, &read->sample, read->source, read->page_kib, job->now_us,
                             read->sample_us, (gint64)daemon->config->interval_ms * 1000,
                             &params);
    }
    if (!plan(daemon, job)) {
        publish(daemon, job);
        tick_finish(daemon, job);
        return;
    }
    g_autoptr(GTask) task = mb_daemon_new_worker_task(daemon, on_applied, NULL);
    g_task_set_task_data(task, job, NULL); /* the callback owns it */
    daemon->tick_changes = &job->changes;
    g_task_run_in_thread(task, apply_thread);
}

static void
tick_begin(MbDaemon *daemon, gboolean urgent)
{
    TickJob *job = g_new0(TickJob, 1);

    job->urgent = urgent;
    daemon->tick_running = TRUE;
    if (urgent)
        urgent_charge(daemon);
    else
        daemon->interval_due = FALSE; /* an interval's tick: this one */
    job->backend = daemon->backend;
    g_mutex_init(&job->changes.lock);
    job->changes.unregistered = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    job->now_us = g_get_monotonic_time();
    daemon->tick_began_us = job->now_us;
    job->last_regular_us = daemon->regular_began_us;
    if (!urgent)
        daemon->regular_began_us = job->now_us;
    /* This tick reads whatever urgent record came before it. */
    urgent_clear(daemon);
    job->reads = g_array_sized_new(FALSE, TRUE, sizeof(TickRead), daemon->vms->len);
    job->accounts = g_array_new(FALSE, TRUE, sizeof(TickAccount));
    g_array_set_clear_func(job->reads, (GDestroyNotify)tick_read_clear);
    g_array_set_clear_func(job->accounts, (GDestroyNotify)tick_account_clear);
    for (guint i = 0; i < daemon->vms->len; i++) {
        TickRead read = {0};
        read.name = g_strdup(mb_vm_object_get_name(g_ptr_array_index(daemon->vms, i)));
        g_array_append_val(job->reads, read);
    }
    g_autoptr(GTask) task = mb_daemon_new_worker_task(daemon, on_read, NULL);
    g_task_set_task_data(task, job, NULL); /* the callback owns it */
    g_task_run_in_thread(task, read_thread);
}
