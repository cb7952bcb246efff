/* The fake backend's parts that tests reach directly (mb-backend-fake.c
 * documents its [fake] keys). */
#pragma once

#include "mb-backend-fake-config.h"
#include "mb-backend.h"

G_BEGIN_DECLS

#define MB_TYPE_BACKEND_FAKE (mb_backend_fake_get_type())
G_DECLARE_FINAL_TYPE(MbBackendFake, mb_backend_fake, MB, BACKEND_FAKE, MbBackend)

/* Simulated guests as the [fake] keys of config describe them (their
 * errors name the file and key); a simulated second per interval. */
MbBackend *mb_backend_fake_new(const MbConfig *config, GError **error);
/* The same from keys already parsed. */
MbBackend *mb_backend_fake_new_with(const MbFakeConfig *config, guint interval_ms,
                                    GError **error);

/* fault lie-huge: the allocation such a VM reports (KiB). */
#define MB_BACKEND_FAKE_HUGE_KIB (G_MAXUINT64 / 2)
/* fault swap-storm: pages added to the reported swap-out count each tick. */
#define MB_BACKEND_FAKE_STORM_PAGES (G_GUINT64_CONSTANT(1) << 20)
/* fault backwards: the swap counters start here and fall this much a tick. */
#define MB_BACKEND_FAKE_BACKWARDS_START_PAGES (G_GUINT64_CONSTANT(1) << 32)
#define MB_BACKEND_FAKE_BACKWARDS_STEP_PAGES (G_GUINT64_CONSTANT(1) << 12)

/* The sum of the simulated balloons' positions now, KiB: what the VMs
 * really hold, whatever lie-zero or lie-huge VMs report. backend must be
 * an MbBackendFake. */
guint64 mb_backend_fake_sum_current_kib(MbBackend *backend);

/* The main thread: the simulated agent of name sends an urgent record
 * (urgent: MB_URGENT_* bits) now: its next sample carries them, and the
 * backend's urgent function is told. backend must be an MbBackendFake. */
void mb_backend_fake_send_urgent(MbBackend *backend, const char *name, unsigned urgent);

G_END_DECLS
