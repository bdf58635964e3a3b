// The compatibility layer: generic code over Conn / StreamConn / Listener /
// PacketConn exercised with TCP, Unix and UDP; the resolve functions for every
// Go network string; address conversions; ReadMsgUDP/WriteMsgUDP with real
// control data; descriptor and credential passing through a UnixConn;
// GetSockname/GetPeername; and no allocation through the protocols.
#if canImport(Glibc)
import Glibc
#endif
import Sock
import SockBindings
import SockTestSupport
import Testing

// MARK: - Generic code written only against the protocols

/// Writes all of `message` through `client` and reads as many bytes through
/// `server` (one write and one read for datagram sockets). The callers set
/// deadlines, so neither loop spins on would-block.
func exchange<Client: Conn, Server: Conn>(
    _ message: UnsafeRawBufferPointer, from client: Client, to server: Server,
    into buffer: UnsafeMutableRawBufferPointer
) throws(SockError) -> Int {
    var sent = 0
    repeat {
        sent += try client.write(UnsafeRawBufferPointer(rebasing: message[sent...])).count
    } while sent < message.count
    var received = 0
    repeat {
        let result = try server.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[received...]))
        if result.isEndOfStream { break }
        received += result.count
    } while received < message.count
    return received
}

/// Sets generous deadlines on both ends through the protocol.
func armDeadlines<A: Conn, B: Conn>(_ a: A, _ b: B) {
    a.setDeadline(soon())
    b.setReadDeadline(soon())
    b.setWriteDeadline(soon())
}

/// "local -> remote" of any connection, through the protocol.
func endpoints<C: Conn>(_ conn: C) throws(SockError) -> String {
    "\(try conn.localAddress) -> \(try conn.remoteAddress)"
}

