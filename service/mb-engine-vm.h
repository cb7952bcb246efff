/* One registered VM as the engine sees it: the policy's view of it and its
 * balloon's accounting. A plain GObject: the bus object (MbVmObject)
 * reads it on "changed"; nothing here knows D-Bus. */
#pragma once

#include "mb-backend.h"
#include "mb-policy.h"
#include "mb-state-store.h"

G_BEGIN_DECLS

#define MB_TYPE_ENGINE_VM (mb_engine_vm_get_type())
G_DECLARE_FINAL_TYPE(MbEngineVm, mb_engine_vm, MB, ENGINE_VM, GObject)

/* After this many set-target failures in a row a VM is planned at its
 * current size (State "stuck") for MB_VM_FAIL_HOLD_TICKS intervals. */
#define MB_VM_FAIL_LIMIT 3u
#define MB_VM_FAIL_HOLD_TICKS 30u
/* Within this of its target, a balloon has arrived (the backends' rule). */
#define MB_VM_ARRIVED_SLACK_KIB MB_BALLOON_TARGET_SLACK_KIB

/* alloc_kib: the balloon now; domain_max_kib: the domain's maximum (0:
 * unknown), the bound of every balloon size the guest reports. */
MbEngineVm *mb_engine_vm_new(const MbRegistration *reg, guint64 alloc_kib,
                             guint64 domain_max_kib);
const char *mb_engine_vm_get_name(MbEngineVm *self);
/* The policy's state; the planner works on copies (see mb-tick.c). */
MbVm *mb_engine_vm_get_vm(MbEngineVm *self);

/* The registration as asked for (min and max may be above the domain's
 * maximum now: the planner's are within it). */
MbRegistration *mb_engine_vm_dup_registration(MbEngineVm *self);
/* Applies new settings (priority, min, max, foreground) and publishes them. */
void mb_engine_vm_set_registration(MbEngineVm *self, const MbRegistration *reg);

/* The backend's view after a read: an offline VM holds nothing and is not
 * planned; a VM that starts again (or boots anew) starts a new prediction;
 * the domain's maximum is taken from status (when known). */
void mb_engine_vm_update_status(MbEngineVm *self, const MbVmStatus *status, guint64 alloc_kib);
/* A regular tick read the VM (an interval passed; an urgent tick is
 * none): a VM held after failed moves is held one interval less. */
void mb_engine_vm_interval_passed(MbEngineVm *self);
/* Before the first read: a registered domain that is not running is offline. */
void mb_engine_vm_set_offline(MbEngineVm *self);
MbVmState mb_engine_vm_get_state(MbEngineVm *self);

/* The balloon's position as the backend reports it. A guest writes that
 * number (virtio-balloon "actual"): it is clamped to the domain's
 * maximum, and a value above it is logged as a lie (once a minute). */
void mb_engine_vm_set_actual(MbEngineVm *self, guint64 reported_kib);
guint64 mb_engine_vm_get_actual(MbEngineVm *self);
/* The most this VM may hold from now on: max(balloon, target); its
 * balloon until a target of ours is in force; 0 when offline. Stuck or
 * lying: at least what it may hold as far as the host knows (what it
 * counted for when its target was set, that target, and every size
 * reported since, until its balloon is seen at a target), never its
 * claim. The pool's accounting sums these. */
guint64 mb_engine_vm_committed_kib(MbEngineVm *self);
/* Where the VM is headed, as the planner counts it: the target while the
 * balloon travels toward it, else the balloon; stuck: what it commits. */
guint64 mb_engine_vm_planned_kib(MbEngineVm *self);

/* now_us of the tick that last brought this VM a sample, 0: none. */
gint64 mb_engine_vm_get_last_update(MbEngineVm *self);
/* Feeds one interval's sample (NULL when none arrived) to the predictor;
 * page_kib is the unit of the sample's swap counters. A change of
 * statistics source (agent <-> balloon) re-baselines the predictor. now_us
 * is when the tick began, taken_us when the sample reached the host (the
 * backend's clock; <= 0: now_us). The sample spans
 * mb_sample_span(the last sample's taken_us, taken_us, interval_us)
 * intervals, so that the predicted demand stays a rate per interval
 * whichever tick reads it. */
/* A tick without a new sample for this VM that misses nothing (an urgent
 * tick, or the regular one after an urgent tick read this interval's
 * sample): its allocation is brought up to date, its prediction left
 * alone. */
void mb_engine_vm_skip_sample(MbEngineVm *self);
void mb_engine_vm_observe(MbEngineVm *self, const MbSample *sample, MbStatsSource source,
                          guint64 page_kib, gint64 now_us, gint64 taken_us, gint64 interval_us,
                          const MbParams *params);
/* The backend accepted a target (counted within the domain's maximum, as
 * the backends set it). */
void mb_engine_vm_target_set(MbEngineVm *self, guint64 target_kib, MbReason reason);
/* The backend refused a target; TRUE when that makes the VM "stuck". */
gboolean mb_engine_vm_target_failed(MbEngineVm *self);
/* A domain's maximum as read again (0: unknown, ignored): the planner's
 * max is the registration's within it. */
void mb_engine_vm_set_domain_max(MbEngineVm *self, guint64 domain_max_kib);
/* The domain's maximum memory, 0 while unknown. */
guint64 mb_engine_vm_get_domain_max(MbEngineVm *self);
/* Emits "changed": whoever shows the VM reads it again now. */
void mb_engine_vm_publish(MbEngineVm *self);
/* What the bus object shows besides the MbVm. */
MbStatsSource mb_engine_vm_get_source(MbEngineVm *self);
guint64 mb_engine_vm_get_page_kib(MbEngineVm *self);
MbReason mb_engine_vm_get_last_reason(MbEngineVm *self);

G_END_DECLS
