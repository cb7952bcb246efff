/* membalancer.conf: defaults, the file, and command-line overrides. */
#pragma once

#include <glib.h>

#include "mb-policy.h"

G_BEGIN_DECLS

#define MB_CONFIG_GROUP "membalancer"
/* The fake backend's own group: its keys are its own (mb-backend-fake-config.c). */
#define MB_CONFIG_FAKE_GROUP "fake"

/* One key of a backend's own group, as the file (or a caller) gave it:
 * the backend parses it when it is built. */
typedef struct {
    char *group;
    char *key;
    char *value;
    char *origin; /* for messages: "FILE: [group]" */
} MbConfigKey;

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

    /* The backends' own groups ([fake]), every key in file order. */
    GPtrArray *backend_keys; /* MbConfigKey */

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
/* Adds one key of a backend's own group (see MbConfigKey); a later key
 * of the same name wins, as in a file. */
void mb_config_add_backend_key(MbConfig *config, const char *group, const char *key,
                               const char *value, const char *origin);
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
