/* membalancerctl: look at and steer membalancerd over D-Bus. main and the
 * commands that change things; membalancerctl.h lists the other parts. */
#include "membalancerctl.h"

/* ctl/meson.build passes it; the default keeps a bare compile working
 * (tests/i18n checks the built program has the configured LOCALEDIR). */
#ifndef MB_LOCALEDIR
#define MB_LOCALEDIR "/usr/local/share/locale"
#endif

#include <glib/gi18n-lib.h>
#include <locale.h>
#include <string.h>

#include "mb-bus.h"
#include "mb-names.h"
#include "mb-size.h"

/* What people read is translated (the membalancer domain, po/README.md);
 * what scripts read is not: --json, --kib, the paths register prints. */

static const char usage_text[] =
    /* TRANSLATORS: keep the commands and options (list, --json, ...), they
       are what is typed; NAME, N, SIZE as in the options' descriptions. */
    N_("COMMAND\n\n"
       "Commands:\n"
       "  list                               the registered VMs (--json, --kib)\n"
       "  status NAME                        one VM in detail (--json)\n"
       "  register NAME --priority N [--min SIZE] [--max SIZE] [--foreground]\n"
       "           [--update]                a registered VM is updated, not refused\n"
       "  unregister NAME\n"
       "  set-priority NAME N\n"
       "  set-limits NAME [--min SIZE] [--max SIZE]\n"
       "  set-foreground NAME\n"
       "  clear-foreground                   no VM is the foreground VM\n"
       "  pause | resume                     stop or restart periodic balancing\n"
       "  rebalance                          run one interval now\n"
       "  info                               the service's settings (--json)\n"
       "  watch                              a live table (--kib); Ctrl-C quits\n\n"
       "Sizes take KiB, MiB, GiB suffixes (a bare number is KiB). list and watch\n"
       "show sizes like free -h (512.0 MiB, 1.5 GiB); --kib prints whole KiB for\n"
       "scripts. --json always gives KiB.");

/* libmembalancer's errors carry the service's message alone (no D-Bus
 * error name): printed as they are. */
int
mb_ctl_fail(const char *what, GError *error)
{
    g_printerr("membalancerctl: %s%s%s\n", what, *what != '\0' ? ": " : "", error->message);
    return 1;
}

static int usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static int
usage_error(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    g_autofree char *message = g_strdup_vprintf(fmt, args);
    va_end(args);
    g_printerr("membalancerctl: %s\n%s\n", message, _("(see membalancerctl --help)"));
    return 2;
}

/* The client asked the bus to start the service (D-Bus activation,
 * systemd's unit on an installed system) when nobody owned its name. */
gboolean
mb_ctl_check_running(Ctl *ctl, GError **error)
{
    if (membalancer_client_get_running(ctl->client))
        return TRUE;
    g_set_error(error, MEMBALANCER_ERROR, MEMBALANCER_ERROR_NOT_RUNNING,
                _("membalancerd is not running on this bus (%s is not owned, nor "
                  "activatable)"),
                MB_BUS_NAME);
    return FALSE;
}

static int
cmd_set_paused(Ctl *ctl, gboolean paused)
{
    g_autoptr(GError) error = NULL;

    if (!mb_ctl_check_running(ctl, &error) ||
        !(paused ? membalancer_client_pause_sync
                 : membalancer_client_resume_sync)(ctl->client, NULL, &error))
        return mb_ctl_fail(paused ? "pause" : "resume", error);
    return 0;
}

/* set-limits: a limit not given is the VM's current one. */
static int
cmd_set_limits(Ctl *ctl, const char *name, const char *min_text, const char *max_text)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(MembalancerVm) vm = NULL;
    guint64 min_kib = 0, max_kib = 0;

    if (min_text != NULL && !mb_size_parse_kib(min_text, &min_kib, &error))
        return mb_ctl_fail("--min", error);
    if (max_text != NULL && !mb_size_parse_kib(max_text, &max_kib, &error))
        return mb_ctl_fail("--max", error);
    if (!mb_ctl_check_running(ctl, &error))
        return mb_ctl_fail("set-limits", error);
    /* Not registered: 0, and the service says NoSuchVM (or why the name is wrong). */
    vm = membalancer_client_lookup_vm(ctl->client, name);
    if (vm != NULL && min_text == NULL)
        min_kib = membalancer_vm_get_min_kib(vm);
    if (vm != NULL && max_text == NULL)
        max_kib = membalancer_vm_get_max_kib(vm);
    if (!membalancer_client_set_limits_sync(ctl->client, name, min_kib, max_kib, NULL, &error))
        return mb_ctl_fail("set-limits", error);
    return 0;
}

