/* Shared by the bus test programs: a fixture with a private bus, the
 * real membalancerd on it and a manager proxy; helpers to call it. */
#pragma once

#include "mb-dbus-generated.h"
#include "mb-test-bus.h"

G_BEGIN_DECLS

#define MANAGER_IFACE "org.smarttv.MemBalancer"
#define VM_IFACE "org.smarttv.MemBalancer.VM"
#define ERR "org.smarttv.MemBalancer.Error."

typedef struct {
    MbTestBus *bus;
    char *state_dir;
    MbTestDaemon *daemon;
    MbMemBalancer *manager;
} Fixture;

/* --interval-ms 100 */
extern const char *const mb_test_fast_args[];

/* Spawns the daemon (args as for mb_test_daemon_spawn) and a proxy. */
void fixture_start(Fixture *f, const char *const *args);
/* SIGTERM; asserts exit status 0 (under ASan: no leak). */
void fixture_stop(Fixture *f);
/* g_test_add setup: a bus, and the daemon when data (its args) is not NULL. */
void fixture_setup(Fixture *f, gconstpointer data);
void fixture_teardown(Fixture *f, gconstpointer data);

char *register_vm(Fixture *f, const char *name, guint priority, GVariant *options);
MbMemBalancerVM *vm_proxy(Fixture *f, const char *path);
/* The registrations, Paused and the state file as one string. */
char *settings_snapshot(Fixture *f);
/* A property of the object at path as the service has it now
 * (Properties.Get, not a proxy's cache); asserts the call succeeds. */
GVariant *property_now(GDBusConnection *connection, const char *path, const char *iface,
                       const char *name);
/* Runs argv (as nobody when unprivileged), asserts exit 0, returns stdout. */
char *run_ok(gboolean unprivileged, const char *const *argv);
GVariant *one_option(const char *key, GVariant *value);
GVariant *min_max(guint64 min, guint64 max);

/* n calls of method (s name, u priority, a{sv} options) at once, for
 * the name "contended" with priority 0 to n - 1; waits for every reply. */
typedef struct {
    guint pending, ok, already; /* already: AlreadyRegistered */
    char *first_other;          /* the first other error's message (free it) */
} MbTestRace;
void mb_test_race(Fixture *f, const char *method, guint n, MbTestRace *race);

/* The properties a proxy announced changed, connected with
 * g_signal_connect(proxy, "g-properties-changed", changes_on_props_changed, &changes). */
typedef struct {
    guint n_changed;
    GHashTable *seen; /* property name set */
} PropChanges;
void changes_on_props_changed(GDBusProxy *proxy, GVariant *changed,
                              const char *const *invalidated, gpointer user_data);
/* Waits (5 s at most) until property was announced, and forgets it. */
void wait_change(PropChanges *c, const char *property);

/* Replies to a flood of mutating calls from an unprivileged caller. */
typedef struct {
    guint pending;     /* calls sent, not answered yet: the caller counts up */
    guint denied;      /* AccessDenied */
    guint busy;        /* Unavailable "try again" (a bound on waiting calls) */
    guint other;       /* anything else, the call's success included */
    char *first_other; /* the first of those (its message, or "accepted") */
} MbTestFlood;

/* The GAsyncReadyCallback of g_dbus_connection_call() for a flood
 * (user_data: the MbTestFlood): counts the reply. */
void mb_test_flood_reply(GObject *source, GAsyncResult *result, gpointer user_data);

#define ADD_BUS_TEST(path, func, args)                                                         \
    g_test_add("/service/bus/" path, Fixture, args, fixture_setup, func, fixture_teardown)

G_END_DECLS
