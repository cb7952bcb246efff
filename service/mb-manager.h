/* The manager object: org.smarttv.MemBalancer at /org/smarttv/MemBalancer.
 * Authorizes every change (never blocking the main loop), parses and
 * checks the callers' arguments and hands the work to the daemon. */
#pragma once

#include "mb-auth.h"
#include "mb-dbus-generated.h"

G_BEGIN_DECLS

typedef struct _MbDaemon MbDaemon;

#define MB_TYPE_MANAGER (mb_manager_get_type())
G_DECLARE_FINAL_TYPE(MbManager, mb_manager, MB, MANAGER, MbMemBalancerSkeleton)

/* daemon owns the manager and must unexport it before it goes (a late
 * authorization then answers Unavailable); the manager holds a reference on
 * auth. */
MbManager *mb_manager_new(MbDaemon *daemon, MbAuth *auth);

G_END_DECLS
