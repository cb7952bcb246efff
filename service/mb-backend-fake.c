/* The fake backend: simulated guests from the simulator's guest model
 * (sim/), so the service can be run and tested without a hypervisor.
 *
 * Every name is a domain: the first lookup creates a guest with
 * [fake] alloc of memory (maximum [fake] max) running the workload that
 * [fake] maps the name to, else the longest built-in workload whose name
 * starts the VM name ("game-2" runs "game"), else [fake] default-workload
 * (default: "idle" if the simulator has it, else "libquantum", a steady
 * 96 MiB).
 * Each interval (begin_tick) advances every guest by one simulated second.
 *
 * Balloons that behave like real ones, from more [fake] keys:
 *
 * balloon-rate = SIZE (default 0 = instant; else at least 1MiB)
 *   set_target records the target (clamped to max); each begin_tick moves
 *   the balloon toward it by at most SIZE, shrinking balloons before
 *   growing ones.
 * balloon-grow-rate = SIZE (default: balloon-rate) the same for growing
 *   balloons: `instant` models a real balloon, which deflates (gives the
 *   guest memory) far faster than it inflates, so that memory handed out
 *   before a donor released it shows in the trace.
 *   lookup's current_kib, read_sample's alloc_kib and get_current report the balloon's position
 * (it moves only at begin_tick), and the guest's memory (MbGuest) follows the position, not the
 * target. Instant: set_target moves it at once.
 * balloon-release-ms = MS (default 0: by balloon-rate) a shrinking balloon
 *   stays where it is for MS milliseconds after its target is set (a new
 *   lower target on the way keeps the time), then is at its target: a
 *   donor that releases while the service waits, seen by get_current,
 *   read_sample, begin_tick (the trace line is written then).
 * alloc.<vm> = SIZE a new simulated guest's allocation for that VM (at
 *   most max), instead of alloc.
 *
 * fault.<vm> = KIND[,KIND...] (e.g. fault.tv-game = stuck)
 *   stuck           set_target succeeds, the balloon never moves
 *   fail-set        set_target fails (MB_SERVICE_ERROR_UNAVAILABLE)
 *   lie-zero        lookup, read_sample, get_current report 0 KiB
 *   lie-huge        ... of MB_BACKEND_FAKE_HUGE_KIB (far above max)
 *   silent          read_sample never has statistics (source NONE)
 *   silent-after:N  statistics for the VM's first N ticks, then none (a
 *                   read before its first tick counts as in its first)
 *   swap-storm      the reported swap-out count grows by
 *                   MB_BACKEND_FAKE_STORM_PAGES more each tick
 *   backwards       the reported swap counters fall every tick
 *   The lies change only what is reported: the balloon and the guest keep
 *   their true size (mb_backend_fake_sum_current_kib, the trace).
 *
 * Stuck, as the libvirt backend decides it (track_balloon there): a VM
 * whose balloon, as it is reported (a lie-zero VM's 0), comes no nearer
 * its pending target for
 * MB_BALLOON_STUCK_TICKS ticks is MB_VM_STATE_STUCK (get_status, a
 * warning); set_target then refuses it until lookup (a registration)
 * gives it another chance, or its balloon moves.
 *
 * urgent.<vm> = MS[,MS...] (e.g. urgent.web = 500,520,540)
 *   the simulated agent sends a record at once (urgent, MB_URGENT_PSI) MS
 *   milliseconds after the guest appeared, as a real agent does under
 *   memory pressure: a one-shot source on the default main context marks
 *   the guest's next sample urgent and tells the daemon
 *   (mb_backend_emit_urgent), in the main thread. Tests may call
 *   mb_backend_fake_send_urgent for the same.
 *
 * trace = PATH
 *   Appends one line "<monotonic_us> <name> <current_kib> <target_kib>"
 *   (g_get_monotonic_time(), the true balloon position) when a guest
 *   appears, on each accepted set_target, and for every guest each
 *   begin_tick (shrunk balloons first, then grown ones, then the rest, so
 *   replaying the lines in order never shows a sum above a true one);
 *   flushed after each call. */
#include "mb-backend-fake.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mb-error.h"
#include "mb-guest.h"
#include "mb-log.h"
#include "mb-workload.h"

