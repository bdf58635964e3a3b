// The allocation counter behind every zero-allocation test must be live: a
// counter stuck at 0 would make those tests pass without measuring anything.
// Normally it is the interposed malloc family; under AddressSanitizer or
// ThreadSanitizer (`make test-sanitizers`) the sanitizer's malloc hook.
import SockTestSupport
import Testing

@Suite("Allocation counter")
struct AllocationCounterTests {
    @Test("counts a heap allocation on this thread (interposed malloc, or a sanitizer's hook)", .countingAllocations)
    func counts() {
        #expect(AllocationCounting.isAvailable, "counting mode: \(AllocationCounting.current)")
        let count = allocations {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
            buffer.deallocate()
        }
        #expect(count == 100, "mode \(AllocationCounting.current)")
        #expect(allocations {} == 0)
    }
}
