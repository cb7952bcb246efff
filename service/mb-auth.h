/* Who may change things: root, the service's own user, and members of the
 * configured group. Reading is open to everyone. */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct _MbAuth MbAuth;

MbAuth *mb_auth_new(const char *group);
void mb_auth_free(MbAuth *auth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MbAuth, mb_auth_free)

/* Forgets cached callers when they leave the bus (call once per connection). */
void mb_auth_watch_connection(MbAuth *auth, GDBusConnection *connection);
void mb_auth_unwatch(MbAuth *auth);

/* Decides for a caller. Blocks (bus round trip, NSS group lookup): call it
 * from a worker thread, as g-authorize-method handlers are. Fills error
 * with MB_SERVICE_ERROR_ACCESS_DENIED and a message naming the uid and the
 * group when the caller may not change things. */
gboolean mb_auth_check_invocation(MbAuth *auth, GDBusMethodInvocation *invocation,
                                  GError **error);
/* The decision for a uid alone (getgrouplist on its user). */
gboolean mb_auth_uid_allowed(MbAuth *auth, uid_t uid);

G_END_DECLS