typedef struct {
    char *name;
    MbGuest guest; /* guest.alloc_kib follows current_kib */
    guint64 max_kib;
    guint64 current_kib; /* the balloon's position */
    guint64 target_kib;
    MbFakeFault fault;
    guint ticks; /* begin_tick calls since the guest appeared */
    /* The stuck rule, the libvirt backend's (mb_balloon_watch_update). */
    MbVmState state;
    MbBalloonWatch watch;
    unsigned urgent;   /* MB_URGENT_* for the next sample */
    gint64 release_us; /* balloon-release-ms: when the shrink arrives, 0: none */
} FakeDomain;

struct _MbBackendFake {
    MbBackend parent;
    GMutex lock;
    GHashTable *domains;       /* name -> FakeDomain; guarded by lock */
    GHashTable *workloads;     /* name -> workload name, from [fake] */
    GHashTable *faults;        /* name -> MbFakeFault, from [fake] */
    GHashTable *urgent;        /* name -> GArray of guint ms, from [fake] */
    GHashTable *allocs;        /* name -> guint64 KiB, from [fake] alloc.<vm> */
    guint release_ms;          /* balloon-release-ms */
    GPtrArray *urgent_sources; /* GSource, scheduled urgent records; guarded by lock */
    const MbWorkload *default_workload;
    guint64 alloc_kib;
    guint64 max_kib;
    guint64 rate_kib;      /* 0: instant */
    guint64 grow_rate_kib; /* for growing balloons, 0: instant */
    gint64 interval_us;    /* a simulated second, for sample_us */
    char *trace_path;
    FILE *trace; /* guarded by lock; NULL: no trace */
};

G_DEFINE_FINAL_TYPE(MbBackendFake, mb_backend_fake, MB_TYPE_BACKEND)

static void
fake_domain_free(gpointer data)
{
    FakeDomain *domain = data;

    g_free(domain->name);
    g_free(domain);
}

static gboolean
resolve_workload(const char *name, const MbWorkload **out, const char *what, GError **error)
{
    g_autoptr(GString) known = g_string_new(NULL);
    const char *const *names = mb_workload_names();

    *out = mb_workload_lookup(name);
    if (*out != NULL)
        return TRUE;
    for (gsize i = 0; names[i] != NULL; i++)
        g_string_append_printf(known, "%s%s", i > 0 ? ", " : "", names[i]);
    g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                "[fake] %s: unknown workload '%s' (known: %s)", what, name, known->str);
    return FALSE;
}

static const MbWorkload *
workload_for(MbBackendFake *fake, const char *vm_name)
{
    const char *mapped = g_hash_table_lookup(fake->workloads, vm_name);
    const char *const *names = mb_workload_names();
    const MbWorkload *best = NULL;
    gsize best_len = 0;

    if (mapped != NULL)
        return mb_workload_lookup(mapped); /* checked at start */
    for (gsize i = 0; names[i] != NULL; i++) {
        gsize len = strlen(names[i]);
        char next = vm_name[MIN(len, strlen(vm_name))];
        if (len > best_len && g_str_has_prefix(vm_name, names[i]) && !g_ascii_isalnum(next)) {
            best = mb_workload_lookup(names[i]);
            best_len = len;
        }
    }
    return best != NULL ? best : fake->default_workload;
}

/* Called with the lock held: a write failed with errno saved. */
static void
trace_failed(MbBackendFake *fake, int saved)
{
    mb_log(G_LOG_LEVEL_WARNING, "MB_BACKEND", "fake",
           "fake backend: cannot write the trace %s: %s; tracing stops", fake->trace_path,
           g_strerror(saved));
    fclose(fake->trace);
    fake->trace = NULL;
}

/* Called with the lock held. */
static void
trace_line(MbBackendFake *fake, const FakeDomain *domain)
{
    if (fake->trace == NULL)
        return;
    if (fprintf(fake->trace,
                "%" G_GINT64_FORMAT " %s %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "\n",
                g_get_monotonic_time(), domain->name, domain->current_kib,
                domain->target_kib) < 0)
        trace_failed(fake, errno);
}

