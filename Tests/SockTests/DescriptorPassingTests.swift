// SCM_RIGHTS descriptor passing: round trip through passed pipes,
// close-on-exec, 253/254 limits, zero-byte sends on stream vs datagram
// sockets, descriptors beyond the caller's capacity closed (not leaked).
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

@Suite("Descriptor passing (SCM_RIGHTS)")
struct DescriptorPassingTests {
    @Test("3 pipe write ends pass through a Unix stream pair, are close-on-exec, and write into the pipes")
    func passPipes() throws {
        let (a, b) = try Messaging.unixPair()
        let pipes = [Messaging.pipe(), Messaging.pipe(), Messaging.pipe()]
        defer { for (readEnd, _) in pipes { Glibc.close(readEnd) } }
        let writeEnds = pipes.map(\.1)

        let sent = try Messaging.bytes("fds").withUnsafeBytes { try a.sendDescriptors(writeEnds, data: $0, deadline: Messaging.soon) }
        #expect(try Messaging.completed(sent) == 3)
        for fd in writeEnds { Glibc.close(fd) }

        var fds = [CInt](repeating: -1, count: 3)
        let received = try fds.withUnsafeMutableBufferPointer { fds in
            try Messaging.withBuffer(16) { data in
                let result = try Messaging.completed(b.receiveDescriptors(into: fds, data: data, deadline: Messaging.soon))
                #expect(Messaging.text(data, result.count) == "fds")
                return result
            }
        }
        #expect(received.count == 3)
        #expect(received.descriptorCount == 3)
        #expect(received.discardedCount == 0)
        #expect(!received.isControlTruncated && !received.lostDescriptors)
        for (index, fd) in fds.enumerated() {
            #expect(fd >= 0)
            #expect(Messaging.isCloseOnExec(fd))
            let text = "pipe \(index)"
            #expect(Glibc.write(fd, text, text.utf8.count) == text.utf8.count)
            #expect(Messaging.pipeState(pipes[index].0) == text)
            Glibc.close(fd)
            #expect(Messaging.pipeState(pipes[index].0) == "eof")
        }
    }

    @Test("253 descriptors are accepted; 254 are refused with invalidParameter before any system call")
    func maximumCount() throws {
        let (a, b) = try Messaging.unixPair(SockBindings.SOCK_SEQPACKET)
        let (readEnd, writeEnd) = Messaging.pipe()
        defer {
            Glibc.close(readEnd)
            Glibc.close(writeEnd)
        }
        let many = [CInt](repeating: writeEnd, count: 253)
        let byte = Messaging.bytes("m")
        #expect(try Messaging.completed(byte.withUnsafeBytes { try a.sendDescriptors(many, data: $0) }) == 1)
        #expect(throws: SockError.invalidParameter) {
            _ = try byte.withUnsafeBytes { try a.sendDescriptors(many + [writeEnd], data: $0) }
        }

