/* The libvirt backend: real VMs through a libvirt connection. The
 * MbBackendLibvirt object, its vfuncs and each domain's state per
 * interval; the connection is in mb-libvirt-conn.c, the agent channel in
 * mb-libvirt-agent.c, the threads and locks in mb-libvirt-private.h. */
#include "mb-backend-libvirt.h"

#include <libvirt/virterror.h>
#include <stdlib.h>

#include "mb-balloon-stats.h"
#include "mb-error.h"
#include "mb-guest-wire.h"
#include "mb-libvirt-agent.h"
#include "mb-libvirt-conn.h"
#include "mb-libvirt-events.h"
#include "mb-log.h"

struct _MbBackendLibvirt {
    MbBackend parent;
    LvState *lv; /* one reference; libvirt's callbacks may hold more */
};

G_DEFINE_FINAL_TYPE(MbBackendLibvirt, mb_backend_libvirt, MB_TYPE_BACKEND)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)

/* ---- the balloon's statistics ---------------------------------------- */

static gboolean
read_balloon_stats(LvDomain *d, virDomainPtr dom, MbSample *out)
{
    virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
    int n;

    if (!d->period_set) {
        d->period_set = TRUE;
        if (virDomainSetMemoryStatsPeriod(dom, 1, VIR_DOMAIN_AFFECT_LIVE) < 0)
            mb_log(G_LOG_LEVEL_DEBUG, "MB_VM", d->name,
                   "VM '%s': cannot set the balloon statistics period: %s", d->name,
                   virGetLastErrorMessage());
    }
    n = virDomainMemoryStats(dom, stats, VIR_DOMAIN_MEMORY_STAT_NR, 0);
    return n > 0 && mb_balloon_stats_derive(stats, n, out);
}

/* A debug record, every regular interval, of what the host sees of a VM:
 * QEMU's resident memory (libvirt's rss statistic, the host's own figure)
 * beside the balloon the guest reports and the target set. Only observed:
 * the margin between the two on real guests is measured from these
 * (docs/service.md, "What the host sees"). */
