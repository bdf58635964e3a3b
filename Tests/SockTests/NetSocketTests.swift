// NetSocket: sockets by number over loopback IPv4, IPv6 and Unix.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

@Suite("NetSocket: sockets by family, type and protocol")
struct NetSocketTests {
    @Test("TCP round trip with bind, listen, accept, connect, read and write", arguments: [false, true])
    func tcpRoundTrip(ipv6: Bool) throws {
        let server = try NetSocket.tcp(ipv6: ipv6)
        defer { try? server.close() }
        #expect(server.networkType == (ipv6 ? .ipv6 : .ipv4))
        #expect(server.underlyingProtocol == .stream)
        if ipv6 {
            try server.bind(to: SockaddrInet6(address: .loopback, port: 0))
        } else {
            try server.bind(to: SockaddrInet4(address: .loopback, port: 0))
        }
        try server.listen()
        let address = try server.localAddress
        #expect(address.port != 0)

        let client = try NetSocket.tcp(ipv6: ipv6)
        defer { try? client.close() }
        // Non-blocking connect: in progress (would-block) or done at once.
        var connecting = try client.connect(to: address)
        guard case .completed(let (accepted, peer)) = try server.accept(deadline: soon()) else {
            Issue.record("accept would block")
            return
        }
        defer { try? accepted.close() }
        let deadline = soon()
        while connecting.isWouldBlock && !deadline.hasPassed {
            connecting = try client.finishConnect()
        }
        #expect(!connecting.isWouldBlock)
        #expect(peer == (try client.localAddress))
        #expect(try client.remoteAddress == address)
        #expect(accepted.networkType == server.networkType)
        #expect(accepted.underlyingProtocol == .stream)

        let message = TestBytes("net socket")
        #expect(try client.write(message.bytes, deadline: soon()) == .completed(message.count))
        let buffer = TestBytes(count: 32)
        let count = try readExactly(message.count, into: buffer) { b throws(SockError) in try accepted.read(into: b, deadline: soon()) }
        #expect(buffer.string(count) == "net socket")

        try client.shutdown(.write)
        #expect(try accepted.read(into: buffer.raw, deadline: soon()) == .endOfStream)
        #expect(try accepted.read(into: buffer.prefix(0)) == .bytes(0))
    }

    @Test("a connect with a deadline waits for the outcome")
    func connectWithDeadline() throws {
        let (holder, refusing) = try refusingPort4()
        defer { try? holder.close() }
        let client = try NetSocket.tcp(ipv6: false)
        defer { try? client.close() }
        #expect(sockError { try client.connect(to: refusing, deadline: soon()) } == .connectionRefused)
    }

    @Test("UDP sockets: an empty datagram is .bytes(0), not end of stream")
    func udpDatagrams() throws {
        let a = try NetSocket.udp(ipv6: false)
        let b = try NetSocket.udp(ipv6: false)
        defer {
            try? a.close()
            try? b.close()
        }
        #expect(a.underlyingProtocol == .datagram)
        try a.bind(to: SockaddrInet4(address: .loopback, port: 0))
        try b.bind(to: SockaddrInet4(address: .loopback, port: 0))
        #expect(try !a.connect(to: try b.localAddress).isWouldBlock)
        #expect(try !b.connect(to: try a.localAddress).isWouldBlock)
        let buffer = TestBytes(count: 16)
        #expect(try b.read(into: buffer.raw) == .wouldBlock)
        #expect(try a.write(UnsafeRawBufferPointer(start: nil, count: 0)) == .completed(0))
        #expect(try b.read(into: buffer.raw, deadline: soon()) == .bytes(0))
        #expect(try a.write(TestBytes("dgram").bytes) == .completed(5))
        #expect(try b.read(into: buffer.raw, deadline: soon()) == .bytes(5))
    }

    @Test("pairs: Unix stream by default, and any type by number")
    func pairs() throws {
        let (a, b) = try NetSocket.pair()  // Go: UnixSocketPair
        defer {
            try? a.close()
            try? b.close()
        }
        #expect(a.networkType == .unix)
        #expect(a.underlyingProtocol == .stream)
        try expectNonBlockingCloseOnExec(a.descriptor, "pair first")
        try expectNonBlockingCloseOnExec(b.descriptor, "pair second")
        #expect(try a.write(TestBytes("ab").bytes) == .completed(2))
        let buffer = TestBytes(count: 4)
        #expect(try b.read(into: buffer.raw) == .bytes(2))
        try a.close()
        #expect(try b.read(into: buffer.raw) == .endOfStream)

        for type in [SockBindings.SOCK_DGRAM, SockBindings.SOCK_SEQPACKET] {
            let (c, d) = try NetSocket.pair(domain: SockBindings.AF_UNIX, type: type)
            #expect(c.underlyingProtocol == UnderlyingProtocol(socketType: type))
            try expectNonBlockingCloseOnExec(c.descriptor, "pair \(type)")
            try expectNonBlockingCloseOnExec(d.descriptor, "pair \(type)")
            try c.close()
            try d.close()
        }
    }

