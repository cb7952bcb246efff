/* membalancer.conf: defaults, the file, and command-line overrides. */
#pragma once

#include <glib.h>

#include "mb-policy.h"

G_BEGIN_DECLS

#define MB_CONFIG_GROUP "membalancer"
#define MB_CONFIG_FAKE_GROUP "fake"
/* [fake] balloon-rate: the slowest travel allowed (0 is instant). */
#define MB_CONFIG_FAKE_RATE_MIN_KIB 1024u

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
    guint64 pool_kib; /* 0: auto (the host's memory, else the sum of the VMs' allocations) */
    guint64 reserve_kib;
    /* reserve not set: mb_config_host_reserve_kib() when the pool is the
     * host's memory, else 0 */
    gboolean reserve_auto;
    guint interval_ms;
    /* an urgent record starts a tick no sooner than this after the last
     * one began; 0: urgent records start no tick */
    guint urgent_min_ms;
    double alpha;
    MbPolicyKind policy;
    guint64 min_step_kib;
    guint64 spare_kib;               /* balanced: kept unallocated for the next need */
    guint64 foreground_headroom_kib; /* balanced: the foreground VM's headroom */
    char *libvirt_uri;
    char *group; /* may change things besides root */
    char *state_dir;
    char *backend; /* "libvirt" or "fake" */

    /* [fake]: simulated guests (the fake backend only). */
    GHashTable *fake_workloads; /* VM name -> workload name */
    char *fake_default_workload;
    guint64 fake_alloc_kib;        /* a new simulated guest's allocation */
    guint64 fake_max_kib;          /* its maximum memory */
    guint64 fake_balloon_rate_kib; /* balloon travel per interval, 0: instant */
    /* growing balloons' travel per interval, when set (else the same) */
    guint64 fake_balloon_grow_rate_kib;
    gboolean fake_balloon_grow_rate_set;
    GHashTable *fake_faults; /* VM name -> MbFakeFault */
    char *fake_trace_path;   /* balloon trace file, NULL: none */
    GHashTable
        *fake_urgent; /* VM name -> GArray of guint: ms at which it sends urgent records */
    GHashTable *fake_allocs;       /* VM name -> guint64 KiB: alloc.<vm> */
    guint fake_balloon_release_ms; /* a shrink arrives this long after its target, 0: by rate */

    char *path; /* the file loaded, NULL if none */
} MbConfig;

MbConfig *mb_config_new(void);
void mb_config_free(MbConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MbConfig, mb_config_free)

/* $CONFIGURATION_DIRECTORY/membalancer.conf when systemd sets it,
 * else SYSCONFDIR/membalancer/membalancer.conf. */
char *mb_config_default_path(void);
/* Loads a file over the defaults. A missing file is an error only when
 * must_exist. Errors name the file, the key and the reason. */
gboolean mb_config_load_file(MbConfig *config, const char *path, gboolean must_exist,
                             GError **error);
/* Sets one [membalancer] key from text (a file or an option); origin
 * names where it came from in errors ("membalancer.conf", "--pool"). */
gboolean mb_config_set(MbConfig *config, const char *key, const char *value, const char *origin,
                       GError **error);
/* Sets one [fake] key from text: alloc, max, default-workload,
 * balloon-rate, balloon-release-ms, trace, fault.<vm>, urgent.<vm>, alloc.<vm>,
 * or any other name maps a VM to a
 * workload. origin as for mb_config_set ("FILE: [fake]"). */
gboolean mb_config_set_fake(MbConfig *config, const char *key, const char *value,
                            const char *origin, GError **error);
/* "stuck,silent-after:5": a fault as its [fake] value (for logs). */
char *mb_fake_fault_to_string(const MbFakeFault *fault);
/* Cross-key checks (reserve within the pool, ...). */
gboolean mb_config_validate(const MbConfig *config, const char *origin, GError **error);
/* The policy parameters for a tick; pool_kib == 0 is resolved by the caller. */
void mb_config_to_params(const MbConfig *config, MbParams *params);
/* What an automatic reserve keeps back for the host itself (its kernel,
 * libvirtd, the QEMU processes' own memory, the UI) when the pool is the
 * host's memory: MAX(512 MiB, 10 % of it), at most half of it. */
guint64 mb_config_host_reserve_kib(guint64 host_kib);
/* Resolves an automatic pool to the host's memory (host_kib, 0: unknown,
 * left 0), with the automatic reserve unless reserve was set. */
void mb_config_to_params_for_host(const MbConfig *config, guint64 host_kib, MbParams *params);

G_END_DECLS
