// Allocation counting for the zero-allocation tests, shared by the test targets.
import CMallocCounter

/// Heap allocations made on this thread by 100 calls of `body`, after one
/// warm-up call (so one-time lazy initialisation is not counted).
///
/// Swift Testing records a backtrace for every thrown error unless
/// `SWT_SWIFT_ERROR_BACKTRACING_ENABLED=0` (which `make test` sets); those
/// allocations are the harness's, not the code's. `throwsPerCall` says how
/// many errors one call throws, and the harness's share is subtracted.
public func allocations(throwsPerCall: Int = 0, _ body: () throws -> Void) rethrows -> UInt64 {
    try body()
    let before = sock_test_malloc_count()
    for _ in 0..<100 { try body() }
    let counted = sock_test_malloc_count() - before
    let harness = UInt64(throwsPerCall) * 100 * harnessAllocationsPerThrow()
    return counted > harness ? counted - harness : 0
}

private struct HarnessProbe: Error {}

@inline(never)
private func throwTyped() throws(HarnessProbe) { throw HarnessProbe() }

/// Allocations the test harness makes for one typed throw (0 when error
/// backtracing is off).
public func harnessAllocationsPerThrow() -> UInt64 {
    let before = sock_test_malloc_count()
    for _ in 0..<10 { do { try throwTyped() } catch {} }
    return (sock_test_malloc_count() - before) / 10
}

/// Allocations counted so far on this thread.
public func allocationCount() -> UInt64 { sock_test_malloc_count() }
