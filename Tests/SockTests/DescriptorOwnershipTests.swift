#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

extension RuntimeCoreTests {
    @Suite("Descriptor.takeOwnership: the number is handed over, never closed by Sock")
    struct DescriptorOwnershipTests {
        @Test("the released number stays open through close() and deinit, and works")
        func releasedNumberStaysOpen() throws {
            let (peer, other) = try streamPair()
            defer { withExtendedLifetime(other) {} }
            var descriptor: Descriptor? = peer
            let fd = try #require(descriptor).rawValue
            let original = try #require(inode(of: fd))
            let taken = try #require(descriptor).takeOwnership()
            #expect(taken == fd)
            #expect(try #require(descriptor).isClosed)
            try #require(descriptor).close()  // no effect on the number
            descriptor = nil  // deinit: no effect either
            #expect(inode(of: fd) == original)
            // The number is ours and works: a byte written through it arrives.
            var byte: UInt8 = 42
            #expect(Glibc.send(fd, &byte, 1, 0) == 1)
            var received: UInt8 = 0
            let count = try withUnsafeMutableBytes(of: &received) { buffer throws(SockError) in
                try other.read(into: buffer, deadline: .after(.seconds(1)))
            }
            #expect(count == .completed(1))
            #expect(received == 42)
            #expect(Glibc.close(fd) == 0)
        }

        @Test("operations after takeOwnership fail with .closed; a second take fails")
        func operationsAfterTake() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let fd = try a.takeOwnership()
            defer { Glibc.close(fd) }
            #expect(throws: SockError.closed) { try writeByte(a) }
            #expect(throws: SockError.closed) { _ = try a.takeOwnership() }
        }

        @Test("takeOwnership after close fails with .closed")
        func takeAfterClose() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            try a.close()
            #expect(throws: SockError.closed) { _ = try a.takeOwnership() }
        }

        @Test("takeOwnership while an operation is in flight fails with EBUSY and changes nothing")
        func takeWhileInFlight() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let result = try a.withFileDescriptor { _ in
                Result { () throws(SockError) -> CInt in try a.takeOwnership() }
            }
            #expect(throws: SockError(errno: SockBindings.EBUSY)) { _ = try result.get() }
            #expect(!a.isClosed)
            _ = try writeByte(a)
        }
    }
}
