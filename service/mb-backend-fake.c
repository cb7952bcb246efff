/* The fake backend: simulated guests from the simulator's guest model
 * (sim/), so the service can be run and tested without a hypervisor.
 *
 * Every name is a domain: the first lookup creates a guest with
 * [fake] alloc of memory (maximum [fake] max) running the workload that
 * [fake] maps the name to, else the longest built-in workload whose name
 * starts the VM name ("game-2" runs "game"), else [fake] default-workload
 * (default: "idle" if the simulator has it, else "libquantum", a steady
 * 96 MiB).
 * Each interval advances every guest by one simulated second. */
#include "mb-backend.h"

#include <string.h>

#include "mb-error.h"
#include "mb-guest.h"
#include "mb-log.h"
#include "mb-workload.h"

typedef struct {
    MbGuest guest;
    guint64 max_kib;
} FakeDomain;

typedef struct {
    MbBackend parent;
    GMutex lock;
    GHashTable *domains;   /* name -> FakeDomain; guarded by lock */
    GHashTable *workloads; /* name -> workload name, from [fake] */
    const MbWorkload *default_workload;
    guint64 alloc_kib;
    guint64 max_kib;
} MbBackendFake;

static gboolean
resolve_workload(const char *name, const MbWorkload **out, const char *what, GError **error)
{
    g_autoptr(GString) known = g_string_new(NULL);
    const char *const *names = mb_workload_names();

    *out = mb_workload_lookup(name);
    if (*out != NULL)
        return TRUE;
    for (gsize i = 0; names[i] != NULL; i++)
        g_string_append_printf(known, "%s%s", i > 0 ? ", " : "", names[i]);
    g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                "[fake] %s: unknown workload '%s' (known: %s)", what, name, known->str);
    return FALSE;
}

static const MbWorkload *
workload_for(MbBackendFake *fake, const char *vm_name)
{
    const char *mapped = g_hash_table_lookup(fake->workloads, vm_name);
    const char *const *names = mb_workload_names();
    const MbWorkload *best = NULL;
    gsize best_len = 0;

    if (mapped != NULL)
        return mb_workload_lookup(mapped); /* checked at start */
    for (gsize i = 0; names[i] != NULL; i++) {
        gsize len = strlen(names[i]);
        char next = vm_name[MIN(len, strlen(vm_name))];
        if (len > best_len && g_str_has_prefix(vm_name, names[i]) && !g_ascii_isalnum(next)) {
            best = mb_workload_lookup(names[i]);
            best_len = len;
        }
    }
    return best != NULL ? best : fake->default_workload;
}

static GStrv
fake_list_domains(MbBackend *backend, GError **error)
{
    MbBackendFake *fake = (MbBackendFake *)backend;
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
    GHashTableIter iter;
    gpointer key;

    g_mutex_lock(&fake->lock);
    g_hash_table_iter_init(&iter, fake->domains);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        g_strv_builder_add(builder, key);
    g_mutex_unlock(&fake->lock);
    return g_strv_builder_end(builder);
}

/* Called with the lock held. */
static FakeDomain *
get_domain(MbBackendFake *fake, const char *name)
{
    FakeDomain *domain = g_hash_table_lookup(fake->domains, name);

    if (domain == NULL) {
        const MbWorkload *workload = workload_for(fake, name);

        domain = g_new0(FakeDomain, 1);
        domain->max_kib = fake->max_kib;
        mb_guest_init(&domain->guest, workload, fake->alloc_kib);
        g_hash_table_insert(fake->domains, g_strdup(name), domain);
        mb_log(G_LOG_LEVEL_INFO, "MB_VM", name,
               "fake backend: simulated guest '%s' runs workload '%s' in %" G_GUINT64_FORMAT
               " KiB",
               name, workload->name, fake->alloc_kib);
    }
    return domain;
}

