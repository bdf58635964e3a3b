#if canImport(Glibc)
import Glibc
#endif
import Sock
import SockSystem
import SystemPackage
import Testing

/// Whether `fd` is an open descriptor.
func isOpen(_ fd: CInt) -> Bool { fcntl(fd, F_GETFD) != -1 }

// Serialized: the tests check that descriptor numbers are closed, and a
// parallel test could reuse a number in between.
@Suite("SockSystem: FileDescriptor ⇄ Descriptor, Errno ⇄ SockError", .serialized)
struct SockSystemTests {
    @Test("FileDescriptor(taking:): the FileDescriptor's holder closes, Sock never does")
    func taking() throws {
        let (a, b) = try UnixConn.pair()
        let fd = try FileDescriptor(taking: a.descriptor)
        #expect(fd.rawValue == a.descriptor.rawValue)
        #expect(a.descriptor.isClosed)
        // Sock's close is a no-op on the number; the FileDescriptor still works.
        try a.close()
        let written = try fd.writeAll("hello".utf8)
        #expect(written == 5)
        b.setReadDeadline(.after(.seconds(1)))
        #expect(try b.read(exactly: 5) == Array("hello".utf8))
        // Sock's operations refuse the handed-over descriptor.
        #expect(throws: SockError.closed) { try a.write(all: [1]) }
        #expect(throws: SockError.closed) { _ = try FileDescriptor(taking: a.descriptor) }
        try fd.close()
        b.setReadDeadline(.after(.seconds(1)))
        do throws(SockError) {
            _ = try b.read(exactly: 1)
            Issue.record("expected end of stream")
        } catch {
            #expect(error.code == .endOfStream)
        }
    }

    @Test("Descriptor(adopting:): the Descriptor closes the FileDescriptor's number")
    func adopting() throws {
        let fd = try FileDescriptor.open("/proc/self/stat", .readOnly, options: .closeOnExec)
        var descriptor: Descriptor? = Descriptor(adopting: fd)
        #expect(descriptor?.rawValue == fd.rawValue)
        #expect(isOpen(fd.rawValue))
        descriptor = nil  // the last reference: closes
        #expect(!isOpen(fd.rawValue))
    }

    @Test("withSystemFileDescriptor borrows: swift-system I/O works, nothing is closed, .closed after close")
    func borrowing() throws {
        let fd = try FileDescriptor.open("/etc/hostname", .readOnly, options: .closeOnExec)
        let descriptor = Descriptor(adopting: fd)
        let size = try descriptor.withSystemFileDescriptor { borrowed in
            try borrowed.seek(offset: 0, from: .end)
        }
        var status = stat()
        #expect(fstat(fd.rawValue, &status) == 0)
        #expect(size == Int64(status.st_size))
        #expect(isOpen(fd.rawValue))
        // What body throws comes through.
        #expect(throws: Errno.badFileDescriptor) {
            try descriptor.withSystemFileDescriptor { _ in throw Errno.badFileDescriptor }
        }
        try descriptor.close()
        #expect(!isOpen(fd.rawValue))
        #expect(throws: SockError.closed) { try descriptor.withSystemFileDescriptor { _ in 0 } }
    }

    @Test("Errno ⇄ SockError keeps the number and Sock's codes")
    func errors() {
        #expect(SockError(Errno.connectionRefused) == .connectionRefused)
        #expect(SockError(Errno.connectionRefused).code == .connectionRefused)
        #expect(SockError(Errno.resourceTemporarilyUnavailable).code == .wouldBlock)
        #expect(SockError(Errno.badFileDescriptor).code == .closed)
        #expect(SockError(Errno.noSuchFileOrDirectory).code == .other)
        #expect(SockError(Errno.noSuchFileOrDirectory).errnoCode == ENOENT)
        #expect(Errno(SockError.connectionReset) == .connectionReset)
        #expect(Errno(SockError.timedOut) == .timedOut)
        #expect(SockError.timedOut.systemErrno == .timedOut)
        #expect(Errno(SockError.endOfStream) == nil)
        #expect(Errno(SockError.unknownNetwork) == nil)
        for code in [ECONNRESET, EPIPE, EACCES, EMSGSIZE, ENOTCONN, 200] {
            #expect(Errno(SockError(Errno(rawValue: code))) == Errno(rawValue: code))
        }
    }

    @Test("a real failure: connect to a closed port, as Errno")
    func realFailure() throws {
        let listener = try TCPListener.listen(on: SockaddrInet4(address: .loopback, port: 0), reusePort: false)
        let address = listener.address
        try listener.close()
        do throws(SockError) {
            _ = try TCPDialer(timeout: .seconds(1)).dial(to: address)
            Issue.record("connected to a closed port")
        } catch {
            #expect(Errno(error) == .connectionRefused)
        }
    }
}
