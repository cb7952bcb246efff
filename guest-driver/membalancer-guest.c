/* membalancer-guest: the in-guest statistics agent.
 *
 * Every interval it reads /proc/meminfo, /proc/vmstat and
 * /proc/pressure/memory (fds opened once, pread) and writes one
 * "MBG1 sample" line to the virtio-serial port org.smarttv.membalancer.0
 * (docs/guest-protocol.md). Between periods it sends an urgent sample at
 * once when a PSI trigger fires or, without one, when a fast check sees
 * free memory near the low watermark or swap-out starting. Plain C11 +
 * libc, static, no allocation after start-up; sampling never waits on the
 * host: the port is non-blocking and a record that cannot be written is
 * dropped and counted. */
#include "mb-guest-proc.h"
#include "mb-guest-wire.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define PROG "membalancer-guest"
#define INTERVAL_MS_DEFAULT 1000u
#define INTERVAL_MS_MAX 3600000u
/* A hello now and then lets a host that reconnected between two samples
 * (and so never saw a failed write here) learn the page size again. The
 * watermarks are read as seldom: they change only with min_free_kbytes or
 * memory hotplug, and /proc/zoneinfo is the dearest file to generate. */
#define HELLO_EVERY 60u
/* /proc/vmstat is ~5 KiB on 6.x kernels; pswpin/pswpout come early. */
#define CHECK_MS_DEFAULT 100u
#define CHECK_MS_MAX 60000u
#define URGENT_MIN_MS_DEFAULT 200u
/* PSI trigger limits of the kernel (Documentation/accounting/psi.rst). */
#define PSI_TRIGGER_US_DEFAULT 50000u
#define PSI_WINDOW_US_DEFAULT 500000u
#define PSI_WINDOW_US_MIN 500000u
#define PSI_WINDOW_US_MAX 10000000u
/* MB_GUEST_URGENT_LOW: free memory below 2x the zones' low watermarks, at least
 * this much, and still falling. */
#define LOW_FLOOR_KIB 8192u
/* Urgent only for a real change: swap-out of 1 MiB or more since the last
 * sample, available memory falling by a 256th of the guest's memory (at
 * least 1 MiB) since the last check (10 MiB/s for a 256 MiB guest at the
 * default 100 ms). A video guest at its floor whose cache churns, or a
 * page pushed out now and then, does not call the host five times a
 * second. */
#define URGENT_SWAP_PAGES 256u
#define URGENT_FALL_MIN_KIB 1024u
#define NS_PER_MS 1000000LL

typedef struct {
    unsigned interval_ms;
    unsigned check_ms;      /* fast check period without a PSI trigger; 0: none */
    unsigned urgent_min_ms; /* at least this long between urgent records */
    unsigned psi_trigger_us, psi_window_us; /* trigger_us 0: no trigger */
    uint64_t count;                         /* 0: run until a signal */
    const char *port_name;
    const char *output; /* a path instead of the virtio port */
    const char *proc_dir;
    const char *sys_dir;
    const char *dev_dir;
    bool quiet;
} Options;

typedef struct {
    Options opt;
    MbGuestProc proc;
    int trigger_fd; /* /proc/pressure/memory with a trigger armed, or -1 */
    int out_fd;
    /* Urgent-record state: reasons seen but not yet sent (rate limit), the
     * free memory of the last fast check, pswpout of the last sample. */
    unsigned pending_urgent;
    bool have_check_free;
    uint64_t check_free_kib, last_swap_out;
    int64_t last_urgent_ns; /* INT64_MIN: none yet */
    bool need_hello;        /* the host may not have seen a hello yet */
    bool broken_line;       /* a partial write left half a line on the wire */
    int last_open_errno;
    char hello[MB_GUEST_PROTO_LINE_MAX + 1];
    size_t hello_len;
    char out_path[PATH_MAX];
    uint64_t seq, sent, dropped, opens, read_errors, urgent;
} Agent;

static volatile sig_atomic_t stop_signal;

static void
on_stop(int sig)
{
    stop_signal = sig;
}

