// Unix-domain sockets: stream, datagram and seqpacket; listeners, dial,
// listen-datagram, pairs; abstract names, autobind, 108-byte paths.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

@Suite("Unix: stream, datagram and seqpacket sockets")
struct UnixTests {
    // MARK: Round trips

    @Test("echo through a listener on an abstract name", arguments: [UnixNetwork.stream, .seqPacket])
    func listenerEcho(network: UnixNetwork) throws {
        let name = try SockaddrUnix(path: uniqueAbstractName("echo"))
        let listener = try UnixListener.listen(on: name, network: network)
        defer { try? listener.close() }
        #expect(listener.address == name)
        #expect(listener.address.isAbstract)
        #expect(listener.networkType == .unix)
        #expect(listener.underlyingProtocol == network.underlyingProtocol)

        let client = try UnixConn.dial(to: name, network: network)
        defer { try? client.close() }
        #expect(client.remoteAddress == name)
        listener.setDeadline(soon())
        guard case .completed(let server) = try listener.accept() else {
            Issue.record("accept would block")
            return
        }
        defer { try? server.close() }
        #expect(server.network == network)
        #expect(server.remoteAddress?.isUnnamed == true, "an unbound client is unnamed")
        client.setDeadline(soon())
        server.setDeadline(soon())

        let message = TestBytes("over a unix \(network)")
        #expect(try client.write(message.bytes) == .completed(message.count))
        let buffer = TestBytes(count: 64)
        let count = try readExactly(message.count, into: buffer) { b throws(SockError) in try server.read(into: b) }
        #expect(buffer.string(count) == "over a unix \(network)")
        #expect(try server.write(UnsafeRawBufferPointer(buffer.prefix(count))) == .completed(count))
        let echoed = TestBytes(count: 64)
        #expect(try readExactly(count, into: echoed) { b throws(SockError) in try client.read(into: b) } == count)
        #expect(try server.localAddress == name)
    }

    @Test("echo over pairs of every network", arguments: UnixNetwork.allCases)
    func pairEcho(network: UnixNetwork) throws {
        let (a, b) = try UnixConn.pair(network)
        defer {
            try? a.close()
            try? b.close()
        }
        try expectNonBlockingCloseOnExec(a.descriptor, "pair first")
        try expectNonBlockingCloseOnExec(b.descriptor, "pair second")
        #expect(a.network == network)
        #expect(a.remoteAddress?.isUnnamed == true)
        let message = TestBytes("pair")
        #expect(try a.write(message.bytes) == .completed(4))
        let buffer = TestBytes(count: 16)
        #expect(try b.read(into: buffer.raw) == .bytes(4))
        #expect(buffer.string(4) == "pair")
        #expect(try b.write(message.bytes) == .completed(4))
        #expect(try a.read(into: buffer.raw) == .bytes(4))
    }

    @Test("datagrams: listenDatagram, readFrom and writeTo, with autobound and unbound senders")
    func datagrams() throws {
        let name = try SockaddrUnix(path: uniqueAbstractName("dgram"))
        let server = try UnixConn.listenDatagram(on: name)
        defer { try? server.close() }
        #expect(server.remoteAddress == nil)
        #expect(try server.localAddress == name)
        server.setDeadline(soon())

        // A sender bound by autobind: the server sees its abstract name and can answer.
        let client = try UnixConn.dial(to: name, from: SockaddrUnix(), network: .datagram)
        defer { try? client.close() }
        client.setDeadline(soon())
        let clientName = try client.localAddress
        #expect(clientName.isAbstract)
        let message = TestBytes("ping")
        #expect(try client.write(message.bytes) == .completed(4))
        let buffer = TestBytes(count: 16)
        guard case .completed(let (count, sender)) = try server.readFrom(into: buffer.raw) else {
            Issue.record("readFrom would block")
            return
        }
        #expect(count == 4)
        #expect(sender == clientName)
        #expect(try server.writeTo(TestBytes("pong").bytes, address: sender) == .completed(4))
        #expect(try client.read(into: buffer.raw) == .bytes(4))
        #expect(buffer.string(4) == "pong")

        // An unbound, unconnected sender: the server sees the unnamed address.
        let anonymous = try UnixSocket(.datagram).unconnected()
        defer { try? anonymous.close() }
        #expect(try anonymous.writeTo(message.bytes, address: name) == .completed(4))
        guard case .completed(let (_, from)) = try server.readFrom(into: buffer.raw) else {
            Issue.record("readFrom would block")
            return
        }
        #expect(from.isUnnamed)

        // A zero-length datagram is not end of stream.
        #expect(try client.write(UnsafeRawBufferPointer(start: nil, count: 0)) == .completed(0))
        guard case .completed(let (empty, _)) = try server.readFrom(into: buffer.raw) else {
            Issue.record("readFrom would block")
            return
        }
        #expect(empty == 0)
        server.setDeadline(.none)
        #expect(try server.readFrom(into: buffer.raw).isWouldBlock)
    }

