#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

extension RuntimeCoreTests {
    @Suite("Descriptor: ownership, close and concurrent close")
    struct DescriptorTests {
        @Test("double close is idempotent")
        func doubleClose() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let fd = a.rawValue
            let original = try #require(inode(of: fd))
            #expect(!a.isClosed)
            try a.close()
            #expect(a.isClosed)
            #expect(inode(of: fd) != original)  // closed (or reused by another test)
            try a.close()
            try a.close()
            #expect(a.isClosed)
            #expect(a.description.hasSuffix("closed)"))
        }

        @Test("close(2) runs exactly once, however many threads close")
        func closedExactlyOnce() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let target = a.rawValue
            // Other suites run in parallel and reuse descriptor numbers: count
            // only closes of this socket (same number and same inode).
            let original = try #require(inode(of: target))
            let closes = Counter()
            withSyscalls({ table in
                table.close = { fd in
                    if fd == target, inode(of: fd) == original { closes.increment() }
                    return SyscallTable.system.close(fd)
                }
            }) {
                let threads = (0..<8).map { _ in TestThread { try? a.close() } }
                threads.forEach { $0.join() }
                try? a.close()
            }
            #expect(closes.value == 1)
        }

        @Test("operations after close fail with .closed")
        func afterClose() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            try a.close()
            #expect(throws: SockError.closed) { _ = try readByte(a) }
            #expect(throws: SockError.closed) { _ = try readByte(a, deadline: .after(.seconds(1))) }
            #expect(throws: SockError.closed) { _ = try a.read(into: UnsafeMutableRawBufferPointer(start: nil, count: 0)) }
            #expect(throws: SockError.closed) { try writeByte(a) }
            #expect(throws: SockError.closed) { _ = try a.accept() }
            var address = loopback(port: 9)
            #expect(throws: SockError.closed) {
                _ = try a.connect(to: &address, length: socklen_t(MemoryLayout<sockaddr_in>.size))
            }
            #expect(throws: SockError.closed) { _ = try a.finishConnect() }
            #expect(throws: SockError.closed) { try a.setNonBlocking() }
            #expect(throws: SockError.closed) { try a.setCloseOnExec() }
            #expect(throws: SockError.closed) { _ = try a.isNonBlocking }
            #expect(throws: SockError.closed) { _ = try a.isCloseOnExec }
            #expect(throws: SockError.closed) { try a.withFileDescriptor { _ in } }
        }

        @Test("close while an operation is in flight defers close(2) to that operation")
        func deferredClose() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            let fd = a.rawValue
            let original = try #require(inode(of: fd))
            try a.withFileDescriptor { inside throws(SockError) in
                try a.close()
                #expect(a.isClosed)
                // Still ours: the number is not released while we use it.
                #expect(inode(of: inside) == original)
            }
            // Released now: closed, or (if another test reused it) another file.
            #expect(inode(of: fd) != original)
        }

        @Test("a read blocked on another thread returns .closed promptly when closed; no fd is closed twice")
        func concurrentClose() throws {
            let (a, peer) = try streamPair()
            let number = a.rawValue
            let original = try #require(inode(of: number))
            let outcome = Slot<SockError?>()
            let returnedAt = Slot<Int64>()
            let readerThread = TestThread {
                do throws(SockError) {
                    _ = try readByte(a, deadline: .after(.seconds(5))).0
                    outcome.set(nil)
                } catch {
                    outcome.set(error)
                }
                returnedAt.set(now())
            }
            sleep(nanoseconds: 20_000_000)  // let the reader reach poll
            let closedAt = now()
            try a.close()
            readerThread.join()

            #expect(outcome.value == .some(.closed))
            let latency = try #require(returnedAt.value) - closedAt
            #expect(latency < lateBound, "returned \(latency) ns after close")
            // The real close happened once the reader left.
            #expect(inode(of: number) != original)

            // New descriptors, likely reusing the number, must stay valid
            // whatever the old handle does now.
            let (fresh1, fresh2) = try streamPair()
            let freshInodes = (inode(of: fresh1.rawValue), inode(of: fresh2.rawValue))
            try a.close()
            #expect(throws: SockError.closed) {
                _ = try readByte(a).0
            }
            withExtendedLifetime(peer) {}
            #expect(inode(of: fresh1.rawValue) == freshInodes.0)
            #expect(inode(of: fresh2.rawValue) == freshInodes.1)
            try writeByte(fresh1, 1)
            #expect(try readByte(fresh2).0 == .completed(1))
        }

        @Test("many operations in flight on several threads all end with .closed")
        func concurrentCloseMany() throws {
            for _ in 0..<20 {
                let (a, b) = try streamPair()
                let results = (0..<4).map { _ in Slot<SockError?>() }
                let threads = results.map { slot in
                    TestThread {
                        do throws(SockError) {
                            _ = try readByte(a, deadline: .after(.seconds(5))).0
                            slot.set(nil)
                        } catch {
                            slot.set(error)
                        }
                    }
                }
                sleep(nanoseconds: 1_000_000)
                try a.close()
                threads.forEach { $0.join() }
                for slot in results {
                    #expect(slot.value == .some(.closed))
                }
                withExtendedLifetime(b) {}
            }
        }

        @Test("no descriptor leaks over 1,000 open/close cycles")
        func noLeak() throws {
            let before = openDescriptorCount()
            for _ in 0..<1_000 {
                let (a, b) = try streamPair()
                try a.close()
                try b.close()
            }
            for _ in 0..<1_000 {
                _ = try streamPair()  // never closed explicitly: deinit closes
            }
            let after = openDescriptorCount()
            // A leak would add at least 1,000; the slack absorbs descriptors
            // that suites in other files open meanwhile.
            #expect(after - before < 16, "before \(before), after \(after)")
        }

        @Test("non-blocking and close-on-exec can be read, cleared and set")
        func flags() throws {
            let (a, peer) = try streamPair()
            defer { withExtendedLifetime(peer) {} }
            #expect(try a.isNonBlocking)
            #expect(try a.isCloseOnExec)
            try a.setNonBlocking(false)
            #expect(try !a.isNonBlocking)
            try a.setCloseOnExec(false)
            #expect(try !a.isCloseOnExec)
            try a.setNonBlocking()
            try a.setCloseOnExec()
            #expect(try a.isNonBlocking)
            #expect(try a.isCloseOnExec)
            #expect(Glibc.fcntl(a.rawValue, SockBindings.F_GETFL) & SockBindings.O_NONBLOCK != 0)
            #expect(Glibc.fcntl(a.rawValue, SockBindings.F_GETFD) & SockBindings.FD_CLOEXEC != 0)
        }

        @Test("an adopted descriptor is closed by close()")
        func adopting() throws {
            var fds: [CInt] = [-1, -1]
            #expect(Glibc.socketpair(SockBindings.AF_UNIX, streamType, 0, &fds) == 0)
            let original = try #require(inode(of: fds[0]))
            let adopted = Descriptor(adopting: fds[0])
            #expect(adopted.rawValue == fds[0])
            try adopted.close()
            #expect(inode(of: fds[0]) != original)
            Glibc.close(fds[1])
        }

        @Test("read and write move bytes through a pair")
        func roundTrip() throws {
            let (a, b) = try streamPair()
            let message: [UInt8] = Array("hello".utf8)
            let written = try message.withUnsafeBytes { raw throws(SockError) in try a.write(raw) }
            #expect(written == .completed(5))
            var buffer = [UInt8](repeating: 0, count: 16)
            let read = try buffer.withUnsafeMutableBytes { raw throws(SockError) in
                try b.read(into: raw, deadline: .after(.seconds(1)))
            }
            #expect(read == .completed(5))
            #expect(Array(buffer.prefix(5)) == message)
        }
    }
}
