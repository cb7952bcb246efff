/* The hypervisor, behind a small interface: MbBackend, a derivable
 * GObject type whose subclasses implement its vfuncs: MbBackendLibvirt in
 * production, MbBackendFake (simulated guests) for tests and demos.
 * Nothing outside the backends' files knows which one it has; only the
 * factory (mb-backend-factory.c) names them.
 *
 * Calls may block (libvirt): the daemon makes the per-tick calls
 * (begin_tick, read_sample, get_status, set_target) from one worker thread
 * at a time, and lookup from another worker (registrations) or, at start,
 * the main thread; an implementation must be safe for that (the fake takes
 * a lock). is_connected and host_memory_kib are called from the main
 * thread and must answer at once (from a cache).
 *
 * A backend may read its guests' channels as data arrives (on the main
 * loop): when a record marked urgent comes in, it emits the "urgent"
 * signal (VM name, MB_URGENT_* bits), in the main thread. */
#pragma once

#include <gio/gio.h>

#include "mb-config.h"
#include "mb-grant.h"
#include "mb-policy.h"

G_BEGIN_DECLS

typedef enum {
    MB_STATS_SOURCE_NONE = 0, /* no statistics this interval */
    MB_STATS_SOURCE_AGENT,    /* the in-guest monitor */
    MB_STATS_SOURCE_BALLOON,  /* virtio-balloon statistics only */
} MbStatsSource;

const char *mb_stats_source_to_string(MbStatsSource source);

/* What the service may do with a VM. */
typedef enum {
    MB_VM_STATE_RUNNING = 0, /* balanced */
    MB_VM_STATE_OFFLINE,     /* not running (stopped, crashed, undefined): not planned */
    MB_VM_STATE_STUCK,       /* its balloon ignores targets: planned at its current size */
} MbVmState;

const char *mb_vm_state_to_string(MbVmState state);

/* The backends' one rule for a balloon that ignores its targets: with a
 * target pending, a balloon that comes no nearer it (by more than
 * MB_BALLOON_MOVE_SLACK_KIB) for MB_BALLOON_STUCK_TICKS intervals makes
 * the VM STUCK; a stuck balloon that moves by more than
 * MB_BALLOON_MOVE_SLACK_KIB makes it RUNNING again. Within
 * MB_BALLOON_TARGET_SLACK_KIB of the target, the balloon has arrived. */
#define MB_BALLOON_STUCK_TICKS 5
#define MB_BALLOON_TARGET_SLACK_KIB MB_GRANT_ARRIVED_SLACK_KIB
#define MB_BALLOON_MOVE_SLACK_KIB 256

typedef struct {
    gboolean pending;     /* a target is set and not reached yet */
    guint still_ticks;    /* intervals the balloon came no nearer it */
    guint64 stuck_at_kib; /* where it stood when it was found stuck */
} MbBalloonWatch;

typedef enum {
    MB_BALLOON_SAME,        /* *state unchanged */
    MB_BALLOON_NOW_STUCK,   /* RUNNING -> STUCK */
    MB_BALLOON_MOVES_AGAIN, /* STUCK -> RUNNING */
} MbBalloonChange;

/* A target was set (the balloon's position is compared with it from now). */
void mb_balloon_watch_target(MbBalloonWatch *watch);
/* Forgets the pending target (a new boot, offline, registered again). */
void mb_balloon_watch_clear(MbBalloonWatch *watch);
/* One interval: the balloon went from before_kib to actual_kib with
 * target_kib pending (if any); updates *state (RUNNING or STUCK; any other
 * state is left alone) and says what changed, for the backend to log. */
MbBalloonChange mb_balloon_watch_update(MbBalloonWatch *watch, MbVmState *state,
                                        guint64 target_kib, guint64 before_kib,
                                        guint64 actual_kib);

typedef struct {
    guint64 current_kib; /* the balloon's size now */
    guint64 max_kib;     /* the domain's maximum memory */
    gboolean running;    /* FALSE: defined but not running (offline) */
} MbDomainInfo;

typedef struct {
    MbVmState state;
    guint64 boot; /* changes each time the domain starts (a new boot) */
    /* The domain's maximum memory as of the last read (0: unknown): it
     * changes when a domain redefined with another <memory> starts again. */
    guint64 max_kib;
} MbVmStatus;

#define MB_TYPE_BACKEND (mb_backend_get_type())
G_DECLARE_DERIVABLE_TYPE(MbBackend, mb_backend, MB, BACKEND, GObject)

