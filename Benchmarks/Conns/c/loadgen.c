// conns-loadgen: the closed-loop load generator of `make bench-conns`.
// One thread, one epoll over all connections. Each connection sends S bytes,
// waits for the whole echo, verifies it byte for byte against the pattern it
// sent, and sends the next message. After the warm-up it measures a fixed
// window: requests completed, per-request latency (send of the first byte to
// receipt of the last) in a preallocated histogram (1 us buckets up to 1 s, 1 ms
// buckets above).
//
// If told the server's PID (--server-pid) it samples, at both edges of the
// window, the server's utime+stime (/proc/PID/stat), its VmRSS at the end, and
// the malloc counter file (--malloc-file, see malloc-count.c); it prints the
// lines "window-start" and "window-end" on stdout (flushed) at the edges so
// that a runner can enable `perf stat` for the window. The runner sends
// SIGUSR1 right after enabling perf and SIGUSR2 right before disabling it; the
// requests completed between the two are printed as perf_requests, so that
// syscalls per request need no assumption about the rate.
//
//   conns-loadgen HOST PORT CONNS SIZE WARMUP_S WINDOW_S [--server-pid PID] [--malloc-file PATH]
// prints: loadgen conns=N size=S requests=R window_s=W rps=X p50_us=X p99_us=X
//         client_cpu_s=X server_cpu_s=X server_rss_kb=X mallocs=X perf_requests=X
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HIST_US 1000000      // 1 us buckets up to 1 s,
#define HIST_MS 120000       // then 1 ms buckets up to 121 s (the last one takes all above)
#define HIST_BUCKETS (HIST_US + HIST_MS)
#define MAX_EVENTS 1024
#define PATTERN 251          // a prime: messages differ from connection to connection and round to round

struct conn {
    int fd;
    uint32_t sent, received; // bytes of the current message
    uint32_t offset;         // where in the pattern the current message starts
    uint64_t start_ns;
};

static uint64_t hist[HIST_BUCKETS];
static volatile sig_atomic_t mark_on, mark_off; // SIGUSR1 / SIGUSR2 from the runner

static void on_mark(int sig) {
    if (sig == SIGUSR1) mark_on = 1; else mark_off = 1;
}
static char *pattern;
static int size;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_s_self(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

// utime+stime of a process in seconds, or -1.
static double cpu_s_of(int pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')'); // the command name may hold spaces
    if (!p) return -1;
    p += 2;
    // fields after ')': 3 state ... 14 utime 15 stime
    unsigned long long ut = 0, st = 0;
    int field = 3;
    for (char *tok = strtok(p, " "); tok; tok = strtok(NULL, " "), field++) {
        if (field == 14) ut = strtoull(tok, NULL, 10);
        if (field == 15) { st = strtoull(tok, NULL, 10); break; }
    }
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long rss_kb_of(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) { kb = strtol(line + 6, NULL, 10); break; }
    fclose(f);
    return kb;
}

static inline uint64_t bucket_of(uint64_t us) {
    if (us < HIST_US) return us;
    uint64_t ms = (us - HIST_US) / 1000;
    return HIST_US + (ms < HIST_MS ? ms : HIST_MS - 1);
}

// The middle of a bucket, in microseconds.
static double bucket_us(uint64_t i) {
    if (i < HIST_US) return (double)i + 0.5;
    return (double)HIST_US + (double)(i - HIST_US) * 1000.0 + 500.0;
}

static void die(const char *what) { perror(what); exit(1); }

