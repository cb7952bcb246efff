/* libmembalancer: the errors of membalancerd, as a GError domain. */
#pragma once

#if !defined(MEMBALANCER_INSIDE) && !defined(MEMBALANCER_COMPILATION)
#error "Only <membalancer.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

/**
 * MEMBALANCER_ERROR:
 *
 * The error domain of the calls of [class@Membalancer.Client]: the
 * service's own errors (`org.smarttv.MemBalancer.Error.*` on the bus) and a
 * service that cannot be reached. A cancelled call fails with
 * %G_IO_ERROR_CANCELLED instead.
 */
#define MEMBALANCER_ERROR (membalancer_error_quark())

/**
 * MembalancerError:
 * @MEMBALANCER_ERROR_FAILED: Any other failure (the message says which).
 * @MEMBALANCER_ERROR_INVALID_ARGS: The service refused an argument: a bad
 *   VM name, a priority over 100, a minimum above the maximum, a maximum
 *   above the domain's memory.
 * @MEMBALANCER_ERROR_NO_SUCH_VM: No VM of that name is registered, or (when
 *   registering) the hypervisor has no domain of that name.
 * @MEMBALANCER_ERROR_ALREADY_REGISTERED: A VM of that name is registered.
 * @MEMBALANCER_ERROR_ACCESS_DENIED: The caller may not change the service's
 *   state (root, the configured group or polkit may).
 * @MEMBALANCER_ERROR_UNAVAILABLE: The service cannot reach the hypervisor
 *   or its state directory, or is too busy; try again later.
 * @MEMBALANCER_ERROR_NOT_RUNNING: membalancerd is not running on the bus
 *   (and could not be started).
 *
 * The errors of #MEMBALANCER_ERROR. A failed call changed nothing.
 */
typedef enum {
    MEMBALANCER_ERROR_FAILED,
    MEMBALANCER_ERROR_INVALID_ARGS,
    MEMBALANCER_ERROR_NO_SUCH_VM,
    MEMBALANCER_ERROR_ALREADY_REGISTERED,
    MEMBALANCER_ERROR_ACCESS_DENIED,
    MEMBALANCER_ERROR_UNAVAILABLE,
    MEMBALANCER_ERROR_NOT_RUNNING,
} MembalancerError;

GQuark membalancer_error_quark(void);

G_END_DECLS
