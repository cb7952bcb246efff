/* membalancerctl against the real service: commands, JSON (parsed, under a
 * decimal-comma locale), the table's alignment and sizes, errors, watch. */
#include <glib/gstdio.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "mb-daemon.h"
#include "mb-dbus-generated.h"
#include "mb-error.h"
#include "mb-size.h"
#include "mb-test-ctl.h"
#include "mb-test-service.h"

/* ---- sizes as the client prints them ----------------------------------- */

static void
test_size_format(void)
{
    static const struct {
        guint64 kib;
        const char *exact, *one_decimal;
    } cases[] = {
        {0, "0 KiB", "0 KiB"},
        {300, "300 KiB", "300 KiB"},
        {1023, "1023 KiB", "1023 KiB"},
        {1024, "1 MiB", "1.0 MiB"},
        {1536, "1.5 MiB", "1.5 MiB"},
        {1025, "1.0 MiB", "1.0 MiB"},
        {512 * 1024, "512 MiB", "512.0 MiB"},
        {1048524, "1023.9 MiB", "1023.9 MiB"},
        /* 1023.95 MiB rounds to 1024.0 MiB: that is 1.0 GiB. */
        {1048525, "1.0 GiB", "1.0 GiB"},
        {1048575, "1.0 GiB", "1.0 GiB"},
        {1024 * 1024, "1 GiB", "1.0 GiB"},
        {1536 * 1024, "1.5 GiB", "1.5 GiB"},
        {3 * 1024 * 1024, "3 GiB", "3.0 GiB"},
        {G_GUINT64_CONSTANT(1) << 30, "1 TiB", "1.0 TiB"},
        {G_MAXUINT64, "17179869184.0 TiB", "17179869184.0 TiB"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *exact = mb_size_format_kib(cases[i].kib);
        g_autofree char *one = mb_size_format_kib_1dp(cases[i].kib);
        guint64 parsed = 0;

        g_test_message("%" G_GUINT64_FORMAT " KiB -> %s, %s", cases[i].kib, exact, one);
        g_assert_cmpstr(exact, ==, cases[i].exact);
        g_assert_cmpstr(one, ==, cases[i].one_decimal);
        /* One grammar: a whole size reads back as what it was. */
        if (strchr(exact, '.') == NULL) {
            g_assert_true(mb_size_parse_kib(exact, &parsed, NULL));
            g_assert_cmpuint(parsed, ==, cases[i].kib);
        }
    }

    static const struct {
        gint64 kib;
        const char *text;
    } deltas[] = {
        {0, "0 KiB"},
        {-300, "-300 KiB"},
        {1536, "1.5 MiB"},
        {-1536, "-1.5 MiB"},
        {G_MININT64, "-8589934592.0 TiB"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(deltas); i++) {
        g_autofree char *text = mb_size_format_delta_kib_1dp(deltas[i].kib);
        g_assert_cmpstr(text, ==, deltas[i].text);
    }
}

/* ---- membalancerctl ----------------------------------------------------- */

/* The words of the first line, one space apart. */
static char *
header_words(const char *out)
{
    g_autofree char *line = g_strndup(out, strcspn(out, "\n"));
    g_auto(GStrv) words = g_strsplit_set(line, " ", -1);
    g_autoptr(GString) joined = g_string_new(NULL);

    for (gsize i = 0; words[i] != NULL; i++) {
        if (words[i][0] == '\0')
            continue;
        if (joined->len > 0)
            g_string_append_c(joined, ' ');
        g_string_append(joined, words[i]);
    }
    return g_string_free(g_steal_pointer(&joined), FALSE);
}

/* A command line that fails: its exit status, how its one line begins. */
typedef struct {
    const char *const argv[12];
    int status;
    const char *message;
} BadCall;

static void
expect_errors(const BadCall *bad, gsize n)
{
    for (gsize i = 0; i < n; i++) {
        g_autofree char *e = NULL;
        int s = mb_test_run(FALSE, bad[i].argv, NULL, &e);
        g_test_message("%s -> %d %s", bad[i].argv[3], s, e);
        g_assert_cmpint(s, ==, bad[i].status);
        g_assert_true(g_str_has_prefix(e, bad[i].message));
    }
}

static void
test_ctl(Fixture *f, gconstpointer data)
{
    const char *a = f->bus->address;
    const char *ctl = mb_test_ctl_path();
    g_autofree char *out = NULL, *err = NULL, *titles = NULL;

    const char *const reg[] = {ctl,          "--address",    a,       "register", "game",
                               "--priority", "70",           "--min", "256MiB",   "--max",
                               "1GiB",       "--foreground", NULL};
    out = run_ok(FALSE, reg);
    g_assert_cmpstr(out, ==, "/org/smarttv/MemBalancer/vm/game\n");
    g_clear_pointer(&out, g_free);
    const char *const reg2[] = {ctl, "--address", a, "register", "web", "-p", "5", NULL};
    g_free(run_ok(FALSE, reg2));
    const char *const prio[] = {ctl, "--address", a, "set-priority", "web", "9", NULL};
    g_free(run_ok(FALSE, prio));
    const char *const fg[] = {ctl, "--address", a, "set-foreground", "web", NULL};
    g_free(run_ok(FALSE, fg));
    const char *const pause[] = {ctl, "--address", a, "pause", NULL};
    g_free(run_ok(FALSE, pause));
    g_assert_true(
        mb_mem_balancer_get_paused(f->manager) ||
        mb_test_wait_for((gboolean(*)(gpointer))mb_mem_balancer_get_paused, f->manager, 5000));
    const char *const resume[] = {ctl, "--address", a, "resume", NULL};
    g_free(run_ok(FALSE, resume));
    const char *const rebalance[] = {ctl, "--address", a, "rebalance", NULL};
    g_free(run_ok(FALSE, rebalance));

    const char *const list[] = {ctl, "--address", a, "list", NULL};
    out = run_ok(FALSE, list);
    g_assert_true(g_str_has_prefix(out, "NAME"));
    g_assert_nonnull(strstr(out, "game"));
    g_assert_nonnull(strstr(out, "web"));
    /* Sizes as people read them: game's --min and --max. */
    g_assert_nonnull(strstr(out, " 256.0 MiB "));
    g_assert_nonnull(strstr(out, " 1.0 GiB "));
    g_assert_null(strstr(out, "262144"));
    /* The state, and the demand's trend in words (rebalance ran once: no
     * prediction yet, so steady, or no statistics). */
    g_assert_true(g_str_has_prefix(out, "NAME PRIO FG STATE "));
    g_assert_nonnull(strstr(out, " running "));
    g_assert_true(g_regex_match_simple("\\n[^\\n]* (steady|-|grows [0-9.]+ [KMG]iB|"
                                       "shrinks [0-9.]+ [KMG]iB) ",
                                       out, 0, 0));
    g_assert_null(strstr(out, "DEMAND"));
    g_assert_null(strstr(out, "(balancing"));
    g_clear_pointer(&out, g_free);
    const char *const list_kib[] = {ctl, "--address", a, "list", "--kib", NULL};
    out = run_ok(FALSE, list_kib);
    /* Every size column says its unit, as ALLOC_KIB always did. */
    titles = header_words(out);
    g_assert_cmpstr(titles, ==,
                    "NAME PRIO FG STATE ALLOC_KIB MIN_KIB MAX_KIB DEMAND_CHANGE_KIB "
                    "RECLAIM_KIB SWAPOUT_KIB STATS LAST");
    g_assert_nonnull(strstr(out, " 262144 "));
    g_assert_nonnull(strstr(out, " 1048576 "));
    g_assert_null(strstr(out, "MiB"));
    g_clear_pointer(&out, g_free);
    /* JSON keeps KiB (test_ctl_json checks every field). */
    const char *const list_json[] = {ctl, "--address", a, "list", "--json", NULL};
    out = run_ok(FALSE, list_json);
    g_assert_true(g_str_has_prefix(out, "[{\"name\":\"game\",\"priority\":70,"
                                        "\"foreground\":false,"
                                        "\"min_kib\":262144,\"max_kib\":1048576,"));
    g_clear_pointer(&out, g_free);
    const char *const status[] = {ctl, "--address", a, "status", "web", "--json", NULL};
    out = run_ok(FALSE, status);
    g_assert_true(
        g_str_has_prefix(out, "{\"name\":\"web\",\"priority\":9,\"foreground\":true,"));
    g_clear_pointer(&out, g_free);
    const char *const status_text[] = {ctl, "--address", a, "status", "game", NULL};
    out = run_ok(FALSE, status_text);
    g_assert_nonnull(strstr(out, "maximum:         1 GiB"));
    g_assert_nonnull(strstr(out, "\n  state:           running\n"));
    g_assert_nonnull(strstr(out, "\n  hypervisor:      connected\n"));
    /* The trend as a size per interval, never raw KiB. */
    g_assert_true(g_regex_match_simple("\\n  demand: +(-|steady per interval|(grows|shrinks) "
                                       "[0-9.]+ [KMGT]iB per interval)\\n",
                                       out, 0, 0));
    g_clear_pointer(&out, g_free);
    const char *const info[] = {ctl, "--address", a, "info", "--json", NULL};
    out = run_ok(FALSE, info);
    g_assert_nonnull(strstr(out, "\"backend\":\"fake\""));
    g_assert_nonnull(strstr(out, "\"connected\":true"));
    g_clear_pointer(&out, g_free);
    /* The pool as a size like every other, and the hypervisor. */
    const char *const info_text[] = {ctl, "--address", a, "info", NULL};
    out = run_ok(FALSE, info_text);
    g_assert_true(g_regex_match_simple(
        "\\npool: +[0-9.]+ [KMGT]iB \\(reserve [0-9.]+ [KMGT]iB\\)\\n", out, 0, 0));
    g_assert_nonnull(strstr(out, "\nhypervisor: connected\n"));
    g_clear_pointer(&out, g_free);

    /* Errors: one line, non-zero. */
    const BadCall bad[] = {
        {{ctl, "--address", a, "register", "game", "--priority", "1", NULL},
         1,
         "membalancerctl: register: VM 'game' is already registered"},
        {{ctl, "--address", a, "register", "x", "--priority", "101", NULL},
         1,
         "membalancerctl: register: priority 101 is out of range"},
        {{ctl, "--address", a, "register", "x", "--priority", "1", "--min", "2GiB", "--max",
          "1GiB", NULL},
         1,
         "membalancerctl: register: min-kib 2097152 is above max-kib 1048576"},
        {{ctl, "--address", a, "register", "x", "--priority", "1", "--min", "lots", NULL},
         1,
         "membalancerctl: --min: 'lots' is not a size"},
        {{ctl, "--address", a, "unregister", "ghost", NULL},
         1,
         "membalancerctl: unregister: no VM named 'ghost' is registered"},
        {{ctl, "--address", a, "status", "ghost", NULL},
         1,
         "membalancerctl: status: no VM named 'ghost' is registered"},
        {{ctl, "--address", a, "set-priority", "game", "many", NULL},
         2,
         "membalancerctl: 'many' is not a priority"},
        {{ctl, "--address", a, "frobnicate", NULL}, 2, "membalancerctl: unknown command"},
        {{ctl, "--address", "unix:path=/nonexistent/bus", "list", NULL},
         1,
         "membalancerctl: cannot connect to the bus"},
    };
    expect_errors(bad, G_N_ELEMENTS(bad));
    const char *const unreg[] = {ctl, "--address", a, "unregister", "game", NULL};
    g_free(run_ok(FALSE, unreg));
    g_free(err);
}

/* set-limits, clear-foreground, register --update: the service has the
 * change (and its state file), errors are one line. */
static void
test_ctl_settings(Fixture *f, gconstpointer data)
{
    const char *a = f->bus->address;
    const char *ctl = mb_test_ctl_path();
    g_autofree char *out = NULL, *snapshot = NULL;

    const char *const reg[] = {ctl,  "--address",    a,   "register", "game", "--priority",
                               "70", "--foreground", NULL};
    g_free(run_ok(FALSE, reg));
    const char *const max[] = {ctl,    "--address", a,      "set-limits",
                               "game", "--max",     "1GiB", NULL};
    g_free(run_ok(FALSE, max));
    snapshot = settings_snapshot(f);
    g_assert_nonnull(strstr(snapshot, "vm/game game 70 1 262144 1048576\n")); /* min kept */
    g_clear_pointer(&snapshot, g_free);
    const char *const both[] = {ctl,     "--address", a,       "set-limits", "game",
                                "--min", "300MiB",    "--max", "900MiB",     NULL};
    g_free(run_ok(FALSE, both));
    const char *const clear[] = {ctl, "--address", a, "clear-foreground", NULL};
    g_free(run_ok(FALSE, clear));
    snapshot = settings_snapshot(f);
    g_assert_nonnull(strstr(snapshot, "vm/game game 70 0 307200 921600\n"));
    g_clear_pointer(&snapshot, g_free);

    /* register --update: registered or not, the path, no error. */
    const char *const update[] = {ctl,        "--address",  a,    "register",
                                  "game",     "--priority", "40", "--foreground",
                                  "--update", NULL};
    out = run_ok(FALSE, update);
    g_assert_cmpstr(out, ==, "/org/smarttv/MemBalancer/vm/game\n");
    g_clear_pointer(&out, g_free);
    const char *const fresh[] = {ctl,          "--address", a,          "register", "web",
                                 "--priority", "5",         "--update", NULL};
    out = run_ok(FALSE, fresh);
    g_assert_cmpstr(out, ==, "/org/smarttv/MemBalancer/vm/web\n");
    snapshot = settings_snapshot(f);
    g_assert_nonnull(strstr(snapshot, "vm/game game 40 1 307200 921600\n"));
    g_assert_nonnull(strstr(snapshot, "vm/web web 5 0 "));

    const BadCall bad[] = {
        {{ctl, "--address", a, "set-limits", "game", NULL},
         2,
         "membalancerctl: set-limits needs --min SIZE, --max SIZE or both"},
        {{ctl, "--address", a, "set-limits", "ghost", "--min", "1MiB", NULL},
         1,
         "membalancerctl: set-limits: no VM named 'ghost' is registered"},
        {{ctl, "--address", a, "set-limits", "game", "--min", "1GiB", NULL},
         1,
         "membalancerctl: set-limits: min-kib 1048576 is above max-kib 921600"},
        {{ctl, "--address", a, "set-limits", "game", "--max", "lots", NULL},
         1,
         "membalancerctl: --max: 'lots' is not a size"},
        {{ctl, "--address", a, "clear-foreground", "game", NULL},
         2,
         "membalancerctl: usage: membalancerctl clear-foreground"},
    };
    expect_errors(bad, G_N_ELEMENTS(bad));
    g_autofree char *after = settings_snapshot(f);
    g_assert_cmpstr(snapshot, ==, after);
}

static void
test_ctl_no_service(Fixture *f, gconstpointer data)
{
    const char *const list[] = {mb_test_ctl_path(), "--address", f->bus->address, "list", NULL};
    g_autofree char *err = NULL;

    g_assert_cmpint(mb_test_run(FALSE, list, NULL, &err), ==, 1);
    g_assert_nonnull(strstr(err, "membalancerd is not running"));
}

/* ---- JSON ----------------------------------------------------------------- */

/* Ticks only on Rebalance (the interval is an hour); alpha 0.3 is "0,3" in
 * German. */
static const char *const json_args[] = {"--interval-ms", "3600000", "--alpha", "0.3", NULL};

/* argv after "env LC_ALL=de_DE.UTF-8 LOCPATH=...", run as root. */
static char *
run_in_german(const char *locpath, const char *const *argv)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(all, g_strdup("env"));
    g_ptr_array_add(all, g_strdup("LC_ALL=de_DE.UTF-8"));
    g_ptr_array_add(all, g_strconcat("LOCPATH=", locpath, NULL));
    for (gsize i = 0; argv[i] != NULL; i++)
        g_ptr_array_add(all, g_strdup(argv[i]));
    g_ptr_array_add(all, NULL);
    return run_ok(FALSE, (const char *const *)all->pdata);
}

static GVariant *
get_all(Fixture *f, const char *path, const char *iface)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        f->bus->connection, MB_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
        g_variant_new("(s)", iface), G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, 5000,
        NULL, &error);

    g_assert_no_error(error);
    return g_variant_get_child_value(reply, 0);
}

