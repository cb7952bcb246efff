/* The service's error domain, org.smarttv.MemBalancer.Error.* on the bus
 * (the names are common/mb-names.h's). In the common layer because the
 * service is not its only source: the size grammar (mb-size.c) reports a
 * bad size as InvalidArgs in it, in the daemon and its clients alike. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MB_SERVICE_ERROR (mb_service_error_quark())

typedef enum {
    MB_SERVICE_ERROR_INVALID_ARGS,       /* .InvalidArgs */
    MB_SERVICE_ERROR_NO_SUCH_VM,         /* .NoSuchVM */
    MB_SERVICE_ERROR_ALREADY_REGISTERED, /* .AlreadyRegistered */
    MB_SERVICE_ERROR_ACCESS_DENIED,      /* .AccessDenied */
    MB_SERVICE_ERROR_UNAVAILABLE,        /* .Unavailable */
} MbServiceError;

#define MB_SERVICE_ERROR_N_ERRORS (MB_SERVICE_ERROR_UNAVAILABLE + 1)

/* Registers the D-Bus names on first use, so errors cross the bus intact. */
GQuark mb_service_error_quark(void);

G_END_DECLS
