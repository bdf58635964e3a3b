// Raw IP sockets: network names, ICMP and ICMPv6 echo to loopback with
// real replies, RawConn dial/listen with deadlines, and EPERM surfacing as
// permissionDenied. Tests that need CAP_NET_RAW are disabled, with the
// reason, when the process lacks it.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

/// Whether this process may open raw IP sockets (CAP_NET_RAW).
let rawSocketsPermitted: Bool = {
    do {
        let socket = try RawSocket(network: "ip4:icmp")
        try socket.close()
        return true
    } catch {
        return false
    }
}()

@Suite("Raw IP sockets")
struct RawTests {
    @Test("network names: ip4/ip6/ip with protocol names or numbers; anything else is an unknown network")
    func networks() throws {
        #expect(try RawNetwork("ip4:icmp") == .icmp)
        #expect(try RawNetwork("ip6:ipv6-icmp") == .icmpv6)
        #expect(try RawNetwork("IP6:58") == .icmpv6)
        #expect(try RawNetwork("ip:icmp") == .icmp)
        #expect(try RawNetwork("ip4:1") == .icmp)
        #expect(try RawNetwork("ip4:253") == RawNetwork(family: SockBindings.AF_INET, protocolNumber: 253))
        #expect(try RawNetwork("ip4:udp").protocolNumber == SockBindings.IPPROTO_UDP)
        #expect(try RawNetwork("ip6:tcp").family == SockBindings.AF_INET6)
        #expect(RawNetwork.icmp.description == "ip4:1")
        for bad in ["", "ip4", "tcp", "udp4:icmp", "ip5:icmp", "ip4:", "ip4:bogus", "ip4:256", "ip4:-1", "ip4:0x1", "ip4:1000"] {
            #expect(throws: SockError.unknownNetwork, "\(bad)") { _ = try RawNetwork(bad) }
        }
        #expect(throws: SockError.unknownNetwork) { _ = try RawSocket(network: "tcp4") }
        #expect(throws: SockError.unknownNetwork) { _ = try RawConn.dial(network: "ip7:icmp", to: SockaddrInet4(address: .loopback)) }
    }

    /// Reads from `read` until an echo reply with `identifier` and
    /// `sequence` arrives (a raw ICMP socket also sees every other ICMP
    /// packet on the host, including our own request); returns its payload
    /// and the sender.
    static func awaitEchoReply(
        ipv6: Bool, identifier: UInt16, sequence: UInt16,
        _ read: (UnsafeMutableRawBufferPointer) throws -> (Int, AnySocketAddress?)
    ) throws -> ([UInt8], AnySocketAddress?)? {
        try Messaging.withBuffer(2048) { buffer in
            let end = Deadline.after(.seconds(3))
            while !end.hasPassed {
                let (count, source) = try read(buffer)
                let packet = Array(UnsafeRawBufferPointer(rebasing: buffer[0 ..< count]))
                let offset = ipv6 ? 0 : Int(packet[0] & 0x0F) * 4  // IPv4 reads include the IP header
                guard packet.count >= offset + 8 else { continue }
                let icmp = Array(packet[offset...])
                let replyType: UInt8 = ipv6 ? 129 : 0
                let id = UInt16(icmp[4]) << 8 | UInt16(icmp[5])
                let seq = UInt16(icmp[6]) << 8 | UInt16(icmp[7])
                if icmp[0] == replyType && id == identifier && seq == sequence {
                    return (Array(icmp[8...]), source)
                }
            }
            return nil
        }
    }

    @Test("an ICMP echo request to 127.0.0.1 gets an echo reply", .enabled(if: rawSocketsPermitted, "raw sockets need CAP_NET_RAW"))
    func icmpEcho() throws {
        let socket = try RawSocket(network: "ip4:icmp")
        #expect(socket.networkType == .ipv4)
        #expect(socket.underlyingProtocol == .raw)
        #expect(try socket.descriptor.isCloseOnExec)
        let identifier = UInt16.random(in: 1 ... .max)
        let payload = Messaging.bytes("sock ping")
        let request = Messaging.echoRequest(ipv6: false, identifier: identifier, sequence: 1, payload: payload)
        let sent = try request.withUnsafeBytes { try socket.writeTo($0, address: SockaddrInet4(address: .loopback), deadline: Messaging.soon) }
        #expect(try Messaging.completed(sent) == request.count)

        let reply = try Self.awaitEchoReply(ipv6: false, identifier: identifier, sequence: 1) { buffer in
            let (count, source) = try Messaging.completed(socket.readFrom(into: buffer, deadline: .after(.seconds(3))))
            return (count, source)
        }
        let (replyPayload, source) = try #require(reply)
        #expect(replyPayload == payload)
        #expect(source == .inet4(SockaddrInet4(address: .loopback)))
    }

