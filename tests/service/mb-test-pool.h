/* The pool tests' daemon and its balloon trace (mb-test-pool.c). */
#pragma once

#include "mb-test-service.h"

G_BEGIN_DECLS

#define MIB G_GUINT64_CONSTANT(1024)
#define POOL_KIB (G_GUINT64_CONSTANT(1536) * MIB)

typedef struct {
    Fixture f;
    char *trace;
} Pool;

/* Starts the daemon with [membalancer] lines, and [fake] lines
 * (balloon-rate, faults) plus a trace file. */
void pool_start_with(Pool *p, const char *main_lines, const char *fake_lines,
                     const char *extra_args);
/* ... with pool 1536MiB and a 100 ms interval. */
void pool_start(Pool *p, const char *fake_lines, const char *extra_args);
void pool_stop(Pool *p);
/* The VM's AllocatedKiB. */
guint64 vm_alloc(Pool *p, const char *path);
/* The trace has more than 20 lines, and the true balloons never held
 * more than pool_kib together. */
void assert_pool_kept_at(Pool *p, const char *what, guint64 pool_kib);
/* ... than POOL_KIB. */
void assert_pool_kept(Pool *p, const char *what);

G_END_DECLS
