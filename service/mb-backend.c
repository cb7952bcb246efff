#include "mb-backend.h"

#include "mb-names.h"

const char *
mb_stats_source_to_string(MbStatsSource source)
{
    switch (source) {
    case MB_STATS_SOURCE_AGENT:
        return MB_STATS_SOURCE_NAME_AGENT;
    case MB_STATS_SOURCE_BALLOON:
        return MB_STATS_SOURCE_NAME_BALLOON;
    case MB_STATS_SOURCE_NONE:
        break;
    }
    return MB_STATS_SOURCE_NAME_NONE;
}

const char *
mb_vm_state_to_string(MbVmState state)
{
    switch (state) {
    case MB_VM_STATE_OFFLINE:
        return MB_VM_STATE_NAME_OFFLINE;
    case MB_VM_STATE_STUCK:
        return MB_VM_STATE_NAME_STUCK;
    case MB_VM_STATE_RUNNING:
        break;
    }
    return MB_VM_STATE_NAME_RUNNING;
}

/* ---- the base class ------------------------------------------------- */

G_DEFINE_ABSTRACT_TYPE(MbBackend, mb_backend, G_TYPE_OBJECT)

enum {
    SIGNAL_URGENT,
    N_SIGNALS,
};

static guint signals[N_SIGNALS];

static void
mb_backend_class_init(MbBackendClass *klass)
{
    /**
     * MbBackend::urgent:
     * @vm_name: the VM whose agent sent the record
     * @urgent: its MB_URGENT_* bits (never 0)
     *
     * A guest sent an urgent record; the sample is read by the next
     * read_sample. Emitted in the main thread.
     */
    signals[SIGNAL_URGENT] =
        g_signal_new("urgent", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_UINT);
}

static void
mb_backend_init(MbBackend *backend)
{
}

void
mb_backend_free(MbBackend *backend)
{
    if (backend != NULL)
        g_object_unref(backend);
}

void
mb_backend_emit_urgent(MbBackend *backend, const char *vm_name, unsigned urgent)
{
    if (urgent != 0)
        g_signal_emit(backend, signals[SIGNAL_URGENT], 0, vm_name, (guint)urgent);
}

const char *
mb_backend_get_name(MbBackend *backend)
{
    return MB_BACKEND_GET_CLASS(backend)->name;
}

GStrv
mb_backend_list_domains(MbBackend *backend, GError **error)
{
    return MB_BACKEND_GET_CLASS(backend)->list_domains(backend, error);
}

gboolean
mb_backend_lookup(MbBackend *backend, const char *name, MbDomainInfo *out, GError **error)
{
    return MB_BACKEND_GET_CLASS(backend)->lookup(backend, name, out, error);
}

void
mb_backend_begin_tick(MbBackend *backend, gboolean urgent)
{
    MbBackendClass *klass = MB_BACKEND_GET_CLASS(backend);

    if (klass->begin_tick != NULL)
        klass->begin_tick(backend, urgent);
}

gboolean
mb_backend_read_sample(MbBackend *backend, const char *name, MbSample *out,
                       MbStatsSource *source, guint64 *alloc_kib, GError **error)
{
    return MB_BACKEND_GET_CLASS(backend)->read_sample(backend, name, out, source, alloc_kib,
                                                      error);
}

gboolean
mb_backend_set_target(MbBackend *backend, const char *name, guint64 target_kib, GError **error)
{
    return MB_BACKEND_GET_CLASS(backend)->set_target(backend, name, target_kib, error);
}

void
mb_backend_get_status(MbBackend *backend, const char *name, MbVmStatus *out)
{
    MbBackendClass *klass = MB_BACKEND_GET_CLASS(backend);

    *out = (MbVmStatus){MB_VM_STATE_RUNNING, 0, 0};
    if (klass->get_status != NULL)
        klass->get_status(backend, name, out);
}

gboolean
mb_backend_is_connected(MbBackend *backend)
{
    MbBackendClass *klass = MB_BACKEND_GET_CLASS(backend);

    return klass->is_connected == NULL || klass->is_connected(backend);
}

gboolean
mb_backend_get_current(MbBackend *backend, const char *name, guint64 *current_kib)
{
    MbBackendClass *klass = MB_BACKEND_GET_CLASS(backend);

    return klass->get_current != NULL && klass->get_current(backend, name, current_kib);
}

guint64
mb_backend_page_kib(MbBackend *backend, const char *name)
{
    MbBackendClass *klass = MB_BACKEND_GET_CLASS(backend);
    guint64 kib = klass->page_kib != NULL ? klass->page_kib(backend, name) : 0;

    return kib != 0 ? kib : 4;
}

void
mb_backend_forget(MbBackend *backend, const char *name)
{
    MbBackendClass *klass = MB_BACKEND_GET_CLASS(backend);

    if (klass->forget != NULL)
        klass->forget(backend, name);
}

gint64
mb_backend_sample_us(MbBackend *backend, const char *name)
{
    MbBackendClass *klass = MB_BACKEND_GET_CLASS(backend);

    return klass->sample_us != NULL ? klass->sample_us(backend, name) : 0;
}

guint64
mb_backend_host_memory_kib(MbBackend *backend)
{
    MbBackendClass *klass = MB_BACKEND_GET_CLASS(backend);

    return klass->host_memory_kib != NULL ? klass->host_memory_kib(backend) : 0;
}

/* ---- the stuck rule ---------------------------------------------------- */

void
mb_balloon_watch_target(MbBalloonWatch *watch)
{
    if (!watch->pending)
        watch->still_ticks = 0;
    watch->pending = TRUE;
}

void
mb_balloon_watch_clear(MbBalloonWatch *watch)
{
    watch->pending = FALSE;
    watch->still_ticks = 0;
}

static guint64
distance(guint64 a, guint64 b)
{
    return a > b ? a - b : b - a;
}

MbBalloonChange
mb_balloon_watch_update(MbBalloonWatch *watch, MbVmState *state, guint64 target_kib,
                        guint64 before_kib, guint64 actual_kib)
{
    guint64 gap, gap_before;

    if (*state == MB_VM_STATE_STUCK) {
        if (distance(actual_kib, watch->stuck_at_kib) <= MB_BALLOON_MOVE_SLACK_KIB)
            return MB_BALLOON_SAME;
        *state = MB_VM_STATE_RUNNING;
        return MB_BALLOON_MOVES_AGAIN;
    }
    if (*state != MB_VM_STATE_RUNNING || !watch->pending)
        return MB_BALLOON_SAME;
    gap = distance(actual_kib, target_kib);
    gap_before = distance(before_kib, target_kib);
    if (gap <= MB_BALLOON_TARGET_SLACK_KIB) {
        mb_balloon_watch_clear(watch);
    } else if (gap + MB_BALLOON_MOVE_SLACK_KIB < gap_before) {
        watch->still_ticks = 0;
    } else if (++watch->still_ticks >= MB_BALLOON_STUCK_TICKS) {
        *state = MB_VM_STATE_STUCK;
        watch->stuck_at_kib = actual_kib;
        watch->pending = FALSE;
        return MB_BALLOON_NOW_STUCK;
    }
    return MB_BALLOON_SAME;
}
