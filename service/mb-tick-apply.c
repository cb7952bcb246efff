/* A tick's moves, in a worker thread (mb-tick.c plans, this applies): the
 * grant (policy/mb-grant.h, the simulator's too) decides who gets what
 * and when; this file moves the balloons through the backend, reads where
 * they are, and keeps the grant told of the VMs registered or
 * unregistered meanwhile. */
#include "mb-tick-apply.h"

/* The grant's set: a VM unregistered meanwhile is left alone (not an
 * error); a backend that refuses is (publish() logs it). */
static bool
grant_set(size_t index, uint64_t target_kib, void *user_data)
{
    TickJob *job = user_data;
    TickAccount *a = &g_array_index(job->accounts, TickAccount, index);
    g_autoptr(GError) error = NULL;

    g_mutex_lock(&job->changes.lock);
    a->gone = a->gone || g_hash_table_contains(job->changes.unregistered, a->name);
    g_mutex_unlock(&job->changes.lock);
    if (a->gone)
        return false;
    if (!mb_backend_set_target(job->backend, a->name, target_kib, &error)) {
        a->failed = TRUE;
        g_free(a->error);
        a->error = g_strdup(error->message);
        return false;
    }
    return true;
}

static bool
grant_get(size_t index, uint64_t *now_kib, void *user_data)
{
    TickJob *job = user_data;
    const TickAccount *a = &g_array_index(job->accounts, TickAccount, index);
    guint64 kib;

    if (!mb_backend_get_current(job->backend, a->name, &kib))
        return false;
    *now_kib = kib;
    return true;
}

/* The VMs registered meanwhile count too: their memory is not free. */
static void
note_registered(TickJob *job)
{
    g_mutex_lock(&job->changes.lock);
    job->grant.outside_kib = job->changes.registered_kib;
    g_mutex_unlock(&job->changes.lock);
}

static guint64
sum_committed(TickJob *job)
{
    note_registered(job);
    return mb_grant_sum_kib(&job->grant);
}

void
mb_tick_apply_thread(GTask *task, gpointer source, gpointer task_data,
                     GCancellable *cancellable)
{
    TickJob *job = task_data;
    MbGrant *grant = &job->grant;
    gint64 deadline = g_get_monotonic_time() + (gint64)job->wait_ms * 1000;

    g_array_set_size(job->grows, job->grant_vms->len);
    mb_grant_init(grant, (MbGrantVm *)(void *)job->grant_vms->data, job->grant_vms->len,
                  (size_t *)(void *)job->grows->data, job->capacity_kib, job->min_step_kib);
    mb_grant_shrink(grant, grant_set, job);
    while (grant->n_grows > 0) {
        guint64 before;
        gboolean travelling;

        note_registered(job);
        if (mb_grant_grow(grant, grant_set, job))
            break;
        before = sum_committed(job);
        if (g_cancellable_is_cancelled(cancellable) || g_get_monotonic_time() >= deadline)
            break;
        travelling = mb_grant_poll(grant, grant_get, job);
        if (sum_committed(job) < before)
            continue; /* released: hand it out now */
        if (!travelling)
            break;
        g_usleep(50 * 1000);
    }
    g_task_return_boolean(task, TRUE);
}
