// SCTP: sockets, connections, listeners, dialers, address resolution and
// every option of the reference.
//
// SCTP needs kernel support (CONFIG_IP_SCTP, the `sctp` module). The
// runtime tests run only where `socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)`
// succeeds and are reported as skipped elsewhere, with the reason. One test
// always runs: without kernel SCTP it asserts that every constructor fails
// cleanly with `.protocolNotSupported`; with it, that they succeed.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

/// Whether this kernel has SCTP, probed once with a plain socket(2).
let sctpAvailable: Bool = {
    let fd = Glibc.socket(SockBindings.AF_INET, SockBindings.SOCK_STREAM, SockBindings.IPPROTO_SCTP)
    guard fd >= 0 else { return false }
    Glibc.close(fd)
    return true
}()

/// Whether this kernel has SCTP and IPv6 loopback.
let sctp6Available: Bool = {
    guard sctpAvailable else { return false }
    let fd = Glibc.socket(SockBindings.AF_INET6, SockBindings.SOCK_STREAM, SockBindings.IPPROTO_SCTP)
    guard fd >= 0 else { return false }
    Glibc.close(fd)
    return true
}()

@Suite("SCTP: without kernel support, protocol not supported surfaces cleanly")
struct SCTPSupportTests {
    /// Runs `body`; without kernel SCTP it must throw `.protocolNotSupported`
    /// with one of the kernel's two errnos, with it it must succeed (and the
    /// result is closed).
    private func expectSupportMatchesKernel<S: Socket>(
        _ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws(SockError) -> S
    ) {
        do {
            let socket = try body()
            #expect(sctpAvailable, "\(what) succeeded on a kernel without SCTP", sourceLocation: sourceLocation)
            try? socket.close()
        } catch {
            #expect(!sctpAvailable, "\(what) failed with \(error) on a kernel with SCTP", sourceLocation: sourceLocation)
            #expect(error.code == .protocolNotSupported, "\(what): \(error)", sourceLocation: sourceLocation)
            #expect(
                error.errnoCode == SockBindings.EPROTONOSUPPORT || error.errnoCode == SockBindings.ESOCKTNOSUPPORT,
                "\(what): errno \(error.errnoCode)", sourceLocation: sourceLocation)
        }
    }

    @Test("every constructor: .protocolNotSupported without kernel SCTP, success with it")
    func constructors() {
        expectSupportMatchesKernel("SCTPSocket.ipv4() (one-to-many)") { () throws(SockError) in try SCTPSocket.ipv4() }
        expectSupportMatchesKernel("SCTPSocket.ipv4(style: .oneToOne)") { () throws(SockError) in
            try SCTPSocket.ipv4(style: .oneToOne)
        }
        expectSupportMatchesKernel("SCTPSocket.ipv6() (one-to-many)") { () throws(SockError) in try SCTPSocket.ipv6() }
        expectSupportMatchesKernel("SCTPSocket.ipv6(style: .oneToOne)") { () throws(SockError) in
            try SCTPSocket.ipv6(style: .oneToOne)
        }
        expectSupportMatchesKernel("SCTPListener.listen(on: 127.0.0.1:0)") { () throws(SockError) in
            try SCTPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
        }
        expectSupportMatchesKernel("SCTPListener.listen(on: AnySocketAddress)") { () throws(SockError) in
            try SCTPListener.listen(on: AnySocketAddress.inet4(SockaddrInet4(address: .loopback, port: 0)))
        }
        if !sctpAvailable {
            // Dialling needs a peer; without SCTP the socket is never made.
            expectSupportMatchesKernel("SCTPConn.dial(to: 127.0.0.1:9)") { () throws(SockError) in
                try SCTPConn.dial(to: SockaddrInet4(address: .loopback, port: 9))
            }
            expectSupportMatchesKernel("SCTPDialer(timeout:).dial(to: [::1]:9)") { () throws(SockError) in
                try SCTPDialer(timeout: .seconds(1)).dial(to: SockaddrInet6(address: .loopback, port: 9))
            }
        }
    }

    @Test("the kernel's two answers, EPROTONOSUPPORT and ESOCKTNOSUPPORT, both map to .protocolNotSupported")
    func errnoMapping() {
        #expect(SockError(errno: SockBindings.EPROTONOSUPPORT) == .protocolNotSupported)
        // socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP) without SCTP gives
        // ESOCKTNOSUPPORT, which the generic table does not know; the SCTP
        // constructor maps it.
        if !sctpAvailable {
            do {
                _ = try Descriptor.sctpSocket(family: SockBindings.AF_INET, style: .oneToMany)
                Issue.record("an SCTP socket was created without kernel SCTP")
            } catch {
                #expect(error.code == .protocolNotSupported)
                #expect(error.errnoCode == SockBindings.ESOCKTNOSUPPORT)
            }
        }
    }

    @Test("styles name their socket types")
    func styles() {
        #expect(SCTPSocketStyle.oneToOne.socketType == SockBindings.SOCK_STREAM)
        #expect(SCTPSocketStyle.oneToMany.socketType == SockBindings.SOCK_SEQPACKET)
        #expect(SCTPSocketStyle.oneToOne.underlyingProtocol == .stream)
        #expect(SCTPSocketStyle.oneToMany.underlyingProtocol == .seqPacket)
    }

    @Test("network names and resolution (Go: ResolveSCTPAddr) need no kernel SCTP")
    func resolution() throws {
        #expect(try SCTPNetwork("sctp") == .sctp)
        #expect(try SCTPNetwork("sctp4").family == SockBindings.AF_INET)
        #expect(try SCTPNetwork("sctp6").family == SockBindings.AF_INET6)
        #expect(throws: SockError.unknownNetwork) { try SCTPNetwork("tcp") }
        #expect(throws: SockError.unknownNetwork) { try SCTPNetwork("") }

        #expect(try SCTPNetwork.sctp4.resolve("127.0.0.1:9899") == .inet4(SockaddrInet4(address: .loopback, port: 9899)))
        #expect(try SCTPNetwork.sctp.resolve("[::1]:80") == .inet6(SockaddrInet6(address: .loopback, port: 80)))
        #expect(try SCTPNetwork.sctp4.resolve(":9899") == .inet4(SockaddrInet4(address: .any, port: 9899)))
        #expect(try SCTPNetwork.sctp6.resolve(host: "", port: 7) == .inet6(SockaddrInet6(address: .any, port: 7)))
        #expect(try SCTPNetwork.sctp4.resolve(host: "localhost", port: 1).port == 1)
        // The family must match; malformed text is an error, never a guess.
        #expect(throws: ResolveError.self) { try SCTPNetwork.sctp6.resolve("127.0.0.1:1") }
        #expect(throws: ResolveError.self) { try SCTPNetwork.sctp4.resolve("127.0.0.1") }
        #expect(throws: ResolveError.self) { try SCTPNetwork.sctp4.resolve("127.0.0.1:70000") }

        // Go: SCTPAddrFromAddrPort and IPAddrFromSCTPAddr are the address
        // types' own initialisers and properties.
        let address = SockaddrInet6(address: try IPv6Address("fe80::1"), port: 9, scopeID: 1)
        #expect(address.address == (try IPv6Address("fe80::1")))
        #expect(address.port == 9)
    }

    @Test("dialer timeout (Go: SetDialTimeout)")
    func dialerTimeout() {
        var dialer = SCTPDialer()
        #expect(dialer.timeout == nil)
        dialer.setDialTimeout(.milliseconds(250))
        #expect(dialer.timeout == .milliseconds(250))
        dialer.setDialTimeout(nil)
        #expect(dialer == SCTPDialer())
    }
}

