/* Who may change things: the authorizer, its caches (a caller's
 * credentials until it leaves the bus; the group's gid, a uid's groups and
 * polkit's answer per caller and action for a second), the group check and
 * the refusal. Calls the caches cannot decide wait in mb-auth-lookup.c. */
#include "mb-auth-private.h"

#include <unistd.h>

#include "mb-auth-nss.h"
#include "mb-error.h"
#include "mb-log.h"
#ifdef MB_HAVE_POLKIT
#include "mb-auth-polkit.h"
#endif

const char *const mb_auth_action_ids[N_ACTIONS] = {
    "org.smarttv.MemBalancer.register",
    "org.smarttv.MemBalancer.configure",
    "org.smarttv.MemBalancer.control",
};

void
auth_caller_free(gpointer data)
{
    Caller *caller = data;

    if (caller->gids != NULL)
        g_array_unref(caller->gids);
    g_free(caller);
}

MbAuth *
mb_auth_new(const char *group)
{
    MbAuth *auth = g_atomic_rc_box_new0(MbAuth);

    auth->group = g_strdup(group);
    g_mutex_init(&auth->lock);
    auth->caller_by_sender =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, auth_caller_free);
    auth->decision_by_uid = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    auth->lookups = g_hash_table_new(g_str_hash, g_str_equal);
    auth->polkit_by_sender = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return auth;
}

MbAuth *
mb_auth_ref(MbAuth *auth)
{
    return g_atomic_rc_box_acquire(auth);
}

static void
mb_auth_clear(gpointer data)
{
    MbAuth *auth = data;

    /* Every lookup and the subscription hold a reference: none is left.
     * A pool thread may still be returning from its last job: wait. */
    if (auth->pool != NULL)
        g_thread_pool_free(auth->pool, FALSE, TRUE);
#ifdef MB_HAVE_POLKIT
    g_clear_pointer(&auth->polkit, mb_polkit_free);
#endif
    g_hash_table_unref(auth->polkit_by_sender);
    g_hash_table_unref(auth->lookups);
    g_hash_table_unref(auth->caller_by_sender);
    g_hash_table_unref(auth->decision_by_uid);
    g_mutex_clear(&auth->lock);
    g_free(auth->group);
}

void
mb_auth_unref(MbAuth *auth)
{
    if (auth != NULL)
        g_atomic_rc_box_release_full(auth, mb_auth_clear);
}

void
mb_auth_unwatch(MbAuth *auth)
{
    g_autoptr(GDBusConnection) connection = NULL;
    guint id;

#ifdef MB_HAVE_POLKIT
    /* Cancel and drain: a check's callback holds a Lookup, which holds us;
     * the calls it answers (cancelled: "stopping") are answered here. */
    if (auth->polkit != NULL) {
        mb_polkit_cancel(auth->polkit);
        while (mb_polkit_get_n_checks(auth->polkit) > 0 ||
               mb_polkit_get_state(auth->polkit) == MB_POLKIT_PENDING ||
               auth->answer_source != NULL)
            g_main_context_iteration(NULL, TRUE);
    }
#endif
    g_mutex_lock(&auth->lock);
    connection = g_steal_pointer(&auth->connection);
    id = auth->owner_changed_id;
    auth->owner_changed_id = 0;
    g_hash_table_remove_all(auth->caller_by_sender);
    g_mutex_unlock(&auth->lock);
    g_hash_table_remove_all(auth->polkit_by_sender);
    /* Drops the subscription's reference (later, in the main context). */
    if (id != 0)
        g_dbus_connection_signal_unsubscribe(connection, id);
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
    g_hash_table_remove(auth->caller_by_sender, name);
    g_mutex_unlock(&auth->lock);
    g_hash_table_remove(auth->polkit_by_sender, name);
}

