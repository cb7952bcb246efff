#include "mb-manager.h"

#include <string.h>

#include "mb-engine.h"
#include "mb-error.h"
#include "mb-log.h"
#include "mb-policy.h"
#include "mb-vm-object.h"

struct _MbManager {
    MbMemBalancerSkeleton parent_instance;

    MbEngine *engine; /* a weak pointer: NULL once it is gone */
    MbAuth *auth;     /* a reference */
};

static void mb_manager_iface_init(MbMemBalancerIface *iface);

G_DEFINE_TYPE_WITH_CODE(MbManager, mb_manager, MB_TYPE_MEM_BALANCER_SKELETON,
                        G_IMPLEMENT_INTERFACE(MB_TYPE_MEM_BALANCER, mb_manager_iface_init))

static GDBusInterfaceVTable manager_vtable;
static const GDBusInterfaceVTable *parent_vtable;

static void
set_property_call(MbManager *self, GDBusMethodInvocation *invocation, GVariant *parameters)
{
    const GDBusPropertyInfo *info = g_dbus_method_invocation_get_property_info(invocation);
    g_autoptr(GVariant) value = NULL;
    g_autoptr(GError) error = NULL;
    const char *iface, *name;

    g_variant_get(parameters, "(&s&sv)", &iface, &name, &value);
    if (!g_str_equal(info->name, "Paused") ||
        !g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
        g_dbus_method_invocation_return_error(invocation, MB_SERVICE_ERROR,
                                              MB_SERVICE_ERROR_INVALID_ARGS,
                                              "only Paused (a boolean) can be written");
        return;
    }
    if (!mb_engine_set_paused(self->engine, g_variant_get_boolean(value), &error)) {
        g_dbus_method_invocation_return_gerror(invocation, error);
        return;
    }
    g_dbus_method_invocation_return_value(invocation, NULL);
}

/* Authorized: property writes arrive here because set_property is unset in
 * our vtable; method calls go to the generated dispatcher. */
static void
dispatch(MbManager *self, GDBusMethodInvocation *invocation)
{
    /* A call authorized after the engine stopped (or went away). */
    if (self->engine == NULL || mb_engine_is_stopping(self->engine)) {
        g_dbus_method_invocation_return_error_literal(
            invocation, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
            "membalancerd is stopping: try again when it is back");
        return;
    }
    if (g_dbus_method_invocation_get_property_info(invocation) != NULL) {
        set_property_call(self, invocation,
                          g_dbus_method_invocation_get_parameters(invocation));
        return;
    }
    parent_vtable->method_call(g_dbus_method_invocation_get_connection(invocation),
                               g_dbus_method_invocation_get_sender(invocation),
                               g_dbus_method_invocation_get_object_path(invocation),
                               g_dbus_method_invocation_get_interface_name(invocation),
                               g_dbus_method_invocation_get_method_name(invocation),
                               g_dbus_method_invocation_get_parameters(invocation), invocation,
                               self);
}

static void
deny(GDBusMethodInvocation *invocation, const GError *error)
{
    mb_log(G_LOG_LEVEL_INFO, "MB_DENIED", g_dbus_method_invocation_get_method_name(invocation),
           "denied: %s", error->message);
    g_dbus_method_invocation_return_gerror(invocation, error);
}

static void
on_authorized(GDBusMethodInvocation *invocation, gboolean allowed, const GError *error,
              gpointer user_data)
{
    g_autoptr(MbManager) self = user_data;

    if (!allowed)
        deny(invocation, error);
    else if (g_dbus_interface_skeleton_get_connection(G_DBUS_INTERFACE_SKELETON(self)) == NULL)
        /* Unexported: the daemon is stopping, or gone. */
        g_dbus_method_invocation_return_error_literal(invocation, MB_SERVICE_ERROR,
                                                      MB_SERVICE_ERROR_UNAVAILABLE,
                                                      "membalancerd is stopping");
    else
        dispatch(self, invocation);
}

/* Every method call and property write, in the main thread. Everything on
 * this interface changes state, so everything is checked: from the caches
 * when they know the caller (no thread, no wait: a flood of denied calls
 * costs the main loop a hash lookup each), else after one lookup per caller
 * (the bus asked asynchronously, NSS in the auth's own threads), which
 * never blocks the main loop either. Not in g-authorize-method: that runs
 * each call as a GTask in GLib's shared pool, where a flood queued ahead of
 * the ticks' own workers (ticks 4-9 s apart at a 100 ms interval). */
static void
manager_method_call(GDBusConnection *connection, const char *sender, const char *object_path,
                    const char *interface_name, const char *method_name, GVariant *parameters,
                    GDBusMethodInvocation *invocation, gpointer user_data)
{
    MbManager *self = MB_MANAGER(user_data);
    g_autoptr(GError) error = NULL;

    switch (mb_auth_check_cached(self->auth, invocation, &error)) {
    case MB_AUTH_ALLOWED:
        dispatch(self, invocation);
        break;
    case MB_AUTH_DENIED:
        deny(invocation, error);
        break;
    case MB_AUTH_UNKNOWN:
        mb_auth_check_async(self->auth, invocation, on_authorized, g_object_ref(self));
        break;
    }
}

