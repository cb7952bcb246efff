/* The real membalancerd on a private bus: every method and property through
 * the generated proxies and through busctl / gdbus, introspection, bad
 * input, a burst of malformed calls, racing registrations. */
#include <glib/gstdio.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include "mb-daemon.h"
#include "mb-dbus-generated.h"
#include "mb-error.h"
#include "mb-test-service.h"

/* ---- introspection ---------------------------------------------------- */

static GDBusNodeInfo *
xml_node(const char *file)
{
    g_autofree char *path = g_build_filename(MB_TEST_XML_DIR, file, NULL);
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    GDBusNodeInfo *node;

    g_assert_true(g_file_get_contents(path, &xml, NULL, &error));
    node = g_dbus_node_info_new_for_xml(xml, &error);
    g_assert_no_error(error);
    return node;
}

static GDBusNodeInfo *
introspect(Fixture *f, const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        f->bus->connection, MB_BUS_NAME, path, "org.freedesktop.DBus.Introspectable",
        "Introspect", NULL, G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
    const char *xml;
    GDBusNodeInfo *node;

    g_assert_no_error(error);
    g_variant_get(reply, "(&s)", &xml);
    node = g_dbus_node_info_new_for_xml(xml, &error);
    g_assert_no_error(error);
    return node;
}

/* Every member of the documented interface is on the bus, with its signature. */
static void
assert_same_interface(GDBusInterfaceInfo *doc, GDBusInterfaceInfo *live)
{
    g_assert_nonnull(live);
    for (guint i = 0; doc->methods != NULL && doc->methods[i] != NULL; i++) {
        GDBusMethodInfo *m = g_dbus_interface_info_lookup_method(live, doc->methods[i]->name);
        g_assert_nonnull(m);
    }
    for (guint i = 0; doc->signals != NULL && doc->signals[i] != NULL; i++)
        g_assert_nonnull(g_dbus_interface_info_lookup_signal(live, doc->signals[i]->name));
    for (guint i = 0; doc->properties != NULL && doc->properties[i] != NULL; i++) {
        GDBusPropertyInfo *p =
            g_dbus_interface_info_lookup_property(live, doc->properties[i]->name);
        g_assert_nonnull(p);
        g_assert_cmpstr(p->signature, ==, doc->properties[i]->signature);
        g_assert_cmpint(p->flags, ==, doc->properties[i]->flags);
    }
}

static void
test_introspection(Fixture *f, gconstpointer data)
{
    g_autoptr(GDBusNodeInfo) manager_doc = xml_node("org.smarttv.MemBalancer.xml");
    g_autoptr(GDBusNodeInfo) vm_doc = xml_node("org.smarttv.MemBalancer.VM.xml");
    g_autoptr(GDBusNodeInfo) root = NULL;
    g_autoptr(GDBusNodeInfo) vm = NULL;
    g_autofree char *path = register_vm(f, "video-playback", 50, NULL);
    static const char *const standard[] = {
        "org.freedesktop.DBus.Properties",
        "org.freedesktop.DBus.Introspectable",
        "org.freedesktop.DBus.Peer",
        NULL,
    };

    g_assert_cmpstr(path, ==, "/org/smarttv/MemBalancer/vm/video_2dplayback");
    root = introspect(f, MB_OBJECT_PATH);
    assert_same_interface(manager_doc->interfaces[0],
                          g_dbus_node_info_lookup_interface(root, MANAGER_IFACE));
    g_assert_nonnull(
        g_dbus_node_info_lookup_interface(root, "org.freedesktop.DBus.ObjectManager"));
    for (guint i = 0; standard[i] != NULL; i++)
        g_assert_nonnull(g_dbus_node_info_lookup_interface(root, standard[i]));

    vm = introspect(f, path);
    assert_same_interface(vm_doc->interfaces[0],
                          g_dbus_node_info_lookup_interface(vm, VM_IFACE));
    for (guint i = 0; standard[i] != NULL; i++)
        g_assert_nonnull(g_dbus_node_info_lookup_interface(vm, standard[i]));

    /* As an outside client sees it. */
    const char *const gdbus_argv[] = {"gdbus",         "introspect", "--address",
                                      f->bus->address, "--dest",     MB_BUS_NAME,
                                      "--object-path", path,         NULL};
    g_autofree char *out = NULL;
    g_assert_cmpint(mb_test_run(FALSE, gdbus_argv, &out, NULL), ==, 0);
    g_assert_nonnull(strstr(out, "interface " VM_IFACE));
    g_assert_nonnull(strstr(out, "readonly t AllocatedKiB"));
    const char *const tree_argv[] = {"busctl", "--address", f->bus->address,
                                     "tree",   MB_BUS_NAME, NULL};
    g_autofree char *tree = NULL;
    g_assert_cmpint(mb_test_run(FALSE, tree_argv, &tree, NULL), ==, 0);
    g_assert_nonnull(strstr(tree, "/org/smarttv/MemBalancer/vm/video_2dplayback"));
}