/* Called with the lock held. */
static void
trace_flush(MbBackendFake *fake)
{
    if (fake->trace != NULL && fflush(fake->trace) != 0)
        trace_failed(fake, errno);
}

static GStrv
fake_list_domains(MbBackend *backend, GError **error)
{
    MbBackendFake *fake = MB_BACKEND_FAKE(backend);
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
    GHashTableIter iter;
    gpointer key;

    g_mutex_lock(&fake->lock);
    g_hash_table_iter_init(&iter, fake->domains);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        g_strv_builder_add(builder, key);
    g_mutex_unlock(&fake->lock);
    return g_strv_builder_end(builder);
}

typedef struct {
    MbBackendFake *fake;
    char *name;
} FakeUrgent;

static void
fake_urgent_free(gpointer data)
{
    FakeUrgent *u = data;

    g_free(u->name);
    g_free(u);
}

/* The main thread: a scheduled urgent record. */
static gboolean
on_urgent_due(gpointer data)
{
    FakeUrgent *u = data;

    mb_backend_fake_send_urgent(MB_BACKEND(u->fake), u->name, MB_URGENT_PSI);
    return G_SOURCE_REMOVE;
}

/* Called with the lock held, from any thread. */
static void
schedule_urgent(MbBackendFake *fake, const char *name)
{
    GArray *times = g_hash_table_lookup(fake->urgent, name);

    for (guint i = 0; times != NULL && i < times->len; i++) {
        GSource *source = g_timeout_source_new(g_array_index(times, guint, i));
        FakeUrgent *u = g_new0(FakeUrgent, 1);

        u->fake = fake;
        u->name = g_strdup(name);
        g_source_set_callback(source, on_urgent_due, u, fake_urgent_free);
        g_source_set_name(source, "membalancer fake urgent record");
        g_source_attach(source, NULL);
        g_ptr_array_add(fake->urgent_sources, source);
    }
}

/* Called with the lock held. */
static FakeDomain *
get_domain(MbBackendFake *fake, const char *name)
{
    FakeDomain *domain = g_hash_table_lookup(fake->domains, name);
    const MbFakeFault *fault;
    const MbWorkload *workload;
    g_autofree char *faults = NULL;
    const guint64 *alloc = g_hash_table_lookup(fake->allocs, name);
    guint64 alloc_kib = alloc != NULL ? MIN(*alloc, fake->max_kib) : fake->alloc_kib;

    if (domain != NULL)
        return domain;
    workload = workload_for(fake, name);
    fault = g_hash_table_lookup(fake->faults, name);
    domain = g_new0(FakeDomain, 1);
    domain->name = g_strdup(name);
    domain->max_kib = fake->max_kib;
    domain->current_kib = alloc_kib;
    domain->target_kib = alloc_kib;
    domain->state = MB_VM_STATE_RUNNING;
    if (fault != NULL)
        domain->fault = *fault;
    mb_guest_init(&domain->guest, workload, alloc_kib);
    g_hash_table_insert(fake->domains, domain->name, domain);
    schedule_urgent(fake, name);
    if (domain->fault.flags != 0)
        faults = mb_fake_fault_to_string(&domain->fault);
    mb_log(G_LOG_LEVEL_INFO, "MB_VM", name,
           "fake backend: simulated guest '%s' runs workload '%s' in %" G_GUINT64_FORMAT
           " KiB%s%s",
           name, workload->name, alloc_kib, faults != NULL ? "; injected faults: " : "",
           faults != NULL ? faults : "");
    trace_line(fake, domain);
    trace_flush(fake);
    return domain;
}

/* What the hypervisor says the VM holds. */
static guint64
reported_kib(const FakeDomain *domain)
{
    if (domain->fault.flags & MB_FAKE_FAULT_LIE_ZERO)
        return 0;
    if (domain->fault.flags & MB_FAKE_FAULT_LIE_HUGE)
        return MB_BACKEND_FAKE_HUGE_KIB;
    return domain->current_kib;
}

