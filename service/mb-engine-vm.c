/* The engine's model of one registered VM: its balloon accounting, the
 * predictor's state, its settings. No D-Bus here: MbVmObject shows it on
 * the bus and reads it again on "changed". */
#include "mb-engine-vm.h"

#include "mb-log.h"

#define LIE_LOG_INTERVAL_US (60 * G_USEC_PER_SEC)

struct _MbEngineVm {
    GObject parent_instance;

    MbVm vm;
    MbStatsSource source;
    gint64 last_update_us;
    MbReason last_reason;
    guint64 page_kib; /* the guest's page size, for the swap counter */
    MbVmState state;
    guint64 boot;
    gboolean have_boot;
    MbStatsSource last_source; /* the last source that brought a sample */
    gint64 sample_us;          /* when the predictor's last sample reached the host, 0: none */

    /* Balloon accounting (mb-tick.c). */
    guint64 domain_max_kib;
    guint64 actual_kib; /* the balloon, clamped */
    guint64 set_kib;    /* the target in force, when have_set */
    gboolean have_set;  /* we set a target since it booted or was registered */
    guint n_failures;   /* set-target failures in a row */
    guint hold_ticks;   /* > 0: held at its size after failures */
    gint64 lie_logged_us;
    guint64 n_lies;
    gboolean lying; /* the last balloon size reported was impossible */
    /* What it may hold as far as the host knows (the rule at
     * mb_engine_vm_committed_kib): what it counted for when the target in
     * force was set, that target, and every balloon size reported since;
     * it comes down only when the balloon is seen at its target. */
    guint64 held_kib;
    /* The registration's limits; vm.settings has them within the domain's
     * maximum. */
    guint64 reg_min_kib;
    guint64 reg_max_kib;
};

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_TYPE(MbEngineVm, mb_engine_vm, G_TYPE_OBJECT)

static void
mb_engine_vm_class_init(MbEngineVmClass *klass)
{
    /* Its settings or figures changed (a tick, a new registration): what
     * shows it (the bus object) reads them again now. */
    signals[SIGNAL_CHANGED] =
        g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 0);
}

static void
mb_engine_vm_init(MbEngineVm *self)
{
    self->page_kib = 4;
}

/* The planner's limits: the registration's, within the domain's maximum
 * (a domain redefined smaller is planned within what it has; the
 * registration keeps what was asked for). */
static void
apply_limits(MbEngineVm *self, const MbRegistration *reg)
{
    if (reg != NULL) {
        self->reg_min_kib = reg->min_kib;
        self->reg_max_kib = reg->max_kib;
    }
    self->vm.settings.max_kib = self->domain_max_kib != 0
                                    ? MIN(self->reg_max_kib, self->domain_max_kib)
                                    : self->reg_max_kib;
    self->vm.settings.min_kib = MIN(self->reg_min_kib, self->vm.settings.max_kib);
}

MbEngineVm *
mb_engine_vm_new(const MbRegistration *reg, guint64 alloc_kib, guint64 domain_max_kib)
{
    MbEngineVm *self = g_object_new(MB_TYPE_ENGINE_VM, NULL);
    MbVmSettings settings = {
        .priority = reg->priority,
        .foreground = reg->foreground,
        .min_kib = reg->min_kib,
        .max_kib = reg->max_kib,
    };

    mb_vm_init(&self->vm, reg->name, &settings, 0);
    self->domain_max_kib = domain_max_kib;
    apply_limits(self, reg);
    mb_engine_vm_set_actual(self, alloc_kib);
    self->held_kib = self->actual_kib;
    self->vm.alloc_kib = self->vm.target_kib = self->actual_kib;
    return self;
}

guint64
mb_engine_vm_get_domain_max(MbEngineVm *self)
{
    return self->domain_max_kib;
}

void
mb_engine_vm_set_domain_max(MbEngineVm *self, guint64 domain_max_kib)
{
    if (domain_max_kib == 0 || domain_max_kib == self->domain_max_kib)
        return;
    if (self->domain_max_kib != 0)
        mb_log(G_LOG_LEVEL_MESSAGE, "MB_VM", self->vm.name,
               "VM '%s': its domain's maximum memory is now %" G_GUINT64_FORMAT
               " KiB (was %" G_GUINT64_FORMAT " KiB); planned within it",
               self->vm.name, domain_max_kib, self->domain_max_kib);
    self->domain_max_kib = domain_max_kib;
    apply_limits(self, NULL);
}

