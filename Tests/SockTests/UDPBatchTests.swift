// UDP batching (sendmmsg/recvmmsg over a reusable UDPMessageBatch), GSO sends
// (UDP_SEGMENT) and GRO receives (UDP_GRO) over loopback IPv4 and IPv6, and
// no allocation per batch call in steady state.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import SockTestSupport
import Testing

/// `value`, or a recorded issue and a thrown error when it is nil. (For
/// calls on noncopyable values, which `#require` cannot inspect.)
private func present<T>(_ value: T?, sourceLocation: SourceLocation = #_sourceLocation) throws -> T {
    try #require(value, sourceLocation: sourceLocation)
}

/// `count` buffers of `size` bytes each (never freed, like TestBytes).
private func testBuffers(_ count: Int, size: Int) -> [TestBytes] {
    (0 ..< count).map { _ in TestBytes(count: size) }
}

/// The payload of datagram `index`: `index + 1` repeated `10 + index` times.
private func payload(_ index: Int) -> TestBytes {
    TestBytes(count: 10 + index, fill: UInt8(index + 1))
}

@Suite("UDP batching: sendmmsg/recvmmsg over reusable batches")
struct UDPBatchTests {
    @Test("8 datagrams round trip with addresses", arguments: UDPTestFamily.allCases)
    func roundTrip(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try roundTrip(SockaddrInet4.self)
        case .ipv6: try roundTrip(SockaddrInet6.self)
        }
    }

    private func roundTrip<A: UDPTestAddress>(_: A.Type) throws {
        let receiver = try udpListen(A.self)
        let sender = try udpListen(A.self)
        defer { try? receiver.close(); try? sender.close() }

        var outgoing = try UDPMessageBatch<A>(capacity: 8)
        let payloads = (0 ..< 8).map(payload)
        for index in 0 ..< 8 {
            try outgoing.setMessage(payloads[index].bytes, to: receiver.localAddress, at: index)
        }
        #expect(try sender.sendMessages(&outgoing, count: 8) == .completed(8))
        #expect(outgoing.receivedCount == 0)

        var incoming = try UDPMessageBatch<A>(capacity: 8)
        let buffers = testBuffers(8, size: 2_048)
        for index in 0 ..< 8 {
            try incoming.setReceiveBuffer(buffers[index].raw, at: index)
        }
        #expect(incoming.receiveBuffer(at: 3).count == 2_048)
        #expect(try receiver.receiveMessages(&incoming, deadline: soon()) == .completed(8))
        #expect(incoming.receivedCount == 8)
        for index in 0 ..< 8 {
            let message = try present(incoming.message(at: index))
            #expect(message.count == 10 + index)
            #expect(message.length == 10 + index)
            #expect(!message.isTruncated && !message.isControlTruncated)
            #expect(message.source == sender.localAddress)
            #expect(message.segmentSize == nil)
            #expect(message.controlLength == 0)
            let bytes = UnsafeRawBufferPointer(rebasing: buffers[index].raw[0 ..< message.count])
            #expect(bytes.allSatisfy { $0 == UInt8(index + 1) })
        }
        #expect(incoming.message(at: 8) == nil)
        #expect(incoming.message(at: -1) == nil)

        // Echo: the same batch sends back what arrived, to where it came from.
        for index in 0 ..< 8 {
            let message = try present(incoming.message(at: index))
            try incoming.setMessage(
                UnsafeRawBufferPointer(rebasing: buffers[index].raw[0 ..< message.count]), to: message.source, at: index)
        }
        #expect(try receiver.sendMessages(&incoming, count: 8) == .completed(8))
        var echoes = try UDPMessageBatch<A>(capacity: 8)
        let echoBuffers = testBuffers(8, size: 64)
        for index in 0 ..< 8 { try echoes.setReceiveBuffer(echoBuffers[index].raw, at: index) }
        var got = 0
        let deadline = soon()
        while got < 8 && !deadline.hasPassed {
            let received = try sender.receiveMessages(&echoes, count: 8 - got, deadline: soon())
            for index in 0 ..< received.count {
                let message = try present(echoes.message(at: index))
                #expect(message.source == receiver.localAddress)
                #expect(message.count == 10 + got + index)
            }
            got += received.count
        }
        #expect(got == 8)
    }

    @Test("partial batches: fewer sent than slots, receives limited by count and by what is queued",
          arguments: UDPTestFamily.allCases)
    func partial(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try partial(SockaddrInet4.self)
        case .ipv6: try partial(SockaddrInet6.self)
        }
    }

    private func partial<A: UDPTestAddress>(_: A.Type) throws {
        let receiver = try udpListen(A.self)
        let sender = try UDPConn.dial(to: receiver.localAddress)   // connected: no destinations
        defer { try? receiver.close(); try? sender.close() }

        var outgoing = try UDPMessageBatch<A>(capacity: 8)
        let payloads = (0 ..< 8).map(payload)
        for index in 0 ..< 8 { try outgoing.setMessage(payloads[index].bytes, at: index) }
        #expect(try sender.sendMessages(&outgoing, count: 3) == .completed(3))
        #expect(try sender.sendMessages(&outgoing, count: 0) == .completed(0))

        var incoming = try UDPMessageBatch<A>(capacity: 8)
        let buffers = testBuffers(8, size: 256)
        for index in 0 ..< 8 { try incoming.setReceiveBuffer(buffers[index].raw, at: index) }
        // At most 2 this time, though 3 are queued.
        #expect(try receiver.receiveMessages(&incoming, count: 2, deadline: soon()) == .completed(2))
        #expect(incoming.message(at: 0)?.count == 10)
        #expect(incoming.message(at: 1)?.count == 11)
        #expect(incoming.message(at: 2) == nil)
        // Room for 8, but only the third is queued: the call returns with 1.
        #expect(try receiver.receiveMessages(&incoming) == .completed(1))
        #expect(incoming.message(at: 0)?.count == 12)
        #expect(incoming.message(at: 0)?.source == sender.localAddress)
        // Nothing queued: would block, or time out with a deadline.
        #expect(try receiver.receiveMessages(&incoming) == .wouldBlock)
        #expect(incoming.receivedCount == 0)
        #expect(throws: SockError.timedOut) {
            try receiver.receiveMessages(&incoming, deadline: .after(.milliseconds(20)))
        }
        receiver.setReadDeadline(.after(.milliseconds(20)))
        #expect(throws: SockError.timedOut) { try receiver.receiveMessages(&incoming) }
        receiver.setReadDeadline(.none)
    }

    @Test("truncation is reported per message: stored count, full length, MSG_TRUNC")
    func truncation() throws {
        let receiver = try udpListen(SockaddrInet4.self)
        let sender = try udpListen(SockaddrInet4.self)
        defer { try? receiver.close(); try? sender.close() }
        let eleven = TestBytes("hello world")
        _ = try sender.writeTo(eleven.bytes, address: receiver.localAddress)
        _ = try sender.writeTo(TestBytes(count: 0).bytes, address: receiver.localAddress)

        var incoming = try UDPMessageBatch<SockaddrInet4>(capacity: 2)
        let small = TestBytes(count: 4)
        let other = TestBytes(count: 4)
        try incoming.setReceiveBuffer(small.raw, at: 0)
        try incoming.setReceiveBuffer(other.raw, at: 1)
        #expect(try receiver.receiveMessages(&incoming, deadline: soon()).count >= 1)
        let first = try present(incoming.message(at: 0))
        #expect(first.count == 4)
        #expect(first.length == 11)
        #expect(first.isTruncated)
        #expect(first.flags & SockBindings.MSG_TRUNC != 0)
        #expect(small.string(4) == "hell")
        if incoming.receivedCount < 2 {
            #expect(try receiver.receiveMessages(&incoming, count: 1, deadline: soon()) == .completed(1))
        }
        // A 0-byte datagram is a message of 0 bytes, not the end of anything.
        let empty = try present(incoming.message(at: incoming.receivedCount - 1))
        #expect(empty.count == 0 && empty.length == 0 && !empty.isTruncated)
    }

    @Test("bad input is a clear error, never a trap")
    func badInput() throws {
        #expect(throws: SockError.invalidParameter) { _ = try UDPMessageBatch<SockaddrInet4>(capacity: 0) }
        #expect(throws: SockError.invalidParameter) { _ = try UDPMessageBatch<SockaddrInet4>(capacity: -3) }
        #expect(throws: SockError.invalidParameter) { _ = try UDPMessageBatch<SockaddrInet4>(capacity: 1, controlSpace: -1) }
        var batch = try UDPMessageBatch<SockaddrInet4>(capacity: 2)
        let buffer = TestBytes(count: 8)
        #expect(throws: SockError.invalidParameter) { try batch.setReceiveBuffer(buffer.raw, at: 2) }
        #expect(throws: SockError.invalidParameter) { try batch.setMessage(buffer.bytes, at: -1) }
        #expect(throws: SockError.invalidParameter) { try batch.setSegmentSize(100, at: 5) }
        // No control space: a segment size does not fit.
        try batch.setMessage(buffer.bytes, at: 0)
        #expect(throws: SockError.messageTooLarge) { try batch.setSegmentSize(100, at: 0) }
        #expect(throws: SockError.messageTooLarge) { try batch.setControl(buffer.bytes, at: 0) }
        #expect(batch.receiveBuffer(at: 7).count == 0)
        var noControl = batch.controlMessages(at: 0).makeIterator()
        #expect(noControl.next() == nil)

        var withControl = try UDPMessageBatch<SockaddrInet4>(capacity: 1, controlSpace: UDPMessageBatch<SockaddrInet4>.segmentControlSpace)
        #expect(throws: SockError.invalidParameter) { try withControl.setSegmentSize(0, at: 0) }
        #expect(throws: SockError.invalidParameter) { try withControl.setSegmentSize(70_000, at: 0) }

        let conn = try udpListen(SockaddrInet4.self)
        defer { try? conn.close() }
        #expect(throws: SockError.invalidParameter) { try conn.sendMessages(&batch, count: 3) }
        #expect(throws: SockError.invalidParameter) { try conn.sendMessages(&batch, count: -1) }
        #expect(throws: SockError.invalidParameter) { try conn.receiveMessages(&batch, count: 0) }
        #expect(throws: SockError.invalidParameter) { try conn.receiveMessages(&batch, count: 3) }
        // An unconnected socket without destinations: the kernel says so.
        #expect(sockError { try conn.sendMessages(&batch, count: 1) } == SockError(code: .notConnected, errnoCode: SockBindings.EDESTADDRREQ))
        try conn.close()
        #expect(throws: SockError.closed) { try conn.receiveMessages(&batch) }
        #expect(throws: SockError.closed) { try conn.sendMessages(&batch, count: 0) }
    }
}