    // MARK: End of stream

    @Test("end of stream vs would-block vs empty buffer", arguments: [UnixNetwork.stream, .seqPacket])
    func endOfStream(network: UnixNetwork) throws {
        let (a, b) = try UnixConn.pair(network)
        defer { try? b.close() }
        let buffer = TestBytes(count: 16)
        let empty = UnsafeMutableRawBufferPointer(rebasing: buffer.raw[0..<0])
        #expect(try b.read(into: buffer.raw) == .wouldBlock)
        #expect(try b.read(into: empty) == .bytes(0))
        try a.close()
        #expect(try b.read(into: buffer.raw) == .endOfStream)
        #expect(try b.read(into: empty) == .bytes(0), "an empty buffer is never end of stream")
    }

    @Test("a datagram socket never reports end of stream: an empty datagram is .bytes(0)")
    func emptyDatagram() throws {
        let (a, b) = try UnixConn.pair(.datagram)
        defer {
            try? a.close()
            try? b.close()
        }
        let buffer = TestBytes(count: 16)
        #expect(try b.read(into: buffer.raw) == .wouldBlock)
        #expect(try a.write(UnsafeRawBufferPointer(start: nil, count: 0)) == .completed(0))
        #expect(try b.read(into: buffer.raw) == .bytes(0))
        #expect(try b.read(into: buffer.raw) == .wouldBlock)
    }

    // MARK: Errors, for real

    @Test("not connected: writing on an unconnected stream or datagram socket")
    func notConnected() throws {
        let message = TestBytes("x")
        let stream = try UnixSocket(.stream)
        defer { try? stream.close() }
        let error = sockError { try stream.unconnected().write(message.bytes) }
        #expect(error == .notConnected)
        #expect(error?.errnoCode == SockBindings.ENOTCONN)
        let datagram = try UnixSocket(.datagram).unconnected()
        defer { try? datagram.close() }
        #expect(sockError { try datagram.write(message.bytes) } == .notConnected)
    }

    @Test("message too large: a datagram or seqpacket bigger than the send buffer", arguments: [UnixNetwork.datagram, .seqPacket])
    func messageTooLarge(network: UnixNetwork) throws {
        let (a, b) = try UnixConn.pair(network)
        defer {
            try? a.close()
            try? b.close()
        }
        try a.setOption(.sendBufferSize, to: 4096)
        let big = TestBytes(count: 64 * 1024)
        let error = sockError { try a.write(big.bytes) }
        #expect(error == .messageTooLarge)
        #expect(error?.errnoCode == SockBindings.EMSGSIZE)
    }