// Sends what is left of the current message; -1 on error.
static int pump_send(struct conn *c) {
    while (c->sent < (uint32_t)size) {
        ssize_t n = send(c->fd, pattern + c->offset + c->sent, (size_t)size - c->sent, MSG_NOSIGNAL);
        if (n > 0) { c->sent += (uint32_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: conns-loadgen HOST PORT CONNS SIZE WARMUP_S WINDOW_S [--server-pid PID] [--malloc-file PATH]\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]), nconns = atoi(argv[3]);
    size = atoi(argv[4]);
    double warmup = atof(argv[5]), window = atof(argv[6]);
    int server_pid = 0;
    const char *malloc_file = NULL;
    for (int i = 7; i < argc; i++) {
        if (!strcmp(argv[i], "--server-pid") && i + 1 < argc) server_pid = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--malloc-file") && i + 1 < argc) malloc_file = argv[++i];
        else { fprintf(stderr, "conns-loadgen: unknown argument %s\n", argv[i]); return 2; }
    }
    if (nconns <= 0 || size <= 0 || window <= 0) { fprintf(stderr, "conns-loadgen: bad arguments\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction mark = {.sa_handler = on_mark}; // no SA_RESTART: epoll_wait returns EINTR
    sigaction(SIGUSR1, &mark, NULL);
    sigaction(SIGUSR2, &mark, NULL);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }

    volatile uint64_t *mallocs = NULL;
    if (malloc_file) {
        int fd = open(malloc_file, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
            if (p != MAP_FAILED) mallocs = p;
            close(fd);
        }
    }

    pattern = malloc((size_t)size + PATTERN);
    for (int i = 0; i < size + PATTERN; i++) pattern[i] = (char)((i * 7 + (i >> 8)) & 0xff);
    char *rbuf = malloc((size_t)size);
    struct conn *conns = calloc((size_t)nconns, sizeof *conns);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "conns-loadgen: bad host\n"); return 2; }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int one = 1;
    // Blocking connects, one after another (the server accepts as they come), then non-blocking.
    for (int i = 0; i < nconns; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) die("conns-loadgen: socket");
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
            fprintf(stderr, "conns-loadgen: connect %d of %d: %s\n", i + 1, nconns, strerror(errno));
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        conns[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("conns-loadgen: epoll_ctl");
    }

    printf("connected\n"); // all connections are up: a runner may attach perf now (during the warm-up)
    fflush(stdout);
    uint64_t t0 = now_ns();
    uint64_t window_start = t0 + (uint64_t)(warmup * 1e9), window_end = window_start + (uint64_t)(window * 1e9);
    for (int i = 0; i < nconns; i++) {
        conns[i].offset = (uint32_t)(i % PATTERN);
        conns[i].start_ns = t0;
        if (pump_send(&conns[i]) < 0) die("conns-loadgen: send");
    }

    int measuring = 0;
    uint64_t requests = 0, errors = 0, all_requests = 0, marked_on = 0, marked_off = 0;
    int have_on = 0, have_off = 0;
    double client_cpu0 = 0, server_cpu0 = 0, client_cpu1 = 0, server_cpu1 = 0;
    uint64_t mallocs0 = 0, mallocs1 = 0;
    long rss = -1;
    uint64_t measured_ns = 0;
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        if (mark_on && !have_on) { have_on = 1; marked_on = all_requests; }
        if (mark_off && !have_off) { have_off = 1; marked_off = all_requests; }
        int n = epoll_wait(ep, events, MAX_EVENTS, 100);
        if (n < 0) { if (errno == EINTR) continue; die("conns-loadgen: epoll_wait"); }
        uint64_t t = now_ns();
        if (!measuring && t >= window_start) {
            measuring = 1;
            memset(hist, 0, sizeof hist);
            requests = 0;
            window_start = t;
            window_end = t + (uint64_t)(window * 1e9);
            if (server_pid) server_cpu0 = cpu_s_of(server_pid);
            if (mallocs) mallocs0 = *mallocs;
            client_cpu0 = cpu_s_self();
            printf("window-start\n");
            fflush(stdout);
        } else if (measuring && t >= window_end) {
            measured_ns = t - window_start;
            if (server_pid) { server_cpu1 = cpu_s_of(server_pid); rss = rss_kb_of(server_pid); }
            if (mallocs) mallocs1 = *mallocs;
            client_cpu1 = cpu_s_self();
            printf("window-end\n");
            fflush(stdout);
            break;
        }
        for (int k = 0; k < n; k++) {
            struct conn *c = &conns[events[k].data.u32];
            uint32_t e = events[k].events;
            if (e & EPOLLOUT && c->sent < (uint32_t)size) {
                if (pump_send(c) < 0) { fprintf(stderr, "conns-loadgen: send: %s\n", strerror(errno)); return 1; }
            }
            if (!(e & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
            for (;;) {
                ssize_t r = recv(c->fd, rbuf, (size_t)size - c->received, 0);
                if (r > 0) {
                    if ((uint32_t)r + c->received > c->sent ||
                        memcmp(rbuf, pattern + c->offset + c->received, (size_t)r) != 0) {
                        fprintf(stderr, "conns-loadgen: connection %ld: the echo differs from what was sent (or came before it)\n",
                                (long)(c - conns));
                        return 3;
                    }
                    c->received += (uint32_t)r;
                    if (c->received == (uint32_t)size) {
                        uint64_t done = now_ns();
                        uint64_t us = (done - c->start_ns) / 1000;
                        hist[bucket_of(us)]++;
                        requests++;
                        all_requests++;
                        c->received = c->sent = 0;
                        c->offset = (c->offset + 1) % PATTERN;
                        c->start_ns = done;
                        if (pump_send(c) < 0) { fprintf(stderr, "conns-loadgen: send: %s\n", strerror(errno)); return 1; }
                    }
                    continue;
                }
                if (r == 0) {
                    fprintf(stderr, "conns-loadgen: connection %ld: EOF from the server\n", (long)(c - conns));
                    return 3;
                }
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                fprintf(stderr, "conns-loadgen: recv: %s\n", strerror(errno));
                errors++;
                return 3;
            }
        }
    }

    // Percentiles from the histogram (the middle of the bucket).
    uint64_t total = 0, p50 = 0, p99 = 0, acc = 0; // bucket indexes
    for (int i = 0; i < HIST_BUCKETS; i++) total += hist[i];
    int have50 = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        acc += hist[i];
        if (!have50 && acc * 100 >= total * 50) { p50 = (uint64_t)i; have50 = 1; }
        if (acc * 100 >= total * 99) { p99 = (uint64_t)i; break; }
    }
    double secs = (double)measured_ns / 1e9;
    char mallocs_text[32] = "nan", perf_text[32] = "nan";
    if (mark_off && !have_off) { have_off = 1; marked_off = all_requests; }
    if (have_on && have_off) snprintf(perf_text, sizeof perf_text, "%llu", (unsigned long long)(marked_off - marked_on));
    if (mallocs) snprintf(mallocs_text, sizeof mallocs_text, "%llu", (unsigned long long)(mallocs1 - mallocs0));
    printf("loadgen conns=%d size=%d requests=%llu window_s=%.3f rps=%.0f p50_us=%.1f p99_us=%.1f "
           "client_cpu_s=%.3f server_cpu_s=%.3f server_rss_kb=%ld mallocs=%s perf_requests=%s\n",
           nconns, size, (unsigned long long)requests, secs, (double)requests / secs, bucket_us(p50), bucket_us(p99),
           client_cpu1 - client_cpu0, server_pid ? server_cpu1 - server_cpu0 : -1.0, rss,
           mallocs_text, perf_text);
    fflush(stdout);
    // Abortive close (RST): no TIME_WAIT left behind by 10,000 connections per run.
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    for (int i = 0; i < nconns; i++) {
        setsockopt(conns[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(conns[i].fd);
    }
    (void)errors;
    return total ? 0 : 4;
}
