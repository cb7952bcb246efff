/* The VM suite's in-guest workloads (static, plain C), shaped after the two
 * kinds of VM membalancer arbitrates:
 *
 *   mb-workload stream SIZE_MIB [--seconds S] [--passes N] [--dev PATH]
 *       A video VM: reads the first SIZE_MIB of a block device over and over
 *       with buffered reads, so the guest's page cache (inactive file) grows
 *       to SIZE_MIB. PATH defaults to $MB_DATA_DEV (set by the test /init),
 *       else /dev/vdc. Runs forever unless --seconds or --passes is given.
 *
 *   mb-workload alloc MIB [--seconds S] [--passes N] [--step-mib M] [--hold]
 *                         [--passes2 M2 [--resume-s R]]
 *       A game VM: grows anonymous memory by M MiB (default 16) per second up
 *       to MIB, fills it with incompressible data and touches random pages of
 *       what it has all along; once at MIB, keeps touching for S seconds from
 *       the start, or for N passes (N x pages random touches; default 3).
 *       --hold keeps the memory (and sleeps) after reporting.
 *       --passes2 M2 adds a second active phase (a game sent to the
 *       background and back): after the first, prints "mb-workload: alloc
 *       phase=1 done ...", holds its memory without touching it until R
 *       seconds after the start (at once if that time has passed), then
 *       makes M2 passes over all of it ("phase=2 start", "phase=2 done").
 *
 *   mb-workload video MIB_PER_S [--fps F] [--seconds S] [--dev PATH]
 *       A video player: reads PATH ($MB_DATA_DEV, else /dev/vdc) in order at
 *       MIB_PER_S, one frame of MIB_PER_S / F (default 25) at a time on the
 *       frame clock, wrapping at the device's end; the page cache fills with
 *       data never read again. A frame is late when its read ends after its
 *       display time (one frame period after it is due); a player more than
 *       4 frames behind drops frames to catch up. Prints the counts every
 *       5 s: "video t_ms=.. frames=.. late=.. dropped=..".
 *
 *   mb-workload web BURST_MIB [--base-mib B] [--every-s S] [--hold-ms H]
 *                             [--seconds S] [--count C] [--hold]
 *       A browser: holds B MiB (default 32) of anonymous memory and, every S
 *       seconds (default 10), allocates and fills BURST_MIB more (a page
 *       load), uses it for H ms (default 3000) and frees it. Prints each
 *       burst's latency (allocate and fill): "web burst=N ms=..". --count
 *       stops after C bursts; --hold then keeps the B MiB (and sleeps).
 *
 *   mb-workload watch [--period-ms P]
 *       Reads /proc/vmstat and /proc/pressure/memory every P ms (default 100)
 *       and prints "MB-WATCH swapout pswpout=N" the first time the guest
 *       swaps out and "MB-WATCH psi some_total_us=N" the first time memory
 *       pressure stalls a task: the benchmark stamps these console lines
 *       with the host's clock. Runs until killed.
 *
 * alloc, video and web take --delay-s D: wait D seconds first (printing
 * "mb-workload: MODE armed delay_s=D"), so a job can start while the others
 * run. alloc and web take --notice-ms T: T ms before the end of a wait (the
 * delay, alloc's wait for its second phase) print "mb-workload: MODE soon
 * phase=start|resume in_ms=T" (fewer ms if less is left), so that the host,
 * which stamps the line, can act just before the phase begins. Each prints
 * one `mb-workload: ... done ... elapsed_ms=N` line at the end (elapsed
 * from the end of the delay); the exit status is 0 on success. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024u * 1024u)
#define PAGE_BYTES 4096u
#define READ_CHUNK_BYTES MIB

typedef struct {
    uint64_t size_mib;
    uint64_t seconds; /* 0: not bounded by time */
    uint64_t passes;  /* 0: not bounded by passes */
    uint64_t step_mib;
    bool hold;
    const char *dev;
    uint64_t delay_s;
    uint64_t fps;
    uint64_t base_mib;
    uint64_t every_s;
    uint64_t hold_ms;
    uint64_t passes2;  /* 0: no second phase */
    uint64_t resume_s; /* the second phase's start, s after the first's */
    uint64_t count;    /* web: 0, not bounded by bursts */
    uint64_t notice_ms;
} Options;