void
mb_engine_vm_set_actual(MbEngineVm *self, guint64 reported_kib)
{
    gint64 now;

    if (self->domain_max_kib == 0 || reported_kib <= self->domain_max_kib) {
        self->actual_kib = reported_kib;
        self->lying = FALSE;
        return;
    }
    /* Its position is unknown: counted at its maximum, and never moved
     * (a target "below" a false size may be a grow in truth). */
    self->actual_kib = self->domain_max_kib;
    self->lying = TRUE;
    self->n_lies++;
    now = g_get_monotonic_time();
    if (self->lie_logged_us != 0 && now - self->lie_logged_us < LIE_LOG_INTERVAL_US)
        return;
    self->lie_logged_us = now;
    mb_log_id(G_LOG_LEVEL_WARNING, MB_MESSAGE_ID_GUEST_LIES, "MB_VM", self->vm.name,
              "VM '%s' reports a balloon of %" G_GUINT64_FORMAT " KiB, above its maximum of "
              "%" G_GUINT64_FORMAT
              " KiB: the guest lies; counted at its maximum (%" G_GUINT64_FORMAT
              " such reports so far, logged once a minute)",
              self->vm.name, reported_kib, self->domain_max_kib, self->n_lies);
}

guint64
mb_engine_vm_get_actual(MbEngineVm *self)
{
    return self->actual_kib;
}

static guint64
get_set(MbEngineVm *self)
{
    /* Until we set one, the balloon goes where the hypervisor sent it (a
     * booting guest inflates from its maximum to its start size). */
    return self->have_set ? self->set_kib : self->actual_kib;
}

static gboolean
arrived(guint64 actual_kib, guint64 target_kib)
{
    guint64 gap = actual_kib > target_kib ? actual_kib - target_kib : target_kib - actual_kib;

    return gap <= MB_VM_ARRIVED_SLACK_KIB;
}

/* A guest writes its balloon's size itself: a balloon that does not do
 * what it is asked (stuck) or says the impossible (lying) may say
 * anything, so it counts for what it may hold as far as the host knows,
 * held_kib, never for its claim. A balloon that moves as asked is
 * believed as it travels: memory a donor gives is handed out as it goes. */
guint64
mb_engine_vm_committed_kib(MbEngineVm *self)
{
    if (self->state == MB_VM_STATE_OFFLINE)
        return 0;
    if (mb_engine_vm_get_state(self) == MB_VM_STATE_STUCK)
        return MAX(self->actual_kib, self->held_kib);
    /* Once a target of ours is in force, a guest claiming a smaller
     * balloon frees nothing; before, its claim is all there is (a booting
     * guest inflates from its maximum on its own). */
    if (!self->have_set)
        return self->actual_kib;
    return MAX(self->actual_kib, self->set_kib);
}

guint64
mb_engine_vm_planned_kib(MbEngineVm *self)
{
    guint64 set_kib = get_set(self);

    /* A stuck balloon counts where it may be; a travelling one is where it goes. */
    if (mb_engine_vm_get_state(self) == MB_VM_STATE_STUCK)
        return mb_engine_vm_committed_kib(self);
    if (arrived(self->actual_kib, set_kib))
        return self->actual_kib;
    return set_kib;
}

void
mb_engine_vm_target_set(MbEngineVm *self, guint64 target_kib, MbReason reason)
{
    /* The backends never set more than the domain's maximum. */
    if (self->domain_max_kib != 0)
        target_kib = MIN(target_kib, self->domain_max_kib);
    /* Until the balloon is seen at it, it may still hold what it had. */
    self->held_kib = MAX(mb_engine_vm_committed_kib(self), target_kib);
    self->set_kib = target_kib;
    self->have_set = TRUE;
    self->n_failures = 0;
    self->vm.alloc_kib = target_kib;
    self->last_reason = reason;
}

