/* Who may change things: root and the service's own user always; then, on
 * the system bus with polkit answering, whom polkit allows (the actions of
 * org.smarttv.MemBalancer.policy); else members of the configured group.
 * Reading is open to everyone. */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Reference-counted (atomically): lookups run in worker threads and may
 * still run when the daemon drops its reference; each holds one of its own. */
typedef struct _MbAuth MbAuth;

MbAuth *mb_auth_new(const char *group);
MbAuth *mb_auth_ref(MbAuth *auth);
void mb_auth_unref(MbAuth *auth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MbAuth, mb_auth_unref)

/* Forgets cached callers when they leave the bus (call once per
 * connection, from the main thread). The subscription holds a reference
 * until mb_auth_unwatch(). */
void mb_auth_watch_connection(MbAuth *auth, GDBusConnection *connection);
/* Cancels polkit checks under way and waits for their callbacks (their
 * callers get MB_SERVICE_ERROR_UNAVAILABLE). */
void mb_auth_unwatch(MbAuth *auth);

/* The watched connection is the system bus: ask polkit there (obtained
 * asynchronously), falling back to the group check while no authority
 * answers. FALSE (and nothing changes) when built without polkit. */
gboolean mb_auth_use_polkit(MbAuth *auth);

/* The polkit action a method or property write of the manager needs:
 * org.smarttv.MemBalancer.register, .configure or .control. */
const char *mb_auth_action_for(const char *member, gboolean is_property);

typedef enum {
    MB_AUTH_UNKNOWN, /* finding out would block: use mb_auth_check_async() */
    MB_AUTH_ALLOWED,
    MB_AUTH_DENIED,
} MbAuthDecision;

/* Decides for a caller from what is cached (its credentials until it
 * leaves the bus; the group's gid, a uid's groups or polkit's answer for
 * the caller and action, of the last second), without blocking: for the
 * main thread. DENIED fills error with MB_SERVICE_ERROR_ACCESS_DENIED and a
 * message naming the uid, the action and what to do. */
MbAuthDecision mb_auth_check_cached(MbAuth *auth, GDBusMethodInvocation *invocation,
                                    GError **error);

/* allowed, or error (ACCESS_DENIED) says why not. */
typedef void (*MbAuthDone)(GDBusMethodInvocation *invocation, gboolean allowed,
                           const GError *error, gpointer user_data);
/* Finds out, never blocking the thread it is called from (the main thread,
 * which owns the thread-default context): the caller's uid and groups from
 * the bus (asynchronously), then, unless cached, polkit's answer
 * (asynchronously, one check per action however many calls wait), or the
 * group's gid (and, when the bus gave no groups, the user's groups) from
 * NSS in a worker thread of the auth's own; then calls done in that
 * context. Calls of one
 * caller that arrive meanwhile wait for the same lookup (and are answered
 * in order), at most 128 per caller and 32768 in all: beyond, done gets
 * MB_SERVICE_ERROR_UNAVAILABLE at once ("try again"). */
void mb_auth_check_async(MbAuth *auth, GDBusMethodInvocation *invocation, MbAuthDone done,
                         gpointer user_data);

/* The group check for a uid alone, as when the bus gives no groups
 * (getgrouplist on its user; cached for a second). Blocks on NSS, whose
 * buffers grow on ERANGE up to 1 MiB: members of big groups are decided,
 * not refused. */
gboolean mb_auth_uid_allowed(MbAuth *auth, uid_t uid);

G_END_DECLS