typedef struct {
    const char *member;
    const char *property; /* NULL: the object path */
} Field;

/* The client's JSON fields, in order, and the properties they show. */
static const Field vm_fields[] = {
    {"name", "Name"},
    {"priority", "Priority"},
    {"foreground", "Foreground"},
    {"min_kib", "MinKiB"},
    {"max_kib", "MaxKiB"},
    {"allocated_kib", "AllocatedKiB"},
    {"demand_kib", "DemandKiB"},
    {"reclaimable_kib", "ReclaimableKiB"},
    {"active_anon_kib", "ActiveAnonKiB"},
    {"active_file_kib", "ActiveFileKiB"},
    {"inactive_file_kib", "InactiveFileKiB"},
    {"free_kib", "FreeKiB"},
    {"swap_out_kib", "SwapOutKiB"},
    {"stats_source", "StatsSource"},
    {"last_update_us", "LastUpdate"},
    {"last_reason", "LastReason"},
    {"path", NULL},
    {"state", "State"},
    {"demand_change_kib", "DemandKiB"},
    {"connected", "Connected"}, /* the manager's */
};

static const Field info_fields[] = {
    {"version", "Version"},        {"pool_kib", "PoolKiB"}, {"reserve_kib", "ReserveKiB"},
    {"interval_ms", "IntervalMs"}, {"alpha", "Alpha"},      {"policy", "Policy"},
    {"paused", "Paused"},          {"backend", "Backend"},  {"vm_count", "VMCount"},
    {"connected", "Connected"},
};

