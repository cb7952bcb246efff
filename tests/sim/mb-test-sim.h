/* Helpers of the simulator's tests: a workload the tests steer tick by
 * tick, and the CLI run as a child. */
#pragma once

#include <glib.h>
#include <sys/wait.h>

#include "mb-trace.h"
#include "mb-workload.h"

#define MIB 1024ull

/* ---- A workload the tests steer tick by tick ---------------------------- */

typedef struct {
    double anon_kib, file_read_kib, hot_kib;
} Steer;

static inline void
steered_shape(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    const Steer *s = wl->data;

    out->anon_kib = s->anon_kib;
    out->file_read_kib = s->file_read_kib;
    out->hot_file_kib = s->hot_kib;
    (void)variant;
    (void)p;
}

static inline MbWorkload
steered_workload(Steer *steer, double touch_kib_per_s)
{
    MbWorkload wl = {
        .name = "steered",
        .description = "test",
        .work_s = 1e6,
        .touch_kib_per_s = touch_kib_per_s,
        .inactive_anon_ratio = 0.1,
        .shape = steered_shape,
        .data = steer,
    };
    return wl;
}

#define HDR MB_TRACE_HEADER "\n"

/* ---- The CLI ------------------------------------------------------------------ */

static inline char *
sim_binary(void)
{
    const char *env = g_getenv("MB_SIM_BINARY");

    if (env != NULL && *env != '\0')
        return g_strdup(env);
    return g_test_build_filename(G_TEST_BUILT, "..", "sim", "membalancer-sim", NULL);
}

/* Runs the CLI; returns its exit status. */
static inline int
run_cli(const char *const *args, char **out, char **err)
{
    g_autofree char *bin = sim_binary();
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    int wait_status = 0;

    g_ptr_array_add(argv, bin);
    for (; *args; args++)
        g_ptr_array_add(argv, (gpointer)*args);
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                      &wait_status, &error))
        g_error("cannot run %s: %s", bin, error->message);
    if (!WIFEXITED(wait_status))
        g_error("%s died (wait status %d): %s", bin, wait_status, err && *err ? *err : "");
    return WEXITSTATUS(wait_status);
}
