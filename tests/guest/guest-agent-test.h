/* Shared by the guest agent's tests (test-guest-agent*.c): a fake /proc
 * the real membalancer-guest reads, the agent spawned over it, and what it
 * writes read back through the protocol's parser. */
#pragma once

#include <gio/gio.h>
#include <stdbool.h>
#include <stdint.h>

#include "mb-guest-wire.h"

#define MEMINFO                                                                                \
    "MemTotal:        2048000 kB\n"                                                            \
    "MemFree:          512000 kB\n"                                                            \
    "MemAvailable:    1024000 kB\n"                                                            \
    "Buffers:           10000 kB\n"                                                            \
    "Cached:           400000 kB\n"                                                            \
    "SwapCached:            0 kB\n"                                                            \
    "Active:           900000 kB\n"                                                            \
    "Inactive:         500000 kB\n"                                                            \
    "Active(anon):     600000 kB\n"                                                            \
    "Inactive(anon):   200000 kB\n"                                                            \
    "Active(file):     300000 kB\n"                                                            \
    "Inactive(file):   300001 kB\n"                                                            \
    "Unevictable:           0 kB\n"                                                            \
    "Mlocked:               0 kB\n"                                                            \
    "SwapTotal:       1048576 kB\n"                                                            \
    "SwapFree:        1000000 kB\n"                                                            \
    "Dirty:                 0 kB\n"
/* Linux 5.9+: workingset counters split into anon and file. pswpout is
 * padded so that tests can change it in place without changing the size. */
#define VMSTAT_FMT                                                                             \
    "nr_free_pages 128000\n"                                                                   \
    "workingset_nodes 38262\n"                                                                 \
    "workingset_refault_anon 11\n"                                                             \
    "workingset_refault_file 3548706\n"                                                        \
    "workingset_activate_anon 7\n"                                                             \
    "workingset_activate_file 1536414\n"                                                       \
    "workingset_restore_anon 0\n"                                                              \
    "pgpgin 1000\n"                                                                            \
    "pgpgout 2000\n"                                                                           \
    "pswpin 123\n"                                                                             \
    "pswpout %10u\n"                                                                           \
    "pgalloc_dma 0\n"
#define PSWPOUT 4567u
#define PRESSURE                                                                               \
    "some avg10=12.34 avg60=1.00 avg300=0.10 total=123456\n"                                   \
    "full avg10=5.60 avg60=0.50 avg300=0.05 total=23456\n"

/* The zones' low watermarks sum to this many pages. */
#define LOW_PAGES 3000u

typedef struct {
    char *dir;
    char *proc;
    char *out;
} Fixture;

void write_file(const char *path, const char *contents);
/* Overwrites a file with contents of the same size in one pwrite: the agent,
 * reading it meanwhile, never sees it empty or half written. */
void rewrite_file(const char *path, const char *contents);
char *vmstat_text(unsigned pswpout);
uint64_t page_kib(void);

void fixture_setup(Fixture *fx, gconstpointer data);
void fixture_teardown(Fixture *fx, gconstpointer data);
/* Spawns the agent with the fixture's /proc (fx may be NULL) and the given
 * extra arguments (NULL-terminated); stderr is piped. */
GSubprocess *spawn_agent(Fixture *fx, const char *first, ...) G_GNUC_NULL_TERMINATED;
/* Waits for exit; returns the exit status (-1 if killed) and stderr. */
int finish_agent(GSubprocess *p, char **err_out);
/* SIGTERM, then asserts a clean exit. */
void stop_agent(GSubprocess *p, char **err);

void parse_line(const char *line, MbGuestMessage *rec);
void check_hello(const char *line);
/* A sample of the fixture's /proc, with or without PSI. */
void check_sample(const char *line, MbGuestMessage *rec, bool psi);
/* The lines of a finished output file. */
char **read_lines(const char *path);
/* The complete lines the agent has written so far. */
char **read_lines_now(const char *path);
/* Parses the samples among lines; returns how many, and how many urgent. */
guint parse_samples(char **lines, MbGuestMessage *recs, guint max, guint *n_urgent);
/* Waits (up to 5 s) for want_samples samples of which want_urgent urgent. */
char **wait_for_samples(Fixture *fx, guint want_samples, guint want_urgent);
