/* membalancerd: options, config, the daemon, the loop. */
#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>

#include "mb-bus.h"
#include "mb-config.h"
#include "mb-daemon.h"
#include "mb-error.h"
#include "mb-log.h"

typedef struct {
    GMainLoop *loop;
    int status;
} Run;

static gboolean
on_signal(gpointer user_data)
{
    Run *run = user_data;

    mb_log(G_LOG_LEVEL_INFO, NULL, NULL, "stopping on a signal");
    g_main_loop_quit(run->loop);
    return G_SOURCE_CONTINUE;
}

static void
on_quit(gpointer user_data, const char *why)
{
    Run *run = user_data;

    mb_log(G_LOG_LEVEL_WARNING, NULL, NULL, "stopping: %s", why);
    run->status = 1;
    g_main_loop_quit(run->loop);
}

static void
die(const char *what, const GError *error)
{
    g_printerr("membalancerd: %s%s%s\n", what, what[0] != '\0' ? ": " : "", error->message);
}

int
main(int argc, char **argv)
{
    gboolean opt_system = FALSE, opt_session = FALSE, opt_version = FALSE;
    g_autofree char *opt_address = NULL, *opt_config = NULL, *opt_backend = NULL;
    g_autofree char *opt_state_dir = NULL, *opt_interval = NULL, *opt_policy = NULL;
    g_autofree char *opt_pool = NULL, *opt_reserve = NULL, *opt_alpha = NULL;
    g_autofree char *opt_min_step = NULL, *opt_group = NULL, *opt_libvirt_uri = NULL;
    const GOptionEntry entries[] = {
        {"system", 0, 0, G_OPTION_ARG_NONE, &opt_system, "Use the system bus (default)", NULL},
        {"session", 0, 0, G_OPTION_ARG_NONE, &opt_session, "Use the session bus", NULL},
        {"address", 0, 0, G_OPTION_ARG_STRING, &opt_address, "Use the bus at ADDR", "ADDR"},
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
         "Configuration file (default $CONFIGURATION_DIRECTORY/membalancer.conf or "
         "/etc/membalancer/membalancer.conf)",
         "FILE"},
        {"backend", 0, 0, G_OPTION_ARG_STRING, &opt_backend,
         "Hypervisor backend: libvirt or fake (simulated guests)", "NAME"},
        {"libvirt-uri", 0, 0, G_OPTION_ARG_STRING, &opt_libvirt_uri,
         "libvirt connection URI (default qemu:///system)", "URI"},
        {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
         "State directory (default $STATE_DIRECTORY or /var/lib/membalancer)", "DIR"},
        {"interval-ms", 0, 0, G_OPTION_ARG_STRING, &opt_interval, "Balancing interval", "MS"},
        {"policy", 0, 0, G_OPTION_ARG_STRING, &opt_policy, "balanced, paper, mom or static",
         "NAME"},
        {"pool", 0, 0, G_OPTION_ARG_STRING, &opt_pool, "Memory the VMs share (0: auto)",
         "SIZE"},
        {"reserve", 0, 0, G_OPTION_ARG_STRING, &opt_reserve, "Part of the pool kept back",
         "SIZE"},
        {"alpha", 0, 0, G_OPTION_ARG_STRING, &opt_alpha, "Prediction weight, (0, 1]", "A"},
        {"min-step", 0, 0, G_OPTION_ARG_STRING, &opt_min_step, "Smallest move", "SIZE"},
        {"group", 0, 0, G_OPTION_ARG_STRING, &opt_group, "Group allowed to change things",
         "NAME"},
        {"version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print the version", NULL},
        G_OPTION_ENTRY_NULL,
    };
    const struct {
        const char *option;
        const char *key;
        char **value;
    } overrides[] = {
        {"--backend", "backend", &opt_backend},
        {"--libvirt-uri", "libvirt-uri", &opt_libvirt_uri},
        {"--state-dir", "state-directory", &opt_state_dir},
        {"--interval-ms", "interval", &opt_interval},
        {"--policy", "policy", &opt_policy},
        {"--pool", "pool", &opt_pool},
        {"--reserve", "reserve", &opt_reserve},
        {"--alpha", "alpha", &opt_alpha},
        {"--min-step", "min-step", &opt_min_step},
        {"--group", "group", &opt_group},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("- memory balancer for TV VMs");
    g_autoptr(GError) error = NULL;
    g_autoptr(MbConfig) config = mb_config_new();
    g_autoptr(MbDaemon) daemon = NULL;
    g_autoptr(GDBusConnection) connection = NULL;
    g_autoptr(GMainLoop) loop = NULL;
    g_autofree char *config_path = NULL;
    Run run = {0};
    guint sigterm_id, sigint_id;

    setlocale(LC_ALL, "");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        die("", error);
        return 2;
    }
    if (opt_version) {
        g_print("membalancerd %s\n", MB_VERSION);
        return 0;
    }
    if ((opt_system + opt_session + (opt_address != NULL)) > 1) {
        g_printerr("membalancerd: use only one of --system, --session, --address\n");
        return 2;
    }
    (void)mb_service_error_quark();

    config_path = opt_config != NULL ? g_strdup(opt_config) : mb_config_default_path();
    if (!mb_config_load_file(config, config_path, opt_config != NULL, &error)) {
        die("invalid configuration", error);
        return 1;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(overrides); i++) {
        if (*overrides[i].value == NULL)
            continue;
        if (!mb_config_set(config, overrides[i].key, *overrides[i].value, overrides[i].option,
                           &error)) {
            die("invalid option", error);
            return 1;
        }
    }
    if (!mb_config_validate(config, "options", &error)) {
        die("invalid configuration", error);
        return 1;
    }

    daemon = mb_daemon_new(g_steal_pointer(&config), &error);
    if (daemon == NULL) {
        die("cannot start", error);
        return 1;
    }
    connection = mb_bus_connect(opt_address, opt_session, &error);
    if (connection == NULL) {
        die("cannot connect to the bus", error);
        return 1;
    }

    loop = g_main_loop_new(NULL, FALSE);
    run.loop = loop;
    mb_daemon_set_quit_func(daemon, on_quit, &run);
    /* Before the name is asked for: a client that sees it owned may stop
     * us at once (SIGTERM), and must find the handler in place. */
    sigterm_id = g_unix_signal_add(SIGTERM, on_signal, &run);
    sigint_id = g_unix_signal_add(SIGINT, on_signal, &run);
    if (!mb_daemon_start(daemon, connection, &error)) {
        die("cannot export the service", error);
        return 1;
    }
    /* polkitd serves the system bus: a caller's name elsewhere means nothing to it. */
    if (opt_address == NULL && !opt_session && mb_daemon_use_polkit(daemon))
        mb_log(G_LOG_LEVEL_MESSAGE, "MB_POLKIT", "used", "authorizing through polkit");
    g_main_loop_run(loop);
    g_source_remove(sigterm_id);
    g_source_remove(sigint_id);
    mb_daemon_stop(daemon);
    return run.status;
}
