/* Host side of a guest's virtio-serial channel, for the VM suite's scripts:
 *
 *   mb-chan-read SOCKET [LINES [TIMEOUT_S]]
 *
 * Connects to the unix socket libvirt bound for the channel, copies the
 * first LINES lines (default 1) the guest writes to stdout and exits 0;
 * exits 1 if they do not arrive within TIMEOUT_S seconds (default 30),
 * 2 on a usage or connection error. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
write_all(const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "mb-chan-read: write: %s\n", strerror(errno));
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

int
main(int argc, char **argv)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    long lines = argc > 2 ? strtol(argv[2], NULL, 10) : 1;
    long timeout_s = argc > 3 ? strtol(argv[3], NULL, 10) : 30;
    long long deadline;
    long seen = 0;
    static char buf[8192];
    size_t used = 0;
    int fd;

    if (argc < 2 || argc > 4 || lines < 1 || timeout_s < 1 ||
        strlen(argv[1]) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "usage: mb-chan-read SOCKET [LINES [TIMEOUT_S]]\n");
        return 2;
    }
    strcpy(addr.sun_path, argv[1]);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        fprintf(stderr, "mb-chan-read: %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    deadline = now_ms() + timeout_s * 1000;
    while (seen < lines) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        long long left = deadline - now_ms();
        ssize_t n;

        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            fprintf(stderr, "mb-chan-read: %ld of %ld lines within %ld s\n", seen, lines,
                    timeout_s);
            return 1;
        }
        n = read(fd, buf + used, sizeof(buf) - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "mb-chan-read: %s\n", n ? strerror(errno) : "channel closed");
            return 1;
        }
        used += (size_t)n;
        /* Whole lines only, unbuffered: a script polling the output file
         * must never see half a line. */
        size_t start = 0;
        for (size_t i = 0; i < used && seen < lines; i++) {
            if (buf[i] != '\n')
                continue;
            if (!write_all(buf + start, i + 1 - start))
                return 2;
            start = i + 1;
            seen++;
        }
        if (start == 0 && used == sizeof(buf)) {
            fprintf(stderr, "mb-chan-read: line longer than %zu bytes\n", sizeof(buf));
            return 1;
        }
        memmove(buf, buf + start, used - start);
        used -= start;
    }
    close(fd);
    return 0;
}