    @Test("connection refused, no such file, address in use")
    func refusedAndInUse() throws {
        let nobody = try SockaddrUnix(path: uniqueAbstractName("nobody"))
        #expect(sockError { try UnixConn.dial(to: nobody) } == .connectionRefused)
        #expect(sockError { try UnixConn.dial(to: nobody, network: .datagram) } == .connectionRefused)
        let missing = try SockaddrUnix(path: "/nonexistent-dir-\(getpid())/socket")
        #expect(sockError { try UnixConn.dial(to: missing) }?.errnoCode == SockBindings.ENOENT)

        let name = try SockaddrUnix(path: uniqueAbstractName("taken"))
        let listener = try UnixListener.listen(on: name)
        defer { try? listener.close() }
        #expect(sockError { try UnixListener.listen(on: name) } == .addressInUse)
        // Abstract names are scoped by socket type: a datagram socket may
        // take the name a stream listener holds.
        let sameNameDatagram = try UnixConn.listenDatagram(on: name)
        try sameNameDatagram.close()
        let unbound = try UnixSocket(.stream)
        #expect(sockError { try unbound.listen() } == .invalidParameter, "no listen on an unbound Unix socket")
        try unbound.close()
        let fresh = try SockaddrUnix(path: uniqueAbstractName("dgram-listen"))
        #expect(sockError { try UnixListener.listen(on: fresh, network: .datagram) } == .notSupported)
    }

    @Test("a peer that closes with unread data resets the connection; writing to it throws, no SIGPIPE")
    func reset() throws {
        #expect(sigpipeIsDefault())
        let (a, b) = try UnixConn.pair(.stream)
        defer { try? a.close() }
        let message = TestBytes("unread")
        _ = try a.write(message.bytes)
        try b.close()  // with unread data
        let buffer = TestBytes(count: 16)
        #expect(sockError { try a.read(into: buffer.raw) } == .connectionReset)
        #expect(sockError { try a.write(message.bytes) }?.code == .connectionReset)
    }

    @Test("deadlines: a read times out after 20 ms; accept times out after SetDeadline")
    func deadlines() throws {
        let (a, b) = try UnixConn.pair(.stream)
        defer {
            try? a.close()
            try? b.close()
        }
        let buffer = TestBytes(count: 16)
        let start = now()  // before the deadline is set: elapsed >= 20 ms is then exact
        b.setReadDeadline(.after(.milliseconds(20)))
        #expect(sockError { try b.read(into: buffer.raw) } == .timedOut)
        #expect(now() - start >= 20_000_000)
        b.setDeadline(.none)
        #expect(try b.read(into: buffer.raw) == .wouldBlock)

        let listener = try UnixListener.listen(on: SockaddrUnix(path: uniqueAbstractName("deadline")))
        defer { try? listener.close() }
        #expect(try listener.accept().isWouldBlock)
        let acceptStart = now()
        listener.setDeadline(.after(.milliseconds(20)))
        #expect(sockError { try listener.accept() } == .timedOut)
        #expect(now() - acceptStart >= 20_000_000)
    }

    // MARK: Names

    @Test("autobind: listening on the unnamed address gives an abstract autobound name")
    func autobind() throws {
        let listener = try UnixListener.listen(on: SockaddrUnix())
        defer { try? listener.close() }
        #expect(listener.address.isAbstract)
        let path = listener.address.path
        #expect(path.hasPrefix("@"))
        #expect(path.utf8.count == 6, "the kernel autobinds to five hex digits: \(path)")

        let client = try UnixConn.dial(to: listener.address)
        defer { try? client.close() }
        listener.setDeadline(soon())
        let accepted = try listener.accept()
        #expect(!accepted.isWouldBlock)
        try accepted.value?.close()

        let socket = try UnixSocket(.datagram)
        defer { try? socket.close() }
        #expect(try socket.localAddress.isUnnamed)
        try socket.bind(to: SockaddrUnix())
        #expect(try socket.localAddress.isAbstract)
    }

    @Test("a 108-byte filesystem path listens, dials and decodes; Sock never unlinks it")
    func longPath() throws {
        var template = Array("/tmp/sock-unix-XXXXXX".utf8CString)
        guard let directory = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            Issue.record("mkdtemp failed")
            return
        }
        let directoryPath = String(cString: directory)
        defer { rmdir(directoryPath) }
        let fileName = String(repeating: "s", count: 108 - directoryPath.utf8.count - 1)
        let path = directoryPath + "/" + fileName
        #expect(path.utf8.count == 108)
        defer { unlink(path) }

