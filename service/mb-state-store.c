#include "mb-state-store.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include "mb-error.h"
#include "mb-keyfile.h"
#include "mb-log.h"
#include "mb-policy.h"

#define STATE_FILE "registrations.ini"
#define STATE_GROUP "membalancer"
#define STATE_VERSION 1

struct _MbStateStore {
    char *dir;
    char *path;
};

MbRegistration *
mb_registration_new(const char *name, guint priority, guint64 min_kib, guint64 max_kib,
                    gboolean foreground)
{
    MbRegistration *reg = g_new0(MbRegistration, 1);

    reg->name = g_strdup(name);
    reg->priority = priority;
    reg->min_kib = min_kib;
    reg->max_kib = max_kib;
    reg->foreground = foreground;
    return reg;
}

MbRegistration *
mb_registration_copy(const MbRegistration *reg)
{
    return mb_registration_new(reg->name, reg->priority, reg->min_kib, reg->max_kib,
                               reg->foreground);
}

void
mb_registration_free(MbRegistration *reg)
{
    if (reg == NULL)
        return;
    g_free(reg->name);
    g_free(reg);
}

MbState *
mb_state_new(void)
{
    MbState *state = g_new0(MbState, 1);

    state->registrations = g_ptr_array_new_with_free_func((GDestroyNotify)mb_registration_free);
    return state;
}

void
mb_state_free(MbState *state)
{
    if (state == NULL)
        return;
    g_ptr_array_unref(state->registrations);
    g_free(state);
}

gboolean
mb_vm_name_validate(const char *name, GError **error)
{
    gsize len = strlen(name);

    if (len == 0) {
        g_set_error_literal(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                            "the VM name is empty: give the libvirt domain name");
        return FALSE;
    }
    if (len > MB_VM_NAME_MAX) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "the VM name is %" G_GSIZE_FORMAT " bytes long; at most %d are allowed",
                    len, MB_VM_NAME_MAX);
        return FALSE;
    }
    if (!g_utf8_validate(name, (gssize)len, NULL)) {
        g_set_error_literal(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                            "the VM name is not valid UTF-8");
        return FALSE;
    }
    for (const char *p = name; *p != '\0'; p = g_utf8_next_char(p)) {
        if (g_unichar_iscntrl(g_utf8_get_char(p))) {
            g_set_error_literal(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                                "the VM name contains a control character");
            return FALSE;
        }
    }
    return TRUE;
}

MbStateStore *
mb_state_store_new(const char *dir, GError **error)
{
    MbStateStore *store;

    if (g_mkdir_with_parents(dir, 0750) != 0) {
        int saved = errno;
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot create the state directory %s: %s", dir, g_strerror(saved));
        return NULL;
    }
    store = g_new0(MbStateStore, 1);
    store->dir = g_strdup(dir);
    store->path = g_build_filename(dir, STATE_FILE, NULL);
    return store;
}

void
mb_state_store_free(MbStateStore *store)
{
    if (store == NULL)
        return;
    g_free(store->dir);
    g_free(store->path);
    g_free(store);
}

const char *
mb_state_store_get_path(MbStateStore *store)
{
    return store->path;
}

static void
move_aside(MbStateStore *store, const char *raw_why)
{
    /* The reason quotes the file's bytes: keep the log valid UTF-8. */
    g_autofree char *why = g_utf8_make_valid(raw_why, -1);
    g_autofree char *aside = g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT, store->path,
                                             g_get_real_time() / G_USEC_PER_SEC);

    if (g_rename(store->path, aside) != 0) {
        int saved = errno;
        mb_log(G_LOG_LEVEL_WARNING, "MB_STATE_FILE", store->path,
               "state file %s is corrupt (%s) and could not be moved aside: %s", store->path,
               why, g_strerror(saved));
        return;
    }
    mb_log(G_LOG_LEVEL_WARNING, "MB_STATE_FILE", store->path,
           "state file %s is corrupt (%s): moved to %s, the valid registrations are kept",
           store->path, why, aside);
}

static MbRegistration *
load_entry(GKeyFile *file, const char *group, GError **error)
{
    GError *local = NULL;
    g_autofree char *name = mb_keyfile_get_string(file, group, "name", &local);
    guint64 priority = 0, min_kib = 0, max_kib = 0;
    gboolean foreground = FALSE;

    if (local != NULL) {
        g_propagate_error(error, local);
        return NULL;
    }
    if (name == NULL || !mb_vm_name_validate(name, error))
        return NULL;
    priority = g_key_file_get_uint64(file, group, "priority", &local);
    if (local == NULL)
        min_kib = g_key_file_get_uint64(file, group, "min-kib", &local);
    if (local == NULL)
        max_kib = g_key_file_get_uint64(file, group, "max-kib", &local);
    if (local == NULL)
        foreground = g_key_file_get_boolean(file, group, "foreground", &local);
    if (local != NULL) {
        g_propagate_error(error, local);
        return NULL;
    }
    if (priority > MB_PRIORITY_MAX || min_kib > max_kib) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_INVALID_ARGS,
                    "[%s]: priority over %u or min-kib above max-kib", group, MB_PRIORITY_MAX);
        return NULL;
    }
    return mb_registration_new(name, (guint)priority, min_kib, max_kib, foreground);
}

