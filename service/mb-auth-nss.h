/* The user database, for the group check (blocking: worker threads only). */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* The gid of a group name; FALSE when there is no such group (or NSS
 * fails, logged). */
gboolean mb_nss_group_gid(const char *group, gid_t *gid);
/* Whether the user of uid has gid as its primary or a supplementary group
 * (getgrouplist); FALSE when the uid has no user. */
gboolean mb_nss_uid_in_group(uid_t uid, gid_t gid);

G_END_DECLS