gboolean
mb_engine_vm_target_failed(MbEngineVm *self)
{
    if (self->hold_ticks > 0 || ++self->n_failures < MB_VM_FAIL_LIMIT)
        return FALSE;
    self->n_failures = 0;
    self->hold_ticks = MB_VM_FAIL_HOLD_TICKS;
    return TRUE;
}

const char *
mb_engine_vm_get_name(MbEngineVm *self)
{
    return self->vm.name;
}

MbVm *
mb_engine_vm_get_vm(MbEngineVm *self)
{
    return &self->vm;
}

MbRegistration *
mb_engine_vm_dup_registration(MbEngineVm *self)
{
    return mb_registration_new(self->vm.name, self->vm.settings.priority, self->reg_min_kib,
                               self->reg_max_kib, self->vm.settings.foreground);
}

void
mb_engine_vm_set_registration(MbEngineVm *self, const MbRegistration *reg)
{
    self->vm.settings.priority = reg->priority;
    apply_limits(self, reg);
    self->vm.settings.foreground = reg->foreground;
    mb_engine_vm_publish(self);
}

static void
reset_prediction(MbEngineVm *self, guint64 alloc_kib)
{
    MbVmSettings settings = self->vm.settings;
    g_autofree char *name = g_strdup(self->vm.name);

    mb_vm_init(&self->vm, name, &settings, alloc_kib);
    self->sample_us = 0;
}

void
mb_engine_vm_set_offline(MbEngineVm *self)
{
    self->state = MB_VM_STATE_OFFLINE;
    self->vm.alloc_kib = 0;
    self->actual_kib = self->set_kib = self->held_kib = 0;
    self->have_set = FALSE;
    self->source = MB_STATS_SOURCE_NONE;
}

/* What the VM may hold, after a new balloon size. */
static void
update_held(MbEngineVm *self)
{
    if (!self->have_set)
        self->held_kib = self->actual_kib; /* its claim is all there is */
    else if (arrived(self->actual_kib, self->set_kib))
        self->held_kib = MAX(self->actual_kib, self->set_kib);
    else
        self->held_kib = MAX(self->held_kib, self->actual_kib);
}

void
mb_engine_vm_update_status(MbEngineVm *self, const MbVmStatus *status, guint64 alloc_kib)
{
    gboolean was_stuck =
        self->state != MB_VM_STATE_OFFLINE && mb_engine_vm_get_state(self) == MB_VM_STATE_STUCK;

    if (status->state == MB_VM_STATE_OFFLINE) {
        mb_engine_vm_set_offline(self);
        return;
    }
    /* Before the balloon's size is checked against it. */
    mb_engine_vm_set_domain_max(self, status->max_kib);
    /* A new boot: the old history describes another guest, and the
     * balloon starts where the hypervisor says. */
    if (self->state == MB_VM_STATE_OFFLINE || (self->have_boot && status->boot != self->boot)) {
        reset_prediction(self, alloc_kib);
        mb_engine_vm_set_actual(self, alloc_kib);
        self->have_set = FALSE;
        self->n_failures = self->hold_ticks = 0;
        self->last_source = MB_STATS_SOURCE_NONE;
        was_stuck = FALSE;
    } else {
        mb_engine_vm_set_actual(self, alloc_kib);
    }
    update_held(self);
    self->boot = status->boot;
    self->have_boot = TRUE;
    self->state = status->state;
    /* Balanced again: planned from what it may hold, as if that were its
     * target, so that a guest whose claims come and go gains nothing. */
    if (was_stuck && mb_engine_vm_get_state(self) == MB_VM_STATE_RUNNING) {
        self->set_kib = self->held_kib;
        self->have_set = TRUE;
    }
    self->vm.alloc_kib = mb_engine_vm_planned_kib(self);
}

void
mb_engine_vm_interval_passed(MbEngineVm *self)
{
    if (self->hold_ticks > 0 && --self->hold_ticks == 0)
        mb_log(G_LOG_LEVEL_MESSAGE, "MB_VM", self->vm.name,
               "VM '%s': trying its balloon again after %u intervals", self->vm.name,
               MB_VM_FAIL_HOLD_TICKS);
}