    @Test("an ICMPv6 echo request to ::1 gets an echo reply (the kernel fills the checksum)",
          .enabled(if: rawSocketsPermitted, "raw sockets need CAP_NET_RAW"))
    func icmpv6Echo() throws {
        let socket = try RawSocket(.icmpv6)
        #expect(socket.networkType == .ipv6)
        let identifier = UInt16.random(in: 1 ... .max)
        let payload = Messaging.bytes("sock ping6")
        let request = Messaging.echoRequest(ipv6: true, identifier: identifier, sequence: 2, payload: payload)
        _ = try request.withUnsafeBytes { try socket.writeTo($0, address: SockaddrInet6(address: .loopback), deadline: Messaging.soon) }
        let reply = try Self.awaitEchoReply(ipv6: true, identifier: identifier, sequence: 2) { buffer in
            let (count, source) = try Messaging.completed(socket.readFrom(into: buffer, deadline: .after(.seconds(3))))
            return (count, source)
        }
        let (replyPayload, source) = try #require(reply)
        #expect(replyPayload == payload)
        if case .inet6(let address)? = source {
            #expect(address.address == .loopback)
        } else {
            Issue.record("expected an IPv6 source, got \(String(describing: source))")
        }
    }

    @Test("RawConn dialled to 127.0.0.1: write and read with stored deadlines; addresses",
          .enabled(if: rawSocketsPermitted, "raw sockets need CAP_NET_RAW"))
    func dialledConn() throws {
        let conn = try RawConn.dial(network: "ip4:icmp", to: SockaddrInet4(address: .loopback))
        conn.setDeadline(.after(.seconds(3)))
        #expect(try conn.remoteAddress == .inet4(SockaddrInet4(address: .loopback)))
        #expect(try conn.localAddress.family == SockBindings.AF_INET)
        let identifier = UInt16.random(in: 1 ... .max)
        let request = Messaging.echoRequest(ipv6: false, identifier: identifier, sequence: 3, payload: Messaging.bytes("conn"))
        #expect(try Messaging.completed(request.withUnsafeBytes { try conn.write($0) }) == request.count)
        let reply = try Self.awaitEchoReply(ipv6: false, identifier: identifier, sequence: 3) { buffer in
            (try Messaging.completed(conn.read(into: buffer)), nil)
        }
        #expect(reply?.0 == Messaging.bytes("conn"))
        try conn.close()
        #expect(throws: SockError.closed) { _ = try request.withUnsafeBytes { try conn.write($0) } }
    }

    @Test("RawConn listening on an unused protocol: readFrom gets our own packet, then times out",
          .enabled(if: rawSocketsPermitted, "raw sockets need CAP_NET_RAW"))
    func listeningConn() throws {
        let conn = try RawConn.listen(network: "ip4:253", on: SockaddrInet4(address: .loopback))
        #expect(throws: SockError.notConnected) { _ = try conn.remoteAddress }
        conn.setWriteDeadline(.after(.seconds(1)))
        let payload = Messaging.bytes("experimental")
        _ = try payload.withUnsafeBytes { try conn.writeTo($0, address: SockaddrInet4(address: .loopback)) }
        try Messaging.withBuffer(256) { buffer in
            conn.setReadDeadline(.after(.seconds(1)))
            let (count, source) = try Messaging.completed(conn.readFrom(into: buffer))
            let headerLength = Int(buffer[0] & 0x0F) * 4
            #expect(buffer[9] == 253)  // the IPv4 header's protocol field
            #expect(Array(UnsafeRawBufferPointer(rebasing: buffer[headerLength ..< count])) == payload)
            #expect(source == .inet4(SockaddrInet4(address: .loopback)))

            conn.setReadDeadline(.after(.milliseconds(30)))
            #expect(throws: SockError.timedOut) { _ = try conn.readFrom(into: buffer) }
            conn.setReadDeadline(.none)
            #expect(try conn.readFrom(into: buffer).isWouldBlock)
        }
    }
}

extension RuntimeCoreTests {
    /// Serialized with the other tests that install syscall fakes.
    @Suite("Raw IP sockets: permission")
    struct RawPermissionTests {
        @Test("EPERM from socket(2) surfaces as permissionDenied")
        func permissionDenied() throws {
            // Fail only raw sockets of an otherwise unused protocol, so that
            // tests running in parallel are not affected.
            withSyscalls({ table in
                table.socket = { domain, type, proto in
                    if type & 0xF == SockBindings.SOCK_RAW && proto == 252 {
                        errno = SockBindings.EPERM
                        return -1
                    }
                    return SyscallTable.system.socket(domain, type, proto)
                }
            }) {
                #expect(sockError { try RawSocket(network: "ip4:252") } == SockError(errno: SockBindings.EPERM))
                #expect(sockError { try RawConn.listen(network: "ip6:252") } == SockError(errno: SockBindings.EPERM))
            }
        }
    }
}