void
mb_auth_watch_connection(MbAuth *auth, GDBusConnection *connection)
{
    guint id;

    mb_auth_unwatch(auth);
    if (g_dbus_connection_get_unique_name(connection) == NULL)
        return; /* peer to peer: no bus, no other callers */
    id = g_dbus_connection_signal_subscribe(
        connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
        "/org/freedesktop/DBus", NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed,
        mb_auth_ref(auth), (GDestroyNotify)mb_auth_unref);
    g_mutex_lock(&auth->lock);
    auth->connection = g_object_ref(connection);
    auth->owner_changed_id = id;
    g_mutex_unlock(&auth->lock);
}

const char *
mb_auth_action_for(const char *member, gboolean is_property)
{
    if (is_property)
        return g_str_equal(member, "Paused") ? mb_auth_action_ids[ACTION_CONTROL]
                                             : mb_auth_action_ids[ACTION_CONFIGURE];
    if (g_str_equal(member, "RegisterVM") || g_str_equal(member, "UnregisterVM") ||
        g_str_equal(member, "RegisterOrUpdateVM"))
        return mb_auth_action_ids[ACTION_REGISTER];
    if (g_str_equal(member, "Rebalance"))
        return mb_auth_action_ids[ACTION_CONTROL];
    /* SetPriority, SetForeground, SetLimits, ClearForeground, and later settings. */
    return mb_auth_action_ids[ACTION_CONFIGURE];
}