struct _MbBackendClass {
    GObjectClass parent_class;

    /* "libvirt", "fake": the config's backend key and the Backend property. */
    const char *name;

    /* Domain names the hypervisor knows, NULL-terminated. */
    GStrv (*list_domains)(MbBackend *backend, GError **error);
    /* Fails with MB_SERVICE_ERROR_NO_SUCH_VM for an unknown domain. */
    gboolean (*lookup)(MbBackend *backend, const char *name, MbDomainInfo *out, GError **error);
    /* Called once at the start of each interval, before the reads (may be
     * NULL). urgent: an urgent tick, less than an interval after the last
     * one: what counts intervals (a balloon that does not move, an agent
     * that stays silent) does not count it. */
    void (*begin_tick)(MbBackend *backend, gboolean urgent);
    /* The guest's statistics and current allocation (the balloon's
     * position as the hypervisor reports it, not a pending target);
     * *source NONE means none arrived (a TRUE return with no sample is
     * not an error). */
    gboolean (*read_sample)(MbBackend *backend, const char *name, MbSample *out,
                            MbStatsSource *source, guint64 *alloc_kib, GError **error);
    /* Sets the balloon target (never above the domain's maximum). */
    gboolean (*set_target)(MbBackend *backend, const char *name, guint64 target_kib,
                           GError **error);
    /* The VM's state as of the last read_sample (may be NULL: always running). */
    void (*get_status)(MbBackend *backend, const char *name, MbVmStatus *out);
    /* FALSE while the hypervisor cannot be reached: nothing may move
     * (may be NULL: always connected). Answers from a cache. */
    gboolean (*is_connected)(MbBackend *backend);
    /* The host's memory for an automatic pool, 0 when unknown or when the
     * pool should be the sum of the VMs' allocations (may be NULL).
     * Answers from a cache. */
    guint64 (*host_memory_kib)(MbBackend *backend);
    /* The balloon's position now, cheaply, from the tick worker while it
     * waits for donors to release memory (may be NULL: not polled). */
    gboolean (*get_current)(MbBackend *backend, const char *name, guint64 *current_kib);
    /* The guest's page size in KiB for the swap counters of the last
     * read_sample (may be NULL: 4). */
    guint64 (*page_kib)(MbBackend *backend, const char *name);
    /* The VM was unregistered: let go of what is kept open for it (its
     * agent channel), so that nothing it sent since counts for a later
     * registration. Main thread, never waits (may be NULL). */
    void (*forget)(MbBackend *backend, const char *name);
    /* When the sample of the last read_sample reached the host, in a
     * clock of the backend's own (µs, monotonic, > 0), for the span it
     * covers (mb_sample_span); never a time the guest wrote (may be NULL,
     * or return 0: the tick's time is used). */
    gint64 (*sample_us)(MbBackend *backend, const char *name);

    gpointer padding[8];
};

/* The last reference: g_object_unref (NULL is allowed). */
void mb_backend_free(MbBackend *backend);

/* For implementations, in the main thread: emits "urgent" (not for 0). */
void mb_backend_emit_urgent(MbBackend *backend, const char *vm_name, unsigned urgent);

const char *mb_backend_get_name(MbBackend *backend);
GStrv mb_backend_list_domains(MbBackend *backend, GError **error);
gboolean mb_backend_lookup(MbBackend *backend, const char *name, MbDomainInfo *out,
                           GError **error);
void mb_backend_begin_tick(MbBackend *backend, gboolean urgent);
gboolean mb_backend_read_sample(MbBackend *backend, const char *name, MbSample *out,
                                MbStatsSource *source, guint64 *alloc_kib, GError **error);
gboolean mb_backend_set_target(MbBackend *backend, const char *name, guint64 target_kib,
                               GError **error);
void mb_backend_get_status(MbBackend *backend, const char *name, MbVmStatus *out);
gboolean mb_backend_is_connected(MbBackend *backend);
gboolean mb_backend_get_current(MbBackend *backend, const char *name, guint64 *current_kib);
/* Never 0 (4 when the backend does not say). */
guint64 mb_backend_page_kib(MbBackend *backend, const char *name);
void mb_backend_forget(MbBackend *backend, const char *name);
gint64 mb_backend_sample_us(MbBackend *backend, const char *name);
guint64 mb_backend_host_memory_kib(MbBackend *backend);

G_END_DECLS
