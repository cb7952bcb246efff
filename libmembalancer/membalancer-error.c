/* The service's D-Bus errors mapped to MEMBALANCER_ERROR, by name: the
 * mapping does not depend on which domain a process registered first for
 * those names (the daemon's own library registers them too). */
#include "membalancer-private.h"

#include "mb-names.h"

/**
 * membalancer_error_quark:
 *
 * Returns: the quark of #MEMBALANCER_ERROR
 */
GQuark
membalancer_error_quark(void)
{
    return g_quark_from_static_string("membalancer-error-quark");
}

static const struct {
    const char *name;
    MembalancerError code;
} remote_errors[] = {
    {MB_ERROR_NAME_INVALID_ARGS, MEMBALANCER_ERROR_INVALID_ARGS},
    {MB_ERROR_NAME_NO_SUCH_VM, MEMBALANCER_ERROR_NO_SUCH_VM},
    {MB_ERROR_NAME_ALREADY_REGISTERED, MEMBALANCER_ERROR_ALREADY_REGISTERED},
    {MB_ERROR_NAME_ACCESS_DENIED, MEMBALANCER_ERROR_ACCESS_DENIED},
    {MB_ERROR_NAME_UNAVAILABLE, MEMBALANCER_ERROR_UNAVAILABLE},
    /* The bus: nobody owns the name and it cannot be activated. */
    {"org.freedesktop.DBus.Error.ServiceUnknown", MEMBALANCER_ERROR_NOT_RUNNING},
    {"org.freedesktop.DBus.Error.NameHasNoOwner", MEMBALANCER_ERROR_NOT_RUNNING},
    {"org.freedesktop.DBus.Error.NoReply", MEMBALANCER_ERROR_NOT_RUNNING},
    /* The bus policy refused the call. */
    {"org.freedesktop.DBus.Error.AccessDenied", MEMBALANCER_ERROR_ACCESS_DENIED},
};

GError *
_membalancer_error_from_dbus(GError *error)
{
    g_autofree char *name = NULL;
    MembalancerError code = MEMBALANCER_ERROR_FAILED;
    GError *mapped;

    if (error == NULL || error->domain == MEMBALANCER_ERROR ||
        g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return error;
    name = g_dbus_error_get_remote_error(error);
    if (name != NULL) {
        for (gsize i = 0; i < G_N_ELEMENTS(remote_errors); i++) {
            if (g_str_equal(name, remote_errors[i].name))
                code = remote_errors[i].code;
        }
        g_dbus_error_strip_remote_error(error);
    } else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED)) {
        code = MEMBALANCER_ERROR_NOT_RUNNING;
    }
    if (code == MEMBALANCER_ERROR_NOT_RUNNING) {
        mapped = g_error_new(MEMBALANCER_ERROR, code,
                             "The memory balancer service (membalancerd) is not running: %s",
                             error->message);
    } else {
        mapped = g_error_new_literal(MEMBALANCER_ERROR, code, error->message);
    }
    g_error_free(error);
    return mapped;
}

GError *
_membalancer_error_from_call(GDBusProxy *proxy, GError *error)
{
    g_autofree char *owner = g_dbus_proxy_get_name_owner(proxy);

    if (error != NULL && owner == NULL && !g_dbus_error_is_remote_error(error) &&
        !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_error_free(error);
        return g_error_new_literal(MEMBALANCER_ERROR, MEMBALANCER_ERROR_NOT_RUNNING,
                                   "The memory balancer service (membalancerd) is not running");
    }
    return _membalancer_error_from_dbus(error);
}