@Suite("SCTP: associations over loopback (needs kernel SCTP)")
struct SCTPTests {
    /// A connected one-to-one pair over loopback (client, server).
    private func pair(ipv6: Bool = false) throws -> (SCTPConn, SCTPConn) {
        let listener = ipv6
            ? try SCTPListener.listen(on: SockaddrInet6(address: .loopback, port: 0))
            : try SCTPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
        defer { try? listener.close() }
        let client = try SCTPDialer(timeout: .seconds(5)).dial(to: listener.address)
        listener.setDeadline(soon())
        guard case .completed(let server) = try listener.accept() else { throw SockError.wouldBlock }
        return (client, server)
    }

    @Test("round trip with message boundaries, IPv4", .enabled(if: sctpAvailable, "kernel lacks SCTP (EPROTONOSUPPORT)"))
    func roundTrip4() throws {
        try roundTrip(ipv6: false)
    }

    @Test("round trip with message boundaries, IPv6", .enabled(if: sctp6Available, "kernel lacks SCTP (EPROTONOSUPPORT) or IPv6"))
    func roundTrip6() throws {
        try roundTrip(ipv6: true)
    }

    private func roundTrip(ipv6: Bool) throws {
        let (client, server) = try pair(ipv6: ipv6)
        defer { try? client.close(); try? server.close() }
        #expect(client.networkType == (ipv6 ? .ipv6 : .ipv4))
        #expect(client.underlyingProtocol == .stream)
        #expect(server.style == .oneToOne)
        #expect(try client.remoteAddress == server.localAddress)
        try expectNonBlockingCloseOnExec(client.descriptor, "dialled")
        try expectNonBlockingCloseOnExec(server.descriptor, "accepted")

        client.setDeadline(soon())
        server.setDeadline(soon())
        // Three messages of different sizes arrive as three reads.
        for text in ["one", "two two", "three three three"] {
            let message = TestBytes(text)
            #expect(try client.write(message.bytes) == .completed(message.count))
        }
        let buffer = TestBytes(count: 256)
        for text in ["one", "two two", "three three three"] {
            let read = try server.read(into: buffer.raw)
            #expect(read == .bytes(text.utf8.count))
            #expect(buffer.string(read.count) == text)
        }
        // Reply.
        let reply = TestBytes("reply")
        #expect(try server.write(reply.bytes) == .completed(5))
        #expect(try client.read(into: buffer.raw) == .bytes(5))

        // No data and no deadline: would block; with a short deadline: timed out.
        server.setReadDeadline(.none)
        #expect(try server.read(into: buffer.raw) == .wouldBlock)
        server.setReadDeadline(.after(.milliseconds(20)))
        #expect(throws: SockError.timedOut) { try server.read(into: buffer.raw) }

        // Shutting the association down is end of stream for the peer.
        try client.close()
        server.setReadDeadline(soon())
        #expect(try server.read(into: buffer.raw) == .endOfStream)
    }