static void
log_footprint(LvDomain *d, virDomainPtr dom, guint64 reported_kib)
{
    virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
    int n;

    if (g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
        return;
    n = virDomainMemoryStats(dom, stats, VIR_DOMAIN_MEMORY_STAT_NR, 0);
    for (int i = 0; i < n; i++) {
        if (stats[i].tag != VIR_DOMAIN_MEMORY_STAT_RSS)
            continue;
        g_debug("footprint %s: rss_kib=%llu balloon_kib=%" G_GUINT64_FORMAT
                " target_kib=%" G_GUINT64_FORMAT,
                d->name, stats[i].val, reported_kib, d->target_kib);
        return;
    }
    if (n < 0)
        virResetLastError();
}

/* ---- state of one domain per interval -------------------------------- */

static void
new_boot(LvDomain *d, int id)
{
    d->boot++;
    d->id = id;
    d->have_path = FALSE;
    d->period_set = FALSE;
    mb_balloon_watch_clear(&d->watch);
    d->ticks_no_agent = MB_LIBVIRT_AGENT_GRACE_TICKS;
    d->state = MB_VM_STATE_RUNNING;
    d->stream_retry_us = 0;
    d->stream_error_logged = FALSE;
    mb_lv_drop_stream(d);
    g_mutex_lock(&d->backend->chan_lock);
    mb_guest_channel_set_path(d->channel, NULL);
    g_mutex_unlock(&d->backend->chan_lock);
}

static void
go_offline(LvDomain *d, const char *why)
{
    if (d->state != MB_VM_STATE_OFFLINE)
        mb_log(G_LOG_LEVEL_MESSAGE, "MB_VM", d->name,
               "VM '%s' is offline (%s): left out of balancing until it runs", d->name, why);
    d->state = MB_VM_STATE_OFFLINE;
    d->id = -1;
    mb_balloon_watch_clear(&d->watch);
    mb_lv_drop_stream(d);
    g_mutex_lock(&d->backend->chan_lock);
    mb_guest_channel_close(d->channel);
    g_mutex_unlock(&d->backend->chan_lock);
}

/* The balloon size comes from the guest (virtio-balloon "actual"): never
 * above the domain's maximum. */
static guint64
clamp_actual(LvDomain *d, guint64 reported_kib, guint64 max_kib)
{
    gint64 now;

    if (max_kib == 0 || reported_kib <= max_kib)
        return reported_kib;
    now = g_get_monotonic_time();
    if (d->lie_logged_us == 0 || now - d->lie_logged_us >= 60 * G_USEC_PER_SEC) {
        d->lie_logged_us = now;
        mb_log_id(G_LOG_LEVEL_WARNING, MB_MESSAGE_ID_GUEST_LIES, "MB_VM", d->name,
                  "VM '%s': libvirt reports a balloon of %" G_GUINT64_FORMAT
                  " KiB, above the domain's maximum of %" G_GUINT64_FORMAT
                  " KiB: clamped (logged once a minute)",
                  d->name, reported_kib, max_kib);
    }
    return max_kib;
}

/* Compares the balloon with the pending target; marks and clears "stuck". */
static void
track_balloon(LvDomain *d, guint64 actual_kib)
{
    guint64 before = d->watch_kib;

    d->actual_kib = d->watch_kib = actual_kib;
    switch (mb_balloon_watch_update(&d->watch, &d->state, d->target_kib, before, actual_kib)) {
    case MB_BALLOON_MOVES_AGAIN:
        mb_log(G_LOG_LEVEL_MESSAGE, "MB_VM", d->name,
               "VM '%s': its balloon moves again (%" G_GUINT64_FORMAT " KiB): balanced again",
               d->name, actual_kib);
        break;
    case MB_BALLOON_NOW_STUCK:
        mb_log_id(G_LOG_LEVEL_WARNING, MB_MESSAGE_ID_STUCK, "MB_VM", d->name,
                  "VM '%s' is stuck: its balloon stayed at %" G_GUINT64_FORMAT
                  " KiB for %u intervals with a target of %" G_GUINT64_FORMAT
                  " KiB (no virtio-balloon driver in the guest?); not asked again until it "
                  "moves or is registered again",
                  d->name, actual_kib, MB_LIBVIRT_STUCK_TICKS, d->target_kib);
        break;
    case MB_BALLOON_SAME:
        break;
    }
}

static void
refresh_channel_path(LvDomain *d, virDomainPtr dom)
{
    g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
    g_autofree char *path = NULL;

    if (xml == NULL)
        return; /* tried again next interval */
    d->have_path = TRUE;
    path = mb_guest_channel_path_from_xml(xml, MB_GUEST_PROTO_CHANNEL);
    g_mutex_lock(&d->backend->chan_lock);
    mb_guest_channel_set_path(d->channel, path);
    g_mutex_unlock(&d->backend->chan_lock);
    if (path == NULL)
        mb_log(G_LOG_LEVEL_INFO, "MB_VM", d->name,
               "VM '%s' has no unix channel named %s: balloon statistics only", d->name,
               MB_GUEST_PROTO_CHANNEL);
}

/* ---- the operations --------------------------------------------------- */

static GStrv
lv_list_domains(MbBackend *backend, GError **error)
{
    LvState *self = MB_BACKEND_LIBVIRT(backend)->lv;
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->work_lock);
    virDomainPtr *doms = NULL;
    int n;

    if (!mb_lv_ensure_connected(self, error))
        return NULL;
    n = virConnectListAllDomains(self->conn, &doms, 0);
    for (int i = 0; i < n; i++) {
        g_strv_builder_add(builder, virDomainGetName(doms[i]));
        virDomainFree(doms[i]);
    }
    free(doms);
    if (n < 0) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot list the domains: %s", virGetLastErrorMessage());
        mb_lv_check_alive(self);
        return NULL;
    }
    return g_strv_builder_end(builder);
}

static gboolean
lv_lookup(MbBackend *backend, const char *name, MbDomainInfo *out, GError **error)
{
    LvState *self = MB_BACKEND_LIBVIRT(backend)->lv;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->work_lock);
    g_autoptr(virDomain) dom = NULL;
    virDomainInfo info;
    gboolean missing;
    LvDomain *d;

    if (!mb_lv_ensure_connected(self, error) ||
        (dom = mb_lv_lookup_domain(self, name, &missing, error)) == NULL)
        return FALSE;
    if (virDomainGetInfo(dom, &info) < 0) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot read domain '%s': %s", name, virGetLastErrorMessage());
        mb_lv_check_alive(self);
        return FALSE;
    }
    out->running = mb_lv_is_running_state(info.state);
    out->current_kib = out->running ? info.memory : 0;
    out->max_kib = info.maxMem;
    /* A registration starts afresh: a stuck balloon gets another chance. */
    d = mb_lv_get_domain(self, name);
    d->max_kib = info.maxMem;
    if (d->state == MB_VM_STATE_STUCK)
        d->state = MB_VM_STATE_RUNNING;
    mb_balloon_watch_clear(&d->watch);
    return TRUE;
}

