/* One row of the panel's model: a VM the service has registered, its
 * figures as the service publishes them, its allocation history and
 * whether it is swapping now. GIO only (see mb-panel-model.h). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One point of a VM's allocation history. */
typedef struct {
    gint64 time_us; /* g_get_monotonic_time() of the panel */
    guint64 allocated_kib;
} MbPanelSample;

#define MB_PANEL_HISTORY_SECONDS 300               /* the chart shows the last 5 minutes */
#define MB_PANEL_SWAP_HOLD_US (5 * G_USEC_PER_SEC) /* swapping stays shown this long */

#define MB_TYPE_PANEL_VM (mb_panel_vm_get_type())
G_DECLARE_FINAL_TYPE(MbPanelVm, mb_panel_vm, MB, PANEL_VM, GObject)

/* Properties (all read-only, notified on change): name, priority,
 * foreground, min-kib, max-kib, allocated-kib, demand-kib,
 * reclaimable-kib, swap-out-kib, swapping, state, stats-source, color
 * (the index of the VM's colour in the chart and its row). */
const char *mb_panel_vm_get_name(MbPanelVm *vm);
guint mb_panel_vm_get_priority(MbPanelVm *vm);
gboolean mb_panel_vm_get_foreground(MbPanelVm *vm);
guint64 mb_panel_vm_get_min_kib(MbPanelVm *vm);
guint64 mb_panel_vm_get_max_kib(MbPanelVm *vm);
guint64 mb_panel_vm_get_allocated_kib(MbPanelVm *vm);
gint64 mb_panel_vm_get_demand_kib(MbPanelVm *vm);
guint64 mb_panel_vm_get_reclaimable_kib(MbPanelVm *vm);
guint64 mb_panel_vm_get_swap_out_kib(MbPanelVm *vm);
/* TRUE while the guest's swap-out counter grew in the last
 * MB_PANEL_SWAP_HOLD_US. */
gboolean mb_panel_vm_get_swapping(MbPanelVm *vm);
const char *mb_panel_vm_get_state(MbPanelVm *vm);
const char *mb_panel_vm_get_stats_source(MbPanelVm *vm);
guint mb_panel_vm_get_color(MbPanelVm *vm);
/* The allocation over the last MB_PANEL_HISTORY_SECONDS, oldest first. */
const MbPanelSample *mb_panel_vm_get_history(MbPanelVm *vm, guint *n_samples);

G_END_DECLS
