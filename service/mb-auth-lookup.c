/* The calls the caches cannot decide: one lookup per caller however many
 * of its calls wait, its credentials from the bus (asynchronously), then
 * polkit (asynchronously, one check per action) or the user database (in
 * a small pool of threads); its calls answered in order, a few at a time. */
#include "mb-auth-private.h"

#include <unistd.h>

#include "mb-error.h"
#ifdef MB_HAVE_POLKIT
#include "mb-auth-polkit.h"
#endif

/* ---- one caller's lookup ---------------------------------------------------- */

typedef struct {
    GDBusMethodInvocation *invocation;
    MbAuthDone done;
    gpointer user_data;
    guint slot;
} Waiter;

typedef enum {
    BY_NOTHING, /* not yet known how: credentials or the authority awaited */
    BY_UID,     /* root or the service's own user, or credentials unknown */
    BY_GROUP,
    BY_POLKIT,
} DecidedBy;

typedef struct {
    gboolean asked;
    gboolean known;
    Answer answer;
    GError *error; /* ANSWER_ERROR */
} SlotAnswer;

/* One caller's lookup, and the calls that wait for it: its credentials
 * from the bus (asynchronously, from the main thread), then, unless
 * cached, polkit's answer for each action its calls need, or the group
 * check in the pool (NSS blocks). Its calls are answered in order. */
typedef struct {
    MbAuth *auth; /* a reference */
    GDBusConnection *connection;
    char *sender; /* NULL: peer to peer */
    GMainContext *context;
    GArray *waiters; /* Waiter; main thread only */
    guint n_answered;
    gboolean queued; /* in auth->answers */
    DecidedBy by;
    gboolean known; /* the credentials */
    uid_t uid;
    GArray *gids;  /* NULL: the bus did not say */
    GError *error; /* when the credentials are not known */
    gboolean in_pool;
    gboolean group_done; /* BY_GROUP: the answer */
    gboolean allowed;
    SlotAnswer slots[N_SLOTS]; /* BY_POLKIT */
    guint n_checks;            /* polkit checks in flight */
} Lookup;

static void
lookup_free(Lookup *lookup)
{
    for (guint i = 0; i < N_SLOTS; i++)
        g_clear_error(&lookup->slots[i].error);
    g_array_unref(lookup->waiters);
    if (lookup->gids != NULL)
        g_array_unref(lookup->gids);
    g_clear_error(&lookup->error);
    g_main_context_unref(lookup->context);
    g_free(lookup->sender);
    g_object_unref(lookup->connection);
    mb_auth_unref(lookup->auth);
    g_free(lookup);
}

static gboolean
waiter_ready(Lookup *lookup, const Waiter *waiter)
{
    switch (lookup->by) {
    case BY_NOTHING:
        return FALSE;
    case BY_UID:
        return TRUE;
    case BY_GROUP:
        return lookup->group_done;
    case BY_POLKIT:
        return lookup->slots[waiter->slot].known;
    }
    return FALSE;
}

