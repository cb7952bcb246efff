/* The manager object: org.smarttv.MemBalancer at /org/smarttv/MemBalancer.
 * Authorizes every change (never blocking the main loop), parses and
 * checks the callers' arguments and hands the work to the engine. The
 * daemon (mb-daemon.c) sets its properties and emits its signals. */
#pragma once

#include "mb-auth.h"
#include "mb-dbus-generated.h"
#include "mb-engine-core.h"

G_BEGIN_DECLS

#define MB_TYPE_MANAGER (mb_manager_get_type())
G_DECLARE_FINAL_TYPE(MbManager, mb_manager, MB, MANAGER, MbMemBalancerSkeleton)

/* The daemon owns the manager and must unexport it before it goes (a late
 * authorization then answers Unavailable); the manager holds a weak
 * pointer on engine (NULL: every call answers Unavailable) and a
 * reference on auth. */
MbManager *mb_manager_new(MbEngine *engine, MbAuth *auth);

G_END_DECLS
