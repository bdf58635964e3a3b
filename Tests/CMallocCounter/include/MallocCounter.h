// Counts heap allocations per thread, for the zero-allocation tests. Linked
// into the test executable: normally its malloc family overrides glibc's for
// the whole process and forwards to glibc's own implementation; under
// AddressSanitizer or ThreadSanitizer it counts with the sanitizer's malloc
// hook instead (the sanitizer owns malloc there).
#pragma once
#include <stdint.h>

/// Allocations (malloc, calloc, realloc, memalign family) made by this thread so far.
uint64_t sock_test_malloc_count(void);

/// How allocations are counted: 0 = the interposed malloc family, 1 = a
/// sanitizer's malloc hook, 2 = not at all (a sanitizer refused the hook;
/// the count stays 0 and allocation tests must be skipped).
int sock_test_malloc_counting_mode(void);
