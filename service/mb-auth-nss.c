/* The user database for the group check: NSS buffers start at sysconf's
 * hint and double on ERANGE up to 1 MiB, so members of big groups (and
 * users with long entries) are decided, not refused. */
#include "mb-auth-nss.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "mb-log.h"

#define NSS_BUF_MAX (1024 * 1024)
#define NSS_GROUPS_MAX (NSS_BUF_MAX / (int)sizeof(gid_t))

/* getgrnam_r and getpwuid_r fill a caller's buffer and say ERANGE when it
 * is too small: a group's member list can be any length. */
typedef int (*NssLookup)(gconstpointer key, gpointer result, char *buf, gsize size,
                         gpointer *found);

static int
group_by_name(gconstpointer key, gpointer result, char *buf, gsize size, gpointer *found)
{
    return getgrnam_r(key, result, buf, size, (struct group **)found);
}

static int
user_by_uid(gconstpointer key, gpointer result, char *buf, gsize size, gpointer *found)
{
    return getpwuid_r(*(const uid_t *)key, result, buf, size, (struct passwd **)found);
}

/* TRUE when found; *buf then holds the strings of result. */
static gboolean
nss_lookup(NssLookup lookup, int size_hint_name, gconstpointer key, const char *what,
           gpointer result, char **buf)
{
    long hint = sysconf(size_hint_name);
    gsize size = hint > 0 && hint < NSS_BUF_MAX ? (gsize)hint : 1024;

    for (;;) {
        gpointer found = NULL;
        int r;

        g_free(*buf);
        *buf = g_malloc(size);
        r = lookup(key, result, *buf, size, &found);
        if (r == 0 || r == ENOENT || r == ESRCH)
            return r == 0 && found != NULL; /* found, or no such entry */
        if (r == EINTR)
            continue;
        if (r == ERANGE && size < NSS_BUF_MAX) {
            size = MIN(size * 2, NSS_BUF_MAX);
            continue;
        }
        mb_log(G_LOG_LEVEL_WARNING, "MB_DENIED", what, "cannot look up %s%s: %s", what,
               r == ERANGE ? " (its entry does not fit in 1 MiB)" : "", g_strerror(r));
        return FALSE;
    }
}

/* The user's groups; NULL (and *n_out 0) when they cannot be listed. */
static gid_t *
user_groups(const char *user, gid_t primary, int *n_out)
{
    long hint = sysconf(_SC_NGROUPS_MAX);
    int n = hint > 0 && hint < 64 ? (int)hint : 64;
    g_autofree gid_t *groups = NULL;

    *n_out = 0;
    for (;;) {
        int got = n;

        groups = g_renew(gid_t, groups, n);
        if (getgrouplist(user, primary, groups, &got) >= 0) {
            *n_out = got;
            return g_steal_pointer(&groups);
        }
        /* got is now the number needed (glibc); grow at least twofold anyway. */
        n = MAX(got, n * 2);
        if (n > NSS_GROUPS_MAX) {
            mb_log(G_LOG_LEVEL_WARNING, "MB_DENIED", user,
                   "cannot list the groups of user %s: more than %d", user, NSS_GROUPS_MAX);
            return NULL;
        }
    }
}

gboolean
mb_nss_group_gid(const char *group, gid_t *gid)
{
    struct group gr;
    g_autofree char *buf = NULL;
    g_autofree char *what = g_strdup_printf("group '%s'", group);

    if (!nss_lookup(group_by_name, _SC_GETGR_R_SIZE_MAX, group, what, &gr, &buf))
        return FALSE;
    *gid = gr.gr_gid;
    return TRUE;
}

gboolean
mb_nss_uid_in_group(uid_t uid, gid_t gid)
{
    struct passwd pw;
    g_autofree char *buf = NULL;
    g_autofree char *what = g_strdup_printf("uid %u", (guint)uid);
    g_autofree gid_t *groups = NULL;
    int n_groups = 0;

    if (!nss_lookup(user_by_uid, _SC_GETPW_R_SIZE_MAX, &uid, what, &pw, &buf))
        return FALSE;
    if (pw.pw_gid == gid)
        return TRUE;
    groups = user_groups(pw.pw_name, pw.pw_gid, &n_groups);
    for (int i = 0; i < n_groups; i++) {
        if (groups[i] == gid)
            return TRUE;
    }
    return FALSE;
}
