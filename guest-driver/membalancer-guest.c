/* membalancer-guest: the in-guest statistics agent.
 *
 * Every interval it reads /proc/meminfo, /proc/vmstat and
 * /proc/pressure/memory (fds opened once, pread) and writes one
 * "MBG1 sample" line to the virtio-serial port org.smarttv.membalancer.0
 * (docs/guest-protocol.md). Plain C11 + libc, static, no allocation after
 * start-up; sampling never waits on the host: the port is non-blocking and
 * a record that cannot be written is dropped and counted. */
#include "mb-guest-proto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define PROG "membalancer-guest"
#define INTERVAL_MS_DEFAULT 1000u
#define INTERVAL_MS_MAX 3600000u
/* A hello now and then lets a host that reconnected between two samples
 * (and so never saw a failed write here) learn the page size again. */
#define HELLO_EVERY 60u
/* /proc/vmstat is ~5 KiB on 6.x kernels; pswpin/pswpout come early. */
#define PROC_BUF_SIZE 16384

typedef struct {
    unsigned interval_ms;
    uint64_t count; /* 0: run until a signal */
    const char *port_name;
    const char *output; /* a path instead of the virtio port */
    const char *proc_dir;
    const char *sys_dir;
    const char *dev_dir;
    bool quiet;
} Options;

typedef struct {
    Options opt;
    int meminfo_fd, vmstat_fd, psi_fd;
    int out_fd;
    bool need_hello;  /* the host may not have seen a hello yet */
    bool broken_line; /* a partial write left half a line on the wire */
    int last_open_errno;
    char hello[MB_GUEST_PROTO_LINE_MAX + 1];
    size_t hello_len;
    char out_path[PATH_MAX];
    uint64_t seq, sent, dropped, opens, read_errors;
} Agent;

static volatile sig_atomic_t stop_signal;
static char proc_buf[PROC_BUF_SIZE];

static void
on_stop(int sig)
{
    stop_signal = sig;
}