/* NULL: allowed. */
static GError *
waiter_answer(Lookup *lookup, const Waiter *waiter)
{
    GError *error = NULL;
    SlotAnswer *slot = &lookup->slots[waiter->slot];

    if (!lookup->known)
        return g_error_copy(lookup->error);
    if (lookup->by == BY_UID || (lookup->by == BY_GROUP && lookup->allowed))
        return NULL;
    if (lookup->by == BY_GROUP) {
        auth_set_denied(lookup->auth, waiter->invocation, lookup->uid, FALSE, ANSWER_DENIED,
                        &error);
        return error;
    }
    if (slot->answer == ANSWER_ALLOWED)
        return NULL;
    if (slot->answer != ANSWER_ERROR) {
        auth_set_denied(lookup->auth, waiter->invocation, lookup->uid, TRUE, slot->answer,
                        &error);
        return error;
    }
    if (g_error_matches(slot->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return g_error_new_literal(MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                                   "membalancerd is stopping: try again when it is back");
    /* Fail closed. */
    return g_error_new(MB_SERVICE_ERROR, MB_SERVICE_ERROR_ACCESS_DENIED,
                       "polkit could not decide whether uid %u may do %s (%s): try again, or "
                       "ask an administrator",
                       (guint)lookup->uid, mb_auth_action_ids[waiter->slot / 2],
                       slot->error->message);
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

            if (!waiter_ready(lookup, &waiter))
                break; /* its answer comes later: it queues the lookup again */
            if (g_get_monotonic_time() >= until)
                return G_SOURCE_CONTINUE;
            lookup->n_answered++;
            auth->n_waiting--;
            error = waiter_answer(lookup, &waiter);
            waiter.done(waiter.invocation, error == NULL, error, waiter.user_data);
            g_object_unref(waiter.invocation);
        }
        g_queue_pop_head(&auth->answers);
        lookup->queued = FALSE;
        /* All answered and nothing under way: the caller's next calls go
         * by the caches. */
        if (lookup->n_answered == lookup->waiters->len && lookup->n_checks == 0 &&
            !lookup->in_pool) {
            if (lookup->sender != NULL)
                g_hash_table_remove(auth->lookups, lookup->sender);
            lookup_free(lookup);
        }
    }
    auth->answer_source = NULL;
    return G_SOURCE_REMOVE;
}

/* Main thread: queues the lookup for answering when its next call can be
 * answered, or when it is finished (to be freed there). */
static void
lookup_schedule(Lookup *lookup)
{
    MbAuth *auth = lookup->auth;
    gboolean finished =
        lookup->n_answered == lookup->waiters->len && lookup->n_checks == 0 && !lookup->in_pool;

    if (lookup->queued)
        return;
    if (!finished &&
        (lookup->n_answered == lookup->waiters->len ||
         !waiter_ready(lookup, &g_array_index(lookup->waiters, Waiter, lookup->n_answered))))
        return;
    lookup->queued = TRUE;
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
}

static gboolean
lookup_group_done(gpointer data)
{
    Lookup *lookup = data;

    lookup->in_pool = FALSE;
    lookup->group_done = TRUE;
    lookup_schedule(lookup);
    return G_SOURCE_REMOVE;
}

static void
lookup_thread(gpointer data, gpointer pool_data)
{
    Lookup *lookup = data;

    /* uid and gids are fixed once the lookup is in the pool. */
    lookup->allowed = auth_group_check(lookup->auth, lookup->uid, lookup->gids);
    g_main_context_invoke_full(lookup->context, G_PRIORITY_DEFAULT, lookup_group_done, lookup,
                               NULL);
}

static void
lookup_decide_by_group(Lookup *lookup)
{
    MbAuth *auth = lookup->auth;

    lookup->by = BY_GROUP;
    if (auth_group_check_cached(auth, lookup->uid, lookup->gids, &lookup->allowed)) {
        lookup->group_done = TRUE;
        lookup_schedule(lookup);
        return;
    }
    if (auth->pool == NULL)
        auth->pool = g_thread_pool_new(lookup_thread, NULL, LOOKUP_THREADS, FALSE, NULL);
    lookup->in_pool = TRUE;
    g_thread_pool_push(auth->pool, lookup, NULL);
}

#ifdef MB_HAVE_POLKIT
typedef struct {
    Lookup *lookup;
    guint slot;
} SlotCheck;

