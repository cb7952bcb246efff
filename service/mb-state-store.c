#include "mb-state-store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "mb-error.h"
#include "mb-keyfile.h"
#include "mb-log.h"
#include "mb-policy.h"

#define STATE_FILE "registrations.ini"
#define STATE_GROUP "membalancer"
#define STATE_VERSION 1
/* We write a few hundred bytes per VM: anything this big is not ours. */
#define STATE_MAX_BYTES (16 * 1024 * 1024)
/* How much of a corrupt file's reason reaches the journal. */
#define REASON_MAX_BYTES 1024

typedef int MbFd;
static void
mb_fd_close(MbFd fd)
{
    close(fd);
}
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(MbFd, mb_fd_close, -1)

struct _MbStateStore {
    char *dir;
    char *path;
    /* A corrupt file that could not be moved aside: kept as it is and
     * never written over while the path still names it (see save). */
    gboolean kept;
    dev_t kept_dev;
    ino_t kept_ino;
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

/* The directory holds what the service trusts at start: only its own user
 * may write it. Refused, not repaired: a directory others could write may
 * already hold their files, which a chmod would bless. */
static gboolean
check_dir(const char *dir, GError **error)
{
    struct stat st;

    if (stat(dir, &st) != 0) {
        int saved = errno;
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "cannot use the state directory %s: %s", dir, g_strerror(saved));
        return FALSE;
    }
    if (!S_ISDIR(st.st_mode)) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "refusing the state directory %s: it is not a directory", dir);
        return FALSE;
    }
    if (st.st_uid != geteuid()) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "refusing the state directory %s: it is owned by uid %u, not by the "
                    "service's uid %u (chown it, or let systemd's StateDirectory= make it)",
                    dir, (guint)st.st_uid, (guint)geteuid());
        return FALSE;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "refusing the state directory %s: it is writable by %s (mode %04o); "
                    "only the service may write it: chmod go-w %s",
                    dir, (st.st_mode & S_IWOTH) != 0 ? "others" : "its group",
                    (guint)(st.st_mode & 07777), dir);
        return FALSE;
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
    if (!check_dir(dir, error))
        return NULL;
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

/* The reason quotes the file's bytes: for the journal, valid UTF-8, no
 * control characters (escaped) and at most REASON_MAX_BYTES of it. */
static char *
reason_for_log(const char *raw)
{
    g_autofree char *valid = g_utf8_make_valid(raw, -1);
    GString *out = g_string_new(NULL);
    const char *p;

    for (p = valid; *p != '\0' && out->len < REASON_MAX_BYTES; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (g_unichar_iscntrl(c))
            g_string_append_printf(out, "\\x%02x", (guint)c);
        else
            g_string_append_unichar(out, c);
    }
    if (*p != '\0')
        g_string_append_printf(out, "... (%" G_GSIZE_FORMAT " more bytes)", strlen(p));
    return g_string_free(out, FALSE);
}

/* Renames without replacing anything, and never through a link. */
static gboolean
rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return TRUE;
    if (errno != EINVAL && errno != ENOSYS)
        return FALSE;
    /* A file system without RENAME_NOREPLACE: link() neither follows nor replaces. */
    if (link(from, to) != 0)
        return FALSE;
    return unlink(from) == 0;
}

/* Moves the state file to the first free <file>.corrupt-<now>[-i]; returns
 * 0 with the new name in *aside, or the errno of the last attempt. */
static int
rename_aside(MbStateStore *store, char **aside)
{
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    int saved = 0;

    for (guint i = 0; i < 100; i++) {
        g_free(*aside);
        *aside =
            i == 0 ? g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT, store->path, now)
                   : g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT "-%u", store->path, now, i);
        if (rename_noreplace(store->path, *aside))
            return 0;
        saved = errno;
        if (saved != EEXIST)
            break;
    }
    return saved;
}

/* read_st: the file that was read. Only that very file is moved aside; if
 * the name now points elsewhere (a link, another file), it stays. Returns
 * FALSE when the file read is still at the path (it could not be moved):
 * then it is kept, and save refuses to write over it. */