guint
auth_invocation_slot(GDBusMethodInvocation *invocation)
{
    const GDBusPropertyInfo *property = g_dbus_method_invocation_get_property_info(invocation);
    const char *id =
        property != NULL
            ? mb_auth_action_for(property->name, TRUE)
            : mb_auth_action_for(g_dbus_method_invocation_get_method_name(invocation), FALSE);
    GDBusMessage *message = g_dbus_method_invocation_get_message(invocation);
    gboolean interactive = (g_dbus_message_get_flags(message) &
                            G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
    guint action = 0;

    while (action + 1 < N_ACTIONS && mb_auth_action_ids[action] != id)
        action++;
    return action * 2 + (interactive ? 1 : 0);
}

/* ---- the group check ---------------------------------------------------- */

/* The group's gid from the cache; FALSE when it must be looked up. */
static gboolean
cached_group(MbAuth *auth, gboolean *found, gid_t *gid)
{
    gboolean fresh;

    g_mutex_lock(&auth->lock);
    fresh = auth->group_expires_us > g_get_monotonic_time();
    *found = auth->group_found;
    *gid = auth->group_gid;
    g_mutex_unlock(&auth->lock);
    return fresh;
}

/* Blocks on NSS unless cached: a group created later counts within a second. */
static gboolean
group_gid(MbAuth *auth, gid_t *gid)
{
    gboolean found;

    if (cached_group(auth, &found, gid))
        return found;
    found = mb_nss_group_gid(auth->group, gid);
    g_mutex_lock(&auth->lock);
    auth->group_found = found;
    auth->group_gid = *gid;
    auth->group_expires_us = g_get_monotonic_time() + DECISION_TTL_US;
    g_mutex_unlock(&auth->lock);
    return found;
}

static gboolean
gids_contain(GArray *gids, gid_t gid)
{
    for (guint i = 0; i < gids->len; i++) {
        if (g_array_index(gids, gid_t, i) == gid)
            return TRUE;
    }
    return FALSE;
}

static gboolean
cached_decision(MbAuth *auth, uid_t uid, gboolean *allowed)
{
    Decision *decision;
    gboolean found;

    if (uid == 0 || uid == geteuid()) {
        *allowed = TRUE;
        return TRUE;
    }
    g_mutex_lock(&auth->lock);
    decision = g_hash_table_lookup(auth->decision_by_uid, GUINT_TO_POINTER(uid));
    found = decision != NULL && decision->expires_us > g_get_monotonic_time();
    if (found)
        *allowed = decision->allowed;
    g_mutex_unlock(&auth->lock);
    return found;
}

gboolean
mb_auth_uid_allowed(MbAuth *auth, uid_t uid)
{
    Decision *decision;
    gboolean allowed;
    gid_t gid;

    if (cached_decision(auth, uid, &allowed))
        return allowed;
    /* No such group: root only. */
    allowed = group_gid(auth, &gid) && mb_nss_uid_in_group(uid, gid);
    decision = g_new(Decision, 1);
    decision->allowed = allowed;
    decision->expires_us = g_get_monotonic_time() + DECISION_TTL_US;
    g_mutex_lock(&auth->lock);
    if (g_hash_table_size(auth->decision_by_uid) >= MAX_CACHED_UIDS)
        g_hash_table_remove_all(auth->decision_by_uid);
    g_hash_table_insert(auth->decision_by_uid, GUINT_TO_POINTER(uid), decision);
    g_mutex_unlock(&auth->lock);
    return allowed;
}

/* The group check without blocking: FALSE when NSS must be asked. The
 * groups the bus gives are the caller's own (its process's, as the kernel
 * told the bus), not the user database's. */
gboolean
auth_group_check_cached(MbAuth *auth, uid_t uid, GArray *gids, gboolean *allowed)
{
    gboolean found;
    gid_t gid;

    if (gids == NULL)
        return cached_decision(auth, uid, allowed);
    if (uid == 0 || uid == geteuid()) {
        *allowed = TRUE;
        return TRUE;
    }
    if (!cached_group(auth, &found, &gid))
        return FALSE;
    *allowed = found && gids_contain(gids, gid);
    return TRUE;
}

/* The same, blocking on NSS (in the pool). */
gboolean
auth_group_check(MbAuth *auth, uid_t uid, GArray *gids)
{
    gid_t gid;

    if (gids == NULL)
        return mb_auth_uid_allowed(auth, uid);
    if (uid == 0 || uid == geteuid())
        return TRUE;
    return group_gid(auth, &gid) && gids_contain(gids, gid);
}

/* ---- what the bus said about a caller ------------------------------------- */

/* The uid of a peer-to-peer caller (the kernel's word); FALSE if unknown. */
gboolean
auth_peer_uid(GDBusConnection *connection, uid_t *out)
{
    GCredentials *peer = g_dbus_connection_get_peer_credentials(connection);

    if (peer == NULL || g_credentials_get_unix_user(peer, NULL) == (uid_t)-1)
        return FALSE;
    *out = g_credentials_get_unix_user(peer, NULL);
    return TRUE;
}

/* The caller's uid and (a reference to) its groups, NULL when unknown. */
gboolean
auth_cached_caller(MbAuth *auth, GDBusConnection *connection, const char *sender, uid_t *uid,
                   GArray **gids)
{
    Caller *caller;

    *gids = NULL;
    if (sender == NULL)
        return auth_peer_uid(connection, uid);
    g_mutex_lock(&auth->lock);
    caller = g_hash_table_lookup(auth->caller_by_sender, sender);
    if (caller != NULL) {
        *uid = caller->uid;
        *gids = caller->gids != NULL ? g_array_ref(caller->gids) : NULL;
    }
    g_mutex_unlock(&auth->lock);
    return caller != NULL;
}

/* ---- polkit's answers, cached per caller and action ------------------------ */

gboolean
auth_polkit_active(MbAuth *auth, const char *sender, gboolean *pending)
{
    *pending = FALSE;
#ifdef MB_HAVE_POLKIT
    if (auth->polkit != NULL && sender != NULL) {
        switch (mb_polkit_get_state(auth->polkit)) {
        case MB_POLKIT_PENDING:
            *pending = TRUE;
            return FALSE;
        case MB_POLKIT_READY:
            return TRUE;
        case MB_POLKIT_ABSENT:
            break;
        }
    }
#endif
    return FALSE;
}

gboolean
auth_polkit_memo_lookup(MbAuth *auth, const char *sender, guint slot, Answer *answer)
{
    PolkitMemo *memo = g_hash_table_lookup(auth->polkit_by_sender, sender);

    if (memo == NULL || memo->expires_us[slot] <= g_get_monotonic_time())
        return FALSE;
    *answer = memo->answers[slot];
    return TRUE;
}

void
auth_polkit_memo_store(MbAuth *auth, const char *sender, guint slot, Answer answer)
{
    PolkitMemo *memo = g_hash_table_lookup(auth->polkit_by_sender, sender);

    if (memo == NULL) {
        if (g_hash_table_size(auth->polkit_by_sender) >= MAX_CACHED_CALLERS)
            g_hash_table_remove_all(auth->polkit_by_sender);
        memo = g_new0(PolkitMemo, 1);
        g_hash_table_insert(auth->polkit_by_sender, g_strdup(sender), memo);
    }
    memo->answers[slot] = answer;
    memo->expires_us[slot] = g_get_monotonic_time() + DECISION_TTL_US;
}

/* ---- the answer a refused caller gets -------------------------------------- */

void
auth_set_denied(MbAuth *auth, GDBusMethodInvocation *invocation, uid_t uid, gboolean by_polkit,
                Answer answer, GError **error)
{
    const GDBusPropertyInfo *property = g_dbus_method_invocation_get_property_info(invocation);
    guint slot = auth_invocation_slot(invocation);
    g_autofree char *what =
        property != NULL
            ? g_strdup_printf("write %s", property->name)
            : g_strdup_printf("call %s", g_dbus_method_invocation_get_method_name(invocation));

    if (answer == ANSWER_CHALLENGE)
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_ACCESS_DENIED,
                    "uid %u may not %s (%s needs authentication, and the call did not allow "
                    "interactive authorization): ask an administrator, or join group '%s'",
                    (guint)uid, what, mb_auth_action_ids[slot / 2], POLKIT_RULES_GROUP);
    else
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_ACCESS_DENIED,
                    "uid %u may not %s (not authorized for %s): ask an administrator, or join "
                    "group '%s'",
                    (guint)uid, what, mb_auth_action_ids[slot / 2],
                    by_polkit ? POLKIT_RULES_GROUP : auth->group);
}