    @Test("non-blocking dial (Go: DialSCTP) completes with finishConnect", .enabled(if: sctpAvailable, "kernel lacks SCTP (EPROTONOSUPPORT)"))
    func nonBlockingDial() throws {
        let listener = try SCTPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
        defer { try? listener.close() }
        guard case .inet4(let address) = listener.address else { throw SockError.invalidParameter }
        let client = try SCTPConn.dial(to: address)
        defer { try? client.close() }
        let deadline = soon()
        var connected = false
        while !deadline.hasPassed {
            if case .completed = try client.finishConnect() { connected = true; break }
            sleep(nanoseconds: 1_000_000)
        }
        #expect(connected)
        listener.setDeadline(soon())
        let accepted = try listener.acceptSocket()
        #expect(accepted.value?.underlyingProtocol == .stream)
        try? accepted.value?.close()
    }

    @Test("dialling a port nobody listens on fails", .enabled(if: sctpAvailable, "kernel lacks SCTP (EPROTONOSUPPORT)"))
    func refused() throws {
        // Bind a one-to-one socket without listening: the port is ours, and
        // an INIT to it is answered with ABORT.
        let holder = try SCTPSocket.ipv4(style: .oneToOne)
        defer { try? holder.close() }
        try holder.bind(to: SockaddrInet4(address: .loopback, port: 0))
        let target = try holder.localAddress
        do {
            let conn = try SCTPDialer(timeout: .seconds(5)).dial(to: target)
            try? conn.close()
            Issue.record("dial to a port without a listener succeeded")
        } catch {
            #expect(error == .connectionRefused || error == .connectionReset || error == .timedOut, "\(error)")
        }
    }