/* register: the options RegisterVM takes, each only when given (--min 0
 * is a minimum of 0, not the default); prints the VM's object path. */
static int
cmd_register(Ctl *ctl, const char *name, guint priority, const char *min_text,
             const char *max_text, gboolean foreground, gboolean update)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(MembalancerVm) vm = NULL;
    g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
    guint64 kib;

    if (min_text != NULL) {
        if (!mb_size_parse_kib(min_text, &kib, &error))
            return mb_ctl_fail("--min", error);
        g_variant_builder_add(&options, "{sv}", "min-kib", g_variant_new_uint64(kib));
    }
    if (max_text != NULL) {
        if (!mb_size_parse_kib(max_text, &kib, &error))
            return mb_ctl_fail("--max", error);
        g_variant_builder_add(&options, "{sv}", "max-kib", g_variant_new_uint64(kib));
    }
    if (foreground)
        g_variant_builder_add(&options, "{sv}", "foreground", g_variant_new_boolean(TRUE));
    if (!mb_ctl_check_running(ctl, &error))
        return mb_ctl_fail("register", error);
    vm = membalancer_client_register_vm_full_sync(
        ctl->client, name, priority, g_variant_builder_end(&options), update, NULL, &error);
    if (vm == NULL)
        return mb_ctl_fail("register", error);
    g_print("%s\n", membalancer_vm_get_object_path(vm));
    return 0;
}

static gboolean
parse_priority(const char *text, guint *out)
{
    guint64 value;

    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32, &value, NULL))
        return FALSE;
    *out = (guint)value;
    return TRUE;
}

/* The catalogue from LOCALEDIR, or from $MB_LOCALEDIR (the build tree's po/
 * in tests; po/README.md). No number is formatted differently for it. */
