/* The daemon in-process with the libvirt backend on libvirt's test driver
 * (test:///default, shared within the process): the test plays the world
 * through its own connection (a guest that lies about its balloon, a
 * domain redefined and started again) and runs the daemon's ticks one at
 * a time (Rebalance), checking the pool against what the guests truly
 * hold. */
#include <libvirt/libvirt.h>
#include <string.h>

#include "mb-config.h"
#include "mb-daemon.h"
#include "mb-error.h"
#include "mb-test-bus.h"
#include "mb-vm-object.h"

#define URI "test:///default"
#define MIB G_GUINT64_CONSTANT(1024)

typedef struct {
    MbTestBus *bus;
    GDBusConnection *connection; /* the daemon's */
    MbDaemon *daemon;
    virConnectPtr conn; /* the test's own handle on the same test driver */
} Fixture;

static gboolean
name_owned(gpointer data)
{
    Fixture *f = data;

    return mb_test_bus_name_has_owner(f->bus->connection, MB_BUS_NAME);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    MbConfig *config = mb_config_new();

    mb_test_warnings_clear();
    f->bus = mb_test_bus_new();
    g_free(config->backend);
    config->backend = g_strdup("libvirt");
    g_free(config->libvirt_uri);
    config->libvirt_uri = g_strdup(URI);
    g_free(config->state_dir);
    config->state_dir = g_build_filename(f->bus->dir, "state", NULL);
    config->interval_ms = 3600000; /* ticks only when the test asks */
    config->pool_kib = GPOINTER_TO_SIZE(data);
    config->spare_kib = 0;
    /* The daemon first: its backend registers libvirt's event loop. */
    f->daemon = mb_daemon_new(config, &error);
    g_assert_no_error(error);
    f->connection = g_dbus_connection_new_for_address_sync(
        f->bus->address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(mb_daemon_start(f->daemon, f->connection, &error));
    /* The name is asked for asynchronously, on another connection than the
     * test's calls: a call sent before the bus gave it would find no one. */
    g_assert_true(mb_test_wait_for(name_owned, f, 10000));
    f->conn = virConnectOpen(URI);
    g_assert_nonnull(f->conn);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    virDomainPtr *doms = NULL;
    int n;

    mb_daemon_free(f->daemon);
    g_object_unref(f->connection);
    /* The shared driver outlives the test: leave it as test:///default was. */
    n = virConnectListAllDomains(f->conn, &doms, 0);
    for (int i = 0; i < n; i++) {
        if (!g_str_equal(virDomainGetName(doms[i]), "test")) {
            virDomainDestroy(doms[i]);
            virDomainUndefine(doms[i]);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    virConnectClose(f->conn);
    mb_test_bus_free(f->bus);
}

/* Defines a domain, or redefines it (same UUID): a running domain has
 * its new definition from its next start. */
static void
define_domain(Fixture *f, const char *name, guint64 max_kib, guint64 cur_kib, gboolean start)
{
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    virDomainPtr old = virDomainLookupByName(f->conn, name);
    g_autofree char *uuid_xml = NULL;
    g_autofree char *xml = NULL;
    virDomainPtr dom;

    if (old != NULL) {
        g_assert_cmpint(virDomainGetUUIDString(old, uuid), ==, 0);
        virDomainFree(old);
    }
    uuid_xml = old != NULL ? g_strdup_printf("<uuid>%s</uuid>", uuid) : g_strdup("");
    xml = g_strdup_printf(
        "<domain type='test'><name>%s</name>%s<memory unit='KiB'>%" G_GUINT64_FORMAT
        "</memory><currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory>"
        "<os><type>hvm</type></os><devices><memballoon model='virtio'/></devices></domain>",
        name, uuid_xml, max_kib, cur_kib);
    dom = virDomainDefineXML(f->conn, xml);

    g_assert_nonnull(dom);
    if (start)
        g_assert_cmpint(virDomainCreate(dom), ==, 0);
    virDomainFree(dom);
}

/* Stops and starts a domain: a new boot, with its new definition. */
static void
restart_domain(Fixture *f, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(f->conn, name);

    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainDestroy(dom), ==, 0);
    g_assert_cmpint(virDomainCreate(dom), ==, 0);
    virDomainFree(dom);
}

static guint64
domain_memory(Fixture *f, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(f->conn, name);
    virDomainInfo info;

    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainGetInfo(dom, &info), ==, 0);
    virDomainFree(dom);
    return info.memory;
}

/* What the guest writes in its balloon: the test driver's balloon size. */
static void
set_reported(Fixture *f, const char *name, guint64 kib)
{
    virDomainPtr dom = virDomainLookupByName(f->conn, name);

    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainSetMemoryFlags(dom, kib, VIR_DOMAIN_AFFECT_LIVE), ==, 0);
    virDomainFree(dom);
}

