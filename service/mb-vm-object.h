/* One registered VM on the bus: org.smarttv.MemBalancer.VM at
 * /org/smarttv/MemBalancer/vm/<escaped name>. It shows an MbEngineVm: its
 * properties are read from the engine's VM on every "changed". */
#pragma once

#include "mb-dbus-generated.h"
#include "mb-engine-vm.h"
#include "mb-names.h"

G_BEGIN_DECLS

#define MB_TYPE_VM_OBJECT (mb_vm_object_get_type())
G_DECLARE_FINAL_TYPE(MbVmObject, mb_vm_object, MB, VM_OBJECT, MbMemBalancerVMSkeleton)

/* The object path for a VM name (escaped with g_dbus_escape_object_path). */
char *mb_vm_object_path_for_name(const char *name);

/* Holds a reference on vm and follows it until released. */
MbVmObject *mb_vm_object_new(MbEngineVm *vm);
/* Stops following the VM and breaks the reference cycle with the object
 * skeleton: call before the last unref. */
void mb_vm_object_release(MbVmObject *self);

/* The object to export through the ObjectManager (owned by self). */
MbObjectSkeleton *mb_vm_object_get_object(MbVmObject *self);
const char *mb_vm_object_get_path(MbVmObject *self);
MbEngineVm *mb_vm_object_get_vm(MbVmObject *self);

G_END_DECLS