static void
lv_begin_tick(MbBackend *backend, gboolean urgent)
{
    LvState *self = MB_BACKEND_LIBVIRT(backend)->lv;

    g_mutex_lock(&self->work_lock);
    self->tick_urgent = urgent;
    mb_lv_drop_forgotten(self);
    mb_lv_ensure_connected(self, NULL);
    g_mutex_unlock(&self->work_lock);
}

static gboolean
read_locked(LvState *self, LvDomain *d, MbSample *out, MbStatsSource *source,
            guint64 *alloc_kib, GError **error)
{
    g_autoptr(virDomain) dom = NULL;
    virDomainInfo info;
    gboolean missing, got, open_failed;
    int id;

    *source = MB_STATS_SOURCE_NONE;
    *alloc_kib = 0;
    d->sample_us = 0;
    if (!mb_lv_ensure_connected(self, error))
        return FALSE;
    dom = mb_lv_lookup_domain(self, d->name, &missing, error);
    if (dom == NULL) {
        if (!missing)
            return FALSE;
        g_clear_error(error);
        go_offline(d, "undefined");
        return TRUE;
    }
    if (virDomainGetInfo(dom, &info) < 0) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot read domain '%s': %s", d->name, virGetLastErrorMessage());
        mb_lv_check_alive(self);
        return FALSE;
    }
    if (!mb_lv_is_running_state(info.state)) {
        go_offline(d, info.state == VIR_DOMAIN_CRASHED ? "crashed" : "not running");
        return TRUE;
    }
    /* Each start of a domain gets a new id: a new boot. */
    id = (int)virDomainGetID(dom);
    if (d->state == MB_VM_STATE_OFFLINE || id != d->id) {
        if (d->state == MB_VM_STATE_OFFLINE)
            mb_log(G_LOG_LEVEL_MESSAGE, "MB_VM", d->name, "VM '%s' runs (domain id %d)",
                   d->name, id);
        new_boot(d, id);
        d->actual_kib = d->watch_kib = info.memory;
    }
    /* Read each interval, not only on lifecycle or define events (lost
     * while disconnected): a domain redefined with another <memory> has it
     * from its next start, and memory hotplug changes it while it runs. */
    d->max_kib = info.maxMem;
    if (self->tick_urgent)
        d->actual_kib = clamp_actual(d, info.memory, info.maxMem);
    else
        track_balloon(d, clamp_actual(d, info.memory, info.maxMem));
    /* The balloon as it stands: the daemon counts a travelling balloon at
     * the larger of its position and its target, so that memory a donor
     * has not released yet is never handed out. */
    *alloc_kib = d->actual_kib;
    if (!self->tick_urgent)
        log_footprint(d, dom, info.memory);

    if (!d->have_path)
        refresh_channel_path(d, dom);
    got = mb_lv_read_agent(self, d, dom, out, &open_failed);
    if (open_failed)
        mb_lv_check_alive(self); /* a dead connection is dropped now */
    if (got) {
        *source = MB_STATS_SOURCE_AGENT;
        d->ticks_no_agent = 0;
    } else if (!self->tick_urgent && ++d->ticks_no_agent >= MB_LIBVIRT_AGENT_GRACE_TICKS) {
        d->ticks_no_agent = MB_LIBVIRT_AGENT_GRACE_TICKS;
        if (read_balloon_stats(d, dom, out)) {
            *source = MB_STATS_SOURCE_BALLOON;
            d->sample_us = g_get_monotonic_time(); /* read on regular ticks only */
        }
    }
    d->source = *source;
    return TRUE;
}

