// c-uring: the C io_uring echo reference of `make bench-conns` (liburing 2.3).
// One thread, one ring: a multishot accept; per connection a multishot recv
// into a provided buffer ring (registered with io_uring_register_buf_ring);
// each received buffer is sent back from the same memory and returned to the
// ring when its send completes. One send in flight per connection (a FIFO of
// buffers per connection keeps the echo in order). Fact 16: the operations in
// flight are counted per descriptor, and a connection whose peer has sent EOF
// is closed only when they have all completed (its echo is finished first).
//
//   c-uring [--host 127.0.0.1] [--port N] [--port-file PATH]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_COUNT 2048 // a power of two
#define BUF_SIZE 4096
#define BGID 1

enum { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3 };
#define UD(op, fd) (((uint64_t)(op) << 32) | (uint32_t)(fd))

struct conn {
    int inflight;      // operations submitted and not yet completed (fact 16)
    int recv_armed;    // the multishot recv is live
    int sending;       // one send in flight
    int closing;       // EOF or error seen: finish the echo, then close
    int failed;        // error: drop what is queued
    int head, tail;    // FIFO of buffer ids to send (-1: empty)
    uint32_t send_off; // bytes of the head buffer already sent
    int waiting_bufs;  // in the ENOBUFS list
};

static struct io_uring ring;
static struct io_uring_buf_ring *br;
static char *bufs;
static int buf_len[BUF_COUNT], next_bid[BUF_COUNT];
static struct conn *conns;
static size_t max_fds;
static int *starved; // fds whose recv stopped for want of buffers
static size_t starved_count;
static int lfd;
static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static struct io_uring_sqe *sqe_get(void) {
    struct io_uring_sqe *sqe;
    while (!(sqe = io_uring_get_sqe(&ring))) io_uring_submit(&ring);
    return sqe;
}

static void arm_accept(void) {
    struct io_uring_sqe *sqe = sqe_get();
    io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, UD(OP_ACCEPT, lfd));
}

static void arm_recv(int fd) {
    struct io_uring_sqe *sqe = sqe_get();
    io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BGID;
    io_uring_sqe_set_data64(sqe, UD(OP_RECV, fd));
    conns[fd].recv_armed = 1;
    conns[fd].inflight++;
}

static void return_buffer(int bid) {
    io_uring_buf_ring_add(br, bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, (unsigned short)bid,
                          io_uring_buf_ring_mask(BUF_COUNT), 0);
    io_uring_buf_ring_advance(br, 1);
    // A connection starved of buffers gets its recv back.
    while (starved_count > 0) {
        int fd = starved[--starved_count];
        struct conn *c = &conns[fd];
        c->waiting_bufs = 0;
        if (!c->closing && !c->recv_armed) { arm_recv(fd); break; }
    }
}

static void start_send(int fd) {
    struct conn *c = &conns[fd];
    int bid = c->head;
    struct io_uring_sqe *sqe = sqe_get();
    io_uring_prep_send(sqe, fd, bufs + (size_t)bid * BUF_SIZE + c->send_off, (size_t)buf_len[bid] - c->send_off,
                       MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, UD(OP_SEND, fd));
    c->sending = 1;
    c->inflight++;
}

static void drop_queue(struct conn *c) {
    while (c->head >= 0) {
        int bid = c->head;
        c->head = next_bid[bid];
        return_buffer(bid);
    }
    c->tail = -1;
    c->send_off = 0;
}

static void maybe_close(int fd) {
    struct conn *c = &conns[fd];
    if (!c->closing) return;
    if (c->failed && !c->sending) drop_queue(c);
    if (c->head >= 0 && !c->sending && !c->failed) { start_send(fd); return; }
    if (c->recv_armed) {
        // An error on the send side while the recv is live: end the recv (it completes with 0 or an error).
        shutdown(fd, SHUT_RDWR);
        return;
    }
    if (c->inflight == 0 && c->head < 0) {
        close(fd);
        memset(c, 0, sizeof *c);
        c->head = c->tail = -1;
    }
}

static void on_recv(int fd, int res, unsigned flags) {
    struct conn *c = &conns[fd];
    if (!(flags & IORING_CQE_F_MORE)) { c->recv_armed = 0; c->inflight--; }
    if (res > 0) {
        int bid = (int)(flags >> IORING_CQE_BUFFER_SHIFT);
        buf_len[bid] = res;
        next_bid[bid] = -1;
        if (c->failed) {
            return_buffer(bid);
        } else {
            if (c->tail >= 0) next_bid[c->tail] = bid; else c->head = bid;
            c->tail = bid;
            if (!c->sending) start_send(fd);
        }
        if (!c->recv_armed && !c->closing) arm_recv(fd);
    } else if (res == -ENOBUFS) {
        if (!c->closing && !c->waiting_bufs) { c->waiting_bufs = 1; starved[starved_count++] = fd; }
    } else if (res == 0) {
        c->closing = 1; // EOF: the echo of what came before it goes on (fact 16)
    } else {
        c->closing = 1;
        c->failed = 1;
    }
    maybe_close(fd);
}

