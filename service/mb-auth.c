/* Who may change things. The decisions are cached (a caller's uid until it
 * leaves the bus, a uid's decision for a second), so that most calls are
 * decided in the main thread without blocking; the rest wait for one
 * lookup per caller however many of its calls wait: its uid from the bus
 * (asynchronously), then its groups from NSS in a small pool of threads. */
#include "mb-auth.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "mb-error.h"
#include "mb-log.h"

/* NSS buffers start at sysconf's hint and double on ERANGE up to this. */
#define NSS_BUF_MAX (1024 * 1024)
#define NSS_GROUPS_MAX (NSS_BUF_MAX / (int)sizeof(gid_t))
/* Callers whose uid is remembered; past this the cache starts over (it
 * only saves a bus round trip), so a flood of short-lived connections
 * cannot grow it without bound. */
#define MAX_CACHED_CALLERS 4096
/* A uid's decision is kept this long: a flood of calls costs one NSS
 * lookup a second (a missing group takes ~0.3 ms through nss-systemd), and
 * a change of membership counts within a second. */
#define DECISION_TTL_US G_USEC_PER_SEC
#define MAX_CACHED_UIDS 1024
/* Threads for the NSS lookups, which block: few, and not GLib's shared
 * GTask pool, where a flood of callers would queue ahead of the ticks'
 * workers. */
#define LOOKUP_THREADS 4
/* Calls waiting for their caller's lookup, per caller and in all, as the
 * system bus's defaults allow one user (max_replies_per_connection 128,
 * max_connections_per_user 256): each holds its message (~2 KiB), so a
 * laxer bus or many users cannot pile up more. */
#define MAX_WAITING_PER_CALLER 128
#define MAX_WAITING 32768
/* Answering waiting calls takes at most this much of the main loop at a
 * time: the ticks' timer gets its turn between. */
#define ANSWER_BUDGET_US 5000

typedef struct {
    gint64 expires_us;
    gboolean allowed;
} Decision;

struct _MbAuth {
    char *group; /* immutable */
    GMutex lock;
    GHashTable *uid_by_sender;   /* unique name -> uid; guarded by lock */
    GHashTable *decision_by_uid; /* uid -> Decision; guarded by lock */
    GDBusConnection *connection; /* the watched bus; guarded by lock */
    guint owner_changed_id;      /* main thread only */
    GHashTable *lookups;         /* unique name -> Lookup under way; main thread only */
    guint n_waiting;             /* calls waiting for a lookup; main thread only */
    GQueue answers;              /* Lookup done, its calls being answered; main thread */
    GSource *answer_source;      /* answers them a few at a time; main thread only */
    GThreadPool *pool;           /* runs lookup_thread */
};