static gboolean
fake_lookup(MbBackend *backend, const char *name, MbDomainInfo *out, GError **error)
{
    MbBackendFake *fake = (MbBackendFake *)backend;
    FakeDomain *domain;

    g_mutex_lock(&fake->lock);
    domain = get_domain(fake, name);
    out->current_kib = domain->guest.alloc_kib;
    out->max_kib = domain->max_kib;
    out->running = TRUE;
    g_mutex_unlock(&fake->lock);
    return TRUE;
}

static void
fake_begin_tick(MbBackend *backend)
{
    MbBackendFake *fake = (MbBackendFake *)backend;
    GHashTableIter iter;
    gpointer value;

    g_mutex_lock(&fake->lock);
    g_hash_table_iter_init(&iter, fake->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        mb_guest_tick(&((FakeDomain *)value)->guest);
    g_mutex_unlock(&fake->lock);
}

static gboolean
fake_read_sample(MbBackend *backend, const char *name, MbSample *out, MbStatsSource *source,
                 guint64 *alloc_kib, GError **error)
{
    MbBackendFake *fake = (MbBackendFake *)backend;
    FakeDomain *domain;

    g_mutex_lock(&fake->lock);
    domain = get_domain(fake, name);
    mb_guest_sample(&domain->guest, out);
    *alloc_kib = domain->guest.alloc_kib;
    g_mutex_unlock(&fake->lock);
    *source = MB_STATS_SOURCE_AGENT;
    return TRUE;
}

static gboolean
fake_set_target(MbBackend *backend, const char *name, guint64 target_kib, GError **error)
{
    MbBackendFake *fake = (MbBackendFake *)backend;
    FakeDomain *domain;

    g_mutex_lock(&fake->lock);
    domain = get_domain(fake, name);
    mb_guest_set_alloc(&domain->guest, MIN(target_kib, domain->max_kib));
    g_mutex_unlock(&fake->lock);
    return TRUE;
}

static void
fake_free(MbBackend *backend)
{
    MbBackendFake *fake = (MbBackendFake *)backend;

    g_hash_table_unref(fake->domains);
    g_hash_table_unref(fake->workloads);
    g_mutex_clear(&fake->lock);
    g_free(fake);
}

static const MbBackendOps fake_ops = {
    .name = "fake",
    .list_domains = fake_list_domains,
    .lookup = fake_lookup,
    .begin_tick = fake_begin_tick,
    .read_sample = fake_read_sample,
    .set_target = fake_set_target,
    .free = fake_free,
};

MbBackend *
mb_backend_fake_new(const MbConfig *config, GError **error)
{
    g_autoptr(MbBackend) backend = NULL;
    MbBackendFake *fake = g_new0(MbBackendFake, 1);
    GHashTableIter iter;
    gpointer key, value;

    fake->parent.ops = &fake_ops;
    backend = &fake->parent;
    g_mutex_init(&fake->lock);
    fake->domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    fake->workloads = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    fake->alloc_kib = config->fake_alloc_kib;
    fake->max_kib = config->fake_max_kib;
    if (config->fake_default_workload != NULL) {
        if (!resolve_workload(config->fake_default_workload, &fake->default_workload,
                              "default-workload", error))
            return NULL;
    } else {
        /* Idle-ish: a steady, small footprint. */
        fake->default_workload = mb_workload_lookup("idle");
        if (fake->default_workload == NULL &&
            !resolve_workload("libquantum", &fake->default_workload, "default-workload", error))
            return NULL;
    }
    g_hash_table_iter_init(&iter, config->fake_workloads);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        const MbWorkload *workload;
        if (!resolve_workload(value, &workload, key, error))
            return NULL;
        g_hash_table_insert(fake->workloads, g_strdup(key), g_strdup(value));
    }
    mb_log(G_LOG_LEVEL_MESSAGE, "MB_BACKEND", "fake",
           "fake backend: the VMs are SIMULATED guests (sim/ guest model), not real ones; "
           "one simulated second per interval");
    return g_steal_pointer(&backend);
}
