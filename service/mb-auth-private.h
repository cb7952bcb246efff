/* What mb-auth.c and mb-auth-lookup.c share: the authorizer's state. */
#pragma once

#include "mb-auth.h"

G_BEGIN_DECLS

/* Callers whose credentials are remembered; past this the cache starts
 * over (it only saves a bus round trip), so a flood of short-lived
 * connections cannot grow it without bound. */
#define MAX_CACHED_CALLERS 4096
/* A decision (the group's gid, a uid's groups, polkit's answer) is kept
 * this long: a flood of calls costs one lookup a second (a missing group
 * takes ~0.3 ms through nss-systemd), and a change (a group created, a
 * member added, a rule edited) counts within a second. */
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
/* The group the shipped polkit rules (membalancer.rules) let in. */
#define POLKIT_RULES_GROUP "membalancer"

typedef enum {
    ACTION_REGISTER,
    ACTION_CONFIGURE,
    ACTION_CONTROL,
    N_ACTIONS,
} Action;

extern const char *const mb_auth_action_ids[N_ACTIONS];

/* A polkit answer is per action, and per "may ask the user": a call that
 * allows interactive authorization may get what one that does not cannot. */
#define N_SLOTS (N_ACTIONS * 2)

typedef enum {
    ANSWER_ALLOWED,
    ANSWER_DENIED,
    ANSWER_CHALLENGE, /* polkit: only after authentication, not allowed by the call */
    ANSWER_ERROR,     /* polkit failed: fail closed; never cached */
} Answer;

typedef struct {
    gint64 expires_us;
    gboolean allowed;
} Decision;

typedef struct {
    uid_t uid;
    GArray *gids; /* gid_t; NULL when the bus did not say */
} Caller;

typedef struct {
    gint64 expires_us[N_SLOTS];
    Answer answers[N_SLOTS];
} PolkitMemo;

struct _MbAuth {
    char *group; /* immutable */
    GMutex lock;
    GHashTable *caller_by_sender; /* unique name -> Caller; guarded by lock */
    GHashTable *decision_by_uid;  /* uid -> Decision, NSS's groups; guarded by lock */
    gint64 group_expires_us;      /* the group's gid, from NSS; guarded by lock */
    gboolean group_found;
    gid_t group_gid;
    GDBusConnection *connection; /* the watched bus; guarded by lock */
    guint owner_changed_id;      /* main thread only */
    GHashTable *lookups;         /* unique name -> Lookup under way; main thread only */
    guint n_waiting;             /* calls waiting for a lookup; main thread only */
    GQueue answers;              /* Lookups with calls to answer now; main thread */
    GSource *answer_source;      /* answers them a few at a time; main thread only */
    GThreadPool *pool;           /* runs lookup_thread */
    /* polkit, main thread only. */
    gpointer polkit;              /* MbPolkit; NULL: the group check only */
    GHashTable *polkit_by_sender; /* unique name -> PolkitMemo */
    GQueue awaiting_authority;    /* Lookups waiting for the authority */
};

/* mb-auth.c: the caches, the group check, the refusal. */
void auth_caller_free(gpointer data);
guint auth_invocation_slot(GDBusMethodInvocation *invocation);
/* The group check without blocking: FALSE when NSS must be asked. */
gboolean auth_group_check_cached(MbAuth *auth, uid_t uid, GArray *gids, gboolean *allowed);
/* The same, blocking on NSS (in the pool). */
gboolean auth_group_check(MbAuth *auth, uid_t uid, GArray *gids);
gboolean auth_peer_uid(GDBusConnection *connection, uid_t *out);
gboolean auth_cached_caller(MbAuth *auth, GDBusConnection *connection, const char *sender,
                            uid_t *uid, GArray **gids);
/* polkit decides for this caller now; *pending: not yet known whether. */
gboolean auth_polkit_active(MbAuth *auth, const char *sender, gboolean *pending);
gboolean auth_polkit_memo_lookup(MbAuth *auth, const char *sender, guint slot, Answer *answer);
void auth_polkit_memo_store(MbAuth *auth, const char *sender, guint slot, Answer answer);
void auth_set_denied(MbAuth *auth, GDBusMethodInvocation *invocation, uid_t uid,
                     gboolean by_polkit, Answer answer, GError **error);

G_END_DECLS