MbAuthDecision
mb_auth_check_cached(MbAuth *auth, GDBusMethodInvocation *invocation, GError **error)
{
    const char *sender = g_dbus_method_invocation_get_sender(invocation);
    g_autoptr(GArray) gids = NULL;
    gboolean allowed, pending;
    Answer answer;
    uid_t uid;

    /* Calls of a caller whose lookup is under way wait after its earlier ones. */
    if (sender != NULL && g_hash_table_contains(auth->lookups, sender))
        return MB_AUTH_UNKNOWN;
    if (!auth_cached_caller(auth, g_dbus_method_invocation_get_connection(invocation), sender,
                            &uid, &gids))
        return MB_AUTH_UNKNOWN;
    /* Root and the service's own user: never asked about. */
    if (uid == 0 || uid == geteuid())
        return MB_AUTH_ALLOWED;
    if (auth_polkit_active(auth, sender, &pending)) {
        if (!auth_polkit_memo_lookup(auth, sender, auth_invocation_slot(invocation), &answer))
            return MB_AUTH_UNKNOWN;
        if (answer == ANSWER_ALLOWED)
            return MB_AUTH_ALLOWED;
        auth_set_denied(auth, invocation, uid, TRUE, answer, error);
        return MB_AUTH_DENIED;
    }
    if (pending || !auth_group_check_cached(auth, uid, gids, &allowed))
        return MB_AUTH_UNKNOWN;
    if (allowed)
        return MB_AUTH_ALLOWED;
    auth_set_denied(auth, invocation, uid, FALSE, ANSWER_DENIED, error);
    return MB_AUTH_DENIED;
}
