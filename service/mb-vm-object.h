/* One registered VM on the bus: org.smarttv.MemBalancer.VM at
 * /org/smarttv/MemBalancer/vm/<escaped name>, and the policy's view of it. */
#pragma once

#include "mb-backend.h"
#include "mb-dbus-generated.h"
#include "mb-policy.h"
#include "mb-state-store.h"

G_BEGIN_DECLS

#define MB_VM_OBJECT_PATH_PREFIX "/org/smarttv/MemBalancer/vm/"

#define MB_TYPE_VM_OBJECT (mb_vm_object_get_type())
G_DECLARE_FINAL_TYPE(MbVmObject, mb_vm_object, MB, VM_OBJECT, MbMemBalancerVMSkeleton)

/* The object path for a VM name (escaped with g_dbus_escape_object_path). */
char *mb_vm_object_path_for_name(const char *name);

MbVmObject *mb_vm_object_new(const MbRegistration *reg, guint64 alloc_kib);

/* The object to export through the ObjectManager (owned by self). */
MbObjectSkeleton *mb_vm_object_get_object(MbVmObject *self);
const char *mb_vm_object_get_path(MbVmObject *self);
const char *mb_vm_object_get_name(MbVmObject *self);
/* The policy's state; the planner works on copies (see mb-tick.c). */
MbVm *mb_vm_object_get_vm(MbVmObject *self);

MbRegistration *mb_vm_object_dup_registration(MbVmObject *self);
/* Applies new settings (priority, min, max, foreground) and publishes them. */
void mb_vm_object_set_registration(MbVmObject *self, const MbRegistration *reg);

/* The backend's view after a read: an offline VM holds nothing and is not
 * planned; a VM that starts again (or boots anew) starts a new prediction. */
void mb_vm_object_update_status(MbVmObject *self, const MbVmStatus *status, guint64 alloc_kib);
/* Before the first read: a registered domain that is not running is offline. */
void mb_vm_object_set_offline(MbVmObject *self);
MbVmState mb_vm_object_get_state(MbVmObject *self);

/* Feeds one interval's sample (NULL when none arrived) to the predictor. */
void mb_vm_object_observe(MbVmObject *self, const MbSample *sample, MbStatsSource source,
                          guint64 alloc_kib, gint64 now_us, const MbParams *params);
/* Records a move the backend carried out. */
void mb_vm_object_moved(MbVmObject *self, guint64 alloc_kib, MbReason reason);
/* Puts the current state in the properties and emits one
 * PropertiesChanged now. */
void mb_vm_object_publish(MbVmObject *self);

/* Short, stable reason names for the LastReason property. */
const char *mb_reason_to_keyword(MbReason reason);

G_END_DECLS
