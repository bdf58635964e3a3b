#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import SockTestSupport
import Testing

extension RuntimeCoreTests {
    @Suite("Runtime core: no allocation on hot paths")
    struct AllocationTests {
        @Test("write, read, would-block and a deadline read with data ready allocate nothing", .countingAllocations)
        func descriptorIO() throws {
            let (a, b) = try streamPair()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
            defer { buffer.deallocate() }
            buffer.initializeMemory(as: UInt8.self, repeating: 7)
            let message = UnsafeRawBufferPointer(rebasing: buffer[0..<16])

            let roundTrip = try allocations {
                _ = try a.write(message)
                _ = try b.read(into: buffer)
            }
            #expect(roundTrip == 0)

            let wouldBlock = try allocations {
                let result = try b.read(into: buffer)
                precondition(result.isWouldBlock)
            }
            #expect(wouldBlock == 0)

            let withDeadline = try allocations {
                _ = try a.write(message, deadline: .after(.seconds(1)))
                _ = try b.read(into: buffer, deadline: .after(.seconds(1)))
            }
            #expect(withDeadline == 0)

            let flags = try allocations {
                _ = try a.isNonBlocking
                try a.withFileDescriptor { _ in }
            }
            #expect(flags == 0)
        }

        @Test("errors thrown on hot paths (closed, timed out, reset) allocate nothing", .countingAllocations)
        func typedErrors() throws {
            let (a, b) = try streamPair()
            let (c, d) = try streamPair()
            try d.close()
            try b.close()
            let (e, f) = try streamPair()
            defer { withExtendedLifetime(f) {} }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
            defer { buffer.deallocate() }
            buffer.initializeMemory(as: UInt8.self, repeating: 0)

            try a.close()
            let closed = allocations(throwsPerCall: 1) {
                do throws(SockError) { _ = try a.read(into: buffer) } catch { precondition(error == .closed) }
            }
            #expect(closed == 0)

            let reset = allocations(throwsPerCall: 1) {
                do throws(SockError) {
                    _ = try c.write(UnsafeRawBufferPointer(buffer))
                } catch {
                    precondition(error.code == .connectionReset)
                }
            }
            #expect(reset == 0)

            let passed = Deadline.after(.zero)
            let timedOut = allocations(throwsPerCall: 1) {
                do throws(SockError) {
                    _ = try e.read(into: buffer, deadline: passed)
                } catch {
                    precondition(error == .timedOut)
                }
            }
            #expect(timedOut == 0)
        }

        @Test("errno mapping, deadlines and back-off steps allocate nothing", .countingAllocations)
        func values() {
            var sink = 0
            let count = allocations {
                sink &+= Int(SockError(errno: SockBindings.ECONNRESET).code.rawValue)
                sink &+= Int(SockError(SockErrno(rawValue: SockBindings.EPIPE)).errnoCode)
                sink &+= Int(truncatingIfNeeded: Deadline.after(.milliseconds(5)).remainingNanoseconds())
                var backoff = Backoff()
                sink &+= Int(truncatingIfNeeded: backoff.nextDelay().components.attoseconds)
            }
            #expect(count == 0)
            #expect(sink != 0)
        }
    }
}
