/* Built-in workloads, after the shapes of the paper's Fig. 1 (TV tasks) and
 * the SPEC CPU2006 jobs of its evaluation, sized for 512 MiB guests: 512 MiB
 * minus the kernel and the 10 % free reserve leaves about 430 MiB for a
 * guest's programs and page cache (see docs/simulator.md). */
#include "mb-workload.h"

#include <math.h>
#include <string.h>

#define MIB 1024.0

static double
clamp01(double v)
{
    return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
}

/* v0 before t0, v1 after t1, linear between. */
static double
ramp(double t, double t0, double t1, double v0, double v1)
{
    if (t1 <= t0)
        return t >= t1 ? v1 : v0;
    return v0 + (v1 - v0) * clamp01((t - t0) / (t1 - t0));
}

double
mb_workload_noise(uint64_t a, uint64_t b)
{
    /* splitmix64's finaliser over both inputs. */
    uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0; /* 2^53 */
}

/* A phase shift in [0, period) for variants other than the reference. */
static double
phase(uint64_t variant, double period_s)
{
    return variant == 0 ? 0.0 : mb_workload_noise(variant, 0xFA5E) * period_s;
}

/* Video playback: the player's anon jumps to ~80 MiB at start, then the
 * stream is read sequentially at 2 MiB/s and never re-read, so inactive page
 * cache grows until it fills the guest's free memory. */
static void
shape_video_playback(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    out->anon_kib = ramp(p, 0, 2, 0, 80 * MIB);
    out->hot_file_kib = ramp(p, 0, 1, 0, 16 * MIB);
    out->file_read_kib = ramp(p, 2, wl->work_s, 0, 2 * MIB * (wl->work_s - 2));
    (void)variant;
}

/* Video streaming: anon rises while the player buffers a new title, and
 * falls back once the buffer drains into playback. */
static void
shape_video_streaming(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    const double period_s = 70.0;
    double t = fmod(p + phase(variant, period_s), period_s);
    double buffer_kib;

    if (t < 12.0)
        buffer_kib = ramp(t, 0, 12, 0, 48 * MIB);
    else
        buffer_kib = ramp(t, 12, 32, 48 * MIB, 0);
    out->anon_kib = ramp(p, 0, 2, 0, 50 * MIB) + (p >= 2 ? buffer_kib : 0.0);
    out->hot_file_kib = ramp(p, 0, 1, 0, 16 * MIB);
    out->file_read_kib = 0.25 * MIB * p;
    (void)wl;
}

/* Web browsing: every page load steps anon up by 8-24 MiB over 4 s; now and
 * then tabs close and part of it is freed. The footprint stays within its
 * static share (peak ~240 MiB). */
static void
shape_web(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    const double page_s = 20.0, base_kib = 50 * MIB, cap_kib = 170 * MIB;
    double start_s = 3.0 + phase(variant, page_s);
    double pages_kib = 0.0;

    for (unsigned k = 0;; k++) {
        double t0 = start_s + k * page_s;
        double size_kib, keep;

        if (p <= t0)
            break;
        keep = 1.0;
        if (mb_workload_noise(variant ^ 0x3EB, k) < 0.25 || pages_kib > cap_kib)
            keep = 0.6; /* tabs closed first */
        pages_kib *= keep;
        size_kib = (8.0 + 16.0 * mb_workload_noise(variant ^ 0x3EB, k + 1000)) * MIB;
        pages_kib += ramp(p, t0, t0 + 4.0, 0, size_kib);
    }
    out->anon_kib = ramp(p, 0, 3, 0, base_kib) + pages_kib;
    out->hot_file_kib = ramp(p, 0, 2, 0, 24 * MIB);
    out->file_read_kib = 0.3 * MIB * p;
    (void)wl;
}

/* Online game: a large allocation while a level loads, then more memory only
 * at each new stage; the peak (~710 MiB) is far above a 512 MiB share. */
