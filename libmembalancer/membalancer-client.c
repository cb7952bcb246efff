/* MembalancerClient: the connection to membalancerd, its manager's
 * properties and the table of VM objects, kept current from the service's
 * object manager. The calls are in membalancer-client-calls.c. */
#include "membalancer-private.h"

#include "mb-names.h"

/**
 * MembalancerClient:
 *
 * A client of membalancerd, the memory balancer of a TV's virtual
 * machines (D-Bus name `org.smarttv.MemBalancer`).
 *
 * Make one with [func@Membalancer.Client.new] (the system bus, where the
 * service runs), [func@Membalancer.Client.new_for_address] or
 * [func@Membalancer.Client.new_for_connection], or their `_sync` forms.
 * It then keeps the list of registered VMs ([class@Membalancer.Vm]) and the
 * service's settings current, and announces changes through
 * [signal@Membalancer.Client::vm-added],
 * [signal@Membalancer.Client::vm-removed],
 * [signal@Membalancer.Client::rebalanced] and `notify`, in the main
 * context that was the thread-default one when it was made.
 *
 * The service need not be running when the client is made:
 * [property@Membalancer.Client:running] says whether it is, and calls then
 * fail with %MEMBALANCER_ERROR_NOT_RUNNING. By default the bus starts an
 * activatable service when the client is made and on the first call; a
 * client made with [property@Membalancer.Client:auto-start] %FALSE never
 * starts it (a settings panel that shows the service as it is):
 *
 * ```c
 * g_async_initable_new_async (MEMBALANCER_TYPE_CLIENT, G_PRIORITY_DEFAULT,
 *                             cancellable, callback, user_data,
 *                             "connection", connection,
 *                             "auto-start", FALSE,
 *                             NULL);
 * ```
 *
 * and finish with [ctor@Membalancer.Client.new_finish]
 * (`Membalancer.Client(auto_start=False)` then `init()` in Python).
 *
 * Every call that changes the service's state exists in an asynchronous
 * form (with a #GCancellable) and a blocking `_sync` one; errors are in
 * the #MEMBALANCER_ERROR domain.
 */

G_DEFINE_FINAL_TYPE_WITH_CODE(
    MembalancerClient, membalancer_client, G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE(G_TYPE_INITABLE, _membalancer_client_initable_iface_init)
        G_IMPLEMENT_INTERFACE(G_TYPE_ASYNC_INITABLE,
                              _membalancer_client_async_initable_iface_init))

enum {
    PROP_0,
    PROP_CONNECTION,
    PROP_ADDRESS,
    PROP_AUTO_START,
    PROP_RUNNING,
    /* The manager's D-Bus properties, under the generated proxy's names. */
    PROP_VERSION,
    PROP_BACKEND,
    PROP_POLICY,
    PROP_POOL_KIB,
    PROP_RESERVE_KIB,
    PROP_INTERVAL_MS,
    PROP_ALPHA,
    PROP_PAUSED,
    PROP_CONNECTED,
    PROP_VM_COUNT,
    N_PROPS
};

enum { SIGNAL_VM_ADDED, SIGNAL_VM_REMOVED, SIGNAL_REBALANCED, N_SIGNALS };

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

/* ---- the VM table ------------------------------------------------------ */

MembalancerVm *
_membalancer_client_vm_for_path(MembalancerClient *client, const char *path)
{
    return g_hash_table_lookup(client->vms, path);
}

void
_membalancer_client_adopt_vm(MembalancerClient *client, MembalancerVm *vm)
{
    const char *path = membalancer_vm_get_object_path(vm);

    if (g_hash_table_contains(client->vms, path))
        return;
    g_hash_table_insert(client->vms, g_strdup(path), g_object_ref(vm));
    g_signal_emit(client, signals[SIGNAL_VM_ADDED], 0, vm);
}

