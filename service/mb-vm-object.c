#include "mb-vm-object.h"

#include "mb-log.h"

#define LIE_LOG_INTERVAL_US (60 * G_USEC_PER_SEC)

struct _MbVmObject {
    MbMemBalancerVMSkeleton parent_instance;

    MbObjectSkeleton *object;
    char *path;
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
     * mb_vm_object_committed_kib): what it counted for when the target in
     * force was set, that target, and every balloon size reported since;
     * it comes down only when the balloon is seen at its target. */
    guint64 held_kib;
    /* The registration's limits; vm.settings has them within the domain's
     * maximum. */
    guint64 reg_min_kib;
    guint64 reg_max_kib;
};

G_DEFINE_TYPE(MbVmObject, mb_vm_object, MB_TYPE_MEM_BALANCER_VM_SKELETON)

const char *
mb_reason_to_keyword(MbReason reason)
{
    switch (reason) {
    case MB_REASON_NONE:
        return "none";
    case MB_REASON_NEED:
        return "need";
    case MB_REASON_DONATE:
        return "donate";
    case MB_REASON_MIN:
        return "min";
    case MB_REASON_MAX:
        return "max";
    case MB_REASON_MOM_SHRINK:
        return "mom-shrink";
    case MB_REASON_MOM_GROW:
        return "mom-grow";
    case MB_REASON_SILENT:
        return "silent";
    case MB_REASON_COLD:
        return "cold";
    }
    return "unknown";
}

char *
mb_vm_object_path_for_name(const char *name)
{
    g_autofree char *escaped = g_dbus_escape_object_path(name);

    return g_strconcat(MB_VM_OBJECT_PATH_PREFIX, escaped, NULL);
}

static void
mb_vm_object_finalize(GObject *object)
{
    MbVmObject *self = MB_VM_OBJECT(object);

    g_clear_object(&self->object);
    g_free(self->path);
    G_OBJECT_CLASS(mb_vm_object_parent_class)->finalize(object);
}

static void
mb_vm_object_class_init(MbVmObjectClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = mb_vm_object_finalize;
}

static void
mb_vm_object_init(MbVmObject *self)
{
    self->page_kib = 4;
}

/* The planner's limits: the registration's, within the domain's maximum
 * (a domain redefined smaller is planned within what it has; the
 * registration keeps what was asked for). */
static void
apply_limits(MbVmObject *self, const MbRegistration *reg)
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

MbVmObject *
mb_vm_object_new(const MbRegistration *reg, guint64 alloc_kib, guint64 domain_max_kib)
{
    MbVmObject *self = g_object_new(MB_TYPE_VM_OBJECT, NULL);
    MbVmSettings settings = {
        .priority = reg->priority,
        .foreground = reg->foreground,
        .min_kib = reg->min_kib,
        .max_kib = reg->max_kib,
    };

    self->path = mb_vm_object_path_for_name(reg->name);
    self->object = mb_object_skeleton_new(self->path);
    mb_object_skeleton_set_mem_balancer_vm(self->object, MB_MEM_BALANCER_VM(self));
    mb_vm_init(&self->vm, reg->name, &settings, 0);
    self->domain_max_kib = domain_max_kib;
    apply_limits(self, reg);
    mb_vm_object_set_actual(self, alloc_kib);
    self->held_kib = self->actual_kib;
    self->vm.alloc_kib = self->vm.target_kib = self->actual_kib;
    mb_mem_balancer_vm_set_name(MB_MEM_BALANCER_VM(self), reg->name);
    mb_vm_object_publish(self);
    return self;
}

void
mb_vm_object_release(MbVmObject *self)
{
    if (self->object != NULL)
        mb_object_skeleton_set_mem_balancer_vm(self->object, NULL);
}

guint64
mb_vm_object_get_domain_max(MbVmObject *self)
{
    return self->domain_max_kib;
}

void
mb_vm_object_set_domain_max(MbVmObject *self, guint64 domain_max_kib)
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
mb_vm_object_set_actual(MbVmObject *self, guint64 reported_kib)
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
mb_vm_object_get_actual(MbVmObject *self)
{
    return self->actual_kib;
}