/* Every member, in order, of the type and value of its property (the
 * manager's where the object has none). */
static void
assert_object(JsonNode *node, const Field *fields, gsize n_fields, GVariant *props,
              GVariant *manager_props, const char *path)
{
    JsonObject *object;
    g_autoptr(GList) members = NULL;
    GList *l;

    g_assert_cmpint(JSON_NODE_TYPE(node), ==, JSON_NODE_OBJECT);
    object = json_node_get_object(node);
    members = json_object_get_members(object);
    g_assert_cmpuint(g_list_length(members), ==, n_fields);
    l = members;
    for (gsize i = 0; i < n_fields; i++, l = l->next) {
        JsonNode *member = json_object_get_member(object, fields[i].member);
        g_autoptr(GVariant) value = NULL;

        g_test_message("member %s", fields[i].member);
        g_assert_cmpstr(l->data, ==, fields[i].member);
        g_assert_nonnull(member);
        g_assert_cmpint(JSON_NODE_TYPE(member), ==, JSON_NODE_VALUE);
        if (fields[i].property == NULL) {
            g_assert_true(json_node_get_value_type(member) == G_TYPE_STRING);
            g_assert_cmpstr(json_node_get_string(member), ==, path);
            continue;
        }
        value = g_variant_lookup_value(props, fields[i].property, NULL);
        if (value == NULL && manager_props != NULL)
            value = g_variant_lookup_value(manager_props, fields[i].property, NULL);
        g_assert_nonnull(value);
        switch (g_variant_classify(value)) {
        case G_VARIANT_CLASS_STRING:
            g_assert_true(json_node_get_value_type(member) == G_TYPE_STRING);
            g_assert_cmpstr(json_node_get_string(member), ==,
                            g_variant_get_string(value, NULL));
            break;
        case G_VARIANT_CLASS_BOOLEAN:
            g_assert_true(json_node_get_value_type(member) == G_TYPE_BOOLEAN);
            g_assert_cmpint(json_node_get_boolean(member), ==, g_variant_get_boolean(value));
            break;
        case G_VARIANT_CLASS_UINT32:
            g_assert_true(json_node_get_value_type(member) == G_TYPE_INT64);
            g_assert_cmpint(json_node_get_int(member), ==, g_variant_get_uint32(value));
            break;
        case G_VARIANT_CLASS_UINT64:
            g_assert_true(json_node_get_value_type(member) == G_TYPE_INT64);
            g_assert_cmpint(json_node_get_int(member), >=, 0);
            g_assert_cmpuint((guint64)json_node_get_int(member), ==,
                             g_variant_get_uint64(value));
            break;
        case G_VARIANT_CLASS_INT64:
            g_assert_true(json_node_get_value_type(member) == G_TYPE_INT64);
            g_assert_cmpint(json_node_get_int(member), ==, g_variant_get_int64(value));
            break;
        case G_VARIANT_CLASS_DOUBLE:
            g_assert_true(json_node_get_value_type(member) == G_TYPE_DOUBLE);
            g_assert_cmpfloat(json_node_get_double(member), ==, g_variant_get_double(value));
            break;
        default:
            g_assert_not_reached();
        }
    }
}