static void
add_object(MembalancerClient *self, GDBusObject *object, gboolean announce)
{
    g_autoptr(MbLibGenMemBalancerVM) proxy =
        mb_lib_gen_object_get_mem_balancer_vm(MB_LIB_GEN_OBJECT(object));
    g_autoptr(MembalancerVm) vm = NULL;

    if (proxy == NULL ||
        g_hash_table_contains(self->vms, g_dbus_object_get_object_path(object)))
        return;
    vm = _membalancer_vm_new(proxy);
    if (announce) {
        _membalancer_client_adopt_vm(self, vm);
    } else {
        g_hash_table_insert(self->vms, g_strdup(g_dbus_object_get_object_path(object)),
                            g_steal_pointer(&vm));
    }
}

static void
on_object_added(GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
    add_object(user_data, object, TRUE);
}

static void
on_object_removed(GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
    MembalancerClient *self = user_data;
    g_autofree char *path = NULL;
    g_autoptr(MembalancerVm) vm = NULL;

    if (!g_hash_table_steal_extended(self->vms, g_dbus_object_get_object_path(object),
                                     (gpointer *)&path, (gpointer *)&vm))
        return;
    g_signal_emit(self, signals[SIGNAL_VM_REMOVED], 0, vm);
}

/* The manager's proxy sets its owner once it has loaded the properties of
 * a service that came: running then means the getters hold its values. */
static void
on_name_owner(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    g_object_notify_by_pspec(user_data, props[PROP_RUNNING]);
}

static void
on_manager_notify(GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
    GParamSpec *ours = g_object_class_find_property(G_OBJECT_GET_CLASS(user_data), pspec->name);

    if (ours != NULL && ours->param_id >= PROP_VERSION)
        g_object_notify_by_pspec(user_data, ours);
}

static void
on_rebalanced(MbLibGenMemBalancer *manager, GVariant *moves, gpointer user_data)
{
    g_signal_emit(user_data, signals[SIGNAL_REBALANCED], 0, moves);
}

/* The connection, the object manager and the manager's proxy are there. */
void
_membalancer_client_setup(MembalancerClient *self)
{
    GList *objects = g_dbus_object_manager_get_objects(self->object_manager);

    for (GList *l = objects; l != NULL; l = l->next)
        add_object(self, l->data, FALSE);
    g_list_free_full(objects, g_object_unref);
    g_signal_connect_object(self->object_manager, "object-added", G_CALLBACK(on_object_added),
                            self, 0);
    g_signal_connect_object(self->object_manager, "object-removed",
                            G_CALLBACK(on_object_removed), self, 0);
    g_signal_connect_object(self->manager, "notify::g-name-owner", G_CALLBACK(on_name_owner),
                            self, 0);
    g_signal_connect_object(self->manager, "notify", G_CALLBACK(on_manager_notify), self, 0);
    g_signal_connect_object(self->manager, "rebalanced", G_CALLBACK(on_rebalanced), self, 0);
}

/* ---- the manager's state ------------------------------------------------ */

GDBusProxyFlags
_membalancer_client_proxy_flags(MembalancerClient *client)
{
    return client->auto_start ? G_DBUS_PROXY_FLAGS_NONE : G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START;
}

MbLibGenMemBalancer *
_membalancer_client_get_manager(MembalancerClient *client)
{
    return client->manager;
}

/**
 * membalancer_client_get_connection:
 * @client: a #MembalancerClient
 *
 * Returns: (transfer none): the client's bus connection
 */
GDBusConnection *
membalancer_client_get_connection(MembalancerClient *client)
{
    g_return_val_if_fail(MEMBALANCER_IS_CLIENT(client), NULL);
    return client->connection;
}

/**
 * membalancer_client_get_auto_start:
 * @client: a #MembalancerClient
 *
 * Returns: whether the client lets the bus start the service
 */
gboolean
membalancer_client_get_auto_start(MembalancerClient *client)
{
    g_return_val_if_fail(MEMBALANCER_IS_CLIENT(client), TRUE);
    return client->auto_start;
}

/**
 * membalancer_client_get_running:
 * @client: a #MembalancerClient
 *
 * Whether membalancerd is on the bus and the client has its properties:
 * while it is %TRUE, the getters of the service's settings
 * ([method@Membalancer.Client.dup_backend], ...) return the service's
 * values, never the zeros of a service not met yet.
 *
 * Returns: whether membalancerd runs and its properties are loaded
 */
