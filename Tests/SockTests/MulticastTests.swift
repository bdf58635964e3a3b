// Multicast: option round trips, and real traffic. IPv4 runs on `lo`
// (joined by interface index and by interface address, with multicast loop).
// IPv6 link-local groups cannot be sent on `lo` here (ENETUNREACH: `lo` has
// no IPv6 multicast route), so the IPv6 test falls back to a network
// namespace with a veth pair (root only), and is cancelled with the reason
// when neither works.
#if canImport(Glibc)
import Glibc
#endif
@testable import Sock
import SockBindings
import Testing

@Suite("Multicast")
struct MulticastTests {
    /// A random administratively scoped IPv4 group, so parallel runs do not
    /// share one.
    static func randomGroup4() -> IPv4Address {
        IPv4Address(239, 255, UInt8.random(in: 1 ... 254), UInt8.random(in: 1 ... 254))
    }

    /// A random link-local IPv6 group.
    static func randomGroup6() -> IPv6Address {
        IPv6Address(0xFF02, 0, 0, 0, 0, 0x5, UInt16.random(in: 1 ... 0xFFFE), UInt16.random(in: 1 ... 0xFFFE))
    }

    @Test("IPv4 options read back what was set; bad values are refused")
    func ipv4Options() throws {
        let socket = try Descriptor.socket(family: SockBindings.AF_INET, type: SockBindings.SOCK_DGRAM)
        #expect(try socket.option(.multicastTimeToLive) == 1)
        try socket.setOption(.multicastTimeToLive, to: 5)
        #expect(try socket.option(.multicastTimeToLive) == 5)
        #expect(throws: SockError.invalidParameter) { try socket.setOption(.multicastTimeToLive, to: 256) }
        // The kernel reads -1 as "the default", 1.
        try socket.setOption(.multicastTimeToLive, to: -1)
        #expect(try socket.option(.multicastTimeToLive) == 1)

        #expect(try socket.option(.multicastLoop))
        try socket.setOption(.multicastLoop, to: false)
        #expect(try !socket.option(.multicastLoop))

        #expect(IPv4Address(try socket.option(.multicastInterface)) == .any)
        try socket.setOption(.multicastInterface, to: IPv4Address.loopback.inAddr)
        #expect(IPv4Address(try socket.option(.multicastInterface)) == .loopback)
        try socket.setOption(.multicastInterfaceByIndex, to: multicastInterfaceRequest(index: Messaging.loopbackIndex))
        try socket.setOption(.multicastInterfaceByIndex, to: multicastInterfaceRequest(index: 0))
        // No such interface: the kernel refuses, nothing is set.
        #expect(throws: SockError.self) { try socket.setOption(.multicastInterfaceByIndex, to: multicastInterfaceRequest(index: 999_999)) }

        #expect(try socket.option(.multicastAllGroups))
        try socket.setOption(.multicastAllGroups, to: false)
        #expect(try !socket.option(.multicastAllGroups))
    }

    @Test("IPv6 options read back what was set; bad values are refused")
    func ipv6Options() throws {
        let socket = try Descriptor.socket(family: SockBindings.AF_INET6, type: SockBindings.SOCK_DGRAM)
        #expect(try socket.option(.multicastHopLimit) == 1)
        try socket.setOption(.multicastHopLimit, to: 3)
        #expect(try socket.option(.multicastHopLimit) == 3)
        try socket.setOption(.multicastHopLimit, to: -1)
        #expect(try socket.option(.multicastHopLimit) == 1)
        #expect(throws: SockError.invalidParameter) { try socket.setOption(.multicastHopLimit, to: 256) }

        #expect(try socket.option(.ipv6MulticastLoop))
        try socket.setOption(.ipv6MulticastLoop, to: false)
        #expect(try !socket.option(.ipv6MulticastLoop))

        #expect(try socket.option(.multicastInterfaceIndex) == 0)
        try socket.setOption(.multicastInterfaceIndex, to: Int(Messaging.loopbackIndex))
        #expect(try socket.option(.multicastInterfaceIndex) == Int(Messaging.loopbackIndex))

        #expect(try socket.option(.ipv6MulticastAllGroups))
        try socket.setOption(.ipv6MulticastAllGroups, to: false)
        #expect(try !socket.option(.ipv6MulticastAllGroups))

        try socket.close()
        #expect(throws: SockError.closed) { _ = try socket.option(.multicastHopLimit) }
    }