/* One interval, whole (read, plan, move, publish). */
static void
tick(Fixture *f)
{
    gboolean done = FALSE;

    mb_engine_rebalance(mb_daemon_get_engine(f->daemon), mb_test_set_flag, &done);
    g_assert_true(mb_test_wait_for(mb_test_flag_is_set, &done, 10000));
}

typedef struct {
    GVariant *value;
    GError *error;
    gboolean done;
} Reply;

static void
on_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Reply *reply = user_data;

    reply->value =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &reply->error);
    reply->done = TRUE;
}

/* A call over the bus, asynchronously (the daemon answers from this
 * thread's main context); asserts success. */
static GVariant *
call(Fixture *f, const char *path, const char *iface, const char *method, GVariant *args,
     const GVariantType *reply_type)
{
    Reply reply = {0};

    g_dbus_connection_call(f->bus->connection, MB_BUS_NAME, path, iface, method, args,
                           reply_type, G_DBUS_CALL_FLAGS_NONE, 10000, NULL, on_reply, &reply);
    g_assert_true(mb_test_wait_for(mb_test_flag_is_set, &reply.done, 15000));
    g_assert_no_error(reply.error);
    return reply.value;
}

static void
register_vm(Fixture *f, const char *name, guint64 min_kib)
{
    GVariantBuilder options;

    g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
    if (min_kib != 0)
        g_variant_builder_add(&options, "{sv}", "min-kib", g_variant_new_uint64(min_kib));
    g_variant_unref(call(f, MB_OBJECT_PATH, MB_BUS_NAME, "RegisterVM",
                         g_variant_new("(sua{sv})", name, 50u, &options),
                         G_VARIANT_TYPE("(o)")));
}

static GVariant *
vm_property(Fixture *f, const char *name, const char *property)
{
    g_autofree char *path = mb_vm_object_path_for_name(name);
    g_autoptr(GVariant) reply = call(
        f, path, "org.freedesktop.DBus.Properties", "Get",
        g_variant_new("(ss)", "org.smarttv.MemBalancer.VM", property), G_VARIANT_TYPE("(v)"));
    GVariant *value;

    g_variant_get(reply, "(v)", &value);
    return value;
}

static guint64
vm_uint64(Fixture *f, const char *name, const char *property)
{
    g_autoptr(GVariant) value = vm_property(f, name, property);

    return g_variant_get_uint64(value);
}

static char *
vm_state(Fixture *f, const char *name)
{
    g_autoptr(GVariant) value = vm_property(f, name, "State");

    return g_variant_dup_string(value, NULL);
}

/* A guest whose balloon says it holds next to nothing (virtio-balloon's
 * "actual" is the guest's to write) while it keeps what it was given: its target
 * is never approached, so it is marked stuck, and then it must count for
 * what it was seen to hold, not for its claim. The liar holds 600 MiB in
 * truth; the others hold what the driver says. */
#define LIE_POOL_KIB (1792 * MIB)