static void
shape_game(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    double anon_kib = ramp(p, 0, 20, 0, 440 * MIB);
    double read_kib = ramp(p, 0, 20, 0, 120 * MIB);

    for (unsigned stage = 1; stage <= 3; stage++) {
        double t0 = 90.0 * stage;
        anon_kib += ramp(p, t0, t0 + 6.0, 0, 90 * MIB);
        read_kib += ramp(p, t0, t0 + 6.0, 0, 30 * MIB);
    }
    out->anon_kib = anon_kib;
    out->hot_file_kib = ramp(p, 0, 20, 0, 40 * MIB);
    out->file_read_kib = read_kib;
    (void)wl;
    (void)variant;
}

/* 400.perlbench: a modest base with repeated short bursts (each script's
 * data) well above the static share. */
static void
shape_perlbench(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    const double period_s = 30.0;
    double t = p - 10.0 + phase(variant, period_s);
    double burst_kib = 0.0;

    if (t >= 0.0) {
        unsigned k = (unsigned)(t / period_s);
        double u = fmod(t, period_s);
        double peak_kib = (430.0 + 80.0 * mb_workload_noise(variant ^ 0x9E1, k)) * MIB;
        if (u < 10.0)
            burst_kib = ramp(u, 0, 4, 0, peak_kib);
        else
            burst_kib = ramp(u, 10, 12, peak_kib, 0);
    }
    out->anon_kib = ramp(p, 0, 3, 0, 120 * MIB) + burst_kib;
    out->hot_file_kib = ramp(p, 0, 2, 0, 8 * MIB);
    out->file_read_kib = 0.1 * MIB * p;
    (void)wl;
}

/* 403.gcc: the footprint grows through the run (each translation unit adds
 * to the compiler's arenas), with a saw-tooth of per-function scratch. */
static void
shape_gcc(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    const double period_s = 12.0;
    double t = fmod(p + phase(variant, period_s), period_s);
    double scratch_kib = t < 10.0 ? ramp(t, 0, 10, 0, 24 * MIB) : ramp(t, 10, 12, 24 * MIB, 0);

    out->anon_kib = ramp(p, 0, wl->work_s, 60 * MIB, 720 * MIB) + scratch_kib;
    out->hot_file_kib = ramp(p, 0, 5, 0, 24 * MIB);
    out->file_read_kib = 0.2 * MIB * p;
}

/* 433.milc: the lattice (~760 MiB) is allocated at start and swept for the
 * whole run. */
static void
shape_milc(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    out->anon_kib =
        ramp(p, 0, 25, 0, 752 * MIB) +
        (p > 25 ? 8 * MIB * (1.0 + sin(2 * M_PI * (p + phase(variant, 30)) / 30.0)) : 0.0);
    out->hot_file_kib = ramp(p, 0, 2, 0, 8 * MIB);
    out->file_read_kib = 0.0;
    (void)wl;
}

/* 464.h264ref: demand oscillates (90-210 MiB) with each group of frames but
 * always fits in the static share: it must cause no rebalancing. */
static void
shape_h264ref(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    double osc = sin(2 * M_PI * (p + phase(variant, 24)) / 24.0);

    out->anon_kib = ramp(p, 0, 5, 0, 150 * MIB) + (p > 5 ? 60 * MIB * osc : 0.0);
    out->hot_file_kib = ramp(p, 0, 5, 0, 20 * MIB);
    out->file_read_kib = 0.05 * MIB * p;
    (void)wl;
}

/* 462.libquantum: a small, hot state vector. */
static void
shape_libquantum(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    out->anon_kib = ramp(p, 0, 2, 0, 96 * MIB);
    out->hot_file_kib = ramp(p, 0, 1, 0, 4 * MIB);
    out->file_read_kib = 0.0;
    (void)wl;
    (void)variant;
}

/* 456.hmmer: small, slowly growing. */
static void
shape_hmmer(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    out->anon_kib = ramp(p, 0, 2, 0, 40 * MIB) + ramp(p, 2, wl->work_s, 0, 24 * MIB);
    out->hot_file_kib = ramp(p, 0, 2, 0, 12 * MIB);
    out->file_read_kib = 0.0;
    (void)variant;
}