MbVmState
mb_engine_vm_get_state(MbEngineVm *self)
{
    if (self->state == MB_VM_STATE_RUNNING && (self->hold_ticks > 0 || self->lying))
        return MB_VM_STATE_STUCK;
    return self->state;
}

/* A debug record of every sample as it came (G_MESSAGES_DEBUG=membalancer):
 * the real-VM benchmark turns these into simulator traces
 * (bench/vm/bench-vms-trace.py, docs/benchmarks.md). The format is
 * documented there; change both together. */
static void
log_sample(MbEngineVm *self, const MbSample *s, MbStatsSource source, gint64 now_us)
{
    char some[G_ASCII_DTOSTR_BUF_SIZE], full[G_ASCII_DTOSTR_BUF_SIZE];

    if (g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
        return;
    /* A decimal point in every locale: the record is read by programs. */
    g_ascii_formatd(some, sizeof(some), "%.2f", s->has_psi ? s->psi_some_avg10 : 0.0);
    g_ascii_formatd(full, sizeof(full), "%.2f", s->has_psi ? s->psi_full_avg10 : 0.0);
    g_debug("sample %s: source=%s t_us=%" G_GINT64_FORMAT " alloc_kib=%" G_GUINT64_FORMAT
            " total_kib=%" G_GUINT64_FORMAT " free_kib=%" G_GUINT64_FORMAT
            " active_anon_kib=%" G_GUINT64_FORMAT " inactive_anon_kib=%" G_GUINT64_FORMAT
            " active_file_kib=%" G_GUINT64_FORMAT " inactive_file_kib=%" G_GUINT64_FORMAT
            " pswpin=%" G_GUINT64_FORMAT " pswpout=%" G_GUINT64_FORMAT
            " swap_used_kib=%" G_GUINT64_FORMAT " psi_some_avg10=%s psi_full_avg10=%s"
            " urgent=%u",
            self->vm.name, mb_stats_source_to_string(source), now_us, self->vm.alloc_kib,
            s->total_kib, s->free_kib, s->active_anon_kib, s->inactive_anon_kib,
            s->active_file_kib, s->inactive_file_kib, s->swap_in_pages, s->swap_out_pages,
            s->has_swap_used ? s->swap_used_kib : 0, some, full, s->urgent);
}

void
mb_engine_vm_observe(MbEngineVm *self, const MbSample *sample, MbStatsSource source,
                     guint64 page_kib, gint64 now_us, gint64 taken_us, gint64 interval_us,
                     const MbParams *params)
{
    double intervals;

    self->vm.alloc_kib = mb_engine_vm_planned_kib(self);
    if (source != MB_STATS_SOURCE_NONE) {
        /* Agent and balloon statistics count differently: a switch is no
         * demand spike, the next interval starts a new baseline. */
        if (self->last_source != MB_STATS_SOURCE_NONE && source != self->last_source)
            mb_vm_rebaseline(&self->vm);
        self->last_source = source;
        self->page_kib = page_kib;
        self->vm.page_kib = page_kib;
    }
    self->source = source;
    if (source == MB_STATS_SOURCE_NONE) {
        mb_vm_observe(&self->vm, NULL, params);
        return;
    }
    log_sample(self, sample, source, now_us);
    /* The time between the samples' arrivals, missed intervals included,
     * not between the ticks that read them (mb_sample_span). */
    if (taken_us <= 0)
        taken_us = now_us;
    intervals = mb_sample_span(self->sample_us, taken_us, interval_us);
    mb_vm_observe_at(&self->vm, sample, params, intervals);
    self->sample_us = taken_us;
    self->last_update_us = now_us;
}

gint64
mb_engine_vm_get_last_update(MbEngineVm *self)
{
    return self->last_update_us;
}

void
mb_engine_vm_skip_sample(MbEngineVm *self)
{
    self->vm.alloc_kib = mb_engine_vm_planned_kib(self);
}

MbStatsSource
mb_engine_vm_get_source(MbEngineVm *self)
{
    return self->source;
}

guint64
mb_engine_vm_get_page_kib(MbEngineVm *self)
{
    return self->page_kib;
}

MbReason
mb_engine_vm_get_last_reason(MbEngineVm *self)
{
    return self->last_reason;
}

void
mb_engine_vm_publish(MbEngineVm *self)
{
    g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}
