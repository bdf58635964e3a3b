// Raw IP sockets (SOCK_RAW): `RawSocket`, an unconnected socket read and
// written with explicit addresses and deadlines, and `RawConn`, a
// connection-style socket with stored deadlines, dialled to one peer or
// listening to all. Networks are named as in the Go reference and Go's net
// package: "ip4:icmp", "ip6:ipv6-icmp", "ip4:1", …
//
// Raw sockets need CAP_NET_RAW: without it, creation throws
// `.permissionDenied` (EPERM).
import SockBindings

/// A raw IP network: an address family and an IP protocol number, parsed
/// from names such as `"ip4:icmp"` or `"ip6:ipv6-icmp"`.
public struct RawNetwork: Hashable, Sendable, CustomStringConvertible {
    /// `AF_INET` or `AF_INET6`.
    public let family: CInt

    /// The IP protocol number (the socket's protocol), such as 1 for ICMP.
    public let protocolNumber: CInt

    /// ICMP over IPv4 (`"ip4:icmp"`).
    public static var icmp: RawNetwork { RawNetwork(family: SockBindings.AF_INET, protocolNumber: SockBindings.IPPROTO_ICMP) }

    /// ICMPv6 over IPv6 (`"ip6:ipv6-icmp"`).
    public static var icmpv6: RawNetwork {
        RawNetwork(family: SockBindings.AF_INET6, protocolNumber: SockBindings.IPPROTO_ICMPV6)
    }

    /// A network of `family` (`AF_INET` or `AF_INET6`) and `protocolNumber`.
    public init(family: CInt, protocolNumber: CInt) {
        self.family = family
        self.protocolNumber = protocolNumber
    }

    /// Parses `"ip4:<protocol>"`, `"ip6:<protocol>"` or `"ip:<protocol>"`
    /// (`ip` means IPv4), where the protocol is a name (`icmp`, `igmp`,
    /// `tcp`, `udp`, `ipv6-icmp`, case-insensitive) or a number 0...255.
    ///
    /// - Throws: ``SockError/unknownNetwork`` for any other text.
    public init(_ network: String) throws(SockError) {
        guard let colon = network.firstIndex(of: ":") else { throw .unknownNetwork }
        let prefix = network[..<colon].lowercased()
        let name = network[network.index(after: colon)...].lowercased()
        switch prefix {
        case "ip", "ip4": family = SockBindings.AF_INET
        case "ip6": family = SockBindings.AF_INET6
        default: throw .unknownNetwork
        }
        switch name {
        case "icmp": protocolNumber = SockBindings.IPPROTO_ICMP
        case "igmp": protocolNumber = SockBindings.IPPROTO_IGMP
        case "tcp": protocolNumber = SockBindings.IPPROTO_TCP
        case "udp": protocolNumber = SockBindings.IPPROTO_UDP
        case "ipv6-icmp", "icmpv6": protocolNumber = SockBindings.IPPROTO_ICMPV6
        default:
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  name.utf8.count <= 3, let number = CInt(name), number <= 255
            else { throw .unknownNetwork }
            protocolNumber = number
        }
    }

    /// The Go-style name, such as "ip4:1".
    public var description: String {
        "\(family == SockBindings.AF_INET6 ? "ip6" : "ip4"):\(protocolNumber)"
    }
}

/// An unconnected raw IP socket: every datagram read comes with its
/// sender's address, every write names its destination.
///
/// ```swift
/// let socket = try RawSocket(network: "ip4:icmp")   // needs CAP_NET_RAW
/// _ = try socket.writeTo(echoRequest, address: SockaddrInet4(address: .loopback), deadline: .after(.seconds(1)))
/// let (count, from) = try socket.readFrom(into: buffer, deadline: .after(.seconds(1))).value!
/// ```
///
/// What a read returns depends on the family (raw(7), raw(7) for IPv6):
/// an IPv4 raw socket receives the whole packet **including the IPv4
/// header** (its length is `(packet[0] & 0x0F) * 4`); an IPv6 raw socket
/// receives the payload only. Writes carry the payload only (unless
/// `IP_HDRINCL` is set). The kernel fills in the ICMPv6 checksum; an ICMPv4
/// checksum is the caller's to compute.
///
/// This is the Go reference's `RawSocket` (listed in its overview).
public final class RawSocket: IPConfigurable {
    /// The owned descriptor.
    public let descriptor: Descriptor

    /// The family and protocol.
    public let network: RawNetwork

