#include "mb-error.h"

#include "mb-names.h"

static const GDBusErrorEntry mb_service_error_entries[] = {
    {MB_SERVICE_ERROR_INVALID_ARGS, MB_ERROR_NAME_INVALID_ARGS},
    {MB_SERVICE_ERROR_NO_SUCH_VM, MB_ERROR_NAME_NO_SUCH_VM},
    {MB_SERVICE_ERROR_ALREADY_REGISTERED, MB_ERROR_NAME_ALREADY_REGISTERED},
    {MB_SERVICE_ERROR_ACCESS_DENIED, MB_ERROR_NAME_ACCESS_DENIED},
    {MB_SERVICE_ERROR_UNAVAILABLE, MB_ERROR_NAME_UNAVAILABLE},
};

G_STATIC_ASSERT(G_N_ELEMENTS(mb_service_error_entries) == MB_SERVICE_ERROR_N_ERRORS);

GQuark
mb_service_error_quark(void)
{
    static gsize quark = 0;

    g_dbus_error_register_error_domain("mb-service-error-quark", &quark,
                                       mb_service_error_entries,
                                       G_N_ELEMENTS(mb_service_error_entries));
    return (GQuark)quark;
}