static gboolean
lv_get_current(MbBackend *backend, const char *name, guint64 *current_kib)
{
    LvState *self = MB_BACKEND_LIBVIRT(backend)->lv;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->work_lock);
    g_autoptr(virDomain) dom = NULL;
    virDomainInfo info;
    gboolean missing;
    LvDomain *d = mb_lv_get_domain(self, name);

    if (d->state == MB_VM_STATE_OFFLINE || self->conn == NULL ||
        (dom = mb_lv_lookup_domain(self, name, &missing, NULL)) == NULL ||
        virDomainGetInfo(dom, &info) < 0 || !mb_lv_is_running_state(info.state))
        return FALSE;
    *current_kib = clamp_actual(d, info.memory, info.maxMem);
    return TRUE;
}

static guint64
lv_page_kib(MbBackend *backend, const char *name)
{
    LvState *self = MB_BACKEND_LIBVIRT(backend)->lv;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->work_lock);
    LvDomain *d = mb_lv_get_domain(self, name);

    /* The balloon's counters are converted to 4 KiB pages; the agent's
     * are the guest's own pages. */
    if (d->source == MB_STATS_SOURCE_AGENT) {
        g_autoptr(GMutexLocker) chan = g_mutex_locker_new(&self->chan_lock);
        return mb_guest_channel_get_page_kib(d->channel);
    }
    return MB_LIBVIRT_BALLOON_PAGE_KIB;
}

static gint64
lv_sample_us(MbBackend *backend, const char *name)
{
    LvState *self = MB_BACKEND_LIBVIRT(backend)->lv;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->work_lock);

    return mb_lv_get_domain(self, name)->sample_us;
}

static gboolean
lv_read_sample(MbBackend *backend, const char *name, MbSample *out, MbStatsSource *source,
               guint64 *alloc_kib, GError **error)
{
    LvState *self = MB_BACKEND_LIBVIRT(backend)->lv;
    gboolean ok;

    g_mutex_lock(&self->work_lock);
    ok = read_locked(self, mb_lv_get_domain(self, name), out, source, alloc_kib, error);
    g_mutex_unlock(&self->work_lock);
    return ok;
}

static void
lv_get_status(MbBackend *backend, const char *name, MbVmStatus *out)
{
    LvState *self = MB_BACKEND_LIBVIRT(backend)->lv;
    LvDomain *d;

    g_mutex_lock(&self->work_lock);
    d = mb_lv_get_domain(self, name);
    out->state = d->state;
    out->boot = d->boot;
    out->max_kib = d->max_kib;
    g_mutex_unlock(&self->work_lock);
}

static gboolean
lv_set_target(MbBackend *backend, const char *name, guint64 target_kib, GError **error)
{
    LvState *self = MB_BACKEND_LIBVIRT(backend)->lv;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->work_lock);
    g_autoptr(virDomain) dom = NULL;
    gboolean missing;
    unsigned long max_kib;
    LvDomain *d = mb_lv_get_domain(self, name);

    if (d->state != MB_VM_STATE_RUNNING) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "VM '%s' is %s: its balloon is left alone", name,
                    mb_vm_state_to_string(d->state));
        return FALSE;
    }
    if (!mb_lv_ensure_connected(self, error) ||
        (dom = mb_lv_lookup_domain(self, name, &missing, error)) == NULL)
        return FALSE;
    max_kib = virDomainGetMaxMemory(dom);
    if (max_kib == 0) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot read the maximum memory of domain '%s': %s", name,
                    virGetLastErrorMessage());
        mb_lv_check_alive(self);
        return FALSE;
    }
    target_kib = MIN(target_kib, (guint64)max_kib);
    if (virDomainSetMemoryFlags(dom, (unsigned long)target_kib, VIR_DOMAIN_AFFECT_LIVE) < 0) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot set the balloon of domain '%s' to %" G_GUINT64_FORMAT " KiB: %s",
                    name, target_kib, virGetLastErrorMessage());
        mb_lv_check_alive(self);
        return FALSE;
    }
    d->target_kib = target_kib;
    mb_balloon_watch_target(&d->watch);
    return TRUE;
}

static gboolean
lv_is_connected(MbBackend *backend)
{
    LvState *self = MB_BACKEND_LIBVIRT(backend)->lv;
    gboolean connected;

    g_mutex_lock(&self->state_lock);
    connected = self->connected;
    g_mutex_unlock(&self->state_lock);
    return connected;
}