    /// ``NetworkType/ipv4`` or ``NetworkType/ipv6``.
    public var networkType: NetworkType { NetworkType(family: network.family) }

    /// Always ``UnderlyingProtocol/raw``.
    public var underlyingProtocol: UnderlyingProtocol { .raw }

    /// Opens a raw socket for `network`, such as `"ip4:icmp"` or
    /// `"ip6:ipv6-icmp"` (see ``RawNetwork/init(_:)``).
    ///
    /// - Throws: ``SockError/unknownNetwork`` for a name that is not a raw
    ///   IP network; ``SockError/permissionDenied`` without `CAP_NET_RAW`.
    ///
    /// The corresponding C function is `socket`.
    public convenience init(network: String) throws(SockError) {
        try self.init(RawNetwork(network))
    }

    /// Opens a raw socket for `network`.
    ///
    /// - Throws: ``SockError/permissionDenied`` without `CAP_NET_RAW`.
    ///
    /// The corresponding C function is `socket`.
    public init(_ network: RawNetwork) throws(SockError) {
        self.descriptor = try Descriptor.socket(
            family: network.family, type: SockBindings.SOCK_RAW, protocol: network.protocolNumber)
        self.network = network
    }

    /// Binds to a local address (the port is ignored), to receive only
    /// packets sent to it and to send from it.
    ///
    /// The corresponding C function is `bind`.
    public func bind(to address: some SocketAddress) throws(SockError) {
        try descriptor.bindSocket(to: address)
    }

    /// The local address.
    ///
    /// The corresponding C function is `getsockname`.
    public var localAddress: AnySocketAddress {
        get throws(SockError) { try descriptor.socketName(as: AnySocketAddress.self) }
    }

    /// Reads one packet and its sender's address.
    ///
    /// - Parameters:
    ///   - buffer: Where to store the packet (with the IPv4 header on an IPv4
    ///     socket). A longer packet is truncated.
    ///   - deadline: When to give up; ``Deadline/none`` for non-blocking.
    /// - Returns: The byte count and the sender, or would-block.
    ///
    /// The corresponding C function is `recvfrom`.
    public func readFrom(
        into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline = .none
    ) throws(SockError) -> IOResult<(count: Int, from: AnySocketAddress)> {
        try rawReadFrom(descriptor, into: buffer, deadline: deadline)
    }

    /// Writes one packet (the IP payload, such as an ICMP message) to
    /// `address` (its port is ignored).
    ///
    /// - Returns: The number of bytes written, or would-block.
    ///
    /// The corresponding C function is `sendto`.
    public func writeTo(
        _ buffer: UnsafeRawBufferPointer, address: some SocketAddress, deadline: Deadline = .none
    ) throws(SockError) -> IOResult<Int> {
        try descriptor.sendTo(buffer, address: address, deadline: deadline)
    }

    /// Fixes the peer (reads then receive only its packets, writes go to it)
    /// and returns a ``RawConn`` sharing this socket's descriptor. Raw
    /// sockets have no handshake, so this completes at once.
    ///
    /// The corresponding C function is `connect`.
    public func connect(to address: some SocketAddress) throws(SockError) -> RawConn {
        let remote = try address.withSockaddrPointer { (pointer, length) throws(SockError) -> AnySocketAddress in
            try AnySocketAddress(decoding: UnsafeRawBufferPointer(start: pointer, count: Int(length)), length: length)
        }
        _ = try descriptor.connectSocket(to: address, deadline: .none)
        return RawConn(descriptor: descriptor, network: network, remote: remote)
    }
}

/// A raw IP socket used like a connection: dialled to one peer (``dial(network:to:)``)
/// or listening to every peer (``listen(network:)``), with read and write
/// deadlines set once (Go's `SetDeadline` family) instead of per call.
///
/// See ``RawSocket`` for what reads and writes carry. This is the Go
/// reference's `RawConn` (listed in its overview) and the counterpart of
/// Go's `net.IPConn` (`DialIP`, `ListenIP`).
public final class RawConn: IPConfigurable {
    /// The owned descriptor.
    public let descriptor: Descriptor

    /// The family and protocol.
    public let network: RawNetwork

    /// The read and write deadlines; ``Deadline/none`` (the default) makes
    /// operations non-blocking.
    public let deadlines = ConnectionDeadlines()

    /// The peer given to `dial`: Linux answers `getpeername` on a raw socket
    /// with `ENOTCONN` even when it is connected.
    private let remote: AnySocketAddress?

