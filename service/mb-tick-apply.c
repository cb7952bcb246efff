/* A tick's moves, in a worker thread: shrink first, then grow by what the
 * pool has free as the balloons stand (mb-tick.c plans, this applies). */
#include "mb-tick-apply.h"

#include <string.h>

#include "mb-engine-vm.h"

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
void
mb_tick_apply_thread(GTask *task, gpointer source, gpointer task_data,
                     GCancellable *cancellable)
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
