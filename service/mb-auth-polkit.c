/* polkit, asked without blocking: polkit_authority_get_async() once, then
 * polkit_authority_check_authorization() per caller and action. Only used
 * when the daemon is on the system bus (the bus polkitd serves). */
#include "mb-auth-polkit.h"

#include <polkit/polkit.h>

#include "mb-log.h"

/* After "no authority answers", polkit is tried again this much later: on
 * a real system bus polkitd is activatable and may come back. */
#define ABSENT_RETRY_US (10 * G_USEC_PER_SEC)

struct _MbPolkit {
    PolkitAuthority *authority; /* NULL until obtained, or when it cannot be */
    GCancellable *cancellable;
    MbPolkitState state;
    gint64 absent_until_us;
    gboolean said_absent; /* the fallback is logged once per outage */
    guint n_checks;
    GSourceFunc ready;
    gpointer ready_data;
};

static void
set_absent(MbPolkit *polkit, const char *why)
{
    polkit->state = MB_POLKIT_ABSENT;
    polkit->absent_until_us = g_get_monotonic_time() + ABSENT_RETRY_US;
    if (polkit->said_absent)
        return;
    polkit->said_absent = TRUE;
    mb_log(G_LOG_LEVEL_WARNING, "MB_POLKIT", "absent",
           "no polkit authority answers on the system bus (%s): deciding by group membership "
           "until it does",
           why);
}

static void
on_authority(GObject *source, GAsyncResult *result, gpointer user_data)
{
    MbPolkit *polkit = user_data;
    g_autoptr(GError) error = NULL;

    polkit->authority = polkit_authority_get_finish(result, &error);
    if (polkit->authority == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        polkit->state = MB_POLKIT_ABSENT; /* stopping: nobody asks any more */
    else if (polkit->authority == NULL)
        set_absent(polkit, error->message);
    else
        polkit->state = MB_POLKIT_READY;
    polkit->ready(polkit->ready_data);
}

MbPolkit *
mb_polkit_new(GSourceFunc ready, gpointer ready_data)
{
    MbPolkit *polkit = g_new0(MbPolkit, 1);

    polkit->cancellable = g_cancellable_new();
    polkit->state = MB_POLKIT_PENDING;
    polkit->ready = ready;
    polkit->ready_data = ready_data;
    polkit_authority_get_async(polkit->cancellable, on_authority, polkit);
    return polkit;
}

void
mb_polkit_cancel(MbPolkit *polkit)
{
    g_cancellable_cancel(polkit->cancellable);
}

void
mb_polkit_free(MbPolkit *polkit)
{
    if (polkit == NULL)
        return;
    g_clear_object(&polkit->authority);
    g_clear_object(&polkit->cancellable);
    g_free(polkit);
}

MbPolkitState
mb_polkit_get_state(MbPolkit *polkit)
{
    if (polkit->state == MB_POLKIT_ABSENT && polkit->authority != NULL) {
        g_autofree char *owner = polkit_authority_get_owner(polkit->authority);

        if (owner != NULL || g_get_monotonic_time() >= polkit->absent_until_us)
            polkit->state = MB_POLKIT_READY;
    }
    return polkit->state;
}

guint
mb_polkit_get_n_checks(MbPolkit *polkit)
{
    return polkit->n_checks;
}

typedef struct {
    MbPolkit *polkit;
    MbPolkitDone done;
    gpointer user_data;
    gboolean interactive;
} Check;

/* The bus says nobody is there (nor activatable): not polkit's "no". */
static gboolean
is_no_authority(const GError *error)
{
    return g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
           g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
}

static void
on_checked(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Check *check = user_data;
    MbPolkit *polkit = check->polkit;
    g_autoptr(GError) error = NULL;
    g_autoptr(PolkitAuthorizationResult) answer =
        polkit_authority_check_authorization_finish(POLKIT_AUTHORITY(source), result, &error);

    polkit->n_checks--;
    if (error != NULL)
        g_dbus_error_strip_remote_error(error);
    if (answer == NULL && is_no_authority(error)) {
        set_absent(polkit, error->message);
        check->done(MB_POLKIT_NO_ANSWER, FALSE, NULL, check->user_data);
    } else if (answer == NULL) {
        check->done(MB_POLKIT_ERROR, FALSE, error, check->user_data);
    } else {
        PolkitDetails *details = polkit_authorization_result_get_details(answer);
        gboolean dismissed =
            details != NULL && polkit_details_lookup(details, "polkit.dismissed") != NULL;

        if (polkit->said_absent) {
            polkit->said_absent = FALSE;
            mb_log(G_LOG_LEVEL_MESSAGE, "MB_POLKIT", "back",
                   "polkit answers again: deciding through polkit");
        }
        if (polkit_authorization_result_get_is_authorized(answer))
            /* Granted after authentication that polkit does not keep
             * (auth_admin, not _keep): good for this call only. */
            check->done(
                MB_POLKIT_ALLOWED,
                !check->interactive ||
                    polkit_authorization_result_get_temporary_authorization_id(answer) != NULL,
                NULL, check->user_data);
        else if (polkit_authorization_result_get_is_challenge(answer))
            check->done(MB_POLKIT_CHALLENGE, !dismissed, NULL, check->user_data);
        else
            check->done(MB_POLKIT_DENIED, !dismissed, NULL, check->user_data);
    }
    g_free(check);
}

void
mb_polkit_check_async(MbPolkit *polkit, const char *bus_name, const char *action_id,
                      gboolean interactive, MbPolkitDone done, gpointer user_data)
{
    g_autoptr(PolkitSubject) subject = NULL;
    Check *check;

    g_return_if_fail(polkit->authority != NULL);
    subject = polkit_system_bus_name_new(bus_name);
    check = g_new0(Check, 1);
    check->polkit = polkit;
    check->done = done;
    check->user_data = user_data;
    check->interactive = interactive;
    polkit->n_checks++;
    polkit_authority_check_authorization(
        polkit->authority, subject, action_id, NULL,
        interactive ? POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION
                    : POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE,
        polkit->cancellable, on_checked, check);
}