        let address = try SockaddrUnix(path: path)
        #expect(address.length == 110)
        let listener = try UnixListener.listen(on: address)
        #expect(listener.address == address, "the kernel reports 111 bytes; decoding clamps")
        #expect(listener.address.path == path)
        let client = try UnixConn.dial(to: address)
        listener.setDeadline(soon())
        guard case .completed(let server) = try listener.accept() else {
            Issue.record("accept would block")
            return
        }
        try client.close()
        try server.close()
        try listener.close()
        #expect(access(path, F_OK) == 0, "the socket file stays: the caller owns it")

        // Rebinding the existing file fails until the caller removes it.
        #expect(sockError { try UnixListener.listen(on: address) } == .addressInUse)
        unlink(path)
        let again = try UnixListener.listen(on: address)
        try again.close()

        #expect(sockError { try SockaddrUnix(path: path + "x") }?.code == .invalidParameter, "109 bytes never truncate")
    }

    // MARK: Descriptors and types

    @Test("every descriptor created, accepted or paired is non-blocking and close-on-exec")
    func descriptorFlags() throws {
        for network in UnixNetwork.allCases {
            let socket = try UnixSocket(network)
            try expectNonBlockingCloseOnExec(socket.descriptor, "UnixSocket \(network)")
            try socket.close()
        }
        let listener = try UnixListener.listen(on: SockaddrUnix(path: uniqueAbstractName("flags")), network: .seqPacket)
        defer { try? listener.close() }
        try expectNonBlockingCloseOnExec(listener.descriptor, "listener")
        let client = try UnixConn.dial(to: listener.address, network: .seqPacket)
        defer { try? client.close() }
        try expectNonBlockingCloseOnExec(client.descriptor, "dialled")
        listener.setDeadline(soon())
        guard case .completed(let server) = try listener.accept() else {
            Issue.record("accept would block")
            return
        }
        try expectNonBlockingCloseOnExec(server.descriptor, "accepted")
        try server.close()
        let second = try UnixConn.dial(to: listener.address, network: .seqPacket)
        defer { try? second.close() }
        guard case .completed(let raw) = try listener.acceptSocket() else {
            Issue.record("acceptSocket would block")
            return
        }
        try expectNonBlockingCloseOnExec(raw.descriptor, "acceptSocket")
        #expect(raw.underlyingProtocol == .seqPacket)
        try raw.close()
        let datagram = try UnixConn.listenDatagram(on: SockaddrUnix())
        try expectNonBlockingCloseOnExec(datagram.descriptor, "listenDatagram")
        try datagram.close()
    }

    @Test("network names parse as in the reference")
    func networkNames() throws {
        #expect(try UnixNetwork("unix") == .stream)
        #expect(try UnixNetwork("unixgram") == .datagram)
        #expect(try UnixNetwork("unixpacket") == .seqPacket)
        #expect(sockError { try UnixNetwork("tcp") } == .unknownNetwork)
        #expect(UnixNetwork.seqPacket.description == "unixpacket")
        #expect(UnixNetwork.datagram.socketType == SockBindings.SOCK_DGRAM)
    }

    @Test("TCP_NODELAY is not a Unix option: the generated accessor's EOPNOTSUPP surfaces as notSupported")
    func tcpOptionOnUnix() throws {
        let (a, b) = try UnixConn.pair()
        defer {
            try? a.close()
            try? b.close()
        }
        let error = sockError {
            // A Unix socket is no TCPConfigurable: only a raw descriptor can try.
            try a.descriptor.setOption(SocketOption<OptionScope.TCP, _, _>.noDelay, to: true)
        }
        #expect(error == .notSupported)
        try a.setOption(.receiveBufferSize, to: 8192)
        #expect(try a.option(.receiveBufferSize) == 16384)
    }
}
