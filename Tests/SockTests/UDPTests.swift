// UDPSocket and UDPConn over loopback IPv4 and IPv6: round trips, datagram
// semantics (empty datagrams, truncation), would-block and deadlines, the
// errors the kernel produces for UDP, options, descriptor flags and leaks.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

// MARK: - Helpers (shared with UDPAllocationTests.swift)

/// The two IP families every UDP test runs over.
enum UDPTestFamily: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case ipv4, ipv6
    var testDescription: String { rawValue }
}

/// An IP socket-address type with a loopback address for the UDP tests.
protocol UDPTestAddress: IPSocketAddress {
    /// The loopback address (127.0.0.1 or ::1) with `port`.
    static func loopback(port: UInt16) -> Self
}

extension SockaddrInet4: UDPTestAddress {
    static func loopback(port: UInt16) -> SockaddrInet4 { SockaddrInet4(address: .loopback, port: port) }
}

extension SockaddrInet6: UDPTestAddress {
    static func loopback(port: UInt16) -> SockaddrInet6 { SockaddrInet6(address: .loopback, port: port) }
}

/// A UDP socket listening on loopback, on an ephemeral port.
func udpListen<A: UDPTestAddress>(_: A.Type) throws(SockError) -> UDPConn<A> {
    try UDPConn.listen(on: A.loopback(port: 0))
}

/// Sends `bytes` as one datagram to `address`.
@discardableResult
func udpSend<A: UDPTestAddress>(_ conn: UDPConn<A>, _ bytes: [UInt8], to address: A) throws -> IOResult<Int> {
    try bytes.withUnsafeBytes { raw throws(SockError) in try conn.writeTo(raw, address: address) }
}

/// Sends `bytes` as one datagram on a connected socket.
@discardableResult
func udpSend<A: UDPTestAddress>(_ conn: UDPConn<A>, _ bytes: [UInt8]) throws -> IOResult<Int> {
    try bytes.withUnsafeBytes { raw throws(SockError) in try conn.write(raw) }
}

/// Reads one datagram into a buffer of `capacity` bytes; returns the result
/// and the stored bytes.
func udpReceive<A: UDPTestAddress>(
    _ conn: UDPConn<A>, capacity: Int = 2_048
) throws -> (IOResult<UDPRead<A>>, [UInt8]) {
    var buffer = [UInt8](repeating: 0, count: capacity)
    let result = try buffer.withUnsafeMutableBytes { raw throws(SockError) in try conn.readDatagram(into: raw) }
    return (result, Array(buffer.prefix(result.value?.count ?? 0)))
}

/// A loopback port that nothing listens on (bound once, then closed).
func udpClosedPort<A: UDPTestAddress>(_: A.Type) throws(SockError) -> UInt16 {
    let probe = try udpListen(A.self)
    let port = probe.localAddress.port
    try probe.close()
    return port
}

/// Whether `fd` is non-blocking and close-on-exec, asked of the kernel.
func udpFlagsAreSet(_ fd: CInt) -> Bool {
    Glibc.fcntl(fd, SockBindings.F_GETFL) & SockBindings.O_NONBLOCK != 0
        && Glibc.fcntl(fd, SockBindings.F_GETFD) & SockBindings.FD_CLOEXEC != 0
}

let udpHello = Array("hello world".utf8)  // 11 bytes

// MARK: - Tests

/// UDP over loopback. Serialized: it counts open descriptors and measures
/// deadlines.
@Suite("UDP", .serialized, .exclusiveLoad)
struct UDPTests {
    // MARK: Round trips

