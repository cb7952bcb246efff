/* What the model (mb-panel-model.c) does to its rows. */
#pragma once

#include <membalancer.h>

#include "mb-panel-vm.h"

G_BEGIN_DECLS

/* A row following source (the library's VM), drawn in colour index color. */
MbPanelVm *mb_panel_vm_new(MembalancerVm *source, guint color);
/* The library's VM of the row, or NULL once detached (transfer none). */
MembalancerVm *mb_panel_vm_get_source(MbPanelVm *vm);
/* Stops following the library's VM (it is gone); the row keeps its values. */
void mb_panel_vm_detach(MbPanelVm *vm);
/* Records the current allocation in the history at now_us, and whether
 * the VM still counts as swapping then. */
void mb_panel_vm_sample(MbPanelVm *vm, gint64 now_us);

G_END_DECLS