MbState *
mb_state_store_load(MbStateStore *store, GError **error)
{
    g_autoptr(MbState) state = mb_state_new();
    g_autoptr(GKeyFile) file = g_key_file_new();
    g_autoptr(GError) local = NULL;
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GString) problems = g_string_new(NULL);
    g_auto(GStrv) groups = NULL;
    gboolean have_foreground = FALSE;

    if (!g_key_file_load_from_file(file, store->path, G_KEY_FILE_NONE, &local)) {
        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_steal_pointer(&state);
        if (local->domain == G_FILE_ERROR) {
            g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                        "cannot read %s: %s", store->path, local->message);
            return NULL;
        }
        move_aside(store, local->message);
        return g_steal_pointer(&state);
    }
    if (g_key_file_get_integer(file, STATE_GROUP, "version", NULL) != STATE_VERSION)
        g_string_append(problems, "no or unknown version; ");
    state->paused = g_key_file_get_boolean(file, STATE_GROUP, "paused", NULL);

    groups = g_key_file_get_groups(file, NULL);
    for (gsize i = 0; groups[i] != NULL; i++) {
        g_autoptr(GError) entry_error = NULL;
        MbRegistration *reg;

        if (g_str_equal(groups[i], STATE_GROUP))
            continue;
        if (!g_str_has_prefix(groups[i], "vm ")) {
            g_string_append_printf(problems, "unknown group [%s]; ", groups[i]);
            continue;
        }
        reg = load_entry(file, groups[i], &entry_error);
        if (reg == NULL) {
            g_string_append_printf(problems, "[%s]: %s; ", groups[i],
                                   entry_error != NULL ? entry_error->message : "invalid");
            continue;
        }
        if (g_hash_table_contains(seen, reg->name)) {
            g_string_append_printf(problems, "[%s]: duplicate VM; ", groups[i]);
            mb_registration_free(reg);
            continue;
        }
        /* One foreground VM at a time: the first one wins. */
        if (reg->foreground && have_foreground) {
            g_string_append_printf(problems, "[%s]: second foreground VM; ", groups[i]);
            reg->foreground = FALSE;
        }
        have_foreground |= reg->foreground;
        g_ptr_array_add(state->registrations, reg);
        g_hash_table_add(seen, reg->name);
    }
    if (problems->len > 0) {
        g_string_truncate(problems, problems->len - 2);
        move_aside(store, problems->str);
        /* Keep a good copy of what survived. */
        if (!mb_state_store_save(store, state, &local))
            mb_log(G_LOG_LEVEL_WARNING, "MB_STATE_FILE", store->path, "%s", local->message);
    }
    return g_steal_pointer(&state);
}

gboolean
mb_state_store_save(MbStateStore *store, const MbState *state, GError **error)
{
    g_autoptr(GKeyFile) file = g_key_file_new();
    g_autoptr(GError) local = NULL;
    g_autofree char *data = NULL;
    gsize length = 0;

    g_key_file_set_comment(file, NULL, NULL,
                           " membalancerd registrations: written by the service, do not edit "
                           "while it runs",
                           NULL);
    g_key_file_set_integer(file, STATE_GROUP, "version", STATE_VERSION);
    g_key_file_set_boolean(file, STATE_GROUP, "paused", state->paused);
    for (guint i = 0; i < state->registrations->len; i++) {
        const MbRegistration *reg = g_ptr_array_index(state->registrations, i);
        g_autofree char *group = g_strdup_printf("vm %u", i);

        g_key_file_set_string(file, group, "name", reg->name);
        g_key_file_set_uint64(file, group, "priority", reg->priority);
        g_key_file_set_uint64(file, group, "min-kib", reg->min_kib);
        g_key_file_set_uint64(file, group, "max-kib", reg->max_kib);
        g_key_file_set_boolean(file, group, "foreground", reg->foreground);
    }
    data = g_key_file_to_data(file, &length, NULL);
    if (!g_file_set_contents_full(store->path, data, (gssize)length,
                                  G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                  0640, &local)) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot store the registrations: %s", local->message);
        return FALSE;
    }
    return TRUE;
}
