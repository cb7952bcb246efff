/* The one place that names the backends: the others know MbBackend only. */
#include "mb-backend-factory.h"

#include "mb-backend-libvirt.h"
#include "mb-error.h"
#ifdef MB_HAVE_FAKE_BACKEND
#include "mb-backend-fake.h"
#define MB_BACKENDS_KNOWN "libvirt or fake"
#else
#define MB_BACKENDS_KNOWN "libvirt; this build has no fake backend"
#endif

MbBackend *
mb_backend_new(const MbConfig *config, GError **error)
{
#ifdef MB_HAVE_FAKE_BACKEND
    if (g_str_equal(config->backend, "fake"))
        return mb_backend_fake_new(config, error);
#endif
    if (g_str_equal(config->backend, "libvirt"))
        return mb_backend_libvirt_new(config, error);
    g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                "unknown backend '%s' (use " MB_BACKENDS_KNOWN ")", config->backend);
    return NULL;
}