static void on_send(int fd, int res) {
    struct conn *c = &conns[fd];
    c->sending = 0;
    c->inflight--;
    if (res <= 0) {
        c->closing = c->failed = 1;
    } else if (!c->failed) {
        c->send_off += (uint32_t)res;
        int bid = c->head;
        if (c->send_off < (uint32_t)buf_len[bid]) {
            start_send(fd); // short send: the rest of this buffer
            return;
        }
        c->head = next_bid[bid];
        if (c->head < 0) c->tail = -1;
        c->send_off = 0;
        return_buffer(bid);
        if (c->head >= 0) start_send(fd);
    }
    maybe_close(fd);
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1", *port_file = NULL;
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host") && i + 1 < argc) host = argv[++i];
        else if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--port-file") && i + 1 < argc) port_file = argv[++i];
        else { fprintf(stderr, "usage: c-uring [--host H] [--port N] [--port-file PATH]\n"); return 2; }
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
    max_fds = (size_t)rl.rlim_cur;
    conns = calloc(max_fds, sizeof *conns);
    starved = calloc(max_fds, sizeof *starved);
    for (size_t i = 0; i < max_fds; i++) conns[i].head = conns[i].tail = -1;

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "c-uring: bad host %s\n", host); return 2; }
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 65535) < 0) { perror("c-uring: bind/listen"); return 1; }
    socklen_t alen = sizeof addr;
    getsockname(lfd, (struct sockaddr *)&addr, &alen);

    struct io_uring_params params = {0};
    params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
                   IORING_SETUP_DEFER_TASKRUN;
    params.cq_entries = 65536;
    int r = io_uring_queue_init_params(4096, &ring, &params);
    if (r < 0) {
        // Older kernels: without the task-run flags.
        memset(&params, 0, sizeof params);
        params.flags = IORING_SETUP_CQSIZE;
        params.cq_entries = 65536;
        r = io_uring_queue_init_params(4096, &ring, &params);
    }
    if (r < 0) { fprintf(stderr, "c-uring: io_uring_queue_init: %s\n", strerror(-r)); return 1; }

    // The provided buffer ring.
    size_t ring_bytes = BUF_COUNT * sizeof(struct io_uring_buf);
    br = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    bufs = mmap(NULL, (size_t)BUF_COUNT * BUF_SIZE, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (br == MAP_FAILED || bufs == MAP_FAILED) { perror("c-uring: mmap"); return 1; }
    struct io_uring_buf_reg reg = {.ring_addr = (unsigned long)br, .ring_entries = BUF_COUNT, .bgid = BGID};
    r = io_uring_register_buf_ring(&ring, &reg, 0);
    if (r < 0) { fprintf(stderr, "c-uring: io_uring_register_buf_ring: %s\n", strerror(-r)); return 1; }
    io_uring_buf_ring_init(br);
    for (int i = 0; i < BUF_COUNT; i++)
        io_uring_buf_ring_add(br, bufs + (size_t)i * BUF_SIZE, BUF_SIZE, (unsigned short)i, io_uring_buf_ring_mask(BUF_COUNT), i);
    io_uring_buf_ring_advance(br, BUF_COUNT);

    fprintf(stderr, "c-uring: listening on %s:%d\n", host, ntohs(addr.sin_port));
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f) { fprintf(f, "%d\n", ntohs(addr.sin_port)); fclose(f); }
    }
    arm_accept();
    int emfile_said = 0;
    while (!stop) {
        r = io_uring_submit_and_wait(&ring, 1);
        if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) { fprintf(stderr, "c-uring: submit: %s\n", strerror(-r)); break; }
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            seen++;
            int op = (int)(cqe->user_data >> 32), fd = (int)(uint32_t)cqe->user_data;
            if (op == OP_ACCEPT) {
                if (cqe->res >= 0) {
                    int cfd = cqe->res;
                    if ((size_t)cfd >= max_fds) { close(cfd); }
                    else {
                        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                        arm_recv(cfd);
                    }
                } else if ((cqe->res == -EMFILE || cqe->res == -ENFILE) && !emfile_said) {
                    emfile_said = 1;
                    fprintf(stderr, "c-uring: out of descriptors (%s); serving the connections it has\n", strerror(-cqe->res));
                }
                if (!(cqe->flags & IORING_CQE_F_MORE)) arm_accept();
            } else if (op == OP_RECV) {
                on_recv(fd, cqe->res, cqe->flags);
            } else if (op == OP_SEND) {
                on_send(fd, cqe->res);
            }
        }
        io_uring_cq_advance(&ring, seen);
    }
    io_uring_queue_exit(&ring);
    close(lfd);
    return 0;
}
