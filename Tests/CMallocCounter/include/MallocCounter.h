// Counts heap allocations made by the calling thread, for the zero-allocation
// tests. Linked into the test executable, its malloc family overrides glibc's
// for the whole process and forwards to glibc's own implementation.
#pragma once
#include <stdint.h>

/// Allocations (malloc, calloc, realloc, memalign family) made by this thread so far.
uint64_t sock_test_malloc_count(void);