    /// A receiver bound to `group` on an ephemeral port, and a sender set
    /// to send on `lo` with loop on.
    static func ipv4Pair(group: IPv4Address) throws -> (receiver: Descriptor, sender: Descriptor, destination: SockaddrInet4) {
        let receiver = try Descriptor.socket(family: SockBindings.AF_INET, type: SockBindings.SOCK_DGRAM)
        try receiver.bindSocket(to: SockaddrInet4(address: group, port: 0))
        let port = try receiver.socketName(as: SockaddrInet4.self).port
        try receiver.setOption(.multicastAllGroups, to: false)
        let sender = try Descriptor.socket(family: SockBindings.AF_INET, type: SockBindings.SOCK_DGRAM)
        try sender.setOption(.multicastInterfaceByIndex, to: multicastInterfaceRequest(index: Messaging.loopbackIndex))
        try sender.setOption(.multicastLoop, to: true)
        try sender.setOption(.multicastTimeToLive, to: 1)
        return (receiver, sender, SockaddrInet4(address: group, port: port))
    }

    /// Sends `text` from `sender` to `destination`, and what `receiver`
    /// gets within `wait` (nil when nothing arrives).
    static func exchange<Address: SocketAddress>(
        _ text: String, from sender: Descriptor, to destination: Address, receiver: Descriptor,
        wait: Duration = .seconds(1)
    ) throws -> String? {
        _ = try Messaging.bytes(text).withUnsafeBytes { try sender.sendMessage($0, to: destination, deadline: Messaging.soon) }
        return try Messaging.withBuffer(64) { buffer in
            do {
                let received = try Messaging.completed(receiver.receiveMessage(into: buffer, deadline: .after(wait)))
                return Messaging.text(buffer, received.count)
            } catch let error as SockError where error == .timedOut {
                return nil
            }
        }
    }

    @Test("IPv4 multicast on lo, joined by interface index: sent, looped back and received; gone after leaving")
    func ipv4ByIndex() throws {
        let group = Self.randomGroup4()
        let (receiver, sender, destination) = try Self.ipv4Pair(group: group)
        try receiver.joinMulticastGroup(group, interfaceIndex: Messaging.loopbackIndex)
        #expect(throws: SockError.addressInUse) { try receiver.joinMulticastGroup(group, interfaceIndex: Messaging.loopbackIndex) }

        #expect(try Self.exchange("by index", from: sender, to: destination, receiver: receiver) == "by index")

        try receiver.leaveMulticastGroup(group, interfaceIndex: Messaging.loopbackIndex)
        #expect(throws: SockError.addressNotAvailable) { try receiver.leaveMulticastGroup(group, interfaceIndex: Messaging.loopbackIndex) }
        #expect(try Self.exchange("after leave", from: sender, to: destination, receiver: receiver, wait: .milliseconds(100)) == nil)
    }

    @Test("IPv4 multicast on lo, joined by interface address 127.0.0.1")
    func ipv4ByAddress() throws {
        let group = Self.randomGroup4()
        let (receiver, sender, destination) = try Self.ipv4Pair(group: group)
        try sender.setOption(.multicastInterface, to: IPv4Address.loopback.inAddr)
        try receiver.joinMulticastGroup(group, interface: .loopback)
        #expect(try Self.exchange("by address", from: sender, to: destination, receiver: receiver) == "by address")
        try receiver.leaveMulticastGroup(group, interface: .loopback)
    }

