/* mb-alloc-poll URI PREFIX [INTERVAL_MS]: the hypervisor's view of the
 * pool. Every INTERVAL_MS (default 100) it reads, through libvirt, the
 * balloon of every running domain whose name starts with PREFIX and
 * prints one line: "T_MS SUM_KIB NAME=KIB ...", T_MS in milliseconds since
 * the epoch (CLOCK_REALTIME, so that other logs line up with it; the
 * polling itself keeps time on CLOCK_MONOTONIC). Runs until SIGTERM or
 * SIGINT. The real-VM tests and benchmarks take the largest sum of it. */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
    (void)sig;
    quit = 1;
}

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
epoch_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
quiet(void *data, virErrorPtr error)
{
    (void)data;
    (void)error;
}

int
main(int argc, char **argv)
{
    long interval_ms = argc > 3 ? strtol(argv[3], NULL, 10) : 100;
    size_t prefix_len;
    virConnectPtr conn;

    if (argc < 3 || interval_ms <= 0) {
        fprintf(stderr, "usage: mb-alloc-poll URI PREFIX [INTERVAL_MS]\n");
        return 2;
    }
    prefix_len = strlen(argv[2]);
    virSetErrorFunc(NULL, quiet);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    /* libvirtd restarted under us: a write to its socket must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    conn = NULL;
    while (!quit) {
        long long t = now_ms();
        virDomainPtr *doms = NULL;
        int n;
        unsigned long long sum = 0;
        char line[4096];
        size_t len = 0;

        /* libvirtd may be restarted under us (vm-e2e does): reconnect. */
        if (conn != NULL && virConnectIsAlive(conn) != 1) {
            virConnectClose(conn);
            conn = NULL;
        }
        if (conn == NULL)
            conn = virConnectOpen(argv[1]);
        n = conn != NULL
                ? virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE)
                : -1;
        line[0] = '\0';
        for (int i = 0; i < n; i++) {
            const char *name = virDomainGetName(doms[i]);
            virDomainInfo info;

            if (name != NULL && strncmp(name, argv[2], prefix_len) == 0 &&
                virDomainGetInfo(doms[i], &info) == 0) {
                sum += info.memory;
                if (len < sizeof(line) - 200)
                    len += (size_t)snprintf(line + len, sizeof(line) - len, " %s=%lu", name,
                                            info.memory);
            }
            virDomainFree(doms[i]);
        }
        free(doms);
        if (n >= 0)
            printf("%lld %llu%s\n", epoch_ms(), sum, line);
        while (!quit && now_ms() < t + interval_ms) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (conn != NULL)
        virConnectClose(conn);
    return 0;
}
