/* The pool tests' daemon (test-service-pool, test-service-grant): the
 * fake backend's three VMs of 512 MiB (at most 1 GiB) in a pool of
 * 1536 MiB, and its trace of the true balloon positions, against which
 * the pool's promise is checked. */
#include "mb-test-pool.h"

/* Starts the daemon with [membalancer] lines, and [fake] lines
 * (balloon-rate, faults) plus a trace file. */
void
pool_start_with(Pool *p, const char *main_lines, const char *fake_lines, const char *extra_args)
{
    g_autofree char *conf = NULL, *path = NULL;
    g_auto(GStrv) extra = extra_args != NULL ? g_strsplit(extra_args, " ", -1) : NULL;
    g_autoptr(GPtrArray) args = g_ptr_array_new();

    fixture_setup(&p->f, NULL);
    p->trace = g_build_filename(p->f.bus->dir, "trace.txt", NULL);
    conf = g_strdup_printf("[membalancer]\n%s"
                           "[fake]\nalloc = 512MiB\nmax = 1GiB\ntv-game = game\n"
                           "balloon-grow-rate = instant\ntrace = %s\n%s",
                           main_lines, p->trace, fake_lines);
    path = mb_test_write_file(p->f.bus->dir, "pool.conf", conf);
    g_ptr_array_add(args, (gpointer) "--config");
    g_ptr_array_add(args, path);
    for (gsize i = 0; extra != NULL && extra[i] != NULL; i++)
        g_ptr_array_add(args, extra[i]);
    g_ptr_array_add(args, NULL);
    fixture_start(&p->f, (const char *const *)args->pdata);
}

/* ... with pool 1536MiB and a 100 ms interval. */
void
pool_start(Pool *p, const char *fake_lines, const char *extra_args)
{
    pool_start_with(p, "pool = 1536MiB\ninterval = 100\n", fake_lines, extra_args);
}

void
pool_stop(Pool *p)
{
    fixture_teardown(&p->f, NULL);
    g_free(p->trace);
}

/* The largest sum of the true balloon positions in the trace. */
static guint64
trace_max_sum(const char *trace, guint *n_lines)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GHashTable) cur = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    guint64 max = 0;

    g_assert_true(g_file_get_contents(trace, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    *n_lines = 0;
    for (gsize i = 0; lines[i] != NULL; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], " ", -1);
        GHashTableIter iter;
        gpointer value;
        guint64 sum = 0;

        if (g_strv_length(f) < 4)
            continue;
        (*n_lines)++;
        g_hash_table_replace(cur, g_strdup(f[1]),
                             GSIZE_TO_POINTER((gsize)g_ascii_strtoull(f[2], NULL, 10)));
        g_hash_table_iter_init(&iter, cur);
        while (g_hash_table_iter_next(&iter, NULL, &value))
            sum += GPOINTER_TO_SIZE(value);
        max = MAX(max, sum);
    }
    return max;
}

guint64
vm_alloc(Pool *p, const char *path)
{
    g_autoptr(MbMemBalancerVM) vm = vm_proxy(&p->f, path);

    return mb_mem_balancer_vm_get_allocated_kib(vm);
}

void
assert_pool_kept_at(Pool *p, const char *what, guint64 pool_kib)
{
    guint n = 0;
    guint64 max = trace_max_sum(p->trace, &n);

    g_test_message("%s: %u trace lines, largest sum of balloons %" G_GUINT64_FORMAT
                   " KiB of a %" G_GUINT64_FORMAT " KiB pool",
                   what, n, max, pool_kib);
    g_assert_cmpuint(n, >, 20);
    g_assert_cmpuint(max, <=, pool_kib);
}

void
assert_pool_kept(Pool *p, const char *what)
{
    assert_pool_kept_at(p, what, POOL_KIB);
}
