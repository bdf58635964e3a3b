// sendmsg/recvmsg: vectored round trips on a Unix pair and UDP, truncation
// flags (MSG_TRUNC, MSG_CTRUNC), deadlines and the raw Msghdr calls.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

@Suite("Messages (sendmsg/recvmsg)")
struct MessageTests {
    @Test("vectored send and receive on a Unix stream pair")
    func vectoredUnixStream() throws {
        let (a, b) = try Messaging.unixPair()
        let parts = [Messaging.bytes("ab"), Messaging.bytes("cde"), Messaging.bytes("fghij")]
        let sent = try parts[0].withUnsafeBytes { p0 in
            try parts[1].withUnsafeBytes { p1 in
                try parts[2].withUnsafeBytes { p2 in
                    try a.sendMessage([p0, p1, p2], deadline: Messaging.soon)
                }
            }
        }
        #expect(try Messaging.completed(sent) == 10)

        try Messaging.withBuffer(4) { first in
            try Messaging.withBuffer(16) { second in
                let received = try Messaging.completed(b.receiveMessage(into: [first, second], deadline: Messaging.soon))
                #expect(received.count == 10)
                #expect(received.flags == 0)
                #expect(!received.isTruncated && !received.isControlTruncated)
                #expect(received.controlLength == 0)
                #expect(received.source == nil)  // connected stream: no address
                #expect(Messaging.text(first, 4) == "abcd")
                #expect(Messaging.text(second, 6) == "efghij")
            }
        }
    }

    @Test("vectored send to an address and receive with the source over UDP (IPv4 and IPv6)", arguments: [false, true])
    func vectoredUDP(ipv6: Bool) throws {
        let (receiver, receiverAddress) = try Messaging.udp(ipv6: ipv6)
        let (sender, senderAddress) = try Messaging.udp(ipv6: ipv6)
        let head = Messaging.bytes("head:")
        let body = Messaging.bytes("body")
        let sent = try head.withUnsafeBytes { h in
            try body.withUnsafeBytes { b in
                try sender.sendMessage(CollectionOfOne(h) + [b], to: receiverAddress, deadline: Messaging.soon)
            }
        }
        #expect(try Messaging.completed(sent) == 9)

        try Messaging.withBuffer(3) { first in
            try Messaging.withBuffer(64) { second in
                let received = try Messaging.completed(receiver.receiveMessage(into: [first, second], deadline: Messaging.soon))
                #expect(received.count == 9)
                #expect(received.flags == 0)
                #expect(!received.isTruncated)
                #expect(received.source == senderAddress)
                #expect(Messaging.text(first, 3) + Messaging.text(second, 6) == "head:body")
            }
        }
    }

    @Test("single-buffer send and receive; an empty datagram is 0 bytes, not end of stream")
    func singleBufferAndEmptyDatagram() throws {
        let (receiver, receiverAddress) = try Messaging.udp()
        let (sender, _) = try Messaging.udp()
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        #expect(try Messaging.completed(sender.sendMessage(empty, to: receiverAddress)) == 0)
        try Messaging.withBuffer(16) { buffer in
            let received = try Messaging.completed(receiver.receiveMessage(into: buffer, deadline: Messaging.soon))
            #expect(received.count == 0)
            #expect(received.source != nil)
            // Nothing else is queued.
            #expect(try receiver.receiveMessage(into: buffer).isWouldBlock)
        }
    }

    @Test("MSG_TRUNC: an 11-byte datagram into a 4-byte buffer keeps 4 bytes and says so")
    func datagramTruncation() throws {
        let (receiver, receiverAddress) = try Messaging.udp()
        let (sender, _) = try Messaging.udp()
        let message = Messaging.bytes("hello world")
        _ = try message.withUnsafeBytes { try sender.sendMessage($0, to: receiverAddress) }
        try Messaging.withBuffer(4) { buffer in
            let received = try Messaging.completed(receiver.receiveMessage(into: buffer, deadline: Messaging.soon))
            #expect(received.count == 4)
            #expect(received.isTruncated)
            #expect(received.flags & SockBindings.MSG_TRUNC != 0)
            #expect(Messaging.text(buffer, 4) == "hell")
        }
    }