static void
bind_translations(void)
{
    const char *dir = g_getenv("MB_LOCALEDIR");

    bindtextdomain(GETTEXT_PACKAGE, dir != NULL && *dir != '\0' ? dir : MB_LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
}

int
main(int argc, char **argv)
{
    gboolean opt_system = FALSE, opt_session = FALSE, opt_json = FALSE, opt_kib = FALSE;
    gboolean opt_foreground = FALSE, opt_version = FALSE, opt_update = FALSE;
    g_autofree char *opt_address = NULL, *opt_priority = NULL, *opt_min = NULL, *opt_max = NULL;
    const GOptionEntry entries[] = {
        {"system", 0, 0, G_OPTION_ARG_NONE, &opt_system, N_("Use the system bus (default)"),
         NULL},
        {"session", 0, 0, G_OPTION_ARG_NONE, &opt_session, N_("Use the session bus"), NULL},
        {"address", 0, 0, G_OPTION_ARG_STRING, &opt_address, N_("Use the bus at ADDR"),
         N_("ADDR")},
        {"json", 0, 0, G_OPTION_ARG_NONE, &opt_json, N_("JSON output (list, status, info)"),
         NULL},
        {"kib", 0, 0, G_OPTION_ARG_NONE, &opt_kib, N_("Sizes as whole KiB (list, watch)"),
         NULL},
        {"priority", 'p', 0, G_OPTION_ARG_STRING, &opt_priority, N_("register: priority 0-100"),
         N_("N")},
        {"min", 0, 0, G_OPTION_ARG_STRING, &opt_min,
         N_("register, set-limits: guaranteed minimum"), N_("SIZE")},
        {"max", 0, 0, G_OPTION_ARG_STRING, &opt_max, N_("register, set-limits: maximum"),
         N_("SIZE")},
        {"foreground", 0, 0, G_OPTION_ARG_NONE, &opt_foreground, N_("register: foreground VM"),
         NULL},
        {"update", 0, 0, G_OPTION_ARG_NONE, &opt_update,
         N_("register: update the VM if it is registered"), NULL},
        {"version", 0, 0, G_OPTION_ARG_NONE, &opt_version, N_("Print the version and exit"),
         NULL},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) context = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) connection = NULL;
    g_autoptr(MembalancerClient) client = NULL;
    Ctl ctl = {0};
    const char *command;

    setlocale(LC_ALL, "");
    bind_translations();
    context = g_option_context_new(usage_text);
    /* The context translates the usage text, the main group the options. */
    g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
    g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
    if (!g_option_context_parse(context, &argc, &argv, &error))
        return usage_error("%s", error->message);
    if (opt_version) {
        g_print("membalancerctl %s\n", MB_VERSION);
        return 0;
    }
    if (argc < 2)
        return usage_error("%s", _("missing command"));
    if ((opt_system + opt_session + (opt_address != NULL)) > 1)
        return usage_error("%s", _("use only one of --system, --session, --address"));
    command = argv[1];

    connection = mb_bus_connect(opt_address, opt_session, &error);
    if (connection == NULL)
        return mb_ctl_fail(_("cannot connect to the bus"), error);
    /* Made whether the service runs or not: each command says so when it
     * needs it, after its own arguments were checked. */
    client = membalancer_client_new_for_connection_sync(connection, NULL, &error);
    if (client == NULL)
        return mb_ctl_fail(command, error);
    ctl.client = client;
    ctl.json = opt_json;
    ctl.kib = opt_kib;

#define NEED_ARGS(n, what)                                                                     \
    do {                                                                                       \
        if (argc != (n) + 2)                                                                   \
            return usage_error(_("usage: membalancerctl %s"), what);                           \
    } while (0)

    if (g_str_equal(command, "list")) {
        NEED_ARGS(0, "list [--json | --kib]");
        return mb_ctl_list(&ctl);
    }
    if (g_str_equal(command, "status")) {
        NEED_ARGS(1, "status NAME [--json]");
        return mb_ctl_status(&ctl, argv[2]);
    }
    if (g_str_equal(command, "info")) {
        NEED_ARGS(0, "info [--json]");
        return mb_ctl_info(&ctl);
    }
    if (g_str_equal(command, "watch")) {
        NEED_ARGS(0, "watch [--kib]");
        return mb_ctl_watch(&ctl);
    }
    if (g_str_equal(command, "pause") || g_str_equal(command, "resume")) {
        NEED_ARGS(0, "pause | resume");
        return cmd_set_paused(&ctl, g_str_equal(command, "pause"));
    }
    if (g_str_equal(command, "register")) {
        guint priority;

        NEED_ARGS(1, "register NAME --priority N [--min SIZE] [--max SIZE] [--foreground] "
                     "[--update]");
        if (opt_priority == NULL)
            return usage_error("%s", _("register needs --priority N (0-100)"));
        if (!parse_priority(opt_priority, &priority))
            return usage_error(_("'%s' is not a priority (0-100)"), opt_priority);
        return cmd_register(&ctl, argv[2], priority, opt_min, opt_max, opt_foreground,
                            opt_update);
    }
    if (g_str_equal(command, "unregister")) {
        NEED_ARGS(1, "unregister NAME");
        if (!mb_ctl_check_running(&ctl, &error) ||
            !membalancer_client_unregister_vm_sync(client, argv[2], NULL, &error))
            return mb_ctl_fail("unregister", error);
        return 0;
    }
    if (g_str_equal(command, "set-priority")) {
        guint priority;

        NEED_ARGS(2, "set-priority NAME N");
        if (!parse_priority(argv[3], &priority))
            return usage_error(_("'%s' is not a priority (0-100)"), argv[3]);
        if (!mb_ctl_check_running(&ctl, &error) ||
            !membalancer_client_set_priority_sync(client, argv[2], priority, NULL, &error))
            return mb_ctl_fail("set-priority", error);
        return 0;
    }
    if (g_str_equal(command, "set-foreground")) {
        NEED_ARGS(1, "set-foreground NAME");
        if (!mb_ctl_check_running(&ctl, &error) ||
            !membalancer_client_set_foreground_sync(client, argv[2], NULL, &error))
            return mb_ctl_fail("set-foreground", error);
        return 0;
    }
    if (g_str_equal(command, "set-limits")) {
        NEED_ARGS(1, "set-limits NAME [--min SIZE] [--max SIZE]");
        if (opt_min == NULL && opt_max == NULL)
            return usage_error("%s", _("set-limits needs --min SIZE, --max SIZE or both"));
        return cmd_set_limits(&ctl, argv[2], opt_min, opt_max);
    }
    if (g_str_equal(command, "clear-foreground")) {
        NEED_ARGS(0, "clear-foreground");
        if (!mb_ctl_check_running(&ctl, &error) ||
            !membalancer_client_clear_foreground_sync(client, NULL, &error))
            return mb_ctl_fail("clear-foreground", error);
        return 0;
    }
    if (g_str_equal(command, "rebalance")) {
        NEED_ARGS(0, "rebalance");
        if (!mb_ctl_check_running(&ctl, &error) ||
            !membalancer_client_rebalance_sync(client, NULL, &error))
            return mb_ctl_fail("rebalance", error);
        return 0;
    }
    return usage_error(_("unknown command '%s'"), command);
}