@Suite("UDP offload: GSO sends (UDP_SEGMENT) and GRO receives (UDP_GRO)")
struct UDPOffloadTests {
    @Test("GSO: 10×1000 bytes with segment size 1000 arrive as 10 datagrams of 1000", arguments: UDPTestFamily.allCases)
    func segmentation(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try segmentation(SockaddrInet4.self)
        case .ipv6: try segmentation(SockaddrInet6.self)
        }
    }

    private func segmentation<A: UDPTestAddress>(_: A.Type) throws {
        let receiver = try udpListen(A.self)
        let sender = try udpListen(A.self)
        defer { try? receiver.close(); try? sender.close() }
        let burst = TestBytes(count: 10_000, fill: 0x77)

        // Per call (UDP_SEGMENT control message).
        #expect(try sender.writeSegmented(burst.bytes, segmentSize: 1_000, to: receiver.localAddress) == .completed(10_000))
        try expectTenSegments(receiver, from: sender.localAddress)

        // Per message of a batch.
        var batch = try UDPMessageBatch<A>(capacity: 2, controlSpace: UDPMessageBatch<A>.segmentControlSpace)
        try batch.setMessage(burst.bytes, to: receiver.localAddress, at: 0)
        try batch.setSegmentSize(1_000, at: 0)
        #expect(try sender.sendMessages(&batch, count: 1) == .completed(1))
        try expectTenSegments(receiver, from: sender.localAddress)

        // As the socket's default (the UDP_SEGMENT socket option).
        #expect(try sender.option(.segmentSize) == 0)
        try sender.setOption(.segmentSize, to: 1_000)
        #expect(try sender.option(.segmentSize) == 1_000)
        #expect(try sender.writeTo(burst.bytes, address: receiver.localAddress) == .completed(10_000))
        try expectTenSegments(receiver, from: sender.localAddress)
        try sender.setOption(.segmentSize, to: 0)
        #expect(try sender.option(.segmentSize) == 0)
        #expect(throws: SockError.invalidParameter) { try sender.setOption(.segmentSize, to: -1) }
        #expect(throws: SockError.invalidParameter) { try sender.setOption(.segmentSize, to: 65_536) }
        #expect(throws: SockError.invalidParameter) {
            try sender.writeSegmented(burst.bytes, segmentSize: 0, to: receiver.localAddress)
        }

        // Connected form.
        let connected = try UDPConn.dial(to: receiver.localAddress)
        defer { try? connected.close() }
        #expect(try connected.writeSegmented(burst.bytes, segmentSize: 1_000) == .completed(10_000))
        try expectTenSegments(receiver, from: connected.localAddress)
    }

    /// Receives 10 datagrams of 1000 bytes from `source` with one or more
    /// batch receives, then nothing more.
    private func expectTenSegments<A: UDPTestAddress>(_ receiver: UDPConn<A>, from source: A) throws {
        var batch = try UDPMessageBatch<A>(capacity: 16)
        let buffers = testBuffers(16, size: 2_048)
        for index in 0 ..< 16 { try batch.setReceiveBuffer(buffers[index].raw, at: index) }
        var sizes: [Int] = []
        let deadline = soon()
        while sizes.count < 10 && !deadline.hasPassed {
            let received = try receiver.receiveMessages(&batch, count: 16, deadline: soon())
            for index in 0 ..< received.count {
                let message = try present(batch.message(at: index))
                #expect(message.source == source)
                sizes.append(message.count)
            }
        }
        #expect(sizes == Array(repeating: 1_000, count: 10))
        #expect(try receiver.receiveMessages(&batch) == .wouldBlock)
    }

    /// With UDP_GRO on, a GSO send reaches the receiver as one coalesced
    /// read carrying the segment size: the kernel keeps the GSO packet whole
    /// on loopback and delivers it to a GRO socket unsegmented. (Separately
    /// sent datagrams are not coalesced on loopback: GRO proper runs in a
    /// NIC's receive path.) Without UDP_GRO the same send arrives as 10
    /// datagrams (the GSO test above).
    @Test("GRO: a GSO burst arrives as one read of 10000 bytes with segment size 1000", arguments: UDPTestFamily.allCases)
    func receiveOffload(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try receiveOffload(SockaddrInet4.self)
        case .ipv6: try receiveOffload(SockaddrInet6.self)
        }
    }

    private func receiveOffload<A: UDPTestAddress>(_: A.Type) throws {
        let receiver = try udpListen(A.self)
        let sender = try udpListen(A.self)
        defer { try? receiver.close(); try? sender.close() }
        #expect(try !receiver.option(.genericReceiveOffload))
        try receiver.setOption(.genericReceiveOffload, to: true)
        #expect(try receiver.option(.genericReceiveOffload))
        let burst = TestBytes(count: 10_000, fill: 0x55)
        let buffer = TestBytes(count: 65_536)

        // readCoalesced.
        _ = try sender.writeSegmented(burst.bytes, segmentSize: 1_000, to: receiver.localAddress)
        receiver.setReadDeadline(soon())
        let whole = try #require(try receiver.readCoalesced(into: buffer.raw).value)
        #expect(whole.count == 10_000)
        #expect(whole.length == 10_000)
        #expect(whole.segmentSize == 1_000)
        #expect(whole.segmentCount == 10)
        #expect(!whole.isTruncated)
        #expect(whole.from == sender.localAddress)

        // A single datagram: no segment size.
        _ = try sender.writeTo(TestBytes(count: 300).bytes, address: receiver.localAddress)
        let single = try #require(try receiver.readCoalesced(into: buffer.raw).value)
        #expect(single.count == 300)
        #expect(single.segmentSize == nil)
        #expect(single.segmentCount == 1)

        // A GSO burst whose last segment is short: 2500 = 1000 + 1000 + 500.
        _ = try sender.writeSegmented(
            UnsafeRawBufferPointer(rebasing: burst.bytes[0 ..< 2_500]), segmentSize: 1_000, to: receiver.localAddress)
        let uneven = try #require(try receiver.readCoalesced(into: buffer.raw).value)
        #expect(uneven.length == 2_500 && uneven.segmentSize == 1_000 && uneven.segmentCount == 3)

        // A buffer too small for the coalesced read: truncation is reported.
        _ = try sender.writeSegmented(burst.bytes, segmentSize: 1_000, to: receiver.localAddress)
        let truncated = try #require(try receiver.readCoalesced(into: buffer.prefix(4_000)).value)
        #expect(truncated.count == 4_000)
        #expect(truncated.length == 10_000)
        #expect(truncated.isTruncated)

        // The same through a batch with GRO control space.
        var batch = try UDPMessageBatch<A>(capacity: 4, controlSpace: UDPMessageBatch<A>.groControlSpace)
        let big = testBuffers(4, size: 65_536)
        for index in 0 ..< 4 { try batch.setReceiveBuffer(big[index].raw, at: index) }
        _ = try sender.writeSegmented(burst.bytes, segmentSize: 1_000, to: receiver.localAddress)
        _ = try sender.writeTo(TestBytes(count: 77).bytes, address: receiver.localAddress)
        var messages: [UDPBatchMessage<A>] = []
        let deadline = soon()
        while messages.count < 2 && !deadline.hasPassed {
            let received = try receiver.receiveMessages(&batch, deadline: soon())
            for index in 0 ..< received.count { messages.append(try present(batch.message(at: index))) }
            if received.count > 0 {
                var kinds: [String] = []
                for message in batch.controlMessages(at: 0) {
                    if case .groSegmentSize = message { kinds.append("gro") }
                }
                #expect(kinds == (messages.count == received.count ? ["gro"] : []))
            }
        }
        #expect(messages.count == 2)
        #expect(messages.first?.count == 10_000)
        #expect(messages.first?.segmentSize == 1_000)
        #expect(messages.first?.controlLength == ControlMessageBuilder.integerSpace)
        #expect(messages.last?.count == 77)
        #expect(messages.last?.segmentSize == nil)
    }
}