static void say(const Agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(const Agent *a, const char *fmt, ...)
{
    va_list ap;

    if (a->opt.quiet)
        return;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- /proc ---- */

/* Reads a (small) file from offset 0 into proc_buf, NUL-terminated, with
 * one pread: seq_file fills the whole request in one call, and a second
 * pread at a later offset would make the kernel generate the file again. */
static ssize_t
read_whole(int fd)
{
    ssize_t n;

    do
        n = pread(fd, proc_buf, sizeof proc_buf - 1, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    proc_buf[n] = '\0';
    return n;
}

static uint64_t
parse_decimal(const char **pp)
{
    const char *p = *pp;
    uint64_t v = 0;

    while (*p == ' ' || *p == '\t')
        p++;
    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
        p++;
    }
    *pp = p;
    return v;
}

/* Calls fn(key, key_len, rest_of_line) for each "key<sep>value" line. */
static unsigned
scan_lines(const char *buf, char sep,
           unsigned (*fn)(const char *, size_t, const char *, void *), void *data,
           unsigned want)
{
    unsigned found = 0;

    for (const char *line = buf; *line && found != want;) {
        const char *end = strchr(line, '\n');
        const char *key_end = line;
        while (*key_end && *key_end != '\n' && *key_end != sep)
            key_end++;
        if (*key_end == sep && key_end > line)
            found |= fn(line, (size_t)(key_end - line), key_end + 1, data);
        if (!end)
            break;
        line = end + 1;
    }
    return found;
}

static const struct {
    const char *name;
    size_t offset;
} meminfo_keys[] = {
    {"MemTotal", offsetof(MbSample, total_kib)},
    {"MemFree", offsetof(MbSample, free_kib)},
    {"Active(anon)", offsetof(MbSample, active_anon_kib)},
    {"Inactive(anon)", offsetof(MbSample, inactive_anon_kib)},
    {"Active(file)", offsetof(MbSample, active_file_kib)},
    {"Inactive(file)", offsetof(MbSample, inactive_file_kib)},
};
#define MEMINFO_ALL ((1u << (sizeof meminfo_keys / sizeof meminfo_keys[0])) - 1)

static unsigned
meminfo_line(const char *key, size_t len, const char *rest, void *data)
{
    for (size_t i = 0; i < sizeof meminfo_keys / sizeof meminfo_keys[0]; i++) {
        if (strlen(meminfo_keys[i].name) == len &&
            memcmp(meminfo_keys[i].name, key, len) == 0) {
            uint64_t v = parse_decimal(&rest);
            memcpy((char *)data + meminfo_keys[i].offset, &v, sizeof v);
            return 1u << i;
        }
    }
    return 0;
}

/* Value of "\nkey " in buf (0 if absent). strstr is vectorised: far
 * cheaper than walking /proc/vmstat's ~75 lines before pswpin. */
static uint64_t
vmstat_value(const char *buf, const char *key_nl)
{
    const char *p = strstr(buf, key_nl);

    if (!p)
        return 0;
    p += strlen(key_nl);
    return parse_decimal(&p);
}

/* "some avg10=1.23 avg60=..." -> hundredths of a percent. */
static unsigned
psi_line(const char *key, size_t len, const char *rest, void *data)
{
    unsigned *centi = data;
    unsigned which;

    if (len == 4 && memcmp(key, "some", 4) == 0)
        which = 0;
    else if (len == 4 && memcmp(key, "full", 4) == 0)
        which = 1;
    else
        return 0;
    if (strncmp(rest, "avg10=", 6) != 0)
        return 0;
    rest += 6;
    uint64_t whole = parse_decimal(&rest), frac = 0;
    if (*rest == '.') {
        rest++;
        const char *start = rest;
        frac = parse_decimal(&rest);
        if (rest - start == 1)
            frac *= 10;
        else if (rest - start != 2)
            return 0;
    }
    centi[which] = whole > 100 ? 10000 : (unsigned)(whole * 100 + frac);
    return 1u << which;
}

static bool
take_sample(Agent *a, MbSample *s)
{
    unsigned centi[2] = {0, 0};

    memset(s, 0, sizeof *s);
    if (read_whole(a->meminfo_fd) < 0 ||
        scan_lines(proc_buf, ':', meminfo_line, s, MEMINFO_ALL) != MEMINFO_ALL)
        return false;
    if (read_whole(a->vmstat_fd) < 0)
        return false;
    /* Absent (no line yet, or the first line): no swap events. */
    s->swap_in_pages = vmstat_value(proc_buf, "\npswpin ");
    s->swap_out_pages = vmstat_value(proc_buf, "\npswpout ");
    if (a->psi_fd >= 0 && read_whole(a->psi_fd) >= 0 &&
        scan_lines(proc_buf, ' ', psi_line, centi, 3) == 3) {
        s->has_psi = true;
        s->psi_some_avg10 = centi[0] / 100.0;
        s->psi_full_avg10 = centi[1] / 100.0;
    }
    return true;
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
    fputs(
        "Usage: " PROG " [OPTION]...\n"
        "Posts this guest's memory statistics to the membalancer host over\n"
        "virtio-serial, one line per interval (docs/guest-protocol.md).\n"
        "\n"
        "  --interval-ms MS   sampling period (default 1000)\n"
        "  --port NAME        virtio-serial port name (default " MB_GUEST_PROTO_CHANNEL ")\n"
        "  --output PATH      write to PATH (file, FIFO, device) instead of the port\n"
        "  --count N          stop after N samples (default: run until SIGTERM)\n"
        "  --proc DIR         read meminfo, vmstat, pressure/memory from DIR (default /proc)\n"
        "  --sys DIR          sysfs root for finding the port (default /sys)\n"
        "  --dev DIR          device directory for the port (default /dev)\n"
        "  --quiet            no messages on stderr\n"
        "  --help             this text\n",
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
    enum { OPT_INTERVAL = 256, OPT_PORT, OPT_OUTPUT, OPT_COUNT, OPT_PROC, OPT_SYS, OPT_DEV };
    static const struct option longopts[] = {
        {"interval-ms", required_argument, NULL, OPT_INTERVAL},
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
}

static void
install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: the sleep returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN; /* a vanished reader is EPIPE, not death */
    sigaction(SIGPIPE, &sa, NULL);
}

static void
timespec_add_ms(struct timespec *t, unsigned ms)
{
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

static bool
timespec_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void
tick(Agent *a)
{
    char line[MB_GUEST_PROTO_LINE_MAX + 1];
    MbSample s;

    if (!take_sample(a, &s)) {
        a->read_errors++;
        return;
    }
    a->seq++;
    if (a->seq % HELLO_EVERY == 0)
        a->need_hello = true;
    size_t len = mb_guest_record_format_sample(line, sizeof line, a->seq, &s);
    if (len)
        send_line(a, line, len);
}

int
main(int argc, char **argv)
{
    Agent a = {.meminfo_fd = -1, .vmstat_fd = -1, .psi_fd = -1, .out_fd = -1};
    struct utsname uts;
    struct timespec next, now;
    long page = sysconf(_SC_PAGESIZE);

    parse_options(argc, argv, &a.opt);
    install_signals();
    a.meminfo_fd = open_proc(&a, "meminfo", true);
    a.vmstat_fd = open_proc(&a, "vmstat", true);
    a.psi_fd = open_proc(&a, "pressure/memory", false); /* no PSI: CONFIG_PSI=n or psi=0 */
    a.hello_len = mb_guest_record_format_hello(a.hello, sizeof a.hello,
                                               uname(&uts) == 0 ? uts.release : NULL,
                                               page > 0 ? (unsigned)(page / 1024) : 4);

    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!stop_signal) {
        tick(&a);
        if (a.opt.count && a.seq + a.read_errors >= a.opt.count)
            break;
        timespec_add_ms(&next, a.opt.interval_ms);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (timespec_before(&next, &now)) {
            /* Missed the deadline (VM paused, host suspended): sample now and
             * re-anchor rather than catch up in a burst. */
            next = now;
            continue;
        }
        while (!stop_signal) {
            int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
            if (r == 0)
                break;
            if (r != EINTR) {
                fprintf(stderr, PROG ": clock_nanosleep: %s\n", strerror(r));
                return 1;
            }
        }
    }

    struct timespec cpu;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    say(&a,
        "exiting: samples=%llu sent=%llu dropped=%llu opens=%llu read_errors=%llu "
        "cpu_us=%llu",
        (unsigned long long)a.seq, (unsigned long long)a.sent, (unsigned long long)a.dropped,
        (unsigned long long)a.opens, (unsigned long long)a.read_errors,
        (unsigned long long)cpu.tv_sec * 1000000ull + (unsigned long long)cpu.tv_nsec / 1000);
    if (a.out_fd >= 0)
        close(a.out_fd);
    return 0;
}