static guint64
get_set(MbVmObject *self)
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
mb_vm_object_committed_kib(MbVmObject *self)
{
    if (self->state == MB_VM_STATE_OFFLINE)
        return 0;
    if (mb_vm_object_get_state(self) == MB_VM_STATE_STUCK)
        return MAX(self->actual_kib, self->held_kib);
    /* Once a target of ours is in force, a guest claiming a smaller
     * balloon frees nothing; before, its claim is all there is (a booting
     * guest inflates from its maximum on its own). */
    if (!self->have_set)
        return self->actual_kib;
    return MAX(self->actual_kib, self->set_kib);
}

guint64
mb_vm_object_planned_kib(MbVmObject *self)
{
    guint64 set_kib = get_set(self);

    /* A stuck balloon counts where it may be; a travelling one is where it goes. */
    if (mb_vm_object_get_state(self) == MB_VM_STATE_STUCK)
        return mb_vm_object_committed_kib(self);
    if (arrived(self->actual_kib, set_kib))
        return self->actual_kib;
    return set_kib;
}

void
mb_vm_object_target_set(MbVmObject *self, guint64 target_kib, MbReason reason)
{
    /* The backends never set more than the domain's maximum. */
    if (self->domain_max_kib != 0)
        target_kib = MIN(target_kib, self->domain_max_kib);
    /* Until the balloon is seen at it, it may still hold what it had. */
    self->held_kib = MAX(mb_vm_object_committed_kib(self), target_kib);
    self->set_kib = target_kib;
    self->have_set = TRUE;
    self->n_failures = 0;
    self->vm.alloc_kib = target_kib;
    self->last_reason = reason;
}

gboolean
mb_vm_object_target_failed(MbVmObject *self)
{
    if (self->hold_ticks > 0 || ++self->n_failures < MB_VM_FAIL_LIMIT)
        return FALSE;
    self->n_failures = 0;
    self->hold_ticks = MB_VM_FAIL_HOLD_TICKS;
    return TRUE;
}

MbObjectSkeleton *
mb_vm_object_get_object(MbVmObject *self)
{
    return self->object;
}

const char *
mb_vm_object_get_path(MbVmObject *self)
{
    return self->path;
}

const char *
mb_vm_object_get_name(MbVmObject *self)
{
    return self->vm.name;
}

MbVm *
mb_vm_object_get_vm(MbVmObject *self)
{
    return &self->vm;
}

MbRegistration *
mb_vm_object_dup_registration(MbVmObject *self)
{
    return mb_registration_new(self->vm.name, self->vm.settings.priority, self->reg_min_kib,
                               self->reg_max_kib, self->vm.settings.foreground);
}

void
mb_vm_object_set_registration(MbVmObject *self, const MbRegistration *reg)
{
    self->vm.settings.priority = reg->priority;
    apply_limits(self, reg);
    self->vm.settings.foreground = reg->foreground;
    mb_vm_object_publish(self);
}

static void
reset_prediction(MbVmObject *self, guint64 alloc_kib)
{
    MbVmSettings settings = self->vm.settings;
    g_autofree char *name = g_strdup(self->vm.name);

    mb_vm_init(&self->vm, name, &settings, alloc_kib);
    self->sample_us = 0;
}

void
mb_vm_object_set_offline(MbVmObject *self)
{
    self->state = MB_VM_STATE_OFFLINE;
    self->vm.alloc_kib = 0;
    self->actual_kib = self->set_kib = self->held_kib = 0;
    self->have_set = FALSE;
    self->source = MB_STATS_SOURCE_NONE;
}

/* What the VM may hold, after a new balloon size. */
static void
update_held(MbVmObject *self)
{
    if (!self->have_set)
        self->held_kib = self->actual_kib; /* its claim is all there is */
    else if (arrived(self->actual_kib, self->set_kib))
        self->held_kib = MAX(self->actual_kib, self->set_kib);
    else
        self->held_kib = MAX(self->held_kib, self->actual_kib);
}