MbAuth *
mb_auth_new(const char *group)
{
    MbAuth *auth = g_atomic_rc_box_new0(MbAuth);

    auth->group = g_strdup(group);
    g_mutex_init(&auth->lock);
    auth->uid_by_sender = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    auth->decision_by_uid = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    auth->lookups = g_hash_table_new(g_str_hash, g_str_equal);
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
    g_hash_table_unref(auth->lookups);
    g_hash_table_unref(auth->uid_by_sender);
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
mb_auth_free(MbAuth *auth)
{
    mb_auth_unref(auth);
}

void
mb_auth_unwatch(MbAuth *auth)
{
    g_autoptr(GDBusConnection) connection = NULL;
    guint id;

    g_mutex_lock(&auth->lock);
    connection = g_steal_pointer(&auth->connection);
    id = auth->owner_changed_id;
    auth->owner_changed_id = 0;
    g_hash_table_remove_all(auth->uid_by_sender);
    g_mutex_unlock(&auth->lock);
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
    g_hash_table_remove(auth->uid_by_sender, name);
    g_mutex_unlock(&auth->lock);
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

static gboolean
uid_allowed_uncached(MbAuth *auth, uid_t uid)
{
    struct passwd pw;
    struct group gr;
    g_autofree char *pw_buf = NULL;
    g_autofree char *gr_buf = NULL;
    g_autofree char *group_what = NULL;
    g_autofree char *user_what = NULL;
    g_autofree gid_t *groups = NULL;
    int n_groups = 0;

    if (uid == 0 || uid == geteuid())
        return TRUE;
    group_what = g_strdup_printf("group '%s'", auth->group);
    if (!nss_lookup(group_by_name, _SC_GETGR_R_SIZE_MAX, auth->group, group_what, &gr, &gr_buf))
        return FALSE; /* no such group: root only */
    user_what = g_strdup_printf("uid %u", (guint)uid);
    if (!nss_lookup(user_by_uid, _SC_GETPW_R_SIZE_MAX, &uid, user_what, &pw, &pw_buf))
        return FALSE;
    if (pw.pw_gid == gr.gr_gid)
        return TRUE;
    groups = user_groups(pw.pw_name, pw.pw_gid, &n_groups);
    for (int i = 0; i < n_groups; i++) {
        if (groups[i] == gr.gr_gid)
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

    if (cached_decision(auth, uid, &allowed))
        return allowed;
    allowed = uid_allowed_uncached(auth, uid);
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

/* The uid of a peer-to-peer caller (the kernel's word); FALSE if unknown. */
static gboolean
peer_uid(GDBusConnection *connection, uid_t *out)
{
    GCredentials *peer = g_dbus_connection_get_peer_credentials(connection);

    if (peer == NULL || g_credentials_get_unix_user(peer, NULL) == (uid_t)-1)
        return FALSE;
    *out = g_credentials_get_unix_user(peer, NULL);
    return TRUE;
}

static gboolean
cached_caller_uid(MbAuth *auth, GDBusConnection *connection, const char *sender, uid_t *out)
{
    gpointer cached;
    gboolean found;

    if (sender == NULL)
        return peer_uid(connection, out);
    g_mutex_lock(&auth->lock);
    found = g_hash_table_lookup_extended(auth->uid_by_sender, sender, NULL, &cached);
    g_mutex_unlock(&auth->lock);
    if (found)
        *out = (uid_t)GPOINTER_TO_UINT(cached);
    return found;
}

static void
set_denied(MbAuth *auth, GDBusMethodInvocation *invocation, uid_t uid, GError **error)
{
    const GDBusPropertyInfo *property = g_dbus_method_invocation_get_property_info(invocation);
    g_autofree char *what =
        property != NULL
            ? g_strdup_printf("write %s", property->name)
            : g_strdup_printf("call %s", g_dbus_method_invocation_get_method_name(invocation));

    g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_ACCESS_DENIED,
                "uid %u may not %s: changing membalancer needs root or membership of "
                "group '%s'",
                (guint)uid, what, auth->group);
}

MbAuthDecision
mb_auth_check_cached(MbAuth *auth, GDBusMethodInvocation *invocation, GError **error)
{
    const char *sender = g_dbus_method_invocation_get_sender(invocation);
    uid_t uid;
    gboolean allowed;

    /* Calls of a caller whose lookup is under way wait after its earlier ones. */
    if (sender != NULL && g_hash_table_contains(auth->lookups, sender))
        return MB_AUTH_UNKNOWN;
    if (!cached_caller_uid(auth, g_dbus_method_invocation_get_connection(invocation), sender,
                           &uid) ||
        !cached_decision(auth, uid, &allowed))
        return MB_AUTH_UNKNOWN;
    if (allowed)
        return MB_AUTH_ALLOWED;
    set_denied(auth, invocation, uid, error);
    return MB_AUTH_DENIED;
}

typedef struct {
    GDBusMethodInvocation *invocation;
    MbAuthDone done;
    gpointer user_data;
} Waiter;

/* One caller's lookup, and the calls that wait for it: its uid from the
 * bus (asynchronously, from the main thread), then, unless cached, the
 * uid's decision in the pool (NSS blocks). */
typedef struct {
    MbAuth *auth; /* a reference */
    GDBusConnection *connection;
    char *sender; /* NULL: peer to peer */
    GMainContext *context;
    GArray *waiters; /* Waiter; main thread only */
    guint n_answered;
    gboolean known; /* the answer: uid known, then allowed */
    uid_t uid;
    gboolean allowed;
    GError *error; /* when the uid is not known */
} Lookup;

static void
lookup_free(Lookup *lookup)
{
    g_array_unref(lookup->waiters);
    g_clear_error(&lookup->error);
    g_main_context_unref(lookup->context);
    g_free(lookup->sender);
    g_object_unref(lookup->connection);
    mb_auth_unref(lookup->auth);
    g_free(lookup);
}

static gboolean
answer_some(gpointer data)
{
    MbAuth *auth = data;
    gint64 until = g_get_monotonic_time() + ANSWER_BUDGET_US;
    Lookup *lookup;

    while ((lookup = g_queue_peek_head(&auth->answers)) != NULL) {
        while (lookup->n_answered < lookup->waiters->len) {
            Waiter waiter = g_array_index(lookup->waiters, Waiter, lookup->n_answered);
            g_autoptr(GError) error = NULL;
            gboolean allowed = lookup->known && lookup->allowed;

            if (g_get_monotonic_time() >= until)
                return G_SOURCE_CONTINUE;
            lookup->n_answered++;
            auth->n_waiting--;
            if (!lookup->known)
                error = g_error_copy(lookup->error);
            else if (!allowed)
                set_denied(auth, waiter.invocation, lookup->uid, &error);
            waiter.done(waiter.invocation, allowed, error, waiter.user_data);
            g_object_unref(waiter.invocation);
        }
        /* All answered: the caller's next calls go by the caches. */
        g_queue_pop_head(&auth->answers);
        if (lookup->sender != NULL)
            g_hash_table_remove(auth->lookups, lookup->sender);
        lookup_free(lookup);
    }
    auth->answer_source = NULL;
    return G_SOURCE_REMOVE;
}

/* Main thread: the lookup's calls are answered, in their order, and calls
 * of the same caller arriving meanwhile after them. */
static gboolean
lookup_done(gpointer data)
{
    Lookup *lookup = data;
    MbAuth *auth = lookup->auth;

    g_queue_push_tail(&auth->answers, lookup);
    if (auth->answer_source == NULL) {
        auth->answer_source = g_idle_source_new();
        g_source_set_priority(auth->answer_source, G_PRIORITY_DEFAULT);
        g_source_set_callback(auth->answer_source, answer_some, mb_auth_ref(auth),
                              (GDestroyNotify)mb_auth_unref);
        g_source_set_static_name(auth->answer_source, "[membalancer] authorization answers");
        g_source_attach(auth->answer_source, lookup->context);
        g_source_unref(auth->answer_source);
    }
    return G_SOURCE_REMOVE;
}

static void
lookup_thread(gpointer data, gpointer pool_data)
{
    Lookup *lookup = data;

    lookup->allowed = mb_auth_uid_allowed(lookup->auth, lookup->uid);
    g_main_context_invoke_full(lookup->context, G_PRIORITY_DEFAULT, lookup_done, lookup, NULL);
}

/* The uid is known: decide from the cache, or in the pool. */
static void
lookup_decide(Lookup *lookup)
{
    MbAuth *auth = lookup->auth;

    lookup->known = TRUE;
    if (cached_decision(auth, lookup->uid, &lookup->allowed)) {
        lookup_done(lookup);
        return;
    }
    if (auth->pool == NULL)
        auth->pool = g_thread_pool_new(lookup_thread, NULL, LOOKUP_THREADS, FALSE, NULL);
    g_thread_pool_push(auth->pool, lookup, NULL);
}

static void
on_credentials(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Lookup *lookup = user_data;
    MbAuth *auth = lookup->auth;
    g_autoptr(GVariant) reply =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, NULL);
    g_autoptr(GVariant) creds = reply != NULL ? g_variant_get_child_value(reply, 0) : NULL;
    guint32 uid;

    if (creds == NULL || !g_variant_lookup(creds, "UnixUserID", "u", &uid)) {
        g_set_error(&lookup->error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_ACCESS_DENIED,
                    "the bus did not tell the user of %s", lookup->sender);
        lookup_done(lookup);
        return;
    }
    /* Unique names are never reused on a bus, and a connection's uid is
     * fixed when it connects: safe to keep until the caller leaves. A
     * caller that left while we asked may stay; the bound covers it. */
    g_mutex_lock(&auth->lock);
    if (auth->connection == lookup->connection) {
        if (g_hash_table_size(auth->uid_by_sender) >= MAX_CACHED_CALLERS)
            g_hash_table_remove_all(auth->uid_by_sender);
        g_hash_table_insert(auth->uid_by_sender, g_strdup(lookup->sender),
                            GUINT_TO_POINTER(uid));
    }
    g_mutex_unlock(&auth->lock);
    lookup->uid = (uid_t)uid;
    lookup_decide(lookup);
}

void
mb_auth_check_async(MbAuth *auth, GDBusMethodInvocation *invocation, MbAuthDone done,
                    gpointer user_data)
{
    const char *sender = g_dbus_method_invocation_get_sender(invocation);
    GDBusConnection *connection = g_dbus_method_invocation_get_connection(invocation);
    Lookup *lookup = sender != NULL ? g_hash_table_lookup(auth->lookups, sender) : NULL;
    Waiter waiter = {invocation, done, user_data};

    /* The calls that wait hold their messages: bounded, they cannot pile
     * up while the bus is slow to say who a flood of new callers are. */
    if (auth->n_waiting >= MAX_WAITING ||
        (lookup != NULL &&
         lookup->waiters->len - lookup->n_answered >= MAX_WAITING_PER_CALLER)) {
        g_autoptr(GError) error = g_error_new(
            MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
            "too many calls (%u) wait until the bus says who their callers are: try again",
            auth->n_waiting);
        done(invocation, FALSE, error, user_data);
        return;
    }
    g_object_ref(invocation);
    auth->n_waiting++;
    if (lookup != NULL) {
        g_array_append_val(lookup->waiters, waiter);
        return;
    }
    lookup = g_new0(Lookup, 1);
    lookup->auth = mb_auth_ref(auth);
    lookup->connection = g_object_ref(connection);
    lookup->sender = g_strdup(sender);
    lookup->context = g_main_context_ref_thread_default();
    lookup->waiters = g_array_new(FALSE, FALSE, sizeof(Waiter));
    g_array_append_val(lookup->waiters, waiter);
    if (sender == NULL) {
        /* Peer to peer: the kernel's word for the other end. */
        if (!peer_uid(connection, &lookup->uid)) {
            g_set_error_literal(&lookup->error, MB_SERVICE_ERROR,
                                MB_SERVICE_ERROR_ACCESS_DENIED,
                                "the caller's credentials are unknown");
            lookup_done(lookup);
            return;
        }
        lookup_decide(lookup);
        return;
    }
    g_hash_table_insert(auth->lookups, lookup->sender, lookup);
    if (cached_caller_uid(auth, connection, sender, &lookup->uid)) {
        lookup_decide(lookup);
        return;
    }
    g_dbus_connection_call(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                           "org.freedesktop.DBus", "GetConnectionCredentials",
                           g_variant_new("(s)", sender), G_VARIANT_TYPE("(a{sv})"),
                           G_DBUS_CALL_FLAGS_NONE, 5000, NULL, on_credentials, lookup);
}