/* GDBusInterfaceSkeleton hands method calls to method_call, but writes
 * through org.freedesktop.DBus.Properties.Set straight to set_property.
 * With set_property unset, GDBusConnection hands them to method_call too,
 * where they are authorized like any call. */
static GDBusInterfaceVTable *
mb_manager_get_vtable(GDBusInterfaceSkeleton *skeleton)
{
    if (parent_vtable == NULL) {
        parent_vtable =
            G_DBUS_INTERFACE_SKELETON_CLASS(mb_manager_parent_class)->get_vtable(skeleton);
        manager_vtable = *parent_vtable;
        manager_vtable.method_call = manager_method_call;
        manager_vtable.set_property = NULL;
    }
    return &manager_vtable;
}

static gboolean
parse_options(GVariant *options, MbRegisterOptions *out, GError **error)
{
    GVariantIter iter;
    const char *key;
    GVariant *value;

    memset(out, 0, sizeof(*out));
    g_variant_iter_init(&iter, options);
    while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
        const char *want = NULL;

        if (g_str_equal(key, "min-kib") || g_str_equal(key, "max-kib"))
            want = "t";
        else if (g_str_equal(key, "foreground"))
            want = "b";
        if (want == NULL) {
            g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                        "unknown option '%s' (known: min-kib, max-kib, foreground)", key);
            g_variant_unref(value);
            return FALSE;
        }
        if (!g_variant_is_of_type(value, G_VARIANT_TYPE(want))) {
            g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                        "option '%s' must be of type '%s', not '%s'", key, want,
                        g_variant_get_type_string(value));
            g_variant_unref(value);
            return FALSE;
        }
        if (g_str_equal(key, "min-kib")) {
            out->has_min = TRUE;
            out->min_kib = g_variant_get_uint64(value);
        } else if (g_str_equal(key, "max-kib")) {
            out->has_max = TRUE;
            out->max_kib = g_variant_get_uint64(value);
        } else {
            out->has_foreground = TRUE;
            out->foreground = g_variant_get_boolean(value);
        }
    }
    return TRUE;
}

typedef struct {
    MbManager *self;
    GDBusMethodInvocation *invocation;
    gboolean or_update; /* RegisterOrUpdateVM: the rest to update with */
    char *name;
    guint priority;
    MbRegisterOptions options;
} RegisterCall;

static void
on_registered(GObject *source, GAsyncResult *result, gpointer user_data)
{
    RegisterCall *call = user_data;
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;

    if (mb_engine_register_vm_finish(MB_ENGINE(source), result, &error))
        path = mb_vm_object_path_for_name(call->name);

    /* Another call registered the name during the lookup: update it. */
    if (path == NULL && call->or_update &&
        g_error_matches(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_ALREADY_REGISTERED)) {
        g_clear_error(&error);
        if (mb_engine_update_vm(call->self->engine, call->name, call->priority, &call->options,
                                &error))
            path = mb_vm_object_path_for_name(call->name);
    }
    if (path == NULL)
        g_dbus_method_invocation_return_gerror(call->invocation, error);
    else
        /* RegisterVM and RegisterOrUpdateVM return the same (o). */
        mb_mem_balancer_complete_register_vm(MB_MEM_BALANCER(call->self), call->invocation,
                                             path);
    g_object_unref(call->self);
    g_object_unref(call->invocation);
    g_free(call->name);
    g_free(call);
}

static void
start_register(MbManager *self, GDBusMethodInvocation *invocation, const char *name,
               guint priority, const MbRegisterOptions *opts, gboolean or_update)
{
    RegisterCall *call = g_new0(RegisterCall, 1);

    call->self = g_object_ref(self);
    call->invocation = g_object_ref(invocation);
    call->or_update = or_update;
    call->name = g_strdup(name);
    call->priority = priority;
    call->options = *opts;
    mb_engine_register_vm_async(self->engine, name, priority, opts, on_registered, call);
}

