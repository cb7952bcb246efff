#include "mb-backend.h"

#include "mb-error.h"

const char *
mb_stats_source_to_string(MbStatsSource source)
{
    switch (source) {
    case MB_STATS_SOURCE_AGENT:
        return "agent";
    case MB_STATS_SOURCE_BALLOON:
        return "balloon";
    case MB_STATS_SOURCE_NONE:
        break;
    }
    return "none";
}

const char *
mb_vm_state_to_string(MbVmState state)
{
    switch (state) {
    case MB_VM_STATE_OFFLINE:
        return "offline";
    case MB_VM_STATE_STUCK:
        return "stuck";
    case MB_VM_STATE_RUNNING:
        break;
    }
    return "running";
}

MbBackend *
mb_backend_new(const MbConfig *config, GError **error)
{
    if (g_str_equal(config->backend, "fake"))
        return mb_backend_fake_new(config, error);
    if (g_str_equal(config->backend, "libvirt"))
        return mb_backend_libvirt_new(config, error);
    g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                "unknown backend '%s' (use libvirt or fake)", config->backend);
    return NULL;
}

void
mb_backend_free(MbBackend *backend)
{
    if (backend != NULL)
        backend->ops->free(backend);
}