static void
test_lying_low(Fixture *f, gconstpointer data)
{
    const guint64 liar_true_kib = 600 * MIB;
    g_autofree char *state = NULL;
    guint64 sum;

    define_domain(f, "liar", 1024 * MIB, 512 * MIB, TRUE);
    define_domain(f, "a", 1024 * MIB, 512 * MIB, TRUE);
    define_domain(f, "needy", 1024 * MIB, 512 * MIB, TRUE);
    /* Below its min: raised to it from the free pool. */
    register_vm(f, "liar", 600 * MIB);
    register_vm(f, "a", 0);
    tick(f);
    g_assert_cmpuint(domain_memory(f, "liar"), ==, liar_true_kib);
    /* From now on it claims a balloon of 1 MiB (libvirt refuses 0). */
    set_reported(f, "liar", 1 * MIB);
    for (int i = 0; i < MB_BALLOON_STUCK_TICKS + 1; i++)
        tick(f);
    state = vm_state(f, "liar");
    g_assert_cmpstr(state, ==, "stuck");
    g_assert_cmpuint(mb_test_warnings_count("is stuck"), ==, 1);
    g_assert_cmpuint(vm_uint64(f, "liar", "AllocatedKiB"), >=, liar_true_kib);

    /* Another VM below its min: it gets what is free, no more. */
    register_vm(f, "needy", 1000 * MIB);
    for (int i = 0; i < 4; i++) {
        tick(f);
        sum = domain_memory(f, "a") + domain_memory(f, "needy") + liar_true_kib;
        g_test_message("tick %d: a %" G_GUINT64_FORMAT " + needy %" G_GUINT64_FORMAT
                       " + liar %" G_GUINT64_FORMAT " = %" G_GUINT64_FORMAT
                       " KiB of a %" G_GUINT64_FORMAT " KiB pool",
                       i, domain_memory(f, "a"), domain_memory(f, "needy"), liar_true_kib, sum,
                       LIE_POOL_KIB);
        g_assert_cmpuint(sum, <=, LIE_POOL_KIB);
    }
    /* Not vacuous: the free part went to it. */
    g_assert_cmpuint(domain_memory(f, "needy"), >, 512 * MIB);
}

/* A domain redefined with more memory and started again: its balloon is
 * above the old maximum, which is no lie now. */
static void
test_max_grows(Fixture *f, gconstpointer data)
{
    g_autofree char *state = NULL;

    define_domain(f, "vm", 1024 * MIB, 512 * MIB, TRUE);
    register_vm(f, "vm", 0);
    tick(f);
    g_assert_cmpuint(vm_uint64(f, "vm", "MaxKiB"), ==, 1024 * MIB);
    define_domain(f, "vm", 2048 * MIB, 1536 * MIB, FALSE);
    restart_domain(f, "vm");
    g_assert_cmpuint(domain_memory(f, "vm"), ==, 1536 * MIB);
    for (int i = 0; i < 3; i++)
        tick(f);
    g_assert_cmpuint(mb_test_warnings_count("the guest lies"), ==, 0);
    state = vm_state(f, "vm");
    g_assert_cmpstr(state, ==, "running");
    /* Its registration's max (1 GiB) still holds: moved down to it. */
    g_assert_cmpuint(vm_uint64(f, "vm", "MaxKiB"), ==, 1024 * MIB);
    g_assert_cmpuint(domain_memory(f, "vm"), ==, 1024 * MIB);
    g_assert_cmpuint(vm_uint64(f, "vm", "AllocatedKiB"), ==, 1024 * MIB);
}

/* A domain redefined with less memory and started again: planned within
 * it, and counted at what the backend really set. */
static void
test_max_shrinks(Fixture *f, gconstpointer data)
{
    define_domain(f, "vm", 1024 * MIB, 1024 * MIB, TRUE);
    register_vm(f, "vm", 900 * MIB);
    tick(f);
    g_assert_cmpuint(domain_memory(f, "vm"), ==, 1024 * MIB);
    define_domain(f, "vm", 512 * MIB, 384 * MIB, FALSE);
    restart_domain(f, "vm");
    for (int i = 0; i < 3; i++)
        tick(f);
    /* Raised to its min, which is now the domain's maximum. */
    g_assert_cmpuint(domain_memory(f, "vm"), ==, 512 * MIB);
    g_assert_cmpuint(vm_uint64(f, "vm", "AllocatedKiB"), ==, 512 * MIB);
    g_assert_cmpuint(vm_uint64(f, "vm", "MaxKiB"), ==, 512 * MIB);
    g_assert_cmpuint(vm_uint64(f, "vm", "MinKiB"), ==, 512 * MIB);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    (void)mb_service_error_quark();
    /* The service's warnings are expected here: captured, counted, shown. */
    mb_test_warnings_capture();
#define ADD(path, pool, func)                                                                  \
    g_test_add(path, Fixture, GSIZE_TO_POINTER(pool), fixture_setup, func, fixture_teardown)
    ADD("/service/libvirt/lying-low", LIE_POOL_KIB, test_lying_low);
    ADD("/service/libvirt/max-grows", 4096 * MIB, test_max_grows);
    ADD("/service/libvirt/max-shrinks", 4096 * MIB, test_max_shrinks);
    return g_test_run();
}
