#include "mb-error.h"

static const GDBusErrorEntry mb_service_error_entries[] = {
    {MB_SERVICE_ERROR_INVALID_ARGS, "org.smarttv.MemBalancer.Error.InvalidArgs"},
    {MB_SERVICE_ERROR_NO_SUCH_VM, "org.smarttv.MemBalancer.Error.NoSuchVM"},
    {MB_SERVICE_ERROR_ALREADY_REGISTERED, "org.smarttv.MemBalancer.Error.AlreadyRegistered"},
    {MB_SERVICE_ERROR_ACCESS_DENIED, "org.smarttv.MemBalancer.Error.AccessDenied"},
    {MB_SERVICE_ERROR_UNAVAILABLE, "org.smarttv.MemBalancer.Error.Unavailable"},
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