/* A name that needs escaping in JSON and is not ASCII. */
static const char odd_name[] = "tv \"lounge\" \\ t\u00e9l\u00e9";

/* list, status and info --json parse, and show every property as it is,
 * also where the locale writes 0,3 for 0.3. */
static void
test_ctl_json(Fixture *f, gconstpointer data)
{
    const char *a = f->bus->address;
    const char *ctl = mb_test_ctl_path();
    g_autofree char *locpath = NULL;
    g_autofree char *game = register_vm(f, "game", 70, min_max(256 * 1024, 1024 * 1024));
    g_autofree char *odd = register_vm(f, odd_name, 5, NULL);
    g_autofree char *out = NULL;
    g_autoptr(JsonNode) root = NULL;
    g_autoptr(GVariant) game_props = NULL, odd_props = NULL, info_props = NULL;

    locpath = mb_test_german_locale(f->bus->dir);
    g_test_message("LOCPATH %s", locpath);
    /* Two intervals make statistics and a demand; the next is an hour away. */
    for (int i = 0; i < 2; i++)
        g_assert_true(mb_mem_balancer_call_rebalance_sync(f->manager, NULL, NULL));
    game_props = get_all(f, game, VM_IFACE);
    odd_props = get_all(f, odd, VM_IFACE);
    info_props = get_all(f, MB_OBJECT_PATH, MANAGER_IFACE);

    /* The children do write a decimal comma where the format is theirs. */
    const char *const info_text[] = {ctl, "--address", a, "info", NULL};
    out = run_in_german(locpath, info_text);
    g_assert_nonnull(strstr(out, "(alpha 0,3)"));
    g_clear_pointer(&out, g_free);

    const char *const list[] = {ctl, "--address", a, "list", "--json", NULL};
    out = run_in_german(locpath, list);
    root = mb_test_parse_json(out);
    g_assert_cmpint(JSON_NODE_TYPE(root), ==, JSON_NODE_ARRAY);
    g_assert_cmpuint(json_array_get_length(json_node_get_array(root)), ==, 2);
    /* Sorted by name: "game" < "tv ...". */
    assert_object(json_array_get_element(json_node_get_array(root), 0), vm_fields,
                  G_N_ELEMENTS(vm_fields), game_props, info_props, game);
    assert_object(json_array_get_element(json_node_get_array(root), 1), vm_fields,
                  G_N_ELEMENTS(vm_fields), odd_props, info_props, odd);
    g_clear_pointer(&root, json_node_unref);
    g_clear_pointer(&out, g_free);

    const char *const status[] = {ctl, "--address", a, "status", odd_name, "--json", NULL};
    out = run_in_german(locpath, status);
    root = mb_test_parse_json(out);
    assert_object(root, vm_fields, G_N_ELEMENTS(vm_fields), odd_props, info_props, odd);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(root), "name"), ==,
                    odd_name);
    g_clear_pointer(&root, json_node_unref);
    g_clear_pointer(&out, g_free);

    const char *const info[] = {ctl, "--address", a, "info", "--json", NULL};
    out = run_in_german(locpath, info);
    root = mb_test_parse_json(out);
    assert_object(root, info_fields, G_N_ELEMENTS(info_fields), info_props, NULL, NULL);
    g_assert_cmpfloat(json_object_get_double_member(json_node_get_object(root), "alpha"), ==,
                      0.3);
    g_assert_cmpint(json_object_get_int_member(json_node_get_object(root), "vm_count"), ==, 2);
}