static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng_next(void)
{
    /* xorshift64*: cheap, and its output does not compress. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static bool
parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static int
usage(void)
{
    fprintf(stderr,
            "usage: mb-workload stream SIZE_MIB [--seconds S] [--passes N] [--dev PATH]\n"
            "       mb-workload alloc MIB [--seconds S] [--passes N] [--step-mib M] "
            "[--hold]\n"
            "                         [--passes2 M2 [--resume-s R]]\n"
            "       mb-workload video MIB_PER_S [--fps F] [--seconds S] [--dev PATH]\n"
            "       mb-workload web BURST_MIB [--base-mib B] [--every-s S] [--hold-ms H] "
            "[--seconds S]\n"
            "                             [--count C] [--hold]\n"
            "       mb-workload watch [--period-ms P]\n"
            "       (alloc, video, web: [--delay-s D]; alloc, web: [--notice-ms T])\n");
    return 2;
}

static bool
parse_options(int argc, char **argv, Options *o)
{
    if (argc < 3 || !parse_u64(argv[2], &o->size_mib) || o->size_mib == 0)
        return false;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--hold") == 0) {
            o->hold = true;
            continue;
        }
        if (!v)
            return false;
        i++;
        if (strcmp(a, "--seconds") == 0) {
            if (!parse_u64(v, &o->seconds))
                return false;
        } else if (strcmp(a, "--passes") == 0) {
            if (!parse_u64(v, &o->passes))
                return false;
        } else if (strcmp(a, "--step-mib") == 0) {
            if (!parse_u64(v, &o->step_mib) || o->step_mib == 0)
                return false;
        } else if (strcmp(a, "--dev") == 0) {
            o->dev = v;
        } else if (strcmp(a, "--delay-s") == 0) {
            if (!parse_u64(v, &o->delay_s))
                return false;
        } else if (strcmp(a, "--fps") == 0) {
            if (!parse_u64(v, &o->fps) || o->fps == 0 || o->fps > 1000)
                return false;
        } else if (strcmp(a, "--base-mib") == 0) {
            if (!parse_u64(v, &o->base_mib))
                return false;
        } else if (strcmp(a, "--every-s") == 0) {
            if (!parse_u64(v, &o->every_s) || o->every_s == 0)
                return false;
        } else if (strcmp(a, "--hold-ms") == 0) {
            if (!parse_u64(v, &o->hold_ms))
                return false;
        } else if (strcmp(a, "--passes2") == 0) {
            if (!parse_u64(v, &o->passes2))
                return false;
        } else if (strcmp(a, "--resume-s") == 0) {
            if (!parse_u64(v, &o->resume_s))
                return false;
        } else if (strcmp(a, "--count") == 0) {
            if (!parse_u64(v, &o->count))
                return false;
        } else if (strcmp(a, "--notice-ms") == 0) {
            if (!parse_u64(v, &o->notice_ms))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

static void
sleep_until_ms(uint64_t t_ms)
{
    struct timespec ts = {.tv_sec = (time_t)(t_ms / 1000u),
                          .tv_nsec = (long)(t_ms % 1000u) * 1000000L};

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* Waits until t_ms; with --notice-ms, says so that many ms before. */
static void
wait_phase(const char *mode, const char *phase, uint64_t t_ms, const Options *o)
{
    uint64_t t = now_ms();

    if (o->notice_ms) {
        if (t_ms > t + o->notice_ms)
            sleep_until_ms(t_ms - o->notice_ms);
        t = now_ms();
        printf("mb-workload: %s soon phase=%s in_ms=%" PRIu64 "\n", mode, phase,
               t_ms > t ? t_ms - t : 0);
    }
    sleep_until_ms(t_ms);
}

static void
wait_delay(const char *mode, const Options *o)
{
    if (o->delay_s == 0)
        return;
    printf("mb-workload: %s armed delay_s=%" PRIu64 "\n", mode, o->delay_s);
    wait_phase(mode, "start", now_ms() + o->delay_s * 1000u, o);
}

/* The data disk: --dev, else $MB_DATA_DEV, else /dev/vdc; buffered on
 * purpose (the point is to fill the page cache). -1 after saying why. */
static int
open_data_dev(const char *mode, const Options *o, const char **dev_out)
{
    const char *dev = o->dev ? o->dev : getenv("MB_DATA_DEV");
    int fd;

    if (!dev || !*dev)
        dev = "/dev/vdc";
    fd = open(dev, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fprintf(stderr, "mb-workload: %s: open %s: %s\n", mode, dev, strerror(errno));
    *dev_out = dev;
    return fd;
}

static int
run_stream(const Options *o)
{
    const char *dev;
    uint64_t limit_bytes = o->size_mib * MIB;
    uint64_t start = now_ms();
    uint64_t pass = 0;
    char *buf;
    int fd;

    fd = open_data_dev("stream", o, &dev);
    if (fd < 0)
        return 1;
    buf = malloc(READ_CHUNK_BYTES);
    if (!buf) {
        close(fd);
        return 1;
    }
    printf("mb-workload: stream start dev=%s size_mib=%" PRIu64 "\n", dev, o->size_mib);
    for (;;) {
        uint64_t pass_start = now_ms();
        uint64_t done = 0;

        while (done < limit_bytes) {
            size_t want =
                limit_bytes - done < READ_CHUNK_BYTES ? limit_bytes - done : READ_CHUNK_BYTES;
            ssize_t n = pread(fd, buf, want, (off_t)done);

            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                fprintf(stderr, "mb-workload: stream: read %s: %s\n", dev, strerror(errno));
                free(buf);
                close(fd);
                return 1;
            }
            if (n == 0)
                break; /* device smaller than SIZE_MIB: stream what there is */
            done += (uint64_t)n;
        }
        pass++;
        uint64_t t = now_ms();
        printf("mb-workload: stream pass=%" PRIu64 " mib=%" PRIu64 " pass_ms=%" PRIu64 "\n",
               pass, done / MIB, t - pass_start);
        if ((o->passes && pass >= o->passes) || (o->seconds && t - start >= o->seconds * 1000u))
            break;
    }
    printf("mb-workload: stream done passes=%" PRIu64 " elapsed_ms=%" PRIu64 "\n", pass,
           now_ms() - start);
    free(buf);
    close(fd);
    return 0;
}

static void
fill_random(unsigned char *p, size_t bytes)
{
    uint64_t *w = (uint64_t *)(void *)p;

    for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
        w[i] = rng_next();
}

static void
touch_random_page(unsigned char *base, uint64_t pages)
{
    uint64_t r = rng_next();
    uint64_t page = r % pages;
    uint64_t *w = (uint64_t *)(void *)(base + page * PAGE_BYTES) + (r >> 52) % (PAGE_BYTES / 8);

    /* Read and write: a swapped-out page must come back and get dirty again. */
    *w = *w ^ rng_next();
}

static int
run_alloc(const Options *o)
{
    uint64_t total_bytes = o->size_mib * MIB;
    uint64_t step_bytes = (o->step_mib ? o->step_mib : 16) * MIB;
    uint64_t passes = o->passes ? o->passes : (o->seconds ? 0 : 3);
    uint64_t start;
    uint64_t have_bytes = 0, touches = 0, next_step_ms, step = 0;
    unsigned char *base;

    base = mmap(NULL, total_bytes, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        fprintf(stderr, "mb-workload: alloc: mmap %" PRIu64 " MiB: %s\n", o->size_mib,
                strerror(errno));
        return 1;
    }
    /* Huge pages would change what the balloon and swap see. */
    madvise(base, total_bytes, MADV_NOHUGEPAGE);
    wait_delay("alloc", o);
    start = now_ms();
    next_step_ms = start;
    rng_state ^= (uint64_t)getpid() << 17 ^ start;
    printf("mb-workload: alloc start mib=%" PRIu64 " step_mib=%" PRIu64 "\n", o->size_mib,
           step_bytes / MIB);

    /* Growth: one step per second, random touches of what is there between steps. */
    while (have_bytes < total_bytes) {
        uint64_t t = now_ms();

        if (t >= next_step_ms) {
            uint64_t n =
                total_bytes - have_bytes < step_bytes ? total_bytes - have_bytes : step_bytes;
            fill_random(base + have_bytes, n);
            have_bytes += n;
            next_step_ms += 1000;
            if (++step % 8 == 0 || have_bytes == total_bytes)
                printf("mb-workload: alloc mib=%" PRIu64 " t_ms=%" PRIu64 "\n",
                       have_bytes / MIB, now_ms() - start);
            continue;
        }
        for (int i = 0; i < 256; i++)
            touch_random_page(base, have_bytes / PAGE_BYTES);
        touches += 256;
    }

    uint64_t pages = total_bytes / PAGE_BYTES;
    uint64_t steady_start = now_ms(), steady_touches = 0;
    for (;;) {
        for (int i = 0; i < 1024; i++)
            touch_random_page(base, pages);
        steady_touches += 1024;
        if (passes && steady_touches >= passes * pages)
            break;
        if (!passes && now_ms() - start >= o->seconds * 1000u)
            break;
    }
    uint64_t end = now_ms();
    uint64_t steady_ms = end - steady_start;
    if (o->passes2) {
        printf("mb-workload: alloc phase=1 done mib=%" PRIu64 " steady_ms=%" PRIu64
               " steady_touch_ns=%" PRIu64 " elapsed_ms=%" PRIu64 "\n",
               o->size_mib, steady_ms,
               steady_touches ? steady_ms * 1000000u / steady_touches : 0, end - start);
        /* In the background: the memory stays, untouched (cold). */
        wait_phase("alloc", "resume", start + o->resume_s * 1000u, o);
        uint64_t p2_start = now_ms(), p2_touches = 0;
        printf("mb-workload: alloc phase=2 start t_ms=%" PRIu64 "\n", p2_start - start);
        while (p2_touches < o->passes2 * pages) {
            for (int i = 0; i < 1024; i++)
                touch_random_page(base, pages);
            p2_touches += 1024;
        }
        end = now_ms();
        printf("mb-workload: alloc phase=2 done mib=%" PRIu64 " steady_touch_ns=%" PRIu64
               " elapsed_ms=%" PRIu64 "\n",
               o->size_mib, (end - p2_start) * 1000000u / p2_touches, end - p2_start);
        steady_touches += p2_touches;
        steady_ms += end - p2_start;
    }
    touches += steady_touches;
    printf("mb-workload: alloc done mib=%" PRIu64 " touches=%" PRIu64 " steady_ms=%" PRIu64
           " steady_touch_ns=%" PRIu64 " elapsed_ms=%" PRIu64 "\n",
           o->size_mib, touches, steady_ms,
           steady_touches ? steady_ms * 1000000u / steady_touches : 0, end - start);
    fflush(stdout);
    if (o->hold)
        for (;;)
            pause();
    munmap(base, total_bytes);
    return 0;
}

static int
run_video(const Options *o)
{
    const char *dev;
    uint64_t fps = o->fps ? o->fps : 25;
    uint64_t frame_bytes = o->size_mib * MIB / fps;
    uint64_t frames = 0, late = 0, dropped = 0, next_report, start, k = 0;
    off_t dev_bytes, pos = 0;
    char *buf;
    int fd;

    fd = open_data_dev("video", o, &dev);
    if (fd < 0)
        return 1;
    dev_bytes = lseek(fd, 0, SEEK_END);
    buf = malloc(frame_bytes ? frame_bytes : 1);
    if (dev_bytes <= (off_t)frame_bytes || !buf) {
        fprintf(stderr, "mb-workload: video: %s is smaller than a frame\n", dev);
        free(buf);
        close(fd);
        return 1;
    }
    wait_delay("video", o);
    start = now_ms();
    next_report = start + 5000;
    printf("mb-workload: video start dev=%s mib_per_s=%" PRIu64 " fps=%" PRIu64 "\n", dev,
           o->size_mib, fps);
    for (;;) {
        /* Frame k is due at start + k / fps and shown one period later. */
        uint64_t due = start + k * 1000u / fps, shown = start + (k + 1) * 1000u / fps, t;
        size_t done = 0;

        sleep_until_ms(due);
        while (done < frame_bytes) {
            if (pos + (off_t)(frame_bytes - done) > dev_bytes)
                pos = 0; /* wrap: the start was evicted long ago */
            ssize_t n = pread(fd, buf + done, frame_bytes - done, pos);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                fprintf(stderr, "mb-workload: video: read %s: %s\n", dev,
                        n < 0 ? strerror(errno) : "end of device");
                free(buf);
                close(fd);
                return 1;
            }
            done += (size_t)n;
            pos += n;
        }
        frames++;
        t = now_ms();
        if (t > shown)
            late++;
        k++;
        /* More than 4 frames behind: skip to the frame due now. */
        uint64_t now_k = (t - start) * fps / 1000u;
        if (now_k > k + 4) {
            dropped += now_k - k;
            pos += (off_t)((now_k - k) * frame_bytes) % dev_bytes;
            if (pos >= dev_bytes)
                pos -= dev_bytes;
            k = now_k;
        }
        if (t >= next_report) {
            printf("mb-workload: video t_ms=%" PRIu64 " frames=%" PRIu64 " late=%" PRIu64
                   " dropped=%" PRIu64 "\n",
                   t - start, frames, late, dropped);
            next_report += 5000;
        }
        if (o->seconds && t - start >= o->seconds * 1000u)
            break;
    }
    printf("mb-workload: video done frames=%" PRIu64 " late=%" PRIu64 " dropped=%" PRIu64
           " elapsed_ms=%" PRIu64 "\n",
           frames, late, dropped, now_ms() - start);
    free(buf);
    close(fd);
    return 0;
}