/// Reads a stream to its end; returns the byte count.
func drain<C: StreamConn>(_ conn: C, into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> Int {
    conn.setReadDeadline(soon())
    var total = 0
    while true {
        switch try conn.read(into: buffer) {
        case .bytes(let count): total += count
        case .endOfStream: return total
        case .wouldBlock: return -1  // impossible with a deadline
        }
    }
}

/// Accepts one connection from any listener.
func acceptOne<L: Listener>(_ listener: L) throws(SockError) -> L.Connection {
    listener.setDeadline(soon())
    guard case .completed(let conn) = try listener.accept() else { throw .wouldBlock }
    return conn
}

/// Reads one datagram from any packet socket and sends it back to its
/// sender; returns the sender.
func reflectOne<P: PacketConn>(_ conn: P, buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> P.Address {
    conn.setDeadline(soon())
    guard case .completed(let got) = try conn.readFrom(into: buffer) else { throw .wouldBlock }
    _ = try conn.writeTo(UnsafeRawBufferPointer(rebasing: buffer[0 ..< got.count]), address: got.from)
    return got.from
}

func isConn<C: Conn>(_: C.Type) -> Bool { true }
func isStreamConn<C: StreamConn>(_: C.Type) -> Bool { true }
func isPacketConn<P: PacketConn>(_: P.Type) -> Bool { true }
func isListener<L: Listener>(_: L.Type) -> Bool { true }

/// Two connected UDP sockets on IPv4 loopback.
func udpPair4() throws -> (UDPConn<SockaddrInet4>, UDPConn<SockaddrInet4>) {
    // A free port for `a`, then `b` dialled to it and `a` dialled back from
    // it (UDP sockets get SO_REUSEPORT, so the port can be bound again).
    let probe = try UDPConn.listen(on: SockaddrInet4(address: .loopback, port: 0))
    let b = try UDPConn.dial(to: probe.localAddress, from: SockaddrInet4(address: .loopback, port: 0))
    let a = try UDPConn.dial(to: b.localAddress, from: probe.localAddress)
    try probe.close()
    return (a, b)
}

@Suite("Compatibility: Conn, Listener, PacketConn, resolution, conversions")
struct CompatibilityTests {
    // MARK: Protocols

    @Test("every socket type conforms to the protocols that fit it")
    func conformances() {
        #expect(isStreamConn(TCPConn.self) && isStreamConn(UnixConn.self) && isStreamConn(SCTPConn.self))
        #expect(isConn(UDPConn<SockaddrInet4>.self) && isConn(UDPConn<SockaddrInet6>.self) && isConn(RawConn.self))
        #expect(isPacketConn(UDPConn<SockaddrInet6>.self) && isPacketConn(UnixConn.self) && isPacketConn(RawConn.self))
        #expect(isListener(TCPListener.self) && isListener(UnixListener.self) && isListener(SCTPListener.self))
    }

    @Test("one generic exchange over TCP, Unix stream, Unix datagram, Unix seqpacket and UDP")
    func genericExchange() throws {
        let message = TestBytes("generic over every conn")
        let input = TestBytes(count: 64)

        let (tcpClient, tcpServer) = try tcpPair4()
        defer { try? tcpClient.close(); try? tcpServer.close() }
        armDeadlines(tcpClient, tcpServer)
        #expect(try exchange(message.bytes, from: tcpClient, to: tcpServer, into: input.raw) == message.count)
        #expect(input.string(message.count) == "generic over every conn")
        #expect(try endpoints(tcpClient).hasSuffix("-> \(tcpServer.localAddress)"))

        for network in [UnixNetwork.stream, .datagram, .seqPacket] {
            let (a, b) = try UnixConn.pair(network)
            defer { try? a.close(); try? b.close() }
            armDeadlines(a, b)
            #expect(try exchange(message.bytes, from: a, to: b, into: input.raw) == message.count, "\(network)")
            #expect(try exchange(message.bytes, from: b, to: a, into: input.raw) == message.count, "\(network)")
        }

        let (udpA, udpB) = try udpPair4()
        defer { try? udpA.close(); try? udpB.close() }
        armDeadlines(udpA, udpB)
        #expect(try exchange(message.bytes, from: udpA, to: udpB, into: input.raw) == message.count)
        #expect(try exchange(message.bytes, from: udpB, to: udpA, into: input.raw) == message.count)
        // An optional peer (a UDP socket may be unconnected) prints as one.
        #expect(try endpoints(udpB) == "\(udpB.localAddress) -> Optional(\(udpA.localAddress))")
    }

    @Test("a generic StreamConn drain sees end of stream on TCP and Unix")
    func genericDrain() throws {
        let message = TestBytes("until the end")
        let input = TestBytes(count: 64)
        let (tcpClient, tcpServer) = try tcpPair4()
        defer { try? tcpClient.close(); try? tcpServer.close() }
        try writeAll(message.bytes, tcpClient.write)
        try tcpClient.shutdown(.write)
        #expect(try drain(tcpServer, into: input.raw) == message.count)

        let (a, b) = try UnixConn.pair()
        defer { try? b.close() }
        try writeAll(message.bytes, a.write)
        try a.close()
        #expect(try drain(b, into: input.raw) == message.count)
    }

    @Test("a generic accept from TCP and Unix listeners")
    func genericAccept() throws {
        let tcp = try listener4()
        defer { try? tcp.close() }
        let client = try TCPDialer(timeout: .seconds(5)).dial(to: tcp.address)
        defer { try? client.close() }
        let server = try acceptOne(tcp)
        defer { try? server.close() }
        #expect(server.remoteAddress == (try client.localAddress))

        let unix = try UnixListener.listen(on: SockaddrUnix(path: uniqueAbstractName("compat")))
        defer { try? unix.close() }
        let unixClient = try UnixConn.dial(to: unix.address)
        defer { try? unixClient.close() }
        let unixServer = try acceptOne(unix)
        defer { try? unixServer.close() }
        let message = TestBytes("hello")
        let input = TestBytes(count: 8)
        armDeadlines(unixClient, unixServer)
        #expect(try exchange(message.bytes, from: unixClient, to: unixServer, into: input.raw) == 5)
    }

    @Test("a generic PacketConn reflector over UDP and Unix datagrams")
    func genericPacketConn() throws {
        let message = TestBytes("ping")
        let input = TestBytes(count: 16)

        let server = try UDPConn.listen(on: SockaddrInet4(address: .loopback, port: 0))
        defer { try? server.close() }
        let client = try UDPConn.dial(to: server.localAddress)
        defer { try? client.close() }
        client.setDeadline(soon())
        _ = try client.write(message.bytes)
        #expect(try reflectOne(server, buffer: input.raw) == client.localAddress)
        #expect(try client.read(into: input.raw) == .completed(4))

        let unixServer = try UnixConn.listenDatagram(on: SockaddrUnix(path: uniqueAbstractName("reflect")))
        defer { try? unixServer.close() }
        let unixClient = try UnixConn.listenDatagram(on: SockaddrUnix())  // autobind, so it can be answered
        defer { try? unixClient.close() }
        unixClient.setDeadline(soon())
        _ = try unixClient.writeTo(message.bytes, address: unixServer.localAddress)
        #expect(try reflectOne(unixServer, buffer: input.raw) == unixClient.localAddress)
        guard case .completed(let echoed) = try unixClient.readFrom(into: input.raw) else {
            Issue.record("no echo")
            return
        }
        #expect(echoed.count == 4)
        #expect(echoed.from == (try unixServer.localAddress))
    }

    // MARK: Resolution (Go: ResolveTCPAddr, ResolveUDPAddr, ResolveIPAddr, ResolveUnixAddr)

    @Test("TCP and UDP network names resolve numeric, named and wildcard hosts")
    func resolveTCPAndUDP() throws {
        let loopback4 = AnySocketAddress.inet4(SockaddrInet4(address: .loopback, port: 80))
        let loopback6 = AnySocketAddress.inet6(SockaddrInet6(address: .loopback, port: 80))
        for name in ["tcp", "tcp4", "udp", "udp4"] {
            let resolve = try Self.resolver(name)
            #expect(try resolve("127.0.0.1:80") == loopback4, "\(name)")
            #expect(try resolve("localhost:80") == loopback4, "\(name)")
            #expect(try resolve(":80") == .inet4(SockaddrInet4(address: .any, port: 80)), "\(name)")
        }
        for name in ["tcp", "tcp6", "udp", "udp6"] {
            let resolve = try Self.resolver(name)
            #expect(try resolve("[::1]:80") == loopback6, "\(name)")
        }
        for name in ["tcp6", "udp6"] {
            let resolve = try Self.resolver(name)
            #expect(try resolve(":80") == .inet6(SockaddrInet6(address: .any, port: 80)), "\(name)")
            #expect(Self.resolveCode { try resolve("127.0.0.1:80") } == .hostNotFound, "\(name)")
        }
        for name in ["tcp4", "udp4"] {
            let resolve = try Self.resolver(name)
            #expect(Self.resolveCode { try resolve("[::1]:80") } == .hostNotFound, "\(name)")
        }
        // Malformed text: no port, a port out of range, an unbracketed IPv6 address.
        for text in ["127.0.0.1", "127.0.0.1:65536", "::1:80"] {
            #expect(Self.resolveCode { try TCPNetwork.tcp.resolve(text) } == .invalidInput, "\(text)")
        }
        // A zone survives.
        let lo = if_nametoindex("lo")
        #expect(try UDPNetwork("udp6").resolve("[fe80::1%lo]:53") == .inet6(SockaddrInet6(
            address: try IPv6Address("fe80::1"), port: 53, scopeID: lo)))
        #expect(try TCPNetwork.tcp.resolve(host: "127.0.0.1", port: 8080) == .inet4(SockaddrInet4(address: .loopback, port: 8080)))
        #expect(try UDPNetwork.udp6.resolve(host: "::1", port: 9) == .inet6(SockaddrInet6(address: .loopback, port: 9)))
        #expect(TCPNetwork.allCases.map(\.description) == ["tcp", "tcp4", "tcp6"])
        #expect(UDPNetwork.allCases.map(\.family) == [SockBindings.AF_UNSPEC, SockBindings.AF_INET, SockBindings.AF_INET6])
    }

    @Test("IP network names, with and without a protocol, resolve hosts to IP addresses")
    func resolveIP() throws {
        for name in ["ip", "ip4", "ip4:icmp", "ip:1", "ip4:udp"] {
            #expect(try IPNetwork(name).resolve("127.0.0.1") == .ipv4(.loopback), "\(name)")
            #expect(try IPNetwork(name).resolve("localhost") == .ipv4(.loopback), "\(name)")
        }
        for name in ["ip", "ip6", "ip6:ipv6-icmp", "ip6:58"] {
            #expect(try IPNetwork(name).resolve("::1") == .ipv6(.loopback, scopeID: 0), "\(name)")
        }
        #expect(try IPNetwork("ip6").resolve("fe80::1%lo") == .ipv6(try IPv6Address("fe80::1"), scopeID: if_nametoindex("lo")))
        #expect(try IPNetwork("ip").resolve("") == .ipv4(.any))
        #expect(try IPNetwork("ip6").resolve("") == .ipv6(.any, scopeID: 0))
        #expect(Self.resolveCode { try IPNetwork("ip6").resolve("127.0.0.1") } == .hostNotFound)
        #expect(try IPNetwork("ip4:icmp").protocolNumber == SockBindings.IPPROTO_ICMP)
        #expect(try IPNetwork("ip6:ipv6-icmp").protocolNumber == SockBindings.IPPROTO_ICMPV6)
        #expect(try IPNetwork("ip").protocolNumber == nil)
        #expect(try IPNetwork("ip6:ipv6-icmp").description == "ip6:58")
        #expect(try IPNetwork("ip").description == "ip")
    }

    @Test("Unix network names resolve paths and abstract names")
    func resolveUnix() throws {
        for name in ["unix", "unixgram", "unixpacket"] {
            let network = try UnixNetwork(name)
            #expect(network.description == name)
            #expect(try network.resolve("/run/sock-test.sock").path == "/run/sock-test.sock")
            #expect(try network.resolve("@abstract").isAbstract)
        }
        let tooLong = String(repeating: "x", count: SockaddrUnix.maxPathLength + 1)
        #expect(sockError { try UnixNetwork.stream.resolve(tooLong) } == SockError(code: .invalidParameter, errnoCode: SockBindings.ENAMETOOLONG))
    }

    @Test("unknown network names throw unknownNetwork", arguments: [
        "", "tcp5", "TCP", "tcp4 ", "udp7", "ip5", "ipv4", "ip4:", "ip4:nonsense", "ip4:256", "unix4", "unixstream",
        "sctp7", "http",
    ])
    func unknownNetwork(name: String) {
        #expect(throws: SockError.unknownNetwork) { try TCPNetwork(name) }
        #expect(throws: SockError.unknownNetwork) { try UDPNetwork(name) }
        #expect(throws: SockError.unknownNetwork) { try IPNetwork(name) }
        #expect(throws: SockError.unknownNetwork) { try UnixNetwork(name) }
        #expect(throws: SockError.unknownNetwork) { try SCTPNetwork(name) }
        #expect((try? TCPNetwork(name)) == nil)
    }

    /// The resolver of a TCP or UDP network name, as a closure.
    static func resolver(_ name: String) throws -> (String) throws -> AnySocketAddress {
        if name.hasPrefix("tcp") {
            let network = try TCPNetwork(name)
            return { try network.resolve($0) }
        }
        let network = try UDPNetwork(name)
        return { try network.resolve($0) }
    }

    /// The code of the ResolveError `body` throws, or nil.
    static func resolveCode(_ body: () throws -> Any) -> ResolveError.Code? {
        do {
            _ = try body()
            return nil
        } catch let error as ResolveError {
            return error.code
        } catch {
            Issue.record("not a ResolveError: \(error)")
            return nil
        }
    }

    // MARK: Address conversions

    @Test("IPAddress parses and prints both families, with zones")
    func ipAddressText() throws {
        #expect(try IPAddress("192.0.2.1") == .ipv4(IPv4Address(192, 0, 2, 1)))
        #expect(try IPAddress("2001:db8::1") == .ipv6(try IPv6Address("2001:db8::1"), scopeID: 0))
        #expect(try IPAddress("fe80::1%lo") == .ipv6(try IPv6Address("fe80::1"), scopeID: if_nametoindex("lo")))
        #expect(try IPAddress("fe80::1%lo").description == "fe80::1%lo")
        #expect(try IPAddress("2001:0db8:0:0:0:0:0:1").description == "2001:db8::1")
        #expect(IPAddress(IPv4Address.loopback).description == "127.0.0.1")
        #expect(IPAddress(IPv6Address.loopback) == .ipv6(.loopback, scopeID: 0))
        #expect(IPAddress(IPv4Address.loopback).family == SockBindings.AF_INET)
        #expect(try IPAddress("::").isUnspecified && IPAddress(IPv4Address.loopback).isLoopback)
        for bad in ["", "1.2.3", "1.2.3.256", "[::1]", "::1:80:", "localhost", "1.2.3.4:80", "fe80::1%nosuchif0"] {
            #expect(sockError { try IPAddress(bad) }?.code == .invalidParameter, "\(bad)")
        }
    }

    @Test("IP4AddressToBytes and IP6AddressToBytes, from strings and from values")
    func addressBytes() throws {
        // From strings.
        #expect(try IPAddress("192.0.2.1").ipv4Bytes.map(Self.array) == [192, 0, 2, 1])
        #expect(try IPAddress("::ffff:192.0.2.1").ipv4Bytes.map(Self.array) == [192, 0, 2, 1])
        #expect(try IPAddress("2001:db8::1").ipv4Bytes == nil)
        #expect(Self.array(try IPAddress("2001:db8::1").ipv6Bytes) == [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1])
        #expect(Self.array(try IPAddress("192.0.2.1").ipv6Bytes) == Array(repeating: 0, count: 10) + [0xff, 0xff, 192, 0, 2, 1])
        // From values.
        #expect(Self.array(IPv4Address.loopback.bytes) == [127, 0, 0, 1])
        #expect(IPAddress(IPv4Address.loopback).ipv4Bytes.map(Self.array) == [127, 0, 0, 1])
        #expect(Self.array(IPv6Address.loopback.bytes) == Array(repeating: 0, count: 15) + [1])
        #expect(Self.array(IPAddress(IPv6Address.loopback).ipv6Bytes) == Array(repeating: 0, count: 15) + [1])
        // Round trip through the byte forms.
        let v4 = try IPv4Address("10.1.2.3")
        #expect(IPv4Address(bytes: IPAddress(v4).ipv4Bytes!) == v4)
        #expect(IPv6Address(bytes: IPAddress(v4).ipv6Bytes).ipv4Mapped == v4)
    }

    @Test("socket addresses convert to and from AnySocketAddress, IP addresses and text")
    func socketAddressConversions() throws {
        let v4 = SockaddrInet4(address: .loopback, port: 80)
        let v6 = SockaddrInet6(address: .loopback, port: 443, scopeID: 0)
        let unix = try SockaddrUnix(path: "/tmp/x.sock")
        // TCPAddrToSockaddr / SockaddrToTCPAddr (and UDP, Unix): wrap and unwrap.
        #expect(SockaddrInet4(AnySocketAddress.inet4(v4)) == v4)
        #expect(SockaddrInet4(AnySocketAddress.inet6(v6)) == nil)
        #expect(SockaddrInet6(AnySocketAddress.inet6(v6)) == v6)
        #expect(SockaddrInet6(AnySocketAddress.unix(unix)) == nil)
        #expect(SockaddrUnix(AnySocketAddress.unix(unix)) == unix)
        #expect(SockaddrUnix(AnySocketAddress.inet4(v4)) == nil)
        // IPAddrFromTCPAddr / TCPAddrFromAddrPort.
        #expect(AnySocketAddress.inet4(v4).ipAddress == .ipv4(.loopback))
        #expect(AnySocketAddress.unix(unix).ipAddress == nil)
        let zoned = SockaddrInet6(address: try IPv6Address("fe80::1"), port: 53, scopeID: if_nametoindex("lo"))
        #expect(AnySocketAddress.inet6(zoned).ipAddress == zoned.ipAddress)
        #expect(AnySocketAddress(zoned.ipAddress, port: 53) == .inet6(zoned))
        #expect(AnySocketAddress(.ipv4(.loopback), port: 80) == .inet4(v4))
        #expect(v4.ipAddress == .ipv4(.loopback))
        // Text in both directions.
        #expect(try AnySocketAddress("127.0.0.1:80") == .inet4(v4))
        #expect(try AnySocketAddress("[::1]:443") == .inet6(v6))
        #expect(AnySocketAddress.inet6(zoned).description == "[fe80::1%lo]:53")
        #expect(try AnySocketAddress(AnySocketAddress.inet6(zoned).description) == .inet6(zoned))
    }

    // MARK: ReadMsgUDP / WriteMsgUDP

    @Test("readMessage reports IP_PKTINFO and the TTL writeMessage sent as control data (IPv4)")
    func udpMessages4() throws {
        let server = try UDPConn.listen(on: SockaddrInet4(address: .any, port: 0))
        defer { try? server.close() }
        try server.setReceivesPacketInfo(true)
        #expect(try server.receivesPacketInfo)
        try server.setOption(.receiveTimeToLive, to: true)
        let destination = SockaddrInet4(address: IPv4Address(127, 0, 0, 7), port: server.localAddress.port)
        let client = try UDPConn.listen(on: SockaddrInet4(address: .loopback, port: 0))
        defer { try? client.close() }
        client.setDeadline(soon())
        server.setDeadline(soon())

        let payload = TestBytes("with control data")
        let sendControl = TestBytes(count: ControlMessageBuilder.integerSpace)
        var builder = ControlMessageBuilder(buffer: sendControl.raw)
        try builder.append(ttl: 7)
        #expect(try client.writeMessage(payload.bytes, control: builder.bytes, to: destination) == .completed(payload.count))

        let control = TestBytes(count: ControlMessageBuilder.packetInfo4Space + ControlMessageBuilder.integerSpace)
        let input = TestBytes(count: 64)
        guard case .completed(let message) = try server.readMessage(into: input.raw, control: control.raw) else {
            Issue.record("no datagram")
            return
        }
        #expect(message.count == payload.count)
        #expect(input.string(message.count) == "with control data")
        #expect(message.from == client.localAddress)
        #expect(!message.isTruncated && !message.isControlTruncated)
        var packetInfo: InPktinfo?
        var ttl: Int32?
        for item in ControlMessages(buffer: control.raw, length: message.controlLength) {
            switch item {
            case .packetInfo4(let info): packetInfo = info
            case .ttl(let value): ttl = value
            default: break
            }
        }
        #expect(packetInfo.map { IPv4Address($0.ipi_addr) } == IPv4Address(127, 0, 0, 7))
        #expect(packetInfo.map { UInt32($0.ipi_ifindex) } == if_nametoindex("lo"))
        #expect(ttl == 7)

        // Truncation of the data and of the control data is reported.
        _ = try client.writeMessage(payload.bytes, control: UnsafeRawBufferPointer(start: nil, count: 0), to: destination)
        let small = TestBytes(count: 4)
        let tinyControl = TestBytes(count: 8)
        guard case .completed(let truncated) = try server.readMessage(into: small.raw, control: tinyControl.raw) else {
            Issue.record("no datagram")
            return
        }
        #expect(truncated.count == 4 && truncated.isTruncated)
        #expect(truncated.isControlTruncated)

        // Without a deadline an empty queue is would-block.
        server.setDeadline(.none)
        #expect(try server.readMessage(into: input.raw, control: control.raw) == .wouldBlock)
    }

    @Test("readMessage reports IPV6_PKTINFO; writeMessage on a connected socket (IPv6)")
    func udpMessages6() throws {
        let server = try UDPConn.listen(on: SockaddrInet6(address: .loopback, port: 0))
        defer { try? server.close() }
        try server.setReceivesPacketInfo(true)
        let client = try UDPConn.dial(to: server.localAddress)
        defer { try? client.close() }
        client.setDeadline(soon())
        server.setDeadline(soon())

        let payload = TestBytes("v6")
        #expect(try client.writeMessage(payload.bytes, control: UnsafeRawBufferPointer(start: nil, count: 0)) == .completed(2))
        let control = TestBytes(count: ControlMessageBuilder.packetInfo6Space)
        let input = TestBytes(count: 16)
        guard case .completed(let message) = try server.readMessage(into: input.raw, control: control.raw) else {
            Issue.record("no datagram")
            return
        }
        #expect(message.count == 2)
        #expect(message.from == client.localAddress)
        var found = false
        for case .packetInfo6(let info) in ControlMessages(buffer: control.raw, length: message.controlLength) {
            found = true
            #expect(IPv6Address(info.ipi6_addr) == .loopback)
            #expect(info.ipi6_ifindex == if_nametoindex("lo"))
        }
        #expect(found)
        try server.setReceivesPacketInfo(false)
        #expect(try !server.receivesPacketInfo)
    }

    // MARK: Descriptor and credential passing through UnixConn

    @Test("descriptors pass through a UnixConn and work on the other side")
    func descriptorPassing() throws {
        let (a, b) = try UnixConn.pair()
        defer { try? a.close(); try? b.close() }
        a.setDeadline(soon())
        b.setDeadline(soon())
        let (pipeRead, pipeWrite) = Messaging.pipe()
        defer { _ = Glibc.close(pipeRead); _ = Glibc.close(pipeWrite) }

        let data = TestBytes("fd")
        #expect(try a.sendDescriptors([pipeWrite], data: data.bytes) == .completed(2))
        let slots = UnsafeMutableBufferPointer<CInt>.allocate(capacity: 4)
        defer { slots.deallocate() }
        let input = TestBytes(count: 8)
        guard case .completed(let received) = try b.receiveDescriptors(into: slots, data: input.raw) else {
            Issue.record("nothing received")
            return
        }
        #expect(received.count == 2 && received.descriptorCount == 1 && !received.lostDescriptors)
        let passed = slots[0]
        defer { _ = Glibc.close(passed) }
        #expect(Messaging.isCloseOnExec(passed))
        // The passed descriptor is the pipe's write end: what is written through it comes out of the read end.
        var byte: UInt8 = 42
        #expect(Glibc.write(passed, &byte, 1) == 1)
        byte = 0
        #expect(Glibc.read(pipeRead, &byte, 1) == 1 && byte == 42)

        // The owning forms.
        let owned = Descriptor(adopting: Glibc.dup(pipeWrite))
        defer { try? owned.close() }
        #expect(try a.sendDescriptors([owned], data: data.bytes) == .completed(2))
        guard case .completed(let (info, descriptors)) = try b.receiveDescriptors(upTo: 2, data: input.raw) else {
            Issue.record("nothing received")
            return
        }
        #expect(info.descriptorCount == 1 && descriptors.count == 1)
        for descriptor in descriptors { try descriptor.close() }

        // A zero-byte send on a stream would silently drop the descriptors.
        #expect(throws: SockError.invalidParameter) {
            try a.sendDescriptors([pipeWrite], data: UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    @Test("descriptors pass to an unconnected Unix datagram socket by address")
    func descriptorPassingDatagram() throws {
        let server = try UnixConn.listenDatagram(on: SockaddrUnix(path: uniqueAbstractName("fds")))
        defer { try? server.close() }
        let client = try UnixConn.listenDatagram(on: SockaddrUnix())
        defer { try? client.close() }
        server.setDeadline(soon())
        let (pipeRead, pipeWrite) = Messaging.pipe()
        defer { _ = Glibc.close(pipeRead); _ = Glibc.close(pipeWrite) }
        #expect(try client.sendDescriptors([pipeRead, pipeWrite], data: UnsafeRawBufferPointer(start: nil, count: 0),
                                           to: server.localAddress) == .completed(0))
        let slots = UnsafeMutableBufferPointer<CInt>.allocate(capacity: 1)
        defer { slots.deallocate() }
        let input = TestBytes(count: 8)
        guard case .completed(let received) = try server.receiveDescriptors(into: slots, data: input.raw) else {
            Issue.record("nothing received")
            return
        }
        // Room for one: the second was closed and counted.
        #expect(received.descriptorCount == 1 && received.discardedCount == 1 && received.lostDescriptors)
        _ = Glibc.close(slots[0])
    }

    @Test("credentials: SO_PEERCRED, and SCM_CREDENTIALS sent and received through UnixConn")
    func credentials() throws {
        let (a, b) = try UnixConn.pair()
        defer { try? a.close(); try? b.close() }
        a.setDeadline(soon())
        b.setDeadline(soon())
        #expect(try a.option(.peerCredentials).pid == getpid())
        #expect(try a.option(.peerCredentials).uid == getuid())
        #expect(Ucred.current.pid == getpid() && Ucred.current.gid == getgid())

        try b.setOption(.passCredentials, to: true)
        #expect(try b.option(.passCredentials))
        let data = TestBytes("c")
        #expect(try a.sendCredentials(data: data.bytes) == .completed(1))
        let input = TestBytes(count: 4)
        guard case .completed(let received) = try b.receiveCredentials(into: input.raw) else {
            Issue.record("nothing received")
            return
        }
        #expect(received.count == 1)
        #expect(received.credentials?.pid == getpid())
        #expect(received.credentials?.uid == getuid())

        // An empty send on a stream would deliver nothing: refused.
        #expect(throws: SockError.invalidParameter) {
            try a.sendCredentials(data: UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    // MARK: GetSockname, GetPeername

    @Test("getSockname and getPeername, as the enum and as a concrete type")
    func socketNames() throws {
        let (client, server) = try tcpPair4()
        defer { try? client.close(); try? server.close() }
        #expect(try getSockname(client.descriptor) == client.localAddress)
        #expect(try getPeername(client.descriptor) == client.remoteAddress)
        #expect(try getPeername(server.descriptor) == client.localAddress)
        #expect(try .inet4(getSockname(server.descriptor, as: SockaddrInet4.self)) == server.localAddress)
        #expect(try .inet4(getPeername(client.descriptor, as: SockaddrInet4.self)) == client.remoteAddress)
        #expect(throws: SockError.addressFamilyNotSupported) { try getSockname(client.descriptor, as: SockaddrInet6.self) }

        let unbound = try UDPConn.listen(on: SockaddrInet4(address: .loopback, port: 0))
        defer { try? unbound.close() }
        #expect(throws: SockError.notConnected) { try getPeername(unbound.descriptor) }
        try unbound.close()
        #expect(throws: SockError.closed) { try getSockname(unbound.descriptor) }
    }

    // MARK: No allocation through the protocols

    @Test("a generic write + read through Conn allocates nothing (TCP, Unix, UDP)", .countingAllocations)
    func genericZeroAllocation() throws {
        let message = TestBytes(count: 64, fill: 7)
        let input = TestBytes(count: 64)

        let (tcpClient, tcpServer) = try tcpPair4()
        defer { try? tcpClient.close(); try? tcpServer.close() }
        armDeadlines(tcpClient, tcpServer)
        #expect(try allocations { _ = try exchange(message.bytes, from: tcpClient, to: tcpServer, into: input.raw) } == 0)

        let (unixA, unixB) = try UnixConn.pair(.datagram)
        defer { try? unixA.close(); try? unixB.close() }
        armDeadlines(unixA, unixB)
        #expect(try allocations { _ = try exchange(message.bytes, from: unixA, to: unixB, into: input.raw) } == 0)

        let (udpA, udpB) = try udpPair4()
        defer { try? udpA.close(); try? udpB.close() }
        armDeadlines(udpA, udpB)
        #expect(try allocations { _ = try exchange(message.bytes, from: udpA, to: udpB, into: input.raw) } == 0)

        // PacketConn: readFrom + writeTo through the protocol.
        let server = try UDPConn.listen(on: SockaddrInet4(address: .loopback, port: 0))
        defer { try? server.close() }
        let client = try UDPConn.dial(to: server.localAddress)
        defer { try? client.close() }
        client.setDeadline(soon())
        #expect(try allocations {
            _ = try client.write(message.bytes)
            _ = try reflectOne(server, buffer: input.raw)
            _ = try client.read(into: input.raw)
        } == 0)

        // Would-block through the protocol: returned, not thrown.
        tcpServer.setDeadline(.none)
        #expect(try allocations { _ = try Self.readIfReady(tcpServer, into: input.raw) } == 0)
    }

    @Test("readMessage and writeMessage allocate nothing", .countingAllocations)
    func messageZeroAllocation() throws {
        let server = try UDPConn.listen(on: SockaddrInet4(address: .loopback, port: 0))
        defer { try? server.close() }
        try server.setReceivesPacketInfo(true)
        let client = try UDPConn.dial(to: server.localAddress)
        defer { try? client.close() }
        client.setDeadline(soon())
        server.setDeadline(soon())
        let payload = TestBytes(count: 32, fill: 1)
        let input = TestBytes(count: 64)
        let control = TestBytes(count: ControlMessageBuilder.packetInfo4Space)
        let none = UnsafeRawBufferPointer(start: nil, count: 0)
        var sink = 0
        #expect(try allocations {
            _ = try client.writeMessage(payload.bytes, control: none)
            if case .completed(let message) = try server.readMessage(into: input.raw, control: control.raw) {
                sink &+= message.controlLength
            }
        } == 0)
        #expect(sink > 0)
    }

    /// A generic non-blocking read through the protocol.
    static func readIfReady<C: Conn>(_ conn: C, into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> Bool {
        try conn.read(into: buffer).isWouldBlock
    }

    static func array<let N: Int>(_ bytes: InlineArray<N, UInt8>) -> [UInt8] {
        var result: [UInt8] = []
        for index in bytes.indices { result.append(bytes[index]) }
        return result
    }
}