/* ---- the table --------------------------------------------------------------- */

typedef struct {
    const char *name;
    gsize width; /* in terminal columns */
} Name;

/* A row with its name replaced by as many 'N's as the name is wide: the
 * rest of a row is ASCII, so bytes are columns. */
static char *
columns_of(const char *line, const Name *names, gsize n_names)
{
    for (gsize i = 0; i < n_names; i++) {
        const char *rest = line + strlen(names[i].name);

        if (g_str_has_prefix(line, names[i].name) && *rest == ' ') {
            g_autofree char *ns = g_strnfill(names[i].width, 'N');
            for (const char *p = rest; *p != '\0'; p++)
                g_assert_cmpint((guchar)*p, <, 0x80);
            return g_strconcat(ns, rest, NULL);
        }
    }
    g_assert_true(g_str_is_ascii(line));
    return g_strdup(line);
}

/* Every row has each column's text at the header's edge: left-aligned
 * columns start where their title starts, the others end where it ends. */
static void
assert_aligned(const char *out, const Name *names, gsize n_names, guint n_rows)
{
    static const char *const left[] = {"NAME", "STATE", "STATS", "LAST", NULL};
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    g_autofree char *header = NULL;
    gsize starts[16], ends[16], n = 0;
    gboolean is_left[16];
    guint rows = 0;

    g_test_message("table:\n%s", out);
    header = columns_of(lines[0], names, n_names);
    g_assert_true(g_str_has_prefix(header, "NAME "));
    for (gsize i = 0; header[i] != '\0';) {
        if (header[i] == ' ') {
            i++;
            continue;
        }
        g_assert_cmpuint(n, <, G_N_ELEMENTS(starts));
        starts[n] = i;
        while (header[i] != '\0' && header[i] != ' ')
            i++;
        ends[n] = i;
        g_autofree char *title = g_strndup(header + starts[n], ends[n] - starts[n]);
        is_left[n] = g_strv_contains(left, title);
        n++;
    }
    g_assert_cmpuint(n, ==, 12);
    for (guint l = 1; lines[l] != NULL && lines[l][0] != '\0'; l++) {
        g_autofree char *row = columns_of(lines[l], names, n_names);
        gsize len = strlen(row);

        rows++;
        for (gsize c = 0; c < n; c++) {
            g_test_message("row %u column %" G_GSIZE_FORMAT, l, c);
            if (is_left[c]) {
                g_assert_cmpuint(starts[c], <, len);
                g_assert_cmpint(row[starts[c]], !=, ' ');
                g_assert_true(starts[c] == 0 || row[starts[c] - 1] == ' ');
            } else {
                g_assert_cmpuint(ends[c], <=, len);
                /* FG is blank in a background VM's row. */
                g_assert_true(row[ends[c] - 1] != ' ' || c == 2);
                g_assert_true(ends[c] == len || row[ends[c]] == ' ');
            }
        }
    }
    g_assert_cmpuint(rows, ==, n_rows);
}

