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

/// How this test binary counts allocations (see `MallocCounter.h`).
public enum AllocationCounting: Sendable {
    /// The interposed malloc family (a normal build).
    case interposedMalloc
    /// The malloc hook of AddressSanitizer or ThreadSanitizer.
    case sanitizerHook
    /// Not at all: a sanitizer owns malloc and refused the hook.
    case unavailable

    /// The mode of this process.
    public static let current: AllocationCounting = {
        switch sock_test_malloc_counting_mode() {
        case 0:
            return .interposedMalloc
        case 1:
            // A sanitizer's hook: check that it sees the Swift runtime's
            // allocations. AddressSanitizer's does; ThreadSanitizer's sees
            // malloc called from C but not from the Swift runtime
            // (swift_slowAlloc), measured with Swift 6.3.1.
            let before = sock_test_malloc_count()
            let probe = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
            probe.deallocate()
            return sock_test_malloc_count() > before ? .sanitizerHook : .unavailable
        default:
            return .unavailable
        }
    }()

    /// Whether allocation counts mean anything here; allocation tests use
    /// it with `.enabled(if:)`.
    public static var isAvailable: Bool { current != .unavailable }
}