/* 471.omnetpp: the event queue grows to ~170 MiB, then churns in place. */
static void
shape_omnetpp(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    out->anon_kib = ramp(p, 0, 60, 20 * MIB, 160 * MIB) +
                    (p > 60 ? 10 * MIB * sin(2 * M_PI * (p + phase(variant, 40)) / 40.0) : 0.0);
    out->hot_file_kib = ramp(p, 0, 2, 0, 6 * MIB);
    out->file_read_kib = 0.0;
    (void)wl;
}

/* An idle TV VM (a launcher, a background service): a small steady
 * footprint; the service's fake backend uses it for guests it has no
 * workload for. */
static void
shape_idle(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    out->anon_kib = ramp(p, 0, 2, 0, 24 * MIB);
    out->hot_file_kib = ramp(p, 0, 2, 0, 8 * MIB);
    out->file_read_kib = 0.02 * MIB * p; /* logs, thumbnails */
    (void)wl;
    (void)variant;
}

/* The real-VM benchmark's workloads (tests/vm/mb-workload.c, as
 * scripts/bench-vms runs them); docs/simulator.md gives the fit. */

/* alloc MIB --step-mib 32 (MIB in wl->data): a 32 MiB step at the start of
 * each second (filled at once), then random page touches over all of it.
 * Step k is made at k - 1 s, so second k holds k steps. */
static void
shape_bench_alloc(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    const double *size_mib = wl->data;

    out->anon_kib = fmin(*size_mib, 32.0 * ceil(p)) * MIB;
    out->hot_file_kib = 1 * MIB; /* the program itself */
    out->file_read_kib = 0.0;
    (void)variant;
}

/* video 4 --fps 25: 4 MiB/s read from a disk once, one frame of buffer. */
static void
shape_bench_video(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    out->anon_kib = 2 * MIB;
    out->hot_file_kib = 1 * MIB;
    out->file_read_kib = 4 * MIB * p;
    (void)wl;
    (void)variant;
}

/* web 96 --base-mib 48 --every-s 10 --hold-ms 3000: 48 MiB always, a 96 MiB
 * burst every 10 s filled in ~0.8 s and held 3 s more, then unmapped. */
static void
shape_bench_web(const MbWorkload *wl, uint64_t variant, double p, MbWorkloadPoint *out)
{
    out->anon_kib = (48.0 + (fmod(p, 10.0) < 4.0 ? 96.0 : 0.0)) * MIB;
    out->hot_file_kib = 1 * MIB;
    out->file_read_kib = 0.0;
    (void)wl;
    (void)variant;
}

static const double job_mib = 280.0, game_mib = 128.0;

/* bench-job's best case: 13.0 s, of which 8.2 s of paced growth (8 s of
 * steps, then filling the last) and 4.8 s for its 100 passes (a fit of the
 * whole run's time). The contention apps' passes are timed from what the
 * guests print: 100 passes over 280 MiB (7.2 M touches, a pass is one
 * random touch per page) took 0.81-1.15 s of steady_ms in table3's oracle
 * runs on the bench machine, 1.0 s here. A pass over MIB costs MIB / 280
 * of one over 280 MiB, i.e. the same rate of touches whatever the size
 * (both far beyond the CPU's caches, so every touch misses alike; not
 * measured on 128 MiB), and N passes N / 100 of the 100; their paced
 * growth is (steps - 1) s plus the same 0.2 s. */
#define BENCH_PASSES_S(passes, mib) (1.0 * (passes) / 100.0 * (mib) / 280.0)

/* Not in builtins[]: scale-N draws from that list, and must not change. */
static const MbWorkload bench_workloads[] = {
    {"bench-job", "alloc 280 MiB in 32 MiB steps, then 100 random passes", false, 13.0, 6.0e6,
     0.10, shape_bench_alloc, &job_mib, 8.2},
    /* bench-vms' contention job (--passes 2000): 8.2 + 20.0 = 28.2 s */
    {"bench-job-2000", "alloc 280 MiB in 32 MiB steps, then 2000 random passes", false,
     8.2 + BENCH_PASSES_S(2000, 280), 6.0e6, 0.10, shape_bench_alloc, &job_mib, 8.2},
    /* bench-vms' contention game: 4 steps, 3.2 + 9.1 = 12.3 s */
    {"bench-game", "alloc 128 MiB in 32 MiB steps, then 2000 random passes", false,
     3.2 + BENCH_PASSES_S(2000, 128), 6.0e6, 0.10, shape_bench_alloc, &game_mib, 3.2},
    {"bench-video", "reads 4 MiB/s of disk once (page cache), 2 MiB anon", true, 600.0, 1 * MIB,
     0.10, shape_bench_video, NULL, 600.0},
    {"bench-web", "48 MiB, plus 96 MiB for 4 s every 10 s", true, 600.0, 2.4e6, 0.10,
     shape_bench_web, NULL, 600.0},
};