static gboolean
move_aside(MbStateStore *store, const struct stat *read_st, const char *raw_why)
{
    g_autofree char *why = reason_for_log(raw_why);
    g_autofree char *aside = NULL;
    struct stat st;
    int saved;

    if (lstat(store->path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != read_st->st_dev ||
        st.st_ino != read_st->st_ino) {
        mb_log_id(G_LOG_LEVEL_WARNING, MB_MESSAGE_ID_STATE_CORRUPT, "MB_STATE_FILE",
                  store->path,
                  "state file %s is corrupt (%s) and changed while it was read: left in place",
                  store->path, why);
        return TRUE;
    }
    saved = rename_aside(store, &aside);
    if (saved == 0) {
        mb_log_id(G_LOG_LEVEL_WARNING, MB_MESSAGE_ID_STATE_CORRUPT, "MB_STATE_FILE",
                  store->path,
                  "state file %s is corrupt (%s): moved to %s, the valid registrations are "
                  "kept",
                  store->path, why, aside);
        return TRUE;
    }
    store->kept = TRUE;
    store->kept_dev = st.st_dev;
    store->kept_ino = st.st_ino;
    mb_log_id(G_LOG_LEVEL_WARNING, MB_MESSAGE_ID_STATE_CORRUPT, "MB_STATE_FILE", store->path,
              "state file %s is corrupt (%s) and could not be moved aside (%s): it is kept "
              "as it is and nothing is written over it; the valid registrations are used, "
              "but changes are refused until the file is moved or removed by hand",
              store->path, why, g_strerror(saved));
    return FALSE;
}

/* Before a write: a kept corrupt file stops being kept once the path no
 * longer names it (removed or moved by hand) or it can be moved aside now. */
static gboolean
release_kept(MbStateStore *store, GError **error)
{
    g_autofree char *aside = NULL;
    struct stat st;
    gboolean gone;
    int saved;

    if (!store->kept)
        return TRUE;
    if (lstat(store->path, &st) != 0)
        gone = errno == ENOENT;
    else
        gone = st.st_dev != store->kept_dev || st.st_ino != store->kept_ino;
    if (gone) {
        store->kept = FALSE;
        mb_log(G_LOG_LEVEL_MESSAGE, "MB_STATE_FILE", store->path,
               "the corrupt state file %s is gone from its place: registrations are stored "
               "again",
               store->path);
        return TRUE;
    }
    saved = rename_aside(store, &aside);
    if (saved == 0) {
        store->kept = FALSE;
        mb_log(G_LOG_LEVEL_MESSAGE, "MB_STATE_FILE", store->path,
               "the corrupt state file %s is moved to %s now: registrations are stored again",
               store->path, aside);
        return TRUE;
    }
    g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                "cannot store the registrations: the state file %s is corrupt and cannot be "
                "moved aside (%s); it is kept and never written over: move or remove it by "
                "hand, then try again",
                store->path, g_strerror(saved));
    return FALSE;
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

/* Reads the state file without following a symbolic link, and only if it
 * is a regular file. *out_text is NULL when there is no file. */
static gboolean
read_state_file(MbStateStore *store, char **out_text, gsize *out_len, struct stat *out_st,
                GError **error)
{
    g_auto(MbFd) fd = open(store->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    g_autoptr(GByteArray) data = NULL;
    int saved;

    *out_text = NULL;
    *out_len = 0;
    if (fd < 0) {
        saved = errno;
        if (saved == ENOENT)
            return TRUE;
        if (saved == ELOOP)
            g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                        "refusing the state file %s: it is a symbolic link; the service "
                        "reads only a regular file it wrote itself (remove the link)",
                        store->path);
        else
            g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                        "cannot read %s: %s", store->path, g_strerror(saved));
        return FALSE;
    }
    if (fstat(fd, out_st) != 0 || !S_ISREG(out_st->st_mode)) {
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "refusing the state file %s: it is not a regular file", store->path);
        return FALSE;
    }
    data = g_byte_array_sized_new((guint)MIN(out_st->st_size, STATE_MAX_BYTES) + 1);
    for (;;) {
        guint8 chunk[16384];
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            saved = errno;
            g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                        "cannot read %s: %s", store->path, g_strerror(saved));
            return FALSE;
        }
        if (n == 0)
            break;
        g_byte_array_append(data, chunk, (guint)n);
        if (data->len > STATE_MAX_BYTES)
            break; /* too big to be ours: corrupt */
    }
    *out_len = data->len;
    g_byte_array_append(data, (const guint8 *)"", 1);
    *out_text = (char *)g_byte_array_free(g_steal_pointer(&data), FALSE);
    return TRUE;
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
    g_autofree char *text = NULL;
    gboolean have_foreground = FALSE;
    struct stat st;
    gsize length;
    gint version;

    if (!read_state_file(store, &text, &length, &st, error))
        return NULL;
    if (text == NULL)
        return g_steal_pointer(&state);
    if (length > STATE_MAX_BYTES) {
        move_aside(store, &st, "larger than 16 MiB: not a file the service wrote");
        return g_steal_pointer(&state);
    }
    if (!g_key_file_load_from_data(file, text, length, G_KEY_FILE_NONE, &local)) {
        move_aside(store, &st, local->message);
        return g_steal_pointer(&state);
    }
    version = g_key_file_get_integer(file, STATE_GROUP, "version", &local);
    if (local == NULL && version > STATE_VERSION) {
        /* Its registrations may mean more than we can read: keep it as it is. */
        g_set_error(error, MB_SERVICE_ERROR, MB_SERVICE_ERROR_UNAVAILABLE,
                    "the state file %s was written by a newer membalancer (version %d); "
                    "this one reads version %d: run the newer membalancer, or move the file "
                    "away to start without its registrations",
                    store->path, version, STATE_VERSION);
        return NULL;
    }
    if (local != NULL || version != STATE_VERSION)
        g_string_append(problems, "no or unknown version; ");
    g_clear_error(&local);
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
        /* Keep a good copy of what survived, never over the original. */
        if (move_aside(store, &st, problems->str) && !mb_state_store_save(store, state, &local))
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

    if (!release_kept(store, error))
        return FALSE;
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
