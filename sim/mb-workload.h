/* Workload models: what a guest's programs ask of its memory, as a
 * function of the work they have done (progress), not of wall time, so a
 * job that waits on swap also takes longer to reach its next phase.
 * Pure C11, no GLib. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The memory a workload wants after progress_s seconds of work. */
typedef struct {
    double anon_kib;      /* anonymous footprint F: everything it has allocated */
    double hot_file_kib;  /* file set H it keeps re-reading (stays active) */
    double file_read_kib; /* cumulative new file reads, never re-read */
} MbWorkloadPoint;

typedef struct MbWorkload MbWorkload;

/* Fills *out for progress_s in [0, work_s]; variant perturbs the shape
 * (0 = the reference shape), so that many VMs running one workload do not
 * move in lock-step. */
typedef void (*MbWorkloadShapeFunc)(const MbWorkload *workload, uint64_t variant,
                                    double progress_s, MbWorkloadPoint *out);

struct MbWorkload {
    const char *name;
    const char *description;
    bool background;            /* a TV background task (video, web), not a job */
    double work_s;              /* CPU seconds of work when nothing waits on swap */
    double touch_kib_per_s;     /* footprint touched per second of running */
    double inactive_anon_ratio; /* share of resident anon on the inactive list */
    MbWorkloadShapeFunc shape;
    const void *data; /* shape's private data (trace replay), or NULL */
    /* The first paced_s seconds run on the wall clock (a program sleeping
     * until its next step): stalls slow its touches, not its shape. */
    double paced_s;
};

/* Built-in workloads: NULL for an unknown name. */
const MbWorkload *mb_workload_lookup(const char *name);
/* Names of the built-ins, NULL-terminated, in a stable order. */
const char *const *mb_workload_names(void);
size_t mb_workload_count(void);
/* The i-th built-in (i < mb_workload_count()). */
const MbWorkload *mb_workload_nth(size_t i);

/* Evaluates a workload's shape, clamping progress to [0, work_s] and every
 * output to >= 0. */
void mb_workload_point(const MbWorkload *workload, uint64_t variant, double progress_s,
                       MbWorkloadPoint *out);

/* Deterministic hash of (a, b) to [0, 1): the workloads' only source of
 * irregularity, so runs repeat exactly. */
double mb_workload_noise(uint64_t a, uint64_t b);

#ifdef __cplusplus
}
#endif