    /// ``NetworkType/ipv4`` or ``NetworkType/ipv6``.
    public var networkType: NetworkType { NetworkType(family: network.family) }

    /// Always ``UnderlyingProtocol/raw``.
    public var underlyingProtocol: UnderlyingProtocol { .raw }

    internal init(descriptor: Descriptor, network: RawNetwork, remote: AnySocketAddress? = nil) {
        self.descriptor = descriptor
        self.network = network
        self.remote = remote
    }

    /// Opens a raw socket for `network` connected to `remote` (Go:
    /// `DialIP`).
    ///
    /// - Throws: ``SockError/unknownNetwork``; ``SockError/permissionDenied``
    ///   without `CAP_NET_RAW`.
    ///
    /// The corresponding C functions are `socket` and `connect`.
    public static func dial(network: String, to remote: some SocketAddress) throws(SockError) -> RawConn {
        let socket = try RawSocket(network: network)
        return try socket.descriptor.closingOnError { () throws(SockError) -> RawConn in try socket.connect(to: remote) }
    }

    /// Opens a raw socket for `network` bound to `local` and connected to
    /// `remote` (Go: `DialIP` with a local address).
    ///
    /// The corresponding C functions are `socket`, `bind` and `connect`.
    public static func dial(
        network: String, to remote: some SocketAddress, from local: some SocketAddress
    ) throws(SockError) -> RawConn {
        let socket = try RawSocket(network: network)
        return try socket.descriptor.closingOnError { () throws(SockError) -> RawConn in
            try socket.bind(to: local)
            return try socket.connect(to: remote)
        }
    }

    /// Opens an unconnected raw socket for `network` that receives every
    /// matching packet (Go: `ListenIP(network, nil)`).
    ///
    /// The corresponding C function is `socket`.
    public static func listen(network: String) throws(SockError) -> RawConn {
        let socket = try RawSocket(network: network)
        return RawConn(descriptor: socket.descriptor, network: socket.network)
    }

    /// Opens an unconnected raw socket for `network` bound to `local` (Go:
    /// `ListenIP`).
    ///
    /// The corresponding C functions are `socket` and `bind`.
    public static func listen(network: String, on local: some SocketAddress) throws(SockError) -> RawConn {
        let socket = try RawSocket(network: network)
        return try socket.descriptor.closingOnError { () throws(SockError) -> RawConn in
            try socket.bind(to: local)
            return RawConn(descriptor: socket.descriptor, network: socket.network)
        }
    }

    /// Reads one packet, waiting until the read deadline.
    ///
    /// The corresponding C function is `recv`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> IOResult<Int> {
        try descriptor.read(into: buffer, deadline: deadlines.readDeadline)
    }

    /// Reads one packet and its sender's address, waiting until the read
    /// deadline.
    ///
    /// The corresponding C function is `recvfrom`.
    public func readFrom(into buffer: UnsafeMutableRawBufferPointer) throws(SockError) -> IOResult<(count: Int, from: AnySocketAddress)> {
        try rawReadFrom(descriptor, into: buffer, deadline: deadlines.readDeadline)
    }

    /// Writes one packet to `address`, waiting until the write deadline.
    ///
    /// The corresponding C function is `sendto`.
    public func writeTo(_ buffer: UnsafeRawBufferPointer, address: some SocketAddress) throws(SockError) -> IOResult<Int> {
        try descriptor.sendTo(buffer, address: address, deadline: deadlines.writeDeadline)
    }

    /// The peer's address, as given to `dial` (Go: `RemoteAddr`). Linux
    /// does not report the peer of a raw socket (`getpeername` fails with
    /// `ENOTCONN`), so the connection remembers it.
    ///
    /// - Throws: ``SockError/notConnected`` when not dialled;
    ///   ``SockError/closed`` after close.
    public var remoteAddress: AnySocketAddress {
        get throws(SockError) {
            if descriptor.isClosed { throw .closed }
            guard let remote else { throw .notConnected }
            return remote
        }
    }
}

/// `recvfrom` on a raw socket, decoding the sender.
private func rawReadFrom(
    _ descriptor: Descriptor, into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline
) throws(SockError) -> IOResult<(count: Int, from: AnySocketAddress)> {
    var storage = RawSockaddrAny()
    switch try descriptor.receiveFrom(into: buffer, deadline: deadline, address: &storage) {
    case .wouldBlock:
        return .wouldBlock
    case .completed(let (count, length)):
        return .completed((count, try AnySocketAddress(decoding: storage, length: length)))
    }
}