    @Test("unconnected round trip: writeTo and readFrom, both addresses checked", arguments: UDPTestFamily.allCases)
    func unconnectedRoundTrip(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try unconnectedRoundTrip(SockaddrInet4.self)
        case .ipv6: try unconnectedRoundTrip(SockaddrInet6.self)
        }
    }

    private func unconnectedRoundTrip<A: UDPTestAddress>(_: A.Type) throws {
        let server = try udpListen(A.self)
        let client = try udpListen(A.self)
        defer { try? server.close(); try? client.close() }
        #expect(server.localAddress.port != 0)
        #expect(server.localAddress == A.loopback(port: server.localAddress.port))
        #expect(server.remoteAddress == nil)
        #expect(client.remoteAddress == nil)
        server.setReadDeadline(.after(.seconds(2)))
        client.setReadDeadline(.after(.seconds(2)))

        #expect(try udpSend(client, udpHello, to: server.localAddress) == .completed(11))
        var buffer = [UInt8](repeating: 0, count: 64)
        let request = try buffer.withUnsafeMutableBytes { raw throws(SockError) in try server.readFrom(into: raw) }
        let (count, from) = try #require(request.value)
        #expect(count == 11)
        #expect(Array(buffer.prefix(count)) == udpHello)
        #expect(from == client.localAddress)

        let reply = Array("pong".utf8)
        #expect(try udpSend(server, reply, to: from) == .completed(4))
        let (answer, bytes) = try udpReceive(client)
        let datagram = try #require(answer.value)
        #expect(datagram.count == 4 && datagram.length == 4 && !datagram.isTruncated)
        #expect(datagram.from == server.localAddress)
        #expect(bytes == reply)
    }

    @Test("connected round trip: dial, write, read; remote and local addresses", arguments: UDPTestFamily.allCases)
    func connectedRoundTrip(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try connectedRoundTrip(SockaddrInet4.self)
        case .ipv6: try connectedRoundTrip(SockaddrInet6.self)
        }
    }

    private func connectedRoundTrip<A: UDPTestAddress>(_: A.Type) throws {
        let server = try udpListen(A.self)
        let client = try UDPConn.dial(to: server.localAddress)
        defer { try? server.close(); try? client.close() }
        #expect(client.remoteAddress == server.localAddress)
        #expect(client.localAddress.port != 0)
        #expect(client.localAddress == A.loopback(port: client.localAddress.port))
        server.setReadDeadline(.after(.seconds(2)))
        client.setDeadline(.after(.seconds(2)))

        #expect(try udpSend(client, udpHello) == .completed(11))
        let (request, bytes) = try udpReceive(server)
        #expect(try #require(request.value).from == client.localAddress)
        #expect(bytes == udpHello)

        #expect(try udpSend(server, [1, 2, 3], to: client.localAddress) == .completed(3))
        var buffer = [UInt8](repeating: 0, count: 16)
        let reply = try buffer.withUnsafeMutableBytes { raw throws(SockError) in try client.read(into: raw) }
        #expect(reply == .completed(3))
        #expect(Array(buffer.prefix(3)) == [1, 2, 3])

        // Dialing from a chosen local address binds it first.
        let chosen = A.loopback(port: try udpClosedPort(A.self))
        let pinned = try UDPConn.dial(to: server.localAddress, from: chosen)
        defer { try? pinned.close() }
        #expect(pinned.localAddress == chosen)
        #expect(try udpSend(pinned, [9]) == .completed(1))
        #expect(try #require(try udpReceive(server).0.value).from == chosen)
    }

    @Test("a connected socket receives only from its peer")
    func connectedFiltersSenders() throws {
        let server = try udpListen(SockaddrInet4.self)
        let client = try UDPConn.dial(to: server.localAddress)
        let stranger = try udpListen(SockaddrInet4.self)
        defer { try? server.close(); try? client.close(); try? stranger.close() }
        #expect(try udpSend(stranger, [7], to: client.localAddress) == .completed(1))
        #expect(try udpSend(server, [8], to: client.localAddress) == .completed(1))
        client.setReadDeadline(.after(.seconds(2)))
        let (first, bytes) = try udpReceive(client)
        #expect(try #require(first.value).from == server.localAddress)
        #expect(bytes == [8])
        client.setReadDeadline(.none)
        #expect(try udpReceive(client).0.isWouldBlock)
    }

    @Test("an IPv6 socket on :: receives IPv4 datagrams from IPv4-mapped addresses")
    func dualStack() throws {
        let server = try UDPConn.listen(on: SockaddrInet6(address: .any, port: 0))
        let client = try udpListen(SockaddrInet4.self)
        defer { try? server.close(); try? client.close() }
        #expect(try !server.option(.ipv6Only))
        let target = SockaddrInet4(address: .loopback, port: server.localAddress.port)
        #expect(try udpSend(client, udpHello, to: target) == .completed(11))
        server.setReadDeadline(.after(.seconds(2)))
        let from = try #require(try udpReceive(server).0.value).from
        #expect(from.address == IPv6Address(ipv4Mapped: .loopback))
        #expect(from.port == client.localAddress.port)
    }

    @Test("a socket configured before binding: IPv6-only refuses IPv4 traffic")
    func configuredSocket() throws {
        let socket = try UDPSocket<SockaddrInet6>()
        try socket.setOption(.ipv6Only, to: true)
        let server = try UDPConn.listen(on: SockaddrInet6(address: .any, port: 0), socket: socket)
        defer { try? server.close() }
        #expect(server.descriptor === socket.descriptor)
        #expect(try server.option(.ipv6Only))
        // Nothing listens on 0.0.0.0 at that port, so the IPv4 datagram is lost.
        let client = try UDPConn.dial(to: SockaddrInet4(address: .loopback, port: server.localAddress.port))
        defer { try? client.close() }
        _ = try udpSend(client, [1])
        server.setReadDeadline(.after(.milliseconds(20)))
        #expect(throws: SockError.timedOut) { _ = try udpReceive(server) }
    }

    // MARK: Datagram semantics

    @Test("a 0-byte datagram is .completed(0), not end of stream", arguments: UDPTestFamily.allCases)
    func emptyDatagram(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try emptyDatagram(SockaddrInet4.self)
        case .ipv6: try emptyDatagram(SockaddrInet6.self)
        }
    }

    private func emptyDatagram<A: UDPTestAddress>(_: A.Type) throws {
        let server = try udpListen(A.self)
        let client = try UDPConn.dial(to: server.localAddress)
        defer { try? server.close(); try? client.close() }
        server.setReadDeadline(.after(.seconds(2)))
        for _ in 0..<3 {
            #expect(try udpSend(client, []) == .completed(0))
        }
        var buffer = [UInt8](repeating: 0, count: 16)
        let read = try buffer.withUnsafeMutableBytes { raw throws(SockError) in try server.read(into: raw) }
        #expect(read == .completed(0))
        let readFrom = try buffer.withUnsafeMutableBytes { raw throws(SockError) in try server.readFrom(into: raw) }
        #expect(readFrom.value?.count == 0)
        #expect(readFrom.value?.from == client.localAddress)
        let datagram = try #require(try udpReceive(server).0.value)
        #expect(datagram.count == 0 && datagram.length == 0 && !datagram.isTruncated)
        server.setReadDeadline(.none)
        #expect(try udpReceive(server).0.isWouldBlock)
    }

    @Test("an 11-byte datagram into a 4-byte buffer is reported truncated", arguments: UDPTestFamily.allCases)
    func truncation(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try truncation(SockaddrInet4.self)
        case .ipv6: try truncation(SockaddrInet6.self)
        }
    }

    private func truncation<A: UDPTestAddress>(_: A.Type) throws {
        let server = try udpListen(A.self)
        let client = try UDPConn.dial(to: server.localAddress)
        defer { try? server.close(); try? client.close() }
        server.setReadDeadline(.after(.seconds(2)))
        try udpSend(client, udpHello)
        try udpSend(client, udpHello)

        let (result, bytes) = try udpReceive(server, capacity: 4)
        let datagram = try #require(result.value)
        #expect(datagram.count == 4)
        #expect(datagram.length == 11)
        #expect(datagram.isTruncated)
        #expect(bytes == Array("hell".utf8))
        #expect(datagram.from == client.localAddress)

        // read(into:) stores 4 bytes and drops the rest of the datagram too.
        var small = [UInt8](repeating: 0, count: 4)
        let read = try small.withUnsafeMutableBytes { raw throws(SockError) in try server.read(into: raw) }
        #expect(read == .completed(4))
        server.setReadDeadline(.none)
        #expect(try udpReceive(server).0.isWouldBlock)

        // An empty buffer consumes one datagram and reports its length.
        try udpSend(client, udpHello)
        server.setReadDeadline(.after(.seconds(2)))
        let empty = try #require(try udpReceive(server, capacity: 0).0.value)
        #expect(empty.count == 0 && empty.length == 11 && empty.isTruncated)
        server.setReadDeadline(.none)
        #expect(try udpReceive(server).0.isWouldBlock)

        // A datagram that fits exactly is not truncated.
        try udpSend(client, [1, 2, 3, 4])
        server.setReadDeadline(.after(.seconds(2)))
        let exact = try #require(try udpReceive(server, capacity: 4).0.value)
        #expect(exact.count == 4 && exact.length == 4 && !exact.isTruncated)
    }

    // MARK: Would-block and deadlines

    @Test("without a deadline an empty socket reports would-block at once, 0 bytes", arguments: UDPTestFamily.allCases)
    func wouldBlock(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try wouldBlock(SockaddrInet4.self)
        case .ipv6: try wouldBlock(SockaddrInet6.self)
        }
    }

    private func wouldBlock<A: UDPTestAddress>(_: A.Type) throws {
        let server = try udpListen(A.self)
        defer { try? server.close() }
        #expect(server.deadlines.readDeadline == .none)
        var buffer = [UInt8](repeating: 0, count: 16)
        let start = now()
        let read = try buffer.withUnsafeMutableBytes { raw throws(SockError) in try server.read(into: raw) }
        let readFrom = try buffer.withUnsafeMutableBytes { raw throws(SockError) in try server.readFrom(into: raw) }
        let datagram = try udpReceive(server).0
        #expect(now() - start < lateBound)  // did not wait
        #expect(read == .wouldBlock)
        #expect(read.count == 0)
        #expect(readFrom.isWouldBlock)
        #expect(datagram.isWouldBlock)
    }

    @Test("a 20 ms read deadline: .timedOut, not before the deadline, not absurdly late", arguments: UDPTestFamily.allCases)
    func readDeadline(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try readDeadline(SockaddrInet4.self)
        case .ipv6: try readDeadline(SockaddrInet6.self)
        }
    }

    private func readDeadline<A: UDPTestAddress>(_: A.Type) throws {
        let server = try udpListen(A.self)
        defer { try? server.close() }
        var buffer = [UInt8](repeating: 0, count: 16)
        let start = now()
        let deadline = Deadline.after(.milliseconds(20))
        server.setReadDeadline(deadline)
        #expect(throws: SockError.timedOut) {
            _ = try buffer.withUnsafeMutableBytes { raw throws(SockError) in try server.readFrom(into: raw) }
        }
        expectDeadlineHeld(start: start, deadline: deadline.nanoseconds, end: now())
        // Clearing the deadline makes reads non-blocking again.
        server.setDeadline(.none)
        let read = try buffer.withUnsafeMutableBytes { raw throws(SockError) in try server.read(into: raw) }
        #expect(read == .wouldBlock)
    }

    @Test("a read waiting on its deadline returns a datagram that arrives meanwhile")
    func deadlineWakesOnData() throws {
        let server = try udpListen(SockaddrInet6.self)
        let client = try UDPConn.dial(to: server.localAddress)
        defer { try? server.close(); try? client.close() }
        let sender = TestThread {
            sleep(nanoseconds: 5_000_000)
            _ = try? udpSend(client, udpHello)
        }
        defer { sender.join() }
        server.setReadDeadline(.after(.seconds(5)))
        let start = now()
        let datagram = try #require(try udpReceive(server).0.value)
        #expect(datagram.count == 11)
        #expect(now() - start < 1_000_000_000)
    }

    // MARK: Errors

    @Test("a 70,000-byte datagram is messageTooLarge (EMSGSIZE)", arguments: UDPTestFamily.allCases)
    func messageTooLarge(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try messageTooLarge(SockaddrInet4.self)
        case .ipv6: try messageTooLarge(SockaddrInet6.self)
        }
    }

    private func messageTooLarge<A: UDPTestAddress>(_: A.Type) throws {
        let server = try udpListen(A.self)
        let client = try UDPConn.dial(to: server.localAddress)
        defer { try? server.close(); try? client.close() }
        let huge = [UInt8](repeating: 0x55, count: 70_000)
        let error = try #require(throws: SockError.self) { try udpSend(server, huge, to: client.localAddress) }
        #expect(error == .messageTooLarge)
        #expect(error.errnoCode == SockBindings.EMSGSIZE)
        #expect(throws: SockError.messageTooLarge) { try udpSend(client, huge) }
    }

    @Test("write on an unconnected socket is notConnected", arguments: UDPTestFamily.allCases)
    func notConnected(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try notConnected(SockaddrInet4.self)
        case .ipv6: try notConnected(SockaddrInet6.self)
        }
    }

    private func notConnected<A: UDPTestAddress>(_: A.Type) throws {
        let server = try udpListen(A.self)
        defer { try? server.close() }
        let error = try #require(throws: SockError.self) { try udpSend(server, udpHello) }
        #expect(error == SockError(code: .notConnected, errnoCode: SockBindings.EDESTADDRREQ))
    }

    @Test("ICMP port unreachable makes the next read of a connected socket connectionRefused",
          arguments: UDPTestFamily.allCases)
    func connectionRefused(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try connectionRefused(SockaddrInet4.self)
        case .ipv6: try connectionRefused(SockaddrInet6.self)
        }
    }

    private func connectionRefused<A: UDPTestAddress>(_: A.Type) throws {
        let client = try UDPConn.dial(to: A.loopback(port: try udpClosedPort(A.self)))
        defer { try? client.close() }
        #expect(try udpSend(client, udpHello) == .completed(11))
        client.setReadDeadline(.after(.seconds(2)))
        let error = try #require(throws: SockError.self) { _ = try udpReceive(client) }
        #expect(error == .connectionRefused)
        #expect(error.errnoCode == SockBindings.ECONNREFUSED)
        // The error was reported once and cleared.
        #expect(try client.takeError() == nil)
        client.setReadDeadline(.none)
        #expect(try udpReceive(client).0.isWouldBlock)

        // Unread, the error stays pending for the socket's next operation.
        #expect(try udpSend(client, udpHello) == .completed(11))
        sleep(nanoseconds: 5_000_000)
        #expect(try client.takeError() == .connectionRefused)
    }

    @Test("operations after close throw closed; close is idempotent")
    func closed() throws {
        let server = try udpListen(SockaddrInet4.self)
        #expect(!server.isClosed)
        try server.close()
        try server.close()
        #expect(server.isClosed)
        #expect(throws: SockError.closed) { _ = try udpReceive(server) }
        #expect(throws: SockError.closed) { try udpSend(server, udpHello, to: server.localAddress) }
        #expect(throws: SockError.closed) { try server.setOption(.broadcast, to: true) }
    }

    @Test("close() on another thread wakes a read blocked without a deadline limit", arguments: UDPTestFamily.allCases)
    func concurrentClose(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try concurrentClose(SockaddrInet4.self)
        case .ipv6: try concurrentClose(SockaddrInet6.self)
        }
    }

    private func concurrentClose<A: UDPTestAddress>(_: A.Type) throws {
        // Unconnected: shutdown(2) fails with ENOTCONN there, yet still wakes
        // the waiting ppoll (POLLHUP), which the close relies on.
        let server = try udpListen(A.self)
        server.setReadDeadline(.never)
        let failure = Slot<SockError>()
        let reader = TestThread {
            do throws(SockError) {
                var byte: UInt8 = 0
                _ = try withUnsafeMutableBytes(of: &byte) { raw throws(SockError) in try server.readFrom(into: raw) }
            } catch {
                failure.set(error)
            }
        }
        sleep(nanoseconds: 20_000_000)  // let the reader reach ppoll
        let start = now()
        try server.close()
        reader.join()
        #expect(now() - start < 1_000_000_000)
        #expect(failure.value == SockError.closed)
    }

    // MARK: Options

    @Test("broadcast: off by default, set and read back; sending to a broadcast address needs it")
    func broadcast() throws {
        let conn = try udpListen(SockaddrInet4.self)
        defer { try? conn.close() }
        #expect(try !conn.option(.broadcast))
        // Refused locally (EACCES) before anything is sent.
        let target = SockaddrInet4(address: .broadcast, port: 9)
        #expect(throws: SockError.permissionDenied) { try udpSend(conn, [1], to: target) }
        try conn.setOption(.broadcast, to: true)
        #expect(try conn.option(.broadcast))
        try conn.setOption(.broadcast, to: false)
        #expect(try !conn.option(.broadcast))

        let socket6 = try UDPSocket<SockaddrInet6>()
        try socket6.setOption(.broadcast, to: true)
        #expect(try socket6.option(.broadcast))
    }

    @Test("defaults and option round trips (buffers, reuse, zero-copy, TOS/TTL, traffic class/hop limit)")
    func options() throws {
        let v4 = try udpListen(SockaddrInet4.self)
        let v6 = try udpListen(SockaddrInet6.self)
        defer { try? v4.close(); try? v6.close() }
        #expect(v4.underlyingProtocol == .datagram && v6.underlyingProtocol == .datagram)
        #expect(v4.networkType == .ipv4 && v6.networkType == .ipv6)
        #expect(try v6.option(.socketType) == Int(SockBindings.SOCK_DGRAM))
        #expect(try v6.option(.socketProtocol) == Int(SockBindings.IPPROTO_UDP))

        // The reference's defaults.
        #expect(try v4.option(.reuseAddress) && v4.option(.reusePort))
        #expect(try v6.option(.reuseAddress) && v6.option(.reusePort))
        #expect(try v4.option(.zeroCopy))  // Linux >= 5.0; the test machine runs 6.x

        try v4.setOption(.reuseAddress, to: false)
        try v4.setOption(.reusePort, to: false)
        #expect(try !v4.option(.reuseAddress) && !v4.option(.reusePort))
        try v4.setOption(.zeroCopy, to: false)
        #expect(try !v4.option(.zeroCopy))

        // The kernel doubles buffer sizes.
        try v4.setOption(.receiveBufferSize, to: 4_096)
        #expect(try v4.option(.receiveBufferSize) == 8_192)
        try v6.setOption(.sendBufferSize, to: 16_384)
        #expect(try v6.option(.sendBufferSize) == 32_768)
        #expect(throws: SockError.invalidParameter) { try v4.setOption(.receiveBufferSize, to: -1) }
        #expect(throws: SockError.invalidParameter) { try v4.setOption(.sendBufferSize, to: Int(Int32.max) + 1) }

        try v4.setOption(.typeOfService, to: 0x20)
        #expect(try v4.option(.typeOfService) == 0x20)
        try v4.setOption(.timeToLive, to: 7)
        #expect(try v4.option(.timeToLive) == 7)
        #expect(throws: SockError.invalidParameter) { try v4.setOption(.timeToLive, to: 256) }

        try v6.setOption(.trafficClass, to: 0x28)
        #expect(try v6.option(.trafficClass) == 0x28)
        try v6.setOption(.unicastHopLimit, to: 9)
        #expect(try v6.option(.unicastHopLimit) == 9)
        #expect(throws: SockError.invalidParameter) { try v6.setOption(.unicastHopLimit, to: 300) }
        #expect(try v6.takeError() == nil)
    }

    // MARK: Descriptors

    @Test("every descriptor is non-blocking and close-on-exec", arguments: UDPTestFamily.allCases)
    func descriptorFlags(family: UDPTestFamily) throws {
        switch family {
        case .ipv4: try descriptorFlags(SockaddrInet4.self)
        case .ipv6: try descriptorFlags(SockaddrInet6.self)
        }
    }

    private func descriptorFlags<A: UDPTestAddress>(_: A.Type) throws {
        let socket = try UDPSocket<A>()
        let server = try udpListen(A.self)
        let client = try UDPConn.dial(to: server.localAddress)
        let pinned = try UDPConn.dial(to: server.localAddress, from: A.loopback(port: 0))
        defer { for conn in [server, client, pinned] { try? conn.close() } }
        for descriptor in [socket.descriptor, server.descriptor, client.descriptor, pinned.descriptor] {
            #expect(udpFlagsAreSet(descriptor.rawValue), "\(descriptor)")
            #expect(try descriptor.isNonBlocking && descriptor.isCloseOnExec)
        }
    }

    @Test("no descriptor leaks over 1,000 open/close cycles")
    func noLeak() throws {
        let before = openDescriptorCount()
        for index in 0..<1_000 {
            if index.isMultiple(of: 2) {
                let server = try udpListen(SockaddrInet4.self)
                let client = try UDPConn.dial(to: server.localAddress)
                try client.close()
                try server.close()
            } else {
                // Never closed explicitly: the last reference closes.
                let server = try udpListen(SockaddrInet6.self)
                _ = try UDPConn.dial(to: server.localAddress)
                _ = try UDPSocket<SockaddrInet6>()
            }
        }
        let after = openDescriptorCount()
        // A leak would add at least 500; the slack absorbs descriptors that
        // suites in other files open meanwhile.
        #expect(after - before < 16, "before \(before), after \(after)")
    }
}