static gboolean
handle_register_vm(MbMemBalancer *iface, GDBusMethodInvocation *invocation, const char *name,
                   guint priority, GVariant *options)
{
    MbManager *self = MB_MANAGER(iface);
    g_autoptr(GError) error = NULL;
    MbRegisterOptions opts;

    if (!parse_options(options, &opts, &error)) {
        g_dbus_method_invocation_return_gerror(invocation, error);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    start_register(self, invocation, name, priority, &opts, FALSE);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_unregister_vm(MbMemBalancer *iface, GDBusMethodInvocation *invocation, const char *name)
{
    MbManager *self = MB_MANAGER(iface);
    g_autoptr(GError) error = NULL;

    if (!mb_engine_unregister_vm(self->engine, name, &error))
        g_dbus_method_invocation_return_gerror(invocation, error);
    else
        mb_mem_balancer_complete_unregister_vm(iface, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_set_priority(MbMemBalancer *iface, GDBusMethodInvocation *invocation, const char *name,
                    guint priority)
{
    MbManager *self = MB_MANAGER(iface);
    g_autoptr(GError) error = NULL;

    if (!mb_engine_set_priority(self->engine, name, priority, &error))
        g_dbus_method_invocation_return_gerror(invocation, error);
    else
        mb_mem_balancer_complete_set_priority(iface, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_set_foreground(MbMemBalancer *iface, GDBusMethodInvocation *invocation, const char *name)
{
    MbManager *self = MB_MANAGER(iface);
    g_autoptr(GError) error = NULL;

    if (!mb_engine_set_foreground(self->engine, name, &error))
        g_dbus_method_invocation_return_gerror(invocation, error);
    else
        mb_mem_balancer_complete_set_foreground(iface, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_set_limits(MbMemBalancer *iface, GDBusMethodInvocation *invocation, const char *name,
                  guint64 min_kib, guint64 max_kib)
{
    MbManager *self = MB_MANAGER(iface);
    g_autoptr(GError) error = NULL;

    if (!mb_engine_set_limits(self->engine, name, min_kib, max_kib, &error))
        g_dbus_method_invocation_return_gerror(invocation, error);
    else
        mb_mem_balancer_complete_set_limits(iface, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_clear_foreground(MbMemBalancer *iface, GDBusMethodInvocation *invocation)
{
    MbManager *self = MB_MANAGER(iface);
    g_autoptr(GError) error = NULL;

    if (!mb_engine_clear_foreground(self->engine, &error))
        g_dbus_method_invocation_return_gerror(invocation, error);
    else
        mb_mem_balancer_complete_clear_foreground(iface, invocation);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Registered: updated now; not: RegisterVM's path (a hypervisor lookup),
 * updating instead if the name was registered meanwhile. */
static gboolean
handle_register_or_update_vm(MbMemBalancer *iface, GDBusMethodInvocation *invocation,
                             const char *name, guint priority, GVariant *options)
{
    MbManager *self = MB_MANAGER(iface);
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    MbRegisterOptions opts;

    if (!parse_options(options, &opts, &error)) {
        g_dbus_method_invocation_return_gerror(invocation, error);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    if (!mb_engine_is_registered(self->engine, name)) {
        start_register(self, invocation, name, priority, &opts, TRUE);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    if (!mb_engine_update_vm(self->engine, name, priority, &opts, &error)) {
        g_dbus_method_invocation_return_gerror(invocation, error);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    path = mb_vm_object_path_for_name(name);
    mb_mem_balancer_complete_register_or_update_vm(iface, invocation, path);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

typedef struct {
    MbMemBalancer *iface;
    GDBusMethodInvocation *invocation;
} RebalanceCall;

static void
rebalance_done(gpointer user_data)
{
    RebalanceCall *call = user_data;

    mb_mem_balancer_complete_rebalance(call->iface, call->invocation);
    g_object_unref(call->iface);
    g_object_unref(call->invocation);
    g_free(call);
}

static gboolean
handle_rebalance(MbMemBalancer *iface, GDBusMethodInvocation *invocation)
{
    MbManager *self = MB_MANAGER(iface);
    RebalanceCall *call = g_new0(RebalanceCall, 1);

    call->iface = g_object_ref(iface);
    call->invocation = g_object_ref(invocation);
    mb_engine_rebalance(self->engine, rebalance_done, call);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
mb_manager_iface_init(MbMemBalancerIface *iface)
{
    iface->handle_register_vm = handle_register_vm;
    iface->handle_unregister_vm = handle_unregister_vm;
    iface->handle_set_priority = handle_set_priority;
    iface->handle_set_foreground = handle_set_foreground;
    iface->handle_rebalance = handle_rebalance;
    iface->handle_set_limits = handle_set_limits;
    iface->handle_clear_foreground = handle_clear_foreground;
    iface->handle_register_or_update_vm = handle_register_or_update_vm;
}

static void
mb_manager_finalize(GObject *object)
{
    MbManager *self = MB_MANAGER(object);

    g_clear_weak_pointer(&self->engine);
    g_clear_pointer(&self->auth, mb_auth_unref);
    G_OBJECT_CLASS(mb_manager_parent_class)->finalize(object);
}

static void
mb_manager_class_init(MbManagerClass *klass)
{
    GDBusInterfaceSkeletonClass *skeleton_class = G_DBUS_INTERFACE_SKELETON_CLASS(klass);

    G_OBJECT_CLASS(klass)->finalize = mb_manager_finalize;
    skeleton_class->get_vtable = mb_manager_get_vtable;
}

static void
mb_manager_init(MbManager *self)
{
}

MbManager *
mb_manager_new(MbEngine *engine, MbAuth *auth)
{
    MbManager *self = g_object_new(MB_TYPE_MANAGER, NULL);

    g_set_weak_pointer(&self->engine, engine);
    self->auth = mb_auth_ref(auth);
    return self;
}
