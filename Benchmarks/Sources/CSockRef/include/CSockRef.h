// CSockRef: the C reference for Sock's benchmarks.
//
// Every function makes exactly the system calls Sock makes for the same
// operation (same flags: SOCK_NONBLOCK | SOCK_CLOEXEC at creation,
// MSG_NOSIGNAL on every send, EINTR retried), so that "Sock / C" measures
// Sock's own overhead and nothing else. The ping-pong loops run entirely in C
// (two pthreads).
#ifndef CSOCKREF_H
#define CSOCKREF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

// Protocols of the ping-pong and of csr_pair.
enum { CSR_TCP = 0, CSR_UDP = 1, CSR_UNIX = 2 };

// Ping-pong modes.
//  CSR_SPIN:     non-blocking attempts retried by the caller (busy loop on EAGAIN).
//  CSR_DEADLINE: Sock's adaptive wait mirrored exactly: strike (one syscall),
//                on EAGAIN re-strike for 10 us, then ppoll for the time left of
//                a 5 s deadline taken once per round trip, then strike again.
//  CSR_BLOCKING: blocking sockets, plain recv/send (the kernel waits). Not what
//                Sock does; the "physical limit" of a waiting round trip.
enum { CSR_SPIN = 0, CSR_DEADLINE = 1, CSR_BLOCKING = 2 };

// The spin phase of Sock's adaptive wait (Sources/Sock/Deadline.swift,
// adaptiveSpinNanoseconds).
#define CSR_ADAPTIVE_SPIN_NS 10000LL

/// A connected pair: fds[0] is the client, fds[1] the server. TCP: listen on
/// 127.0.0.1:0, connect, accept4, TCP_NODELAY on both; UDP: two sockets bound
/// to 127.0.0.1:0, the client connected to the server (send/recv), the server
/// not (recvfrom with MSG_TRUNC, sendto), as with Sock's UDPConn dial/listen;
/// Unix: socketpair(SOCK_STREAM).
/// `blocking` clears O_NONBLOCK. Returns 0 or -errno.
int csr_pair(int proto, int blocking, int fds[2]);

/// Pins the calling thread to one CPU (sched_setaffinity). 0 or -errno.
int csr_pin_current_thread(int cpu);

/// Monotonic clock in nanoseconds.
int64_t csr_now_ns(void);

// --- Ping-pong, entirely in C -------------------------------------------------

typedef struct csr_pingpong csr_pingpong;

/// Creates the pair and starts the echo thread (pinned to `server_cpu` unless
/// it is negative). NULL on failure (errno set).
csr_pingpong *csr_pp_start(int proto, int size, int mode, int server_cpu);

/// Runs `rounds` round trips from the calling thread (send `size` bytes, receive
/// `size` bytes back). Returns the elapsed nanoseconds, or -1 on error.
int64_t csr_pp_run(csr_pingpong *pp, int64_t rounds);

/// Stops the echo thread (EOF or an empty datagram), joins it, closes both
/// sockets and frees `pp`.
void csr_pp_stop(csr_pingpong *pp);

// --- Bulk TCP throughput --------------------------------------------------------

typedef struct csr_bulk csr_bulk;

/// A TCP pair and a sink thread that reads (64 KiB buffer, deadline mode) and
/// discards everything.
csr_bulk *csr_bulk_start(int server_cpu);
/// The client socket of the pair (the writer side).
int csr_bulk_fd(csr_bulk *b);
/// Writes `count` chunks of `chunk` bytes, each written fully with the adaptive
/// deadline wait. Returns elapsed ns or -1.
int64_t csr_bulk_run(csr_bulk *b, int64_t count, size_t chunk);
void csr_bulk_stop(csr_bulk *b);

// --- Single operations (called once per benchmark iteration) --------------------