static void say(const Agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(const Agent *a, const char *fmt, ...)
{
    char line[512];
    size_t len = sizeof(PROG ": ") - 1;
    va_list ap;
    int n;

    if (a->opt.quiet)
        return;
    /* One write for the whole line: the console is shared with the init
     * script, whose line must not land inside ours (vm-e2e looks for
     * "MB-READY" at the start of a line). */
    memcpy(line, PROG ": ", len);
    va_start(ap, fmt);
    n = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    len += (size_t)n < sizeof(line) - len - 1 ? (size_t)n : sizeof(line) - len - 2;
    line[len++] = '\n';
    while (write(STDERR_FILENO, line, len) < 0 && errno == EINTR)
        ;
}

/* ---- urgent records ---- */

/* Available memory that counts as running low: below a tenth of the
 * guest's memory or 2x the low watermarks (kswapd wakes at 1x), whichever
 * is larger, never below LOW_FLOOR_KIB. */
static uint64_t
low_threshold_kib(const Agent *a, uint64_t total_kib)
{
    uint64_t low = a->proc.low_wmark_kib, t = low > UINT64_MAX / 2 ? UINT64_MAX : 2 * low;
    if (total_kib / 10 > t)
        t = total_kib / 10;
    return t > LOW_FLOOR_KIB ? t : LOW_FLOOR_KIB;
}

/* The fast check: MemAvailable (MemFree on kernels without it), MemTotal
 * and pswpout only. Available, not free: a guest full of page cache it can
 * drop is not short. Returns MB_GUEST_URGENT_* reasons. */
static unsigned
fast_check(Agent *a)
{
    uint64_t free_kib, total_kib, swap_out;
    unsigned why = 0;

    if (!mb_guest_proc_fast(&a->proc, &total_kib, &free_kib, &swap_out))
        return 0;
    uint64_t fall_kib =
        total_kib / 256 > URGENT_FALL_MIN_KIB ? total_kib / 256 : URGENT_FALL_MIN_KIB;
    if (a->have_check_free && free_kib + fall_kib <= a->check_free_kib &&
        free_kib < low_threshold_kib(a, total_kib))
        why |= MB_GUEST_URGENT_LOW;
    if (swap_out >= a->last_swap_out + URGENT_SWAP_PAGES)
        why |= MB_GUEST_URGENT_SWAP;
    a->check_free_kib = free_kib;
    a->have_check_free = true;
    return why;
}

static int
open_proc(const Agent *a, const char *name, bool required)
{
    char path[PATH_MAX];
    int fd;

    snprintf(path, sizeof path, "%s/%s", a->opt.proc_dir, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && required) {
        fprintf(stderr, PROG ": cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return fd;
}

/* ---- output ---- */

/* Finds the virtio-serial port named a->opt.port_name in sysfs and stores
 * its device path in a->out_path. getdents64 with a static buffer: opendir
 * would allocate. */
static bool
find_port(Agent *a)
{
    static char dents[4096];
    char path[PATH_MAX];
    bool found = false;
    ssize_t n;

    snprintf(path, sizeof path, "%s/class/virtio-ports", a->opt.sys_dir);
    int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return false;
    while (!found && (n = getdents64(dir, dents, sizeof dents)) > 0) {
        for (ssize_t off = 0; !found && off < n;) {
            const struct dirent64 *d = (const struct dirent64 *)(dents + off);
            char name[256];
            off += d->d_reclen;
            if (d->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/name", d->d_name);
            int fd = openat(dir, path, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                continue;
            ssize_t len = read(fd, name, sizeof name - 1);
            close(fd);
            if (len <= 0)
                continue;
            if (name[len - 1] == '\n')
                len--;
            name[len] = '\0';
            if (strcmp(name, a->opt.port_name) == 0) {
                snprintf(a->out_path, sizeof a->out_path, "%s/%s", a->opt.dev_dir, d->d_name);
                found = true;
            }
        }
    }
    close(dir);
    return found;
}

static void
try_open_output(Agent *a)
{
    int flags = O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

    if (a->opt.output) {
        snprintf(a->out_path, sizeof a->out_path, "%s", a->opt.output);
        flags |= O_CREAT | O_APPEND;
    } else if (!find_port(a)) {
        if (a->last_open_errno != ENOENT)
            say(a, "no virtio-serial port named %s yet; will retry", a->opt.port_name);
        a->last_open_errno = ENOENT;
        return;
    }
    a->out_fd = open(a->out_path, flags, 0644);
    if (a->out_fd < 0) {
        /* ENXIO: a FIFO without a reader. Say so once, retry every interval. */
        if (errno != a->last_open_errno)
            say(a, "cannot open %s: %s; will retry", a->out_path, strerror(errno));
        a->last_open_errno = errno;
        return;
    }
    a->last_open_errno = 0;
    a->opens++;
    a->need_hello = true;
    say(a, "writing to %s", a->out_path);
}

/* Writes [newline][hello]line in one write() (atomic on pipes, one buffer
 * on virtio ports); drops it if the other side cannot take it now. */
static void
send_line(Agent *a, const char *line, size_t len)
{
    char buf[2 * MB_GUEST_PROTO_LINE_MAX + 2];
    size_t n = 0;

    if (a->out_fd < 0)
        try_open_output(a);
    if (a->out_fd < 0) {
        a->dropped++;
        return;
    }
    if (a->broken_line)
        buf[n++] = '\n'; /* ends the partial line: the host rejects it and resyncs */
    if (a->need_hello) {
        memcpy(buf + n, a->hello, a->hello_len);
        n += a->hello_len;
    }
    memcpy(buf + n, line, len);
    n += len;

    ssize_t w = write(a->out_fd, buf, n);
    if (w == (ssize_t)n) {
        a->sent++;
        a->need_hello = a->broken_line = false;
        return;
    }
    a->dropped++;
    a->need_hello = true;
    if (w > 0) {
        a->broken_line = true;
        return;
    }
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return; /* no host / full buffer: keep the fd, try next interval */
    /* EPIPE, ENXIO, ENODEV, EIO...: the other side went away; reopen later. */
    say(a, "write to %s failed: %s; reopening", a->out_path, w < 0 ? strerror(errno) : "EOF");
    close(a->out_fd);
    a->out_fd = -1;
    a->broken_line = false;
}

/* ---- main ---- */

static void
usage(FILE *f)
{
    fputs("Usage: " PROG " [OPTION]...\n"
          "Posts this guest's memory statistics to the membalancer host over\n"
          "virtio-serial, one line per interval, and an urgent line at once when\n"
          "memory pressure starts (docs/guest-protocol.md).\n"
          "\n"
          "  --interval-ms MS     sampling period (default 1000)\n"
          "  --psi-trigger-us US  urgent sample when tasks stall US us on memory within\n"
          "                       the PSI window (default 50000; 0: no PSI trigger)\n"
          "  --psi-window-us US   PSI trigger window, 500000..10000000 (default 500000)\n"
          "  --check-ms MS        without a PSI trigger, check MemFree and pswpout\n"
          "                       every MS (default 100; 0: no checks)\n"
          "  --urgent-min-ms MS   at least MS between urgent samples (default 200)\n"
          "  --port NAME          virtio-serial port name (default " MB_GUEST_PROTO_CHANNEL
          ")\n"
          "  --output PATH        write to PATH (file, FIFO, device, /dev/stdout)\n"
          "                       instead of the port\n"
          "  --count N            stop after N samples (default: run until SIGTERM)\n"
          "  --proc DIR           read meminfo, vmstat, zoneinfo, pressure/memory from DIR\n"
          "                       (default /proc)\n"
          "  --sys DIR            sysfs root for finding the port (default /sys)\n"
          "  --dev DIR            device directory for the port (default /dev)\n"
          "  --quiet              no messages on stderr\n"
          "  --help               this text\n",
          f);
}

static void
bad_usage(const char *what, const char *arg)
{
    fprintf(stderr, PROG ": %s%s%s (try --help)\n", what, arg ? ": " : "", arg ? arg : "");
    exit(2);
}

static uint64_t
parse_number_option(const char *arg, const char *what, uint64_t min, uint64_t max)
{
    uint64_t v = 0;
    size_t n = strlen(arg);

    if (n == 0 || n > 20 || (n > 1 && arg[0] == '0'))
        bad_usage(what, arg);
    for (size_t i = 0; i < n; i++) {
        if (arg[i] < '0' || arg[i] > '9')
            bad_usage(what, arg);
        unsigned d = (unsigned)(arg[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            bad_usage(what, arg);
        v = v * 10 + d;
    }
    if (v < min || v > max)
        bad_usage(what, arg);
    return v;
}

static void
parse_options(int argc, char **argv, Options *opt)
{
    enum {
        OPT_INTERVAL = 256,
        OPT_PSI_TRIGGER,
        OPT_PSI_WINDOW,
        OPT_CHECK,
        OPT_URGENT_MIN,
        OPT_PORT,
        OPT_OUTPUT,
        OPT_COUNT,
        OPT_PROC,
        OPT_SYS,
        OPT_DEV
    };
    static const struct option longopts[] = {
        {"interval-ms", required_argument, NULL, OPT_INTERVAL},
        {"psi-trigger-us", required_argument, NULL, OPT_PSI_TRIGGER},
        {"psi-window-us", required_argument, NULL, OPT_PSI_WINDOW},
        {"check-ms", required_argument, NULL, OPT_CHECK},
        {"urgent-min-ms", required_argument, NULL, OPT_URGENT_MIN},
        {"port", required_argument, NULL, OPT_PORT},
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"count", required_argument, NULL, OPT_COUNT},
        {"proc", required_argument, NULL, OPT_PROC},
        {"sys", required_argument, NULL, OPT_SYS},
        {"dev", required_argument, NULL, OPT_DEV},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *opt = (Options){
        .interval_ms = INTERVAL_MS_DEFAULT,
        .check_ms = CHECK_MS_DEFAULT,
        .urgent_min_ms = URGENT_MIN_MS_DEFAULT,
        .psi_trigger_us = PSI_TRIGGER_US_DEFAULT,
        .psi_window_us = PSI_WINDOW_US_DEFAULT,
        .port_name = MB_GUEST_PROTO_CHANNEL,
        .proc_dir = "/proc",
        .sys_dir = "/sys",
        .dev_dir = "/dev",
    };
    opterr = 0; /* our own one-line messages */
    while ((c = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_INTERVAL:
            opt->interval_ms =
                (unsigned)parse_number_option(optarg, "bad --interval-ms", 1, INTERVAL_MS_MAX);
            break;
        case OPT_PSI_TRIGGER:
            opt->psi_trigger_us = (unsigned)parse_number_option(optarg, "bad --psi-trigger-us",
                                                                0, PSI_WINDOW_US_MAX);
            break;
        case OPT_PSI_WINDOW:
            opt->psi_window_us = (unsigned)parse_number_option(
                optarg, "bad --psi-window-us", PSI_WINDOW_US_MIN, PSI_WINDOW_US_MAX);
            break;
        case OPT_CHECK:
            opt->check_ms =
                (unsigned)parse_number_option(optarg, "bad --check-ms", 0, CHECK_MS_MAX);
            break;
        case OPT_URGENT_MIN:
            opt->urgent_min_ms = (unsigned)parse_number_option(optarg, "bad --urgent-min-ms", 0,
                                                               INTERVAL_MS_MAX);
            break;
        case OPT_COUNT:
            opt->count = parse_number_option(optarg, "bad --count", 1, UINT64_MAX);
            break;
        case OPT_PORT:
            if (!*optarg || strchr(optarg, '/'))
                bad_usage("bad --port", optarg);
            opt->port_name = optarg;
            break;
        case OPT_OUTPUT:
            opt->output = optarg;
            break;
        case OPT_PROC:
            opt->proc_dir = optarg;
            break;
        case OPT_SYS:
            opt->sys_dir = optarg;
            break;
        case OPT_DEV:
            opt->dev_dir = optarg;
            break;
        case 'q':
            opt->quiet = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case ':':
            bad_usage("option needs a value", argv[optind - 1]);
            break;
        default:
            bad_usage("unknown option", argv[optind - 1]);
        }
    }
    if (optind < argc)
        bad_usage("unexpected argument", argv[optind]);
    if (opt->psi_trigger_us > opt->psi_window_us)
        bad_usage("--psi-trigger-us is longer than --psi-window-us", NULL);
}

/* SIGTERM and SIGINT stay blocked but in ppoll(): a signal that comes while
 * a sample is being taken cannot be lost before the wait. */
static void
install_signals(sigset_t *wait_mask)
{
    struct sigaction sa;
    sigset_t stops;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN; /* a vanished reader is EPIPE, not death */
    sigaction(SIGPIPE, &sa, NULL);
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    sigprocmask(SIG_BLOCK, &stops, wait_mask);
}

/* Arms "some TRIGGER WINDOW" on /proc/pressure/memory. Without it (no PSI,
 * no permission, a kernel before 5.2, a fake /proc) the fast check stands
 * in; said once. */
static void
arm_psi_trigger(Agent *a)
{
    char path[PATH_MAX], trigger[64];
    const char *why = NULL;
    struct statfs fs;

    if (!a->opt.psi_trigger_us)
        return;
    snprintf(path, sizeof path, "%s/pressure/memory", a->opt.proc_dir);
    /* The kernel takes the string with its NUL. */
    int len = snprintf(trigger, sizeof trigger, "some %u %u", a->opt.psi_trigger_us,
                       a->opt.psi_window_us) +
              1;
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        why = strerror(errno);
    else if (fstatfs(fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC)
        why = "not procfs"; /* never write a trigger into a plain file */
    else if (write(fd, trigger, (size_t)len) != len)
        why = errno == EINVAL && a->opt.psi_window_us % 2000000u
                  ? "Invalid argument; without CAP_SYS_RESOURCE Linux 6.5+ takes only "
                    "windows of a multiple of 2 s"
                  : strerror(errno);
    if (!why) {
        a->trigger_fd = fd;
        return;
    }
    if (fd >= 0)
        close(fd);
    if (a->opt.check_ms)
        say(a, "no PSI trigger on %s (%s); checking every %u ms instead", path, why,
            a->opt.check_ms);
    else
        say(a, "no PSI trigger on %s (%s) and --check-ms 0: no urgent samples", path, why);
}

static int64_t
now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Takes and sends one sample; urgent holds its MB_GUEST_URGENT_* reasons (0: a
 * periodic one). False if /proc could not be read. */
static bool
tick(Agent *a, unsigned urgent)
{
    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    MbGuestSample s;

    if (!mb_guest_proc_sample(&a->proc, &s)) {
        a->read_errors++;
        return false;
    }
    a->seq++;
    if (a->seq % HELLO_EVERY == 0) {
        a->need_hello = true;
        mb_guest_proc_read_low_wmark(&a->proc);
    }
    /* A PSI event also names the other reasons that hold now. */
    if (urgent & MB_GUEST_URGENT_PSI) {
        if (s.swap_out_pages >= a->last_swap_out + URGENT_SWAP_PAGES)
            urgent |= MB_GUEST_URGENT_SWAP;
        /* (free + inactive file: about what MemAvailable counts) */
        if (s.free_kib + s.inactive_file_kib < low_threshold_kib(a, s.total_kib))
            urgent |= MB_GUEST_URGENT_LOW;
    }
    s.urgent = urgent;
    a->last_swap_out = s.swap_out_pages;
    if (!a->have_check_free) {
        a->check_free_kib = s.free_kib;
        a->have_check_free = true;
    }
    size_t len = mb_guest_message_format_sample(line, sizeof line, a->seq, &s);
    if (len)
        send_line(a, line, len);
    return true;
}

static int64_t
min_ns(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* The loop: a periodic sample on its own schedule (an urgent one does not
 * move it, so the host still sees one sample per interval), fast checks
 * (with or without a PSI trigger), urgent samples as soon as the rate
 * limit lets them out. */
static int
run(Agent *a, const sigset_t *wait_mask)
{
    const int64_t interval_ns = a->opt.interval_ms * NS_PER_MS;
    const int64_t check_ns = a->opt.check_ms * NS_PER_MS;
    const int64_t urgent_min_ns = a->opt.urgent_min_ms * NS_PER_MS;
    int64_t now = now_ns(), next_sample = now, next_check = now + check_ns;

    while (!stop_signal) {
        /* Also with a trigger: PSI fires once a task stalls, the check
         * sees available memory falling before that. */
        bool checking = check_ns != 0;
        if (checking && now >= next_check) {
            a->pending_urgent |= fast_check(a);
            next_check += check_ns;
            if (next_check <= now)
                next_check = now + check_ns;
        }
        int64_t urgent_at =
            a->last_urgent_ns == INT64_MIN ? now : a->last_urgent_ns + urgent_min_ns;
        bool urgent = a->pending_urgent && now >= urgent_at;
        if (urgent || now >= next_sample) {
            /* A failed urgent sample waits out the rate limit too: no spin. */
            if (tick(a, urgent ? a->pending_urgent : 0) && urgent) {
                a->pending_urgent = 0;
                a->urgent++;
            }
            if (urgent)
                a->last_urgent_ns = now;
            if (a->opt.count && a->seq + a->read_errors >= a->opt.count)
                break;
            if (now >= next_sample) {
                next_sample += interval_ns;
                /* Missed the deadline (VM paused, host suspended): sample
                 * now and re-anchor rather than catch up in a burst. */
                if (next_sample < now)
                    next_sample = now;
            }
            now = now_ns();
            continue;
        }

        int64_t wake = next_sample;
        if (checking)
            wake = min_ns(wake, next_check);
        if (a->pending_urgent)
            wake = min_ns(wake, urgent_at);
        int64_t wait = wake > now ? wake - now : 0;
        struct timespec timeout = {(time_t)(wait / 1000000000LL), (long)(wait % 1000000000LL)};
        struct pollfd pfd = {a->trigger_fd, POLLPRI, 0};
        int r = ppoll(&pfd, a->trigger_fd >= 0 ? 1 : 0, &timeout, wait_mask);
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, PROG ": ppoll: %s\n", strerror(errno));
            return 1;
        }
        if (r > 0 && (pfd.revents & (POLLERR | POLLNVAL | POLLHUP))) {
            say(a, "PSI trigger failed; checking every %u ms instead", a->opt.check_ms);
            close(a->trigger_fd);
            a->trigger_fd = -1;
            next_check = now;
        } else if (r > 0 && (pfd.revents & POLLPRI)) {
            a->pending_urgent |= MB_GUEST_URGENT_PSI;
        }
        now = now_ns();
    }
    return 0;
}

int
main(int argc, char **argv)
{
    Agent a = {
        .proc = {.meminfo_fd = -1, .vmstat_fd = -1, .psi_fd = -1, .zoneinfo_fd = -1},
        .trigger_fd = -1,
        .out_fd = -1,
        .last_urgent_ns = INT64_MIN,
    };
    struct utsname uts;
    sigset_t wait_mask;
    long page = sysconf(_SC_PAGESIZE);

    parse_options(argc, argv, &a.opt);
    install_signals(&wait_mask);
    a.proc.page_kib = page >= 1024 ? (uint64_t)page / 1024 : 4;
    a.proc.meminfo_fd = open_proc(&a, "meminfo", true);
    a.proc.vmstat_fd = open_proc(&a, "vmstat", true);
    a.proc.psi_fd = open_proc(&a, "pressure/memory", false); /* no PSI: CONFIG_PSI=n or psi=0 */
    a.proc.zoneinfo_fd = open_proc(&a, "zoneinfo", false);
    mb_guest_proc_read_low_wmark(&a.proc);
    arm_psi_trigger(&a);
    a.hello_len = mb_guest_message_format_hello(a.hello, sizeof a.hello,
                                                uname(&uts) == 0 ? uts.release : NULL,
                                                (unsigned)a.proc.page_kib);

    int rc = run(&a, &wait_mask);

    struct timespec cpu;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    say(&a,
        "exiting: samples=%llu sent=%llu dropped=%llu opens=%llu read_errors=%llu "
        "cpu_us=%llu urgent=%llu",
        (unsigned long long)a.seq, (unsigned long long)a.sent, (unsigned long long)a.dropped,
        (unsigned long long)a.opens, (unsigned long long)a.read_errors,
        (unsigned long long)cpu.tv_sec * 1000000ull + (unsigned long long)cpu.tv_nsec / 1000,
        (unsigned long long)a.urgent);
    if (a.out_fd >= 0)
        close(a.out_fd);
    return rc;
}