static gboolean
fake_lookup(MbBackend *backend, const char *name, MbDomainInfo *out, GError **error)
{
    MbBackendFake *fake = MB_BACKEND_FAKE(backend);
    FakeDomain *domain;

    g_mutex_lock(&fake->lock);
    domain = get_domain(fake, name);
    out->current_kib = reported_kib(domain);
    out->max_kib = domain->max_kib;
    out->running = TRUE;
    /* A registration starts afresh: a stuck balloon gets another chance. */
    if (domain->state == MB_VM_STATE_STUCK)
        domain->state = MB_VM_STATE_RUNNING;
    mb_balloon_watch_clear(&domain->watch);
    g_mutex_unlock(&fake->lock);
    return TRUE;
}

/* Puts the balloon (and the guest's memory) at kib. */
static void
move_balloon(FakeDomain *domain, guint64 kib)
{
    if (kib == domain->current_kib)
        return;
    domain->current_kib = kib;
    mb_guest_set_alloc(&domain->guest, kib);
}

/* The balloon as a hypervisor sees it: what the guest reports, clamped
 * to the domain's maximum (as the libvirt backend clamps it). */
static guint64
seen_kib(const FakeDomain *domain)
{
    return MIN(reported_kib(domain), domain->max_kib);
}

/* Called with the lock held: balloon-release-ms, a shrink whose time came. */
static void
settle(MbBackendFake *fake, FakeDomain *domain)
{
    if (domain->release_us == 0 || g_get_monotonic_time() < domain->release_us)
        return;
    domain->release_us = 0;
    if (domain->target_kib >= domain->current_kib ||
        (domain->fault.flags & MB_FAKE_FAULT_STUCK))
        return;
    move_balloon(domain, domain->target_kib);
    trace_line(fake, domain);
    trace_flush(fake);
}

/* The backends' stuck rule, on the fake's balloon as reported: the libvirt
 * backend sees nothing else (a lie-zero guest never reaches a target). */
static void
track_balloon(FakeDomain *domain, guint64 before_kib)
{
    guint64 seen = seen_kib(domain);

    switch (mb_balloon_watch_update(&domain->watch, &domain->state, domain->target_kib,
                                    before_kib, seen)) {
    case MB_BALLOON_MOVES_AGAIN:
        mb_log(G_LOG_LEVEL_MESSAGE, "MB_VM", domain->name,
               "VM '%s': its balloon moves again (%" G_GUINT64_FORMAT " KiB): balanced again",
               domain->name, seen);
        break;
    case MB_BALLOON_NOW_STUCK:
        mb_log_id(G_LOG_LEVEL_WARNING, MB_MESSAGE_ID_STUCK, "MB_VM", domain->name,
                  "VM '%s' is stuck: its balloon stayed at %" G_GUINT64_FORMAT
                  " KiB for %u intervals with a target of %" G_GUINT64_FORMAT
                  " KiB (fake backend: fault.%s); not asked again until it moves or is "
                  "registered again",
                  domain->name, seen, MB_BALLOON_STUCK_TICKS, domain->target_kib, domain->name);
        break;
    case MB_BALLOON_SAME:
        break;
    }
}

/* One interval of one guest: its balloon travels, then the guest runs. */
static void
tick_domain(MbBackendFake *fake, FakeDomain *domain)
{
    guint64 before_kib = domain->current_kib;
    guint64 before_seen_kib = seen_kib(domain);
    guint64 target_kib = domain->target_kib;

    if (!(domain->fault.flags & MB_FAKE_FAULT_STUCK)) {
        guint64 rate_kib = fake->rate_kib != 0 ? fake->rate_kib : G_MAXUINT64;
        guint64 grow_kib = fake->grow_rate_kib != 0 ? fake->grow_rate_kib : G_MAXUINT64;
        if (target_kib < before_kib) {
            if (fake->release_ms == 0) /* else settle() moves it */
                move_balloon(domain, before_kib - MIN(rate_kib, before_kib - target_kib));
        } else {
            move_balloon(domain, before_kib + MIN(grow_kib, target_kib - before_kib));
        }
    }
    mb_guest_tick(&domain->guest);
    domain->ticks++;
    track_balloon(domain, before_seen_kib);
    trace_line(fake, domain);
}