/* touch rates: how much of its footprint a job sweeps per second of work;
 * with the swap-in cost they set how much a swapped job slows down. */
static const MbWorkload builtins[] = {
    {"video-playback", "player anon 80 MiB, streams 2 MiB/s of never re-read file", true, 420,
     16 * MIB, 0.10, shape_video_playback, NULL, 0},
    {"video-streaming", "anon rises while buffering a new title", true, 420, 16 * MIB, 0.10,
     shape_video_streaming, NULL, 0},
    {"web", "anon steps up with each page, drops when tabs close", true, 400, 24 * MIB, 0.15,
     shape_web, NULL, 0},
    {"game", "loads 440 MiB, +90 MiB at each of 3 stages (peak ~710 MiB)", false, 360,
     160 * MIB, 0.10, shape_game, NULL, 0},
    {"perlbench", "bursts to 550-630 MiB every 30 s", false, 300, 96 * MIB, 0.10,
     shape_perlbench, NULL, 0},
    {"gcc", "grows from 60 to ~740 MiB through the run", false, 420, 128 * MIB, 0.10, shape_gcc,
     NULL, 0},
    {"milc", "steady ~760 MiB working set", false, 400, 320 * MIB, 0.05, shape_milc, NULL, 0},
    {"h264ref", "oscillates between 90 and 210 MiB", false, 360, 64 * MIB, 0.10, shape_h264ref,
     NULL, 0},
    {"libquantum", "steady 96 MiB", false, 300, 128 * MIB, 0.05, shape_libquantum, NULL, 0},
    {"hmmer", "40 MiB growing to 64 MiB", false, 320, 48 * MIB, 0.10, shape_hmmer, NULL, 0},
    {"omnetpp", "grows to ~170 MiB then churns", false, 340, 96 * MIB, 0.10, shape_omnetpp,
     NULL, 0},
    {"idle", "steady 24 MiB (launcher, services)", true, 300, 4 * MIB, 0.30, shape_idle, NULL,
     0},
};

#define N_BUILTINS (sizeof(builtins) / sizeof(builtins[0]))

static const char *const builtin_names[N_BUILTINS + 1] = {
    "video-playback", "video-streaming", "web",   "game",    "perlbench", "gcc", "milc",
    "h264ref",        "libquantum",      "hmmer", "omnetpp", "idle",      NULL,
};

const MbWorkload *
mb_workload_lookup(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < N_BUILTINS; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    for (size_t i = 0; i < sizeof(bench_workloads) / sizeof(bench_workloads[0]); i++)
        if (strcmp(bench_workloads[i].name, name) == 0)
            return &bench_workloads[i];
    return NULL;
}

const char *const *
mb_workload_names(void)
{
    return builtin_names;
}

size_t
mb_workload_count(void)
{
    return N_BUILTINS;
}

const MbWorkload *
mb_workload_nth(size_t i)
{
    return i < N_BUILTINS ? &builtins[i] : NULL;
}

void
mb_workload_point(const MbWorkload *workload, uint64_t variant, double progress_s,
                  MbWorkloadPoint *out)
{
    double p = progress_s;

    if (!(p >= 0.0))
        p = 0.0;
    if (p > workload->work_s)
        p = workload->work_s;
    memset(out, 0, sizeof(*out));
    workload->shape(workload, variant, p, out);
    if (!(out->anon_kib >= 0.0))
        out->anon_kib = 0.0;
    if (!(out->hot_file_kib >= 0.0))
        out->hot_file_kib = 0.0;
    if (!(out->file_read_kib >= 0.0))
        out->file_read_kib = 0.0;
}