/// recv(fd, buf, len, 0), EINTR retried. Returns the byte count or -errno
/// (-EAGAIN when nothing is queued).
ssize_t csr_recv(int fd, void *buf, size_t len);
/// send(fd, buf, len, MSG_NOSIGNAL), EINTR retried. Byte count or -errno.
ssize_t csr_send(int fd, const void *buf, size_t len);
/// sendto(fd, buf, len, MSG_NOSIGNAL, addr, addrlen). Byte count or -errno.
ssize_t csr_sendto(int fd, const void *buf, size_t len, const void *addr, socklen_t addrlen);
/// One sendmmsg call sending `count` (<= 64) datagrams of `size` bytes, all
/// from `buf`, to `addr` (NULL on a connected socket). Datagrams sent or -errno.
int csr_sendmmsg(int fd, const void *buf, size_t size, unsigned count, const void *addr, socklen_t addrlen);
/// One sendmsg with a UDP_SEGMENT control message: `total` bytes cut by the
/// kernel into datagrams of `segment` bytes. Bytes sent or -errno.
ssize_t csr_send_gso(int fd, const void *buf, size_t total, uint16_t segment, const void *addr, socklen_t addrlen);

/// getsockopt of an int option. 0 or -errno.
int csr_getsockopt_int(int fd, int level, int name, int *value);
/// setsockopt of an int option. 0 or -errno.
int csr_setsockopt_int(int fd, int level, int name, int value);
/// getsockopt(TCP_INFO) into buf; *len in: capacity, out: bytes filled. 0 or -errno.
int csr_tcp_info(int fd, void *buf, socklen_t *len);

/// inet_pton(AF_INET / AF_INET6). 1 on success, 0 when malformed.
int csr_parse_ipv4(const char *text, struct in_addr *out);
int csr_parse_ipv6(const char *text, struct in6_addr *out);
/// inet_ntop into buf (INET_ADDRSTRLEN / INET6_ADDRSTRLEN). Length or -1.
int csr_format_ipv4(const struct in_addr *address, char *buf, size_t len);
int csr_format_ipv6(const struct in6_addr *address, char *buf, size_t len);
/// Fill a sockaddr_in / sockaddr_in6 from an address and a host-order port.
void csr_encode_inet4(struct sockaddr_in *out, const struct in_addr *address, uint16_t port);
void csr_encode_inet6(struct sockaddr_in6 *out, const struct in6_addr *address, uint16_t port, uint32_t scope);
/// Decode a sockaddr_in6 from a sockaddr_storage with a length (checks family
/// and length, as Sock does). 0 or -EINVAL.
int csr_decode_inet6(const struct sockaddr_storage *in, socklen_t len, struct in6_addr *address, uint16_t *port, uint32_t *scope);

// --- Accept-and-close -----------------------------------------------------------

/// A listening TCP socket on 127.0.0.1:0 (backlog 4096). fd or -errno; *port set.
int csr_listener(uint16_t *port);
/// Opens `count` client connections to 127.0.0.1:port (non-blocking connect,
/// SO_LINGER {1, 0} so that closing sends RST and leaves no TIME_WAIT), and
/// waits until the listener has them all queued. 0 or -errno.
int csr_connect_clients(uint16_t port, int count, int *fds);
/// Closes the client sockets.
void csr_close_all(const int *fds, int count);
/// accept4(SOCK_NONBLOCK | SOCK_CLOEXEC, peer address into a
/// sockaddr_storage) then close. 0 or -errno (-EAGAIN when
/// none is pending).
int csr_accept_close(int listener);

// --- Syscall counting -----------------------------------------------------------

/// Opens a counter of system calls made by the calling thread (and threads it
/// creates afterwards): perf_event_open on the raw_syscalls:sys_enter
/// tracepoint. fd, or -errno when unavailable. Opening it takes tens of
/// milliseconds, and while it is open every system call on the machine costs
/// about 200 ns more: count in a few iterations only, then close it.
int csr_syscall_counter_open(void);
/// The current count (the read itself is one system call, counted after it
/// returns, i.e. in the next reading). -1 on error.
int64_t csr_syscall_counter_read(int fd);

#ifdef __cplusplus
}
#endif
#endif
