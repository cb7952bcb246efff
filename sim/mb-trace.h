/* Trace replay: per-second guest samples recorded from real (or simulated)
 * guests, turned into workloads the guest model can replay. The CSV is
 * untrusted input: every row is checked and an error names its line.
 * Pure C11, no GLib. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mb-policy.h"
#include "mb-workload.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MB_TRACE_HEADER                                                                        \
    "t,vm,total_kib,free_kib,active_anon_kib,inactive_anon_kib,active_file_kib,"               \
    "inactive_file_kib,pswpin,pswpout"
#define MB_TRACE_HEADER_PSI MB_TRACE_HEADER ",psi_some_avg10,psi_full_avg10"

/* Replayed jobs sweep their footprint at this rate: a trace does not say. */
#define MB_TRACE_TOUCH_KIB_PER_S (16.0 * 1024.0)
/* Largest size a trace may claim (1 TiB): beyond it the line is rejected. */
#define MB_TRACE_MAX_KIB (1024ull * 1024 * 1024)
#define MB_TRACE_MAX_VMS 4096

typedef struct {
    char name[MB_VM_NAME_MAX + 1];
    uint64_t first_total_kib;
    size_t n_points;
    /* Per sample, t relative to the VM's first sample. */
    double *t_s;
    double *anon_kib;      /* active + inactive anon + swapped */
    double *hot_file_kib;  /* active file */
    double *file_read_kib; /* cumulative growth of the file pages */
    MbWorkload workload;   /* replays this series; its data points here */
} MbTraceVm;

typedef struct {
    size_t n_vms;
    MbTraceVm *vms; /* in order of first appearance */
    bool has_psi;
    size_t n_rows;
} MbTrace;

/* Parses a whole CSV held in memory. source names it in errors
 * ("SOURCE:LINE: what"). On failure returns false, sets *out to NULL and
 * writes one line into err. */
bool mb_trace_parse(const char *text, size_t len, const char *source, MbTrace **out, char *err,
                    size_t err_len);
/* Reads and parses a file. */
bool mb_trace_load(const char *path, MbTrace **out, char *err, size_t err_len);
void mb_trace_free(MbTrace *trace);

/* Writes the header / one sample row in the format mb_trace_parse() reads. */
void mb_trace_write_header(FILE *out, bool with_psi);
void mb_trace_write_row(FILE *out, unsigned t, const char *vm, const MbSample *sample,
                        bool with_psi);

#ifdef __cplusplus
}
#endif
