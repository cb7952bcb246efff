/* The manager object: org.smarttv.MemBalancer at /org/smarttv/MemBalancer.
 * Parses and checks the callers' arguments, authorizes every change (in
 * GDBus's worker thread) and hands the work to the daemon. */
#pragma once

#include "mb-auth.h"
#include "mb-dbus-generated.h"

G_BEGIN_DECLS

typedef struct _MbDaemon MbDaemon;

#define MB_TYPE_MANAGER (mb_manager_get_type())
G_DECLARE_FINAL_TYPE(MbManager, mb_manager, MB, MANAGER, MbMemBalancerSkeleton)

/* daemon and auth must outlive the manager (the daemon owns all three). */
MbManager *mb_manager_new(MbDaemon *daemon, MbAuth *auth);

G_END_DECLS
