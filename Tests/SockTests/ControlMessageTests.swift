// The control-message builder and parser: round trips of every type, space
// helpers, too-small buffers, malformed and unaligned buffers, agreement
// with the generated CMSG functions, the Go-style helpers, and control data
// the kernel really sends and receives on loopback (IP_PKTINFO,
// IPV6_PKTINFO, IP_TOS, IP_TTL, IPV6_TCLASS, IPV6_HOPLIMIT, SO_TIMESTAMPNS,
// UDP_SEGMENT, UDP_GRO, SCM_CREDENTIALS).
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

@Suite("Control messages")
struct ControlMessageTests {
    // MARK: Builder and parser

    @Test("space helpers follow CMSG_SPACE")
    func spaces() {
        #expect(ControlMessageBuilder.space(forRights: 0) == 16)
        #expect(ControlMessageBuilder.space(forRights: 1) == 24)
        #expect(ControlMessageBuilder.space(forRights: 2) == 24)
        #expect(ControlMessageBuilder.space(forRights: 3) == 32)
        #expect(ControlMessageBuilder.space(forRights: 253) == 1032)
        #expect(ControlMessageBuilder.space(forDataLength: 5) == cmsgSpace(5))
        #expect(ControlMessageBuilder.credentialsSpace == 32)
        #expect(ControlMessageBuilder.packetInfo4Space == 32)
        #expect(ControlMessageBuilder.packetInfo6Space == 40)
        #expect(ControlMessageBuilder.integerSpace == 24)
        #expect(ControlMessageBuilder.segmentSizeSpace == 24)
        #expect(ControlMessageBuilder.timestampSpace == 32)
        #expect(ControlMessageBuilder.maximumRightsCount == 253)
    }

    @Test("every typed message survives a build and parse round trip")
    func roundTrip() throws {
        var credentials = Ucred()
        credentials.pid = 1234
        credentials.uid = 56
        credentials.gid = 78
        var info4 = InPktinfo()
        info4.ipi_ifindex = 3
        info4.ipi_spec_dst = IPv4Address(10, 0, 0, 1).inAddr
        info4.ipi_addr = IPv4Address(239, 1, 2, 3).inAddr
        var info6 = In6Pktinfo()
        info6.ipi6_addr = try IPv6Address("fe80::1").in6Addr
        info6.ipi6_ifindex = 7
        var stamp = Timespec()
        stamp.tv_sec = 1_700_000_000
        stamp.tv_nsec = 123_456_789
        let otherData: [UInt8] = [1, 2, 3, 4, 5]

        let space = ControlMessageBuilder.space(forRights: 3) + ControlMessageBuilder.credentialsSpace
            + ControlMessageBuilder.packetInfo4Space + ControlMessageBuilder.packetInfo6Space
            + 4 * ControlMessageBuilder.integerSpace + ControlMessageBuilder.segmentSizeSpace
            + ControlMessageBuilder.timestampSpace + ControlMessageBuilder.integerSpace
            + ControlMessageBuilder.space(forDataLength: otherData.count)
        try Messaging.withBuffer(space) { buffer in
            var builder = ControlMessageBuilder(buffer: buffer)
            try builder.append(rights: [CInt(5), 6, 7])
            try builder.append(credentials: credentials)
            try builder.append(packetInfo: info4)
            try builder.append(packetInfo: info6)
            try builder.append(tos: 0x28)
            try builder.append(trafficClass: 0x2C)
            try builder.append(ttl: 17)
            try builder.append(hopLimit: 9)
            try builder.append(segmentSize: 1400)
            // Receive-only types, built with the generic appends.
            try builder.append(level: SockBindings.SOL_SOCKET, type: SockBindings.SCM_TIMESTAMPNS, value: stamp)
            try builder.append(level: SockBindings.SOL_UDP, type: SockBindings.UDP_GRO, value: CInt(1200))
            try otherData.withUnsafeBytes { data throws in
                try builder.append(level: 99, type: 42, data: data)
            }
            #expect(builder.count == space)
            #expect(builder.remaining == 0)

            var seen: [String] = []
            for message in ControlMessages(builder.bytes) {
                switch message {
                case .rights(let fds):
                    #expect(Array(fds) == [5, 6, 7])
                    seen.append("rights")
                case .credentials(let value):
                    #expect(value.pid == 1234 && value.uid == 56 && value.gid == 78)
                    seen.append("credentials")
                case .packetInfo4(let value):
                    #expect(value.ipi_ifindex == 3)
                    #expect(IPv4Address(value.ipi_spec_dst) == IPv4Address(10, 0, 0, 1))
                    #expect(IPv4Address(value.ipi_addr) == IPv4Address(239, 1, 2, 3))
                    seen.append("packetInfo4")
                case .packetInfo6(let value):
                    #expect(IPv6Address(value.ipi6_addr) == (try IPv6Address("fe80::1")))
                    #expect(value.ipi6_ifindex == 7)
                    seen.append("packetInfo6")
                case .tos(let value):
                    #expect(value == 0x28)
                    seen.append("tos")
                case .trafficClass(let value):
                    #expect(value == 0x2C)
                    seen.append("trafficClass")
                case .ttl(let value):
                    #expect(value == 17)
                    seen.append("ttl")
                case .hopLimit(let value):
                    #expect(value == 9)
                    seen.append("hopLimit")
                case .segmentSize(let value):
                    #expect(value == 1400)
                    seen.append("segmentSize")
                case .timestampNS(let value):
                    #expect(value.tv_sec == 1_700_000_000 && value.tv_nsec == 123_456_789)
                    seen.append("timestampNS")
                case .groSegmentSize(let value):
                    #expect(value == 1200)
                    seen.append("groSegmentSize")
                case .other(let level, let type, let data):
                    #expect(level == 99 && type == 42)
                    #expect(Array(data) == otherData)
                    seen.append("other")
                }
            }
            #expect(seen == [
                "rights", "credentials", "packetInfo4", "packetInfo6", "tos", "trafficClass", "ttl", "hopLimit",
                "segmentSize", "timestampNS", "groSegmentSize", "other",
            ])
            let messages = ControlMessages(builder.bytes)
            #expect(messages.rightsCount == 3)
            #expect(messages.credentials?.pid == 1234)

