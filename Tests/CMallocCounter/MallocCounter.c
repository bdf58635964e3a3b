// See include/MallocCounter.h.
//
// Normally the malloc family is overridden here and forwards to glibc's own
// implementation, which glibc exports under __libc_* names (so the override
// needs no dlsym, which would itself allocate).
//
// Under AddressSanitizer or ThreadSanitizer (`swift build --sanitize=...`
// compiles this file with -fsanitize too) the sanitizer's runtime owns the
// malloc family: overriding it here would hand the sanitizer's own pointers to
// glibc's free and the test binary dies before the first test (signal 11).
// There the sanitizer's malloc hook counts instead, so the allocation tests
// still run.
#include "MallocCounter.h"
#include <stddef.h>
#include <errno.h>

#if defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#    define SOCK_UNDER_SANITIZER 1
#  endif
#endif
#if !defined(SOCK_UNDER_SANITIZER) && (defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__))
#  define SOCK_UNDER_SANITIZER 1
#endif

static __thread uint64_t allocations;

uint64_t sock_test_malloc_count(void) { return allocations; }

#if defined(SOCK_UNDER_SANITIZER)

// compiler-rt's sanitizer_common interface: called on every allocation, on
// the allocating thread.
int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void *, size_t),
    void (*free_hook)(const volatile void *));

static void count_allocation(const volatile void *pointer, size_t size) {
    (void)pointer;
    (void)size;
    allocations++;
}

static void ignore_free(const volatile void *pointer) { (void)pointer; }

static int hooks_installed;

__attribute__((constructor)) static void install_hooks(void) {
    hooks_installed = __sanitizer_install_malloc_and_free_hooks(count_allocation, ignore_free) != 0;
}

int sock_test_malloc_counting_mode(void) { return hooks_installed ? 1 : 2; }

#else

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

int sock_test_malloc_counting_mode(void) { return 0; }

void *malloc(size_t size) { allocations++; return __libc_malloc(size); }
void *calloc(size_t count, size_t size) { allocations++; return __libc_calloc(count, size); }
void *realloc(void *pointer, size_t size) { allocations++; return __libc_realloc(pointer, size); }
void free(void *pointer) { __libc_free(pointer); }
void *memalign(size_t alignment, size_t size) { allocations++; return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { allocations++; return __libc_memalign(alignment, size); }
int posix_memalign(void **result, size_t alignment, size_t size) {
    allocations++;
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return ENOMEM;
    *result = pointer;
    return 0;
}

#endif