static unsigned char *
map_anon(uint64_t bytes)
{
    unsigned char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (p == MAP_FAILED)
        return NULL;
    madvise(p, bytes, MADV_NOHUGEPAGE);
    return p;
}

static int
run_web(const Options *o)
{
    uint64_t base_bytes = (o->base_mib ? o->base_mib : 32) * MIB;
    uint64_t burst_bytes = o->size_mib * MIB;
    uint64_t every_ms = (o->every_s ? o->every_s : 10) * 1000u;
    uint64_t hold_ms = o->hold_ms ? o->hold_ms : 3000;
    uint64_t start, next, bursts = 0, worst = 0, sum = 0;
    unsigned char *base;

    base = map_anon(base_bytes);
    if (!base) {
        fprintf(stderr, "mb-workload: web: mmap: %s\n", strerror(errno));
        return 1;
    }
    fill_random(base, base_bytes);
    wait_delay("web", o);
    start = now_ms();
    next = start;
    printf("mb-workload: web start base_mib=%" PRIu64 " burst_mib=%" PRIu64 "\n",
           base_bytes / MIB, o->size_mib);
    for (;;) {
        sleep_until_ms(next);
        uint64_t t0 = now_ms();
        unsigned char *burst = map_anon(burst_bytes);
        if (!burst) {
            fprintf(stderr, "mb-workload: web: mmap: %s\n", strerror(errno));
            return 1;
        }
        fill_random(burst, burst_bytes);
        uint64_t ms = now_ms() - t0;
        bursts++;
        sum += ms;
        worst = ms > worst ? ms : worst;
        printf("mb-workload: web burst=%" PRIu64 " ms=%" PRIu64 " t_ms=%" PRIu64 "\n", bursts,
               ms, t0 - start);
        /* The page in use: random touches of it and of the base. */
        while (now_ms() < t0 + ms + hold_ms) {
            for (int i = 0; i < 256; i++) {
                touch_random_page(burst, burst_bytes / PAGE_BYTES);
                touch_random_page(base, base_bytes / PAGE_BYTES);
            }
        }
        munmap(burst, burst_bytes);
        next += every_ms;
        if (o->seconds && now_ms() - start >= o->seconds * 1000u)
            break;
        if (o->count && bursts >= o->count)
            break;
    }
    printf("mb-workload: web done bursts=%" PRIu64 " mean_ms=%" PRIu64 " max_ms=%" PRIu64
           " elapsed_ms=%" PRIu64 "\n",
           bursts, bursts ? sum / bursts : 0, worst, now_ms() - start);
    fflush(stdout);
    if (o->hold)
        for (;;) /* idle, its base kept */
            pause();
    munmap(base, base_bytes);
    return 0;
}