/* Every tick, urgent or not, is a simulated second: the tests count them. */
static void
fake_begin_tick(MbBackend *backend, gboolean urgent)
{
    MbBackendFake *fake = MB_BACKEND_FAKE(backend);
    g_autoptr(GPtrArray) shrinking = g_ptr_array_new();
    g_autoptr(GPtrArray) growing = g_ptr_array_new();
    g_autoptr(GPtrArray) still = g_ptr_array_new();
    GPtrArray *passes[] = {shrinking, growing, still};
    GHashTableIter iter;
    gpointer value;

    g_mutex_lock(&fake->lock);
    /* Memory is given back before it is taken: a trace never shows a
     * grown balloon next to one that has not shrunk yet in this tick. */
    g_hash_table_iter_init(&iter, fake->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        FakeDomain *domain = value;
        settle(fake, domain);
        if (domain->target_kib < domain->current_kib)
            g_ptr_array_add(shrinking, domain);
        else if (domain->target_kib > domain->current_kib)
            g_ptr_array_add(growing, domain);
        else
            g_ptr_array_add(still, domain);
    }
    for (gsize p = 0; p < G_N_ELEMENTS(passes); p++) {
        for (guint i = 0; i < passes[p]->len; i++)
            tick_domain(fake, g_ptr_array_index(passes[p], i));
    }
    trace_flush(fake);
    g_mutex_unlock(&fake->lock);
}

/* The statistics as the faults distort them. */
static void
apply_swap_faults(const FakeDomain *domain, MbSample *out)
{
    if (domain->fault.flags & MB_FAKE_FAULT_SWAP_STORM)
        out->swap_out_pages += (guint64)domain->ticks * MB_BACKEND_FAKE_STORM_PAGES;
    if (domain->fault.flags & MB_FAKE_FAULT_BACKWARDS) {
        guint64 fall = MIN((guint64)domain->ticks * MB_BACKEND_FAKE_BACKWARDS_STEP_PAGES,
                           MB_BACKEND_FAKE_BACKWARDS_START_PAGES);
        out->swap_in_pages = MB_BACKEND_FAKE_BACKWARDS_START_PAGES - fall;
        out->swap_out_pages = MB_BACKEND_FAKE_BACKWARDS_START_PAGES - fall;
    }
}

static gboolean
fake_read_sample(MbBackend *backend, const char *name, MbSample *out, MbStatsSource *source,
                 guint64 *alloc_kib, GError **error)
{
    MbBackendFake *fake = MB_BACKEND_FAKE(backend);
    FakeDomain *domain;
    gboolean silent;

    g_mutex_lock(&fake->lock);
    domain = get_domain(fake, name);
    settle(fake, domain);
    silent = (domain->fault.flags & MB_FAKE_FAULT_SILENT) &&
             MAX(domain->ticks, 1u) > domain->fault.silent_after_ticks;
    if (silent) {
        memset(out, 0, sizeof *out);
        *source = MB_STATS_SOURCE_NONE;
    } else {
        mb_guest_sample(&domain->guest, out);
        apply_swap_faults(domain, out);
        out->urgent = domain->urgent;
        *source = MB_STATS_SOURCE_AGENT;
    }
    domain->urgent = 0;
    *alloc_kib = reported_kib(domain);
    g_mutex_unlock(&fake->lock);
    return TRUE;
}

static gboolean
fake_set_target(MbBackend *backend, const char *name, guint64 target_kib, GError **error)
{
    MbBackendFake *fake = MB_BACKEND_FAKE(backend);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&fake->lock);
    FakeDomain *domain = get_domain(fake, name);

    if (domain->fault.flags & MB_FAKE_FAULT_FAIL_SET) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "fake: set-target refused for VM '%s' (fault.%s = fail-set)", name, name);
        return FALSE;
    }
    if (domain->state != MB_VM_STATE_RUNNING) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "VM '%s' is %s: its balloon is left alone", name,
                    mb_vm_state_to_string(domain->state));
        return FALSE;
    }
    domain->target_kib = MIN(target_kib, domain->max_kib);
    mb_balloon_watch_target(&domain->watch);
    if (fake->release_ms == 0 || domain->target_kib >= domain->current_kib)
        domain->release_us = 0;
    else if (domain->release_us == 0)
        domain->release_us = g_get_monotonic_time() + (gint64)fake->release_ms * 1000;
    if (!(domain->fault.flags & MB_FAKE_FAULT_STUCK) && domain->release_us == 0 &&
        (domain->target_kib > domain->current_kib ? fake->grow_rate_kib : fake->rate_kib) == 0)
        move_balloon(domain, domain->target_kib);
    trace_line(fake, domain);
    trace_flush(fake);
    return TRUE;
}