        var fds = [CInt](repeating: -1, count: 300)
        let received = try fds.withUnsafeMutableBufferPointer { fds in
            try Messaging.withBuffer(4) { data in
                try Messaging.completed(b.receiveDescriptors(into: fds, data: data, deadline: Messaging.soon))
            }
        }
        #expect(received.descriptorCount == 253)
        #expect(!received.lostDescriptors)
        #expect(Messaging.descriptorsReferring(toFileOf: readEnd).count == 2 + 253)
        for fd in fds.prefix(received.descriptorCount) {
            #expect(Messaging.isCloseOnExec(fd))
            Glibc.close(fd)
        }
        #expect(Messaging.descriptorsReferring(toFileOf: readEnd).count == 2)
        // Nothing else was queued: the 254 were refused, not sent.
        try Messaging.withBuffer(4) { data throws in
            #expect(try b.receiveMessage(into: data).isWouldBlock)
        }
    }

    @Test("a zero-byte send is refused on a stream socket and works on datagram and seqpacket sockets")
    func zeroByteSends() throws {
        let (readEnd, writeEnd) = Messaging.pipe()
        defer {
            Glibc.close(readEnd)
            Glibc.close(writeEnd)
        }
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)

        let (streamA, streamB) = try Messaging.unixPair()
        #expect(throws: SockError.invalidParameter) { _ = try streamA.sendDescriptors([writeEnd], data: empty) }
        try Messaging.withBuffer(4) { data throws in
            #expect(try streamB.receiveMessage(into: data).isWouldBlock)
        }

        for type in [SockBindings.SOCK_DGRAM, SockBindings.SOCK_SEQPACKET] {
            let (a, b) = try Messaging.unixPair(type)
            #expect(try Messaging.completed(a.sendDescriptors([writeEnd], data: empty)) == 0)
            var fd: CInt = -1
            let received = try withUnsafeMutablePointer(to: &fd) { fd in
                try Messaging.withBuffer(4) { data in
                    try Messaging.completed(b.receiveDescriptors(
                        into: UnsafeMutableBufferPointer(start: fd, count: 1), data: data, deadline: Messaging.soon))
                }
            }
            #expect(received.count == 0)
            #expect(received.descriptorCount == 1)
            #expect(Messaging.descriptorsReferring(toFileOf: fd).count == 3)  // read end, write end, received
            Glibc.close(fd)
        }
    }

    @Test("descriptors beyond the caller's capacity are closed and counted, never leaked")
    func beyondCapacity() throws {
        let (a, b) = try Messaging.unixPair()
        let pipes = [Messaging.pipe(), Messaging.pipe(), Messaging.pipe()]
        defer { for (readEnd, _) in pipes { Glibc.close(readEnd) } }
        _ = try Messaging.bytes("x").withUnsafeBytes { try a.sendDescriptors(pipes.map(\.1), data: $0) }
        for (_, writeEnd) in pipes { Glibc.close(writeEnd) }

        var kept: CInt = -1
        let received = try withUnsafeMutablePointer(to: &kept) { kept in
            try Messaging.withBuffer(4) { data in
                try Messaging.completed(b.receiveDescriptors(
                    into: UnsafeMutableBufferPointer(start: kept, count: 1), data: data, deadline: Messaging.soon))
            }
        }
        #expect(received.descriptorCount == 1)
        #expect(received.lostDescriptors)
        // The stack control buffer has room for them, so Sock (not the
        // kernel) closes the two extra ones.
        #expect(received.discardedCount == 2)
        #expect(!received.isControlTruncated)
        #expect(Messaging.pipeState(pipes[0].0) == "open")
        #expect(Messaging.pipeState(pipes[1].0) == "eof")
        #expect(Messaging.pipeState(pipes[2].0) == "eof")
        Glibc.close(kept)
        #expect(Messaging.pipeState(pipes[0].0) == "eof")

        // A capacity of zero takes none and closes whatever arrives.
        let (readEnd, writeEnd) = Messaging.pipe()
        defer { Glibc.close(readEnd) }
        _ = try Messaging.bytes("y").withUnsafeBytes { try a.sendDescriptors([writeEnd], data: $0) }
        Glibc.close(writeEnd)
        let none = try Messaging.withBuffer(4) { data in
            try Messaging.completed(b.receiveDescriptors(
                into: UnsafeMutableBufferPointer(start: nil, count: 0), data: data, deadline: Messaging.soon))
        }
        #expect(none.descriptorCount == 0)
        #expect(none.discardedCount == 1)
        #expect(none.lostDescriptors)
        #expect(Messaging.pipeState(readEnd) == "eof")
    }

    @Test("descriptors sent to an address from an unconnected Unix datagram socket")
    func toAddress() throws {
        let name = "sock-test-fds-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let address = try SockaddrUnix(abstractName: name)
        let receiver = try Descriptor.socket(family: SockBindings.AF_UNIX, type: SockBindings.SOCK_DGRAM)
        try receiver.bindSocket(to: address)
        let sender = try Descriptor.socket(family: SockBindings.AF_UNIX, type: SockBindings.SOCK_DGRAM)
        let (readEnd, writeEnd) = Messaging.pipe()
        defer { Glibc.close(readEnd) }
        let sent = try Messaging.bytes("to").withUnsafeBytes {
            try sender.sendDescriptors([writeEnd], data: $0, to: address, deadline: Messaging.soon)
        }
        #expect(try Messaging.completed(sent) == 2)
        Glibc.close(writeEnd)
        var fd: CInt = -1
        let received = try withUnsafeMutablePointer(to: &fd) { fd in
            try Messaging.withBuffer(4) { data in
                try Messaging.completed(receiver.receiveDescriptors(
                    into: UnsafeMutableBufferPointer(start: fd, count: 1), data: data, deadline: Messaging.soon))
            }
        }
        #expect(received.count == 2 && received.descriptorCount == 1)
        #expect(Glibc.write(fd, "ok", 2) == 2)
        #expect(Messaging.pipeState(readEnd) == "ok")
        Glibc.close(fd)
        #expect(Messaging.pipeState(readEnd) == "eof")
    }

    @Test("with SO_PASSCRED the credentials do not eat the room for descriptors")
    func withCredentials() throws {
        let (a, b) = try Messaging.unixPair(SockBindings.SOCK_DGRAM)
        try b.setOption(.passCredentials, to: true)
        let pipes = [Messaging.pipe(), Messaging.pipe()]
        defer { for (r, w) in pipes { Glibc.close(r); Glibc.close(w) } }
        _ = try Messaging.bytes("c").withUnsafeBytes { try a.sendDescriptors(pipes.map(\.1), data: $0) }
        var fds = [CInt](repeating: -1, count: 2)
        let received = try fds.withUnsafeMutableBufferPointer { fds in
            try Messaging.withBuffer(4) { data in
                try Messaging.completed(b.receiveDescriptors(into: fds, data: data, deadline: Messaging.soon))
            }
        }
        #expect(received.descriptorCount == 2)
        #expect(!received.lostDescriptors)
        for fd in fds { Glibc.close(fd) }
    }

    @Test("owned Descriptors can be sent (kept open meanwhile) and received as owned Descriptors")
    func ownedDescriptors() throws {
        let (a, b) = try Messaging.unixPair()
        let (x, y) = try Messaging.unixPair()
        let sent = try Messaging.bytes("own").withUnsafeBytes { try a.sendDescriptors([x, y], data: $0, deadline: Messaging.soon) }
        #expect(try Messaging.completed(sent) == 3)

        let (received, owned) = try Messaging.withBuffer(8) { data in
            try Messaging.completed(b.receiveDescriptors(upTo: 4, data: data, deadline: Messaging.soon))
        }
        #expect(received.descriptorCount == 2)
        #expect(owned.count == 2)
        for descriptor in owned {
            #expect(try descriptor.isCloseOnExec)
        }
        // The received x talks to y.
        _ = try Messaging.bytes("!").withUnsafeBytes { try owned[0].write($0) }
        try Messaging.withBuffer(4) { data throws in
            #expect(try Messaging.completed(y.read(into: data, deadline: Messaging.soon)) == 1)
        }
        for descriptor in owned { try descriptor.close() }

        try x.close()
        #expect(throws: SockError.closed) {
            _ = try Messaging.bytes("z").withUnsafeBytes { try a.sendDescriptors([y, x], data: $0) }
        }
        #expect(throws: SockError.invalidParameter) {
            _ = try Messaging.withBuffer(4) { data in try b.receiveDescriptors(upTo: -1, data: data) }
        }
    }

    @Test("receiving with nothing queued would block; a bad descriptor number is refused")
    func wouldBlockAndBadDescriptor() throws {
        let (a, b) = try Messaging.unixPair()
        var fd: CInt = -1
        try withUnsafeMutablePointer(to: &fd) { fd in
            try Messaging.withBuffer(4) { data throws in
                #expect(try b.receiveDescriptors(into: UnsafeMutableBufferPointer(start: fd, count: 1), data: data).isWouldBlock)
            }
        }
        #expect(throws: SockError.invalidParameter) {
            _ = try Messaging.bytes("n").withUnsafeBytes { try a.sendDescriptors([CInt(-1)], data: $0) }
        }
        // An unused number: the kernel says EBADF.
        #expect(throws: SockError.closed) {
            _ = try Messaging.bytes("n").withUnsafeBytes { try a.sendDescriptors([CInt(19_999)], data: $0) }
        }
    }
}