    @Test("adopting a descriptor asks the kernel for its family and type")
    func adopting() throws {
        let (first, second) = try Descriptor.socketPair(family: SockBindings.AF_UNIX, type: SockBindings.SOCK_SEQPACKET)
        defer { try? second.close() }
        let socket = try NetSocket(adopting: first)
        #expect(socket.networkType == .unix)
        #expect(socket.underlyingProtocol == .seqPacket)
        try socket.close()
        #expect(first.isClosed)

        let file = Descriptor(adopting: Glibc.open("/dev/null", SockBindings.O_RDONLY | SockBindings.O_CLOEXEC))
        defer { try? file.close() }
        let error = sockError { try NetSocket(adopting: file) }
        #expect(error?.errnoCode == SockBindings.ENOTSOCK)
    }

    @Test("errors: not connected, address in use, unsupported family")
    func errors() throws {
        let unix = try NetSocket.unix()
        defer { try? unix.close() }
        #expect(sockError { try unix.write(TestBytes("x").bytes) } == .notConnected)

        let first = try NetSocket.tcp(ipv6: false)
        defer { try? first.close() }
        try first.bind(to: SockaddrInet4(address: .loopback, port: 0))
        let second = try NetSocket.tcp(ipv6: false)
        defer { try? second.close() }
        #expect(sockError { try second.bind(to: try first.localAddress) } == .addressInUse)
        #expect(sockError { try second.listen(backlog: -1) } == .invalidParameter)

        #expect(sockError { try NetSocket(domain: 12345, type: SockBindings.SOCK_STREAM) } == .addressFamilyNotSupported)
        #expect(sockError {
            try NetSocket(domain: SockBindings.AF_INET, type: SockBindings.SOCK_STREAM, protocol: SockBindings.IPPROTO_UDP)
        } == .protocolNotSupported)
    }

    @Test("every descriptor created, accepted or paired is non-blocking and close-on-exec")
    func descriptorFlags() throws {
        let sockets = [
            try NetSocket.tcp(ipv6: false), try NetSocket.tcp(ipv6: true), try NetSocket.udp(ipv6: false),
            try NetSocket.udp(ipv6: true), try NetSocket.unix(), try NetSocket.unix(type: SockBindings.SOCK_DGRAM),
            try NetSocket(domain: SockBindings.AF_UNIX, type: SockBindings.SOCK_SEQPACKET),
        ]
        for socket in sockets {
            try expectNonBlockingCloseOnExec(socket.descriptor, "created \(socket.networkType) \(socket.underlyingProtocol)")
            try socket.close()
        }
        let listener = try NetSocket.unix(type: SockBindings.SOCK_STREAM)
        defer { try? listener.close() }
        try listener.bind(to: SockaddrUnix())
        try listener.listen()
        let client = try NetSocket.unix()
        defer { try? client.close() }
        _ = try client.connect(to: try listener.localAddress)
        guard case .completed(let (accepted, peer)) = try listener.accept(deadline: soon()) else {
            Issue.record("accept would block")
            return
        }
        #expect(peer == .unix(SockaddrUnix()))
        try expectNonBlockingCloseOnExec(accepted.descriptor, "accepted")
        try accepted.close()
    }

    @Test("the default backlog, network types and underlying protocols match the reference")
    func constants() {
        #expect(NetSocket.defaultBacklog == 511)
        #expect(TCPListener.defaultBacklog == 511)
        #expect(NetworkType.unix.family == 1)
        #expect(NetworkType.ipv4.family == 2)
        #expect(NetworkType.ipv6.family == 10)
        #expect(NetworkType(family: SockBindings.AF_NETLINK) == .other(family: SockBindings.AF_NETLINK))
        #expect(UnderlyingProtocol.stream.socketType == 1)
        #expect(UnderlyingProtocol.datagram.socketType == 2)
        #expect(UnderlyingProtocol.raw.socketType == 3)
        #expect(UnderlyingProtocol.seqPacket.socketType == 5)
        #expect(UnderlyingProtocol(socketType: SockBindings.SOCK_STREAM | SockBindings.SOCK_NONBLOCK) == .stream)
        #expect(ShutdownDirection.write.how == SockBindings.SHUT_WR)
    }

    @Test("takeError reads and clears SO_ERROR after a refused connect")
    func takeError() throws {
        let (holder, refusing) = try refusingPort4()
        defer { try? holder.close() }
        let client = try NetSocket.tcp(ipv6: false)
        defer { try? client.close() }
        _ = try client.connect(to: refusing)
        // Wait until the connection attempt has failed (poll shows it).
        var request = pollfd(fd: client.descriptor.rawValue, events: Int16(SockBindings.POLLOUT), revents: 0)
        _ = poll(&request, 1, 5_000)
        #expect(try client.takeError() == .connectionRefused)
        #expect(try client.takeError() == nil, "reading SO_ERROR clears it")
    }
}