static gboolean
fake_get_current(MbBackend *backend, const char *name, guint64 *current_kib)
{
    MbBackendFake *fake = MB_BACKEND_FAKE(backend);

    g_mutex_lock(&fake->lock);
    settle(fake, get_domain(fake, name));
    *current_kib = reported_kib(get_domain(fake, name));
    g_mutex_unlock(&fake->lock);
    return TRUE;
}

static void
fake_get_status(MbBackend *backend, const char *name, MbVmStatus *out)
{
    MbBackendFake *fake = MB_BACKEND_FAKE(backend);
    FakeDomain *domain;

    g_mutex_lock(&fake->lock);
    domain = get_domain(fake, name);
    out->state = domain->state;
    out->boot = 0; /* a simulated guest never reboots */
    out->max_kib = domain->max_kib;
    g_mutex_unlock(&fake->lock);
}

void
mb_backend_fake_send_urgent(MbBackend *backend, const char *name, unsigned urgent)
{
    MbBackendFake *fake = MB_BACKEND_FAKE(backend);

    g_return_if_fail(MB_IS_BACKEND_FAKE(backend));
    g_mutex_lock(&fake->lock);
    get_domain(fake, name)->urgent |= urgent;
    g_mutex_unlock(&fake->lock);
    mb_backend_emit_urgent(backend, name, urgent);
}

guint64
mb_backend_fake_sum_current_kib(MbBackend *backend)
{
    MbBackendFake *fake = MB_BACKEND_FAKE(backend);
    GHashTableIter iter;
    gpointer value;
    guint64 sum_kib = 0;

    g_return_val_if_fail(MB_IS_BACKEND_FAKE(backend), 0);
    g_mutex_lock(&fake->lock);
    g_hash_table_iter_init(&iter, fake->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        sum_kib += ((FakeDomain *)value)->current_kib;
    g_mutex_unlock(&fake->lock);
    return sum_kib;
}

static void
fake_finalize(GObject *object)
{
    MbBackendFake *fake = MB_BACKEND_FAKE(object);

    /* The main thread (as the sources' callbacks): none runs after this. */
    for (guint i = 0; i < fake->urgent_sources->len; i++)
        g_source_destroy(g_ptr_array_index(fake->urgent_sources, i));
    g_ptr_array_unref(fake->urgent_sources);
    g_clear_pointer(&fake->urgent, g_hash_table_unref);
    g_clear_pointer(&fake->allocs, g_hash_table_unref);
    g_hash_table_unref(fake->domains);
    g_hash_table_unref(fake->workloads);
    g_hash_table_unref(fake->faults);
    if (fake->trace != NULL)
        fclose(fake->trace);
    g_free(fake->trace_path);
    g_mutex_clear(&fake->lock);
    G_OBJECT_CLASS(mb_backend_fake_parent_class)->finalize(object);
}

/* A guest's sample is taken on its simulated clock: every tick, urgent or
 * not, is one interval of it (a read before its first tick counts as in
 * its first). */
static gint64
fake_sample_us(MbBackend *backend, const char *name)
{
    MbBackendFake *fake = MB_BACKEND_FAKE(backend);
    gint64 us;

    g_mutex_lock(&fake->lock);
    us = (gint64)MAX(get_domain(fake, name)->ticks, 1u) * fake->interval_us;
    g_mutex_unlock(&fake->lock);
    return us;
}

static void
mb_backend_fake_class_init(MbBackendFakeClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    MbBackendClass *backend_class = MB_BACKEND_CLASS(klass);

    object_class->finalize = fake_finalize;
    backend_class->name = "fake";
    backend_class->list_domains = fake_list_domains;
    backend_class->lookup = fake_lookup;
    backend_class->begin_tick = fake_begin_tick;
    backend_class->read_sample = fake_read_sample;
    backend_class->set_target = fake_set_target;
    backend_class->get_status = fake_get_status;
    backend_class->get_current = fake_get_current;
    backend_class->sample_us = fake_sample_us;
}

static void
mb_backend_fake_init(MbBackendFake *fake)
{
    g_mutex_init(&fake->lock);
    fake->domains = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, fake_domain_free);
    fake->workloads = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    fake->faults = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    fake->urgent_sources = g_ptr_array_new_with_free_func((GDestroyNotify)g_source_unref);
}

