// malloc-count.so: an LD_PRELOAD counter of heap allocations for `make bench-conns`.
// Counts every malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign
// and valloc of the process (all threads) in a 64-bit counter kept in a shared
// file mapping, so that another process (the load generator) reads it at the
// edges of its measurement window without signalling the server:
//
//   SOCK_MALLOC_COUNT_FILE=/tmp/x LD_PRELOAD=./malloc-count.so server ...
//   (the reader maps /tmp/x and reads the uint64_t at offset 0)
//
// The allocations themselves go to glibc (__libc_malloc and friends). The cost
// is one relaxed atomic add per allocation. Programs that do not allocate with
// libc (Go) are not counted.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);

static uint64_t early;                 // counts before the mapping exists
static uint64_t *volatile counter = &early;

static inline void count(void) { __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }

__attribute__((constructor)) static void malloc_count_init(void) {
    const char *path = getenv("SOCK_MALLOC_COUNT_FILE");
    if (!path || !*path) return;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    if (ftruncate(fd, 4096) == 0) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED) {
            uint64_t *shared = p;
            __atomic_store_n(shared, __atomic_load_n(&early, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
            counter = shared;
        }
    }
    close(fd);
}

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void *memalign(size_t al, size_t n) { count(); return __libc_memalign(al, n); }
void *valloc(size_t n) { count(); return __libc_valloc(n); }
void *aligned_alloc(size_t al, size_t n) { count(); return __libc_memalign(al, n); }
int posix_memalign(void **out, size_t al, size_t n) {
    if (al < sizeof(void *) || (al & (al - 1)) != 0) return EINVAL;
    count();
    void *p = __libc_memalign(al, n);
    if (!p && n) return ENOMEM;
    *out = p;
    return 0;
}
