/* The three-VM TV scenario through the service with the fake backend:
 * the game grows, the video shrinks, seen as PropertiesChanged. */
#include <glib/gstdio.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include "mb-daemon.h"
#include "mb-dbus-generated.h"
#include "mb-error.h"
#include "mb-test-service.h"

/* ---- the TV scenario ---------------------------------------------------- */

typedef struct {
    GHashTable *first; /* name -> first AllocatedKiB seen */
    GHashTable *last;  /* name -> last AllocatedKiB seen */
    guint n_rebalanced;
    gint64 game_demand_max_kib;
    gint64 moves_sum_max_kib; /* a tick never hands out more than it takes */
} Scenario;

static void
on_scenario_props(GDBusObjectManagerClient *om, GDBusObjectProxy *object, GDBusProxy *iface,
                  GVariant *changed, const char *const *invalidated, gpointer user_data)
{
    Scenario *s = user_data;
    guint64 alloc;
    gint64 demand;

    if (!MB_IS_MEM_BALANCER_VM(iface))
        return;
    const char *name = mb_mem_balancer_vm_get_name(MB_MEM_BALANCER_VM(iface));
    if (g_variant_lookup(changed, "DemandKiB", "x", &demand) && g_str_equal(name, "tv-game"))
        s->game_demand_max_kib = MAX(s->game_demand_max_kib, demand);
    if (!g_variant_lookup(changed, "AllocatedKiB", "t", &alloc))
        return;
    g_hash_table_insert(s->last, g_strdup(name), g_memdup2(&alloc, sizeof(alloc)));
}

static void
on_rebalanced(MbMemBalancer *manager, GVariant *moves, gpointer user_data)
{
    Scenario *s = user_data;
    GVariantIter iter;
    const char *name;
    gint64 change, sum = 0;

    s->n_rebalanced++;
    g_variant_iter_init(&iter, moves);
    while (g_variant_iter_next(&iter, "(&sx)", &name, &change)) {
        g_assert_cmpint(change, !=, 0);
        sum += change;
    }
    s->moves_sum_max_kib = MAX(s->moves_sum_max_kib, sum);
}

static guint64
alloc_of(GHashTable *table, const char *name)
{
    guint64 *value = g_hash_table_lookup(table, name);
    return value != NULL ? *value : 0;
}

static gboolean
scenario_done(gpointer data)
{
    Scenario *s = data;

    return s->n_rebalanced > 0 &&
           alloc_of(s->last, "tv-game") > alloc_of(s->first, "tv-game") + 64 * 1024 &&
           alloc_of(s->last, "tv-video") > 0 &&
           alloc_of(s->last, "tv-video") < alloc_of(s->first, "tv-video");
}

static void
test_tv_scenario(Fixture *f, gconstpointer data)
{
    g_autofree char *path = mb_test_write_file(
        f->bus->dir, "tv.conf",
        "[membalancer]\ninterval=50\n"
        "[fake]\nalloc=512MiB\nmax=2GiB\ntv-game=game\ntv-video=video-playback\ntv-web=web\n");
    const char *const args[] = {"--config", path, NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusObjectManager) om = NULL;
    Scenario s = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
                  g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free), 0, 0,
                  G_MININT64};
    static const char *const names[] = {"tv-game", "tv-video", "tv-web"};

    fixture_start(f, args);
    om = mb_object_manager_client_new_sync(f->bus->connection,
                                           G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE, MB_BUS_NAME,
                                           MB_OBJECT_PATH, NULL, &error);
    g_assert_no_error(error);
    g_signal_connect(om, "interface-proxy-properties-changed", G_CALLBACK(on_scenario_props),
                     &s);
    g_signal_connect(f->manager, "rebalanced", G_CALLBACK(on_rebalanced), &s);
    g_free(
        register_vm(f, "tv-game", 80, one_option("foreground", g_variant_new_boolean(TRUE))));
    g_free(register_vm(f, "tv-video", 50, NULL));
    g_free(register_vm(f, "tv-web", 20, NULL));
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        guint64 start = 512 * 1024;
        g_hash_table_insert(s.first, g_strdup(names[i]), g_memdup2(&start, sizeof(start)));
    }
    g_assert_true(mb_test_wait_for(scenario_done, &s, 60000));
    g_test_message("game %" G_GUINT64_FORMAT " KiB, video %" G_GUINT64_FORMAT
                   " KiB, web %" G_GUINT64_FORMAT " KiB after %u rebalances",
                   alloc_of(s.last, "tv-game"), alloc_of(s.last, "tv-video"),
                   alloc_of(s.last, "tv-web"), s.n_rebalanced);
    g_assert_cmpint(s.game_demand_max_kib, >, 0);
    /* Auto pool: the VMs only trade what they have. */
    g_assert_cmpint(s.moves_sum_max_kib, <=, 0);
    /* The log says what moved and why. */
    g_autofree char *log = mb_test_daemon_log(f->daemon);
    g_assert_nonnull(strstr(log, "rebalanced: tv-game +"));
    g_assert_nonnull(strstr(log, "SIMULATED"));
    g_signal_handlers_disconnect_by_data(om, &s);
    g_signal_handlers_disconnect_by_data(f->manager, &s);
    g_hash_table_unref(s.first);
    g_hash_table_unref(s.last);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    (void)mb_service_error_quark();
    ADD_BUS_TEST("tv-scenario", test_tv_scenario, NULL);
    return g_test_run();
}