static gboolean
open_trace(MbBackendFake *fake, const char *path, GError **error)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

    if (fd >= 0)
        fake->trace = fdopen(fd, "a");
    if (fake->trace == NULL) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "[fake] trace: cannot open '%s': %s", path, g_strerror(saved));
        return FALSE;
    }
    fake->trace_path = g_strdup(path);
    return TRUE;
}

MbBackend *
mb_backend_fake_new(const MbConfig *config, GError **error)
{
    g_autoptr(MbFakeConfig) fake_config = mb_fake_config_new();

    if (!mb_fake_config_load(fake_config, config, error))
        return NULL;
    return mb_backend_fake_new_with(fake_config, config->interval_ms, error);
}

MbBackend *
mb_backend_fake_new_with(const MbFakeConfig *config, guint interval_ms, GError **error)
{
    g_autoptr(MbBackendFake) fake = g_object_new(MB_TYPE_BACKEND_FAKE, NULL);
    GHashTableIter iter;
    gpointer key, value;

    fake->urgent = g_hash_table_ref(config->urgent);
    fake->allocs = g_hash_table_ref(config->allocs);
    fake->release_ms = config->balloon_release_ms;
    fake->alloc_kib = config->alloc_kib;
    fake->max_kib = config->max_kib;
    fake->rate_kib = config->balloon_rate_kib;
    fake->interval_us = (gint64)MAX(interval_ms, 1u) * 1000;
    fake->grow_rate_kib =
        config->balloon_grow_rate_set ? config->balloon_grow_rate_kib : fake->rate_kib;
    if (config->default_workload != NULL) {
        if (!resolve_workload(config->default_workload, &fake->default_workload,
                              "default-workload", error))
            return NULL;
    } else {
        /* Idle-ish: a steady, small footprint. */
        fake->default_workload = mb_workload_lookup("idle");
        if (fake->default_workload == NULL &&
            !resolve_workload("libquantum", &fake->default_workload, "default-workload", error))
            return NULL;
    }
    g_hash_table_iter_init(&iter, config->workloads);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        const MbWorkload *workload;
        if (!resolve_workload(value, &workload, key, error))
            return NULL;
        g_hash_table_insert(fake->workloads, g_strdup(key), g_strdup(value));
    }
    g_hash_table_iter_init(&iter, config->faults);
    while (g_hash_table_iter_next(&iter, &key, &value))
        g_hash_table_insert(fake->faults, g_strdup(key), g_memdup2(value, sizeof(MbFakeFault)));
    if (config->trace_path != NULL && !open_trace(fake, config->trace_path, error))
        return NULL;
    mb_log(G_LOG_LEVEL_MESSAGE, "MB_BACKEND", "fake",
           "fake backend: the VMs are SIMULATED guests (sim/ guest model), not real ones; "
           "one simulated second per interval");
    if (fake->rate_kib != 0 || g_hash_table_size(fake->faults) > 0 || fake->trace != NULL) {
        g_autofree char *rate =
            fake->rate_kib != 0
                ? g_strdup_printf("%" G_GUINT64_FORMAT " KiB a tick", fake->rate_kib)
                : g_strdup("instantly");
        mb_log(G_LOG_LEVEL_MESSAGE, "MB_BACKEND", "fake",
               "fake backend: balloons move %s; %u VM(s) with injected faults; trace: %s", rate,
               g_hash_table_size(fake->faults),
               fake->trace_path != NULL ? fake->trace_path : "none");
    }
    return MB_BACKEND(g_steal_pointer(&fake));
}