    @Test("listener: accept deadline, address, Unix address refused", .enabled(if: sctpAvailable, "kernel lacks SCTP (EPROTONOSUPPORT)"))
    func listener() throws {
        let listener = try SCTPListener.listen(on: SockaddrInet4(address: .loopback, port: 0))
        defer { try? listener.close() }
        #expect(listener.address.port != 0)
        #expect(listener.underlyingProtocol == .stream)
        #expect(try listener.accept().isWouldBlock)
        listener.setDeadline(.after(.milliseconds(20)))
        #expect(throws: SockError.timedOut) { try listener.accept() }
        #expect(throws: SockError.addressFamilyNotSupported) {
            try SCTPListener.listen(on: AnySocketAddress.unix(try SockaddrUnix(path: "/tmp/x")))
        }
        #expect(throws: SockError.addressFamilyNotSupported) {
            try SCTPDialer().dial(to: listener.address, from: .inet6(SockaddrInet6(address: .loopback, port: 0)))
        }
    }

    @Test("every option of the reference: set, read back", .enabled(if: sctpAvailable, "kernel lacks SCTP (EPROTONOSUPPORT)"))
    func options() throws {
        let socket = try SCTPSocket.ipv4(style: .oneToOne)
        defer { try? socket.close() }
        #expect(try socket.option(.reuseAddress))
        #expect(try socket.option(.reusePort))
        #expect(socket.underlyingProtocol == .stream)

        try socket.setOption(.noDelay, to: true)
        #expect(try socket.option(.noDelay))
        try socket.setOption(.noDelay, to: false)
        #expect(try !socket.option(.noDelay))

        var initMessage = SCTPInitMsg()
        initMessage.sinit_num_ostreams = 8
        initMessage.sinit_max_instreams = 9
        initMessage.sinit_max_attempts = 3
        initMessage.sinit_max_init_timeo = 1_000
        try socket.setOption(.initMessage, to: initMessage)
        let readBack = try socket.option(.initMessage)
        #expect(readBack.sinit_num_ostreams == 8)
        #expect(readBack.sinit_max_instreams == 9)
        #expect(readBack.sinit_max_attempts == 3)
        #expect(readBack.sinit_max_init_timeo == 1_000)

        // assoc_id 0 (SCTP_FUTURE_ASSOC): the socket's default.
        var context = SCTPAssocValue()
        context.assoc_value = 42
        try socket.setOption(.context, to: context)
        #expect(try socket.option(.context).assoc_value == 42)

        try socket.setOption(.disableFragments, to: true)
        #expect(try socket.option(.disableFragments))
        try socket.setOption(.disableFragments, to: false)
        #expect(try !socket.option(.disableFragments))

        // The kernel stores the interleave level as on/off.
        try socket.setOption(.fragmentInterleave, to: 1)
        #expect(try socket.option(.fragmentInterleave) == 1)
        try socket.setOption(.fragmentInterleave, to: 0)
        #expect(try socket.option(.fragmentInterleave) == 0)

        var burst = SCTPAssocValue()
        burst.assoc_value = 8
        try socket.setOption(.maximumBurst, to: burst)
        #expect(try socket.option(.maximumBurst).assoc_value == 8)

        var segment = SCTPAssocValue()
        segment.assoc_value = 1_200
        try socket.setOption(.maximumSegmentSize, to: segment)
        #expect(try socket.option(.maximumSegmentSize).assoc_value == 1_200)

        try socket.setOption(.partialDeliveryPoint, to: 1_024)
        #expect(try socket.option(.partialDeliveryPoint) == 1_024)

        // Autoclose is a one-to-many option.
        #expect(throws: SockError.notSupported) { try socket.setOption(.autoClose, to: .seconds(30)) }
        let many = try SCTPSocket.ipv4()
        defer { try? many.close() }
        #expect(many.underlyingProtocol == .seqPacket)
        #expect(try many.option(.autoClose) == .zero)
        try many.setOption(.autoClose, to: .seconds(30))
        #expect(try many.option(.autoClose) == .seconds(30))
        try many.setOption(.autoClose, to: .zero)
        #expect(try many.option(.autoClose) == .zero)
        #expect(throws: SockError.invalidParameter) { try many.setOption(.autoClose, to: .seconds(-1)) }
    }

    @Test("mapped IPv4 addresses on an IPv6 socket", .enabled(if: sctp6Available, "kernel lacks SCTP (EPROTONOSUPPORT) or IPv6"))
    func mappedV4() throws {
        let socket = try SCTPSocket.ipv6(style: .oneToOne)
        defer { try? socket.close() }
        try socket.setOption(.mappedIPv4, to: false)
        #expect(try !socket.option(.mappedIPv4))
        try socket.setOption(.mappedIPv4, to: true)
        #expect(try socket.option(.mappedIPv4))
    }

    @Test("options on a closed socket throw .closed", .enabled(if: sctpAvailable, "kernel lacks SCTP (EPROTONOSUPPORT)"))
    func closed() throws {
        let socket = try SCTPSocket.ipv4(style: .oneToOne)
        try socket.close()
        #expect(throws: SockError.closed) { try socket.setOption(.noDelay, to: true) }
        #expect(throws: SockError.closed) { try socket.option(.initMessage) }
    }
}