static void
on_slot_checked(MbPolkitAnswer answer, gboolean retain, const GError *error, gpointer user_data)
{
    SlotCheck *check = user_data;
    Lookup *lookup = check->lookup;
    SlotAnswer *slot = &lookup->slots[check->slot];
    static const Answer answers[] = {
        [MB_POLKIT_ALLOWED] = ANSWER_ALLOWED,     [MB_POLKIT_DENIED] = ANSWER_DENIED,
        [MB_POLKIT_CHALLENGE] = ANSWER_CHALLENGE, [MB_POLKIT_NO_ANSWER] = ANSWER_ERROR,
        [MB_POLKIT_ERROR] = ANSWER_ERROR,
    };

    lookup->n_checks--;
    if (lookup->by == BY_POLKIT && answer == MB_POLKIT_NO_ANSWER) {
        /* No authority on the bus (logged once): the group check decides
         * all of this caller's calls. */
        lookup_decide_by_group(lookup);
    } else if (lookup->by == BY_POLKIT) {
        slot->known = TRUE;
        slot->answer = answers[answer];
        if (error != NULL)
            slot->error = g_error_copy(error);
        if (retain && slot->answer != ANSWER_ERROR)
            auth_polkit_memo_store(lookup->auth, lookup->sender, check->slot, slot->answer);
    }
    lookup_schedule(lookup);
    g_free(check);
}
#endif

/* BY_POLKIT: the slot's answer from the cache, or one check (however
 * many of the caller's calls need it). */
static void
lookup_ask(Lookup *lookup, guint slot)
{
    SlotAnswer *answer = &lookup->slots[slot];

    if (answer->asked)
        return;
    answer->asked = TRUE;
    if (auth_polkit_memo_lookup(lookup->auth, lookup->sender, slot, &answer->answer)) {
        answer->known = TRUE;
        return;
    }
#ifdef MB_HAVE_POLKIT
    SlotCheck *check = g_new0(SlotCheck, 1);

    check->lookup = lookup;
    check->slot = slot;
    lookup->n_checks++;
    mb_polkit_check_async(lookup->auth->polkit, lookup->sender, mb_auth_action_ids[slot / 2],
                          slot % 2 == 1, on_slot_checked, check);
#endif
}

/* Main thread: the credentials are known (or cannot be): decide how. */
static void
lookup_decide(Lookup *lookup)
{
    MbAuth *auth = lookup->auth;
    gboolean pending;

    if (!lookup->known || lookup->uid == 0 || lookup->uid == geteuid()) {
        lookup->by = BY_UID;
        lookup_schedule(lookup);
    } else if (auth_polkit_active(auth, lookup->sender, &pending)) {
        lookup->by = BY_POLKIT;
        for (guint i = lookup->n_answered; i < lookup->waiters->len; i++)
            lookup_ask(lookup, g_array_index(lookup->waiters, Waiter, i).slot);
        lookup_schedule(lookup);
    } else if (pending) {
        /* Decided when the authority is known (got or not). */
        g_queue_push_tail(&auth->awaiting_authority, lookup);
    } else {
        lookup_decide_by_group(lookup);
    }
}

static void
on_credentials(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Lookup *lookup = user_data;
    MbAuth *auth = lookup->auth;
    g_autoptr(GVariant) reply =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, NULL);
    g_autoptr(GVariant) creds = reply != NULL ? g_variant_get_child_value(reply, 0) : NULL;
    g_autoptr(GVariant) groups = NULL;
    Caller *caller;
    guint32 uid;

    if (creds == NULL || !g_variant_lookup(creds, "UnixUserID", "u", &uid)) {
        g_set_error(&lookup->error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_ACCESS_DENIED,
                    "the bus did not tell the user of %s", lookup->sender);
        lookup_decide(lookup);
        return;
    }
    lookup->known = TRUE;
    lookup->uid = (uid_t)uid;
    /* The caller's own groups, as the kernel told the bus when it
     * connected (dbus-daemon >= 1.10 on Linux); else the user database's. */
    groups = g_variant_lookup_value(creds, "UnixGroupIDs", G_VARIANT_TYPE("au"));
    if (groups != NULL) {
        gsize n;
        const guint32 *values = g_variant_get_fixed_array(groups, &n, sizeof(guint32));

        lookup->gids = g_array_sized_new(FALSE, FALSE, sizeof(gid_t), (guint)n);
        for (gsize i = 0; i < n; i++) {
            gid_t gid = (gid_t)values[i];
            g_array_append_val(lookup->gids, gid);
        }
    }
    /* Unique names are never reused on a bus, and a connection's
     * credentials are fixed when it connects: safe to keep until the
     * caller leaves. A caller that left while we asked may stay; the bound
     * covers it. */
    caller = g_new0(Caller, 1);
    caller->uid = lookup->uid;
    caller->gids = lookup->gids != NULL ? g_array_ref(lookup->gids) : NULL;
    g_mutex_lock(&auth->lock);
    if (auth->connection == lookup->connection) {
        if (g_hash_table_size(auth->caller_by_sender) >= MAX_CACHED_CALLERS)
            g_hash_table_remove_all(auth->caller_by_sender);
        g_hash_table_insert(auth->caller_by_sender, g_strdup(lookup->sender),
                            g_steal_pointer(&caller));
    }
    g_mutex_unlock(&auth->lock);
    if (caller != NULL)
        auth_caller_free(caller);
    lookup_decide(lookup);
}