/* The value after "key" (followed by a space or '=') in a /proc file. */
static bool
proc_value(const char *path, const char *key, uint64_t *out)
{
    char buf[8192];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    size_t klen = strlen(key);

    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    for (char *p = buf; (p = strstr(p, key)) != NULL; p += klen) {
        if ((p == buf || p[-1] == '\n' || p[-1] == ' ') && (p[klen] == ' ' || p[klen] == '=')) {
            *out = (uint64_t)strtoull(p + klen + 1, NULL, 10);
            return true;
        }
    }
    return false;
}

static int
run_watch(const Options *o)
{
    uint64_t period = o->hold_ms ? o->hold_ms : 100, swap0 = 0, psi0 = 0, v;
    bool have_swap = proc_value("/proc/vmstat", "pswpout", &swap0);
    bool have_psi = false, swapped = false, stalled = false;
    char buf[256];
    int fd = open("/proc/pressure/memory", O_RDONLY | O_CLOEXEC);

    /* "some avg10=0.00 avg60=0.00 avg300=0.00 total=N": the first total. */
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        char *t = n > 0 ? (buf[n] = '\0', strstr(buf, "total=")) : NULL;
        if (t) {
            psi0 = (uint64_t)strtoull(t + 6, NULL, 10);
            have_psi = true;
        }
    }
    printf("MB-WATCH start pswpout=%" PRIu64 " psi=%d\n", swap0, have_psi);
    while (!(swapped || !have_swap) || !(stalled || !have_psi)) {
        sleep_until_ms(now_ms() + period);
        if (!swapped && have_swap && proc_value("/proc/vmstat", "pswpout", &v) && v > swap0) {
            printf("MB-WATCH swapout pswpout=%" PRIu64 "\n", v - swap0);
            swapped = true;
        }
        ssize_t n = stalled || !have_psi ? 0 : pread(fd, buf, sizeof(buf) - 1, 0);
        if (n > 0) {
            buf[n] = '\0';
            char *t = strstr(buf, "total=");
            uint64_t total = t ? (uint64_t)strtoull(t + 6, NULL, 10) : 0;
            if (total > psi0) {
                printf("MB-WATCH psi some_total_us=%" PRIu64 "\n", total - psi0);
                stalled = true;
            }
        }
    }
    printf("MB-WATCH done\n");
    while (pause() == -1)
        ;
    return 0;
}

int
main(int argc, char **argv)
{
    Options o = {0};

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "watch") == 0)
        return run_watch(&o);
    if (argc == 4 && strcmp(argv[1], "watch") == 0 && strcmp(argv[2], "--period-ms") == 0 &&
        parse_u64(argv[3], &o.hold_ms) && o.hold_ms > 0)
        return run_watch(&o);
    if (argc < 2 || !parse_options(argc, argv, &o))
        return usage();
    if (strcmp(argv[1], "stream") == 0)
        return run_stream(&o);
    if (strcmp(argv[1], "alloc") == 0)
        return run_alloc(&o);
    if (strcmp(argv[1], "video") == 0)
        return run_video(&o);
    if (strcmp(argv[1], "web") == 0)
        return run_web(&o);
    return usage();
}
