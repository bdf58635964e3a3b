// The GNU and Linux system calls Swift's Glibc module does not import
// (accept4, ppoll, sendmmsg, recvmmsg, epoll, eventfd, io_uring), declared here
// without including any system header (so that this module never re-declares
// a type Glibc's module owns, such as `struct timespec`: structures travel as
// `void *`), and defined in
// CSockSystem.c, which is compiled with _GNU_SOURCE. Sock calls them only
// through its replaceable syscall table (Sources/Sock/Core/Syscalls.swift),
// so tests can inject any errno into them. Each returns what the C function
// returns and leaves errno as the C function left it.
#ifndef CSOCKSYSTEM_H
#define CSOCKSYSTEM_H


/// accept4(2).
int csock_accept4(int fd, void *address, unsigned int *length, int flags);
/// ppoll(2) without a signal mask; `fds` points to `struct pollfd`s, `timeout`
/// to a `struct timespec` (NULL: no limit).
int csock_ppoll(void *fds, unsigned long count, const void *timeout);
/// sendmmsg(2); `messages` points to `struct mmsghdr`s.
int csock_sendmmsg(int fd, void *messages, unsigned int count, int flags);
/// recvmmsg(2) without a timeout; `messages` points to `struct mmsghdr`s.
int csock_recvmmsg(int fd, void *messages, unsigned int count, int flags);
/// epoll_create1(2).
int csock_epoll_create1(int flags);
/// epoll_ctl(2); `event` points to a `struct epoll_event` (NULL for EPOLL_CTL_DEL).
int csock_epoll_ctl(int epfd, int operation, int fd, void *event);
/// epoll_wait(2); `events` has room for `capacity` `struct epoll_event`s.
int csock_epoll_wait(int epfd, void *events, int capacity, int timeout);
/// eventfd(2).
int csock_eventfd(unsigned int initial, int flags);
/// eventfd_read(3).
int csock_eventfd_read(int fd, unsigned long long *value);
/// eventfd_write(3).
int csock_eventfd_write(int fd, unsigned long long value);

/// io_uring_setup(2) (no C library wrapper: through syscall(2) and the
/// number from <sys/syscall.h>); `params` points to a `struct io_uring_params`.
int csock_io_uring_setup(unsigned int entries, void *params);
/// io_uring_enter(2); `argument` is NULL or a `struct io_uring_getevents_arg`
/// or signal set of `size` bytes.
int csock_io_uring_enter(int fd, unsigned int to_submit, unsigned int min_complete, unsigned int flags,
                         const void *argument, unsigned long size);
/// io_uring_register(2).
int csock_io_uring_register(int fd, unsigned int opcode, void *argument, unsigned int count);

/// Tells ThreadSanitizer that a lock at `address` was acquired or is about
/// to be released, when the process runs under it (no-ops otherwise). Swift's
/// `Synchronization.Mutex` takes a contended lock inside the kernel (a
/// futex), where ThreadSanitizer cannot see it.
void csock_tsan_acquire(const void *address);
void csock_tsan_release(const void *address);

#endif