gboolean
membalancer_client_get_running(MembalancerClient *client)
{
    g_autofree char *owner = NULL;

    g_return_val_if_fail(MEMBALANCER_IS_CLIENT(client), FALSE);
    if (client->manager == NULL)
        return FALSE;
    owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(client->manager));
    return owner != NULL;
}

#define CLIENT_GETTER(type, prop, dbus_getter)                                                 \
    type membalancer_client_##prop(MembalancerClient *client)                                  \
    {                                                                                          \
        g_return_val_if_fail(MEMBALANCER_IS_CLIENT(client), 0);                                \
        return client->manager != NULL ? dbus_getter(client->manager) : 0;                     \
    }

/**
 * membalancer_client_dup_version:
 * @client: a #MembalancerClient
 *
 * Returns: (transfer full) (nullable): the service's version
 */
CLIENT_GETTER(char *, dup_version, mb_lib_gen_mem_balancer_dup_version)
/**
 * membalancer_client_dup_backend:
 * @client: a #MembalancerClient
 *
 * Returns: (transfer full) (nullable): the service's hypervisor backend,
 *   `libvirt` or `fake`
 */
CLIENT_GETTER(char *, dup_backend, mb_lib_gen_mem_balancer_dup_backend)
/**
 * membalancer_client_dup_policy:
 * @client: a #MembalancerClient
 *
 * Returns: (transfer full) (nullable): the balancing policy
 */
CLIENT_GETTER(char *, dup_policy, mb_lib_gen_mem_balancer_dup_policy)
/**
 * membalancer_client_get_pool_kib:
 * @client: a #MembalancerClient
 *
 * Returns: the memory the registered VMs share, in KiB
 */
CLIENT_GETTER(guint64, get_pool_kib, mb_lib_gen_mem_balancer_get_pool_kib)
/**
 * membalancer_client_get_reserve_kib:
 * @client: a #MembalancerClient
 *
 * Returns: the part of the pool that is never handed out, in KiB
 */
CLIENT_GETTER(guint64, get_reserve_kib, mb_lib_gen_mem_balancer_get_reserve_kib)
/**
 * membalancer_client_get_interval_ms:
 * @client: a #MembalancerClient
 *
 * Returns: the balancing interval, in milliseconds
 */
CLIENT_GETTER(guint, get_interval_ms, mb_lib_gen_mem_balancer_get_interval_ms)
/**
 * membalancer_client_get_alpha:
 * @client: a #MembalancerClient
 *
 * Returns: the weight of the newest sample in the demand's moving average,
 *   in (0, 1]
 */
CLIENT_GETTER(gdouble, get_alpha, mb_lib_gen_mem_balancer_get_alpha)
/**
 * membalancer_client_get_vm_count:
 * @client: a #MembalancerClient
 *
 * Returns: how many VMs are registered, as the service last said
 */
CLIENT_GETTER(guint, get_vm_count, mb_lib_gen_mem_balancer_get_vm_count)
/**
 * membalancer_client_get_paused:
 * @client: a #MembalancerClient
 *
 * Returns: whether periodic balancing is paused
 */
CLIENT_GETTER(gboolean, get_paused, mb_lib_gen_mem_balancer_get_paused)
/**
 * membalancer_client_get_connected:
 * @client: a #MembalancerClient
 *
 * Returns: whether the service is connected to its hypervisor
 */
CLIENT_GETTER(gboolean, get_connected, mb_lib_gen_mem_balancer_get_connected)

/**
 * membalancer_client_get_vms:
 * @client: a #MembalancerClient
 *
 * The registered VMs, as the client knows them now (no call is made: the
 * list is kept current from the service's signals).
 *
 * Returns: (transfer full) (element-type MembalancerVm): the VMs, in no
 *   particular order
 */
GList *
membalancer_client_get_vms(MembalancerClient *client)
{
    GList *vms;

    g_return_val_if_fail(MEMBALANCER_IS_CLIENT(client), NULL);
    vms = g_hash_table_get_values(client->vms);
    g_list_foreach(vms, (GFunc)(void (*)(void))g_object_ref, NULL);
    return vms;
}

