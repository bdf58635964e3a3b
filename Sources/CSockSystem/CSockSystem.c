// Definitions of CSockSystem.h: one direct call each, compiled with the GNU
// declarations visible.
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "CSockSystem.h"

_Static_assert(sizeof(socklen_t) == sizeof(unsigned int), "socklen_t is unsigned int");
_Static_assert(sizeof(nfds_t) == sizeof(unsigned long), "nfds_t is unsigned long");
_Static_assert(sizeof(eventfd_t) == sizeof(unsigned long long), "eventfd_t is 64 bits");

int csock_accept4(int fd, void *address, unsigned int *length, int flags) {
    return accept4(fd, (struct sockaddr *)address, length, flags);
}

int csock_ppoll(void *fds, unsigned long count, const void *timeout) {
    return ppoll((struct pollfd *)fds, count, (const struct timespec *)timeout, NULL);
}

int csock_sendmmsg(int fd, void *messages, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)messages, count, flags);
}

int csock_recvmmsg(int fd, void *messages, unsigned int count, int flags) {
    return recvmmsg(fd, (struct mmsghdr *)messages, count, flags, NULL);
}

int csock_epoll_create1(int flags) { return epoll_create1(flags); }

int csock_epoll_ctl(int epfd, int operation, int fd, void *event) {
    return epoll_ctl(epfd, operation, fd, (struct epoll_event *)event);
}

int csock_epoll_wait(int epfd, void *events, int capacity, int timeout) {
    return epoll_wait(epfd, (struct epoll_event *)events, capacity, timeout);
}

int csock_eventfd(unsigned int initial, int flags) { return eventfd(initial, flags); }

int csock_eventfd_read(int fd, unsigned long long *value) { return eventfd_read(fd, (eventfd_t *)value); }

int csock_eventfd_write(int fd, unsigned long long value) { return eventfd_write(fd, (eventfd_t)value); }

int csock_io_uring_setup(unsigned int entries, void *params) {
    return (int)syscall(SYS_io_uring_setup, entries, params);
}

int csock_io_uring_enter(int fd, unsigned int to_submit, unsigned int min_complete, unsigned int flags,
                         const void *argument, unsigned long size) {
    return (int)syscall(SYS_io_uring_enter, fd, to_submit, min_complete, flags, argument, size);
}

int csock_io_uring_register(int fd, unsigned int opcode, void *argument, unsigned int count) {
    return (int)syscall(SYS_io_uring_register, fd, opcode, argument, count);
}

// ThreadSanitizer's annotation entry points, present only when its runtime
// is linked in (weak: NULL otherwise).
void __tsan_acquire(void *address) __attribute__((weak));
void __tsan_release(void *address) __attribute__((weak));

void csock_tsan_acquire(const void *address) {
    if (__tsan_acquire) __tsan_acquire((void *)address);
}

void csock_tsan_release(const void *address) {
    if (__tsan_release) __tsan_release((void *)address);
}