    @Test("MSG_CTRUNC: 3 descriptors into a control buffer for 2 installs 2, sets the flag, leaks none")
    func controlTruncation() throws {
        let (a, b) = try Messaging.unixPair()
        let pipes = [Messaging.pipe(), Messaging.pipe(), Messaging.pipe()]
        defer { for (readEnd, _) in pipes { Glibc.close(readEnd) } }
        let writeEnds = pipes.map(\.1)

        let payload = Messaging.bytes("x")
        _ = try payload.withUnsafeBytes { try a.sendDescriptors(writeEnds, data: $0, deadline: Messaging.soon) }
        for fd in writeEnds { Glibc.close(fd) }

        let space = ControlMessageBuilder.space(forRights: 2)
        #expect(space == 24)
        var installed: [CInt] = []
        try Messaging.withBuffer(space) { control in
            try Messaging.withBuffer(8) { data in
                let received = try Messaging.completed(b.receiveMessage(into: data, control: control, deadline: Messaging.soon))
                #expect(received.count == 1)
                #expect(received.isControlTruncated)
                #expect(!received.isTruncated)
                #expect(received.controlLength == 24)
                for message in ControlMessages(buffer: control, length: received.controlLength) {
                    if case .rights(let fds) = message { installed.append(contentsOf: fds) }
                }
            }
        }
        #expect(installed.count == 2)
        for fd in installed {
            #expect(Messaging.isCloseOnExec(fd))
            // Each is a write end of one of the first two pipes: the pipe's
            // inode is referred to by it and by the read end we hold.
            #expect(Messaging.descriptorsReferring(toFileOf: fd).count == 2)
        }
        // The third write end was closed by the kernel: its pipe reads EOF,
        // and no descriptor in /proc/self/fd refers to it except the read end.
        #expect(Messaging.pipeState(pipes[2].0) == "eof")
        #expect(Messaging.descriptorsReferring(toFileOf: pipes[2].0) == [pipes[2].0])
        // The first two are open until we close what we received.
        #expect(Messaging.pipeState(pipes[0].0) == "open")
        #expect(Messaging.pipeState(pipes[1].0) == "open")
        for fd in installed { Glibc.close(fd) }
        #expect(Messaging.pipeState(pipes[0].0) == "eof")
        #expect(Messaging.pipeState(pipes[1].0) == "eof")
    }

    @Test("without a deadline a receive would block; with one it times out")
    func wouldBlockAndTimeout() throws {
        let (_, b) = try Messaging.unixPair(SockBindings.SOCK_DGRAM)
        try Messaging.withBuffer(8) { buffer throws in
            #expect(try b.receiveMessage(into: buffer).isWouldBlock)
            let start = Deadline.monotonicNow()
            #expect(throws: SockError.timedOut) {
                _ = try b.receiveMessage(into: buffer, deadline: .after(.milliseconds(30)))
            }
            #expect(Deadline.monotonicNow() - start >= 29_000_000)
        }
    }

    @Test("a deadline receive wakes when data arrives from another thread")
    func deadlineWakes() throws {
        let (a, b) = try Messaging.unixPair(SockBindings.SOCK_SEQPACKET)
        // The writer is a thread of its own, not a task: this test blocks its
        // thread in the receive, and a task could wait for a free thread of
        // the cooperative pool (2 on 2 cores) until the deadline passed.
        let writer = TestThread {
            usleep(20_000)
            let message = Messaging.bytes("late")
            _ = try? message.withUnsafeBytes { try a.sendMessage($0) }
        }
        defer { writer.join() }
        try Messaging.withBuffer(8) { buffer in
            let received = try Messaging.completed(b.receiveMessage(into: buffer, deadline: .after(.seconds(5))))
            #expect(Messaging.text(buffer, received.count) == "late")
        }
    }

    @Test("the raw Msghdr calls (Go SendMsg/RecvMsg) send and receive what the header describes")
    func rawHeaders() throws {
        let (a, b) = try Messaging.unixPair(SockBindings.SOCK_DGRAM)
        var payload = Messaging.bytes("raw header")
        try payload.withUnsafeMutableBytes { bytes in
            var vector = Iovec()
            vector.iov_base = bytes.baseAddress
            vector.iov_len = CUnsignedLong(bytes.count)
            try withUnsafeMutablePointer(to: &vector) { vector throws in
                var header = Msghdr()
                header.msg_iov = vector
                header.msg_iovlen = 1
                #expect(try Messaging.completed(a.sendMessage(header)) == 10)
            }
        }
        try Messaging.withBuffer(4) { buffer in
            var vector = Iovec()
            vector.iov_base = buffer.baseAddress
            vector.iov_len = 4
            try withUnsafeMutablePointer(to: &vector) { vector throws in
                var header = Msghdr()
                header.msg_iov = vector
                header.msg_iovlen = 1
                #expect(try Messaging.completed(b.receiveMessage(&header, deadline: Messaging.soon)) == 4)
                #expect(header.msg_flags & SockBindings.MSG_TRUNC != 0)
                #expect(Messaging.text(buffer, 4) == "raw ")
            }
        }
    }

    @Test("sending to a gone peer is connection reset, never SIGPIPE; a closed descriptor is closed")
    func errors() throws {
        let (a, b) = try Messaging.unixPair()
        try b.close()
        let message = Messaging.bytes("x")
        #expect(sockError { try message.withUnsafeBytes { try a.sendMessage($0) } }?.code == .connectionReset)
        try a.close()
        #expect(throws: SockError.closed) {
            _ = try message.withUnsafeBytes { try a.sendMessage($0) }
        }
        try Messaging.withBuffer(4) { buffer throws in
            #expect(throws: SockError.closed) { _ = try a.receiveMessage(into: buffer) }
        }
    }
}
