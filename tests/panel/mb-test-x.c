/* A private Xvfb for the panel's tests; see mb-test-x.h. */
#include "mb-test-x.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Xvfb goes with the test, however the test ends. */
static void
die_with_parent(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

MbTestX *
mb_test_x_start(int width, int height)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    g_autofree char *geometry = g_strdup_printf("%dx%dx24", width, height);
    MbTestX *x = g_new0(MbTestX, 1);
    char buf[32];
    gsize len = 0;
    int fds[2];

    g_assert_true(g_unix_open_pipe(fds, FD_CLOEXEC, &error));
    g_assert_no_error(error);
    g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
    g_subprocess_launcher_take_fd(launcher, fds[1], 3);
    x->process =
        g_subprocess_launcher_spawn(launcher, &error, "Xvfb", "-displayfd", "3", "-screen", "0",
                                    geometry, "-nolisten", "tcp", "-ac", "-noreset", NULL);
    g_assert_no_error(error);
    g_clear_object(&launcher); /* closes our copy of the write end */
    /* Xvfb writes its display number once it listens (or exits). */
    while (len < sizeof(buf) - 1) {
        struct pollfd pfd = {fds[0], POLLIN, 0};
        ssize_t n;
        if (poll(&pfd, 1, 30000) <= 0)
            break;
        n = read(fds[0], buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (gsize)n;
        if (memchr(buf, '\n', len) != NULL)
            break;
    }
    close(fds[0]);
    buf[len] = '\0';
    g_strstrip(buf);
    if (buf[0] == '\0')
        g_error("Xvfb did not start (is the xvfb package installed?)");
    x->display = g_strdup_printf(":%s", buf);
    x->width = width;
    x->height = height;
    return x;
}

void
mb_test_x_stop(MbTestX *x)
{
    if (x == NULL)
        return;
    g_subprocess_send_signal(x->process, SIGTERM);
    g_subprocess_wait(x->process, NULL, NULL);
    g_object_unref(x->process);
    g_free(x->display);
    g_free(x);
}

void
mb_test_x_setenv(const MbTestX *x)
{
    g_setenv("DISPLAY", x->display, TRUE);
    g_setenv("GDK_BACKEND", "x11", TRUE);
    g_setenv("GSK_RENDERER", "cairo", TRUE);
    g_setenv("GTK_A11Y", "none", TRUE);
    g_setenv("NO_AT_BRIDGE", "1", TRUE);
    g_setenv("GSETTINGS_BACKEND", "memory", TRUE);
    g_unsetenv("WAYLAND_DISPLAY");
}
