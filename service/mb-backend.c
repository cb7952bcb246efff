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

MbBackend *
mb_backend_new(const MbConfig *config, GError **error)
{
    if (g_str_equal(config->backend, "fake"))
        return mb_backend_fake_new(config, error);
    if (g_str_equal(config->backend, "libvirt")) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "the libvirt backend is not built yet (it is the next piece of work): "
                    "run with --backend fake for simulated guests");
        return NULL;
    }
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