    /// `IP_MULTICAST_LOOP` only controls the extra local copy the kernel
    /// makes for members on the sending host; a packet sent *on* `lo` is
    /// delivered by the loopback device itself, loop or not. This asserts
    /// that kernel behaviour.
    @Test("IPv4 multicast on lo with loop off is still delivered by the loopback device; unicast groups are refused")
    func ipv4LoopOff() throws {
        let group = Self.randomGroup4()
        let (receiver, sender, destination) = try Self.ipv4Pair(group: group)
        try receiver.joinMulticastGroup(group, interfaceIndex: Messaging.loopbackIndex)
        try sender.setOption(.multicastLoop, to: false)
        #expect(try !sender.option(.multicastLoop))
        #expect(try Self.exchange("loop off", from: sender, to: destination, receiver: receiver) == "loop off")
        #expect(throws: SockError.invalidParameter) {
            try receiver.joinMulticastGroup(IPv4Address(10, 0, 0, 1), interfaceIndex: Messaging.loopbackIndex)
        }
    }

    /// Joins `group` on `index`, sends from a second socket on the same
    /// interface with loop on, and returns what arrives.
    static func ipv6Exchange(index: UInt32, group: IPv6Address) throws -> String? {
        let receiver = try Descriptor.socket(family: SockBindings.AF_INET6, type: SockBindings.SOCK_DGRAM)
        try receiver.bindSocket(to: SockaddrInet6(address: .any, port: 0))
        let port = try receiver.socketName(as: SockaddrInet6.self).port
        try receiver.setOption(.ipv6MulticastAllGroups, to: false)
        try receiver.joinMulticastGroup(group, interfaceIndex: index)
        let sender = try Descriptor.socket(family: SockBindings.AF_INET6, type: SockBindings.SOCK_DGRAM)
        try sender.setOption(.multicastInterfaceIndex, to: Int(index))
        try sender.setOption(.ipv6MulticastLoop, to: true)
        try sender.setOption(.multicastHopLimit, to: 1)
        let destination = SockaddrInet6(address: group, port: port, scopeID: index)
        let text = try exchange("ipv6 multicast", from: sender, to: destination, receiver: receiver)
        try receiver.leaveMulticastGroup(group, interfaceIndex: index)
        return text
    }

    @Test("IPv6 multicast ff02::… with real traffic (lo, else a veth pair in a network namespace)")
    func ipv6Traffic() throws {
        let group = Self.randomGroup6()
        do {
            #expect(try Self.ipv6Exchange(index: Messaging.loopbackIndex, group: group) == "ipv6 multicast")
            return
        } catch let error as SockError where error == .networkUnreachable {
            // Expected on a stock lo: no IPv6 multicast route. Use a namespace.
        }

        guard getuid() == 0 else {
            try Test.cancel("IPv6 multicast cannot be sent on lo (ENETUNREACH) and a network namespace needs root")
        }
        let namespace = "socktest-mc6-\(getpid())-\(UInt16.random(in: 0 ... .max))"
        guard Messaging.run(["ip", "netns", "add", namespace]) == 0 else {
            try Test.cancel("IPv6 multicast cannot be sent on lo (ENETUNREACH) and `ip netns add` failed")
        }
        defer { Messaging.run(["ip", "netns", "del", namespace]) }
        let setup: [[String]] = [
            ["ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"],
            ["ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"],
            ["ip", "-n", namespace, "link", "set", "lo", "up"],
            ["ip", "-n", namespace, "link", "add", "sockmc0", "type", "veth", "peer", "name", "sockmc1"],
            ["ip", "-n", namespace, "link", "set", "sockmc0", "up"],
            ["ip", "-n", namespace, "link", "set", "sockmc1", "up"],
        ]
        for command in setup where Messaging.run(command) != 0 {
            try Test.cancel("could not set up a veth pair in a network namespace: \(command.joined(separator: " ")) failed")
        }
        // The link-local address appears shortly after the link comes up.
        var received: String?
        for _ in 0 ..< 20 {
            received = try Messaging.inNetworkNamespace(namespace) {
                let index = if_nametoindex("sockmc0")
                return try? Self.ipv6Exchange(index: index, group: group)
            }
            if received != nil { break }
            usleep(100_000)
        }
        #expect(received == "ipv6 multicast")
    }
}

/// An `ip_mreqn` selecting the interface with index `index` (the value of the
/// key `.multicastInterfaceByIndex`).
func multicastInterfaceRequest(index: UInt32) -> IPMreqn {
    var request = IPMreqn()
    request.imr_ifindex = CInt(truncatingIfNeeded: index)
    return request
}
