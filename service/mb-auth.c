#include "mb-auth.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "mb-error.h"
#include "mb-log.h"

struct _MbAuth {
    char *group;
    GMutex lock;
    GHashTable *uid_by_sender; /* unique name -> uid; guarded by lock */
    GDBusConnection *connection;
    guint owner_changed_id;
};

MbAuth *
mb_auth_new(const char *group)
{
    MbAuth *auth = g_new0(MbAuth, 1);

    auth->group = g_strdup(group);
    g_mutex_init(&auth->lock);
    auth->uid_by_sender = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return auth;
}

void
mb_auth_unwatch(MbAuth *auth)
{
    if (auth->connection != NULL) {
        g_dbus_connection_signal_unsubscribe(auth->connection, auth->owner_changed_id);
        g_clear_object(&auth->connection);
        auth->owner_changed_id = 0;
    }
}

void
mb_auth_free(MbAuth *auth)
{
    if (auth == NULL)
        return;
    mb_auth_unwatch(auth);
    g_hash_table_unref(auth->uid_by_sender);
    g_mutex_clear(&auth->lock);
    g_free(auth->group);
    g_free(auth);
}

static void
on_name_owner_changed(GDBusConnection *connection, const char *sender, const char *path,
                      const char *interface, const char *signal, GVariant *parameters,
                      gpointer user_data)
{
    MbAuth *auth = user_data;
    const char *name, *old_owner, *new_owner;

    g_variant_get(parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
    if (*new_owner != '\0' || name[0] != ':')
        return;
    g_mutex_lock(&auth->lock);
    g_hash_table_remove(auth->uid_by_sender, name);
    g_mutex_unlock(&auth->lock);
}

void
mb_auth_watch_connection(MbAuth *auth, GDBusConnection *connection)
{
    mb_auth_unwatch(auth);
    if (g_dbus_connection_get_unique_name(connection) == NULL)
        return; /* peer to peer: no bus, no other callers */
    auth->connection = g_object_ref(connection);
    auth->owner_changed_id = g_dbus_connection_signal_subscribe(
        connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
        "/org/freedesktop/DBus", NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed, auth,
        NULL);
}

gboolean
mb_auth_uid_allowed(MbAuth *auth, uid_t uid)
{
    struct passwd pw, *pw_result = NULL;
    struct group gr, *gr_result = NULL;
    g_autofree char *pw_buf = NULL;
    g_autofree char *gr_buf = NULL;
    g_autofree gid_t *groups = NULL;
    long buf_size = sysconf(_SC_GETPW_R_SIZE_MAX);
    int n_groups = 64;

    if (uid == 0 || uid == geteuid())
        return TRUE;
    if (buf_size < 16384)
        buf_size = 16384;
    pw_buf = g_malloc((gsize)buf_size);
    gr_buf = g_malloc((gsize)buf_size);
    if (getgrnam_r(auth->group, &gr, gr_buf, (size_t)buf_size, &gr_result) != 0 ||
        gr_result == NULL)
        return FALSE; /* no such group: root only */
    if (getpwuid_r(uid, &pw, pw_buf, (size_t)buf_size, &pw_result) != 0 || pw_result == NULL)
        return FALSE;
    if (pw.pw_gid == gr.gr_gid)
        return TRUE;
    for (int attempt = 0; attempt < 4; attempt++) {
        int n = n_groups;
        g_free(groups);
        groups = g_new(gid_t, n);
        if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) >= 0) {
            for (int i = 0; i < n; i++) {
                if (groups[i] == gr.gr_gid)
                    return TRUE;
            }
            return FALSE;
        }
        n_groups = MAX(n, n_groups * 2);
    }
    return FALSE;
}

static gboolean
caller_uid(MbAuth *auth, GDBusMethodInvocation *invocation, uid_t *out, GError **error)
{
    GDBusConnection *connection = g_dbus_method_invocation_get_connection(invocation);
    const char *sender = g_dbus_method_invocation_get_sender(invocation);
    g_autoptr(GVariant) reply = NULL;
    g_autoptr(GVariant) creds = NULL;
    gpointer cached;
    guint32 uid;

    if (sender == NULL) {
        /* Peer-to-peer connection: the kernel's word for the other end. */
        GCredentials *peer = g_dbus_connection_get_peer_credentials(connection);
        if (peer == NULL || g_credentials_get_unix_user(peer, NULL) == (uid_t)-1) {
            g_set_error_literal(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_ACCESS_DENIED,
                                "the caller's credentials are unknown");
            return FALSE;
        }
        *out = g_credentials_get_unix_user(peer, NULL);
        return TRUE;
    }
    g_mutex_lock(&auth->lock);
    if (g_hash_table_lookup_extended(auth->uid_by_sender, sender, NULL, &cached)) {
        g_mutex_unlock(&auth->lock);
        *out = (uid_t)GPOINTER_TO_UINT(cached);
        return TRUE;
    }
    g_mutex_unlock(&auth->lock);

    reply = g_dbus_connection_call_sync(
        connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "GetConnectionCredentials", g_variant_new("(s)", sender), G_VARIANT_TYPE("(a{sv})"),
        G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
    if (reply == NULL) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_ACCESS_DENIED,
                    "the bus did not tell who %s is", sender);
        return FALSE;
    }
    creds = g_variant_get_child_value(reply, 0);
    if (!g_variant_lookup(creds, "UnixUserID", "u", &uid)) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_ACCESS_DENIED,
                    "the bus did not tell the user of %s", sender);
        return FALSE;
    }
    /* Unique names are never reused on a bus, and a connection's uid is
     * fixed when it connects: safe to keep until the caller leaves. */
    g_mutex_lock(&auth->lock);
    if (auth->connection == connection)
        g_hash_table_insert(auth->uid_by_sender, g_strdup(sender), GUINT_TO_POINTER(uid));
    g_mutex_unlock(&auth->lock);
    *out = (uid_t)uid;
    return TRUE;
}

gboolean
mb_auth_check_invocation(MbAuth *auth, GDBusMethodInvocation *invocation, GError **error)
{
    uid_t uid;

    if (!caller_uid(auth, invocation, &uid, error))
        return FALSE;
    if (mb_auth_uid_allowed(auth, uid))
        return TRUE;
    const GDBusPropertyInfo *property = g_dbus_method_invocation_get_property_info(invocation);
    g_autofree char *what =
        property != NULL
            ? g_strdup_printf("write %s", property->name)
            : g_strdup_printf("call %s", g_dbus_method_invocation_get_method_name(invocation));
    g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_ACCESS_DENIED,
                "uid %u may not %s: changing membalancer needs root or membership of "
                "group '%s'",
                (guint)uid, what, auth->group);
    return FALSE;
}
