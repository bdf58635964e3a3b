// Hand-written tests of the generated helpers (control-message arithmetic,
// the inputs record) and of the allocation counter. The option keys are
// tested against the running kernel in Tests/SockTests/SocketOptionTests.swift;
// the layout tests next to this file are generated.
import Testing
import SockBindings
import SockTestSupport

@Suite struct BindingsHelperTests {
    @Test func controlMessageArithmeticMatchesGlibc() {
        // Values of glibc's CMSG_* macros on 64-bit Linux.
        #expect(cmsgAlign(1) == 8)
        #expect(cmsgAlign(8) == 8)
        #expect(cmsgLen(4) == 20)
        #expect(cmsgSpace(4) == 24)
        #expect(cmsgSpace(3 * 4) == 32)
        #expect(SizeofCmsghdr == 16)
    }

    @Test func controlMessageWalkStopsAtMalformedLengths() {
        var control = InlineArray<64, UInt64>(repeating: 0)
        withUnsafeMutableBytes(of: &control) { raw in
            let base = raw.baseAddress!
            var message = Msghdr()
            message.msg_control = base
            message.msg_controllen = CUnsignedLong(cmsgSpace(4) + cmsgSpace(8))
            let first = base.assumingMemoryBound(to: Cmsghdr.self)
            first.pointee.cmsg_len = CUnsignedLong(cmsgLen(4))
            first.pointee.cmsg_level = SOL_SOCKET
            first.pointee.cmsg_type = SCM_RIGHTS
            let second = (base + cmsgSpace(4)).assumingMemoryBound(to: Cmsghdr.self)
            second.pointee.cmsg_len = CUnsignedLong(cmsgLen(8))
            withUnsafePointer(to: &message) { message in
                #expect(cmsgFirstHeader(message) == first)
                #expect(cmsgData(first) == base + 16)
                #expect(cmsgNextHeader(message, after: first) == second)
                #expect(cmsgNextHeader(message, after: second) == nil)
                // A header claiming more bytes than the buffer holds ends the walk.
                first.pointee.cmsg_len = 1000
                #expect(cmsgNextHeader(message, after: first) == nil)
                first.pointee.cmsg_len = 3
                #expect(cmsgNextHeader(message, after: first) == nil)
            }
        }
    }

    @Test func bindingsRecordTheirInputs() {
        #expect(SockBindingsSource.kernelHeaders.hasPrefix("linux-libc-dev") || SockBindingsSource.kernelHeaders.hasPrefix("kernel headers in"))
        #expect(SockBindingsSource.architectures.contains("x86_64"))
    }
}

@Suite struct AllocationCounterTests {
    @Test(.countingAllocations) func counterSeesAllocations() {
        // The counter itself must work, or the zero results below mean nothing.
        #expect(allocations { _ = [Int](repeating: 1, count: Int.random(in: 100...200)) } >= 100)
    }
}

/// For tests that count allocations: skipped, with the reason, where the
/// counter cannot see the Swift runtime's allocations (under
/// ThreadSanitizer; see `AllocationCounting` in SockTestSupport).
extension Trait where Self == ConditionTrait {
    static var countingAllocations: Self {
        .enabled(if: AllocationCounting.isAvailable,
                 "allocation counting is unavailable here (ThreadSanitizer does not report the Swift runtime's allocations to the malloc hook)")
    }
}