@Suite("UDP batching and offload: no allocation per call")
struct UDPBatchAllocationTests {
    @Test("sendMessages + receiveMessages of 8 allocate nothing in steady state", .countingAllocations, arguments: UDPTestFamily.allCases)
    func batch(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try batch(SockaddrInet4.self)
        case .ipv6: try batch(SockaddrInet6.self)
        }
    }

    private func batch<A: UDPTestAddress>(_: A.Type) throws {
        let receiver = try udpListen(A.self)
        let sender = try udpListen(A.self)
        defer { try? receiver.close(); try? sender.close() }
        let target = receiver.localAddress
        let expected = sender.localAddress
        var outgoing = try UDPMessageBatch<A>(capacity: 8)
        var incoming = try UDPMessageBatch<A>(capacity: 8, controlSpace: UDPMessageBatch<A>.groControlSpace)
        let message = TestBytes(count: 64, fill: 1)
        let buffers = testBuffers(8, size: 2_048)
        for index in 0 ..< 8 {
            try outgoing.setMessage(message.bytes, to: target, at: index)
            try incoming.setReceiveBuffer(buffers[index].raw, at: index)
        }
        receiver.setReadDeadline(soon(30_000))
        let count = try allocations {
            // Reconfiguring a slot is part of the steady state too.
            try outgoing.setMessage(message.bytes, to: target, at: 0)
            let sent = try sender.sendMessages(&outgoing, count: 8)
            precondition(sent == .completed(8))
            var got = 0
            while got < 8 {
                got += try receiver.receiveMessages(&incoming, count: 8 - got).count
                precondition(incoming.message(at: 0)?.source == expected)
                precondition(incoming.message(at: 0)?.count == 64)
            }
        }
        #expect(count == 0)

        let wouldBlock = try allocations {
            receiver.setReadDeadline(.none)
            let result = try receiver.receiveMessages(&incoming)
            precondition(result == .wouldBlock)
        }
        #expect(wouldBlock == 0)
    }

    @Test("writeSegmented + readCoalesced allocate nothing", .countingAllocations)
    func offload() throws {
        let receiver = try udpListen(SockaddrInet4.self)
        let sender = try udpListen(SockaddrInet4.self)
        defer { try? receiver.close(); try? sender.close() }
        try receiver.setOption(.genericReceiveOffload, to: true)
        receiver.setReadDeadline(soon(30_000))
        let burst = TestBytes(count: 4_000, fill: 3)
        let buffer = TestBytes(count: 65_536)
        let target = receiver.localAddress
        let count = try allocations {
            _ = try sender.writeSegmented(burst.bytes, segmentSize: 1_000, to: target)
            let read = try receiver.readCoalesced(into: buffer.raw)
            precondition(read.value?.segmentSize == 1_000 && read.value?.count == 4_000)
        }
        #expect(count == 0)
    }
}
