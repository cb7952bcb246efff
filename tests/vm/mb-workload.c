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
 *       A game VM: grows anonymous memory by M MiB (default 16) per second up
 *       to MIB, fills it with incompressible data and touches random pages of
 *       what it has all along; once at MIB, keeps touching for S seconds from
 *       the start, or for N passes (N x pages random touches; default 3).
 *       --hold keeps the memory (and sleeps) after reporting.
 *
 * Both print one `mb-workload: ... done ... elapsed_ms=N` line at the end;
 * the exit status is 0 on success. */
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
            "[--hold]\n");
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
        } else {
            return false;
        }
    }
    return true;
}

static int
run_stream(const Options *o)
{
    const char *dev = o->dev ? o->dev : getenv("MB_DATA_DEV");
    uint64_t limit_bytes = o->size_mib * MIB;
    uint64_t start = now_ms();
    uint64_t pass = 0;
    char *buf;
    int fd;

    if (!dev || !*dev)
        dev = "/dev/vdc";
    /* Buffered reads on purpose: the point is to fill the page cache. */
    fd = open(dev, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "mb-workload: stream: open %s: %s\n", dev, strerror(errno));
        return 1;
    }
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
    uint64_t start = now_ms();
    uint64_t have_bytes = 0, touches = 0, next_step_ms = start, step = 0;
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
    touches += steady_touches;
    printf("mb-workload: alloc done mib=%" PRIu64 " touches=%" PRIu64 " steady_ms=%" PRIu64
           " steady_touch_ns=%" PRIu64 " elapsed_ms=%" PRIu64 "\n",
           o->size_mib, touches, end - steady_start,
           steady_touches ? (end - steady_start) * 1000000u / steady_touches : 0, end - start);
    fflush(stdout);
    if (o->hold)
        for (;;)
            pause();
    munmap(base, total_bytes);
    return 0;
}

int
main(int argc, char **argv)
{
    Options o = {0};

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || !parse_options(argc, argv, &o))
        return usage();
    if (strcmp(argv[1], "stream") == 0)
        return run_stream(&o);
    if (strcmp(argv[1], "alloc") == 0)
        return run_alloc(&o);
    return usage();
}
