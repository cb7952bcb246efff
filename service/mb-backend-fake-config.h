/* The fake backend's own keys: the [fake] group of membalancer.conf. */
#pragma once

#include <glib.h>

#include "mb-config.h"

G_BEGIN_DECLS

/* [fake] balloon-rate: the slowest travel allowed (0 is instant). */
#define MB_FAKE_RATE_MIN_KIB 1024u

/* [fake] fault.<vm>: what a simulated VM does wrong (mb-backend-fake.c
 * says what each does); a comma-separated list may combine them. */
typedef enum {
    MB_FAKE_FAULT_STUCK = 1 << 0,      /* accepts targets, its balloon never moves */
    MB_FAKE_FAULT_FAIL_SET = 1 << 1,   /* set_target fails */
    MB_FAKE_FAULT_LIE_ZERO = 1 << 2,   /* reports its allocation as 0 */
    MB_FAKE_FAULT_LIE_HUGE = 1 << 3,   /* reports an allocation far above its maximum */
    MB_FAKE_FAULT_SILENT = 1 << 4,     /* statistics stop after silent_after_ticks */
    MB_FAKE_FAULT_SWAP_STORM = 1 << 5, /* a huge swap-out every tick */
    MB_FAKE_FAULT_BACKWARDS = 1 << 6,  /* swap counters decrease every tick */
} MbFakeFaultFlags;

typedef struct {
    guint flags;              /* MbFakeFaultFlags */
    guint silent_after_ticks; /* MB_FAKE_FAULT_SILENT: ticks with statistics */
} MbFakeFault;

typedef struct {
    GHashTable *workloads; /* VM name -> workload name */
    char *default_workload;
    guint64 alloc_kib;        /* a new simulated guest's allocation */
    guint64 max_kib;          /* its maximum memory */
    guint64 balloon_rate_kib; /* balloon travel per interval, 0: instant */
    /* growing balloons' travel per interval, when set (else the same) */
    guint64 balloon_grow_rate_kib;
    gboolean balloon_grow_rate_set;
    GHashTable *faults; /* VM name -> MbFakeFault */
    char *trace_path;   /* balloon trace file, NULL: none */
    GHashTable *urgent; /* VM name -> GArray of guint: ms at which it sends urgent records */
    GHashTable *allocs; /* VM name -> guint64 KiB: alloc.<vm> */
    guint balloon_release_ms; /* a shrink arrives this long after its target, 0: by rate */
} MbFakeConfig;

/* The defaults. */
MbFakeConfig *mb_fake_config_new(void);
void mb_fake_config_free(MbFakeConfig *fake);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MbFakeConfig, mb_fake_config_free)

/* Sets one [fake] key from text: alloc, max, default-workload,
 * balloon-rate, balloon-grow-rate, balloon-release-ms, trace, fault.<vm>,
 * urgent.<vm>, alloc.<vm>, or any other name maps a VM to a workload.
 * origin names where it came from in errors ("FILE: [fake]"). */
gboolean mb_fake_config_set(MbFakeConfig *fake, const char *key, const char *value,
                            const char *origin, GError **error);
/* Every [fake] key config holds, then the cross-key checks. */
gboolean mb_fake_config_load(MbFakeConfig *fake, const MbConfig *config, GError **error);
/* Cross-key checks (alloc within max); origin: the file, for messages. */
gboolean mb_fake_config_validate(const MbFakeConfig *fake, const char *origin, GError **error);
/* "stuck,silent-after:5": a fault as its [fake] value (for logs). */
char *mb_fake_fault_to_string(const MbFakeFault *fault);

G_END_DECLS