/* Column widths follow the cells: a long name and wide or combining
 * characters keep the columns straight, sizes read like free -h. */
static void
test_ctl_table(Fixture *f, gconstpointer data)
{
    const char *a = f->bus->address;
    const char *ctl = mb_test_ctl_path();
    g_autofree char *long_name = g_strnfill(MB_VM_NAME_MAX, 'x');
    /* テレビ is three wide characters; the last é is e + a combining acute. */
    const Name names[] = {
        {"a", 1},
        {long_name, MB_VM_NAME_MAX},
        {"tv-\u30c6\u30ec\u30d3-t\u00e9l\u00e9-e\u0301", 16},
    };
    g_autofree char *out = NULL;

    g_free(register_vm(f, names[0].name, 50, min_max(256 * 1024, 1024 * 1024)));
    g_free(
        register_vm(f, names[1].name, 7, one_option("foreground", g_variant_new_boolean(1))));
    g_free(register_vm(f, names[2].name, 100, NULL));
    g_assert_true(mb_mem_balancer_call_rebalance_sync(f->manager, NULL, NULL));

    const char *const list[] = {ctl, "--address", a, "list", NULL};
    out = run_ok(FALSE, list);
    assert_aligned(out, names, G_N_ELEMENTS(names), 3);
    g_assert_nonnull(strstr(out, "\na "));
    g_assert_nonnull(strstr(out, " 256.0 MiB "));
    g_assert_nonnull(strstr(out, " 1.0 GiB "));
    g_clear_pointer(&out, g_free);

    const char *const list_kib[] = {ctl, "--address", a, "list", "--kib", NULL};
    out = run_ok(FALSE, list_kib);
    assert_aligned(out, names, G_N_ELEMENTS(names), 3);
    g_assert_nonnull(strstr(out, " MIN_KIB "));
    g_assert_nonnull(strstr(out, " 262144 "));
}