void
mb_vm_object_update_status(MbVmObject *self, const MbVmStatus *status, guint64 alloc_kib)
{
    gboolean was_stuck =
        self->state != MB_VM_STATE_OFFLINE && mb_vm_object_get_state(self) == MB_VM_STATE_STUCK;

    if (status->state == MB_VM_STATE_OFFLINE) {
        mb_vm_object_set_offline(self);
        return;
    }
    /* Before the balloon's size is checked against it. */
    mb_vm_object_set_domain_max(self, status->max_kib);
    /* A new boot: the old history describes another guest, and the
     * balloon starts where the hypervisor says. */
    if (self->state == MB_VM_STATE_OFFLINE || (self->have_boot && status->boot != self->boot)) {
        reset_prediction(self, alloc_kib);
        mb_vm_object_set_actual(self, alloc_kib);
        self->have_set = FALSE;
        self->n_failures = self->hold_ticks = 0;
        self->last_source = MB_STATS_SOURCE_NONE;
        was_stuck = FALSE;
    } else {
        mb_vm_object_set_actual(self, alloc_kib);
    }
    update_held(self);
    self->boot = status->boot;
    self->have_boot = TRUE;
    self->state = status->state;
    /* Balanced again: planned from what it may hold, as if that were its
     * target, so that a guest whose claims come and go gains nothing. */
    if (was_stuck && mb_vm_object_get_state(self) == MB_VM_STATE_RUNNING) {
        self->set_kib = self->held_kib;
        self->have_set = TRUE;
    }
    self->vm.alloc_kib = mb_vm_object_planned_kib(self);
}

void
mb_vm_object_interval_passed(MbVmObject *self)
{
    if (self->hold_ticks > 0 && --self->hold_ticks == 0)
        mb_log(G_LOG_LEVEL_MESSAGE, "MB_VM", self->vm.name,
               "VM '%s': trying its balloon again after %u intervals", self->vm.name,
               MB_VM_FAIL_HOLD_TICKS);
}

MbVmState
mb_vm_object_get_state(MbVmObject *self)
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
log_sample(MbVmObject *self, const MbSample *s, MbStatsSource source, gint64 now_us)
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
mb_vm_object_observe(MbVmObject *self, const MbSample *sample, MbStatsSource source,
                     guint64 page_kib, gint64 now_us, gint64 taken_us, gint64 interval_us,
                     const MbParams *params)
{
    double intervals;

    self->vm.alloc_kib = mb_vm_object_planned_kib(self);
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
mb_vm_object_get_last_update(MbVmObject *self)
{
    return self->last_update_us;
}

void
mb_vm_object_skip_sample(MbVmObject *self)
{
    self->vm.alloc_kib = mb_vm_object_planned_kib(self);
}

void
mb_vm_object_publish(MbVmObject *self)
{
    MbMemBalancerVM *iface = MB_MEM_BALANCER_VM(self);
    const MbVm *vm = &self->vm;
    gboolean have = vm->has_last;

    mb_mem_balancer_vm_set_priority(iface, vm->settings.priority);
    mb_mem_balancer_vm_set_foreground(iface, vm->settings.foreground);
    mb_mem_balancer_vm_set_min_kib(iface, vm->settings.min_kib);
    mb_mem_balancer_vm_set_max_kib(iface, vm->settings.max_kib);
    mb_mem_balancer_vm_set_allocated_kib(iface, vm->alloc_kib);
    mb_mem_balancer_vm_set_demand_kib(iface, vm->has_delta ? vm->delta_kib : 0);
    mb_mem_balancer_vm_set_reclaimable_kib(iface, have ? vm->reclaimable_kib : 0);
    mb_mem_balancer_vm_set_active_anon_kib(iface, have ? vm->last.active_anon_kib : 0);
    mb_mem_balancer_vm_set_active_file_kib(iface, have ? vm->last.active_file_kib : 0);
    mb_mem_balancer_vm_set_inactive_file_kib(iface, have ? vm->last.inactive_file_kib : 0);
    mb_mem_balancer_vm_set_free_kib(iface, have ? vm->last.free_kib : 0);
    mb_mem_balancer_vm_set_swap_out_kib(iface,
                                        have ? vm->last.swap_out_pages * self->page_kib : 0);
    mb_mem_balancer_vm_set_stats_source(iface, mb_stats_source_to_string(self->source));
    mb_mem_balancer_vm_set_last_update(iface, (guint64)MAX(self->last_update_us, 0));
    mb_mem_balancer_vm_set_last_reason(iface, mb_reason_to_keyword(self->last_reason));
    mb_mem_balancer_vm_set_state(iface, mb_vm_state_to_string(mb_vm_object_get_state(self)));
    g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self));
}