void
mb_auth_check_async(MbAuth *auth, GDBusMethodInvocation *invocation, MbAuthDone done,
                    gpointer user_data)
{
    const char *sender = g_dbus_method_invocation_get_sender(invocation);
    GDBusConnection *connection = g_dbus_method_invocation_get_connection(invocation);
    Lookup *lookup = sender != NULL ? g_hash_table_lookup(auth->lookups, sender) : NULL;
    Waiter waiter = {invocation, done, user_data, auth_invocation_slot(invocation)};

    /* The calls that wait hold their messages: bounded, they cannot pile
     * up while the bus (or polkit) is slow to say who a flood of new
     * callers are. A caller has at most one polkit check per action. */
    if (auth->n_waiting >= MAX_WAITING ||
        (lookup != NULL &&
         lookup->waiters->len - lookup->n_answered >= MAX_WAITING_PER_CALLER)) {
        g_autoptr(GError) error =
            g_error_new(MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                        "too many calls (%u) wait until their callers are known: try again",
                        auth->n_waiting);
        done(invocation, FALSE, error, user_data);
        return;
    }
    g_object_ref(invocation);
    auth->n_waiting++;
    if (lookup != NULL) {
        g_array_append_val(lookup->waiters, waiter);
        if (lookup->by == BY_POLKIT)
            lookup_ask(lookup, waiter.slot);
        lookup_schedule(lookup);
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
        lookup->known = auth_peer_uid(connection, &lookup->uid);
        if (!lookup->known)
            g_set_error_literal(&lookup->error, MB_SERVICE_ERROR,
                                MB_SERVICE_ERROR_ACCESS_DENIED,
                                "the caller's credentials are unknown");
        lookup_decide(lookup);
        return;
    }
    g_hash_table_insert(auth->lookups, lookup->sender, lookup);
    if (auth_cached_caller(auth, connection, sender, &lookup->uid, &lookup->gids)) {
        lookup->known = TRUE;
        lookup_decide(lookup);
        return;
    }
    g_dbus_connection_call(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                           "org.freedesktop.DBus", "GetConnectionCredentials",
                           g_variant_new("(s)", sender), G_VARIANT_TYPE("(a{sv})"),
                           G_DBUS_CALL_FLAGS_NONE, 5000, NULL, on_credentials, lookup);
}

/* ---- polkit ------------------------------------------------------------------ */

#ifdef MB_HAVE_POLKIT
/* The authority is known (got or not): decide the lookups that waited. */
static gboolean
on_polkit_ready(gpointer data)
{
    MbAuth *auth = data;
    Lookup *lookup;

    while ((lookup = g_queue_pop_head(&auth->awaiting_authority)) != NULL)
        lookup_decide(lookup);
    mb_auth_unref(auth);
    return G_SOURCE_REMOVE;
}
#endif

gboolean
mb_auth_use_polkit(MbAuth *auth)
{
#ifdef MB_HAVE_POLKIT
    if (auth->polkit == NULL)
        auth->polkit = mb_polkit_new(on_polkit_ready, mb_auth_ref(auth));
    return TRUE;
#else
    return FALSE;
#endif
}
