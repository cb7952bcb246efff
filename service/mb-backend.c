#include "mb-backend.h"

#include "mb-error.h"

const char *
mb_stats_source_to_string(MbStatsSource source)
{
    switch (source) {
    case MB_STATS_SOURCE_AGENT:
        return "agent";
    case MB_STATS_SOURCE_BALLOON:
        return "balloon";
    case MB_STATS_SOURCE_NONE:
        break;
    }
    return "none";
}

const char *
mb_vm_state_to_string(MbVmState state)
{
    switch (state) {
    case MB_VM_STATE_OFFLINE:
        return "offline";
    case MB_VM_STATE_STUCK:
        return "stuck";
    case MB_VM_STATE_RUNNING:
        break;
    }
    return "running";
}

MbBackend *
mb_backend_new(const MbConfig *config, GError **error)
{
    if (g_str_equal(config->backend, "fake"))
        return mb_backend_fake_new(config, error);
    if (g_str_equal(config->backend, "libvirt"))
        return mb_backend_libvirt_new(config, error);
    g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                "unknown backend '%s' (use libvirt or fake)", config->backend);
    return NULL;
}

void
mb_backend_free(MbBackend *backend)
{
    if (backend != NULL)
        backend->ops->free(backend);
}

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