/* ---- watch --------------------------------------------------------------- */

static void
test_ctl_watch(Fixture *f, gconstpointer data)
{
    g_autofree char *out = NULL;

    g_free(register_vm(f, "game", 80, min_max(256 * 1024, 1024 * 1024)));
    out = mb_test_run_watch(f, NULL, 3);
    g_assert_nonnull(strstr(out, "game"));
    /* Sizes as people read them, the pool's too (one decimal, a unit). */
    g_assert_nonnull(strstr(out, " 256.0 MiB "));
    g_assert_nonnull(strstr(out, " 1.0 GiB "));
    g_assert_true(g_regex_match_simple("  pool [0-9]+\\.[0-9] [KMGT]iB  ", out, 0, 0));
    g_clear_pointer(&out, g_free);
    out = mb_test_run_watch(f, "--kib", 3);
    g_assert_nonnull(strstr(out, " MIN_KIB "));
    g_assert_nonnull(strstr(out, " 262144 "));
    g_assert_true(g_regex_match_simple("  pool [0-9]+ KiB  ", out, 0, 0));
    g_assert_null(strstr(out, "MiB"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    (void)mb_service_error_quark();
    g_test_add_func("/service/ctl/size-format", test_size_format);
    ADD_BUS_TEST("ctl", test_ctl, mb_test_fast_args);
    ADD_BUS_TEST("ctl-settings", test_ctl_settings, mb_test_fast_args);
    ADD_BUS_TEST("ctl-json", test_ctl_json, json_args);
    ADD_BUS_TEST("ctl-table", test_ctl_table, mb_test_fast_args);
    ADD_BUS_TEST("ctl-no-service", test_ctl_no_service, NULL);
    ADD_BUS_TEST("ctl-watch", test_ctl_watch, mb_test_fast_args);
    return g_test_run();
}