/**
 * membalancer_client_lookup_vm:
 * @client: a #MembalancerClient
 * @name: a VM name
 *
 * Looks up a registered VM by its name (no call is made).
 *
 * Returns: (transfer full) (nullable): the VM, or %NULL when no VM of
 *   that name is registered
 */
MembalancerVm *
membalancer_client_lookup_vm(MembalancerClient *client, const char *name)
{
    GHashTableIter iter;
    gpointer vm;

    g_return_val_if_fail(MEMBALANCER_IS_CLIENT(client), NULL);
    g_return_val_if_fail(name != NULL, NULL);
    g_hash_table_iter_init(&iter, client->vms);
    while (g_hash_table_iter_next(&iter, NULL, &vm)) {
        if (g_strcmp0(membalancer_vm_get_name(vm), name) == 0)
            return g_object_ref(vm);
    }
    return NULL;
}

/* ---- GObject ------------------------------------------------------------ */

static void
membalancer_client_get_property(GObject *object, guint prop_id, GValue *value,
                                GParamSpec *pspec)
{
    MembalancerClient *self = MEMBALANCER_CLIENT(object);

    switch (prop_id) {
    case PROP_CONNECTION:
        g_value_set_object(value, self->connection);
        break;
    case PROP_ADDRESS:
        g_value_set_string(value, self->address);
        break;
    case PROP_AUTO_START:
        g_value_set_boolean(value, self->auto_start);
        break;
    case PROP_RUNNING:
        g_value_set_boolean(value, membalancer_client_get_running(self));
        break;
    default:
        if (prop_id < N_PROPS && self->manager != NULL)
            g_object_get_property(G_OBJECT(self->manager), pspec->name, value);
        else if (prop_id >= N_PROPS)
            G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
membalancer_client_set_property(GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
    MembalancerClient *self = MEMBALANCER_CLIENT(object);

    switch (prop_id) {
    case PROP_CONNECTION:
        self->connection = g_value_dup_object(value);
        break;
    case PROP_ADDRESS:
        self->address = g_value_dup_string(value);
        break;
    case PROP_AUTO_START:
        self->auto_start = g_value_get_boolean(value);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void
membalancer_client_dispose(GObject *object)
{
    MembalancerClient *self = MEMBALANCER_CLIENT(object);

    g_hash_table_remove_all(self->vms);
    g_clear_object(&self->manager);
    g_clear_object(&self->object_manager);
    g_clear_object(&self->connection);
    G_OBJECT_CLASS(membalancer_client_parent_class)->dispose(object);
}

static void
membalancer_client_finalize(GObject *object)
{
    MembalancerClient *self = MEMBALANCER_CLIENT(object);

    g_hash_table_unref(self->vms);
    g_free(self->address);
    G_OBJECT_CLASS(membalancer_client_parent_class)->finalize(object);
}

#define RO (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY)

static void
membalancer_client_class_init(MembalancerClientClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->get_property = membalancer_client_get_property;
    object_class->set_property = membalancer_client_set_property;
    object_class->dispose = membalancer_client_dispose;
    object_class->finalize = membalancer_client_finalize;

    /**
     * MembalancerClient:connection:
     *
     * The bus connection (given, or made at initialization).
     */
    props[PROP_CONNECTION] = g_param_spec_object(
        "connection", NULL, NULL, G_TYPE_DBUS_CONNECTION,
        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
    /**
     * MembalancerClient:address:
     *
     * The address of the bus to connect to; %NULL: the system bus.
     */
    props[PROP_ADDRESS] = g_param_spec_string("address", NULL, NULL, NULL,
                                              G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                                  G_PARAM_STATIC_STRINGS);
    /**
     * MembalancerClient:auto-start:
     *
     * Whether the bus may start the service for this client (when it is
     * activatable): when the client is made and by its calls. %FALSE: the
     * client never starts it; made while the service is away, it is not
     * [property@Membalancer.Client:running], its calls fail with
     * %MEMBALANCER_ERROR_NOT_RUNNING, and it follows the service when the
     * service comes.
     */
    props[PROP_AUTO_START] = g_param_spec_boolean("auto-start", NULL, NULL, TRUE,
                                                  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                                      G_PARAM_STATIC_STRINGS);
    /**
     * MembalancerClient:running:
     *
     * Whether membalancerd is on the bus and the client has loaded its
     * properties (the settings' properties hold the service's values).
     */
    props[PROP_RUNNING] = g_param_spec_boolean("running", NULL, NULL, FALSE, RO);
    /**
     * MembalancerClient:version:
     *
     * The version of membalancerd.
     */
    props[PROP_VERSION] = g_param_spec_string("version", NULL, NULL, NULL, RO);
    /**
     * MembalancerClient:backend:
     *
     * The hypervisor backend: `libvirt`, or `fake` (simulated guests).
     */
    props[PROP_BACKEND] = g_param_spec_string("backend", NULL, NULL, NULL, RO);
    /**
     * MembalancerClient:policy:
     *
     * The balancing policy: `balanced`, `paper`, `mom` or `static`.
     */
    props[PROP_POLICY] = g_param_spec_string("policy", NULL, NULL, NULL, RO);
    /**
     * MembalancerClient:pool-kib:
     *
     * The memory the registered VMs share, in KiB.
     */
    props[PROP_POOL_KIB] = g_param_spec_uint64("pool-kib", NULL, NULL, 0, G_MAXUINT64, 0, RO);
    /**
     * MembalancerClient:reserve-kib:
     *
     * The part of the pool that is never handed out, in KiB.
     */
    props[PROP_RESERVE_KIB] =
        g_param_spec_uint64("reserve-kib", NULL, NULL, 0, G_MAXUINT64, 0, RO);
    /**
     * MembalancerClient:interval-ms:
     *
     * The balancing interval, in milliseconds.
     */
    props[PROP_INTERVAL_MS] = g_param_spec_uint("interval-ms", NULL, NULL, 0, G_MAXUINT, 0, RO);
    /**
     * MembalancerClient:alpha:
     *
     * The weight of the newest interval in the demand prediction.
     */
    props[PROP_ALPHA] = g_param_spec_double("alpha", NULL, NULL, 0.0, 1.0, 0.0, RO);
    /**
     * MembalancerClient:paused:
     *
     * Whether periodic balancing is paused
     * ([method@Membalancer.Client.pause], [method@Membalancer.Client.resume]).
     */
    props[PROP_PAUSED] = g_param_spec_boolean("paused", NULL, NULL, FALSE, RO);
    /**
     * MembalancerClient:connected:
     *
     * Whether the service is connected to its hypervisor.
     */
    props[PROP_CONNECTED] = g_param_spec_boolean("connected", NULL, NULL, FALSE, RO);
    /**
     * MembalancerClient:vm-count:
     *
     * The number of registered VMs.
     */
    props[PROP_VM_COUNT] = g_param_spec_uint("vm-count", NULL, NULL, 0, G_MAXUINT, 0, RO);
    g_object_class_install_properties(object_class, N_PROPS, props);

    /**
     * MembalancerClient::vm-added:
     * @client: the client
     * @vm: the new VM
     *
     * A VM was registered (by anyone), or the service came back with it.
     */
    signals[SIGNAL_VM_ADDED] =
        g_signal_new("vm-added", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, MEMBALANCER_TYPE_VM);
    /**
     * MembalancerClient::vm-removed:
     * @client: the client
     * @vm: the VM that went
     *
     * A VM was unregistered, or the service left the bus.
     */
    signals[SIGNAL_VM_REMOVED] =
        g_signal_new("vm-removed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, MEMBALANCER_TYPE_VM);
    /**
     * MembalancerClient::rebalanced:
     * @client: the client
     * @moves: one `(sx)` entry per VM whose allocation changed: its name
     *   and the change in KiB (positive: it received memory)
     *
     * An interval moved memory; the VMs' properties already carry the new
     * values.
     */
    signals[SIGNAL_REBALANCED] =
        g_signal_new("rebalanced", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_VARIANT);
}

static void
membalancer_client_init(MembalancerClient *self)
{
    self->vms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
}