            // Clearing starts over in the same buffer.
            builder.removeAll()
            #expect(builder.count == 0)
            var iterator = ControlMessages(builder.bytes).makeIterator()
            #expect(iterator.next() == nil)
        }
    }

    @Test("an append that does not fit throws messageTooLarge and changes nothing")
    func tooSmall() throws {
        try Messaging.withBuffer(ControlMessageBuilder.space(forRights: 3) - 1) { buffer in
            var builder = ControlMessageBuilder(buffer: buffer)
            #expect(throws: SockError.messageTooLarge) { try builder.append(rights: [CInt(0), 1, 2]) }
            #expect(builder.count == 0)
            try builder.append(rights: [CInt(0)])  // 24 bytes fit
            #expect(builder.count == 24)
            #expect(throws: SockError.messageTooLarge) { try builder.append(ttl: 1) }
            #expect(throws: SockError.messageTooLarge) { try builder.append(credentials: Ucred()) }
            #expect(builder.count == 24)
            // The first message is intact.
            var iterator = ControlMessages(builder.bytes).makeIterator()
            guard case .rights(let fds) = iterator.next() else {
                Issue.record("expected rights")
                return
            }
            #expect(Array(fds) == [0])
            #expect(iterator.next() == nil)
        }
        // An empty buffer holds nothing.
        var empty = ControlMessageBuilder(buffer: UnsafeMutableRawBufferPointer(start: nil, count: 0))
        #expect(throws: SockError.messageTooLarge) { try empty.append(tos: 1) }
        #expect(empty.bytes.isEmpty)
    }

    @Test("rights: more than 253 or a negative descriptor is invalid")
    func rightsLimits() throws {
        try Messaging.withBuffer(2048) { buffer in
            var builder = ControlMessageBuilder(buffer: buffer)
            try builder.append(rights: [CInt](repeating: 0, count: 253))
            builder.removeAll()
            #expect(throws: SockError.invalidParameter) { try builder.append(rights: [CInt](repeating: 0, count: 254)) }
            #expect(throws: SockError.invalidParameter) { try builder.append(rights: [CInt(3), -1]) }
            #expect(builder.count == 0)
        }
    }

    @Test("the parser walks exactly what the generated cmsgFirstHeader/cmsgNextHeader walk")
    func agreesWithGeneratedFunctions() throws {
        try Messaging.withBuffer(256) { buffer in
            var builder = ControlMessageBuilder(buffer: buffer)
            try builder.append(rights: [CInt(1), 2, 3])
            try builder.append(tos: 7)
            try builder.append(packetInfo: In6Pktinfo())
            try builder.append(segmentSize: 9)

            var generated: [(CInt, CInt, Int)] = []
            var header = Msghdr()
            header.msg_control = buffer.baseAddress
            header.msg_controllen = CUnsignedLong(builder.count)
            withUnsafePointer(to: &header) { message in
                var current = cmsgFirstHeader(message)
                while let cmsg = current {
                    generated.append((cmsg.pointee.cmsg_level, cmsg.pointee.cmsg_type, Int(cmsg.pointee.cmsg_len)))
                    #expect(cmsgData(cmsg) == UnsafeMutableRawPointer(cmsg) + 16)
                    current = cmsgNextHeader(message, after: cmsg)
                }
            }
            var parsed: [(CInt, CInt, Int)] = []
            var offset = 0
            while let found = ControlMessageBytes.message(in: builder.bytes, at: offset) {
                parsed.append((found.level, found.type, found.data.count + 16))
                offset = found.next
            }
            #expect(generated.count == 4)
            #expect(parsed.count == generated.count)
            for (a, b) in zip(generated, parsed) {
                #expect(a.0 == b.0 && a.1 == b.1 && a.2 == b.2)
            }
        }
    }

    @Test("malformed buffers end the walk instead of reading past the end")
    func malformed() throws {
        try Messaging.withBuffer(64) { buffer in
            var builder = ControlMessageBuilder(buffer: buffer)
            try builder.append(ttl: 5)
            try builder.append(ttl: 6)
            let count = builder.count  // 48
            let raw = buffer.baseAddress!

            // Cutting the last message's padding keeps it (its cmsg_len fits);
            // cutting into its data drops it.
            #expect(Array(ControlMessages(buffer: buffer, length: count - 4)).count == 2)
            #expect(Array(ControlMessages(buffer: buffer, length: count - 5)).count == 1)
            // A length past the buffer is clamped.
            #expect(Array(ControlMessages(buffer: buffer, length: 10_000)).count == 2)
            // Fewer bytes than a header: nothing.
            #expect(Array(ControlMessages(buffer: buffer, length: 15)).isEmpty)
            #expect(Array(ControlMessages(buffer: buffer, length: -3)).isEmpty)

            // cmsg_len running past the valid bytes.
            raw.storeBytes(of: CUnsignedLong(4096), toByteOffset: 24, as: CUnsignedLong.self)
            #expect(Array(ControlMessages(buffer: buffer, length: count)).count == 1)
            // cmsg_len shorter than a header.
            raw.storeBytes(of: CUnsignedLong(8), toByteOffset: 24, as: CUnsignedLong.self)
            #expect(Array(ControlMessages(buffer: buffer, length: count)).count == 1)
            // A huge cmsg_len in the first header.
            raw.storeBytes(of: CUnsignedLong.max, toByteOffset: 0, as: CUnsignedLong.self)
            #expect(Array(ControlMessages(buffer: buffer, length: count)).isEmpty)

            // A known type with an unexpected length is reported as other.
            raw.storeBytes(of: CUnsignedLong(cmsgLen(3)), toByteOffset: 0, as: CUnsignedLong.self)
            var iterator = ControlMessages(buffer: buffer, length: count).makeIterator()
            guard case .other(let level, let type, let data)? = iterator.next() else {
                Issue.record("expected other")
                return
            }
            #expect(level == SockBindings.IPPROTO_IP && type == SockBindings.IP_TTL && data.count == 3)
        }
    }

    @Test("builder and parser work on a buffer of any alignment")
    func unaligned() throws {
        try Messaging.withBuffer(128) { whole in
            let buffer = UnsafeMutableRawBufferPointer(rebasing: whole[3...])
            var builder = ControlMessageBuilder(buffer: buffer)
            try builder.append(rights: [CInt(11), 12])
            var credentials = Ucred()
            credentials.pid = 99
            try builder.append(credentials: credentials)
            let messages = ControlMessages(builder.bytes)
            #expect(messages.rightsCount == 2)
            #expect(messages.credentials?.pid == 99)
            var fds = [CInt](repeating: -1, count: 1)
            let copied = fds.withUnsafeMutableBufferPointer { messages.copyRights(into: $0) }
            #expect(copied.copied == 1 && copied.total == 2)
            #expect(fds == [11])
        }
    }

    @Test("Go-style helpers: UnixRights, ParseUnixRights, UnixCredentials, ParseUnixCredentials")
    func goHelpers() throws {
        let rights = try ControlMessageBuilder.unixRights(3, 4, 5)
        #expect(rights.count == ControlMessageBuilder.space(forRights: 3))
        #expect(ControlMessages.parseUnixRights(rights) == [3, 4, 5])
        #expect(throws: SockError.invalidParameter) { try ControlMessageBuilder.unixRights([CInt](repeating: 1, count: 254)) }
        #expect(throws: SockError.invalidParameter) { try ControlMessageBuilder.unixRights(-1) }

        var credentials = Ucred()
        credentials.pid = 42
        credentials.uid = 1000
        credentials.gid = 100
        let bytes = ControlMessageBuilder.unixCredentials(credentials)
        #expect(bytes.count == 32)
        let parsed = ControlMessages.parseUnixCredentials(bytes)
        #expect(parsed?.pid == 42 && parsed?.uid == 1000 && parsed?.gid == 100)
        #expect(ControlMessages.parseUnixCredentials(rights) == nil)
        #expect(ControlMessages.parseUnixRights(bytes).isEmpty)
        // Two rights messages in one buffer are concatenated.
        #expect(ControlMessages.parseUnixRights(rights + (try ControlMessageBuilder.unixRights(9))) == [3, 4, 5, 9])
    }

    // MARK: Real control data on loopback

    @Test("IP_PKTINFO reports the destination address and interface of a real datagram")
    func packetInfo4() throws {
        let receiver = try Descriptor.socket(family: SockBindings.AF_INET, type: SockBindings.SOCK_DGRAM)
        try receiver.bindSocket(to: SockaddrInet4(address: .any, port: 0))
        let port = try receiver.socketName(as: SockaddrInet4.self).port
        try receiver.setOption(.receivePacketInfo, to: true)
        let (sender, _) = try Messaging.udp()
        let destination = IPv4Address(127, 0, 0, 5)
        _ = try [UInt8(1)].withUnsafeBytes { try sender.sendMessage($0, to: SockaddrInet4(address: destination, port: port)) }

        try Messaging.withBuffer(ControlMessageBuilder.packetInfo4Space) { control in
            try Messaging.withBuffer(8) { data in
                let received = try Messaging.completed(receiver.receiveMessage(into: data, control: control, deadline: Messaging.soon))
                #expect(!received.isControlTruncated)
                var found = false
                for message in ControlMessages(buffer: control, length: received.controlLength) {
                    guard case .packetInfo4(let info) = message else { continue }
                    found = true
                    #expect(IPv4Address(info.ipi_addr) == destination)
                    #expect(IPv4Address(info.ipi_spec_dst) == destination)
                    #expect(UInt32(info.ipi_ifindex) == Messaging.loopbackIndex)
                }
                #expect(found)
            }
        }
    }

    @Test("IPV6_PKTINFO reports the destination address and interface of a real datagram")
    func packetInfo6() throws {
        let receiver = try Descriptor.socket(family: SockBindings.AF_INET6, type: SockBindings.SOCK_DGRAM)
        try receiver.bindSocket(to: SockaddrInet6(address: .any, port: 0))
        let port = try receiver.socketName(as: SockaddrInet6.self).port
        try receiver.setOption(.ipv6ReceivePacketInfo, to: true)
        let (sender, _) = try Messaging.udp(ipv6: true)
        _ = try [UInt8(1)].withUnsafeBytes { try sender.sendMessage($0, to: SockaddrInet6(address: .loopback, port: port)) }

        try Messaging.withBuffer(ControlMessageBuilder.packetInfo6Space) { control in
            try Messaging.withBuffer(8) { data in
                let received = try Messaging.completed(receiver.receiveMessage(into: data, control: control, deadline: Messaging.soon))
                var found = false
                for message in ControlMessages(buffer: control, length: received.controlLength) {
                    guard case .packetInfo6(let info) = message else { continue }
                    found = true
                    #expect(IPv6Address(info.ipi6_addr) == .loopback)
                    #expect(info.ipi6_ifindex == Messaging.loopbackIndex)
                }
                #expect(found)
            }
        }
    }

    @Test("IP_TOS and IP_TTL: socket defaults, then per-datagram values sent as control data")
    func tosAndTTL() throws {
        let (receiver, receiverAddress) = try Messaging.udp()
        try receiver.setOption(.receiveTypeOfService, to: true)
        try receiver.setOption(.receiveTimeToLive, to: true)
        let (sender, _) = try Messaging.udp()
        try sender.setOption(.typeOfService, to: 0x20)

        func receive() throws -> (tos: UInt8?, ttl: Int32?) {
            try Messaging.withBuffer(2 * ControlMessageBuilder.integerSpace) { control in
                try Messaging.withBuffer(8) { data in
                    let received = try Messaging.completed(receiver.receiveMessage(into: data, control: control, deadline: Messaging.soon))
                    var tos: UInt8?
                    var ttl: Int32?
                    for message in ControlMessages(buffer: control, length: received.controlLength) {
                        switch message {
                        case .tos(let value): tos = value
                        case .ttl(let value): ttl = value
                        default: break
                        }
                    }
                    return (tos, ttl)
                }
            }
        }

        _ = try [UInt8(1)].withUnsafeBytes { try sender.sendMessage($0, to: receiverAddress) }
        let plain = try receive()
        #expect(plain.tos == 0x20)
        #expect(plain.ttl == 64)

        try Messaging.withBuffer(2 * ControlMessageBuilder.integerSpace) { buffer in
            var builder = ControlMessageBuilder(buffer: buffer)
            try builder.append(tos: 0x28)
            try builder.append(ttl: 17)
            _ = try [UInt8(2)].withUnsafeBytes { try sender.sendMessage($0, control: builder.bytes, to: receiverAddress) }
        }
        let marked = try receive()
        #expect(marked.tos == 0x28)
        #expect(marked.ttl == 17)
    }

    @Test("IPV6_TCLASS and IPV6_HOPLIMIT sent as control data arrive as control data")
    func trafficClassAndHopLimit() throws {
        let (receiver, receiverAddress) = try Messaging.udp(ipv6: true)
        try receiver.setOption(.receiveTrafficClass, to: true)
        try receiver.setOption(.receiveHopLimit, to: true)
        let (sender, _) = try Messaging.udp(ipv6: true)
        try Messaging.withBuffer(2 * ControlMessageBuilder.integerSpace) { buffer in
            var builder = ControlMessageBuilder(buffer: buffer)
            try builder.append(trafficClass: 0x28)
            try builder.append(hopLimit: 9)
            _ = try [UInt8(2)].withUnsafeBytes { try sender.sendMessage($0, control: builder.bytes, to: receiverAddress) }
        }
        try Messaging.withBuffer(2 * ControlMessageBuilder.integerSpace) { control in
            try Messaging.withBuffer(8) { data in
                let received = try Messaging.completed(receiver.receiveMessage(into: data, control: control, deadline: Messaging.soon))
                var trafficClass: Int32?
                var hopLimit: Int32?
                for message in ControlMessages(buffer: control, length: received.controlLength) {
                    switch message {
                    case .trafficClass(let value): trafficClass = value
                    case .hopLimit(let value): hopLimit = value
                    default: break
                    }
                }
                #expect(trafficClass == 0x28)
                #expect(hopLimit == 9)
            }
        }
    }

    @Test("SO_TIMESTAMPNS stamps a real datagram with the current real time")
    func timestamp() throws {
        let (receiver, receiverAddress) = try Messaging.udp()
        try receiver.setOption(.timestampNanoseconds, to: true)
        let (sender, _) = try Messaging.udp()
        _ = try [UInt8(1)].withUnsafeBytes { try sender.sendMessage($0, to: receiverAddress) }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        try Messaging.withBuffer(ControlMessageBuilder.timestampSpace) { control in
            try Messaging.withBuffer(8) { data in
                let received = try Messaging.completed(receiver.receiveMessage(into: data, control: control, deadline: Messaging.soon))
                var stamp: Timespec?
                for message in ControlMessages(buffer: control, length: received.controlLength) {
                    if case .timestampNS(let value) = message { stamp = value }
                }
                let value = try #require(stamp)
                #expect(abs(value.tv_sec - now.tv_sec) <= 5)
                #expect((0 ..< 1_000_000_000).contains(value.tv_nsec))
            }
        }
    }

    @Test("UDP_SEGMENT: 300 bytes sent with segment size 100 arrive as 3 datagrams")
    func segmentationOffload() throws {
        let (receiver, receiverAddress) = try Messaging.udp()
        let (sender, _) = try Messaging.udp()
        let payload = [UInt8](repeating: 0x61, count: 300)
        try Messaging.withBuffer(ControlMessageBuilder.segmentSizeSpace) { buffer in
            var builder = ControlMessageBuilder(buffer: buffer)
            try builder.append(segmentSize: 100)
            let sent = try payload.withUnsafeBytes { try sender.sendMessage($0, control: builder.bytes, to: receiverAddress) }
            #expect(try Messaging.completed(sent) == 300)
        }
        try Messaging.withBuffer(2048) { data in
            for _ in 0 ..< 3 {
                let received = try Messaging.completed(receiver.receiveMessage(into: data, deadline: Messaging.soon))
                #expect(received.count == 100)
                #expect(!received.isTruncated)
            }
            #expect(try receiver.receiveMessage(into: data).isWouldBlock)
        }
    }

    /// On loopback the kernel does not coalesce separately sent datagrams
    /// (GRO runs in a NIC's receive path), but a GSO super-datagram reaches a
    /// socket with UDP_GRO whole, with the segment size as control data —
    /// which is what this test asserts. Without UDP_GRO the same send arrives
    /// segmented (the UDP_SEGMENT test).
    @Test("UDP_GRO: a receiver with UDP_GRO gets a GSO send whole, with its segment size")
    func receiveOffload() throws {
        let (receiver, receiverAddress) = try Messaging.udp()
        try receiver.setOption(.genericReceiveOffload, to: true)
        #expect(try receiver.option(.genericReceiveOffload))
        let (sender, _) = try Messaging.udp()
        let payload = [UInt8](repeating: 0x62, count: 300)
        try Messaging.withBuffer(ControlMessageBuilder.segmentSizeSpace) { buffer in
            var builder = ControlMessageBuilder(buffer: buffer)
            try builder.append(segmentSize: 100)
            _ = try payload.withUnsafeBytes { try sender.sendMessage($0, control: builder.bytes, to: receiverAddress) }
        }
        // Separately sent datagrams, quickly.
        for _ in 0 ..< 3 {
            _ = try [UInt8](repeating: 0x63, count: 100).withUnsafeBytes { try sender.sendMessage($0, to: receiverAddress) }
        }
        try Messaging.withBuffer(ControlMessageBuilder.integerSpace) { control in
            try Messaging.withBuffer(4096) { data in
                let whole = try Messaging.completed(receiver.receiveMessage(into: data, control: control, deadline: Messaging.soon))
                #expect(whole.count == 300)
                var segment: Int32?
                for message in ControlMessages(buffer: control, length: whole.controlLength) {
                    if case .groSegmentSize(let value) = message { segment = value }
                }
                #expect(segment == 100)

                var separate: [Int] = []
                for _ in 0 ..< 3 {
                    let received = try Messaging.completed(receiver.receiveMessage(into: data, control: control, deadline: Messaging.soon))
                    separate.append(received.count)
                    #expect(received.controlLength == 0)
                }
                #expect(separate == [100, 100, 100])
            }
        }
    }

    @Test("SCM_CREDENTIALS with SO_PASSCRED gives our pid, uid and gid; explicit credentials are checked")
    func credentials() throws {
        let (a, b) = try Messaging.unixPair(SockBindings.SOCK_DGRAM)
        try b.setOption(.passCredentials, to: true)

        func receiveCredentials() throws -> Ucred? {
            try Messaging.withBuffer(ControlMessageBuilder.credentialsSpace) { control in
                try Messaging.withBuffer(8) { data in
                    let received = try Messaging.completed(b.receiveMessage(into: data, control: control, deadline: Messaging.soon))
                    return ControlMessages(buffer: control, length: received.controlLength).credentials
                }
            }
        }

        _ = try [UInt8(1)].withUnsafeBytes { try a.sendMessage($0) }
        let implicit = try #require(try receiveCredentials())
        #expect(implicit.pid == getpid())
        #expect(implicit.uid == getuid())
        #expect(implicit.gid == getgid())

        var mine = Ucred()
        mine.pid = getpid()
        mine.uid = getuid()
        mine.gid = getgid()
        try Messaging.withBuffer(ControlMessageBuilder.credentialsSpace) { buffer in
            var builder = ControlMessageBuilder(buffer: buffer)
            try builder.append(credentials: mine)
            _ = try [UInt8(2)].withUnsafeBytes { try a.sendMessage($0, control: builder.bytes) }
        }
        let explicit = try #require(try receiveCredentials())
        #expect(explicit.pid == mine.pid && explicit.uid == mine.uid && explicit.gid == mine.gid)
    }
}
