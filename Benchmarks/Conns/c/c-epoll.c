// c-epoll: the C reference echo server of `make bench-conns`.
// One thread, one edge-triggered epoll; accept4(SOCK_NONBLOCK|SOCK_CLOEXEC),
// recv into one shared buffer, send(MSG_NOSIGNAL) straight back. The short-read
// shortcut (stop reading when recv returns less than the buffer) is taken only
// when the event carries neither EPOLLRDHUP nor EPOLLHUP/EPOLLERR (fact 13).
// A send that would block keeps the rest in a per-connection buffer (malloc'd
// only then) and waits for EPOLLOUT before reading more.
//
//   c-epoll [--host 127.0.0.1] [--port N] [--port-file PATH]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 65536
#define MAX_EVENTS 1024

struct conn {
    char *pending;     // unsent echo (only when a send would block)
    size_t pending_len, pending_off;
};

static struct conn *conns;
static size_t max_fds;
static int ep;
static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static void close_conn(int fd) {
    free(conns[fd].pending);
    conns[fd].pending = NULL;
    conns[fd].pending_len = conns[fd].pending_off = 0;
    close(fd); // closing removes it from the epoll set (no dup of it exists)
}

// Sends what is pending; 1 when all is sent, 0 when it would block, -1 on error.
static int flush_pending(int fd) {
    struct conn *c = &conns[fd];
    while (c->pending_off < c->pending_len) {
        ssize_t n = send(fd, c->pending + c->pending_off, c->pending_len - c->pending_off, MSG_NOSIGNAL);
        if (n > 0) { c->pending_off += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        return -1;
    }
    free(c->pending);
    c->pending = NULL;
    c->pending_len = c->pending_off = 0;
    return 1;
}

static int set_interest(int fd, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.fd = fd};
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

// Echoes until EAGAIN (or the short-read shortcut). Returns -1 when the connection must close.
static int serve(int fd, uint32_t events, char *buf) {
    int hup = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    for (;;) {
        ssize_t n = recv(fd, buf, BUF_SIZE, 0);
        if (n > 0) {
            size_t off = 0;
            while (off < (size_t)n) {
                ssize_t w = send(fd, buf + off, (size_t)n - off, MSG_NOSIGNAL);
                if (w > 0) { off += (size_t)w; continue; }
                if (w < 0 && errno == EINTR) continue;
                if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                    struct conn *c = &conns[fd];
                    c->pending_len = (size_t)n - off;
                    c->pending_off = 0;
                    c->pending = malloc(c->pending_len);
                    if (!c->pending) return -1;
                    memcpy(c->pending, buf + off, c->pending_len);
                    // Stop reading until the peer takes the rest (back-pressure).
                    if (set_interest(fd, EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) return -1;
                    return 0;
                }
                return -1;
            }
            if ((size_t)n < BUF_SIZE && !hup) return 0; // short read: drained (fact 13)
            continue;
        }
        if (n == 0) return -1; // EOF: everything received was echoed
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return -1;
    }
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1", *port_file = NULL;
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host") && i + 1 < argc) host = argv[++i];
        else if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--port-file") && i + 1 < argc) port_file = argv[++i];
        else { fprintf(stderr, "usage: c-epoll [--host H] [--port N] [--port-file PATH]\n"); return 2; }
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct rlimit rl; // fact 14: soft limit up to the hard limit
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
    max_fds = (size_t)rl.rlim_cur;
    conns = calloc(max_fds, sizeof *conns);
    static char buf[BUF_SIZE];

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "c-epoll: bad host %s\n", host); return 2; }
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 65535) < 0) { perror("c-epoll: bind/listen"); return 1; }
    socklen_t alen = sizeof addr;
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    fprintf(stderr, "c-epoll: listening on %s:%d\n", host, ntohs(addr.sin_port));
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f) { fprintf(f, "%d\n", ntohs(addr.sin_port)); fclose(f); }
    }

    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = lfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event events[MAX_EVENTS];
    int emfile_said = 0;

    while (!stop) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        if (n < 0) { if (errno == EINTR) continue; perror("c-epoll: epoll_wait"); break; }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            uint32_t e = events[i].events;
            if (fd == lfd) {
                for (;;) {
                    int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (cfd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED) continue;
                        if ((errno == EMFILE || errno == ENFILE) && !emfile_said) {
                            emfile_said = 1;
                            fprintf(stderr, "c-epoll: out of descriptors (%s); serving the connections it has\n", strerror(errno));
                        }
                        break;
                    }
                    if ((size_t)cfd >= max_fds) { close(cfd); continue; }
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = cfd};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev) < 0) close(cfd);
                }
                continue;
            }
            if (conns[fd].pending) {
                if (e & EPOLLERR) { close_conn(fd); continue; }
                int r = flush_pending(fd);
                if (r < 0) { close_conn(fd); continue; }
                if (r == 0) continue;
                // All sent: read again. MOD re-arms the edge if data is waiting.
                if (set_interest(fd, EPOLLIN | EPOLLRDHUP | EPOLLET) < 0) { close_conn(fd); continue; }
                continue;
            }
            if (serve(fd, e, buf) < 0) close_conn(fd);
        }
    }
    close(lfd);
    return 0;
}