/* ---- methods and properties through the generated proxies --------------- */

static void
test_proxy_methods(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *game_path = NULL, *video_path = NULL, *web_path = NULL;
    g_autoptr(MbMemBalancerVM) game = NULL;
    g_autoptr(MbMemBalancerVM) video = NULL;
    g_autoptr(GDBusObjectManager) om = NULL;
    PropChanges changes = {0, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    GVariantBuilder opts;

    /* Manager properties. */
    g_assert_cmpstr(mb_mem_balancer_get_version(f->manager), ==, "0.1.0");
    g_assert_cmpuint(mb_mem_balancer_get_interval_ms(f->manager), ==, 100);
    g_assert_cmpfloat(mb_mem_balancer_get_alpha(f->manager), ==, 0.75);
    g_assert_cmpstr(mb_mem_balancer_get_policy(f->manager), ==, "balanced");
    g_assert_cmpstr(mb_mem_balancer_get_backend(f->manager), ==, "fake");
    g_assert_false(mb_mem_balancer_get_paused(f->manager));
    g_assert_cmpuint(mb_mem_balancer_get_pool_kib(f->manager), ==, 0);
    g_assert_cmpuint(mb_mem_balancer_get_reserve_kib(f->manager), ==, 0);
    g_assert_cmpuint(mb_mem_balancer_get_vm_count(f->manager), ==, 0);

    g_variant_builder_init(&opts, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&opts, "{sv}", "min-kib", g_variant_new_uint64(300 * 1024));
    g_variant_builder_add(&opts, "{sv}", "max-kib", g_variant_new_uint64(1024 * 1024));
    g_variant_builder_add(&opts, "{sv}", "foreground", g_variant_new_boolean(TRUE));
    game_path = register_vm(f, "game", 80, g_variant_builder_end(&opts));
    video_path = register_vm(f, "video-playback", 50, NULL);
    web_path = register_vm(f, "web", 20, NULL);
    g_assert_cmpstr(game_path, ==, "/org/smarttv/MemBalancer/vm/game");

    om = mb_object_manager_client_new_sync(f->bus->connection,
                                           G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE, MB_BUS_NAME,
                                           MB_OBJECT_PATH, NULL, &error);
    g_assert_no_error(error);
    GList *objects = g_dbus_object_manager_get_objects(om);
    g_assert_cmpuint(g_list_length(objects), ==, 3);
    g_list_free_full(objects, g_object_unref);

    game = vm_proxy(f, game_path);
    video = vm_proxy(f, video_path);
    g_signal_connect(video, "g-properties-changed", G_CALLBACK(changes_on_props_changed),
                     &changes);
    g_assert_cmpstr(mb_mem_balancer_vm_get_name(game), ==, "game");
    g_assert_cmpuint(mb_mem_balancer_vm_get_priority(game), ==, 80);
    g_assert_true(mb_mem_balancer_vm_get_foreground(game));
    g_assert_cmpuint(mb_mem_balancer_vm_get_min_kib(game), ==, 300 * 1024);
    g_assert_cmpuint(mb_mem_balancer_vm_get_max_kib(game), ==, 1024 * 1024);
    g_assert_cmpuint(mb_mem_balancer_vm_get_min_kib(video), ==, 256 * 1024);
    g_assert_cmpuint(mb_mem_balancer_vm_get_max_kib(video), ==, 2 * 1024 * 1024);
    g_assert_cmpuint(mb_mem_balancer_vm_get_allocated_kib(video), ==, 512 * 1024);

    /* Statistics arrive with the ticks. */
    wait_change(&changes, "LastUpdate");
    wait_change(&changes, "LastUpdate");
    g_assert_cmpstr(mb_mem_balancer_vm_get_stats_source(video), ==, "agent");
    g_assert_cmpuint(mb_mem_balancer_vm_get_last_update(video), >, 0);
    g_assert_cmpuint(mb_mem_balancer_vm_get_active_anon_kib(video) +
                         mb_mem_balancer_vm_get_active_file_kib(video) +
                         mb_mem_balancer_vm_get_inactive_file_kib(video) +
                         mb_mem_balancer_vm_get_free_kib(video),
                     >, 0);
    g_assert_cmpuint(mb_mem_balancer_get_vm_count(f->manager), ==, 3);
    g_assert_cmpuint(mb_mem_balancer_get_pool_kib(f->manager), ==, 3 * 512 * 1024);

    /* SetPriority, SetForeground: the properties follow. */
    g_assert_true(
        mb_mem_balancer_call_set_priority_sync(f->manager, "video-playback", 90, NULL, &error));
    g_assert_no_error(error);
    wait_change(&changes, "Priority");
    g_assert_cmpuint(mb_mem_balancer_vm_get_priority(video), ==, 90);
    g_assert_true(
        mb_mem_balancer_call_set_foreground_sync(f->manager, "video-playback", NULL, &error));
    g_assert_no_error(error);
    wait_change(&changes, "Foreground");
    g_assert_true(mb_mem_balancer_vm_get_foreground(video));
    {
        /* The previous foreground VM lost the flag (read fresh). */
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
            f->bus->connection, MB_BUS_NAME, game_path, "org.freedesktop.DBus.Properties",
            "Get", g_variant_new("(ss)", VM_IFACE, "Foreground"), G_VARIANT_TYPE("(v)"),
            G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
        g_autoptr(GVariant) value = NULL;
        g_assert_no_error(error);
        g_variant_get(reply, "(v)", &value);
        g_assert_false(g_variant_get_boolean(value));
    }

    /* Rebalance returns after a whole tick. */
    guint before = changes.n_changed;
    g_assert_true(mb_mem_balancer_call_rebalance_sync(f->manager, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(mb_mem_balancer_call_rebalance_sync(f->manager, NULL, &error));
    wait_change(&changes, "LastUpdate");
    g_assert_cmpuint(changes.n_changed, >, before);

    /* Paused: writable, stored, announced. */
    g_dbus_connection_call_sync(
        f->bus->connection, MB_BUS_NAME, MB_OBJECT_PATH, "org.freedesktop.DBus.Properties",
        "Set", g_variant_new("(ssv)", MANAGER_IFACE, "Paused", g_variant_new_boolean(TRUE)),
        NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
    g_assert_no_error(error);
    g_autoptr(GVariant) paused = g_dbus_connection_call_sync(
        f->bus->connection, MB_BUS_NAME, MB_OBJECT_PATH, "org.freedesktop.DBus.Properties",
        "Get", g_variant_new("(ss)", MANAGER_IFACE, "Paused"), G_VARIANT_TYPE("(v)"),
        G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
    g_assert_no_error(error);
    g_autoptr(GVariant) paused_value = NULL;
    g_variant_get(paused, "(v)", &paused_value);
    g_assert_true(g_variant_get_boolean(paused_value));
    g_autofree char *state_path = g_build_filename(f->state_dir, "registrations.ini", NULL);
    g_autofree char *state = NULL;
    g_assert_true(g_file_get_contents(state_path, &state, NULL, NULL));
    g_assert_nonnull(strstr(state, "paused=true"));
    /* Rebalance still works when paused (an explicit request). */
    g_assert_true(mb_mem_balancer_call_rebalance_sync(f->manager, NULL, &error));
    g_assert_no_error(error);

    /* UnregisterVM: the object goes away. */
    g_assert_true(mb_mem_balancer_call_unregister_vm_sync(f->manager, "web", NULL, &error));
    g_assert_no_error(error);
    objects = g_dbus_object_manager_get_objects(om);
    while (g_list_length(objects) != 2) {
        g_list_free_full(objects, g_object_unref);
        g_main_context_iteration(NULL, TRUE);
        objects = g_dbus_object_manager_get_objects(om);
    }
    g_list_free_full(objects, g_object_unref);
    g_assert_null(g_dbus_object_manager_get_object(om, web_path));
    g_signal_handlers_disconnect_by_data(video, &changes);
    g_hash_table_unref(changes.seen);
}

/* ---- the same through outside clients ---------------------------------- */

static void
test_busctl_gdbus(Fixture *f, gconstpointer data)
{
    const char *a = f->bus->address;
    g_autofree char *out = NULL;

    const char *const reg[] = {
        "busctl",     "--address",  a,      "call", MB_BUS_NAME, MB_OBJECT_PATH, MANAGER_IFACE,
        "RegisterVM", "sua{sv}",    "game", "70",   "2",         "min-kib",      "t",
        "262144",     "foreground", "b",    "true", NULL};
    out = run_ok(FALSE, reg);
    g_assert_cmpstr(out, ==, "o \"/org/smarttv/MemBalancer/vm/game\"\n");
    g_clear_pointer(&out, g_free);

    const char *const reg2[] = {"gdbus",
                                "call",
                                "--address",
                                a,
                                "--dest",
                                MB_BUS_NAME,
                                "--object-path",
                                MB_OBJECT_PATH,
                                "--method",
                                MANAGER_IFACE ".RegisterVM",
                                "web",
                                "20",
                                "{'max-kib': <uint64 1048576>}",
                                NULL};
    out = run_ok(FALSE, reg2);
    g_assert_cmpstr(out, ==, "(objectpath '/org/smarttv/MemBalancer/vm/web',)\n");
    g_clear_pointer(&out, g_free);

    const char *const prio[] = {
        "busctl",      "--address",   a,    "call", MB_BUS_NAME, MB_OBJECT_PATH,
        MANAGER_IFACE, "SetPriority", "su", "web",  "33",        NULL};
    g_free(run_ok(FALSE, prio));
    const char *const get_prio[] = {
        "busctl",       "--address", a,
        "get-property", MB_BUS_NAME, "/org/smarttv/MemBalancer/vm/web",
        VM_IFACE,       "Priority",  NULL};
    out = run_ok(FALSE, get_prio);
    g_assert_cmpstr(out, ==, "u 33\n");
    g_clear_pointer(&out, g_free);
    const char *const get_max[] = {
        "busctl",       "--address", a,
        "get-property", MB_BUS_NAME, "/org/smarttv/MemBalancer/vm/web",
        VM_IFACE,       "MaxKiB",    NULL};
    out = run_ok(FALSE, get_max);
    g_assert_cmpstr(out, ==, "t 1048576\n");
    g_clear_pointer(&out, g_free);

    const char *const fg[] = {"gdbus",         "call",
                              "--address",     a,
                              "--dest",        MB_BUS_NAME,
                              "--object-path", MB_OBJECT_PATH,
                              "--method",      MANAGER_IFACE ".SetForeground",
                              "web",           NULL};
    g_free(run_ok(FALSE, fg));
    const char *const get_fg[] = {
        "busctl",       "--address",  a,
        "get-property", MB_BUS_NAME,  "/org/smarttv/MemBalancer/vm/game",
        VM_IFACE,       "Foreground", NULL};
    out = run_ok(FALSE, get_fg);
    g_assert_cmpstr(out, ==, "b false\n");
    g_clear_pointer(&out, g_free);

    const char *const set_paused[] = {
        "busctl",      "--address", a,   "set-property", MB_BUS_NAME, MB_OBJECT_PATH,
        MANAGER_IFACE, "Paused",    "b", "true",         NULL};
    g_free(run_ok(FALSE, set_paused));
    const char *const get_paused[] = {"busctl",       "--address", a,
                                      "get-property", MB_BUS_NAME, MB_OBJECT_PATH,
                                      MANAGER_IFACE,  "Paused",    NULL};
    out = run_ok(FALSE, get_paused);
    g_assert_cmpstr(out, ==, "b true\n");
    g_clear_pointer(&out, g_free);

    const char *const rebalance[] = {"busctl",      "--address", a,
                                     "call",        MB_BUS_NAME, MB_OBJECT_PATH,
                                     MANAGER_IFACE, "Rebalance", NULL};
    g_free(run_ok(FALSE, rebalance));

    /* Every manager property reads. */
    static const char *const manager_props[] = {
        "Version", "PoolKiB", "ReserveKiB", "IntervalMs", "Alpha",
        "Policy",  "Paused",  "Backend",    "VMCount",    NULL};
    for (guint i = 0; manager_props[i] != NULL; i++) {
        const char *const get[] = {"busctl",       "--address",      a,
                                   "get-property", MB_BUS_NAME,      MB_OBJECT_PATH,
                                   MANAGER_IFACE,  manager_props[i], NULL};
        g_free(run_ok(FALSE, get));
    }
    const char *const count[] = {"busctl",       "--address", a,
                                 "get-property", MB_BUS_NAME, MB_OBJECT_PATH,
                                 MANAGER_IFACE,  "VMCount",   NULL};
    out = run_ok(FALSE, count);
    g_assert_cmpstr(out, ==, "u 2\n");
    g_clear_pointer(&out, g_free);
    /* Every VM property reads (GetAll through busctl introspect). */
    const char *const vm_all[] = {"busctl",     "--address", a,
                                  "introspect", MB_BUS_NAME, "/org/smarttv/MemBalancer/vm/game",
                                  VM_IFACE,     NULL};
    out = run_ok(FALSE, vm_all);
    static const char *const vm_props[] = {"Name",
                                           "Priority",
                                           "Foreground",
                                           "MinKiB",
                                           "MaxKiB",
                                           "AllocatedKiB",
                                           "DemandKiB",
                                           "ReclaimableKiB",
                                           "ActiveAnonKiB",
                                           "ActiveFileKiB",
                                           "InactiveFileKiB",
                                           "FreeKiB",
                                           "SwapOutKiB",
                                           "StatsSource",
                                           "LastUpdate",
                                           "LastReason",
                                           NULL};
    for (guint i = 0; vm_props[i] != NULL; i++) {
        g_autofree char *needle = g_strdup_printf(".%s ", vm_props[i]);
        g_assert_nonnull(strstr(out, needle));
    }
    g_clear_pointer(&out, g_free);

    const char *const unreg[] = {
        "busctl",      "--address",    a,   "call", MB_BUS_NAME, MB_OBJECT_PATH,
        MANAGER_IFACE, "UnregisterVM", "s", "game", NULL};
    g_free(run_ok(FALSE, unreg));
    out = run_ok(FALSE, count);
    g_assert_cmpstr(out, ==, "u 1\n");
    g_clear_pointer(&out, g_free);

    /* An error crosses as our own error name (gdbus prints it). */
    const char *const bad[] = {"gdbus",         "call",
                               "--address",     a,
                               "--dest",        MB_BUS_NAME,
                               "--object-path", MB_OBJECT_PATH,
                               "--method",      MANAGER_IFACE ".UnregisterVM",
                               "game",          NULL};
    g_autofree char *err = NULL;
    g_assert_cmpint(mb_test_run(FALSE, bad, NULL, &err), !=, 0);
    g_assert_nonnull(strstr(err, ERR "NoSuchVM"));
    g_assert_nonnull(strstr(err, "no VM named 'game'"));
}

/* ---- bad input ---------------------------------------------------------- */

static void
expect_error(GError *error, const char *name, const char *message_part)
{
    g_autofree char *remote = NULL;

    g_assert_nonnull(error);
    remote = g_dbus_error_get_remote_error(error);
    g_test_message("%s: %s", remote, error->message);
    g_assert_cmpstr(remote, ==, name);
    g_assert_nonnull(strstr(error->message, message_part));
}

static GError *
call_error(Fixture *f, const char *method, GVariant *args)
{
    GError *error = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        f->bus->connection, MB_BUS_NAME, MB_OBJECT_PATH, MANAGER_IFACE, method, args, NULL,
        G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);

    g_assert_null(reply);
    return error;
}

static void
test_bad_input(Fixture *f, gconstpointer data)
{
    g_autofree char *too_long = g_strnfill(129, 'x');
    g_autofree char *before = NULL, *after = NULL;
    GError *e;

    g_free(register_vm(f, "game", 80, NULL));
    g_free(register_vm(f, "web", 10, NULL));
    before = settings_snapshot(f);

#define EXPECT(method, args, name, part)                                                       \
    do {                                                                                       \
        e = call_error(f, method, args);                                                       \
        expect_error(e, name, part);                                                           \
        g_clear_error(&e);                                                                     \
    } while (0)

    EXPECT("RegisterVM", g_variant_new("(su@a{sv})", "", 1, g_variant_new("a{sv}", NULL)),
           ERR "InvalidArgs", "name is empty");
    EXPECT("RegisterVM", g_variant_new("(su@a{sv})", too_long, 1, g_variant_new("a{sv}", NULL)),
           ERR "InvalidArgs", "129 bytes");
    EXPECT("RegisterVM", g_variant_new("(su@a{sv})", "new", 101, g_variant_new("a{sv}", NULL)),
           ERR "InvalidArgs", "priority 101");
    EXPECT("RegisterVM", g_variant_new("(su@a{sv})", "new", 1, min_max(2048, 1024)),
           ERR "InvalidArgs", "min-kib 2048 is above max-kib 1024");
    EXPECT("RegisterVM",
           g_variant_new("(su@a{sv})", "new", 1,
                         one_option("colour", g_variant_new_string("red"))),
           ERR "InvalidArgs", "unknown option 'colour'");
    EXPECT(
        "RegisterVM",
        g_variant_new("(su@a{sv})", "new", 1, one_option("min-kib", g_variant_new_uint32(5))),
        ERR "InvalidArgs", "'min-kib' must be of type 't', not 'u'");
    EXPECT("RegisterVM",
           g_variant_new("(su@a{sv})", "new", 1,
                         one_option("foreground", g_variant_new_string("yes"))),
           ERR "InvalidArgs", "'foreground' must be of type 'b'");
    EXPECT("RegisterVM",
           g_variant_new("(su@a{sv})", "new", 1,
                         one_option("max-kib", g_variant_new_uint64(G_MAXUINT64))),
           ERR "InvalidArgs", "maximum memory");
    EXPECT("RegisterVM",
           g_variant_new("(su@a{sv})", "new", 1,
                         one_option("min-kib", g_variant_new_uint64(8ull << 30))),
           ERR "InvalidArgs", "min-kib");
    EXPECT("RegisterVM", g_variant_new("(su@a{sv})", "game", 1, g_variant_new("a{sv}", NULL)),
           ERR "AlreadyRegistered", "'game' is already registered");
    EXPECT("UnregisterVM", g_variant_new("(s)", "nope"), ERR "NoSuchVM", "no VM named 'nope'");
    EXPECT("UnregisterVM", g_variant_new("(s)", ""), ERR "InvalidArgs", "empty");
    EXPECT("SetPriority", g_variant_new("(su)", "nope", 5), ERR "NoSuchVM", "'nope'");
    EXPECT("SetPriority", g_variant_new("(su)", "game", 101), ERR "InvalidArgs",
           "priority 101");
    EXPECT("SetPriority", g_variant_new("(su)", too_long, 1), ERR "InvalidArgs", "129 bytes");
    EXPECT("SetForeground", g_variant_new("(s)", "nope"), ERR "NoSuchVM", "'nope'");
    EXPECT("SetForeground", g_variant_new("(s)", ""), ERR "InvalidArgs", "empty");
    /* Wrong signatures never reach us: the bus layer refuses them. */
    EXPECT("SetPriority", g_variant_new("(ss)", "game", "5"),
           "org.freedesktop.DBus.Error.InvalidArgs", "Type of message");
    EXPECT("NoSuchMethod", NULL, "org.freedesktop.DBus.Error.UnknownMethod", "NoSuchMethod");

    /* Property writes: read-only ones and wrong types are refused. */
    e = NULL;
    g_autoptr(GVariant) r1 = g_dbus_connection_call_sync(
        f->bus->connection, MB_BUS_NAME, MB_OBJECT_PATH, "org.freedesktop.DBus.Properties",
        "Set", g_variant_new("(ssv)", MANAGER_IFACE, "Policy", g_variant_new_string("static")),
        NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &e);
    g_assert_null(r1);
    g_assert_nonnull(e);
    g_clear_error(&e);
    g_autoptr(GVariant) r2 = g_dbus_connection_call_sync(
        f->bus->connection, MB_BUS_NAME, MB_OBJECT_PATH, "org.freedesktop.DBus.Properties",
        "Set", g_variant_new("(ssv)", MANAGER_IFACE, "Paused", g_variant_new_string("yes")),
        NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &e);
    g_assert_null(r2);
    g_assert_nonnull(e);
    g_clear_error(&e);
    g_autoptr(GVariant) r3 = g_dbus_connection_call_sync(
        f->bus->connection, MB_BUS_NAME, "/org/smarttv/MemBalancer/vm/game",
        "org.freedesktop.DBus.Properties", "Set",
        g_variant_new("(ssv)", VM_IFACE, "Priority", g_variant_new_uint32(1)), NULL,
        G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &e);
    g_assert_null(r3);
    g_assert_nonnull(e);
    g_clear_error(&e);
#undef EXPECT

    after = settings_snapshot(f);
    g_assert_cmpstr(before, ==, after);
}

typedef struct {
    Fixture *f;
    char *too_long;
    guint sent;
    guint total;
    guint pending;
    guint errors;
    GHashTable *kinds; /* error name -> count */
} Burst;

static void burst_send(Burst *burst);

static void
on_burst_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Burst *burst = user_data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

    if (reply == NULL) {
        g_autofree char *name = g_dbus_error_get_remote_error(error);
        burst->errors++;
        if (name == NULL)
            name = g_strdup(error->message);
        g_hash_table_replace(
            burst->kinds, g_strdup(name),
            GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(burst->kinds, name)) + 1));
    }
    burst->pending--;
    burst_send(burst);
}

/* Keeps 100 calls in flight: the bus allows 128 pending replies per
 * connection, and every call must reach the service. */
static void
burst_send(Burst *burst)
{
    while (burst->pending < 100 && burst->sent < burst->total) {
        guint i = burst->sent++;
        const char *method = NULL;
        GVariant *args = NULL;

        switch (i % 10) {
        case 0:
            method = "RegisterVM";
            args = g_variant_new("(su@a{sv})", "", i, g_variant_new("a{sv}", NULL));
            break;
        case 1:
            method = "RegisterVM";
            args = g_variant_new("(su@a{sv})", "x", 100 + 1 + i, g_variant_new("a{sv}", NULL));
            break;
        case 2:
            method = "RegisterVM";
            args = g_variant_new("(su@a{sv})", "x", 1,
                                 one_option("bogus", g_variant_new_int32((gint32)i)));
            break;
        case 3:
            method = "RegisterVM";
            args = g_variant_new("(su@a{sv})", "game", 1, g_variant_new("a{sv}", NULL));
            break;
        case 4:
            method = "SetPriority";
            args = g_variant_new("(su)", "nope", 1);
            break;
        case 5:
            method = "SetPriority";
            args = g_variant_new("(su)", "game", 1000 + i);
            break;
        case 6:
            method = "UnregisterVM";
            args = g_variant_new("(s)", burst->too_long);
            break;
        case 7:
            method = "SetForeground";
            args = g_variant_new("(s)", "ghost");
            break;
        case 8:
            method = "SetPriority";
            args = g_variant_new("(ssss)", "a", "b", "c", "d");
            break;
        default:
            method = "Explode";
            args = g_variant_new("(i)", (gint32)i);
            break;
        }
        burst->pending++;
        g_dbus_connection_call(burst->f->bus->connection, MB_BUS_NAME, MB_OBJECT_PATH,
                               MANAGER_IFACE, method, args, NULL, G_DBUS_CALL_FLAGS_NONE, 60000,
                               NULL, on_burst_reply, burst);
    }
}

static gboolean
burst_done(gpointer data)
{
    Burst *burst = data;
    return burst->pending == 0 && burst->sent == burst->total;
}

static void
test_burst(Fixture *f, gconstpointer data)
{
    g_autofree char *before = NULL, *after = NULL;
    Burst burst = {f,
                   g_strnfill(300, 'y'),
                   0,
                   10000,
                   0,
                   0,
                   g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    GHashTableIter iter;
    gpointer key, value;
    gint64 start;

    g_free(register_vm(f, "game", 80, NULL));
    g_free(register_vm(f, "video", 40, NULL));
    before = settings_snapshot(f);
    start = g_get_monotonic_time();
    burst_send(&burst);
    g_assert_true(mb_test_wait_for(burst_done, &burst, 150000));
    g_test_message("10000 malformed calls in %.2f s", (g_get_monotonic_time() - start) / 1e6);
    g_assert_cmpuint(burst.errors, ==, burst.total);
    /* Each one was refused for its reason, by us or by GDBus: none lost. */
    g_hash_table_iter_init(&iter, burst.kinds);
    while (g_hash_table_iter_next(&iter, &key, &value))
        g_test_message("%s: %u", (char *)key, GPOINTER_TO_UINT(value));
    g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(burst.kinds, ERR "InvalidArgs")), ==,
                     5000);
    g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(burst.kinds, ERR "NoSuchVM")), ==,
                     2000);
    g_assert_cmpuint(
        GPOINTER_TO_UINT(g_hash_table_lookup(burst.kinds, ERR "AlreadyRegistered")), ==, 1000);
    g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(
                         burst.kinds, "org.freedesktop.DBus.Error.InvalidArgs")),
                     ==, 1000);
    g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(
                         burst.kinds, "org.freedesktop.DBus.Error.UnknownMethod")),
                     ==, 1000);
    g_assert_true(mb_test_daemon_alive(f->daemon));
    after = settings_snapshot(f);
    g_assert_cmpstr(before, ==, after);
    /* And it still does its work. */
    g_autoptr(GError) error = NULL;
    g_assert_true(mb_mem_balancer_call_set_priority_sync(f->manager, "game", 81, NULL, &error));
    g_assert_no_error(error);
    g_hash_table_unref(burst.kinds);
    g_free(burst.too_long);
}

/* Registrations of one name racing through the hypervisor lookup: one wins. */
static void
test_register_race(Fixture *f, gconstpointer data)
{
    MbTestRace race = {0};

    mb_test_race(f, "RegisterVM", 20, &race);
    g_assert_cmpuint(race.ok, ==, 1);
    g_assert_cmpuint(race.already, ==, 19);
    g_autofree char *snapshot = settings_snapshot(f);
    g_assert_nonnull(strstr(snapshot, "vm/contended contended"));
    g_free(race.first_other);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    (void)mb_service_error_quark();
    ADD_BUS_TEST("introspection", test_introspection, mb_test_fast_args);
    ADD_BUS_TEST("proxy-methods", test_proxy_methods, mb_test_fast_args);
    ADD_BUS_TEST("busctl-gdbus", test_busctl_gdbus, mb_test_fast_args);
    ADD_BUS_TEST("bad-input", test_bad_input, mb_test_fast_args);
    ADD_BUS_TEST("burst", test_burst, mb_test_fast_args);
    ADD_BUS_TEST("register-race", test_register_race, mb_test_fast_args);
    return g_test_run();
}