static guint64
lv_host_memory_kib(MbBackend *backend)
{
    LvState *self = MB_BACKEND_LIBVIRT(backend)->lv;
    guint64 kib;

    g_mutex_lock(&self->state_lock);
    kib = self->host_kib;
    g_mutex_unlock(&self->state_lock);
    return kib;
}

static void
lv_forget(MbBackend *backend, const char *name)
{
    mb_lv_forget(MB_BACKEND_LIBVIRT(backend)->lv, name);
}

static void
lv_finalize(GObject *object)
{
    LvState *self = MB_BACKEND_LIBVIRT(object)->lv;

    g_mutex_lock(&self->work_lock);
    mb_lv_disconnect(self, NULL);
    g_mutex_unlock(&self->work_lock);
    /* Nothing may emit through us from now on (callbacks run in this thread). */
    self->owner = NULL;
    /* libvirt may have left callbacks' free functions (which hold
     * references to the state) to run from the main context: run them
     * first, then drop ours. */
    mb_libvirt_events_release();
    mb_lv_unref(self);
    G_OBJECT_CLASS(mb_backend_libvirt_parent_class)->finalize(object);
}

static void
mb_backend_libvirt_class_init(MbBackendLibvirtClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    MbBackendClass *backend_class = MB_BACKEND_CLASS(klass);

    object_class->finalize = lv_finalize;
    backend_class->name = "libvirt";
    backend_class->list_domains = lv_list_domains;
    backend_class->lookup = lv_lookup;
    backend_class->begin_tick = lv_begin_tick;
    backend_class->read_sample = lv_read_sample;
    backend_class->set_target = lv_set_target;
    backend_class->get_status = lv_get_status;
    backend_class->is_connected = lv_is_connected;
    backend_class->host_memory_kib = lv_host_memory_kib;
    backend_class->get_current = lv_get_current;
    backend_class->page_kib = lv_page_kib;
    backend_class->forget = lv_forget;
    backend_class->sample_us = lv_sample_us;
}

static void
mb_backend_libvirt_init(MbBackendLibvirt *backend)
{
}

MbBackend *
mb_backend_libvirt_new(const MbConfig *config, GError **error)
{
    g_autoptr(MbBackendLibvirt) backend = NULL;
    LvState *self;

    if (!mb_libvirt_events_acquire(error))
        return NULL;
    backend = g_object_new(MB_TYPE_BACKEND_LIBVIRT, NULL);
    self = backend->lv = mb_lv_state_new(MB_BACKEND(backend), config->libvirt_uri);
    /* Connect now so that registrations restored at start see their
     * domains; an unreachable libvirt is retried from the ticks, but a
     * URI no retry can fix stops the start. */
    g_mutex_lock(&self->work_lock);
    if (!mb_lv_ensure_connected(self, NULL) && mb_lv_uri_is_hopeless()) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "libvirt-uri '%s': %s (e.g. qemu:///system)", self->uri,
                    virGetLastErrorMessage());
        g_mutex_unlock(&self->work_lock);
        return NULL;
    }
    g_mutex_unlock(&self->work_lock);
    return MB_BACKEND(g_steal_pointer(&backend));
}

gboolean
mb_backend_libvirt_channel_stats(MbBackend *backend, const char *name, guint64 *n_samples,
                                 guint64 *n_bad, guint64 *n_overlong,
                                 guint64 *n_discarded_bytes)
{
    LvState *self = MB_BACKEND_LIBVIRT(backend)->lv;
    MbGuestChannelStats stats;
    LvDomain *d;

    g_mutex_lock(&self->work_lock);
    d = g_hash_table_lookup(self->domains, name);
    if (d != NULL) {
        g_mutex_lock(&self->chan_lock);
        mb_guest_channel_get_stats(d->channel, &stats);
        g_mutex_unlock(&self->chan_lock);
    }
    g_mutex_unlock(&self->work_lock);
    if (d == NULL)
        return FALSE;
    *n_samples = stats.n_samples;
    *n_bad = stats.n_bad;
    *n_overlong = stats.n_overlong;
    *n_discarded_bytes = stats.n_discarded_bytes;
    return TRUE;
}

guint64
mb_backend_libvirt_n_events(MbBackend *backend)
{
    LvState *self = MB_BACKEND_LIBVIRT(backend)->lv;
    guint64 n;

    g_mutex_lock(&self->state_lock);
    n = self->n_events;
    g_mutex_unlock(&self->state_lock);
    return n;
}
